# SPDX-License-Identifier: MIT
"""run_in_pool on a real QThreadPool: results and errors come back on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThread, QThreadPool

from desktop.workers import make_pool, run_in_pool, run_now


@pytest.fixture
def pool() -> Iterator[QThreadPool]:
    p = make_pool("test", 2)
    yield p
    p.waitForDone()


def test_result_is_delivered_on_the_gui_thread(qtbot, pool: QThreadPool) -> None:
    # Given a job that records which thread it ran on
    seen: dict[str, object] = {}
    gui_thread = QThread.currentThread()

    def job() -> int:
        seen["worker"] = threading.current_thread() is not threading.main_thread()
        return 42

    def on_result(value: int) -> None:
        seen["value"] = value
        seen["gui"] = QThread.currentThread() == gui_thread

    # When it runs in the pool
    run_in_pool(job, on_result=on_result, on_error=lambda exc: seen.setdefault("error", exc), pool=pool)
    qtbot.waitUntil(lambda: "value" in seen or "error" in seen, timeout=5000)

    # Then the result arrives on the GUI thread, computed on a worker
    assert seen == {"worker": True, "value": 42, "gui": True}


def test_exception_is_delivered_to_on_error(qtbot, pool: QThreadPool) -> None:
    # Given a job that fails
    errors: list[Exception] = []
    results: list[object] = []

    def job() -> None:
        raise ValueError("CRM said no")

    # When it runs
    run_in_pool(job, on_result=results.append, on_error=errors.append, pool=pool)
    qtbot.waitUntil(lambda: bool(errors or results), timeout=5000)

    # Then the exception reaches on_error and no result is reported
    assert isinstance(errors[0], ValueError) and str(errors[0]) == "CRM said no"
    assert results == []


def test_run_now_reports_errors_synchronously() -> None:
    out: list[object] = []
    run_now(lambda: 1 / 0, on_result=out.append, on_error=out.append)
    run_now(lambda: "ok", on_result=out.append, on_error=out.append)
    assert isinstance(out[0], ZeroDivisionError) and out[1] == "ok"


class _Result:
    """A job's result that can be watched for being freed."""


@pytest.mark.parametrize("fails", [False, True])
def test_a_job_that_reported_leaves_nothing_behind(qtbot, pool: QThreadPool, fails: bool) -> None:
    import gc
    import weakref

    from PySide6.QtCore import QCoreApplication, QEvent

    # Given a job whose result (or exception) and signals object are watched
    results: list[weakref.ref[object]] = []
    delivered: list[bool] = []

    def job() -> _Result:
        value = _Result()
        results.append(weakref.ref(value))
        if fails:
            raise RuntimeError("refused")
        return value

    signals = run_in_pool(job, on_result=lambda _v: delivered.append(True),
                          on_error=lambda _e: delivered.append(True), pool=pool)
    watched = weakref.ref(signals)
    del signals
    # When it has reported and the event loop has run
    qtbot.waitUntil(lambda: bool(delivered))
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    # Then neither its signals object nor its result is kept (an all-day app runs thousands)
    assert watched() is None
    assert fails or results[0]() is None
