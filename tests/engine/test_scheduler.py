# SPDX-License-Identifier: MIT
"""Rate budgets and poll plans: sliding windows, Retry-After penalties, widening checks, backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from desktop.engine.scheduler import PollPlan, RateBudget, RateSpec, backoff

T0 = datetime(2026, 4, 11, 9, 0, tzinfo=UTC)


def test_sliding_window_allows_the_limit_then_waits_for_the_oldest_request_to_leave() -> None:
    budget = RateBudget("rc-heavy", RateSpec(10, 60.0))
    for i in range(10):
        assert budget.has_room(T0 + timedelta(seconds=i))
        budget.record(T0 + timedelta(seconds=i))
    now = T0 + timedelta(seconds=10)
    assert not budget.has_room(now)
    assert budget.available_at(now) == T0 + timedelta(seconds=60)
    assert budget.available_at(now, 3) == T0 + timedelta(seconds=62)
    assert budget.has_room(T0 + timedelta(seconds=60))


def test_429_blocks_the_group_for_retry_after_seconds() -> None:
    budget = RateBudget("crm", None)
    assert budget.has_room(T0)
    until = budget.block(T0, 12.5)
    assert until == T0 + timedelta(seconds=12.5)
    assert not budget.has_room(T0 + timedelta(seconds=12))
    assert budget.available_at(T0) == until
    assert budget.blocked_until(T0 + timedelta(seconds=13)) is None
    assert budget.rate_limited == 1


def test_429_without_retry_after_waits_a_full_minute() -> None:
    budget = RateBudget("rc-light", RateSpec(50, 60.0))
    assert budget.block(T0, None) == T0 + timedelta(seconds=60)


def test_a_shorter_later_penalty_does_not_shorten_a_running_one() -> None:
    budget = RateBudget("crm", None)
    budget.block(T0, 30)
    budget.block(T0 + timedelta(seconds=1), 2)
    assert budget.blocked_until(T0 + timedelta(seconds=10)) == T0 + timedelta(seconds=30)


def test_insights_checks_widen_and_the_last_delay_repeats() -> None:
    plan = PollPlan()
    delays = [plan.insights_delay(i) for i in range(12)]
    assert delays == sorted(delays)
    assert delays[0] < delays[3] < delays[-1]
    assert delays[-1] == delays[-2] == plan.insights_delays[-1]


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert backoff(40) == timedelta(minutes=10)


@given(gaps=st.lists(st.floats(min_value=0.0, max_value=20.0), min_size=1, max_size=200))
def test_a_budget_never_allows_more_than_its_limit_in_any_window(gaps: list[float]) -> None:
    """Whatever the pattern of attempts, no 60-second window holds more than 10 sends."""
    budget = RateBudget("rc-heavy", RateSpec(10, 60.0))
    now = T0
    sent: list[datetime] = []
    for gap in gaps:
        now += timedelta(seconds=gap)
        if budget.has_room(now):
            budget.record(now)
            sent.append(now)
        else:
            assert budget.available_at(now) > now
    for i, start in enumerate(sent):
        inside = [t for t in sent[i:] if t < start + timedelta(seconds=60)]
        assert len(inside) <= 10
