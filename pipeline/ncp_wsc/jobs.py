"""A job as getJobs lists it, and whether it has ended and how.

getJobs documents `status` only as "String" and `result_button` as report (report ready), cancel
(cancelled), terminate (stopped), expired, or cause (failed, with a cause). searchJobs documents
numeric status codes. So a status made of digits is read with searchJobs' codes, and decides; any
other status leaves the decision to `result_button`; and a job neither names as ended is running.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Outcome(str, enum.Enum):
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STOPPED = "stopped"
    EXPIRED = "expired"


# searchJobs' statusCode table: code -> (what the job is doing, outcome).
STATUS_CODES: dict[int, tuple[str, Outcome]] = {
    12: ("crawl pending", Outcome.RUNNING),
    13: ("crawling", Outcome.RUNNING),
    14: ("crawl complete", Outcome.RUNNING),
    15: ("crawl failed", Outcome.FAILED),
    2: ("scan pending", Outcome.RUNNING),
    3: ("scanning", Outcome.RUNNING),
    4: ("complete", Outcome.COMPLETE),
    5: ("scan failed", Outcome.FAILED),
    91: ("cancelled", Outcome.CANCELLED),
    92: ("stopping", Outcome.RUNNING),
    93: ("stopped", Outcome.STOPPED),
}
RESULT_BUTTONS: dict[str, Outcome] = {
    "report": Outcome.COMPLETE,
    "cancel": Outcome.CANCELLED,
    "terminate": Outcome.STOPPED,
    "expired": Outcome.EXPIRED,
    "cause": Outcome.FAILED,
}


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class JobRecord:
    instance: int
    status: str
    start_url: str = ""
    progress: int | None = None
    crawl_count: int | None = None
    scan_count: int | None = None
    result_button: str = ""
    rescan_button: str = ""

    @classmethod
    def from_api(cls, record: dict[str, Any]) -> JobRecord | None:
        """One `record_data[]` entry; None when it has no instance number."""
        instance = as_int(record.get("instanceNo"))
        if instance is None:
            return None
        return cls(
            instance=instance, status=str(record.get("status") or "").strip(),
            start_url=str(record.get("start_url") or ""), progress=as_int(record.get("progress")),
            crawl_count=as_int(record.get("crawl_cnt")), scan_count=as_int(record.get("scan_cnt")),
            result_button=str(record.get("result_button") or "").strip().lower(),
            rescan_button=str(record.get("rescan_button") or "").strip().lower(),
        )

    @property
    def outcome(self) -> Outcome:
        code = as_int(self.status)
        if code in STATUS_CODES:
            return STATUS_CODES[code][1]
        return RESULT_BUTTONS.get(self.result_button, Outcome.RUNNING)

    @property
    def activity(self) -> str:
        """What the job is doing, for progress lines: `crawling 40%, 12 URLs`."""
        code = as_int(self.status)
        label = STATUS_CODES[code][0] if code in STATUS_CODES else (self.status or "status unknown")
        parts = [f"{label} {self.progress}%" if self.progress is not None else label]
        if self.crawl_count is not None:
            parts.append(f"{self.crawl_count} URLs crawled")
        if self.scan_count is not None:
            parts.append(f"{self.scan_count} vulnerabilities")
        return ", ".join(parts)


def records(resources: Any) -> tuple[JobRecord, ...]:
    """The jobs of a getJobs or searchJobs answer (its data, with or without the envelope)."""
    data = resources.get("resources", resources) if isinstance(resources, dict) else None
    listed = data.get("record_data") if isinstance(data, dict) else None
    found = (JobRecord.from_api(r) for r in listed or () if isinstance(r, dict))
    return tuple(record for record in found if record is not None)


def page_count(resources: Any) -> int:
    data = resources.get("resources", resources) if isinstance(resources, dict) else None
    return (as_int(data.get("total_page_cnt")) if isinstance(data, dict) else None) or 1
