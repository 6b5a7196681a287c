# SPDX-License-Identifier: MIT
"""The engine's own database gone bad: damaged, truncated, read-only, held by another program, a
full disk, a COMMIT that fails. Each gives words for the agent and an engine that goes on."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from desktop.engine.errors import StoreBusy, StoreCorrupt, StoreFull, StoreReadOnly
from desktop.engine.models import Draft
from desktop.engine.recovery import open_store
from desktop.engine.store import Store
from tests.engine.world import World, all_settled, drive

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 12, 2, 17, 45, 0)


def _logged_day(tmp_path: Path, calls: int = 12) -> tuple[World, list[str]]:
    """A day of calls auto-logged into the Local CRM, with a draft on the first; the engine closed."""
    world = World(tmp_path)
    for i in range(calls):
        phone = f"+1415555{i:04d}"
        world.contact(f"Caller {i}", phone)
        world.add_call(phone=phone, at=60.0 * i, recording_after=None)
    rc = world.rc()
    engine = world.engine(rc, auto_log=True)
    drive(engine, world.clock, rc, until=lambda: all_settled(engine) and len(engine.calls()) == calls)
    ids = [row.call_id for row in engine.calls()]
    engine.save_draft(ids[0], Draft(note="Call back Tuesday about the $1 refund"))
    engine.close()
    return world, ids


def _overwrite_root_page(path: Path, table: str) -> None:
    with sqlite3.connect(path) as db:
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        sql = "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?"
        root = db.execute(sql, (table,)).fetchone()[0]
    with path.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * page_size)


def test_a_file_that_is_not_a_database_is_set_aside_and_a_new_one_started(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "engine.sqlite3"
    path.write_bytes(b"this is not a database at all\x00" * 200)
    opened = open_store(path, now=NOW)
    assert opened.message is not None
    assert "engine.sqlite3 is damaged" in opened.message
    assert "set aside as engine.sqlite3.corrupt-20261202-174500" in opened.message
    assert "nothing could be recovered" in opened.message
    assert (tmp_path / "engine.sqlite3.corrupt-20261202-174500").read_bytes().startswith(b"this is not")
    assert opened.store.schema_version >= 5 and not opened.store.read_only
    assert "set aside as engine.sqlite3.corrupt-20261202-174500" in caplog.text
    opened.store.close()


def test_a_damaged_calls_table_keeps_the_links_drafts_and_nothing_is_logged_twice(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    world, ids = _logged_day(tmp_path)
    logs_before = len(world.crm.call_logs())
    assert logs_before == len(ids)
    path = tmp_path / "engine.sqlite3"
    _overwrite_root_page(path, "calls")

    opened = open_store(path, now=NOW)

    assert opened.message is not None
    assert f"recovered {len(ids)} links to CRM logs, 1 drafts" in opened.message
    assert "set aside as engine.sqlite3.corrupt-" in caplog.text
    assert "fetched again from RingCentral" in opened.message
    store = opened.store
    assert store.draft(ids[0]) == Draft(note="Call back Tuesday about the $1 refund")
    # The sync starts over (no cursor): every call comes back, none is logged a second time.
    from adapters.notes.models import NoteSettings
    from desktop.engine.service import Engine

    rc = world.rc()
    engine = Engine(store, world.crm, rc, NoteSettings(), extension_id="400200000001", clock=world.clock,
                    auto_log=True, recordings_expected=True)
    drive(engine, world.clock, rc, until=lambda: all_settled(engine) and len(engine.calls()) == len(ids))
    assert len(world.crm.call_logs()) == logs_before
    assert engine.draft(ids[0]) is not None
    engine.close()


def test_a_truncated_file_is_found_at_start_not_in_the_middle_of_the_day(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _world, _ids = _logged_day(tmp_path, calls=60)
    path = tmp_path / "engine.sqlite3"
    with path.open("r+b") as f:
        f.truncate(path.stat().st_size // 2)
    opened = open_store(path, now=NOW)
    assert opened.message is not None and "is damaged" in opened.message
    assert "set aside" in caplog.text
    assert opened.store.count_calls() == 0  # a new database, answering
    opened.store.close()


def test_a_store_whose_disk_is_full_says_so_keeps_nothing_half_written_and_saves_once_there_is_room(
    tmp_path: Path,
) -> None:
    _world, ids = _logged_day(tmp_path, calls=3)
    store = Store(tmp_path / "engine.sqlite3")
    pages = store._query("PRAGMA page_count")[0][0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "disk is full" (SQLITE_FULL)
    big = Draft(note="x" * 200_000)
    with pytest.raises(StoreFull) as raised:
        store.save_draft(ids[1], big, NOW)
    assert raised.value.message.startswith("The disk is full: engine.sqlite3 cannot be written.")
    assert "free some space and it is saved" in raised.value.message
    assert store.draft(ids[1]) is None
    # Room again: the same write goes through, and the connection was not left inside a transaction
    store._conn.execute(f"PRAGMA max_page_count = {pages * 100}")
    store.save_draft(ids[1], big, NOW)
    assert store.draft(ids[1]) == big
    store.close()


def test_a_commit_that_fails_is_rolled_back_and_the_next_transaction_works(tmp_path: Path) -> None:
    store = Store(tmp_path / "engine.sqlite3")
    with store.transaction() as conn:
        conn.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
    # A deferred foreign key is checked at COMMIT: the COMMIT itself fails
    with pytest.raises(sqlite3.IntegrityError), store.transaction() as conn:
        conn.execute("INSERT INTO child VALUES (42)")
    assert not store._conn.in_transaction
    assert store._query("SELECT COUNT(*) FROM child")[0][0] == 0
    with store.transaction() as conn:
        conn.execute("INSERT INTO parent VALUES (42)")
        conn.execute("INSERT INTO child VALUES (42)")
    assert store._query("SELECT COUNT(*) FROM child")[0][0] == 1
    store.close()


def test_a_file_held_by_another_program_says_so_in_words(tmp_path: Path) -> None:
    path = tmp_path / "engine.sqlite3"
    store = Store(path, busy_timeout=0.05)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StoreBusy) as raised:
            store.save_draft("c1", Draft(note="hello"), NOW)
        assert raised.value.message == "engine.sqlite3 is in use by another program; Logdesk tries again."
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.save_draft("c1", Draft(note="hello"), NOW)
    assert store.draft("c1") == Draft(note="hello")
    store.close()


def test_a_store_opened_read_only_shows_its_calls_and_refuses_writes_in_words(tmp_path: Path) -> None:
    _world, ids = _logged_day(tmp_path, calls=3)
    store = Store(tmp_path / "engine.sqlite3", read_only=True)
    assert store.count_calls() == 3 and len(store.rows()) == 3
    with pytest.raises(StoreReadOnly) as raised:
        store.save_draft(ids[0], Draft(note="x"), NOW)
    assert "opened read-only" in raised.value.message
    store.close()


_AS_ANOTHER_USER = r"""
import json, sys
from pathlib import Path
from desktop.engine.recovery import open_store
opened = open_store(Path(sys.argv[1]))
calls = opened.store.rows()
out = {"read_only": opened.store.read_only, "message": opened.message, "calls": len(calls)}
try:
    opened.store.save_draft(calls[0].call_id, __import__("desktop.engine.models").engine.models.Draft(note="x"),
                            __import__("datetime").datetime(2026, 1, 1))
    out["write"] = "saved"
except Exception as exc:
    out["write"] = type(exc).__name__
print(json.dumps(out))
"""


def test_a_file_logdesk_may_not_write_opens_read_only_with_a_banner(tmp_path: Path) -> None:
    import tempfile

    # Permissions bind a user that is not root: as root, run the app's side as "nobody".
    as_root = os.geteuid() == 0
    folder = Path(tempfile.mkdtemp(prefix="logdesk-ro-"))
    try:
        _world, _ids = _logged_day(folder, calls=3)
        (folder / "crm.sqlite3").unlink()
        db = folder / "engine.sqlite3"
        db.chmod(0o444)
        folder.chmod(0o555)
        run_as = {"user": 65534, "group": 65534} if as_root else {}
        out = subprocess.run(
            [sys.executable, "-c", _AS_ANOTHER_USER, str(db)], cwd=ROOT, capture_output=True, text=True,
            timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(folder)}, check=False, **run_as,
        )
        assert out.returncode == 0, out.stderr[-2000:]
        result = json.loads(out.stdout)
        assert result["read_only"] is True and result["calls"] == 3
        assert result["message"].startswith("engine.sqlite3 is open read-only because Logdesk may not write to it")
        assert result["write"] == "StoreReadOnly"
    finally:
        folder.chmod(0o755)
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def test_a_damaged_file_found_during_the_day_is_named_in_words(tmp_path: Path) -> None:
    _world, _ids = _logged_day(tmp_path, calls=3)
    path = tmp_path / "engine.sqlite3"
    store = Store(path)
    _overwrite_root_page(path, "call_logs")
    with pytest.raises(StoreCorrupt) as raised:
        store._query("SELECT * FROM call_logs NOT INDEXED")
    assert raised.value.message.startswith("engine.sqlite3 is damaged (")
    store.close()
