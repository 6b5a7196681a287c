# SPDX-License-Identifier: MIT
"""Insightly under the real engine: a recorded call is auto-logged as an Event, a person edits it
in Insightly, and the poller fills in the duration, the recording and the AI note without losing
the person's line — also when the edit lands after the poller's read and before its write
(Insightly has no write precondition: the adapter's re-read right before the PUT sees the edit,
raises ConflictError, and the engine reads, substitutes and writes again).

The engine runs on a manual clock against a scripted RingCentral; the adapter talks to the fake
over ``httpx.MockTransport``. The fake's request log shows what the lifecycle cost.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from tests.adapters.crm.test_insightly import InsightlyHarness
from tests.adapters.crm.test_zoho_clio_engine_e2e import EditBeforeNextLogRequest
from tests.engine.world import World, all_settled, drive
from tests.fakes.insightly import InsightlyFake

PHONE = "+14155550123"
PERSON_LINE = "Typed in Insightly by a person"


def _event_requests(fake: InsightlyFake) -> list[tuple[str, str]]:
    return [
        (r.method, r.url.path)
        for r in fake.api_requests()
        if r.url.path.startswith("/v3.1/Events") and not r.url.path.endswith("/Search")
    ]


def test_a_call_is_logged_a_persons_edit_kept_and_the_poller_completes_it(tmp_path: Path) -> None:
    # Given a contact in Insightly with one open opportunity, and a recorded call that gets an AI note later
    world = World(tmp_path)
    h = InsightlyHarness()
    contact_id = h.fake.add_contact("Ada", "Lovelace", phone="(415) 555-0123")
    opportunity = h.fake.add_opportunity("Renewal 2027", contact=contact_id)
    world.add_call(phone=PHONE, recording_after=120.0, insights_after=600.0, summary="a billing question")
    rc = world.rc()
    engine = world.engine(rc, adapter=h.adapter, auto_log=True)
    try:
        # When the engine auto-logs the call and a person then adds a line in Insightly
        drive(engine, world.clock, rc, until=lambda: bool(h.fake.events))
        [event_id] = h.fake.events
        h.fake.person_edits(event_id, details=h.fake.events[event_id]["DETAILS"] + f"\n{PERSON_LINE}\n")
        # and the poller fills in what RingCentral finishes later
        drive(
            engine,
            world.clock,
            rc,
            until=lambda: all_settled(engine) and world.clock.now() > world.script[0].appear + timedelta(seconds=700),
        )
    finally:
        engine.close()
        h.close()
    # Then the event holds the person's line beside the final values, with its links and defaults
    event = h.fake.events[event_id]
    assert PERSON_LINE in event["DETAILS"]
    assert "a billing question" in event["DETAILS"]
    assert "pending" not in event["DETAILS"].lower()
    assert [(x["LINK_OBJECT_NAME"], x["LINK_OBJECT_ID"]) for x in event["LINKS"]] == [
        ("Contact", contact_id),
        ("Opportunity", opportunity),  # the contact's only open opportunity: what auto-log picks
    ]
    assert h.fake.custom_value(event_id, "Call_Result__c") == "Connected"  # the drop-down's default in Insightly
    assert (event["START_DATE_UTC"], event["END_DATE_UTC"]) == (
        world.script[0].call.start_time.strftime("%Y-%m-%d %H:%M:%S"),
        (world.script[0].call.start_time + timedelta(seconds=194)).strftime("%Y-%m-%d %H:%M:%S"),
    )
    # and the lifecycle cost one create, then per poller batch the adapter's read right before its
    # write; the person's edit cost once more: the re-read that saw it refused the write, and the
    # engine read again before substituting
    methods = [m for m, _ in _event_requests(h.fake)]
    assert methods[0] == "POST" and methods.count("POST") == 1
    assert all(methods[i - 1] == "GET" for i, m in enumerate(methods) if m == "PUT")
    assert methods.count("PUT") >= 1 and methods.count("GET") == methods.count("PUT") + 2


def test_an_edit_between_the_pollers_read_and_write_is_kept(tmp_path: Path) -> None:
    # Given a recorded call, auto-logged into Insightly
    world = World(tmp_path)
    fake = InsightlyFake()
    race = EditBeforeNextLogRequest(
        fake.handler, lambda r: r.url.path.startswith("/v3.1/Events") and not r.url.path.endswith("/Search")
    )
    h = InsightlyHarness(fake, client=httpx.Client(transport=httpx.MockTransport(race)))
    h.add_contact("Ada Lovelace", PHONE)
    world.add_call(phone=PHONE, recording_after=120.0, insights_after=600.0, summary="a billing question")
    rc = world.rc()
    engine = world.engine(rc, adapter=h.adapter, auto_log=True)
    try:
        drive(engine, world.clock, rc, until=lambda: bool(fake.events))
        [event_id] = fake.events
        # When a person edits the event just before the poller's next request for it (the engine
        # holds the note for one read and one write, trusting the body it created; the adapter's
        # re-read before its PUT is what sees the edit)
        race.edit = lambda: fake.person_edits(event_id, details=fake.events[event_id]["DETAILS"] + f"\n{PERSON_LINE}\n")
        drive(
            engine,
            world.clock,
            rc,
            until=lambda: all_settled(engine) and world.clock.now() > world.script[0].appear + timedelta(seconds=700),
        )
    finally:
        engine.close()
        h.close()
    # Then the edit landed before the poller's write, which was refused and done again over it
    assert race.fired == 1
    # (after the create: the re-read that saw the edit, the engine's read, the re-read, the write)
    assert race.answers[1:] == [("GET", 200)] * 3 + [("PUT", 200)]
    final = fake.events[event_id]["DETAILS"]
    assert PERSON_LINE in final
    assert "a billing question" in final
    assert "pending" not in final.lower()
