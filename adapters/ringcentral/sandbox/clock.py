# SPDX-License-Identifier: MIT
"""Time in the sandbox: the clocks an account runs on and RingCentral's date-time format.

Tests run the account on a :class:`ManualClock` (time moves only through
:meth:`ManualClock.advance`); the live demo and ``logdesk sandbox serve`` run it on
:func:`real_clock`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

#: UNIX seconds, now.
Clock = Callable[[], float]

#: 2026-04-10T15:00:00Z: where a manual clock starts by default.
DEFAULT_START = 1_775_833_200.0


class ManualClock:
    """A clock that moves only when told: :meth:`advance`. Thread-safe."""

    def __init__(self, start: float = DEFAULT_START) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        """A ``sleep`` for code under test: advances instead of waiting."""
        self.advance(max(0.0, seconds))


def real_clock() -> float:
    """``time.time``: the live demo's clock."""
    return time.time()


def iso(ts: float) -> str:
    """UNIX seconds → RingCentral's ``2026-04-10T23:58:47.594Z``."""
    dt = datetime.fromtimestamp(ts, UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_iso(value: str) -> float:
    """RingCentral date-time → UNIX seconds. Raises ``ValueError``."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()
