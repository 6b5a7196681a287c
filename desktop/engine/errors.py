# SPDX-License-Identifier: MIT
"""Exceptions the engine raises to its callers (the UI, the CLI)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from adapters.models import FieldValue


class EngineError(Exception):
    """Base class: ``message`` is what the agent should read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownCall(EngineError):
    """No call with that id is in the store."""


class AlreadyLogged(EngineError):
    """The call (session id + extension) is already logged or being logged: edit it instead."""


class NotLogged(EngineError):
    """The call has no CRM log yet, so it cannot be edited."""


class EditConflict(EngineError):
    """Someone changed the note, subject or dispositions in the CRM since the editor loaded them.

    The UI offers "Reload" (``Engine.open_for_edit`` again) or "Apply just my change"
    (``Engine.save_edit(..., force=True)``), which replaces only what the agent changed in the editor.

    Attributes:
        current_subject, current_note, current_dispositions: what the CRM holds now.
    """

    def __init__(
        self,
        message: str,
        *,
        current_subject: str,
        current_note: str,
        current_dispositions: dict[str, FieldValue],
    ) -> None:
        super().__init__(message)
        self.current_subject = current_subject
        self.current_note = current_note
        self.current_dispositions = current_dispositions


class StoreError(EngineError):
    """The engine's database file could not be read or written (``sqlite3`` said why).

    Subclasses name the cause in words; ``path`` is the file.
    """

    def __init__(self, message: str, path: Path) -> None:
        super().__init__(message)
        self.path = path


class StoreFull(StoreError):
    """The disk (or the file's size limit) is full: the write did not happen; retry once there is room."""


class StoreReadOnly(StoreError):
    """The file may not be written (permissions, a read-only disk, or opened read-only)."""


class StoreBusy(StoreError):
    """Another program holds the file's write lock longer than the store waits."""


class StoreCorrupt(StoreError):
    """The file is not a database, or a damaged one."""


# SQLite's primary result codes (https://www.sqlite.org/rescode.html).
_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY, _SQLITE_IOERR = 5, 6, 8, 10
_SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 13, 14, 26


def store_error(exc: sqlite3.Error, path: Path) -> EngineError | None:
    """``exc`` said in words about ``path``, or None when it is not about the file itself (a
    constraint, a bug in a query: those stay as they are)."""
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    name = path.name
    if code == _SQLITE_FULL:
        return StoreFull(
            f"The disk is full: {name} cannot be written. What you typed is kept; free some space and it is saved.",
            path,
        )
    if code == _SQLITE_READONLY:
        return StoreReadOnly(f"{name} is read-only: nothing new can be saved until Logdesk may write to {path}.", path)
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return StoreBusy(f"{name} is in use by another program; Logdesk tries again.", path)
    if code in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
        return StoreCorrupt(f"{name} is damaged ({exc}).", path)
    if code in (_SQLITE_IOERR, _SQLITE_CANTOPEN):
        return StoreError(f"{path} could not be read or written ({exc}): a problem with the disk or the file.", path)
    return None
