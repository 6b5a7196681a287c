# SPDX-License-Identifier: MIT
"""The engine's SQLite store: migrations, WAL, calls, drafts and the one-log-per-session rule."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.testing.calls import inbound_call, outbound_call
from desktop.engine.models import CallFilter, Draft, LogStatus
from desktop.engine.store import SCHEMA_VERSION, Store

NOW = datetime(2026, 4, 11, 9, 0, tzinfo=UTC)


def test_new_database_is_migrated_to_current_schema_in_wal_mode(tmp_path: Path) -> None:
    store = Store(tmp_path / "engine.sqlite3")
    assert store.schema_version == SCHEMA_VERSION
    mode = sqlite3.connect(tmp_path / "engine.sqlite3").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    store.close()


def test_reopening_keeps_data_and_does_not_migrate_again(tmp_path: Path) -> None:
    path = tmp_path / "engine.sqlite3"
    store = Store(path)
    call = inbound_call()
    store.upsert_calls([call], "ext-1", NOW)
    store.close()
    again = Store(path)
    assert again.call(call.id) == call
    again.close()


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "engine.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(RuntimeError, match="newer Logdesk"):
        Store(path)


def test_upsert_reports_new_and_changed_calls_only(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.sqlite3")
    a, b = inbound_call(), outbound_call()
    assert store.upsert_calls([a, b], "ext-1", NOW) == ([a.id, b.id], [])
    assert store.upsert_calls([a, b], "ext-1", NOW) == ([], [])
    longer = a.model_copy(update={"duration": 300})
    assert store.upsert_calls([longer], "ext-1", NOW) == ([], [a.id])
    assert store.call(a.id) == longer


def test_rows_are_newest_first_and_unlogged_by_default(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.sqlite3")
    early = inbound_call(start_time=datetime(2026, 4, 10, 8, 0, tzinfo=UTC), caller_name="Early Bird")
    late = inbound_call(start_time=datetime(2026, 4, 10, 9, 0, tzinfo=UTC))
    store.upsert_calls([early, late], "ext-1", NOW)
    rows = store.rows()
    assert [r.call_id for r in rows] == [late.id, early.id]
    assert all(r.status is LogStatus.UNLOGGED for r in rows)
    assert [r.call_id for r in store.rows(before=late.start_time)] == [early.id]
    assert [r.call_id for r in store.rows(search="Early")] == [early.id]
    assert store.rows(search="100%") == []
    assert store.rows(CallFilter.LOGGED) == []


def test_draft_survives_reopening_the_database(tmp_path: Path) -> None:
    path = tmp_path / "e.sqlite3"
    store = Store(path)
    call = inbound_call()
    store.upsert_calls([call], "ext-1", NOW)
    draft = Draft(contact_id="7", contact_name="Ada", subject="Billing", subject_edited=True,
                  note="Wants a refund of $1 <script>", dispositions={"outcome": "refund", "follow_up": True})
    store.save_draft(call.id, draft, NOW)
    store.close()
    assert Store(path).draft(call.id) == draft


def test_cursor_round_trip_and_delete(tmp_path: Path) -> None:
    store = Store(tmp_path / "e.sqlite3")
    assert store.cursor("call-log-sync") is None
    store.set_cursor("call-log-sync", "tok-1", NOW)
    store.set_cursor("call-log-sync", "tok-2", NOW)
    assert store.cursor("call-log-sync") == "tok-2"
    store.set_cursor("call-log-sync", None, NOW)
    assert store.cursor("call-log-sync") is None


def test_internal_calls_are_flagged_in_rows(tmp_path: Path) -> None:
    from adapters.testing.calls import internal_call

    store = Store(tmp_path / "e.sqlite3")
    colleague, customer = internal_call("102"), inbound_call()
    store.upsert_calls([colleague, customer], "ext-1", NOW)
    flags = {r.call_id: r.is_internal for r in store.rows()}
    assert flags == {colleague.id: True, customer.id: False}
    assert {r.phone for r in store.rows()} == {"102", customer.remote.phone_number}


def test_a_version_1_database_is_migrated_in_place(tmp_path: Path) -> None:
    from desktop.engine.store import _MIGRATIONS

    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path)
    conn.executescript(_MIGRATIONS[1])
    conn.execute(
        "INSERT INTO call_logs (session_id, extension_id, call_id, adapter_id, log_id, state, created_at, updated_at)"
        " VALUES ('s1', 'e1', 'c1', 'local', '9', 'logged', 'x', 'x')"
    )
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.schema_version == SCHEMA_VERSION
    link = store.link("s1", "e1")
    assert link is not None and link.log_id == "9" and link.body is None
