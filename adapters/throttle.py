# SPDX-License-Identifier: MIT
"""A small per-adapter request limiter: sliding windows plus "blocked until" from vendor headers.

An adapter owns one :class:`Throttle`. Before each request it calls :meth:`Throttle.acquire` with
the bucket the endpoint belongs to (HubSpot's search endpoints have their own per-second limit);
after each response it reports what the vendor's rate-limit headers said with
:meth:`Throttle.block_for`, so a backlog drains at the pace the CRM allows instead of running
into 429s.

The clock and the sleep function are injected, so tests drive time without sleeping.

Threading contract: an adapter is used from one worker thread at a time; the throttle takes a
lock anyway so that a shared adapter cannot corrupt its windows.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]
Sleep = Callable[[float], None]


@dataclass
class _Window:
    limit: int
    seconds: float
    sent: deque[float] = field(default_factory=deque)


class Throttle:
    """Sliding-window limits per bucket, plus a pause every bucket honours.

    Args:
        clock: monotonic seconds (``time.monotonic`` in production).
        sleep: blocks for the given seconds (``time.sleep`` in production).
        max_wait: the longest single pause; a vendor asking for more than this is answered by
            raising instead (the caller turns it into ``RateLimited``), never by hanging a worker.
    """

    def __init__(self, *, clock: Clock | None = None, sleep: Sleep | None = None, max_wait: float = 30.0) -> None:
        self._clock: Clock = clock or time.monotonic
        self._sleep: Sleep = sleep or time.sleep
        self._windows: dict[str, _Window] = {}
        self._blocked_until = 0.0
        self._lock = threading.Lock()
        self.max_wait = max_wait
        #: Total seconds spent waiting (for benchmarks and tests).
        self.waited = 0.0

    def limit(self, bucket: str, requests: int, per_seconds: float) -> None:
        """Allow at most ``requests`` in any ``per_seconds`` window for ``bucket``.

        Changing a bucket's limit (as vendor headers reveal the real one) keeps the requests
        already counted in it.
        """
        with self._lock:
            window = self._windows.get(bucket)
            if window is None:
                self._windows[bucket] = _Window(requests, per_seconds)
            else:
                window.limit, window.seconds = requests, per_seconds

    def blocked_for(self) -> float:
        """Seconds until the vendor-imposed pause ends (0 when not paused)."""
        return max(0.0, self._blocked_until - self._clock())

    def block_for(self, seconds: float) -> None:
        """Pause every bucket for ``seconds`` from now (a ``Retry-After`` or an exhausted budget)."""
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + max(0.0, seconds))

    def acquire(self, *buckets: str) -> None:
        """Wait until one more request fits every named bucket, then count it.

        Raises:
            ThrottleTimeout: the wait would exceed ``max_wait``.
        """
        with self._lock:
            while True:
                now = self._clock()
                wait = max(0.0, self._blocked_until - now)
                for name in buckets:
                    window = self._windows.get(name)
                    if window is None:
                        continue
                    while window.sent and window.sent[0] <= now - window.seconds:
                        window.sent.popleft()
                    if len(window.sent) >= window.limit:
                        wait = max(wait, window.sent[0] + window.seconds - now)
                if wait <= 0:
                    for name in buckets:
                        if name in self._windows:
                            self._windows[name].sent.append(now)
                    return
                if wait > self.max_wait:
                    raise ThrottleTimeout(wait)
                self.waited += wait
                self._sleep(wait)


class ThrottleTimeout(Exception):
    """The throttle would have to wait longer than its ``max_wait``; ``seconds`` says how long."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"rate limit pause of {seconds:.1f} s")
        self.seconds = seconds
