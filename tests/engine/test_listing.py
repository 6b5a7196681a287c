# SPDX-License-Identifier: MIT
"""The lean calls list (desktop/engine/listing.py): the same rows and statuses as the store gives,
every call's columns in one read, nothing imported that the first paint cannot afford."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from adapters.testing.calls import inbound_call, outbound_call
from desktop.engine import listing
from desktop.engine.listing import CallListing, search_key
from desktop.engine.models import CallRow, Draft
from desktop.engine.service import Engine
from tests.engine.world import START, World, drive

TABLE_FIELDS = (
    "call_id", "session_id", "direction", "start_time", "remote_number", "remote_name", "contact_id",
    "contact_name", "duration", "result", "last_error", "crm_log_id", "unlogged_reason",
)


def _as_listed(row: CallRow) -> tuple[object, ...]:
    return (*(getattr(row, f) for f in TABLE_FIELDS), row.status.value, tuple(k.value for k in row.pending))


def _listed(row: listing.ListedCall) -> tuple[object, ...]:
    return (*(getattr(row, f) for f in TABLE_FIELDS), row.status, row.pending)


def _busy_engine(tmp_path: Path) -> tuple[World, Engine]:
    """Calls in every state the table shows: logged and waiting for a recording, unlogged with the
    reason auto-log gave, unlogged with a draft naming a contact, missed, and a refused log."""
    world = World(tmp_path)
    world.contact("Ada Lovelace", "+14155550123")
    world.contact("Ada's husband", "+14155550199")
    world.contact("Ada's husband", "+14155550199")
    world.add_call(phone="+14155550123", at=0)
    world.add_call(phone="+14155550199", at=30)
    world.add_call(phone="+12125550000", at=60, result="Missed", duration=0, recording_after=None)
    world.add_call(phone="+13125550100", at=90)
    rc = world.rc()
    engine = world.engine(rc, auto_log=True)
    drive(engine, world.clock, rc,
          until=lambda: len(engine.calls()) == 4 and engine.calls()[-1].status.value != "unlogged")
    last = engine.calls()[0]
    engine.save_draft(last.call_id, Draft(contact_id="c-9", contact_name="Grace Hopper", note="typed"))
    refused = engine.calls()[1]
    with engine.store.transaction() as conn:
        conn.execute("INSERT INTO call_logs (session_id, extension_id, call_id, adapter_id, state, last_error,"
                     " created_at, updated_at) VALUES (?, ?, ?, 'local', 'failed', 'The CRM said no', 'x', 'x')"
                     " ON CONFLICT DO UPDATE SET state = 'failed', last_error = 'The CRM said no'",
                     (refused.session_id, engine.store.call_extension(refused.call_id), refused.call_id))
    return world, engine


def test_listed_rows_say_what_the_store_says_for_every_state(tmp_path: Path) -> None:
    world, engine = _busy_engine(tmp_path)
    listed = CallListing(engine.store.path)
    try:
        # Then each row carries the store's contact, status, pending artifacts and reasons
        expected = [_as_listed(r) for r in engine.store.rows()]
        assert [_listed(r) for r in listed.newest(10)] == expected
        assert {r.status for r in listed.newest(10)} >= {"pending", "unlogged", "failed"}
        assert any(r.contact_name == "Grace Hopper" and r.contact_id == "c-9" for r in listed.newest(10))
        # And reading some of them by id gives the same rows, newest first
        ids = [r.call_id for r in engine.store.rows()][1:3]
        assert [_listed(r) for r in listed.calls(list(reversed(ids)))] == expected[1:3]
        # When the recording arrives and is written, the status moves on in both
        rc = world.rc()
        drive(engine, world.clock, rc, until=lambda: world.clock.now() > START + timedelta(hours=2))
        assert [_listed(r) for r in listed.newest(10)] == [_as_listed(r) for r in engine.store.rows()]
    finally:
        listed.close()
        engine.close()


def test_the_index_has_every_calls_search_key_filter_state_and_sort_values(tmp_path: Path) -> None:
    _, engine = _busy_engine(tmp_path)
    listed = CallListing(engine.store.path)
    try:
        index = listed.index()
        rows = {r.call_id: r for r in listed.newest(10)}
        assert sorted(index.ids) == sorted(rows)
        for n, call_id in enumerate(index.ids):
            row = rows[call_id]
            name = row.contact_name or row.remote_name or ""
            assert index.keys[n] == search_key(name, row.remote_number or "")
            assert (index.names[n], index.numbers[n], index.results[n]) == (name, row.remote_number, row.result)
            assert index.durations[n] == (row.duration if row.duration is not None else -1)
            state = index.states[n]
            link = {"unlogged": listing.STATE_UNLOGGED, "failed": listing.STATE_FAILED}.get(row.status,
                                                                                        listing.STATE_LOGGED)
            assert state & listing.STATE_MASK == link
            assert (state & listing.PENDING_MASK) >> listing.PENDING_SHIFT == len(row.pending)
            assert bool(state & listing.MISSED) == (row.result == "Missed")
            assert not state & listing.OUTBOUND
    finally:
        listed.close()
        engine.close()


def test_the_order_is_newest_first_with_ties_broken_by_id(tmp_path: Path) -> None:
    from desktop.engine.store import Store

    store = Store(tmp_path / "engine.sqlite3")
    same = START - timedelta(hours=1)
    calls = [inbound_call(start_time=same), inbound_call(start_time=same), outbound_call(start_time=START)]
    store.upsert_calls(calls, "ext-1", START)
    store.close()
    listed = CallListing(tmp_path / "engine.sqlite3")
    try:
        ids, starts = listed.order()
        tied = sorted((c.id for c in calls[:2]), reverse=True)
        assert ids == [calls[2].id, *tied]
        assert starts == [listing.ts(START), listing.ts(same), listing.ts(same)]
        assert [r.call_id for r in listed.newest(3)] == ids
    finally:
        listed.close()


def test_a_name_holding_the_column_separator_is_read_row_by_row(tmp_path: Path) -> None:
    from desktop.engine.store import Store

    store = Store(tmp_path / "engine.sqlite3")
    odd, plain = inbound_call(caller_name="Odd\x01Name"), inbound_call(caller_name="Plain")
    store.upsert_calls([odd, plain], "ext-1", START)
    store.close()
    listed = CallListing(tmp_path / "engine.sqlite3")
    try:
        index = listed.index()
        assert dict(zip(index.ids, index.names, strict=True)) == {odd.id: "Odd\x01Name", plain.id: "Plain"}
    finally:
        listed.close()


def test_no_database_yet_lists_nothing_and_creates_no_file(tmp_path: Path) -> None:
    missing = tmp_path / "engine.sqlite3"
    assert CallListing.open(missing) is None
    assert not missing.exists()


def test_the_listing_imports_neither_pydantic_nor_the_engine() -> None:
    code = "import sys, desktop.engine.listing; print(sorted(m for m in sys.modules if m.split('.')[0] in " \
           "('pydantic', 'adapters', 'PySide6') or m.startswith('desktop.engine.') and m != 'desktop.engine.listing'))"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
