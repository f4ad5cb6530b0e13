"""No credential in any log: every configured secret is masked wherever Tollgate writes text.

A secret is known from the moment it is read: `secret_from(env, name)` reads a credential from the
environment and registers it; `install` also registers the values of credential-named variables
(`*TOKEN*`, `*SECRET*`, `*PASSWORD*`, `*API_KEY*`, `AWS_ACCESS_KEY_ID`, ...). Each is masked in
every form it travels in: raw, percent-encoded (`/` kept or not), form-encoded (`+` for a space),
base64 (standard and URL-safe, with or without padding; also `secret:` and `:secret`, which is how
HTTP Basic carries a token), and, for a header value such as `Authorization: Bearer <token>`,
each long word of it on its own.

The one filter (`MaskingFilter`) is applied on every path text leaves by: `install` wraps stdout
and stderr (every error line, warning, progress line and --debug traceback goes through them) and
the logging record factory (the Lambda and the publisher log with `logging`); scanner logs are
masked after each run (`mask_file`), and every output file on the way to disk (pipeline/atomic.py).
"""

from __future__ import annotations

import base64
import io
import logging
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

MASK = "***"
MIN_SECRET = 8  # shorter values ("true", "testing") would mask ordinary words; real credentials are longer
CREDENTIAL_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH",
                             re.IGNORECASE)
_HEADER_WORDS = re.compile(r"[^\s:;,]+")

_lock = threading.Lock()
_forms: tuple[str, ...] = ()  # every registered form, longest first


def secret_from(env: Mapping[str, str], name: str) -> str | None:
    """The credential in `$name` (None when unset or empty), registered for masking before it is used."""
    value = env.get(name) or None
    register(value)
    return value


def register(*secrets: str | None) -> None:
    global _forms  # noqa: PLW0603 - one process-wide registry, like the streams it guards
    new = {form for secret in secrets if secret for form in forms(secret)}
    with _lock:
        _forms = tuple(sorted(set(_forms) | new, key=len, reverse=True))


def register_environment(env: Mapping[str, str]) -> None:
    register(*(value for name, value in env.items() if CREDENTIAL_NAME.search(name)))


def forms(secret: str) -> set[str]:
    """The spellings a secret takes in URLs, form bodies, headers and logs."""
    _, colon, header_value = secret.partition(":")  # `Name: value`: the name is no secret, the value's words are
    words = _HEADER_WORDS.findall(header_value if colon else secret)
    values = {secret.strip()} | {word for word in words if len(word) >= 12}
    found: set[str] = set()
    for value in (v for v in values if len(v) >= MIN_SECRET):
        found |= {value, quote(value, safe=""), quote(value), quote_plus(value), value.replace(" ", "+")}
        for raw in (value, f"{value}:", f":{value}"):
            encoded = raw.encode("utf-8")
            for text in (base64.b64encode(encoded), base64.urlsafe_b64encode(encoded)):
                found |= {text.decode("ascii"), text.decode("ascii").rstrip("=")}
    return {form for form in found if len(form) >= MIN_SECRET}


def mask(text: str) -> str:
    for form in _forms:
        if form in text:
            text = text.replace(form, MASK)
    return text


def mask_bytes(data: bytes) -> bytes:
    for form in _forms:
        encoded = form.encode("utf-8")
        if encoded in data:
            data = data.replace(encoded, MASK.encode("ascii"))
    return data


def mask_file(path: Path) -> None:
    """A tool's log, masked in place once the tool has finished writing it."""
    if not _forms or not path.is_file():
        return
    data = path.read_bytes()
    masked = mask_bytes(data)
    if masked != data:
        path.write_bytes(masked)


class MaskingFilter(logging.Filter):
    """Masks a record's message, arguments and traceback text; applied to every record created."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


class MaskingStream(io.TextIOBase):
    """A text stream that masks what is written to it, line by line, before the real stream sees it."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(mask(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def install(env: Mapping[str, str]) -> None:
    """Register the environment's credentials and put the filter on stdout, stderr and logging."""
    register_environment(env)
    if not isinstance(sys.stdout, MaskingStream):
        sys.stdout = MaskingStream(sys.stdout)
    if not isinstance(sys.stderr, MaskingStream):
        sys.stderr = MaskingStream(sys.stderr)
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "masked", False):
        logging.setLogRecordFactory(_masked_factory(factory))


def _masked_factory(factory: Any) -> Any:
    masking = MaskingFilter()

    def create(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = factory(*args, **kwargs)
        masking.filter(record)
        return record

    create.masked = True  # type: ignore[attr-defined]
    return create


def registered() -> Iterable[str]:
    """The registered forms (for tests)."""
    return _forms
