# SPDX-License-Identifier: MIT
"""Running blocking work off the GUI thread: one helper, :func:`run_in_pool`.

Threading contract: call :func:`run_in_pool` from the GUI thread. ``fn`` runs on a pool thread and
must not touch Qt objects or widgets; it receives plain data through its closure and returns plain
data. ``on_result`` / ``on_error`` run on the GUI thread (queued signal delivery), so they may
update widgets. Every exception raised by ``fn`` reaches ``on_error``; none is lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

T = TypeVar("T")


class JobSignals(QObject):
    """The signals of one job. Created on the GUI thread, so deliveries land there.

    Signals:
        result(object): the value ``fn`` returned.
        error(Exception): the exception ``fn`` raised.
    """

    result = Signal(object)
    error = Signal(Exception)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: JobSignals) -> None:
        super().__init__()
        self._fn = fn
        self.signals = signals
        self.setAutoDelete(True)

    def run(self) -> None:  # runs on a pool thread
        try:
            value = self._fn()
        except Exception as exc:
            self.signals.error.emit(exc)
            return
        self.signals.result.emit(value)


class Submit(Protocol):
    """The shape of :func:`run_in_pool` once a pool is bound; controllers receive one of these."""

    def __call__(
        self,
        fn: Callable[[], T],
        *,
        on_result: Callable[[T], None],
        on_error: Callable[[Exception], None],
    ) -> None: ...


# Jobs whose signals are still waiting to be delivered: keeps each JobSignals alive until its
# callback ran on the GUI thread (the runnable itself is deleted by the pool when run() returns).
_pending: set[JobSignals] = set()


def run_in_pool(
    fn: Callable[[], T],
    *,
    on_result: Callable[[T], None],
    on_error: Callable[[Exception], None],
    pool: QThreadPool,
) -> JobSignals:
    """Runs ``fn`` on ``pool`` and reports back on the GUI thread.

    Args:
        fn: the blocking work; runs on a pool thread and must not touch Qt.
        on_result: called on the GUI thread with ``fn``'s return value.
        on_error: called on the GUI thread with the exception ``fn`` raised.
        pool: a dedicated pool (never ``QThreadPool.globalInstance()``).

    Returns:
        The job's signals object (tests may wait on it).
    """
    signals = JobSignals()
    _pending.add(signals)

    # Once a job has reported, its signals object is deleted: the connections (held by Qt, out of
    # the garbage collector's sight) would otherwise keep these closures, the signals object and
    # the job's result alive for the rest of the day.
    def _done_result(value: object) -> None:
        _pending.discard(signals)
        signals.deleteLater()
        try:
            on_result(value)  # type: ignore[arg-type]
        except Exception:
            log.exception("a job's result handler failed")

    def _done_error(exc: Exception) -> None:
        _pending.discard(signals)
        signals.deleteLater()
        try:
            on_error(exc)
        except Exception:
            log.exception("a job's error handler failed")

    signals.result.connect(_done_result)
    signals.error.connect(_done_error)
    pool.start(_Job(fn, signals))
    return signals


def bind_pool(pool: QThreadPool) -> Submit:
    """A :class:`Submit` that runs every job on ``pool``."""

    def submit(
        fn: Callable[[], T], *, on_result: Callable[[T], None], on_error: Callable[[Exception], None]
    ) -> None:
        run_in_pool(fn, on_result=on_result, on_error=on_error, pool=pool)

    return submit


def run_now(fn: Callable[[], T], *, on_result: Callable[[T], None], on_error: Callable[[Exception], None]) -> None:
    """A synchronous :class:`Submit` for tests and benchmarks: runs ``fn`` here and now."""
    try:
        value = fn()
    except Exception as exc:
        on_error(exc)
        return
    on_result(value)


def make_pool(name: str, threads: int) -> QThreadPool:
    """A dedicated, named pool (``io`` for CRM/RingCentral calls, ``ui`` for local work)."""
    pool = QThreadPool()
    pool.setObjectName(f"{name}-pool")
    pool.setMaxThreadCount(threads)
    return pool
