# SPDX-License-Identifier: MIT
"""Exceptions the engine raises to its callers (the UI, the CLI)."""

from __future__ import annotations

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
