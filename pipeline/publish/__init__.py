"""Publishers: Tollgate findings into AWS Security Hub with the lifecycle of docs/design.md.

`lifecycle`, `batching` and `ratelimit` are pure and import no AWS SDK; `securityhub`
imports boto3 only when a publish actually runs, so `tollgate --help` stays cheap.
"""
