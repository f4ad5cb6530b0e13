"""A token bucket that keeps Security Hub's pipe full without tripping its throttling.

Security Hub allows BatchImportFindings at 10 requests per second with bursts of 30, and
GetFindings at 3 per second with bursts of 6, per account and region (docs/design.md and the
throttling limits in the Security Hub API reference). The bucket spends the
burst first, then paces requests at the sustained rate. Throttles caused by other callers
in the same account are left to botocore's adaptive retry mode.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError(f"a rate needs per_second > 0 and burst >= 1, got {self}")


IMPORT_RATE = Rate(per_second=10.0, burst=30)
GET_FINDINGS_RATE = Rate(per_second=3.0, burst=6)


class TokenBucket:
    """Thread-safe. A caller reserves its token under the lock and sleeps outside it,
    so concurrent senders queue in order instead of all waking at once."""

    def __init__(
        self,
        rate: Rate,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(rate.burst)
        self._refilled_at = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token, waiting until it is due; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            elapsed = now - self._refilled_at
            self._tokens = min(float(self.rate.burst), self._tokens + elapsed * self.rate.per_second)
            self._refilled_at = now
            self._tokens -= 1.0
            wait = -self._tokens / self.rate.per_second if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)
        return wait
