"""The interface every parser implements: sniff by content, then yield Findings or Skipped."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass

from normalizers.model import Finding, Skipped
from normalizers.raw_report import Report
from normalizers.tool_id import ToolId


@dataclass(frozen=True)
class ParseOptions:
    """What a parser may need beyond the bytes.

    `source_root` is stripped from absolute paths so that locations are repository-relative
    (a scanner run in /github/workspace and one run in /src must agree on identity).
    """

    source_root: str | None = None


class Parser(abc.ABC):
    tool_id: ToolId

    @abc.abstractmethod
    def sniff(self, report: Report) -> bool:
        """True when the content is this tool's format. Must be cheap and never raise."""

    @abc.abstractmethod
    def parse(self, report: Report, options: ParseOptions) -> Iterator[Finding | Skipped]:
        """Yield every Finding; a record that cannot be read is yielded as Skipped.

        Raise UnsupportedReportError when the document is not this format and
        MalformedReportError when it is truncated or structurally broken.
        Findings may leave `fingerprint` empty; the registry fills it in.
        """

    def metrics(self, report: Report) -> dict[str, str]:
        """Scan-level facts worth keeping (e.g. a hardening index); none by default."""
        return {}
