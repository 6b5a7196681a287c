# SPDX-License-Identifier: MIT
"""Poll plans and rate budgets: when to ask RingCentral and the CRM, and how much.

Nothing here sleeps. A budget answers "may I send n requests now, and if not, when?"; the engine
returns the earliest time it has work (``next_due``) and whoever drives it (a QTimer in the app, a
loop over a manual clock in tests and benchmarks) calls it again then.

Budgets mirror the vendor's limits as sliding windows (RingCentral: Heavy 10/min, Light 50/min per
user; a CRM: whatever its plan allows) and honour ``Retry-After``: after a 429 nothing is sent in
that group until the penalty has passed, because every request sent during the penalty restarts it.

Threading contract: every method may be called from any thread (one lock per budget).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: RingCentral's penalty when a 429 carries no Retry-After.
DEFAULT_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class RateSpec:
    """At most ``requests`` in any ``per_seconds`` window."""

    requests: int
    per_seconds: float


RC_HEAVY = RateSpec(10, 60.0)
RC_LIGHT = RateSpec(50, 60.0)


class RateBudget:
    """A sliding-window budget for one rate-limit group, plus a "blocked until" from 429s.

    Args:
        name: the group, for status and messages ("rc-heavy", "rc-light", "crm").
        spec: the limit; None means unlimited (still honours 429s).
    """

    def __init__(self, name: str, spec: RateSpec | None) -> None:
        self.name = name
        self.spec = spec
        self._sent: deque[datetime] = deque()
        self._blocked_until: datetime | None = None
        self._lock = threading.Lock()
        #: Requests spent, and 429s received (benchmarks read these).
        self.spent = 0
        self.rate_limited = 0

    def _trim(self, now: datetime) -> None:
        if self.spec is None:
            self._sent.clear()
            return
        horizon = now - timedelta(seconds=self.spec.per_seconds)
        while self._sent and self._sent[0] <= horizon:
            self._sent.popleft()

    def available_at(self, now: datetime, n: int = 1) -> datetime:
        """The earliest time ``n`` requests may be sent (``now`` if right away)."""
        with self._lock:
            return self._available_at(now, n)

    def _available_at(self, now: datetime, n: int) -> datetime:
        when = now
        if self._blocked_until is not None and self._blocked_until > when:
            when = self._blocked_until
        if self.spec is None:
            return when
        self._trim(now)
        n = min(n, self.spec.requests)
        over = len(self._sent) + n - self.spec.requests
        if over > 0:
            # The (over)-th oldest send must leave the window first.
            frees = self._sent[over - 1] + timedelta(seconds=self.spec.per_seconds)
            when = max(when, frees)
        return when

    def try_spend(self, now: datetime, n: int = 1) -> bool:
        """Spends ``n`` requests if the budget allows them now."""
        with self._lock:
            if self._available_at(now, n) > now:
                return False
            self._sent.extend([now] * n)
            self.spent += n
            return True

    def adjust(self, spec: RateSpec) -> None:
        """Adopts a limit learned from the vendor (its ``X-Rate-Limit-*`` headers)."""
        with self._lock:
            self.spec = spec

    def has_room(self, now: datetime, n: int = 1) -> bool:
        """Whether ``n`` requests may be sent now (nothing is spent)."""
        return self.available_at(now, n) <= now

    def record(self, now: datetime) -> None:
        """Records one request that was sent."""
        with self._lock:
            self._trim(now)
            self._sent.append(now)
            self.spent += 1

    def block(self, now: datetime, retry_after: float | None) -> datetime:
        """Records a 429: nothing is sent in this group until the penalty has passed."""
        with self._lock:
            until = now + timedelta(seconds=DEFAULT_RETRY_AFTER if retry_after is None else retry_after)
            if self._blocked_until is None or until > self._blocked_until:
                self._blocked_until = until
            self.rate_limited += 1
            return self._blocked_until

    def blocked_until(self, now: datetime) -> datetime | None:
        with self._lock:
            if self._blocked_until is not None and self._blocked_until > now:
                return self._blocked_until
            return None


@dataclass
class Budgets:
    """The three budgets the engine spends."""

    rc_heavy: RateBudget = field(default_factory=lambda: RateBudget("rc-heavy", RC_HEAVY))
    rc_light: RateBudget = field(default_factory=lambda: RateBudget("rc-light", RC_LIGHT))
    crm: RateBudget = field(default_factory=lambda: RateBudget("crm", None))

    def all(self) -> tuple[RateBudget, ...]:
        return (self.rc_heavy, self.rc_light, self.crm)


@dataclass(frozen=True)
class PollPlan:
    """How often to look for what RingCentral has not delivered yet.

    Attributes:
        sync_every: ISync interval while the app is open (Heavy group; 10/min allows far more).
        insights_delays: waits between RingSense checks for one recording: widening, the last repeats.
        give_up_after: after this long, a missing artifact is written as "not available".
        resume_gap: see below.
        push_sync_every: see below.
    """

    sync_every: timedelta = timedelta(seconds=30)
    insights_delays: tuple[timedelta, ...] = (
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=5),
        timedelta(minutes=10),
        timedelta(minutes=20),
        timedelta(minutes=40),
        timedelta(hours=1),
        timedelta(hours=2),
    )
    give_up_after: timedelta = timedelta(hours=24)
    #: A gap this much longer than ``sync_every`` between two ticks means the machine slept.
    resume_gap: timedelta = timedelta(minutes=5)
    #: With push events on, the call log is read after each call and on reconnects; this is the
    #: safety net in between (RingCentral's own catch-up advice).
    push_sync_every: timedelta = timedelta(minutes=10)

    def insights_delay(self, checks_done: int) -> timedelta:
        """The wait before check number ``checks_done + 1`` (0 → the first check)."""
        return self.insights_delays[min(checks_done, len(self.insights_delays) - 1)]


def backoff(attempts: int, *, base: float = 2.0, cap: float = 600.0) -> timedelta:
    """Exponential backoff for transient failures: 2 s, 4 s, 8 s, ... capped at 10 minutes."""
    return timedelta(seconds=min(cap, base * (2 ** max(0, attempts - 1))))
