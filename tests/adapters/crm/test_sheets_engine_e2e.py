# SPDX-License-Identifier: MIT
"""Google Sheets under the real engine: a recorded call is auto-logged as a row, a person inserts
rows above it and edits its note in the spreadsheet just before the app reads that row again, and
the poller completes the row (duration, recording, AI note) without losing the edit or touching
the person's rows.

The engine runs on a manual clock against a scripted RingCentral; the fake Google follows the same
clock (its per-minute quotas and token expiry included) and is reached under Google's host names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx

from tests.adapters.crm.test_sheets import GOOGLE_HOSTS, SheetsHarness
from tests.engine.world import World, all_settled, drive
from tests.fakes.loopback import HostRouter
from tests.fakes.sheets import SheetsFake

PHONE = "+14155550123"
PERSON_LINE = "Typed in the spreadsheet by a person between the app's read and write"
_ROW_READ = re.compile(r"/values/Calls!A(\d+):N\1$")


class EditBeforeNextRowRead:
    """Wraps the fake's handler: once armed, a person edits the sheet just before the app's next
    read of a call's row (``Calls!A<r>:N<r>``), so the app's write that follows sees a changed row."""

    def __init__(self, handler: Callable[[httpx.Request], httpx.Response]) -> None:
        self._handler = handler
        self.edit: Callable[[], None] | None = None
        self.fired = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.edit is not None and request.method == "GET" and _ROW_READ.search(request.url.path):
            edit, self.edit = self.edit, None
            edit()
            self.fired += 1
        return self._handler(request)


def test_a_call_logged_by_the_engine_keeps_a_persons_edit_and_their_rows(tmp_path: Path) -> None:
    # Given a contact in the sheet and a recorded call that gets its AI note later
    world = World(tmp_path)
    fake = SheetsFake(clock=world.clock.now)
    race = EditBeforeNextRowRead(fake.handler)
    transport = httpx.MockTransport(HostRouter({host: race for host in GOOGLE_HOSTS}))
    harness = SheetsHarness(fake, client=httpx.Client(transport=transport))
    harness.add_contact("Ada Lovelace", "(415) 555-0123")
    call = world.add_call(phone=PHONE, recording_after=120.0, insights_after=600.0, summary="a billing question")
    rc = world.rc()
    engine = world.engine(rc, adapter=harness.adapter, auto_log=True)
    try:
        # When the engine auto-logs the call
        drive(engine, world.clock, rc, until=lambda: any(r.url.path.endswith(":append") for r in fake.requests))
        assert fake.row_number(call.session_id) == 2
        # a person inserts two rows above it, and edits its note just before the app reads it again
        fake.person_inserts_rows(2, [["a person's own row", "", "kept as typed"], ["another one"]])
        race.edit = lambda: fake.person_edits_call(call.session_id, note=lambda note: note + f"\n{PERSON_LINE}\n")
        # and the poller fills in what RingCentral finishes later
        drive(
            engine,
            world.clock,
            rc,
            until=lambda: all_settled(engine) and world.clock.now() > world.script[0].appear + timedelta(seconds=700),
        )
    finally:
        engine.close()
        harness.close()
    # Then the edit landed between a read and a write of the app, and survived beside the final values
    assert race.fired == 1
    assert fake.row_number(call.session_id) == 4
    [first, second, row] = fake.rows()
    assert PERSON_LINE in row["Note"]
    assert "a billing question" in row["Note"] and "pending" not in row["Note"].lower()
    assert "a billing question" in row["AI note"]
    assert (row["Duration (s)"], row["Contact"], row["Direction"]) == ("194", "Ada Lovelace", "Inbound")
    # the person's rows are as they typed them
    assert (first["Session ID"], first["Start time (UTC)"]) == ("a person's own row", "kept as typed")
    assert first["Note"] == ""
    assert (second["Session ID"], second["Note"]) == ("another one", "")
    # the app's first write after the edit was refused (the row's digest moved) and read again
    after_append = [f"{r.method} {r.url.path.rpartition('!')[2]}" for r in fake.api_requests()]
    after_append = after_append[after_append.index("POST A:N:append") + 1 :]
    first_write = after_append.index("PUT A4:N4")
    assert after_append[:first_write].count("GET A4:N4") >= 2
    # and the call was appended once, then only ever written into its own row
    assert sum(1 for r in fake.requests if r.url.path.endswith(":append")) == 1
    puts = {r.url.path.rpartition("!")[2] for r in fake.api_requests() if r.method == "PUT"}
    assert puts <= {"A1:N1", "A2:N2", "A4:N4"} and "A4:N4" in puts
