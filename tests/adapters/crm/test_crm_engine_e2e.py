# SPDX-License-Identifier: MIT
"""HubSpot and Pipedrive under the real engine: a call is auto-logged, a person edits the note in
the CRM, the poller fills in the recording and the AI note, and the person's edit survives.

The engine runs on a manual clock against a scripted RingCentral; each adapter talks to its fake
over ``httpx.MockTransport``. The request logs show what the lifecycle cost in CRM requests.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.base import CrmAdapter
from tests.adapters.crm.test_hubspot import HubSpotHarness
from tests.adapters.crm.test_pipedrive import PipedriveHarness
from tests.engine.world import World, all_settled, drive

PHONE = "+14155550123"
PERSON_LINE = "Typed in the CRM by a person"


Made = tuple[CrmAdapter, Callable[[], dict[str, Any]], Callable[[str], None], Any]


def _hubspot() -> Made:
    h = HubSpotHarness()
    h.add_contact("Ada Lovelace", PHONE)

    def stored() -> dict[str, Any]:
        [call] = h.fake.calls.values()
        return {"body": call["properties"].get("hs_call_body", ""),
                "recording": call["properties"].get("hs_call_recording_url")}

    def person_edits(line: str) -> None:
        [call_id] = h.fake.calls
        h.fake.edit_call(call_id, body=h.fake.calls[call_id]["properties"]["hs_call_body"] + f"<p>{line}</p>")

    return h.adapter, stored, person_edits, h


def _pipedrive() -> Made:
    h = PipedriveHarness()
    h.add_contact("Ada Lovelace", PHONE)

    def stored() -> dict[str, Any]:
        [activity] = h.fake.activities.values()
        return {"body": activity["note"] or "", "recording": None}

    def person_edits(line: str) -> None:
        [activity_id] = h.fake.activities
        h.fake.edit_activity(activity_id, note=(h.fake.activities[activity_id]["note"] or "") + f"<p>{line}</p>")

    return h.adapter, stored, person_edits, h


@pytest.mark.parametrize("make", [_hubspot, _pipedrive], ids=["hubspot", "pipedrive"])
def test_call_lifecycle_through_the_engine_keeps_the_persons_edit(tmp_path: Path, make: Any) -> None:
    # Given a contact in the CRM and a recorded call that gets an AI note later
    world = World(tmp_path)
    adapter, stored, person_edits, harness = make()
    world.add_call(phone=PHONE, recording_after=120.0, insights_after=600.0, summary="a billing question")
    rc = world.rc()
    engine = world.engine(rc, adapter=adapter, auto_log=True)
    try:
        # When the engine auto-logs the call
        drive(engine, world.clock, rc, until=lambda: any(
            r.method == "POST" and not r.path.endswith("/search") for r in harness.fake.requests))
        person_edits(PERSON_LINE)
        # and the poller fills in what RingCentral finishes later
        drive(engine, world.clock, rc, until=lambda: all_settled(engine)
              and world.clock.now() > world.script[0].appear + timedelta(seconds=700))
    finally:
        engine.close()
        harness.close()
    # Then the person's line is still there beside the final values
    final = stored()
    assert PERSON_LINE in final["body"]
    assert "a billing question" in final["body"]
    assert "pending" not in final["body"].lower()
    # and the whole lifecycle cost one create, the CRM's own recording field written at once
    # (HubSpot's; Pipedrive has none), then one read and one write for the note: the note is
    # never written without reading it first, since neither CRM has a write precondition.
    log_requests = [
        r for r in harness.fake.requests
        if r.path.startswith(("/crm/v3/objects/calls", "/api/v2/activities")) and not r.path.endswith("/search")
    ]
    methods = [r.method for r in log_requests]
    assert methods[0] == "POST" and methods.count("POST") == 1
    note_writes = [
        i for i, r in enumerate(log_requests)
        if r.method == "PATCH" and ("note" in (r.json or {}) or "hs_call_body" in (r.json or {}).get("properties", {}))
    ]
    assert note_writes and all(methods[i - 1] == "GET" for i in note_writes)
    if make is _hubspot:
        assert methods == ["POST", "PATCH", "GET", "PATCH"]
        assert (final["recording"] or "").startswith("https://")  # the structured field, too
    else:
        assert methods == ["POST", "GET", "PATCH"]
