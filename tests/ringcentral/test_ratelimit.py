# SPDX-License-Identifier: MIT
"""The per-group rate limiter: sliding windows, header corrections, 429 pauses, observability."""

from __future__ import annotations

import threading

import pytest

from adapters.base import RateLimited
from adapters.ringcentral.ratelimit import DEFAULT_PENALTY, Group, RateLimiter, parse_group
from adapters.ringcentral.sandbox import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1000.0)


@pytest.fixture
def limiter(clock: ManualClock) -> RateLimiter:
    return RateLimiter(clock=clock)


def test_heavy_allows_ten_per_minute_then_waits_for_the_oldest_to_leave(
    limiter: RateLimiter, clock: ManualClock
) -> None:
    for _ in range(10):
        assert limiter.try_acquire(Group.HEAVY) == 0
        clock.advance(1)
    assert limiter.try_acquire(Group.HEAVY) == pytest.approx(50)  # the first left at t=60
    clock.advance(50)
    assert limiter.try_acquire(Group.HEAVY) == 0


def test_groups_have_independent_budgets(limiter: RateLimiter) -> None:
    for _ in range(5):
        limiter.try_acquire(Group.AUTH)
    assert limiter.try_acquire(Group.AUTH) > 0
    assert limiter.try_acquire(Group.LIGHT) == 0
    assert limiter.status()[Group.AUTH].remaining == 0
    assert limiter.status()[Group.LIGHT].remaining == 49


def test_acquire_sleeps_through_short_waits(limiter: RateLimiter, clock: ManualClock) -> None:
    for _ in range(10):
        limiter.acquire(Group.HEAVY, sleep=clock.sleep, max_wait=120)
    limiter.acquire(Group.HEAVY, sleep=clock.sleep, max_wait=120)
    assert clock() == pytest.approx(1060)
    assert limiter.waited == pytest.approx(60)


def test_acquire_raises_rate_limited_for_long_waits(limiter: RateLimiter, clock: ManualClock) -> None:
    for _ in range(10):
        limiter.acquire(Group.HEAVY, sleep=clock.sleep, max_wait=5)
    with pytest.raises(RateLimited) as info:
        limiter.acquire(Group.HEAVY, sleep=clock.sleep, max_wait=5)
    assert info.value.retry_after == pytest.approx(60)
    assert clock() == 1000.0


def test_penalty_pauses_only_that_group(limiter: RateLimiter, clock: ManualClock) -> None:
    assert limiter.penalize(Group.HEAVY, 12) == 12
    status = limiter.status()
    assert status[Group.HEAVY].paused and status[Group.HEAVY].wait == pytest.approx(12)
    assert status[Group.HEAVY].remaining == 0
    assert not status[Group.LIGHT].paused
    assert limiter.describe_wait() == "Waiting for RingCentral's rate limit (12 s)."
    clock.advance(12)
    assert limiter.describe_wait() is None
    assert limiter.try_acquire(Group.HEAVY) == 0


def test_penalty_without_retry_after_is_thirty_seconds(limiter: RateLimiter) -> None:
    assert limiter.penalize(Group.LIGHT, None) == DEFAULT_PENALTY == 30


def test_headers_raise_our_count_and_replace_the_limit(limiter: RateLimiter) -> None:
    limiter.try_acquire(Group.HEAVY)
    group = limiter.observe(
        "call-log",
        Group.HEAVY,
        {
            "X-Rate-Limit-Group": "heavy",
            "X-Rate-Limit-Limit": "8",
            "X-Rate-Limit-Remaining": "3",
            "X-Rate-Limit-Window": "60",
        },
    )
    assert group is Group.HEAVY
    assert limiter.status()[Group.HEAVY].limit == 8
    assert limiter.status()[Group.HEAVY].remaining == 3


def test_headers_naming_another_group_teach_the_route(limiter: RateLimiter) -> None:
    limiter.observe("insights", Group.LIGHT, {"X-Rate-Limit-Group": "Heavy", "X-Rate-Limit-Remaining": "9"})
    assert limiter.group_for("insights", Group.LIGHT) is Group.HEAVY
    assert limiter.group_for("other", Group.LIGHT) is Group.LIGHT


def test_garbage_headers_are_ignored(limiter: RateLimiter) -> None:
    limiter.observe("x", Group.LIGHT, {"X-Rate-Limit-Group": "weird", "X-Rate-Limit-Remaining": "lots"})
    assert limiter.status()[Group.LIGHT].remaining == 50
    assert parse_group(None) is None and parse_group(" LIGHT ") is Group.LIGHT


def test_reserve_keeps_spare_requests_for_urgent_calls(clock: ManualClock) -> None:
    limiter = RateLimiter(clock=clock, reserve=2)
    for _ in range(8):
        assert limiter.try_acquire(Group.HEAVY) == 0
    assert limiter.try_acquire(Group.HEAVY) > 0
    assert limiter.try_acquire(Group.HEAVY, urgent=True) == 0


def test_concurrent_acquirers_never_exceed_the_budget(clock: ManualClock) -> None:
    limiter = RateLimiter(clock=clock)
    granted: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(20):
            if limiter.try_acquire(Group.HEAVY) == 0:
                with lock:
                    granted.append(clock())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 10
    assert limiter.sent_total[Group.HEAVY] == 10
