# SPDX-License-Identifier: MIT
"""One live call's whole CRM lifecycle through the real engine, for every built-in CRM.

The call rings, connects (auto-log creates the log, duration pending, a recording under way),
ends (the final duration), its call-log record brings the recording ``record_after`` seconds
later (read 30 s after the hang-up, as with push events on), and RingSense pushes the AI note and
the transcript ``insights_after`` seconds after the end. Each CRM is its fake (or the Local CRM's
SQLite file) behind the real adapter; the requests that create, read or write the call's log
(and Clio's time entry) are counted at the fake.

Used by ``tests/adapters/crm/test_live_lifecycle_e2e.py`` and ``python -m bench lifecycle``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx

from adapters.base import CrmAdapter
from adapters.models import CallLogRef
from adapters.testing import ContractHarness
from desktop.engine.service import Engine
from tests import live_events
from tests.engine.fakes import ScriptedCall, insights_for
from tests.engine.world import START, World, all_settled

AGENT_EXT = "400200000001"
CALLER = "+14155550123"
SESSION = "8800000077"
TSID = "s-a0e7b361acc0z19cz00077"
RECORDING_ID = "7700000077"
SUMMARY = "a renewal at the old price"

#: The built-in CRMs, in the order the benchmark lists them.
CRMS = ("local", "hubspot", "pipedrive", "salesforce", "zoho", "clio", "bullhorn", "insightly", "sheets")


@dataclass
class CrmUnderTest:
    """A CRM adapter with its fake, and how to count the requests for call logs it received."""

    name: str
    harness: ContractHarness
    log_requests: Callable[[], list[tuple[str, str]]]

    @property
    def adapter(self) -> CrmAdapter:
        adapter: CrmAdapter = self.harness.adapter
        return adapter

    def close(self) -> None:
        self.harness.close()


class _CountingLocal:
    """The Local CRM's adapter, counting what would be requests to a CRM on the network."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str]] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name in ("create_call_log", "get_call_log", "update_call_log", "upsert_disposition", "find_call_log"):
            def counted(*args: Any, **kwargs: Any) -> Any:
                self.calls.append((name, "local"))
                return target(*args, **kwargs)
            return counted
        return target


def _on_calls_tab(url: httpx.URL) -> bool:
    """A values read or write of the spreadsheet's Calls tab below its header row (the header is
    checked, and written into an empty tab, once per connection: setup, not a call's log)."""
    path = unquote(url.path)
    _, values, cells = path.partition("/values/")
    tab, _, a1 = cells.partition("!")
    return bool(values) and tab == "Calls" and a1 not in ("1:1", "A1:N1")


def make_crm(name: str, tmp: Path) -> CrmUnderTest:
    """The CRM ``name`` (one of :data:`CRMS`) on its fake, with a contact for :data:`CALLER`."""
    # Imported here: each harness module pulls in its fake and its adapter.
    if name == "local":
        from tests.adapters.crm.test_local_contract import LocalHarness

        local = LocalHarness(tmp / "local-crm.sqlite3")
        counting = _CountingLocal(local.adapter)
        local.adapter = counting  # type: ignore[assignment]
        crm = CrmUnderTest(name, local, lambda: list(counting.calls))
    elif name == "hubspot":
        from tests.adapters.crm.test_hubspot import HubSpotHarness

        hs = HubSpotHarness()
        crm = CrmUnderTest(name, hs, lambda: [
            (r.method, r.path) for r in hs.fake.requests
            if r.path.startswith("/crm/v3/objects/calls") and not r.path.endswith("/search")
        ])
    elif name == "pipedrive":
        from tests.adapters.crm.test_pipedrive import PipedriveHarness

        pd = PipedriveHarness()
        crm = CrmUnderTest(name, pd, lambda: [
            (r.method, r.path) for r in pd.fake.requests if r.path.startswith("/api/v2/activities")
        ])
    elif name == "salesforce":
        from tests.adapters.crm.test_salesforce import SalesforceHarness

        sf = SalesforceHarness()
        crm = CrmUnderTest(name, sf, lambda: [
            (r.method, r.url.path) for r in sf.seen
            if "/sobjects/Task" in r.url.path or r.url.path.endswith("/composite")
        ])
    elif name == "zoho":
        from tests.adapters.crm.test_zoho import ZohoHarness

        zo = ZohoHarness()
        crm = CrmUnderTest(name, zo, lambda: [
            (r.method, r.url.path) for r in zo.fake.requests if r.url.path.startswith("/crm/v8/Calls")
        ])
    elif name == "clio":
        from tests.adapters.crm.test_clio import ClioHarness

        cl = ClioHarness()
        crm = CrmUnderTest(name, cl, lambda: [
            (r.method, r.url.path) for r in cl.fake.requests
            if r.url.path.startswith(("/api/v4/communications", "/api/v4/activities"))
        ])
    elif name == "bullhorn":
        from tests.adapters.crm.test_bullhorn import BullhornHarness

        bh = BullhornHarness()
        crm = CrmUnderTest(name, bh, lambda: [
            (r.method, r.url.path) for r in bh.fake.requests
            if any(f"/{kind}/Note" in r.url.path for kind in ("entity", "search", "query"))
        ])
    elif name == "insightly":
        from tests.adapters.crm.test_insightly import InsightlyHarness

        ins = InsightlyHarness()
        crm = CrmUnderTest(name, ins, lambda: [
            (r.method, r.url.path) for r in ins.fake.requests if r.url.path.startswith("/v3.1/Events")
        ])
    elif name == "sheets":
        from tests.adapters.crm.test_sheets import SheetsHarness

        sh = SheetsHarness()
        crm = CrmUnderTest(name, sh, lambda: [
            (r.method, unquote(r.url.path)) for r in sh.fake.requests if _on_calls_tab(r.url)
        ])
    else:
        raise ValueError(f"no CRM {name!r}; choose one of {', '.join(CRMS)}")
    crm.harness.add_contact("Ben Okafor", CALLER)
    return crm


@dataclass
class Lifecycle:
    """What one call's lifecycle cost and left in the CRM."""

    requests: list[tuple[str, str]]
    body: str
    #: Seconds after the hang-up at which the CRM's note first showed the final duration.
    duration_in_note_after: float | None
    #: Seconds after the hang-up at which the CRM first held it anywhere (its own field, or the note).
    duration_in_crm_after: float | None = None
    #: Lines a person added in the CRM between the app's writes.
    person_lines: list[str] = field(default_factory=list)


def live_lifecycle(
    tmp: Path,
    crm: CrmUnderTest,
    *,
    talk: int = 200,
    record_after: float = 20.0,
    insights_after: float = 600.0,
    person_edits: bool = False,
) -> Lifecycle:
    """Runs the call described in the module docstring through an engine with push events on.

    ``person_edits``: after every write of the app to the log, a person adds a line of their own
    in the CRM before the app's next request.
    """
    world = World(tmp)
    live = live_events.LiveScript(extension_id=AGENT_EXT, tsid=TSID, session_id=SESSION, caller=CALLER)
    end = START + timedelta(seconds=talk)
    record = live.record(start=START, duration=talk, recording=True)
    raw = record.to_raw()
    raw["recording"]["id"] = RECORDING_ID
    record = type(record).model_validate(raw)
    appear = end + timedelta(seconds=record_after)
    world.script.append(ScriptedCall(call=record, appear=appear, recording_at=appear))
    rc = world.rc()
    engine = world.engine(rc, adapter=crm.adapter, auto_log=True, recordings_expected=False)
    engine.set_push(calls=True, insights=True)
    under_way = [{"id": RECORDING_ID, "active": True}]
    pushed: list[tuple[datetime, Callable[[], object]]] = [
        (START, lambda: engine.live_event(live.event("Setup", START))),
        (START + timedelta(seconds=5),
         lambda: engine.live_event(live.event("Answered", START + timedelta(seconds=5), recordings=under_way))),
        (end, lambda: engine.live_event(live.event("Disconnected", end))),
        (end + timedelta(seconds=insights_after),
         lambda: engine.insights_event(insights_for(RECORDING_ID, SUMMARY))),
    ]
    lines: list[str] = []
    writes_seen = 0
    duration_in_note: float | None = None
    duration_in_crm: float | None = None
    try:
        for _ in range(10_000):
            now = world.clock.now()
            while pushed and pushed[0][0] <= now:
                pushed.pop(0)[1]()
            engine.tick()
            ref = _ref(engine)
            if ref is not None:
                raw_log = crm.harness.read_log_raw(ref)
                body = str(raw_log["body"])
                in_note = "3 minutes, 20 seconds" in body
                if duration_in_note is None and now >= end and in_note:
                    duration_in_note = (now - end).total_seconds()
                if duration_in_crm is None and now >= end and (in_note or raw_log.get("duration_seconds")):
                    duration_in_crm = (now - end).total_seconds()
                writes = sum(1 for method, _ in crm.log_requests() if method not in ("GET", "get_call_log"))
                if person_edits and writes > writes_seen:
                    line = f"Typed in the CRM by a person, {len(lines) + 1}"
                    crm.harness.person_edits_log(ref, body=lambda b, line=line: f"{b}\n{line}\n")
                    lines.append(line)
                writes_seen = writes
            if not pushed and all_settled(engine):
                break
            due = engine.next_due()
            candidates = [t for t in (due, rc.next_event(now), pushed[0][0] if pushed else None) if t is not None]
            if not candidates:
                raise AssertionError("the engine has nothing to do, but the call is not complete")
            world.clock.set(max(min(candidates), now + timedelta(milliseconds=1)))
        else:
            raise AssertionError("the call's lifecycle did not complete")
        ref = _ref(engine)
        assert ref is not None
        body = str(crm.harness.read_log_raw(ref)["body"])
        return Lifecycle(requests=crm.log_requests(), body=body, duration_in_note_after=duration_in_note,
                         duration_in_crm_after=duration_in_crm, person_lines=lines)
    finally:
        engine.close()
        world.crm.close()


def _ref(engine: Engine) -> CallLogRef | None:
    links = [link for link in engine.store.links() if link.log_id is not None]
    if not links:
        return None
    return CallLogRef(adapter_id=links[0].adapter_id, log_id=links[0].log_id or "", contact_id=links[0].contact_id)
