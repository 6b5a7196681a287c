# SPDX-License-Identifier: MIT
"""Test doubles for the engine: a simulated RingCentral call source and a fault-injecting CRM wrapper.

``SimulatedRingCentral`` is deterministic in simulated time: call *i* appears at ``appear``, its
recording is attached at ``recording_at`` and RingSense has insights at ``insights_at``. It has no
state besides what a fresh instance computes from its script, so a restarted child process in
the crash test sees the same account. It enforces RingCentral's Heavy (10/min) and Light (50/min)
limits with sliding windows and counts every 429 it sends.

``FaultyCrm`` wraps a real adapter (the Local CRM) and, at a seeded rate, answers 429 with a
Retry-After, 5xx, a timeout before the request, or a connection reset *after* the CRM did the
work (the case that creates duplicates if a client retries blindly). It records when each
penalty ends and counts requests that arrived too early.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from adapters.base import CrmAdapter, Manifest, RateLimited, TransientError
from adapters.models import Call, CallLogRef, Contact, FieldValue, LogEntry, LogUpdate, StoredCallLog
from desktop.engine.ports import Clock


@dataclass(frozen=True)
class ScriptedCall:
    call: Call
    appear: datetime
    recording_at: datetime | None = None
    insights_at: datetime | None = None
    #: Until then the record says "In Progress" with no duration; None: final from the start.
    final_at: datetime | None = None
    raw_insights: Mapping[str, Any] | None = None


@dataclass
class Batch:
    records: Sequence[Call]
    sync_token: str
    full: bool


@dataclass
class FoundInsights:
    raw: Mapping[str, Any]


def insights_for(recording_id: str, summary: str) -> dict[str, Any]:
    return {
        "sourceRecordId": recording_id,
        "title": "Call recap",
        "insights": {
            "Summary": [{"value": summary}],
            "Transcript": [
                {"speakerId": "p-1-1", "start": 0.5, "end": 3.0, "text": "Hello, thanks for calling."},
                {"speakerId": "p-1-2", "start": 3.2, "end": 6.0, "text": f"About {summary}."},
            ],
        },
        "speakerInfo": [{"speakerId": "p-1-1", "name": "Dana Agent"}, {"speakerId": "p-1-2", "name": "Caller"}],
    }


class _Window:
    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.sent: deque[datetime] = deque()
        self.penalty_until: datetime | None = None
        #: Requests that arrived while a penalty (a Retry-After) was running.
        self.too_early = 0

    def admit(self, now: datetime) -> float | None:
        """None when the request is allowed; else the Retry-After to send."""
        if self.penalty_until is not None and now < self.penalty_until:
            # Every request in the penalty window restarts it (RingCentral's rule).
            self.too_early += 1
            self.penalty_until = now + timedelta(seconds=60)
            return 60.0
        horizon = now - timedelta(seconds=self.seconds)
        while self.sent and self.sent[0] <= horizon:
            self.sent.popleft()
        if len(self.sent) >= self.limit:
            self.penalty_until = now + timedelta(seconds=60)
            return 60.0
        self.sent.append(now)
        return None


@dataclass
class SimulatedRingCentral:
    """A scripted RingCentral account implementing the engine's ``CallSource``."""

    clock: Clock
    script: list[ScriptedCall]
    fault_rate: float = 0.0
    seed: int = 0
    heavy_limit: int = 10
    light_limit: int = 50
    requests: dict[str, int] = field(default_factory=lambda: {"heavy": 0, "light": 0})
    rate_limited: int = 0
    injected: int = 0
    #: While True every request fails as if the network were down.
    offline: bool = False

    @property
    def too_early(self) -> int:
        """Requests sent while a Retry-After was running (must stay 0)."""
        return self._heavy.too_early + self._light.too_early

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._heavy = _Window(self.heavy_limit, 60.0)
        self._light = _Window(self.light_limit, 60.0)
        self._by_recording = {s.call.recording.id: s for s in self.script if s.call.recording is not None}

    def _gate(self, group: str) -> None:
        now = self.clock.now()
        if self.offline:
            raise TransientError("Could not reach RingCentral; will retry.")
        self.requests[group] += 1
        window = self._heavy if group == "heavy" else self._light
        retry = window.admit(now)
        if retry is not None:
            self.rate_limited += 1
            raise RateLimited("RingCentral asks to slow down.", retry_after=retry, status=429)
        if self.fault_rate and self._rng.random() < self.fault_rate:
            self.injected += 1
            roll = self._rng.random()
            if roll < 0.25:
                retry = float(self._rng.choice([5, 15, 30, 60]))
                window.penalty_until = now + timedelta(seconds=retry)
                raise RateLimited("RingCentral asks to slow down.", retry_after=retry, status=429)
            if roll < 0.6:
                raise TransientError("RingCentral had a server error (503); will retry.", status=503)
            raise TransientError("RingCentral did not answer in time; will retry.")

    def record_at(self, s: ScriptedCall, now: datetime) -> Call:
        """The record as RingCentral shows it at ``now``: recording attached once it is ready."""
        updates: dict[str, Any] = {}
        if s.recording_at is None or now < s.recording_at:
            updates["recording"] = None
            updates["legs"] = [leg.model_copy(update={"recording": None}) for leg in s.call.legs]
        if s.final_at is not None and now < s.final_at:
            updates["duration"] = None
            updates["duration_ms"] = None
            updates["result"] = "In Progress"
        return s.call.model_copy(update=updates)

    def _changed_at(self, s: ScriptedCall) -> list[datetime]:
        return [t for t in (s.appear, s.final_at, s.recording_at) if t is not None]

    def sync_call_log(self, sync_token: str | None) -> Batch:
        self._gate("heavy")
        now = self.clock.now()
        if sync_token is None:
            records = [self.record_at(s, now) for s in self.script if s.appear <= now]
            return Batch(records, now.isoformat(), True)
        since = datetime.fromisoformat(sync_token)
        records = [
            self.record_at(s, now) for s in self.script if any(since < t <= now for t in self._changed_at(s))
        ]
        return Batch(records, now.isoformat(), False)

    def get_call(self, call_id: str) -> Call:
        self._gate("heavy")
        now = self.clock.now()
        for s in self.script:
            if s.call.id == call_id and s.appear <= now:
                return self.record_at(s, now)
        raise LookupError(call_id)

    def get_insights(self, recording_id: str) -> FoundInsights | None:
        self._gate("light")
        s = self._by_recording.get(recording_id)
        now = self.clock.now()
        if s is None or s.insights_at is None or now < s.insights_at or s.raw_insights is None:
            return None
        return FoundInsights(s.raw_insights)

    def next_event(self, after: datetime) -> datetime | None:
        """The next moment something changes in the account (for driving loops)."""
        times = [
            t
            for s in self.script
            for t in (s.appear, s.final_at, s.recording_at, s.insights_at)
            if t is not None and t > after
        ]
        return min(times) if times else None


class FaultyCrm:
    """Wraps a CRM adapter; fails a seeded share of requests the way real CRMs and networks do.

    Args:
        inner: the real adapter (its state is what the tests check).
        clock: simulated time, to check that Retry-After is honoured.
        rate: share of requests that fail.
        seed: the random seed.
        person_edit: called with the log id right before each update reaches the CRM (a person
            editing the record between our read and our write).
    """

    manifest: ClassVar[Manifest]

    def __init__(
        self,
        inner: CrmAdapter,
        clock: Clock,
        *,
        rate: float = 0.2,
        seed: int = 0,
        person_edit: Callable[[str], None] | None = None,
    ) -> None:
        self.inner = inner
        self.clock = clock
        self.rate = rate
        self._rng = random.Random(seed)
        self.person_edit = person_edit
        self.penalty_until: datetime | None = None
        self.too_early = 0
        self.injected: dict[str, int] = {}
        self.requests = 0
        #: While True every request fails as if the network were down.
        self.offline = False

    def __getattribute__(self, name: str) -> Any:
        if name == "manifest":
            return object.__getattribute__(self, "inner").manifest
        return object.__getattribute__(self, name)

    def _before(self) -> str | None:
        """Raises a failure that happens before the CRM acts; returns "reset" for one after."""
        now = self.clock.now()
        if self.offline:
            raise TransientError("Could not reach the CRM; will retry.")
        self.requests += 1
        if self.penalty_until is not None and now < self.penalty_until:
            self.too_early += 1
            raise RateLimited("Too early.", retry_after=(self.penalty_until - now).total_seconds(), status=429)
        if self._rng.random() >= self.rate:
            return None
        kind = self._rng.choice(["429", "500", "timeout", "reset"])
        self.injected[kind] = self.injected.get(kind, 0) + 1
        if kind == "429":
            retry = float(self._rng.choice([1, 2, 5, 10, 30]))
            self.penalty_until = now + timedelta(seconds=retry)
            raise RateLimited("The CRM asks to slow down.", retry_after=retry, status=429)
        if kind == "500":
            raise TransientError("The CRM had a server error (500); will retry.", status=500)
        if kind == "timeout":
            raise TransientError("The CRM did not answer in time; will retry.")
        return "reset"

    def _call(self, fn: Callable[[], Any]) -> Any:
        after = self._before()
        result = fn()
        if after == "reset":
            raise TransientError("Could not reach the CRM (connection reset); will retry.")
        return result

    def verify(self) -> str:
        return str(self._call(self.inner.verify))

    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        out: list[Contact] = self._call(lambda: self.inner.find_contact(phone, is_extension=is_extension))
        return out

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        out: CallLogRef = self._call(lambda: self.inner.create_call_log(call, contact, entry))
        return out

    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        out: StoredCallLog = self._call(lambda: self.inner.get_call_log(ref))
        return out

    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        def run() -> StoredCallLog:
            if self.person_edit is not None:
                self.person_edit(ref.log_id)
            return self.inner.update_call_log(ref, change, expected_version=expected_version)

        out: StoredCallLog = self._call(run)
        return out

    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        self._call(lambda: self.inner.upsert_disposition(ref, values))

    def find_call_log(self, call: Call) -> CallLogRef | None:
        out: CallLogRef | None = self._call(lambda: self.inner.find_call_log(call))
        return out

    def close(self) -> None:
        self.inner.close()
