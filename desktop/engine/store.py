# SPDX-License-Identifier: MIT
"""The engine's durable state: one SQLite database (WAL) with versioned migrations.

Tables: ``calls`` (records as synced from RingCentral), ``call_logs`` (the link from a session id
plus the agent's extension to the CRM log), ``drafts`` (what the agent typed, saved as they type),
``artifacts`` (per-call duration / recording / AI note / transcript states), ``outbox`` (every CRM
write, recorded before it is sent) and ``cursors`` (sync tokens and other bookmarks).

Threading contract: a :class:`Store` may be used from any thread. It holds one connection guarded
by a lock; every public method is one transaction. Other processes may read the file at the same
time (WAL); only one process should write.

Durability: ``synchronous=FULL``, so a committed outbox row survives a crash of the process or of
the machine before the request it describes is sent.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from adapters.models import Call, FieldValue
from desktop.engine.errors import StoreReadOnly, store_error
from desktop.engine.listing import log_status
from desktop.engine.listing import ts as ts  # re-exported: the engine writes times this way
from desktop.engine.models import (
    ArtifactKind,
    ArtifactState,
    CallFilter,
    CallRow,
    Draft,
    LiveInfo,
    LogStatus,
)

SCHEMA_VERSION = 5

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE calls (
        id TEXT PRIMARY KEY,
        session_id TEXT NOT NULL,
        extension_id TEXT NOT NULL,
        start_time TEXT NOT NULL,
        direction TEXT NOT NULL,
        remote_number TEXT,
        remote_name TEXT,
        duration INTEGER,
        result TEXT,
        has_recording INTEGER NOT NULL DEFAULT 0,
        raw TEXT NOT NULL,
        unlogged_reason TEXT,
        first_seen TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX calls_by_start ON calls(start_time DESC);
    CREATE INDEX calls_by_session ON calls(session_id, extension_id);

    CREATE TABLE call_logs (
        session_id TEXT NOT NULL,
        extension_id TEXT NOT NULL,
        call_id TEXT NOT NULL,
        adapter_id TEXT NOT NULL,
        log_id TEXT,
        contact_id TEXT,
        contact_name TEXT,
        version TEXT,
        state TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (session_id, extension_id)
    );
    CREATE INDEX call_logs_by_call ON call_logs(call_id);

    CREATE TABLE drafts (
        call_id TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );

    CREATE TABLE artifacts (
        call_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        value TEXT,
        dirty INTEGER NOT NULL DEFAULT 0,
        expected_since TEXT,
        next_check TEXT,
        checks INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (call_id, kind)
    );
    CREATE INDEX artifacts_by_check ON artifacts(state, next_check);

    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        account TEXT NOT NULL,
        call_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        extension_id TEXT NOT NULL,
        intent TEXT NOT NULL,
        payload TEXT NOT NULL,
        state TEXT NOT NULL,
        maybe_sent INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt TEXT NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX outbox_due ON outbox(account, state, next_attempt);
    CREATE UNIQUE INDEX outbox_one_open_update ON outbox(call_id) WHERE intent = 'complete' AND state = 'queued';

    CREATE TABLE cursors (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    """,
    # The body as last written or read, with its version: with a version precondition an update
    # can substitute into it without reading the record first (a conflict means: read again).
    2: """
    ALTER TABLE call_logs ADD COLUMN body TEXT
    """,
    # The body exactly as the app itself last sent it (create or update; never a body it read).
    # The note engine compares it with the CRM's body: a section the app wrote that is gone was
    # removed by the agent, and a value still as written is the app's to update. NULL: unknown
    # (a log found again after a crash, or one written before this column existed).
    3: """
    ALTER TABLE call_logs ADD COLUMN written_body TEXT
    """,
    # Live calls: a row is made from telephony-session events (id = the telephonySessionId) and
    # later joined by its call-log record, whose id goes to record_id. ``live`` holds what the
    # events said (JSON of LiveInfo); NULL for rows known only from the call log.
    4: """
    ALTER TABLE calls ADD COLUMN record_id TEXT;
    ALTER TABLE calls ADD COLUMN live TEXT;
    CREATE INDEX calls_by_record ON calls(record_id)
    """,
    # The calls list's order (newest first, ties by id) as one index: a page of rows needs no sort
    # step, and the table's list of every call (desktop/engine/listing.py) is a scan of the index
    # alone rather than of the records.
    5: """
    DROP INDEX calls_by_start;
    CREATE INDEX calls_by_start ON calls(start_time DESC, id DESC)
    """,
}


def parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


class LinkState:
    """Values of ``call_logs.state``."""

    WAITING = "waiting"  # all-at-once: create deferred until every artifact is settled
    CREATING = "creating"
    LOGGED = "logged"
    FAILED = "failed"


class ItemState:
    """Values of ``outbox.state``."""

    QUEUED = "queued"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Intent:
    """Values of ``outbox.intent``."""

    CREATE = "create"
    COMPLETE = "complete"  # substitute artifacts that became ready
    EDIT = "edit"  # the agent's edit: note section, subject, dispositions


@dataclass(frozen=True)
class Link:
    session_id: str
    extension_id: str
    call_id: str
    adapter_id: str
    log_id: str | None
    contact_id: str | None
    contact_name: str | None
    version: str | None
    state: str
    last_error: str | None
    #: The CRM body as of ``version`` (what we last wrote or read), if known.
    body: str | None = None
    #: The body exactly as the app last sent it to the CRM (never one it read), if known.
    written_body: str | None = None


@dataclass(frozen=True)
class Artifact:
    call_id: str
    kind: ArtifactKind
    state: ArtifactState
    value: Any
    dirty: bool
    expected_since: datetime | None
    next_check: datetime | None
    checks: int
    #: When the artifact last changed (state, value or dirty flag).
    updated_at: datetime | None = None


@dataclass(frozen=True)
class OutboxItem:
    id: int
    account: str
    call_id: str
    session_id: str
    extension_id: str
    intent: str
    payload: dict[str, Any]
    state: str
    maybe_sent: bool
    attempts: int
    next_attempt: datetime
    last_error: str | None


_ALL_FILTER_SQL = {
    CallFilter.ALL: "1",
    CallFilter.UNLOGGED: "l.state IS NULL",
    CallFilter.FAILED: "l.state = 'failed'",
    CallFilter.LOGGED: "l.log_id IS NOT NULL",
    CallFilter.PENDING: (
        "l.log_id IS NOT NULL AND EXISTS (SELECT 1 FROM artifacts a WHERE a.call_id = c.id "
        "AND (a.state IN ('pending', 'ready') OR a.dirty = 1))"
    ),
}


class Store:
    """The engine's SQLite database. See the module docstring for the threading contract.

    SQLite's failures that are about the file (full, read-only, locked, damaged, a disk error) come
    out as :class:`~desktop.engine.errors.StoreError` subclasses that say so in words; a failed
    ``COMMIT`` is rolled back.

    Args:
        path: the database file (created with its directory if missing).
        read_only: open the file for reading only (it may not be written): every write raises
            :class:`~desktop.engine.errors.StoreReadOnly`, and no migration runs.
        busy_timeout: how long a statement waits for another program's lock before
            :class:`~desktop.engine.errors.StoreBusy`.
    """

    def __init__(self, path: Path, *, read_only: bool = False, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()
        with self._in_words():
            if read_only:
                self._conn = self._connect_read_only(busy_timeout)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(
                    str(path), check_same_thread=False, isolation_level=None, timeout=busy_timeout
                )
            try:
                self._conn.row_factory = sqlite3.Row
                if not read_only:
                    self._conn.execute("PRAGMA journal_mode=WAL")
                    self._conn.execute("PRAGMA synchronous=FULL")
                self._conn.execute("PRAGMA foreign_keys=ON")
                self._migrate()
            except BaseException:
                self._conn.close()
                raise

    # --- plumbing ---------------------------------------------------------------------------

    def _connect_read_only(self, busy_timeout: float) -> sqlite3.Connection:
        """A read-only connection. A WAL database in a folder Logdesk may not write to cannot get
        its shared-memory file: it is then opened as immutable (nobody here can change it anyway)."""
        uri = self.path.resolve().as_uri()
        conn = sqlite3.connect(uri + "?mode=ro", uri=True, check_same_thread=False, isolation_level=None,
                               timeout=busy_timeout)
        try:
            conn.execute("PRAGMA user_version").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
        return sqlite3.connect(uri + "?mode=ro&immutable=1", uri=True, check_same_thread=False,
                               isolation_level=None, timeout=busy_timeout)

    @contextmanager
    def _in_words(self) -> Iterator[None]:
        """SQLite's errors about the file itself as StoreErrors (others pass as they are)."""
        try:
            yield
        except sqlite3.Error as exc:
            said = store_error(exc, self.path)
            if said is None:
                raise
            raise said from exc

    def _migrate(self) -> None:
        with self._lock:
            version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer Logdesk (schema {version}); this one knows {SCHEMA_VERSION}."
                )
            if version < SCHEMA_VERSION and self.read_only:
                raise StoreReadOnly(
                    f"{self.path.name} is read-only and was written by an older Logdesk: it cannot be brought up to"
                    " date until Logdesk may write to it.",
                    self.path,
                )
            for target in range(version + 1, SCHEMA_VERSION + 1):
                with self.transaction() as conn:
                    for statement in _MIGRATIONS[target].split(";"):
                        if statement.strip():
                            conn.execute(statement)
                    conn.execute(f"PRAGMA user_version = {target}")

    @property
    def schema_version(self) -> int:
        with self._lock, self._in_words():
            return int(self._conn.execute("PRAGMA user_version").fetchone()[0])

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``) holding the store's lock: committed when the
        block ends, rolled back when it raises or when the ``COMMIT`` itself fails (a full disk, a
        deferred constraint), so the connection is never left inside a transaction."""
        with self._lock, self._in_words():
            if self.read_only:
                raise StoreReadOnly(
                    f"{self.path.name} was opened read-only: nothing new can be saved until Logdesk may write to it.",
                    self.path,
                )
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock, self._in_words():
            return list(self._conn.execute(sql, params).fetchall())

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # --- calls ------------------------------------------------------------------------------

    def upsert_calls(self, calls: Sequence[Call], extension_id: str, now: datetime) -> tuple[list[str], list[str]]:
        """Stores records from RingCentral. Returns (ids of new calls, ids of changed calls)."""
        with self.transaction() as conn:
            return upsert_calls_in(conn, calls, extension_id, now)

    def call(self, call_id: str) -> Call | None:
        rows = self._query("SELECT raw FROM calls WHERE id = ?", (call_id,))
        return Call.model_validate(json.loads(rows[0]["raw"])) if rows else None

    def live_rows(self) -> list[CallRow]:
        """Calls live events say are still going on (ringing, connected, on hold), newest first."""
        ids = [str(r["id"]) for r in self._query(
            "SELECT id FROM calls WHERE live IS NOT NULL AND json_extract(live, '$.state') != 'ended'"
        )]
        return self.rows(call_ids=ids, limit=max(1, len(ids)))

    def awaited_records(self) -> int:
        """Calls that ended live whose call-log record has not arrived yet."""
        rows = self._query("SELECT COUNT(*) AS n FROM calls WHERE live IS NOT NULL AND record_id IS NULL"
                           " AND json_extract(live, '$.state') = 'ended'")
        return int(rows[0]["n"])

    def awaited_recordings(self) -> int:
        """Recordings RingCentral is expected to attach and has not yet."""
        rows = self._query("SELECT COUNT(*) AS n FROM artifacts WHERE kind = 'recording' AND state = 'pending'")
        return int(rows[0]["n"])

    def call_for_recording(self, recording_id: str | None, telephony_session_id: str | None) -> Call | None:
        """The call whose record holds this recording, or else the call of this telephony session."""
        rows = self._query(
            "SELECT raw FROM calls WHERE json_extract(raw, '$.recording.id') = ?"
            " OR json_extract(raw, '$.telephonySessionId') = ? LIMIT 1",
            (recording_id or "", telephony_session_id or ""),
        )
        return Call.model_validate(json.loads(rows[0]["raw"])) if rows else None

    def count_calls(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM calls")[0]["n"])

    def call_extension(self, call_id: str) -> str | None:
        rows = self._query("SELECT extension_id FROM calls WHERE id = ?", (call_id,))
        return str(rows[0]["extension_id"]) if rows else None

    def set_unlogged_reason(self, call_id: str, reason: str | None) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE calls SET unlogged_reason = ? WHERE id = ?", (reason, call_id))

    def rows(
        self,
        filter: CallFilter = CallFilter.ALL,
        *,
        search: str | None = None,
        limit: int = 200,
        before: datetime | None = None,
        call_ids: Sequence[str] | None = None,
    ) -> list[CallRow]:
        """The calls table: newest first, filtered, at most ``limit`` rows started before ``before``
        (only the rows of ``call_ids`` when given)."""
        where = [_ALL_FILTER_SQL[filter]]
        params: list[Any] = []
        if call_ids is not None:
            where.append(f"c.id IN ({','.join('?' * len(call_ids))})" if call_ids else "0")
            params.extend(call_ids)
        if before is not None:
            where.append("c.start_time < ?")
            params.append(ts(before))
        if search:
            where.append(
                "(c.remote_number LIKE ? ESCAPE '\\' OR c.remote_name LIKE ? ESCAPE '\\'"
                " OR l.contact_name LIKE ? ESCAPE '\\' OR c.session_id = ?)"
            )
            escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            like = f"%{escaped}%"
            params += [like, like, like, search]
        # Only fixed fragments and ? placeholders are joined into the statement.
        sql = (
            "SELECT c.*, l.state AS link_state, l.log_id, l.contact_id, l.contact_name, l.last_error,"  # noqa: S608
            " (json_extract(c.raw, CASE c.direction WHEN 'Inbound' THEN '$.from.phoneNumber'"
            " ELSE '$.to.phoneNumber' END) IS NULL AND c.remote_number IS NOT NULL) AS is_internal"
            " FROM calls c LEFT JOIN call_logs l ON l.session_id = c.session_id AND l.extension_id = c.extension_id"
            " WHERE " + " AND ".join(where) + " ORDER BY c.start_time DESC, c.id DESC LIMIT ?"
        )
        params.append(limit)
        with self._lock, self._in_words():
            found = self._conn.execute(sql, params).fetchall()
            ids = [r["id"] for r in found]
            arts: dict[str, dict[ArtifactKind, tuple[ArtifactState, bool]]] = {}
            open_items: dict[str, int] = {}
            drafts: dict[str, Draft] = {}
            for chunk in _chunks(ids, 400):
                marks = ",".join("?" * len(chunk))
                for a in self._conn.execute(
                    f"SELECT call_id, kind, state, dirty FROM artifacts WHERE call_id IN ({marks})", chunk  # noqa: S608
                ):
                    arts.setdefault(a["call_id"], {})[ArtifactKind(a["kind"])] = (
                        ArtifactState(a["state"]),
                        bool(a["dirty"]),
                    )
                for o in self._conn.execute(
                    f"SELECT call_id, COUNT(*) AS n FROM outbox WHERE state = 'queued' AND call_id IN ({marks})"  # noqa: S608
                    " GROUP BY call_id",
                    chunk,
                ):
                    open_items[o["call_id"]] = int(o["n"])
                drafts_sql = f"SELECT call_id, data FROM drafts WHERE call_id IN ({marks})"  # noqa: S608
                for d in self._conn.execute(drafts_sql, chunk):
                    drafts[d["call_id"]] = Draft.model_validate_json(d["data"])
        out: list[CallRow] = []
        for r in found:
            call_arts = arts.get(r["id"], {})
            pending = tuple(k for k in ArtifactKind if call_arts.get(k, (ArtifactState.ABSENT, False))[0]
                            in (ArtifactState.PENDING, ArtifactState.READY))
            status = _status(r["link_state"], call_arts, open_items.get(r["id"], 0))
            draft = drafts.get(r["id"])
            out.append(
                CallRow(
                    call_id=r["id"],
                    session_id=r["session_id"],
                    direction=r["direction"],
                    start_time=parse_ts(r["start_time"]),
                    remote_number=r["remote_number"],
                    remote_name=r["remote_name"],
                    contact_id=r["contact_id"] or (draft.contact_id if draft else None),
                    contact_name=r["contact_name"] or (draft.contact_name if draft else None),
                    duration=r["duration"],
                    result=r["result"],
                    has_recording=bool(r["has_recording"]),
                    status=status,
                    pending=pending,
                    last_error=r["last_error"],
                    crm_log_id=r["log_id"],
                    unlogged_reason=r["unlogged_reason"] if r["link_state"] is None else None,
                    is_internal=bool(r["is_internal"]),
                    live=LiveInfo.model_validate_json(r["live"]) if r["live"] else None,
                )
            )
        return out

    # --- drafts -----------------------------------------------------------------------------

    def save_draft(self, call_id: str, draft: Draft, now: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO drafts (call_id, data, updated_at) VALUES (?,?,?)"
                " ON CONFLICT(call_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                (call_id, draft.model_dump_json(), ts(now)),
            )

    def draft(self, call_id: str) -> Draft | None:
        rows = self._query("SELECT data FROM drafts WHERE call_id = ?", (call_id,))
        return Draft.model_validate_json(rows[0]["data"]) if rows else None

    # --- links ------------------------------------------------------------------------------

    def link(self, session_id: str, extension_id: str) -> Link | None:
        rows = self._query(
            "SELECT * FROM call_logs WHERE session_id = ? AND extension_id = ?", (session_id, extension_id)
        )
        return _link(rows[0]) if rows else None

    def link_for_call(self, call_id: str) -> Link | None:
        rows = self._query(
            "SELECT l.* FROM calls c JOIN call_logs l ON l.session_id = c.session_id"
            " AND l.extension_id = c.extension_id WHERE c.id = ?",
            (call_id,),
        )
        return _link(rows[0]) if rows else None

    def links(self, state: str | None = None) -> list[Link]:
        if state is None:
            return [_link(r) for r in self._query("SELECT * FROM call_logs")]
        return [_link(r) for r in self._query("SELECT * FROM call_logs WHERE state = ?", (state,))]

    def set_link_body(
        self, session_id: str, extension_id: str, version: str | None, body: str, now: datetime
    ) -> None:
        """The CRM record's version and body after a write that did not send the body itself."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE call_logs SET version = ?, body = ?, updated_at = ? WHERE session_id = ? AND extension_id = ?",
                (version, body, ts(now), session_id, extension_id),
            )

    def set_link_version(self, session_id: str, extension_id: str, version: str | None, now: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE call_logs SET version = ?, updated_at = ? WHERE session_id = ? AND extension_id = ?",
                (version, ts(now), session_id, extension_id),
            )

    def set_link_error(self, session_id: str, extension_id: str, error: str | None, now: datetime) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE call_logs SET last_error = ?, updated_at = ? WHERE session_id = ? AND extension_id = ?",
                (error, ts(now), session_id, extension_id),
            )

    # --- artifacts --------------------------------------------------------------------------

    def artifacts(self, call_id: str) -> dict[ArtifactKind, Artifact]:
        rows = self._query("SELECT * FROM artifacts WHERE call_id = ?", (call_id,))
        return {ArtifactKind(r["kind"]): artifact_from_row(r) for r in rows}

    def set_artifact(
        self,
        call_id: str,
        kind: ArtifactKind,
        state: ArtifactState,
        now: datetime,
        *,
        value: Any = None,
        dirty: bool = False,
        next_check: datetime | None = None,
        checks: int | None = None,
        expected_since: datetime | None = None,
    ) -> None:
        """Creates or replaces one artifact's state (``expected_since`` is kept once set)."""
        with self.transaction() as conn:
            _put_artifact(conn, call_id, kind, state, now, value=value, dirty=dirty, next_check=next_check,
                          checks=checks, expected_since=expected_since)

    def due_artifact_checks(self, kind: ArtifactKind, now: datetime, limit: int) -> list[Artifact]:
        """Pending artifacts of ``kind`` whose next check is due, most overdue first."""
        rows = self._query(
            "SELECT * FROM artifacts WHERE kind = ? AND state = 'pending' AND next_check IS NOT NULL"
            " AND next_check <= ? ORDER BY next_check LIMIT ?",
            (str(kind), ts(now), limit),
        )
        return [artifact_from_row(r) for r in rows]

    def pending_artifacts(self) -> list[Artifact]:
        return [artifact_from_row(r) for r in self._query("SELECT * FROM artifacts WHERE state = 'pending'")]

    def next_artifact_check(self) -> datetime | None:
        rows = self._query("SELECT MIN(next_check) AS m FROM artifacts WHERE state = 'pending'")
        return parse_ts(rows[0]["m"]) if rows and rows[0]["m"] else None

    def oldest_pending_since(self) -> datetime | None:
        """Since when the longest-awaited artifact has been expected."""
        rows = self._query(
            "SELECT MIN(expected_since) AS m FROM artifacts WHERE state = 'pending' AND expected_since IS NOT NULL"
        )
        return parse_ts(rows[0]["m"]) if rows and rows[0]["m"] else None

    def count_pending_logged_calls(self) -> int:
        """Logged calls still waiting for an artifact or for a write of one."""
        rows = self._query(
            "SELECT COUNT(DISTINCT a.call_id) AS n FROM artifacts a JOIN calls c ON c.id = a.call_id"
            " JOIN call_logs l ON l.session_id = c.session_id AND l.extension_id = c.extension_id"
            " WHERE l.state = 'logged' AND (a.state IN ('pending', 'ready') OR a.dirty = 1)"
        )
        return int(rows[0]["n"])

    def calls_with_dirty_artifacts(self) -> list[str]:
        rows = self._query("SELECT DISTINCT call_id FROM artifacts WHERE dirty = 1")
        return [str(r["call_id"]) for r in rows]

    # --- outbox -----------------------------------------------------------------------------

    def item(self, item_id: int) -> OutboxItem | None:
        rows = self._query("SELECT * FROM outbox WHERE id = ?", (item_id,))
        return _item(rows[0]) if rows else None

    def items(self, *, call_id: str | None = None, state: str | None = None) -> list[OutboxItem]:
        where, params = ["1"], []
        if call_id is not None:
            where.append("call_id = ?")
            params.append(call_id)
        if state is not None:
            where.append("state = ?")
            params.append(state)
        rows = self._query(f"SELECT * FROM outbox WHERE {' AND '.join(where)} ORDER BY id", params)  # noqa: S608
        return [_item(r) for r in rows]

    def due_items(self, account: str, now: datetime, limit: int = 50) -> list[OutboxItem]:
        rows = self._query(
            "SELECT * FROM outbox WHERE account = ? AND state = 'queued' AND next_attempt <= ?"
            " ORDER BY next_attempt, id LIMIT ?",
            (account, ts(now), limit),
        )
        return [_item(r) for r in rows]

    def next_item_due(self, account: str) -> datetime | None:
        rows = self._query(
            "SELECT MIN(next_attempt) AS m FROM outbox WHERE account = ? AND state = 'queued'", (account,)
        )
        return parse_ts(rows[0]["m"]) if rows and rows[0]["m"] else None

    def count_items(self, state: str) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM outbox WHERE state = ?", (state,))[0]["n"])

    def count_to_send(self, now: datetime) -> int:
        """Queued items, except updates waiting on purpose (not due yet, no failure behind them)."""
        rows = self._query(
            "SELECT COUNT(*) AS n FROM outbox WHERE state = 'queued' AND NOT (intent = 'complete'"
            " AND next_attempt > ? AND last_error IS NULL)",
            (ts(now),),
        )
        return int(rows[0]["n"])

    def mark_maybe_sent(self, item_id: int, now: datetime) -> None:
        """Recorded right before a request goes out: after a crash, the request may have reached the CRM."""
        with self.transaction() as conn:
            conn.execute("UPDATE outbox SET maybe_sent = 1, updated_at = ? WHERE id = ?", (ts(now), item_id))

    def retry_item(self, item_id: int, next_attempt: datetime, error: str, now: datetime, *, maybe_sent: bool) -> None:
        """Counts a failed attempt and schedules the next one."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET next_attempt = ?, last_error = ?, maybe_sent = ?, attempts = attempts + 1,"
                " updated_at = ? WHERE id = ?",
                (ts(next_attempt), error, 1 if maybe_sent else 0, ts(now), item_id),
            )

    def set_item_payload(self, item_id: int, payload: dict[str, Any], now: datetime) -> None:
        """Replaces a queued item's payload (what it has done so far, for the next attempt)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET payload = ?, updated_at = ? WHERE id = ?", (json.dumps(payload), ts(now), item_id)
            )

    def postpone_item(self, item_id: int, next_attempt: datetime, now: datetime) -> None:
        """Moves an item later without counting an attempt (waiting for data or a rate budget)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET next_attempt = ?, updated_at = ? WHERE id = ?", (ts(next_attempt), ts(now), item_id)
            )

    def requeue(self, item_id: int, now: datetime) -> bool:
        """Puts a failed item back in the queue (the agent fixed the cause). False if it is not failed."""
        with self.transaction() as conn:
            row = conn.execute("SELECT * FROM outbox WHERE id = ? AND state = 'failed'", (item_id,)).fetchone()
            if row is None:
                return False
            # Due at once: its creation time is in the past on any clock the engine runs on.
            conn.execute(
                "UPDATE outbox SET state = 'queued', next_attempt = created_at, updated_at = ? WHERE id = ?",
                (ts(now), item_id),
            )
            if row["intent"] == Intent.CREATE:
                conn.execute(
                    "UPDATE call_logs SET state = ?, last_error = NULL, updated_at = ? WHERE session_id = ?"
                    " AND extension_id = ? AND state = ?",
                    (LinkState.CREATING, ts(now), row["session_id"], row["extension_id"], LinkState.FAILED),
                )
            return True

    def cursor(self, name: str) -> str | None:
        rows = self._query("SELECT value FROM cursors WHERE name = ?", (name,))
        return str(rows[0]["value"]) if rows else None

    def set_cursor(self, name: str, value: str | None, now: datetime) -> None:
        with self.transaction() as conn:
            if value is None:
                conn.execute("DELETE FROM cursors WHERE name = ?", (name,))
            else:
                conn.execute(
                    "INSERT INTO cursors (name, value, updated_at) VALUES (?,?,?)"
                    " ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    (name, value, ts(now)),
                )


# --- helpers used by the lifecycle's multi-table transactions ------------------------------------


def upsert_calls_in(
    conn: sqlite3.Connection, calls: Sequence[Call], extension_id: str, now: datetime
) -> tuple[list[str], list[str]]:
    """Stores records inside the caller's transaction. Returns (new row ids, changed row ids)."""
    new, changed = store_records_in(conn, calls, extension_id, now)
    return [c.id for c in new], [c.id for c in changed]


def store_records_in(
    conn: sqlite3.Connection, calls: Sequence[Call], extension_id: str, now: datetime
) -> tuple[list[Call], list[Call]]:
    """Stores call-log records inside the caller's transaction. Returns (new calls, changed calls)
    as stored: a record whose call is already a row from live events joins that row and keeps its
    id, so the call stays one row with one log, its draft and its artifacts.
    """
    new: list[Call] = []
    changed: list[Call] = []
    for record in calls:
        row = conn.execute(
            "SELECT id, raw, live FROM calls WHERE id = ? OR record_id = ? LIMIT 1", (record.id, record.id)
        ).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT id, raw, live FROM calls WHERE session_id = ? AND extension_id = ? AND record_id IS NULL"
                " AND live IS NOT NULL LIMIT 1",
                (record.session_id, extension_id),
            ).fetchone()
        call = record if row is None or row["id"] == record.id else record.model_copy(update={"id": row["id"]})
        raw = json.dumps(call.to_raw(), sort_keys=True)
        live = row["live"] if row is not None else None
        if live is not None and (record.result or "").lower() != "in progress":
            info = LiveInfo.model_validate_json(live)
            if info.state != "ended":
                live = info.model_copy(update={"state": "ended", "held_since": None}).model_dump_json()
        values = (*_call_values(call, extension_id, raw, now), record.id, live)
        if row is None:
            conn.execute(
                "INSERT INTO calls (session_id, extension_id, start_time, direction, remote_number,"
                " remote_name, duration, result, has_recording, raw, updated_at, record_id, live, id, first_seen)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (*values, call.id, ts(now)),
            )
            new.append(call)
        elif row["raw"] != raw or row["live"] != live:
            conn.execute(
                "UPDATE calls SET session_id=?, extension_id=?, start_time=?, direction=?, remote_number=?,"
                " remote_name=?, duration=?, result=?, has_recording=?, raw=?, updated_at=?, record_id=?, live=?"
                " WHERE id=?",
                (*values, call.id),
            )
            changed.append(call)
    return new, changed


def store_live_in(
    conn: sqlite3.Connection, call: Call, info: LiveInfo, extension_id: str, now: datetime
) -> tuple[Call, bool]:
    """Stores what live events say about a call inside the caller's transaction.

    Returns (the call as stored, whether the row is new). When the call-log record is already
    stored (it came first, e.g. events replayed after a reconnect), only the live state changes.
    """
    row = conn.execute(
        "SELECT id, raw, record_id FROM calls WHERE session_id = ? AND extension_id = ? ORDER BY record_id IS NULL"
        " LIMIT 1",
        (call.session_id, extension_id),
    ).fetchone()
    live = info.model_dump_json()
    if row is not None and row["record_id"] is not None:
        conn.execute("UPDATE calls SET live = ?, updated_at = ? WHERE id = ?", (live, ts(now), row["id"]))
        return Call.model_validate(json.loads(row["raw"])), False
    raw = json.dumps(call.to_raw(), sort_keys=True)
    values = (*_call_values(call, extension_id, raw, now), live)
    if row is None:
        conn.execute(
            "INSERT INTO calls (session_id, extension_id, start_time, direction, remote_number, remote_name,"
            " duration, result, has_recording, raw, updated_at, live, id, first_seen)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (*values, call.id, ts(now)),
        )
        return call, True
    call = call.model_copy(update={"id": row["id"]})
    conn.execute(
        "UPDATE calls SET session_id=?, extension_id=?, start_time=?, direction=?, remote_number=?, remote_name=?,"
        " duration=?, result=?, has_recording=?, raw=?, updated_at=?, live=? WHERE id=?",
        (*values, call.id),
    )
    return call, False


def _call_values(call: Call, extension_id: str, raw: str, now: datetime) -> tuple[Any, ...]:
    remote = call.remote
    return (
        call.session_id,
        extension_id,
        ts(call.start_time),
        str(call.direction),
        remote.phone_number or remote.extension_number,
        remote.name,
        call.duration,
        call.result,
        1 if call.recording is not None and call.recording.content_uri else 0,
        raw,
        ts(now),
    )


def put_artifact(
    conn: sqlite3.Connection,
    call_id: str,
    kind: ArtifactKind,
    state: ArtifactState,
    now: datetime,
    *,
    value: Any = None,
    dirty: bool = False,
    next_check: datetime | None = None,
    checks: int | None = None,
    expected_since: datetime | None = None,
) -> None:
    _put_artifact(conn, call_id, kind, state, now, value=value, dirty=dirty, next_check=next_check, checks=checks,
                  expected_since=expected_since)


def _put_artifact(
    conn: sqlite3.Connection,
    call_id: str,
    kind: ArtifactKind,
    state: ArtifactState,
    now: datetime,
    *,
    value: Any,
    dirty: bool,
    next_check: datetime | None,
    checks: int | None,
    expected_since: datetime | None,
) -> None:
    conn.execute(
        "INSERT INTO artifacts (call_id, kind, state, value, dirty, expected_since, next_check, checks, updated_at)"
        " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(call_id, kind) DO UPDATE SET state = excluded.state,"
        " value = excluded.value, dirty = excluded.dirty, next_check = excluded.next_check,"
        " checks = COALESCE(?, artifacts.checks),"
        " expected_since = COALESCE(artifacts.expected_since, excluded.expected_since),"
        " updated_at = excluded.updated_at",
        (
            call_id,
            str(kind),
            str(state),
            None if value is None else json.dumps(value),
            1 if dirty else 0,
            ts(expected_since) if expected_since else None,
            ts(next_check) if next_check else None,
            checks or 0,
            ts(now),
            checks,
        ),
    )


def enqueue(
    conn: sqlite3.Connection,
    *,
    account: str,
    call_id: str,
    session_id: str,
    extension_id: str,
    intent: str,
    payload: dict[str, Any],
    now: datetime,
    not_before: datetime | None = None,
) -> int:
    cur = conn.execute(
        "INSERT INTO outbox (account, call_id, session_id, extension_id, intent, payload, state, next_attempt,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,'queued',?,?,?)",
        (account, call_id, session_id, extension_id, intent, json.dumps(payload), ts(not_before or now), ts(now),
         ts(now)),
    )
    return int(cur.lastrowid or 0)


def _chunks(seq: Sequence[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(seq), size):
        yield list(seq[i : i + size])


def _status(
    link_state: str | None, arts: dict[ArtifactKind, tuple[ArtifactState, bool]], open_items: int
) -> LogStatus:
    states = [s for s, _ in arts.values()]
    unwritten = ArtifactState.READY in states or any(d for _, d in arts.values()) or open_items > 0
    return LogStatus(log_status(link_state, artifact_pending=ArtifactState.PENDING in states, unwritten=unwritten))


def _link(r: sqlite3.Row) -> Link:
    return Link(
        session_id=r["session_id"],
        extension_id=r["extension_id"],
        call_id=r["call_id"],
        adapter_id=r["adapter_id"],
        log_id=r["log_id"],
        contact_id=r["contact_id"],
        contact_name=r["contact_name"],
        version=r["version"],
        state=r["state"],
        last_error=r["last_error"],
        body=r["body"],
        written_body=r["written_body"],
    )


def artifact_from_row(r: sqlite3.Row) -> Artifact:
    return Artifact(
        call_id=r["call_id"],
        kind=ArtifactKind(r["kind"]),
        state=ArtifactState(r["state"]),
        value=None if r["value"] is None else json.loads(r["value"]),
        dirty=bool(r["dirty"]),
        expected_since=parse_ts(r["expected_since"]) if r["expected_since"] else None,
        next_check=parse_ts(r["next_check"]) if r["next_check"] else None,
        checks=int(r["checks"]),
        updated_at=parse_ts(r["updated_at"]) if r["updated_at"] else None,
    )


def _item(r: sqlite3.Row) -> OutboxItem:
    return OutboxItem(
        id=int(r["id"]),
        account=r["account"],
        call_id=r["call_id"],
        session_id=r["session_id"],
        extension_id=r["extension_id"],
        intent=r["intent"],
        payload=json.loads(r["payload"]),
        state=r["state"],
        maybe_sent=bool(r["maybe_sent"]),
        attempts=int(r["attempts"]),
        next_attempt=parse_ts(r["next_attempt"]),
        last_error=r["last_error"],
    )


def dispositions_json(values: dict[str, FieldValue]) -> str:
    return json.dumps(values, sort_keys=True)
