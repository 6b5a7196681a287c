# SPDX-License-Identifier: MIT
"""The background poller: a QTimer on the GUI thread that drives the Qt-free engine.

Each tick submits one ``work`` call to the pool (the engine's sync, artifact poll and outbox run,
then a fresh read of the rows on screen) and emits what came back. It never overlaps ticks, backs
off on errors (honouring ``RateLimited.retry_after``), follows the engine's own idea of when it
next has work, and notices sleep/resume: if the clock jumped far past the interval, it polls at
once.

Threading contract: a :class:`CallPoller` lives on the GUI thread and does no I/O itself; ``work``
runs on a pool thread through ``submit`` and must not touch Qt.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from adapters.base import RateLimited
from desktop.workers import Submit

log = logging.getLogger(__name__)

#: Backoff cap after repeated failures.
MAX_BACKOFF_MS = 5 * 60 * 1000
#: A tick later than this many intervals means the machine slept: poll at once.
WAKE_GAP_FACTOR = 3
#: Never poll more often than this, whatever the engine asks.
MIN_INTERVAL_MS = 1000


@dataclass(frozen=True)
class PollResult:
    """What one tick brings back (plain data, built on the worker).

    Attributes:
        rows: engine ``CallRow`` values to upsert into the table.
        status: the engine's ``EngineStatus``.
        next_due: when the engine next has work, if it knows.
        unchanged: ``rows`` are the same as the previous tick's, so a timer tick does not emit them
            again (an explicit :meth:`CallPoller.poll_now` still does).
    """

    rows: list[Any] = field(default_factory=list)
    status: Any = None
    next_due: datetime | None = None
    unchanged: bool = False


class CallPoller(QObject):
    """Polls the engine on a timer.

    Args:
        work: the blocking poll; receives how many rows the table shows and returns a
            :class:`PollResult`. Runs on a pool thread.
        submit: runs ``work`` off the GUI thread (``bind_pool(io_pool)``; ``run_now`` in tests).
        clock: the current time (aware), for the wake check and ``next_due``.
        interval_ms: the regular interval (the user's poll interval setting).
        window: how many of the newest calls a tick reads (read on the GUI thread). Older rows are
            read from the database when the table shows them.

    Signals:
        calls_fetched(list): engine rows from the latest tick; not emitted when a timer tick brought
            the same rows as the one before (a :meth:`poll_now` tick always emits).
        status_changed(object): the engine's ``EngineStatus`` after the tick.
        poll_failed(Exception): the tick raised.
        state_changed(str): "polling", "idle", "backoff" or "stopped".
    """

    calls_fetched = Signal(list)
    status_changed = Signal(object)
    poll_failed = Signal(Exception)
    state_changed = Signal(str)

    def __init__(
        self,
        work: Callable[[int], PollResult],
        submit: Submit,
        clock: Callable[[], datetime],
        interval_ms: int,
        window: Callable[[], int] = lambda: 200,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._work = work
        self._submit = submit
        self._clock = clock
        self._window = window
        self.interval_ms = max(MIN_INTERVAL_MS, interval_ms)
        self._timer = QTimer(self)
        self._timer.setObjectName("call-poller")
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timeout)
        self._wake = QTimer(self)
        self._wake.setObjectName("call-poller-wake")
        self._wake.setInterval(15_000)
        self._wake.timeout.connect(self._check_resume)
        self._in_flight = False
        self._again = False
        self._force = False
        self._tick_forced = False
        self._failures = 0
        self._running = False
        self._last_tick: datetime | None = None
        self._scheduled_ms = -1
        self.state = "stopped"

    # --- control --------------------------------------------------------------------------------

    def start(self) -> None:
        """Polls now, then on the interval."""
        self._running = True
        self._wake.start()
        self.poll_now()

    def stop(self) -> None:
        self._running = False
        self._timer.stop()
        self._wake.stop()
        self._set_state("stopped")

    def set_interval(self, interval_ms: int) -> None:
        self.interval_ms = max(MIN_INTERVAL_MS, interval_ms)
        if self._running and not self._in_flight:
            self._schedule(self.interval_ms)

    def poll_now(self) -> None:
        """Polls at once (Refresh); if a poll is running, one more follows it. Its rows are emitted
        even when unchanged, so a row the GUI changed locally (e.g. "Saving…") is put right."""
        self._force = True
        if self._in_flight:
            self._again = True
            return
        self._timer.stop()
        self._on_timeout()

    @property
    def in_flight(self) -> bool:
        return self._in_flight

    # --- ticks ----------------------------------------------------------------------------------

    def _on_timeout(self) -> None:
        if self._in_flight:
            return
        self._in_flight = True
        self._tick_forced, self._force = self._force, False
        self._last_tick = self._clock()
        self._set_state("polling")
        window = self._window()
        work = self._work
        self._submit(lambda: work(window), on_result=self._on_poll_result, on_error=self._on_poll_error)

    def _on_poll_result(self, result: PollResult) -> None:
        self._in_flight = False
        self._failures = 0
        if self._tick_forced or not result.unchanged:
            self.calls_fetched.emit(result.rows)
        if result.status is not None:
            self.status_changed.emit(result.status)
        if not self._running:
            return
        if self._again:
            self._again = False
            self._schedule(0)
            return
        delay = self.interval_ms
        if result.next_due is not None:
            until = int((result.next_due - self._clock()).total_seconds() * 1000)
            delay = min(delay, max(MIN_INTERVAL_MS, until))
        self._set_state("idle")
        self._schedule(delay)

    def _on_poll_error(self, exc: Exception) -> None:
        self._in_flight = False
        self._failures += 1
        log.info("poll failed (%s): %s", type(exc).__name__, exc)
        self.poll_failed.emit(exc)
        if not self._running:
            return
        delay = min(MAX_BACKOFF_MS, self.interval_ms * (2 ** min(self._failures, 10)))
        if isinstance(exc, RateLimited) and exc.retry_after:
            delay = max(delay if self._failures > 1 else 0, int(exc.retry_after * 1000))
        self._set_state("backoff")
        self._schedule(delay)

    def _schedule(self, delay_ms: int) -> None:
        self._scheduled_ms = max(0, int(delay_ms))
        self._timer.start(self._scheduled_ms)

    def next_delay_ms(self) -> int:
        """The delay the next tick was scheduled with (ms), -1 when none is scheduled."""
        return self._scheduled_ms if self._timer.isActive() else -1

    def _check_resume(self) -> None:
        if not self._running or self._in_flight or self._last_tick is None:
            return
        gap = self._clock() - self._last_tick
        if gap > timedelta(milliseconds=self.interval_ms * WAKE_GAP_FACTOR):
            log.info("clock jumped %s since the last poll (sleep/resume?): polling now", gap)
            self._failures = 0
            self.poll_now()

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.state_changed.emit(state)
