"""The one place the vetting code makes AWS clients (the Lambda steps and the client); tests replace `client`."""

from __future__ import annotations

from typing import Any

from botocore.config import Config


def client(service: str, region: str | None = None) -> Any:
    import boto3  # noqa: PLC0415 - loaded only where a vetting call runs, never for `tollgate --help`

    return boto3.client(service, region_name=region, config=Config(retries={"mode": "standard", "max_attempts": 5}))
