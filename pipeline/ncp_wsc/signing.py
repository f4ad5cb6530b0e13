"""NAVER Cloud API gateway signing (signature v2) and the keys it needs, which are never shown.

signature = base64(HMAC-SHA256(secret key, "{METHOD} {path?query}\\n{timestamp ms}\\n{access key}")),
sent with `x-ncp-apigw-timestamp` and `x-ncp-iam-access-key`. The URI is the path and query exactly
as sent, so the client signs the prepared request, never a URL it rebuilt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from pipeline.errors import ConfigError
from pipeline.secret_mask import secret_from

ACCESS_KEY_ENV = "NCP_ACCESS_KEY"
SECRET_KEY_ENV = "NCP_SECRET_KEY"  # noqa: S105 - the variable's name, not a secret
TIMESTAMP_HEADER = "x-ncp-apigw-timestamp"
ACCESS_KEY_HEADER = "x-ncp-iam-access-key"
SIGNATURE_HEADER = "x-ncp-apigw-signature-v2"


@dataclass(frozen=True, repr=False)
class Credentials:
    """An access key and its secret key; neither appears in repr, str or any message."""

    access_key: str
    secret_key: str

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"

    __str__ = __repr__


def credentials_from_env(env: Mapping[str, str], access_env: str = ACCESS_KEY_ENV,
                         secret_env: str = SECRET_KEY_ENV) -> Credentials | None:
    """The keys named by the two variables; None when either is unset or empty."""
    access, secret = (secret_from(env, access_env) or "").strip(), (secret_from(env, secret_env) or "").strip()
    return Credentials(access, secret) if access and secret else None


def require_credentials(env: Mapping[str, str], access_env: str = ACCESS_KEY_ENV,
                        secret_env: str = SECRET_KEY_ENV) -> Credentials:
    credentials = credentials_from_env(env, access_env, secret_env)
    if credentials is None:
        raise ConfigError(f"NCP Web Security Checker: ${access_env} and ${secret_env} must both be set",
                          "create an API key for a sub account with Web Security Checker permission")
    return credentials


def signature(method: str, uri: str, timestamp: str, credentials: Credentials) -> str:
    message = f"{method.upper()} {uri}\n{timestamp}\n{credentials.access_key}"
    digest = hmac.new(credentials.secret_key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def auth_headers(method: str, uri: str, timestamp_ms: int, credentials: Credentials) -> dict[str, str]:
    timestamp = str(timestamp_ms)
    return {
        TIMESTAMP_HEADER: timestamp,
        ACCESS_KEY_HEADER: credentials.access_key,
        SIGNATURE_HEADER: signature(method, uri, timestamp, credentials),
    }
