"""The DynamoDB status table: one item per package version, keyed `ecosystem#name#version` (`id`).

Attributes: ecosystem, package, version, status, score, reasons (a list of strings), detail,
requested_at, updated_at and expires_at (epoch seconds; expires_at is the table's TTL attribute).
A final answer (SECURE, BLOCKED) lives `final_ttl` seconds, a FAILED one `retry_ttl`: it is
only there to be read back by the client that asked.

Only one execution vets a version: its check step starts with `request`, a conditional write
that succeeds when there is no item, when the last vetting FAILED, or when a REQUESTED/CHECK
item is older than `stale_after` (its execution died without recording anything). Every other
execution ends at once, and the clients, which only read the table and start executions, wait
for the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from pipeline.vetting.model import PackageVersion, StatusRecord, VettingStatus

DAY = 86400
MAX_REASONS = 20
MAX_TEXT = 1000  # a reason or detail is cut here: an item stays far below DynamoDB's 400 KB
_SERIALIZE = TypeSerializer().serialize
_DESERIALIZE = TypeDeserializer().deserialize


@dataclass(frozen=True)
class StatusTable:
    client: Any  # a boto3 DynamoDB client
    name: str
    final_ttl: int = 90 * DAY
    retry_ttl: int = DAY

    def get(self, package: PackageVersion) -> StatusRecord | None:
        key = {"id": {"S": package.key}}
        item = self.client.get_item(TableName=self.name, Key=key, ConsistentRead=True).get("Item")
        if not item:
            return None
        values = {key: _DESERIALIZE(value) for key, value in item.items()}
        return StatusRecord(
            package=package, status=VettingStatus(values["status"]), updated_at=int(values["updated_at"]),
            requested_at=int(values.get("requested_at", values["updated_at"])),
            score=None if values.get("score") is None else int(values["score"]),
            reasons=tuple(str(reason) for reason in values.get("reasons") or ()), detail=str(values.get("detail", "")))

    def request(self, package: PackageVersion, now: int, stale_after: int) -> bool:
        """Write REQUESTED unless someone else's vetting is answered or under way; True when this caller won."""
        try:
            self.client.put_item(
                TableName=self.name, Item=self._item(package, VettingStatus.REQUESTED, now, requested_at=now),
                ConditionExpression="attribute_not_exists(id) OR #s = :failed OR (#s IN (:requested, :check) "
                                    "AND updated_at < :stale)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":failed": {"S": VettingStatus.FAILED.value},
                                           ":requested": {"S": VettingStatus.REQUESTED.value},
                                           ":check": {"S": VettingStatus.CHECK.value},
                                           ":stale": {"N": str(now - stale_after)}})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def record(self, package: PackageVersion, status: VettingStatus, now: int, *, score: int | None = None,
               reasons: Sequence[str] = (), detail: str = "") -> None:
        """Set the status (and what explains it), keeping requested_at."""
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": status.value, ":u": now, ":e": now + self._ttl(status),
                                  ":r": [reason[:MAX_TEXT] for reason in reasons[:MAX_REASONS]],
                                  ":d": detail[:MAX_TEXT], ":eco": package.ecosystem.value, ":p": package.name,
                                  ":v": package.version}
        expression = ("SET #s = :s, updated_at = :u, expires_at = :e, reasons = :r, detail = :d, ecosystem = :eco, "
                      "package = :p, version = :v, requested_at = if_not_exists(requested_at, :u)")
        if score is not None:
            expression += ", score = :score"
            values[":score"] = score
        else:
            expression += " REMOVE score"
        self.client.update_item(
            TableName=self.name, Key={"id": {"S": package.key}}, UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues={key: _SERIALIZE(value) for key, value in values.items()})

    def _item(self, package: PackageVersion, status: VettingStatus, now: int, requested_at: int) -> dict[str, Any]:
        item: dict[str, Any] = {"id": package.key, "ecosystem": package.ecosystem.value, "package": package.name,
                "version": package.version, "status": status.value, "requested_at": requested_at,
                "updated_at": now, "expires_at": now + self._ttl(status), "reasons": [], "detail": ""}
        return {key: _SERIALIZE(value) for key, value in item.items()}

    def _ttl(self, status: VettingStatus) -> int:
        return self.final_ttl if status.final else self.retry_ttl
