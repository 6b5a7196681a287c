# SPDX-License-Identifier: MIT
"""The call lifecycle's cost in CRM requests, and how fast a backlog drains within rate limits.

1. One call's lifecycle: logged while in progress, then the final duration (+30 s), the recording
   (+200 s), the AI note (+900 s) and the transcript arrive. Logdesk's CRM requests are counted
   next to App Connect's pattern for the same arrivals: a create, then a read plus a write for
   each artifact update.
2. Backlog: 500 logged calls whose recordings, AI notes and transcripts become ready at once.
   Simulated seconds until every log is complete, against the minimum RingCentral's Light budget
   (50/min for RingSense insights), its Heavy budget (10/min for call-log-sync) and the CRM's
   limit (100 requests / 10 s here) allow. Zero 429 responses expected.
3. Per CRM (Local, HubSpot, Pipedrive, Salesforce, Zoho, Clio, each its fake behind the real
   adapter): a live call auto-logged at connect (the create, duration pending), the final duration
   at the hang-up, the recording with the call-log record (20 s after the hang-up, read 30 s
   after it), the AI note and transcript pushed 10 minutes later
   (``tests/adapters/crm/live_lifecycle.py``). Counted: the requests that create, read or write
   the call's log (and Clio's time entry), at the fake. Target: 4. Also shown: the same call with
   the recording 3 minutes after the hang-up (read 4.5 minutes after it, past the 2-minute settle
   window: three batches), and how long after the hang-up the final duration is in the CRM (its
   own field or the note) and in the note itself (where writing the note costs a read, the note
   waits for the AI note while the CRM's own duration field has it at once).

Simulated time: a manual clock drives the engine; the Local CRM and the engine's store are real
SQLite files in a temporary directory.
"""

from __future__ import annotations

import math
import tempfile
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from adapters.base import CrmAdapter, Manifest, RateLimited
from adapters.crm.local import LocalCrm
from adapters.models import Call, CallLogRef, Contact, FieldValue, LogEntry, LogUpdate, StoredCallLog
from adapters.notes.models import NoteSettings
from bench import Result, at_most
from desktop.engine.models import Draft
from desktop.engine.ports import ManualClock
from desktop.engine.scheduler import Budgets, RateBudget, RateSpec
from desktop.engine.service import Engine
from desktop.engine.store import Store
from tests.adapters.crm.live_lifecycle import CRMS, live_lifecycle, make_crm
from tests.engine.fakes import ScriptedCall, SimulatedRingCentral, insights_for
from tests.engine.world import START, all_settled, drive, phone_for, scripted_calls

CRM_LIMIT = RateSpec(100, 10.0)
BACKLOG = 500


class LimitedCrm:
    """The Local CRM behind a vendor-style limit: a sliding window, 429 with Retry-After beyond it."""

    manifest: ClassVar[Manifest] = LocalCrm.manifest

    def __init__(self, inner: LocalCrm, clock: ManualClock, spec: RateSpec) -> None:
        self.inner = inner
        self.clock = clock
        self.spec = spec
        self.sent: deque[datetime] = deque()
        self.rejected = 0
        self.requests = 0

    def _gate(self) -> None:
        now = self.clock.now()
        while self.sent and self.sent[0] <= now - timedelta(seconds=self.spec.per_seconds):
            self.sent.popleft()
        if len(self.sent) >= self.spec.requests:
            self.rejected += 1
            wait = (self.sent[0] + timedelta(seconds=self.spec.per_seconds) - now).total_seconds()
            raise RateLimited("Too many requests.", retry_after=wait, status=429)
        self.sent.append(now)
        self.requests += 1

    def verify(self) -> str:
        self._gate()
        return self.inner.verify()

    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        self._gate()
        return self.inner.find_contact(phone, is_extension=is_extension)

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        self._gate()
        return self.inner.create_call_log(call, contact, entry)

    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        self._gate()
        return self.inner.get_call_log(ref)

    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        self._gate()
        return self.inner.update_call_log(ref, change, expected_version=expected_version)

    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        self._gate()
        self.inner.upsert_disposition(ref, values)

    def find_call_log(self, call: Call) -> CallLogRef | None:
        self._gate()
        return self.inner.find_call_log(call)

    def close(self) -> None:
        self.inner.close()


class UnversionedCrm(LimitedCrm):
    """The same CRM, as one without a version precondition (every update reads first)."""

    manifest: ClassVar[Manifest] = LocalCrm.manifest.model_copy(
        update={"capabilities": LocalCrm.manifest.capabilities.model_copy(update={"versioned_writes": False})}
    )


def _engine(root: Path, clock: ManualClock, rc: SimulatedRingCentral, crm: CrmAdapter) -> Engine:
    budgets = Budgets(crm=RateBudget("crm", CRM_LIMIT))
    return Engine(Store(root / "engine.sqlite3"), crm, rc, NoteSettings(), extension_id="400200000001",
                  clock=clock, recordings_expected=True, budgets=budgets)


def one_lifecycle(root: Path, *, versioned: bool = True) -> dict[str, Any]:
    clock = ManualClock(START)
    [scripted] = scripted_calls(1, seed=5)
    call = scripted.call
    assert call.recording is not None
    script = [
        ScriptedCall(call=call, appear=START, final_at=START + timedelta(seconds=30),
                     recording_at=START + timedelta(seconds=200), insights_at=START + timedelta(seconds=900),
                     raw_insights=insights_for(call.recording.id, "a lifecycle"))
    ]
    rc = SimulatedRingCentral(clock, script)
    local = LocalCrm.open(root / "crm.sqlite3", clock=clock.now)
    contact = local.add_contact("Ada Lovelace", call.remote.phone_number)
    crm = (LimitedCrm if versioned else UnversionedCrm)(local, clock, CRM_LIMIT)
    engine = _engine(root, clock, rc, crm)
    engine.sync()
    engine.log_call(call.id, Draft(contact_id=contact.id, contact_name=contact.name, note="Agent's note"))
    drive(engine, clock, rc, until=lambda: all_settled(engine))
    body = local.call_logs()[0].body
    assert "Agent's note" in body and "a lifecycle" in body and "(pending)" not in body
    engine.close()
    return {"requests": crm.requests, "counts": dict(engine.adapter.counts)}


def backlog(root: Path) -> dict[str, float]:
    clock = ManualClock(START)
    ready_at = START + timedelta(minutes=10)
    script: list[ScriptedCall] = []
    for s in scripted_calls(BACKLOG, seed=9, spacing=0.5):
        call = s.call
        if call.recording is None:
            # Every call in the backlog has a recording (and so an AI note and a transcript).
            raw = call.to_raw()
            rec_id = f"8{len(script):09d}"
            media = "https://media.ringcentral.com/restapi/v1.0/account/1/recording"
            raw["recording"] = {"id": rec_id, "uri": f"https://platform.ringcentral.com/r/{rec_id}",
                                "contentUri": f"{media}/{rec_id}/content"}
            call = Call.model_validate(raw)
        assert call.recording is not None
        script.append(ScriptedCall(call=call, appear=START, recording_at=ready_at, insights_at=ready_at,
                                   raw_insights=insights_for(call.recording.id, "backlog")))
    rc = SimulatedRingCentral(clock, script)
    local = LocalCrm.open(root / "crm.sqlite3", clock=clock.now)
    contacts = {phone_for(i): local.add_contact(f"C{i}", phone_for(i)) for i in range(BACKLOG)}
    crm = LimitedCrm(local, clock, CRM_LIMIT)
    engine = _engine(root, clock, rc, crm)
    engine.sync()
    for s in script:
        c = contacts[s.call.remote.phone_number or ""]
        engine.log_call(s.call.id, Draft(contact_id=c.id, contact_name=c.name, note="n"))
    drive(engine, clock, rc, until=lambda: not engine.store.count_items("queued"))
    assert clock.now() < ready_at
    assert len(local.call_logs()) == BACKLOG
    before = crm.requests
    clock.set(ready_at)
    drive(engine, clock, rc, until=lambda: all_settled(engine))
    took = (clock.now() - ready_at).total_seconds()
    crm_requests = crm.requests - before
    # The minimum: every call needs one RingSense request (Light) and at least one CRM write;
    # the changed records come in one call-log-sync (Heavy, well within its budget).
    light = RateSpec(50, 60.0)
    light_min = (math.ceil(BACKLOG / light.requests) - 1) * light.per_seconds
    crm_min = (math.ceil(BACKLOG / CRM_LIMIT.requests) - 1) * CRM_LIMIT.per_seconds
    minimum = max(light_min, crm_min)
    engine.close()
    return {
        "took": took,
        "minimum": minimum,
        "rate_limited": float(crm.rejected + rc.rate_limited),
        "crm_requests": float(crm_requests),
    }


def per_crm(*, record_after: float) -> dict[str, tuple[int, float | None, float | None]]:
    """Each built-in CRM: requests for the call's log, and seconds from the hang-up until the final
    duration was in the CRM (its own field or the note) and in the note."""
    out: dict[str, tuple[int, float | None, float | None]] = {}
    for name in CRMS:
        with _workdir() as tmp:
            crm = make_crm(name, Path(tmp))
            try:
                done = live_lifecycle(Path(tmp), crm, record_after=record_after)
            finally:
                crm.close()
        out[name] = (len(done.requests), done.duration_in_crm_after, done.duration_in_note_after)
    return out


def _seconds(value: float | None) -> float:
    return float("nan") if value is None else value


def _workdir() -> tempfile.TemporaryDirectory[str]:
    shm = Path("/dev/shm")
    return tempfile.TemporaryDirectory(prefix="logdesk-bench-", dir=shm if shm.is_dir() else None)


def run() -> list[Result]:
    with _workdir() as one:
        life = one_lifecycle(Path(one))
    with _workdir() as two:
        plain = one_lifecycle(Path(two), versioned=False)
    # App Connect: create, then for each of duration, recording, AI note, transcript: read + write.
    app_connect = 1 + 4 * 2
    with _workdir() as many:
        drained = backlog(Path(many))
    ratio = drained["took"] / drained["minimum"]
    close = per_crm(record_after=20.0)
    late = per_crm(record_after=180.0)
    crm_rows: list[Result] = []
    for name in CRMS:
        requests, in_crm, in_note = close[name]
        crm_rows += [
            at_most(f"lifecycle {name}: CRM requests, live call", float(requests), "requests", 4),
            Result(f"lifecycle {name}: CRM requests, recording 3 min after the hang-up", float(late[name][0]),
                   "requests"),
            Result(f"lifecycle {name}: hang-up to the final duration in the CRM", _seconds(in_crm), "s"),
            Result(f"lifecycle {name}: hang-up to the final duration in the note", _seconds(in_note), "s"),
        ]
    return [
        Result("lifecycle: CRM requests, Logdesk", float(life["requests"]), "requests", f"< {app_connect}",
               life["requests"] < app_connect),
        Result("lifecycle: CRM requests, Logdesk, CRM without versions", float(plain["requests"]), "requests",
               f"< {app_connect}", plain["requests"] < app_connect),
        Result("lifecycle: CRM requests, App Connect pattern", float(app_connect), "requests"),
        Result(f"backlog {BACKLOG}: simulated seconds to complete", drained["took"], "s"),
        Result(f"backlog {BACKLOG}: rate-limit minimum", drained["minimum"], "s"),
        at_most(f"backlog {BACKLOG}: time / minimum", ratio, "x", 1.2),
        at_most(f"backlog {BACKLOG}: 429 responses", drained["rate_limited"], "responses", 0),
        Result(f"backlog {BACKLOG}: CRM requests", drained["crm_requests"], "requests"),
        *crm_rows,
    ]
