"""One exception root for the pipeline; each kind carries its exit code (docs/design.md)."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    PASSED = 0
    GATE_FAILED = 1
    USAGE = 2  # usage, config or input error
    TOOL_FAILED = 3  # a scanner or publisher failed


class TollgateError(Exception):
    exit_code = ExitCode.USAGE

    def __init__(self, message: str, tip: str | None = None) -> None:
        super().__init__(message)
        self.tip = tip


class ConfigError(TollgateError):
    """A bad `.tollgate.yml`, flag or environment variable."""


class ScannerError(TollgateError):
    exit_code = ExitCode.TOOL_FAILED


class ScannerTimeout(ScannerError):
    """The scanner ran past its deadline and was killed with its whole process group."""


class ScannerUnavailable(ScannerError):
    """The scanner could not run here (data it needs cannot be fetched): skipped when only the default
    enabled it, a missing scanner when it was asked for."""


class PublishError(TollgateError):
    exit_code = ExitCode.TOOL_FAILED
