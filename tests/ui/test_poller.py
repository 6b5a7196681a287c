# SPDX-License-Identifier: MIT
"""The poller: no overlapping ticks, backoff on errors, Retry-After, wake from sleep (no real time)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.base import RateLimited, TransientError
from desktop.poller import CallPoller, PollResult
from desktop.workers import run_now


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


class DeferredSubmit:
    """Holds jobs until the test releases them (a pool that is 'busy')."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Callable[[], object], Callable[[object], None], Callable[[Exception], None]]] = []

    def __call__(self, fn, *, on_result, on_error) -> None:  # type: ignore[no-untyped-def]
        self.jobs.append((fn, on_result, on_error))

    def release(self) -> None:
        fn, on_result, on_error = self.jobs.pop(0)
        run_now(fn, on_result=on_result, on_error=on_error)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_tick_emits_rows_and_status(qtbot, clock: Clock) -> None:
    # Given a poller over work that returns two rows
    poller = CallPoller(lambda window: PollResult(rows=["a", "b"], status="ok"), run_now, clock, 30_000)
    # When it starts
    fetched: list[object] = []
    statuses: list[object] = []
    poller.calls_fetched.connect(fetched.append)
    poller.status_changed.connect(statuses.append)
    poller.start()
    # Then the rows and status are emitted and the next tick is scheduled on the interval
    assert fetched == [["a", "b"]] and statuses == ["ok"]
    assert poller.next_delay_ms() == 30_000
    poller.stop()


def test_ticks_never_overlap(qtbot, clock: Clock) -> None:
    # Given a poll in flight
    calls: list[int] = []
    submit = DeferredSubmit()
    poller = CallPoller(lambda window: calls.append(window) or PollResult(), submit, clock, 30_000, window=lambda: 7)
    poller.start()
    # When the timer fires again and Refresh is pressed
    poller._timer.timeout.emit()
    poller.poll_now()
    # Then only one job was submitted, and a second follows once the first finishes
    assert len(submit.jobs) == 1
    submit.release()
    assert calls == [7]
    qtbot.waitUntil(lambda: len(submit.jobs) == 1)
    poller.stop()


def test_errors_back_off_exponentially_and_recover(qtbot, clock: Clock) -> None:
    outcomes: list[Exception | None] = [TransientError("down"), TransientError("down"), None]

    def work(window: int) -> PollResult:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return PollResult()

    poller = CallPoller(work, run_now, clock, 10_000)
    with qtbot.waitSignal(poller.poll_failed):
        poller.start()
    assert poller.state == "backoff"
    assert poller.next_delay_ms() == 20_000
    poller._timer.timeout.emit()
    assert poller.next_delay_ms() == 40_000
    with qtbot.waitSignal(poller.calls_fetched):
        poller._timer.timeout.emit()
    assert poller.state == "idle" and poller.next_delay_ms() == 10_000
    poller.stop()


def test_rate_limited_waits_for_retry_after(qtbot, clock: Clock) -> None:
    def work(window: int) -> PollResult:
        raise RateLimited("slow down", retry_after=120)

    poller = CallPoller(work, run_now, clock, 10_000)
    poller.start()
    assert poller.next_delay_ms() == 120_000
    poller.stop()


def test_next_due_from_engine_shortens_the_wait(qtbot, clock: Clock) -> None:
    poller = CallPoller(
        lambda window: PollResult(next_due=clock.now + timedelta(seconds=3)), run_now, clock, 30_000
    )
    poller.start()
    assert 2_000 <= poller.next_delay_ms() <= 3_000
    poller.stop()


def test_clock_jump_after_sleep_polls_at_once(qtbot, clock: Clock) -> None:
    ticks: list[int] = []
    poller = CallPoller(lambda window: ticks.append(1) or PollResult(), run_now, clock, 30_000)
    poller.start()
    assert ticks == [1]
    # When the machine wakes up two hours later
    clock.now += timedelta(hours=2)
    poller._wake.timeout.emit()
    # Then it polls immediately
    assert ticks == [1, 1]
    poller.stop()


def test_timer_tick_with_unchanged_rows_emits_no_rows_but_refresh_does(qtbot, clock: Clock) -> None:
    # Given work whose rows did not change since the tick before
    poller = CallPoller(lambda window: PollResult(rows=["a"], status="ok", unchanged=True), run_now, clock, 30_000)
    fetched: list[object] = []
    statuses: list[object] = []
    poller.calls_fetched.connect(fetched.append)
    poller.status_changed.connect(statuses.append)
    poller.start()  # start() is an explicit poll: rows are emitted
    assert fetched == [["a"]]
    # When the timer ticks
    poller._timer.timeout.emit()
    # Then the status still arrives but the same rows are not emitted again
    assert fetched == [["a"]] and statuses == ["ok", "ok"]
    # And an explicit refresh always emits them (a row shown as "Saving…" is put right)
    poller.poll_now()
    assert fetched == [["a"], ["a"]]
    poller.stop()


def test_refresh_asked_during_a_tick_emits_the_follow_up_rows(qtbot, clock: Clock) -> None:
    # Given a timer tick in flight whose rows are unchanged
    submit = DeferredSubmit()
    poller = CallPoller(lambda window: PollResult(rows=["a"], unchanged=True), submit, clock, 30_000)
    fetched: list[object] = []
    poller.calls_fetched.connect(fetched.append)
    poller._running = True
    poller._timer.timeout.emit()
    # When Refresh is pressed meanwhile, then both polls finish
    poller.poll_now()
    submit.release()
    assert fetched == []
    poller._timer.timeout.emit()
    submit.release()
    # Then the follow-up poll (the one Refresh asked for) emits its rows
    assert fetched == [["a"]]
    poller.stop()
