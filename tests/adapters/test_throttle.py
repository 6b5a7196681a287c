# SPDX-License-Identifier: MIT
"""The per-adapter request limiter, driven by a fake clock."""

from __future__ import annotations

import pytest

from adapters.throttle import Throttle, ThrottleTimeout


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_requests_within_the_window_pass_without_waiting(clock: Clock) -> None:
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    throttle.limit("search", 4, 1.0)
    for _ in range(4):
        throttle.acquire("search")
    assert clock.slept == []


def test_the_fifth_request_in_a_second_waits_for_the_window_to_slide(clock: Clock) -> None:
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    throttle.limit("search", 4, 1.0)
    for _ in range(4):
        throttle.acquire("search")
        clock.now += 0.1
    throttle.acquire("search")
    assert clock.slept == [pytest.approx(0.6)]
    assert throttle.waited == pytest.approx(0.6)


def test_buckets_are_independent_but_a_pause_applies_to_all(clock: Clock) -> None:
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    throttle.limit("search", 1, 1.0)
    throttle.limit("api", 1, 10.0)
    throttle.acquire("search")
    throttle.acquire("api")
    assert clock.slept == []
    throttle.block_for(3.0)
    assert throttle.blocked_for() == pytest.approx(3.0)
    throttle.acquire("other")
    assert clock.slept == [pytest.approx(3.0)]


def test_a_pause_longer_than_max_wait_raises_instead_of_hanging(clock: Clock) -> None:
    throttle = Throttle(clock=clock, sleep=clock.sleep, max_wait=30.0)
    throttle.block_for(3600.0)
    with pytest.raises(ThrottleTimeout) as caught:
        throttle.acquire("api")
    assert caught.value.seconds == pytest.approx(3600.0)
    assert clock.slept == []


def test_a_shorter_pause_never_shortens_a_longer_one(clock: Clock) -> None:
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    throttle.block_for(10.0)
    throttle.block_for(2.0)
    assert throttle.blocked_for() == pytest.approx(10.0)


def test_lowering_a_limit_applies_to_the_next_request(clock: Clock) -> None:
    throttle = Throttle(clock=clock, sleep=clock.sleep)
    throttle.limit("api", 100, 10.0)
    throttle.acquire("api")
    throttle.limit("api", 1, 10.0)
    throttle.acquire("api")
    assert clock.slept == [pytest.approx(10.0)]
