# SPDX-License-Identifier: MIT
"""Bullhorn under the real engine: a call is auto-logged as a Note, a person edits the note in
Bullhorn, the poller fills in the recording and the AI note, and the person's edit survives —
also when the edit lands between the engine's last read and its write.

Bullhorn has no write precondition, so the adapter reads the note right before each ``POST`` and
reports a changed version as a conflict; the engine then reads, substitutes and writes again.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx

from tests.adapters.crm.test_bullhorn import BullhornHarness
from tests.adapters.crm.test_zoho_clio_engine_e2e import EditBeforeNextLogRequest
from tests.engine.world import World, all_settled, drive
from tests.fakes.bullhorn import BullhornFake

PHONE = "+14155550123"
PERSON_LINE = "Typed in Bullhorn by a person"


def _note_requests(fake: BullhornFake) -> list[tuple[str, str]]:
    return [
        (r.method, r.url.path.rsplit("/", 2)[-2])
        for r in fake.api_requests()
        if "/entity/Note" in r.url.path
    ]


def test_a_call_is_logged_and_completed_by_the_poller_keeping_a_persons_edit(tmp_path: Path) -> None:
    # Given a contact in Bullhorn and a recorded call that gets an AI note later
    world = World(tmp_path)
    h = BullhornHarness()
    h.add_contact("Ada Lovelace", PHONE)
    world.add_call(phone=PHONE, recording_after=120.0, insights_after=600.0, summary="a billing question")
    rc = world.rc()
    engine = world.engine(rc, adapter=h.adapter, auto_log=True)
    try:
        # When the engine auto-logs the call
        drive(engine, world.clock, rc, until=lambda: bool(h.fake.notes()))
        [(note_id, note)] = h.fake.notes().items()
        assert note["personReference"] == int(next(iter(h.fake.records["ClientContact"])))
        assert note["action"] == "Inbound Call", "auto-log writes the direction's default action"
        # and a person adds a line in Bullhorn
        h.fake.person_edits(note_id, comments=note["comments"] + f"<p>{PERSON_LINE}</p>")
        # and the poller fills in what RingCentral finishes later
        drive(engine, world.clock, rc, until=lambda: all_settled(engine)
              and world.clock.now() > world.script[0].appear + timedelta(seconds=700))
    finally:
        engine.close()
        h.close()
    # Then the person's line is still there beside the final values
    final = h.fake.notes()[note_id]["comments"]
    assert PERSON_LINE in final
    assert "a billing question" in final
    assert "pending" not in final.lower() and "being processed" not in final
    assert h.fake.notes()[note_id]["minutesSpent"] == 4  # 194 s, in whole minutes
    # and the note was created once, then each batch read it before writing and read the result
    requests = _note_requests(h.fake)
    assert requests.count(("PUT", "entity")) == 1
    assert len([m for m, _ in requests if m == "POST"]) >= 1


def test_an_edit_between_the_pollers_read_and_write_is_kept(tmp_path: Path) -> None:
    # Given a recorded call that gets its AI note later, auto-logged into Bullhorn
    fake = BullhornFake()
    race = EditBeforeNextLogRequest(fake.handler, lambda r: "/entity/Note/" in r.url.path)
    h = BullhornHarness(fake, client=httpx.Client(transport=httpx.MockTransport(race)))
    h.add_contact("Ada Lovelace", PHONE)
    world = World(tmp_path)
    world.add_call(phone=PHONE, recording_after=120.0, insights_after=600.0, summary="a billing question")
    rc = world.rc()
    engine = world.engine(rc, adapter=h.adapter, auto_log=True)
    try:
        drive(engine, world.clock, rc, until=lambda: bool(fake.notes()))
        [note_id] = fake.notes()
        race.answers.clear()
        # When a person edits the note right before the poller's next request for it
        race.edit = lambda: fake.person_edits(
            note_id, comments=fake.notes()[note_id]["comments"] + f"<p>{PERSON_LINE}</p>"
        )
        drive(engine, world.clock, rc, until=lambda: all_settled(engine)
              and world.clock.now() > world.script[0].appear + timedelta(seconds=700))
    finally:
        engine.close()
        h.close()
    # Then the edit landed before a write, the adapter's re-read caught it, and it survived
    assert race.fired == 1
    final = fake.notes()[note_id]["comments"]
    assert PERSON_LINE in final
    assert "a billing question" in final
    assert "pending" not in final.lower()
    # and no write ever went out without it: the stale one was stopped by the adapter's re-read
    written = [json.loads(r.content).get("comments") for r in fake.api_requests() if r.method == "POST"]
    assert written and all(PERSON_LINE in c for c in written if c is not None)
