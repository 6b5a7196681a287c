# SPDX-License-Identifier: MIT
"""The editor: loads a logged call through ``get_call_log`` and saves through ``update_call_log``.

Only the subject, the agent's note and the dispositions can change; the contact is shown
read-only. If the record changed in the CRM after the editor loaded it, the dialog says so and
offers to reload, or to apply just the agent's change on top of what the CRM holds now.

Threading contract: GUI thread only. :class:`EditPort` methods run on a pool thread.
"""

from __future__ import annotations

from typing import Protocol

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from adapters.base import Manifest, PageField
from adapters.models import FieldValue
from desktop.engine.errors import EditConflict
from desktop.engine.models import Draft, EditSession
from desktop.ui.call_table_model import CallItem
from desktop.ui.dialog_parts import (
    BusyRow,
    CallDialog,
    call_summary,
    dialog_form,
    dialog_root,
    error_banner,
    error_message,
    note_edit,
    save_button,
    subject_edit,
)
from desktop.ui.overrides import override
from desktop.ui.page_fields_form import PageFieldsForm, form_label
from desktop.ui.widgets import Banner
from desktop.workers import Submit


class EditPort(Protocol):
    """What the editor asks of the engine. Every method runs on a worker thread."""

    manifest: Manifest

    def page_fields(self) -> list[PageField]: ...

    def open_for_edit(self, call_id: str) -> EditSession: ...

    def draft(self, call_id: str) -> Draft | None:
        """The agent's unsaved input for the call (here: an edit not sent yet), if any."""
        ...

    def save_draft(self, call_id: str, draft: Draft) -> None: ...

    def save_edit(
        self,
        session: EditSession,
        *,
        subject: str | None,
        note: str | None,
        dispositions: dict[str, FieldValue] | None,
        force: bool = False,
    ) -> None:
        """Raises :class:`EditConflict` when the CRM record changed since ``session`` was read."""
        ...


class EditDialog(CallDialog):
    """Edits one logged call.

    Signals:
        saved(str): the call id, after the CRM accepted the update.
    """

    saved = Signal(str)

    def __init__(
        self,
        item: CallItem,
        port: EditPort,
        *,
        submit: Submit,
        submit_draft: Submit | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(item, port, submit=submit, submit_draft=submit_draft, name="EditDialog",
                         title=f"Edit log — {item.who}", parent=parent)
        self._port: EditPort = port
        self._watching = False
        self._connected = False
        self.session: EditSession | None = None
        self._saving = False
        self._restored = False
        self._problems_shown = False
        self._build()
        self._load()

    def _build(self) -> None:
        root = dialog_root(self, "Edit log")
        root.addWidget(call_summary(self.item, outcome=False))

        self.conflict = Banner("warning", "", action="Reload", closable=False)
        self.conflict.setObjectName("ConflictBanner")
        self.conflict.action_clicked.connect(self._on_reload_clicked)
        self.apply_mine = QPushButton("Apply just my changes")
        self.apply_mine.setObjectName("ApplyMine")
        self.apply_mine.clicked.connect(self._on_apply_mine_clicked)
        conflict_layout = self.conflict.layout()
        assert conflict_layout is not None
        conflict_layout.addWidget(self.apply_mine)
        self.conflict.hide()
        root.addWidget(self.conflict)

        self.busy = BusyRow()
        self.busy_label = self.busy.label
        root.addWidget(self.busy)

        form = dialog_form()
        self.contact = QLineEdit()
        self.contact.setObjectName("Contact")
        self.contact.setReadOnly(True)
        self.contact.setToolTip("A log stays with the contact it was created for")
        form.addRow(form_label("Contact"), self.contact)
        self.subject = subject_edit(self._manifest)
        form.addRow(form_label("Subject *"), self.subject)
        self.note = note_edit("Your note (call details written by Logdesk stay as they are)")
        form.addRow(form_label("Note"), self.note)
        root.addLayout(form)
        self.fields_holder = QVBoxLayout()
        root.addLayout(self.fields_holder)
        self.fields: PageFieldsForm | None = None

        self.restored = Banner("info", "Your changes from last time were not saved yet: they are back. Update to send "
                               "them, or Cancel to drop them.", closable=True)
        self.restored.setObjectName("RestoredBanner")
        self.restored.hide()
        root.addWidget(self.restored)

        self.discard = Banner("warning", "You changed this log. Close without saving?", action="Discard changes",
                              closable=False)
        self.discard.setObjectName("DiscardBanner")
        self.discard.action_clicked.connect(self._discard_and_close)
        self.discard.hide()
        root.addWidget(self.discard)

        self.error = error_banner(self._on_save_clicked)
        root.addWidget(self.error)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        buttons.addWidget(self.cancel_button)
        self.save_button = save_button(self, "Update", "Update (Ctrl+Enter)", self._on_save_clicked)
        buttons.addWidget(self.save_button)
        root.addLayout(buttons)
        self._set_inputs_enabled(False)

    def _set_inputs_enabled(self, enabled: bool) -> None:
        for widget in (self.subject, self.note, self.save_button):
            widget.setEnabled(enabled)
        if self.fields is not None:
            self.fields.setEnabled(enabled)

    # --- loading --------------------------------------------------------------------------------

    def _load(self) -> None:
        self.busy.show()
        self.busy_label.setText(f"Loading the log from {self._manifest.name}…")
        self._set_inputs_enabled(False)
        call_id = self.item.call_id
        port = self._port
        self._submit(
            lambda: (port.open_for_edit(call_id), port.page_fields(), port.draft(call_id)),
            on_result=self._on_load_result,
            on_error=self._on_load_error,
        )

    def _on_load_result(self, result: tuple[EditSession, list[PageField], Draft | None]) -> None:
        if not shiboken6.isValid(self):
            return
        session, fields, draft = result
        self._watching = False
        self.session = session
        self.busy.hide()
        self.conflict.hide()
        self.error.hide()
        self.contact.setText(session.contact_name or self.item.who)
        self.subject.setText(session.subject)
        self.note.setPlainText(session.note)
        if self.fields is None:
            self.fields = PageFieldsForm(fields, self.item.direction, use_defaults=False)
            self.fields_holder.addWidget(self.fields)
        self.fields.set_values(session.dispositions)
        if draft is not None and draft.subject_edited and not self._restored:
            # An edit typed earlier and never sent (closed by a crash): put it back, and say so.
            self._restored = True
            self.subject.setText(draft.subject)
            self.note.setPlainText(draft.note)
            self.fields.set_values(draft.dispositions)
            if self.has_changes():
                self.restored.show()
        self._set_inputs_enabled(True)
        self.note.setFocus()
        self.note.moveCursor(self.note.textCursor().MoveOperation.End)
        if not self._connected:
            self._connected = True
            self.subject.textChanged.connect(self._on_input_changed)
            self.note.textChanged.connect(self._on_input_changed)
            self.fields.changed.connect(self._on_input_changed)
        self._watching = True

    # --- edit drafts ----------------------------------------------------------------------------

    @override
    def _current_draft(self) -> Draft:
        """What the editor holds, as a draft; an empty one once nothing differs from the CRM."""
        if not self.has_changes():
            return Draft()
        return Draft(
            subject=self.subject.text(),
            subject_edited=True,  # marks an edit in progress (not a new log's subject choice)
            note=self.note.toPlainText(),
            dispositions=self.fields.values() if self.fields is not None else {},
        )

    def _on_input_changed(self) -> None:
        if not self._watching or self.session is None:
            return
        if self._problems_shown:
            self._show_problems(self._problems())
        self._draft_changed()

    def _forget_draft(self) -> None:
        self._watching = False
        self._draft_dirty = False
        call_id, port = self.item.call_id, self._port
        self._submit_draft(lambda: port.save_draft(call_id, Draft()), on_result=lambda _r: None,
                           on_error=lambda _e: None)

    def _on_load_error(self, exc: Exception) -> None:
        if not shiboken6.isValid(self):
            return
        self.busy.hide()
        self.error.set_text(f"Could not load the log from {self._manifest.name}: {error_message(exc)}")
        self.error.action.setText("Try again")
        try:
            self.error.action_clicked.disconnect()
        except (RuntimeError, TypeError):
            pass
        self.error.action_clicked.connect(self._retry_load)
        self.error.show()

    def _retry_load(self) -> None:
        self.error.hide()
        self.error.action_clicked.disconnect()
        self.error.action.setText("Retry")
        self.error.action_clicked.connect(self._on_save_clicked)
        self._load()

    # --- saving ---------------------------------------------------------------------------------

    def changes(self) -> tuple[str | None, str | None, dict[str, FieldValue] | None]:
        """What the agent changed: ``None`` for each part left as loaded."""
        assert self.session is not None
        subject = self.subject.text()
        note = self.note.toPlainText()
        values = self.fields.values() if self.fields is not None else {}
        loaded = {k: self.session.dispositions.get(k) for k in values}
        return (
            subject if subject != self.session.subject else None,
            note if note != self.session.note else None,
            values if values != loaded else None,
        )

    def _problems(self) -> list[str]:
        """What stops an update (the fields show theirs next to them)."""
        problems = [] if self.subject.text().strip() else ["Enter a subject."]
        if self.fields is not None:
            problems += self.fields.validate()
        return problems

    def _show_problems(self, problems: list[str]) -> bool:
        """Shows what to fix below the form (hides the message when nothing is left); True if
        anything is. Shown, it follows the input until nothing is left to fix."""
        self._problems_shown = bool(problems)
        if not problems:
            self.error.hide()
            return False
        self.error.set_text(" ".join(problems))
        self.error.action.hide()
        self.error.show()
        return True

    def _on_save_clicked(self, *, force: bool = False) -> None:
        if self._saving or self.session is None:
            return
        if self._show_problems(self._problems()):
            return
        subject, note, dispositions = self.changes()
        if subject is None and note is None and dispositions is None:
            self.accept()
            return
        self._saving = True
        self.error.hide()
        self.save_button.setEnabled(False)
        self.save_button.setText("Updating…")
        session, port = self.session, self._port
        self._submit(
            lambda: port.save_edit(session, subject=subject, note=note, dispositions=dispositions, force=force),
            on_result=self._on_save_result,
            on_error=self._on_save_error,
        )

    def _on_save_result(self, _none: object) -> None:
        if not shiboken6.isValid(self):
            return
        self._saving = False
        self._forget_draft()
        self.saved.emit(self.item.call_id)
        self.accept()

    def _on_save_error(self, exc: Exception) -> None:
        if not shiboken6.isValid(self):
            return
        self._saving = False
        self.save_button.setEnabled(True)
        self.save_button.setText("Update")
        if isinstance(exc, EditConflict):
            self.conflict.set_text(
                f"This log was changed in {self._manifest.name} after you opened it. Reload to see the "
                "current version (your edits here are discarded), or apply just your changes on top of it."
            )
            self.conflict.show()
            return
        self.error.set_text(f"Not updated — {self._manifest.name} said: {error_message(exc)}")
        self.error.action.show()
        self.error.show()

    def _on_reload_clicked(self) -> None:
        self.conflict.hide()
        self._restored = True  # "Reload" means the CRM's version, not the edit typed here
        self._forget_draft()
        self._load()

    def has_changes(self) -> bool:
        return self.session is not None and self.changes() != (None, None, None)

    @override
    def reject(self) -> None:
        """Cancel / Escape / the close button: asks once before dropping typed changes."""
        if self.has_changes() and not self._saving and not self.discard.isVisible():
            self.discard.show()
            return
        super().reject()

    def _discard_and_close(self) -> None:
        self.discard.hide()
        self._forget_draft()
        super().reject()

    def _on_apply_mine_clicked(self) -> None:
        self.conflict.hide()
        self._on_save_clicked(force=True)
