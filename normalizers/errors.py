"""One exception root for everything `normalizers` refuses; the CLI catches it in one place."""


class NormalizerError(Exception):
    """Root of every error a report or an emitter can raise."""


class UnsupportedReportError(NormalizerError):
    """The report is not a format Tollgate reads, or not the format that was claimed."""


class MalformedReportError(NormalizerError):
    """The report claims a known format but is empty, truncated or unparsable."""


class ReportTooLargeError(NormalizerError):
    """The report exceeds the configured size limit."""


class ReportTimeoutError(NormalizerError):
    """A report from a pipe or FIFO sent nothing (and did not end) within the time allowed."""
