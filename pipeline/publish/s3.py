"""The central path's first half: a Tollgate results file into the report bucket, for the importer Lambda.

The object lands under `<prefix><owner>/<repo>/<run>/results.json` with the user metadata that
`pipeline.publish.lambda_handler` reads (its docstring is the contract): `tollgate-repository`,
`tollgate-branch`, `tollgate-environment`, `tollgate-commit` and `tollgate-categories`. The key
names the repository because the key is what the importer trusts (each repository's role may
write only under its own prefix); `<run>` is unique per upload (UTC time, commit, random), so an
upload never overwrites another and every upload is one S3 event.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from normalizers.model import Scope
from pipeline.errors import ConfigError, PublishError

DEFAULT_PREFIX = "reports/"
RESULTS_NAME = "results.json"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")  # the importer's owner/repository key parts
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class Upload:
    bucket: str
    key: str
    metadata: Mapping[str, str]

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def check_prefix(prefix: str) -> str:
    """`reports/`-style: relative, ending in one slash; the importer's trigger filters on it."""
    if prefix.startswith("/") or not prefix.endswith("/") or "//" in prefix or ".." in prefix.split("/"):
        raise ConfigError(f"--prefix must be a relative key prefix ending in '/', got {prefix!r}")
    return prefix


def plan_upload(bucket: str, prefix: str, scope: Scope, categories: frozenset[str], now: datetime, *,
                token: str | None = None) -> Upload:
    if not _BUCKET.match(bucket):
        raise ConfigError(f"--bucket must be an S3 bucket name, got {bucket!r}")
    parts = scope.repository.split("/")
    if len(parts) != 2 or not all(map(_NAME.match, parts)):
        raise ConfigError(f"the importer reads reports/<owner>/<repo>/: {scope.repository!r} is not owner/name",
                          "publish it directly with tollgate publish securityhub")
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    run = "-".join((stamp, (scope.commit or "nocommit")[:12], token or secrets.token_hex(4)))
    metadata = {"tollgate-repository": scope.repository, "tollgate-branch": scope.branch,
                "tollgate-environment": scope.environment, "tollgate-commit": scope.commit,
                "tollgate-categories": ",".join(sorted(categories))}
    for name, value in metadata.items():
        if value and not value.isascii():
            raise ConfigError(f"{name} {value!r} is not ASCII, which S3 metadata requires")
    return Upload(bucket, f"{check_prefix(prefix)}{scope.repository}/{run}/{RESULTS_NAME}",
                  {name: value for name, value in metadata.items() if value})


def upload(client: Any, target: Upload, body: bytes) -> None:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 - lazy, as boto3 is

    try:
        client.put_object(Bucket=target.bucket, Key=target.key, Body=body, Metadata=dict(target.metadata),
                          ContentType="application/json")
    except (BotoCoreError, ClientError) as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code") or type(exc).__name__
        raise PublishError(f"could not upload {target.uri}: {code}",
                           "the role needs s3:PutObject under reports/<owner>/<repo>/ (github-oidc-role grants it)"
                           ) from None
