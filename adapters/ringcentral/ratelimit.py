# SPDX-License-Identifier: MIT
"""RingCentral's per-user rate-limit groups, enforced on our side before a request is sent.

RingCentral counts requests per (user, app) and per group over a 60 s window: Heavy 10, Medium 40,
Light 50, Auth 5 by default. Going over earns a 429 with ``Retry-After`` and — the expensive part —
**every request sent during the penalty restarts it**. So the client never relies on the server
to say no: :class:`RateLimiter` keeps a sliding window per group, lets a request through only when
the budget has room, corrects its count from the ``X-Rate-Limit-*`` headers of every response, and
on a 429 pauses that group (nothing is sent to it) until ``Retry-After`` (30 s when absent) passes.

The state is observable (:meth:`RateLimiter.status`, :meth:`RateLimiter.describe_wait`) so the UI
can say "waiting for RingCentral's rate limit (12 s)".

Threading contract: every method is thread-safe; the client's worker threads share one limiter.
:meth:`RateLimiter.acquire` sleeps through the injected ``sleep`` without holding the lock.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from adapters.base import RateLimited

Clock = Callable[[], float]
Sleep = Callable[[float], None]

#: The window RingCentral counts requests over, in seconds.
WINDOW = 60.0
#: How long to pause a group after a 429 that carries no ``Retry-After``.
DEFAULT_PENALTY = 30.0


class Group(StrEnum):
    """RingCentral's rate-limit groups (the ``X-Rate-Limit-Group`` header, case-insensitive)."""

    HEAVY = "Heavy"
    MEDIUM = "Medium"
    LIGHT = "Light"
    AUTH = "Auth"


DEFAULT_LIMITS: Mapping[Group, int] = {Group.HEAVY: 10, Group.MEDIUM: 40, Group.LIGHT: 50, Group.AUTH: 5}


def parse_group(name: str | None) -> Group | None:
    """``"heavy"`` → :attr:`Group.HEAVY`; ``None`` for names we do not know."""
    if not name:
        return None
    for group in Group:
        if group.value.lower() == name.strip().lower():
            return group
    return None


@dataclass(frozen=True)
class GroupStatus:
    """One group's budget as the limiter sees it now.

    Attributes:
        group: the group.
        limit: requests allowed per ``window``.
        window: seconds.
        remaining: requests that may be sent right now.
        wait: seconds until the next request may be sent (0 when one may go now).
        paused: whether the wait is a 429 penalty (as opposed to a spent budget).
    """

    group: Group
    limit: int
    window: float
    remaining: int
    wait: float
    paused: bool


@dataclass
class _Budget:
    limit: int
    window: float
    sent: deque[float] = field(default_factory=deque)
    paused_until: float = 0.0

    def prune(self, now: float) -> None:
        while self.sent and self.sent[0] <= now - self.window:
            self.sent.popleft()

    def wait(self, now: float) -> tuple[float, bool]:
        self.prune(now)
        if self.paused_until > now:
            return self.paused_until - now, True
        if len(self.sent) < self.limit:
            return 0.0, False
        # The oldest send in the window leaves it at sent[k] + window, where k frees one slot.
        k = len(self.sent) - self.limit
        return max(0.0, self.sent[k] + self.window - now), False


class RateLimiter:
    """Sliding-window budgets per RingCentral group, corrected by the server's headers.

    Args:
        limits: requests per window per group; defaults to :data:`DEFAULT_LIMITS`.
        window: seconds.
        clock: seconds (monotonic or UNIX; only differences matter).
        reserve: keep this many requests of every group spare (for a user's click while a
            background poll runs); a budget of ``limit - reserve`` is handed to :meth:`acquire`
            unless it is called with ``urgent=True``.
    """

    def __init__(
        self,
        limits: Mapping[Group, int] | None = None,
        *,
        window: float = WINDOW,
        clock: Clock = time.monotonic,
        reserve: int = 0,
    ) -> None:
        self._clock = clock
        self._reserve = reserve
        self._lock = threading.Lock()
        merged = {**DEFAULT_LIMITS, **(limits or {})}
        self._budgets: dict[Group, _Budget] = {g: _Budget(limit, window) for g, limit in merged.items()}
        #: route → the group the server says it belongs to (learned from X-Rate-Limit-Group).
        self._learned: dict[str, Group] = {}
        #: Requests the limiter let through, per group (observable for benchmarks).
        self.sent_total: dict[Group, int] = dict.fromkeys(Group, 0)
        #: Seconds :meth:`acquire` slept in total.
        self.waited = 0.0

    def group_for(self, route: str, default: Group) -> Group:
        """The group ``route`` is counted in: what the server last said, else ``default``."""
        with self._lock:
            return self._learned.get(route, default)

    def try_acquire(self, group: Group, *, urgent: bool = False) -> float:
        """Counts one request if the budget allows; otherwise returns the seconds to wait.

        Returns:
            0.0 when the request was counted and may be sent now.
        """
        with self._lock:
            budget = self._budgets[group]
            now = self._clock()
            wait, paused = budget.wait(now)
            if not paused and not urgent and self._reserve:
                spare = min(self._reserve, budget.limit - 1)
                if len(budget.sent) >= budget.limit - spare:
                    k = len(budget.sent) - (budget.limit - spare)
                    wait = max(wait, budget.sent[k] + budget.window - now)
            if wait > 0:
                return wait
            budget.sent.append(now)
            self.sent_total[group] += 1
            return 0.0

    def acquire(self, group: Group, *, sleep: Sleep, max_wait: float, urgent: bool = False) -> None:
        """Blocks (through ``sleep``) until one more request fits ``group``, then counts it.

        Raises:
            RateLimited: the wait would be longer than ``max_wait``; ``retry_after`` says how long.
        """
        while True:
            wait = self.try_acquire(group, urgent=urgent)
            if wait <= 0:
                return
            if wait > max_wait:
                raise RateLimited(
                    f"Waiting for RingCentral's rate limit ({math.ceil(wait)} s).",
                    retry_after=wait,
                )
            self.waited += wait
            sleep(wait)

    def observe(self, route: str, expected: Group, headers: Mapping[str, str]) -> Group:
        """Corrects the budget from a response's ``X-Rate-Limit-*`` headers.

        The server's count wins when it is higher than ours (other devices of the same user, a
        request we could not see); its ``Limit`` and ``Window`` replace the defaults; its ``Group``
        teaches the limiter which group ``route`` really belongs to.

        Returns:
            The group the response was counted in.
        """
        group = parse_group(headers.get("X-Rate-Limit-Group")) or expected
        with self._lock:
            if group is not expected:
                self._learned[route] = group
            budget = self._budgets[group]
            limit = _int(headers.get("X-Rate-Limit-Limit"))
            window = _int(headers.get("X-Rate-Limit-Window"))
            remaining = _int(headers.get("X-Rate-Limit-Remaining"))
            if limit is not None and limit > 0:
                budget.limit = limit
            if window is not None and window > 0:
                budget.window = float(window)
            if remaining is not None:
                now = self._clock()
                budget.prune(now)
                used_by_server = budget.limit - max(0, remaining)
                for _ in range(used_by_server - len(budget.sent)):
                    budget.sent.append(now)
        return group

    def penalize(self, group: Group, retry_after: float | None) -> float:
        """A 429: nothing goes to ``group`` for ``retry_after`` seconds (30 s when unknown).

        Returns:
            The pause in seconds.
        """
        pause = DEFAULT_PENALTY if retry_after is None else max(1.0, retry_after)
        with self._lock:
            budget = self._budgets[group]
            budget.paused_until = max(budget.paused_until, self._clock() + pause)
        return pause

    def status(self) -> dict[Group, GroupStatus]:
        """Every group's budget now."""
        with self._lock:
            now = self._clock()
            out: dict[Group, GroupStatus] = {}
            for group, budget in self._budgets.items():
                wait, paused = budget.wait(now)
                out[group] = GroupStatus(
                    group=group,
                    limit=budget.limit,
                    window=budget.window,
                    remaining=0 if paused else max(0, budget.limit - len(budget.sent)),
                    wait=wait,
                    paused=paused,
                )
            return out

    def describe_wait(self) -> str | None:
        """``"Waiting for RingCentral's rate limit (12 s)"`` for the longest current wait, or ``None``."""
        waits = [s for s in self.status().values() if s.wait > 0]
        if not waits:
            return None
        worst = max(waits, key=lambda s: s.wait)
        return f"Waiting for RingCentral's rate limit ({math.ceil(worst.wait)} s)."


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None
