"""Read back what a publish landed: `tollgate publish securityhub --verify` (docs/security-hub.md).

Findings enter through Security Hub CSPM's BatchImportFindings (there is no BatchImportFindingsV2).
Where the account has the new Security Hub (DescribeSecurityHubV2 answers), they are read back
through GetFindingsV2, as the OCSF findings its console shows, matched on `finding_info.uid` (the
finding provider's identifier, which is the ASFF Id). Otherwise, or when GetFindingsV2 is refused
(no permission, not enabled), they are read back through CSPM's GetFindings, filtered by Id (at most
20 values per filter) and ProductArn. Both answers are filtered here as well, because moto ignores
filters and a server's filters are not a safety boundary.

Imports land asynchronously: the Ids not found are read again for a few rounds with backoff before
they are reported missing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pipeline.errors import PublishError
from pipeline.publish.ratelimit import TokenBucket

GET_FINDINGS = "GetFindings"
GET_FINDINGS_V2 = "GetFindingsV2"
IDS_PER_CALL = 20  # GetFindings' limit of values per filter; the same batches serve GetFindingsV2
# DescribeSecurityHubV2 or GetFindingsV2 errors that mean "read through CSPM instead".
V2_UNAVAILABLE_CODES = frozenset(
    {
        "ResourceNotFoundException",  # the new Security Hub is not enabled here
        "AccessDeniedException",
        "AccessDenied",
        "InvalidAccessException",
        "UnrecognizedClientException",
        "UnknownOperationException",
        "404",  # an endpoint (an emulator) that does not know the operation
    }
)
VERIFY_TIP = "the role needs securityhub:GetFindings (and securityhub:GetFindingsV2 where the new Security Hub is on)"


@dataclass(frozen=True)
class Verification:
    api: str  # the read that answered: GetFindingsV2 or GetFindings
    checked: int
    missing: tuple[str, ...]
    note: str = ""  # why the read fell back to GetFindings, when it did

    def missing_lines(self) -> list[str]:
        return [f"tollgate: missing: {finding_id}: not found through {self.api}" for finding_id in self.missing]

    def summary_line(self) -> str:
        return (f"tollgate: security hub: verified {self.checked - len(self.missing)} of {self.checked} "
                f"findings through {self.api}, {len(self.missing)} missing")


class _V2Unavailable(Exception):
    """GetFindingsV2 was refused in a way that says: read through CSPM."""


def _code(exc: ClientError) -> str:
    response: Mapping[str, Any] = exc.response or {}
    return str(response.get("Error", {}).get("Code") or "")


def _batches(ids: Sequence[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), IDS_PER_CALL):
        yield list(ids[start:start + IDS_PER_CALL])


class FindingReader:
    """Reads findings back by Id through GetFindingsV2 or GetFindings, paced by the read budget."""

    def __init__(self, client: Any, reads: TokenBucket, rounds: int = 4, backoff_seconds: float = 1.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self._reads = reads
        self._rounds = rounds
        self._backoff_seconds = backoff_seconds
        self._sleep = sleep

    def verify(self, ids: Sequence[str], product_arn: str) -> Verification:
        wanted = sorted(set(ids))
        api, note = (GET_FINDINGS_V2, "") if self._has_v2() else (GET_FINDINGS, "the new Security Hub is not enabled")
        missing = wanted
        for round_number in range(self._rounds):
            if round_number:
                self._sleep(self._backoff_seconds * 2 ** (round_number - 1))
            if api == GET_FINDINGS_V2:
                try:
                    found = self._found_v2(missing)
                except _V2Unavailable as exc:
                    api, note = GET_FINDINGS, str(exc)
                    found = self._found_v1(missing, product_arn)
            else:
                found = self._found_v1(missing, product_arn)
            missing = [finding_id for finding_id in missing if finding_id not in found]
            if not missing:
                break
        return Verification(api, len(wanted), tuple(missing), note)

    def _has_v2(self) -> bool:
        self._reads.acquire()
        try:
            self._client.describe_security_hub_v2()
        except ClientError as exc:
            if _code(exc) in V2_UNAVAILABLE_CODES:
                return False
            raise PublishError(f"DescribeSecurityHubV2 failed: {_code(exc)}: {exc}", VERIFY_TIP) from None
        except BotoCoreError as exc:
            raise PublishError(f"DescribeSecurityHubV2 failed: {exc}", VERIFY_TIP) from None
        return True

    def _found_v1(self, ids: Sequence[str], product_arn: str) -> set[str]:
        found: set[str] = set()
        for batch in _batches(ids):
            filters = {
                "Id": [{"Value": finding_id, "Comparison": "EQUALS"} for finding_id in batch],
                "ProductArn": [{"Value": product_arn, "Comparison": "EQUALS"}],
            }
            for finding in self._pages("get_findings", GET_FINDINGS, {"Filters": filters, "MaxResults": 100}):
                if finding.get("ProductArn") == product_arn and finding.get("Id") in batch:
                    found.add(str(finding["Id"]))
        return found

    def _found_v2(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for batch in _batches(ids):
            uids = [{"FieldName": "finding_info.uid", "Filter": {"Value": finding_id, "Comparison": "EQUALS"}}
                    for finding_id in batch]
            arguments = {"Filters": {"CompositeFilters": [{"StringFilters": uids, "Operator": "OR"}]},
                         "MaxResults": 100}
            for finding in self._pages("get_findings_v2", GET_FINDINGS_V2, arguments):
                uid = (finding.get("finding_info") or {}).get("uid")
                if uid in batch:
                    found.add(str(uid))
        return found

    def _pages(self, method: str, api: str, arguments: dict[str, Any]) -> Iterator[Mapping[str, Any]]:
        while True:
            self._reads.acquire()
            try:
                page = getattr(self._client, method)(**arguments)
            except ClientError as exc:
                if api == GET_FINDINGS_V2 and _code(exc) in V2_UNAVAILABLE_CODES:
                    raise _V2Unavailable(f"GetFindingsV2 refused ({_code(exc)})") from None
                raise PublishError(f"{api} failed: {_code(exc)}: {exc}", VERIFY_TIP) from None
            except BotoCoreError as exc:
                raise PublishError(f"{api} failed: {exc}", VERIFY_TIP) from None
            yield from page.get("Findings") or ()
            if not page.get("NextToken"):
                return
            arguments = {**arguments, "NextToken": page["NextToken"]}
