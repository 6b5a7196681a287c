# SPDX-License-Identifier: MIT
"""What the engine needs from the outside world besides the CRM adapter: a clock and a call source.

Threading contract: the engine calls a :class:`CallSource` from one worker thread at a time; an
implementation does blocking I/O and must not touch Qt. A :class:`Clock` may be read from any thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from adapters.models import Call


class Clock(Protocol):
    """The engine's only source of time: the system clock in the app, a manual one in tests."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (tests, benchmarks, the sandbox's accelerated time).

    Thread-safe: ``advance`` and ``now`` may be called from different threads.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> datetime:
        with self._lock:
            self._now += timedelta(seconds=seconds)
            return self._now

    def set(self, when: datetime) -> None:
        """Moves to ``when`` (never backwards)."""
        with self._lock:
            if when > self._now:
                self._now = when


class SecondsClock:
    """A :class:`Clock` over a function returning UNIX seconds (the sandbox's accelerated clock)."""

    def __init__(self, seconds: Callable[[], float]) -> None:
        self._seconds = seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._seconds(), UTC)


class SyncBatch(Protocol):
    """One answer of RingCentral's call-log-sync: records changed since the token, and the next token."""

    @property
    def records(self) -> Sequence[Call]: ...

    @property
    def sync_token(self) -> str: ...

    @property
    def full(self) -> bool:
        """True for an FSync (the token was missing, expired or reset)."""
        ...


@runtime_checkable
class CallSource(Protocol):
    """The RingCentral calls the engine makes. ``adapters.ringcentral.client.RingCentralClient`` is one.

    Every method may raise an :class:`adapters.base.AdapterError`: ``RateLimited(retry_after)`` for a
    429, ``TransientError`` for timeouts and 5xx, ``AuthError``/``PermissionDenied`` otherwise.
    ``sync_call_log`` and ``get_call`` spend RingCentral's Heavy budget; ``get_insights`` the Light one.
    """

    def sync_call_log(self, sync_token: str | None, /) -> SyncBatch:
        """FSync when ``sync_token`` is None (or RingCentral asks for it), else ISync."""
        ...

    def get_call(self, call_id: str, /) -> Call: ...

    def get_insights(self, recording_id: str, /) -> object | None:
        """RingSense insights for a recording; None while they are not ready.

        Raises ``PermissionDenied`` when the user has no RingSense licence.
        """
        ...


if TYPE_CHECKING:
    from adapters.ringcentral.client import RingCentralClient

    def _real_client_is_a_call_source(client: RingCentralClient) -> CallSource:
        return client  # mypy checks that the real client satisfies the protocol
