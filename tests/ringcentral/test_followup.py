# SPDX-License-Identifier: MIT
"""The insight follow-up schedule: first check, retries, giving up, learning the delay."""

from __future__ import annotations

from adapters.ringcentral.followup import InsightFollowUp
from adapters.ringcentral.sandbox import ManualClock


def test_first_check_waits_then_retries_every_interval() -> None:
    clock = ManualClock(0)
    follow = InsightFollowUp(clock=clock, first_check_after=1800, retry_every=900)
    follow.recording_seen("r1")
    follow.recording_seen("r1")  # idempotent
    assert follow.due(10) == [] and follow.next_due_in() == 1800
    clock.advance(1800)
    assert follow.due(10) == ["r1"]
    follow.not_ready("r1")
    clock.advance(899)
    assert follow.due(10) == []
    clock.advance(1)
    assert follow.due(10) == ["r1"]
    follow.done("r1")
    follow.recording_seen("r1")  # finished recordings are not followed again
    assert len(follow) == 0 and follow.next_due_in() is None


def test_due_respects_the_budget_and_keeps_the_rest() -> None:
    clock = ManualClock(0)
    follow = InsightFollowUp(clock=clock, first_check_after=60)
    for i in range(5):
        follow.recording_seen(f"r{i}")
    clock.advance(60)
    assert follow.due(2) == ["r0", "r1"]
    assert follow.due(10) == ["r2", "r3", "r4"]


def test_gives_up_after_the_limit() -> None:
    clock = ManualClock(0)
    follow = InsightFollowUp(clock=clock, first_check_after=60, retry_every=60, give_up_after=150)
    follow.recording_seen("r")
    for _ in range(2):
        clock.advance(60)
        assert follow.due(1) == ["r"]
        follow.not_ready("r")
    clock.advance(60)
    assert follow.due(1) == [] and follow.gave_up == ["r"]


def test_first_check_learns_the_typical_delay() -> None:
    clock = ManualClock(0)
    follow = InsightFollowUp(clock=clock, first_check_after=1800, min_samples=10, quantile=0.8)
    for i in range(10):
        follow.recording_seen(f"r{i}")
        follow.done(f"r{i}", ready_at=clock() + 100 * (i + 1))
    assert follow.first_delay() == 800
    again = InsightFollowUp(clock=clock, prior_delays=follow.learned_delays)
    assert again.first_delay() == 800
