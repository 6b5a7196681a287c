# SPDX-License-Identifier: MIT
"""The calls list as the table reads it, straight from the engine's SQLite file.

Lean on purpose: no pydantic and no engine objects (only ``sqlite3``, ``re`` and ``datetime``), so
the window can read its first screenful before anything heavy is imported (see
:mod:`desktop.app`), and every stored call fits in the table with one query. Two reads:

- :meth:`CallListing.newest` and :meth:`CallListing.calls` give :class:`ListedCall` rows: the
  attributes of :class:`~desktop.engine.models.CallRow` the table shows, with the same log status
  (:func:`log_status` is the store's rule too);
- :meth:`CallListing.order` gives every stored call's id and start time, newest first (a scan of
  one index), and :meth:`CallListing.index` the columns that filtering, searching and sorting the
  whole list needs (:class:`CallIndex`: search keys, names, numbers, durations, results and one
  state byte per call); rows are read with :meth:`CallListing.calls` when they are shown. Columns
  come back as a handful of long strings (``group_concat``) split in C, not as 100,000 Python rows.

Threading contract: a :class:`CallListing` owns a read-only connection and is used by one thread
at a time. The database is in WAL mode, so reading never blocks the engine's writes, nor waits
for them.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

#: Call results that count as missed for an inbound call.
MISSED_RESULTS = frozenset({"Missed", "Voicemail", "Hang Up", "Abandoned", "No Answer", "Rejected", "Busy"})

#: Artifact kinds in the order their "pending" labels are listed (``ArtifactKind``'s order).
ARTIFACT_KINDS = ("duration", "recording", "ai_note", "transcript")

# The state byte of :class:`CallIndex`: bits 0-2 the link state, 3-5 how many artifacts are still
# expected or not yet written to the CRM, 6 outbound, 7 a missed inbound call.
STATE_UNLOGGED, STATE_WAITING, STATE_LOGGING, STATE_LOGGED, STATE_FAILED = range(5)
STATE_MASK = 0b111
PENDING_SHIFT = 3
PENDING_MASK = 0b111 << PENDING_SHIFT
OUTBOUND = 1 << 6
MISSED = 1 << 7

_SEP = "\x01"
_NOT_DIGITS = re.compile(r"[^0-9\x01]")


def ts(when: datetime) -> str:
    """A sortable UTC timestamp, as the ``calls.start_time`` column holds it (naive = local time)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def search_key(name: str, number: str) -> str:
    """What the table's search box matches: the lower-cased name and the number's digits."""
    return f"{name.lower()}\x00{_NOT_DIGITS.sub('', number).replace(_SEP, '')}"


def _search_keys(names: str, numbers: str) -> list[str]:
    """:func:`search_key` of every call, from all names and all numbers joined by the separator
    (lower-cased and stripped to digits in one pass each, rather than per call)."""
    digits = numbers.replace("+", "")  # E.164: usually all the work there is
    if _NOT_DIGITS.search(digits):
        digits = _NOT_DIGITS.sub("", digits)
    return list(map("\x00".join, zip(names.lower().split(_SEP), digits.split(_SEP), strict=True)))


def log_status(link_state: str | None, *, artifact_pending: bool, unwritten: bool) -> str:
    """A call's ``LogStatus`` value from its CRM link and its artifacts.

    Args:
        link_state: ``call_logs.state``; None when the call has no log.
        artifact_pending: an artifact is still expected from RingCentral.
        unwritten: an artifact, an edit or a queued update has not reached the CRM yet.
    """
    if link_state is None:
        return "unlogged"
    if link_state == "waiting":
        return "waiting"
    if link_state == "creating":
        return "logging"
    if link_state == "failed":
        return "failed"
    if artifact_pending:
        return "pending"
    if unwritten:
        return "logged"
    return "complete"


@dataclass(frozen=True, slots=True)
class ListedCall:
    """One call as the table shows it (duck-types what the table reads from ``CallRow``)."""

    call_id: str
    session_id: str
    direction: str
    start_time: datetime
    remote_number: str | None
    remote_name: str | None
    contact_id: str | None
    contact_name: str | None
    duration: int | None
    result: str | None
    #: A ``LogStatus`` value.
    status: str
    #: Artifact kinds still expected or not yet written, in :data:`ARTIFACT_KINDS` order.
    pending: tuple[str, ...]
    last_error: str | None
    crm_log_id: str | None
    unlogged_reason: str | None
    #: Filled by the engine from the adapter's link template; the table builds it otherwise.
    log_url: str | None = None


@dataclass(frozen=True)
class CallIndex:
    """Every stored call as parallel columns (one entry per call, in no particular order)."""

    ids: list[str]
    #: :func:`search_key` of each call's name and number.
    keys: list[str]
    #: The name shown: the CRM contact, the one a draft chose, or the caller id ("" when none).
    names: list[str]
    numbers: list[str]
    #: Seconds; -1 when unknown.
    durations: list[int]
    results: list[str]
    #: One state byte per call (``STATE_*``, ``PENDING_*``, :data:`OUTBOUND`, :data:`MISSED`).
    states: bytes

    def __len__(self) -> int:
        return len(self.ids)


_FROM = (
    " FROM calls c"
    " LEFT JOIN call_logs l ON l.session_id = c.session_id AND l.extension_id = c.extension_id"
    " LEFT JOIN drafts d ON d.call_id = c.id"
)
_ORDER = " ORDER BY c.start_time DESC, c.id DESC"

# Only fixed fragments are joined into these statements; values go through ? placeholders.
_ROW_SQL = (
    "SELECT c.id, c.session_id, c.direction, c.start_time, c.remote_number, c.remote_name, c.duration,"
    " c.result, c.unlogged_reason, l.state, l.log_id, l.last_error,"
    " coalesce(nullif(l.contact_id, ''), json_extract(d.data, '$.contact_id')),"
    " coalesce(nullif(l.contact_name, ''), json_extract(d.data, '$.contact_name'))"
    + _FROM
)
# Artifacts and queued CRM writes of a page of calls, one query each (as Store.rows reads them).
_ARTIFACTS_SQL = "SELECT call_id, kind, state, dirty FROM artifacts WHERE call_id IN ({})"
_QUEUED_SQL = "SELECT DISTINCT call_id FROM outbox WHERE state = 'queued' AND call_id IN ({})"

_MISSED_SQL = ", ".join("'" + r + "'" for r in sorted(MISSED_RESULTS))
_ORDER_SQL = (
    "SELECT count(*), group_concat(id, char(1)), group_concat(start_time, char(1))"
    " FROM (SELECT id, start_time FROM calls ORDER BY start_time DESC, id DESC)"
)
_INDEX_COLUMNS = (
    "c.id",
    "coalesce(nullif(l.contact_name, ''), nullif(json_extract(d.data, '$.contact_name'), ''), c.remote_name, '')",
    "coalesce(c.remote_number, '')",
    "coalesce(c.duration, -1)",
    "coalesce(c.result, '')",
    "(CASE WHEN l.state IS NULL THEN 0 WHEN l.state = 'waiting' THEN 1 WHEN l.state = 'creating' THEN 2"
    " WHEN l.state = 'failed' THEN 4 ELSE 3 END)"
    " | (coalesce(p.n, 0) << 3)"
    " | (CASE WHEN c.direction = 'Inbound' THEN 0 ELSE 64 END)"
    f" | (CASE WHEN c.direction = 'Inbound' AND c.result IN ({_MISSED_SQL}) THEN 128 ELSE 0 END)",
)
_INDEX_FROM = (
    _FROM + " LEFT JOIN (SELECT call_id, min(count(*), 7) AS n FROM artifacts"  # noqa: S608
    " WHERE state IN ('pending', 'ready') GROUP BY call_id) p ON p.call_id = c.id"
)
# Each column as one long string, over a scan in no particular order (the ids map the rows).
# group_concat skips NULLs, hence the coalesce() calls: the columns must stay aligned.
_INDEX_SQL = (
    "SELECT count(*), "
    + ", ".join(f"group_concat({column}, char(1))" for column in _INDEX_COLUMNS[:-1])
    + f", group_concat(printf('%02x', {_INDEX_COLUMNS[-1]}), '')"
    + _INDEX_FROM
)
# The same, a row at a time: for the (unheard-of) text holding the separator itself.
_INDEX_ROWS_SQL = "SELECT " + ", ".join(_INDEX_COLUMNS) + _INDEX_FROM


class CallListing:
    """Reads the calls list from the engine's database file (read-only).

    Args:
        path: the engine's database. Use :meth:`open` when the file may not exist yet.

    Raises:
        sqlite3.Error: the file cannot be opened or is not the engine's database.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        uri = path.resolve().as_uri() + "?mode=ro"
        self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=10.0)
        self._conn.execute("SELECT 1 FROM calls LIMIT 0")

    @classmethod
    def open(cls, path: Path) -> CallListing | None:
        """The listing of ``path``, or None when there is no readable calls database there yet."""
        if not path.is_file():
            return None
        try:
            return cls(path)
        except sqlite3.Error:
            return None

    def close(self) -> None:
        self._conn.close()

    def newest(self, limit: int) -> list[ListedCall]:
        """The ``limit`` most recent calls, newest first."""
        return self._rows(_ROW_SQL + _ORDER + " LIMIT ?", [limit])

    def calls(self, ids: Sequence[str]) -> list[ListedCall]:
        """The calls with these ids (those that exist), newest first."""
        out: list[ListedCall] = []
        for start in range(0, len(ids), 500):
            chunk = list(ids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            out += self._rows(_ROW_SQL + f" WHERE c.id IN ({marks})", chunk)  # only ? placeholders
        out.sort(key=lambda r: (ts(r.start_time), r.call_id), reverse=True)
        return out

    def order(self) -> tuple[list[str], list[str]]:
        """Every stored call's id and start time (:func:`ts`), newest first: the whole list,
        before anything else about its calls is read (a scan of one index)."""
        count, ids, starts = self._conn.execute(_ORDER_SQL).fetchone()
        if not count:
            return [], []
        return ids.split(_SEP), starts.split(_SEP)

    def index(self) -> CallIndex:
        """Every stored call as columns, in no particular order."""
        count, ids, names, numbers, durations, results, states = self._conn.execute(_INDEX_SQL).fetchone()
        if not count:
            return CallIndex([], [], [], [], [], [], b"")
        columns = [text.split(_SEP) for text in (ids, names, numbers, durations, results)]
        if any(len(column) != count for column in columns):
            return self._index_by_rows()  # a value held the separator itself
        id_list, name_list, number_list, duration_list, result_list = columns
        return CallIndex(
            ids=id_list,
            keys=_search_keys(names, numbers),
            names=name_list,
            numbers=number_list,
            durations=list(map(int, duration_list)),
            results=list(map(sys.intern, result_list)),  # a handful of values, 100,000 times
            states=bytes.fromhex(states),
        )

    def _index_by_rows(self) -> CallIndex:
        rows = self._conn.execute(_INDEX_ROWS_SQL).fetchall()
        ids, names, numbers, durations, results, states = (list(column) for column in zip(*rows, strict=True))
        return CallIndex(ids, [search_key(n, p) for n, p in zip(names, numbers, strict=True)], names, numbers,
                         durations, results, bytes(states))

    def _rows(self, sql: str, params: Sequence[object]) -> list[ListedCall]:
        found = self._conn.execute(sql, params).fetchall()
        marks = ",".join("?" * len(found))
        ids = [r[0] for r in found]
        artifacts: dict[str, list[tuple[str, str, int]]] = {}
        queued: set[str] = set()
        if found:
            for call_id, kind, state, dirty in self._conn.execute(_ARTIFACTS_SQL.format(marks), ids):
                artifacts.setdefault(call_id, []).append((kind, state, dirty))
            queued = {r[0] for r in self._conn.execute(_QUEUED_SQL.format(marks), ids)}
        out = []
        for (call_id, session_id, direction, start, number, remote_name, duration, result, reason, link_state,
             log_id, last_error, contact_id, contact_name) in found:
            arts = artifacts.get(call_id, ())
            states = {state for _, state, _ in arts}
            unwritten = "ready" in states or any(dirty for _, _, dirty in arts) or call_id in queued
            expected = {kind for kind, state, _ in arts if state in ("pending", "ready")}
            out.append(ListedCall(
                call_id=call_id,
                session_id=session_id,
                direction=sys.intern(direction),
                start_time=datetime.fromisoformat(start),
                remote_number=number,
                remote_name=remote_name,
                contact_id=contact_id,
                contact_name=contact_name,
                duration=duration,
                result=sys.intern(result) if result else result,
                status=log_status(link_state, artifact_pending="pending" in states, unwritten=unwritten),
                pending=tuple(k for k in ARTIFACT_KINDS if k in expected),
                last_error=last_error,
                crm_log_id=log_id,
                unlogged_reason=reason if link_state is None else None,
            ))
        return out
