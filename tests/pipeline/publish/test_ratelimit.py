"""The token bucket spends its burst, then paces at the sustained rate, in a fake clock."""

from __future__ import annotations

import threading

import pytest

from pipeline.publish.ratelimit import GET_FINDINGS_RATE, IMPORT_RATE, Rate, TokenBucket


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def test_defaults_are_security_hubs_documented_limits() -> None:
    assert (IMPORT_RATE.per_second, IMPORT_RATE.burst) == (10.0, 30)
    assert (GET_FINDINGS_RATE.per_second, GET_FINDINGS_RATE.burst) == (3.0, 6)


def test_the_burst_is_free_then_requests_are_paced() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Rate(per_second=10.0, burst=30), clock=clock, sleep=clock.sleep)
    waits = [bucket.acquire() for _ in range(30)]
    assert waits == [0.0] * 30
    assert clock.now == 0.0
    assert bucket.acquire() == pytest.approx(0.1)
    for _ in range(69):
        bucket.acquire()
    assert clock.now == pytest.approx(7.0)  # 100 calls: 30 in the burst, 70 at 10 per second


def test_idle_time_refills_only_up_to_the_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Rate(per_second=3.0, burst=3), clock=clock, sleep=clock.sleep)
    for _ in range(3):
        bucket.acquire()
    clock.now += 100.0  # a long pause refills 3 tokens, not 300
    assert [bucket.acquire() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.acquire() == pytest.approx(1 / 3)


def test_concurrent_callers_queue_in_order_without_exceeding_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(Rate(per_second=5.0, burst=1), clock=lambda: 0.0, sleep=clock.sleep)
    waits: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        wait = bucket.acquire()
        with lock:
            waits.append(wait)

    threads = [threading.Thread(target=take) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # With time frozen, the k-th caller must wait k/5 s: each reservation is distinct.
    assert sorted(waits) == pytest.approx([k / 5 for k in range(10)])


@pytest.mark.parametrize(("per_second", "burst"), [(0.0, 1), (-1.0, 5), (1.0, 0)])
def test_a_rate_that_could_never_send_is_refused(per_second: float, burst: int) -> None:
    with pytest.raises(ValueError, match="per_second > 0"):
        Rate(per_second=per_second, burst=burst)
