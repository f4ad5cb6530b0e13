"""Package vetting on AWS (docs/vetting.md): a package version reaches the vetted CodeArtifact
repository only after Tollgate's firewall passed it.

Modules, one job each:
- `model`: the request (ecosystem, name, version), the statuses and their table item;
- `status_table`: the DynamoDB status table (read, request once, record);
- `codeartifact`: the CodeArtifact calls (token, endpoint, describe, copy), by coordinates;
- `intake`: pull a version into the intake repository through its endpoint, or by SSM Run Command;
- `blocked_finding`: a BLOCKED verdict as Tollgate findings, published to Security Hub;
- `handlers`: the Lambda entry points the state machine calls;
- `aws`: the one place AWS clients are made;
- `wanted`: the versions to vet and the installer's arguments, from packages and manifests;
- `installer`: pip or npm against the vetted repository, the token kept off the command line;
- `client`: what `tollgate firewall install` does: ask, wait, install from the vetted repository.
"""
