# SPDX-License-Identifier: MIT
"""Per-user rate limits, counted like RingCentral counts them.

Every API request belongs to a group (``Heavy``, ``Medium``, ``Light``, ``Auth``) with a number of
requests per 60 s window (the scenario's ``limits``), counted per user: the owner of the bearer
token, or the ``client_id`` for the unauthenticated OAuth routes. Going over gives 429 ``CMN-301``
with ``Retry-After: 60`` and a 60 s penalty that restarts on every request sent during it. A
scenario's ``other_limit_share`` answers that share of non-OAuth requests with a 429 ``CMN-310``
that carries no ``X-Rate-Limit-*`` headers (an account-level or global limit). Every other answer
carries ``X-Rate-Limit-Group``/``-Limit``/``-Remaining``/``-Window`` (:meth:`RateLimits.with_limits`).

Threading contract: not locked on its own; the account calls it with its lock held.
"""

from __future__ import annotations

import random
from collections import deque

from adapters.ringcentral.sandbox.scenario import Scenario
from adapters.ringcentral.sandbox.wire import SandboxResponse, api_error

PENALTY_SECONDS = 60
WINDOW_SECONDS = 60


def other_limit() -> SandboxResponse:
    """A 429 for an account-level or global limit: ``CMN-310``, no ``X-Rate-Limit-*`` headers."""
    response = api_error(429, "CMN-310", "Global request rate exceeded")
    response.headers["Retry-After"] = "5"
    return response


class RateLimits:
    """The request windows and penalties of every (user, group).

    Args:
        scenario: the limits per group and the share of other-limit 429s.
        rng: the account's fault generator (shared with :class:`~.faults.Faults`).
    """

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self._scenario = scenario
        self._rng = rng
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._penalty: dict[tuple[str, str], float] = {}

    def check(self, owner: str, group: str, now: float) -> SandboxResponse | None:
        """Counts the request; a 429 when it is over the limit, else ``None``."""
        key = (owner, group)
        limit = self._scenario.limits.get(group, 50)
        if self._penalty.get(key, 0.0) > now:
            self._penalty[key] = now + PENALTY_SECONDS  # every request during the penalty restarts it
            return self._too_many(group, limit)
        window = self._windows.setdefault(key, deque())
        while window and window[0] <= now - WINDOW_SECONDS:
            window.popleft()
        if len(window) >= limit:
            self._penalty[key] = now + PENALTY_SECONDS
            return self._too_many(group, limit)
        share = self._scenario.other_limit_share
        if group != "Auth" and share and self._rng.random() < share:
            return other_limit()
        window.append(now)
        return None

    def penalize(self, owner: str, group: str, now: float) -> None:
        """Starts the penalty of (``owner``, ``group``) as if it had just gone over its limit."""
        self._penalty[(owner, group)] = now + PENALTY_SECONDS

    def with_limits(self, response: SandboxResponse, owner: str, group: str | None) -> SandboxResponse:
        """Adds the ``X-Rate-Limit-*`` headers (not to 429s, faults or unlimited routes)."""
        if group is None or response.status == 429 or response.fault is not None:
            return response
        window = self._windows.get((owner, group), deque())
        limit = self._scenario.limits.get(group, 50)
        response.headers.update(
            {
                "X-Rate-Limit-Group": group.lower(),
                "X-Rate-Limit-Limit": str(limit),
                "X-Rate-Limit-Remaining": str(max(0, limit - len(window))),
                "X-Rate-Limit-Window": str(WINDOW_SECONDS),
            }
        )
        return response

    def _too_many(self, group: str, limit: int) -> SandboxResponse:
        response = api_error(429, "CMN-301", "Request rate exceeded")
        response.headers.update(
            {
                "Retry-After": str(PENALTY_SECONDS),
                "X-Rate-Limit-Group": group.lower(),
                "X-Rate-Limit-Limit": str(limit),
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Window": str(WINDOW_SECONDS),
            }
        )
        return response
