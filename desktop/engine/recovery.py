# SPDX-License-Identifier: MIT
"""Opening the engine's database when the file has gone bad.

:func:`open_store` opens ``engine.sqlite3`` the way the app should go on with it, and says what
happened in words (a banner):

- damaged (not a database, a truncated or malformed file): the file (with its ``-wal``) is set aside
  as ``<name>.corrupt-<time>``, a new database is made, and what SQLite can still read of the old
  one is copied in — the links to CRM logs (so no call is logged twice), drafts, the outbox (queued
  CRM writes) and artifact states; not the sync cursors, so every call is fetched again from
  RingCentral;
- read-only (permissions, a read-only disk) or held by another program: opened read-only; the
  calls are shown, the engine saves nothing (``Store.read_only``);
- anything else that keeps it from opening: :class:`~desktop.engine.errors.StoreError` with the
  words, for the caller to show.

Qt-free.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from desktop.engine.errors import StoreBusy, StoreCorrupt, StoreError, StoreReadOnly
from desktop.engine.store import Store

log = logging.getLogger(__name__)

#: What is copied from a damaged database, in this order (``cursors`` is left behind on purpose).
SALVAGED_TABLES = ("calls", "call_logs", "drafts", "artifacts", "outbox")


@dataclass(frozen=True)
class Opened:
    """The store to go on with, and what to tell the agent about it (None: nothing happened)."""

    store: Store
    message: str | None = None


def open_store(path: Path, *, now: datetime | None = None) -> Opened:
    """Opens the engine database at ``path``, setting aside a damaged one or falling back to
    read-only (see the module docstring).

    Raises:
        StoreError: the file can be neither opened, nor set aside (in words).
    """
    try:
        store = Store(path)
        _check(store)
        return Opened(store)
    except StoreCorrupt as exc:
        if "store" in locals():
            store.close()
        return _set_aside(path, exc, now or datetime.now())
    except (StoreReadOnly, StoreBusy) as exc:
        if not path.is_file():
            raise
        read_only = _read_only(path)
        why = (
            "it is in use by another program"
            if isinstance(exc, StoreBusy)
            else "Logdesk may not write to it (check the file's and its folder's permissions)"
        )
        return Opened(
            read_only,
            f"{path.name} is open read-only because {why}: your calls are shown, but nothing new is saved or"
            " logged. Restart Logdesk once that is fixed.",
        )
    except StoreError:
        if path.is_file() and not _writable(path):
            return Opened(
                _read_only(path),
                f"{path.name} is open read-only because Logdesk may not write to it or its folder"
                " (permissions): your calls are shown, but nothing new is saved or logged. Restart Logdesk once"
                " that is fixed.",
            )
        raise


def _check(store: Store) -> None:
    """Walks each table's own b-tree (not a smaller index), so a truncated or damaged file fails
    here, at start, rather than in the middle of the agent's work (10,000 calls: about 15 ms)."""
    for table in ("calls", "call_logs", "drafts", "artifacts", "outbox", "cursors"):
        store._query(f"SELECT COUNT(*) FROM {table} NOT INDEXED")  # noqa: S608 (fixed names)


def _writable(path: Path) -> bool:
    import os

    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _read_only(path: Path) -> Store:
    try:
        return Store(path, read_only=True)
    except StoreError as exc:
        raise StoreError(f"{path} can be neither written nor read: {exc.message}", path) from exc


def is_damaged(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is SQLite saying a file is not a database or is damaged."""
    while exc is not None:
        if isinstance(exc, StoreCorrupt):
            return True
        if isinstance(exc, sqlite3.Error) and (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF in (11, 26):
            return True
        exc = exc.__cause__  # type: ignore[assignment]
    return False


def set_aside(path: Path, now: datetime, why: str) -> Path:
    """Renames a damaged SQLite file (and its ``-wal``/``-shm``) to ``<name>.corrupt-<time>``.

    Raises:
        StoreError: it could not be renamed (in words, starting with ``why``).
    """
    aside = path.with_name(f"{path.name}.corrupt-{now:%Y%m%d-%H%M%S}")
    try:
        path.rename(aside)
        for suffix in ("-wal", "-shm"):
            side = path.with_name(path.name + suffix)
            if side.exists():
                side.rename(aside.with_name(aside.name + suffix))
    except OSError as exc:
        raise StoreError(f"{why} It could not be set aside ({exc}).", path) from exc
    log.warning("%s set aside as %s: %s", path, aside.name, why)
    return aside


def _set_aside(path: Path, cause: StoreCorrupt, now: datetime) -> Opened:
    aside = set_aside(path, now, cause.message)
    store = Store(path)
    counts = salvage(aside, store)
    recovered = [
        f"{counts.get(table, 0)} {label}"
        for table, label in (("call_logs", "links to CRM logs"), ("drafts", "drafts"), ("outbox", "CRM writes"))
        if counts.get(table)
    ]
    what = f"recovered {', '.join(recovered)} from it" if recovered else "nothing could be recovered from it"
    return Opened(
        store,
        f"{cause.message.rstrip('.')}: it was set aside as {aside.name} and Logdesk started a new one; {what}."
        " Your calls are fetched again from RingCentral.",
    )


def salvage(source: Path, store: Store) -> dict[str, int]:
    """Copies what SQLite can still read from the damaged database ``source`` into ``store``, table
    by table (:data:`SALVAGED_TABLES`, the columns both have), skipping rows it cannot read.

    Returns:
        Rows copied per table.
    """
    counts: dict[str, int] = {}
    try:
        old = sqlite3.connect(str(source), isolation_level=None, timeout=1.0)
    except sqlite3.Error:
        return counts
    try:
        for table in SALVAGED_TABLES:
            rows, columns = _readable_rows(old, table)
            if not rows:
                continue
            with store.transaction() as conn:
                ours = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
                keep = [i for i, c in enumerate(columns) if c in ours]
                names = ", ".join(columns[i] for i in keep)
                marks = ", ".join("?" * len(keep))
                copied = 0
                for row in rows:
                    try:
                        conn.execute(
                            f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 (known columns)
                            [row[i] for i in keep],
                        )
                        copied += 1
                    except sqlite3.Error as exc:  # a row the new schema refuses (a NULL where one is required)
                        log.info("not recovered from %s.%s: %s", source.name, table, exc)
            counts[table] = copied
    finally:
        old.close()
    return counts


def _readable_rows(old: sqlite3.Connection, table: str) -> tuple[list[tuple[object, ...]], list[str]]:
    """The rows of ``table`` that can be read, in rowid order, going past damaged pages where the
    table's b-tree still leads to later rows."""
    try:
        columns = [r[1] for r in old.execute(f"PRAGMA table_info({table})")]
    except sqlite3.Error:
        return [], []
    if not columns:
        return [], []
    rows: list[tuple[object, ...]] = []
    after = None
    for _attempt in range(100):
        try:
            cursor = old.execute(
                f"SELECT rowid, * FROM {table}" + (" WHERE rowid > ?" if after is not None else "")  # noqa: S608
                + " ORDER BY rowid",
                () if after is None else (after,),
            )
            for row in cursor:
                after = row[0]
                rows.append(tuple(row[1:]))
            break
        except sqlite3.Error:
            after = (after or 0) + 1  # past the row that could not be read
    return rows, columns
