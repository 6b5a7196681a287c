# SPDX-License-Identifier: MIT
"""The "+" dialog: pick the contact, write the note, set the CRM's fields, save.

Contact matches load off the GUI thread (a visible busy state); several matches show a picker and
a notice; no match offers "Create new contact" (where the CRM can) and a search by name. The
subject follows the contact until the agent edits it. The note and every other input are saved as
a draft on every change, so a crash or a closed dialog loses nothing. A failed save keeps
everything and shows the CRM's message with Retry.

Threading contract: GUI thread only. Every :class:`LogPort` method runs on a pool thread through
the injected ``submit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from adapters.base import Manifest, PageField
from adapters.models import Contact
from desktop.engine.errors import EngineError, StoreFull
from desktop.engine.models import Draft
from desktop.ui import dialog_parts
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

CREATE_NEW = "__create__"
SEARCH = "__search__"


@dataclass
class LogContext:
    """What the dialog needs to open: the matches and any saved draft."""

    matches: list[Contact]
    draft: Draft | None = None
    page_fields: list[PageField] = field(default_factory=list)
    #: Why the look-up failed (the dialog still opens, with create/search).
    lookup_error: str | None = None
    #: Whether the CRM can be searched by name.
    can_search: bool = True


@dataclass
class SaveOutcome:
    """How a save ended. ``error`` is the CRM's message when it failed for good."""

    logged: bool
    queued: bool = False
    error: str | None = None
    error_field: str | None = None
    #: The engine's database could not be written (a full disk): nothing was queued; try again.
    disk_full: bool = False
    #: A contact created in the CRM before the disk refused the log: the retry logs against it.
    created_contact: Contact | None = None


class LogPort(Protocol):
    """What the dialog asks of the engine. Every method runs on a worker thread."""

    manifest: Manifest

    def load(self, call_id: str) -> LogContext: ...

    def save_draft(self, call_id: str, draft: Draft) -> None: ...

    def search_contacts(self, name: str) -> list[Contact]: ...

    def log(self, call_id: str, draft: Draft, new_contact_name: str | None) -> SaveOutcome: ...


def default_subject(direction: str, who: str) -> str:
    """``Inbound call from Jane Smith`` / ``Outbound call to +1 650…``."""
    return f"Inbound call from {who}" if direction == "Inbound" else f"Outbound call to {who}"


class LogDialog(CallDialog):
    """Logs one call.

    Signals:
        saved(str): the call id, once the CRM accepted the log (or it is queued to be sent).
        queued(str): the call id, when the log waits in the outbox (the CRM cannot be reached now).
        save_started(str): the call id, when Save was pressed and the input was valid.
    """

    saved = Signal(str)
    save_started = Signal(str)
    queued = Signal(str)

    def __init__(
        self,
        item: CallItem,
        port: LogPort,
        *,
        submit: Submit,
        submit_draft: Submit | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(item, port, submit=submit, submit_draft=submit_draft, name="LogDialog",
                         title=f"Log call — {item.who}", parent=parent)
        self._port: LogPort = port
        self._matches: list[Contact] = []
        self._subject_edited = False
        self._setting_subject = False
        self._loaded = False
        self._saving = False
        self._can_search = True
        self._loading_draft = False
        #: Save showed what to fix: the message follows the input until nothing is left to fix.
        self._problems_shown = False
        self.drafts_saved = 0
        self._build()
        self._set_busy(True, f"Looking up {item.phone or item.who} in {self._manifest.name}…")
        self._submit(
            lambda: port.load(item.call_id), on_result=self._on_load_result, on_error=self._on_load_error
        )

    # --- layout ---------------------------------------------------------------------------------

    def _build(self) -> None:
        root = dialog_root(self, "Log call")
        root.addWidget(call_summary(self.item, outcome=True))

        self.notice = Banner("info", "", action="Look up again", closable=False)
        self.notice.setObjectName("Notice")
        self.notice.action.hide()
        self.notice.action_clicked.connect(self._on_lookup_again_clicked)
        self.notice.hide()
        root.addWidget(self.notice)

        self.busy = BusyRow()
        self.busy_label = self.busy.label
        self.busy_bar = self.busy.bar
        root.addWidget(self.busy)

        form = dialog_form()
        self.contact_combo = QComboBox()
        self.contact_combo.setObjectName("ContactCombo")
        self.contact_combo.setEnabled(False)
        self.contact_combo.currentIndexChanged.connect(self._on_contact_changed)
        form.addRow(form_label("Contact"), self.contact_combo)

        self.new_name = QLineEdit()
        self.new_name.setObjectName("NewContactName")
        self.new_name.setPlaceholderText("Name for the new contact")
        self.new_name.textChanged.connect(self._on_new_name_changed)
        self.new_name_row = form_label("New contact")
        form.addRow(self.new_name_row, self.new_name)

        self.search_row = QWidget()
        search_layout = QHBoxLayout(self.search_row)
        search_layout.setContentsMargins(0, 0, 0, 0)
        self.search_box = SearchBox()
        self.search_box.setObjectName("ContactSearch")
        self.search_box.setPlaceholderText("Contact name")
        self.search_box.returnPressed.connect(self._on_search_clicked)
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self._on_search_clicked)
        search_layout.addWidget(self.search_box, 1)
        search_layout.addWidget(self.search_button)
        self.search_label = form_label("Search")
        form.addRow(self.search_label, self.search_row)

        self.subject = subject_edit(self._manifest)
        self.subject.textEdited.connect(self._on_subject_edited)
        form.addRow(form_label("Subject"), self.subject)

        self.note = note_edit("What was the call about? (saved as you type)")
        self.note.textChanged.connect(self._on_input_changed)
        form.addRow(form_label("Note"), self.note)
        root.addLayout(form)
        self._set_create_visible(False)
        self._set_search_visible(False)

        self.fields_holder = QVBoxLayout()
        root.addLayout(self.fields_holder)
        self.fields: PageFieldsForm | None = None

        self.error = error_banner(self._on_save_clicked)
        root.addWidget(self.error)

        buttons = QHBoxLayout()
        self.draft_label = QLabel("")
        self.draft_label.setProperty("role", "muted")
        buttons.addWidget(self.draft_label, 1)
        self.cancel_button = QPushButton("Close")
        self.cancel_button.setToolTip("Your note stays saved as a draft")
        self.cancel_button.clicked.connect(self.reject)
        buttons.addWidget(self.cancel_button)
        self.save_button = save_button(self, f"Save to {self._manifest.name}", "Save (Ctrl+Enter)",
                                       self._on_save_clicked)
        self.save_button.setEnabled(False)
        buttons.addWidget(self.save_button)
        root.addLayout(buttons)

    def _set_create_visible(self, visible: bool) -> None:
        self.new_name.setVisible(visible)
        self.new_name_row.setVisible(visible)

    def _set_search_visible(self, visible: bool) -> None:
        self.search_row.setVisible(visible)
        self.search_label.setVisible(visible)

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.busy.setVisible(busy)
        self.busy_label.setText(text)

    # --- loading --------------------------------------------------------------------------------

    def _on_load_result(self, context: LogContext) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        self._can_search = context.can_search
        self._matches = list(context.matches)
        fields = context.page_fields or list(self._manifest.page_fields)
        self.fields = PageFieldsForm(fields, self.item.direction)
        self.fields.changed.connect(self._on_input_changed)
        self.fields_holder.addWidget(self.fields)
        self._fill_contacts()
        draft = context.draft
        self._loading_draft = True
        if draft is not None:
            self._apply_draft(draft)
        self._loaded = True
        self._loading_draft = False
        if draft is None or not draft.subject_edited:
            self._update_subject()
        self.save_button.setEnabled(True)
        self.contact_combo.setEnabled(True)
        if context.lookup_error:
            self._show_lookup_error(context.lookup_error)
        self.note.setFocus()
        self.adjustSize()

    def _on_load_error(self, exc: Exception) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        self._matches = []
        self.fields = PageFieldsForm(list(self._manifest.page_fields), self.item.direction)
        self.fields.changed.connect(self._on_input_changed)
        self.fields_holder.addWidget(self.fields)
        self._fill_contacts()
        self._loaded = True
        self._update_subject()
        self.contact_combo.setEnabled(True)
        self.save_button.setEnabled(True)
        self.notice.set_kind("warning")
        self.notice.set_text(f"Could not look up contacts: {error_message(exc)}. You can still create or search one.")
        self.notice.show()

    def _show_lookup_error(self, message: str) -> None:
        self.notice.set_kind("warning")
        self.notice.set_text(f"Could not look up contacts: {message}")
        self.notice.action.show()
        self.notice.show()
        if self._matches:
            return
        # Do not steer the agent into creating a duplicate: make them choose on purpose.
        self.contact_combo.blockSignals(True)
        self.contact_combo.insertItem(0, "Choose a contact…", None)
        self.contact_combo.setCurrentIndex(0)
        self.contact_combo.blockSignals(False)
        self._on_contact_changed()

    def _on_lookup_again_clicked(self) -> None:
        self.notice.action.setEnabled(False)
        self._set_busy(True, f"Looking up {self.item.phone or self.item.who} in {self._manifest.name}…")
        call_id, port = self.item.call_id, self._port
        self._submit(lambda: port.load(call_id), on_result=self._on_lookup_again_result,
                     on_error=lambda exc: self._on_lookup_again_result(LogContext([], lookup_error=error_message(exc))))

    def _on_lookup_again_result(self, context: LogContext) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        self.notice.action.setEnabled(True)
        self.notice.action.hide()
        self._matches = list(context.matches)
        self._fill_contacts()
        if context.lookup_error:
            self._show_lookup_error(context.lookup_error)

    def _fill_contacts(self) -> None:
        combo = self.contact_combo
        combo.blockSignals(True)
        combo.clear()
        for contact in self._matches:
            combo.addItem(_contact_label(contact), contact.id)
        if self._manifest.capabilities.create_contact:
            combo.addItem("Create new contact…", CREATE_NEW)
        if self._can_search:
            combo.addItem("Search contacts by name…", SEARCH)
        combo.setCurrentIndex(0)
        combo.blockSignals(False)
        if len(self._matches) > 1:
            self.notice.set_kind("warning")
            self.notice.set_text(
                f"{len(self._matches)} contacts match this number. Choose the one to log this call against."
            )
            self.notice.show()
        elif not self._matches:
            self.notice.set_kind("info")
            can_create = self._manifest.capabilities.create_contact
            self.notice.set_text(
                "No contact found for this number. "
                + ("Enter a name to create one, or search by name." if can_create else "Search by name.")
            )
            self.notice.show()
        else:
            self.notice.hide()
        self._on_contact_changed()

    def _apply_draft(self, draft: Draft) -> None:
        if draft.contact_id:
            index = self.contact_combo.findData(draft.contact_id)
            if index < 0 and draft.contact_name:
                self._matches.append(Contact(id=draft.contact_id, name=draft.contact_name))
                self.contact_combo.insertItem(len(self._matches) - 1, draft.contact_name, draft.contact_id)
                index = self.contact_combo.findData(draft.contact_id)
            if index >= 0:
                self.contact_combo.setCurrentIndex(index)
        elif draft.contact_name and self._manifest.capabilities.create_contact:
            self.contact_combo.setCurrentIndex(self.contact_combo.findData(CREATE_NEW))
            self.new_name.setText(draft.contact_name)
        self.note.setPlainText(draft.note)
        self._subject_edited = draft.subject_edited
        if draft.subject:
            self._setting_subject = True
            self.subject.setText(draft.subject)
            self._setting_subject = False
        if self.fields is not None and draft.dispositions:
            self.fields.set_values(draft.dispositions)
        self.draft_label.setText("Draft restored")

    # --- contact and subject --------------------------------------------------------------------

    def selected_contact(self) -> Contact | None:
        data = self.contact_combo.currentData()
        return next((c for c in self._matches if c.id == data), None)

    def _on_contact_changed(self, _index: int = 0) -> None:
        data = self.contact_combo.currentData()
        self._set_create_visible(data == CREATE_NEW)
        self._set_search_visible(data == SEARCH)
        if data == CREATE_NEW and not self.new_name.text():
            self.new_name.setFocus()
        if data == SEARCH:
            self.search_box.setFocus()
        if self.fields is not None:
            self.fields.set_contact(self.selected_contact())
        self._update_subject()
        self._on_input_changed()

    def _on_new_name_changed(self, _text: str) -> None:
        self._update_subject()
        self._on_input_changed()

    def _who(self) -> str:
        contact = self.selected_contact()
        if contact is not None:
            return contact.name
        if self.contact_combo.currentData() == CREATE_NEW and self.new_name.text().strip():
            return self.new_name.text().strip()
        return self.item.phone or self.item.who

    def _update_subject(self) -> None:
        if self._subject_edited:
            return
        self._setting_subject = True
        self.subject.setText(default_subject(self.item.direction, self._who()))
        self._setting_subject = False

    def _on_subject_edited(self, text: str) -> None:
        self._subject_edited = bool(text.strip())
        if not self._subject_edited:
            self._update_subject()
        self._on_input_changed()

    def _on_search_clicked(self) -> None:
        name = self.search_box.text().strip()
        if not name:
            return
        self.search_button.setEnabled(False)
        self._set_busy(True, f"Searching {self._manifest.name} for “{name}”…")
        self._submit(
            lambda: self._port.search_contacts(name),
            on_result=self._on_search_result,
            on_error=self._on_search_error,
        )

    def _on_search_result(self, found: Sequence[Contact]) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        self.search_button.setEnabled(True)
        if not found:
            self.notice.set_kind("info")
            self.notice.set_text(f"No contact named “{self.search_box.text().strip()}”.")
            self.notice.show()
            return
        known = {c.id for c in self._matches}
        added = [c for c in found if c.id not in known]
        self._matches.extend(added)
        self.contact_combo.blockSignals(True)
        for contact in added:
            position = len(self._matches) - len(added) + added.index(contact)
            self.contact_combo.insertItem(position, _contact_label(contact), contact.id)
        self.contact_combo.blockSignals(False)
        self.contact_combo.setCurrentIndex(self.contact_combo.findData(found[0].id))
        self.notice.hide()

    def _on_search_error(self, exc: Exception) -> None:
        if not shiboken6.isValid(self):
            return
        self._set_busy(False)
        self.search_button.setEnabled(True)
        self.notice.set_kind("warning")
        self.notice.set_text(f"Search failed: {error_message(exc)}")
        self.notice.show()

    # --- drafts ---------------------------------------------------------------------------------

    def draft(self) -> Draft:
        """The dialog's content as a draft (what is saved on every change)."""
        contact = self.selected_contact()
        creating = self.contact_combo.currentData() == CREATE_NEW
        return Draft(
            contact_id=contact.id if contact else None,
            contact_name=contact.name if contact else (self.new_name.text().strip() or None if creating else None),
            subject=self.subject.text(),
            subject_edited=self._subject_edited,
            note=self.note.toPlainText(),
            dispositions=self.fields.values() if self.fields is not None else {},
        )

    @override
    def _current_draft(self) -> Draft:
        return self.draft()

    def _on_input_changed(self) -> None:
        if not self._loaded or self._loading_draft:
            return
        if self._problems_shown:
            self._show_problems(self.validate())
        self._draft_changed()

    @override
    def _on_draft_saved(self, _none: object) -> None:
        self.drafts_saved += 1
        if shiboken6.isValid(self):
            self.draft_label.setText("Draft saved")
        self._draft_write_ended()

    @override
    def _on_draft_error(self, exc: Exception) -> None:
        if shiboken6.isValid(self):
            self.draft_label.setText(f"Draft not saved: {error_message(exc)}")
        self._draft_write_ended(retry_ms=1000)

    # --- saving ---------------------------------------------------------------------------------

    def validate(self) -> list[str]:
        problems = []
        data = self.contact_combo.currentData()
        if data is None:
            problems.append("Choose a contact.")
        if data == SEARCH:
            problems.append("Choose a contact (search, then pick one).")
        if data == CREATE_NEW and not self.new_name.text().strip():
            problems.append("Enter a name for the new contact.")
            self.new_name.setProperty("invalid", True)
        else:
            self.new_name.setProperty("invalid", False)
        if not self.subject.text().strip():
            problems.append("Enter a subject.")
            self.subject.setProperty("invalid", True)
        else:
            self.subject.setProperty("invalid", False)
        for widget in (self.new_name, self.subject):
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        if self.fields is not None:
            problems += self.fields.validate()
        return problems

    def _on_save_clicked(self) -> None:
        if self._saving or not self._loaded:
            return
        if self._show_problems(self.validate()):
            return
        self.error.hide()
        self._saving = True
        self.save_button.setEnabled(False)
        self.save_button.setText("Saving…")
        draft = self.draft()
        new_name = draft.contact_name if self.contact_combo.currentData() == CREATE_NEW else None
        call_id = self.item.call_id
        self.save_started.emit(call_id)
        self._submit(
            lambda: self._port.log(call_id, draft, new_name),
            on_result=self._on_log_result,
            on_error=self._on_log_error,
        )

    def _show_problems(self, problems: list[str]) -> bool:
        """Shows what to fix below the form (hides the message when nothing is left); True if
        anything is."""
        self._problems_shown = bool(problems)
        if not problems:
            self.error.hide()
            return False
        self.error.set_text(problems[0] if len(problems) == 1 else "Please fix: " + " ".join(problems))
        self.error.action.hide()
        self.error.show()
        return True

    def _on_log_result(self, outcome: SaveOutcome) -> None:
        if not shiboken6.isValid(self):
            return
        self._saving = False
        if outcome.disk_full:
            if outcome.created_contact is not None:
                self._use_created_contact(outcome.created_contact)
            self._wait_for_disk(outcome.error or "The disk is full.")
            return
        if outcome.logged or outcome.queued:
            if outcome.queued:
                self.queued.emit(self.item.call_id)
            self.saved.emit(self.item.call_id)
            self.accept()
            return
        self._show_failure(outcome.error or "The CRM did not accept the log.", outcome.error_field)

    def _on_log_error(self, exc: Exception) -> None:
        if not shiboken6.isValid(self):
            return
        self._saving = False
        if isinstance(exc, StoreFull):
            self._wait_for_disk(exc.message)
            return
        from_crm = not isinstance(exc, EngineError)
        self._show_failure(error_message(exc), getattr(exc, "field", None), from_crm=from_crm)

    def _wait_for_disk(self, message: str) -> None:
        """The disk is full: say so, keep everything typed, and save again by itself in a while."""
        self.error.set_text(message)
        self.error.action.hide()
        self.error.show()
        self.save_button.setEnabled(False)
        self.save_button.setText("Waiting for disk space…")
        QTimer.singleShot(dialog_parts.DISK_RETRY_MS, self._save_after_disk_wait)

    def _save_after_disk_wait(self) -> None:
        if shiboken6.isValid(self) and self.isVisible():
            self._on_save_clicked()

    def _use_created_contact(self, contact: Contact) -> None:
        """Selects a contact created for this log (it exists in the CRM now: never create it twice)."""
        if self.contact_combo.findData(contact.id) < 0:
            self._matches.append(contact)
            self.contact_combo.insertItem(len(self._matches) - 1, _contact_label(contact), contact.id)
        self.contact_combo.setCurrentIndex(self.contact_combo.findData(contact.id))

    def _show_draft_problem(self, message: str) -> None:
        if not self._saving:
            self.error.set_text(message)
            self.error.action.hide()
            self.error.show()

    def _show_failure(self, message: str, field_id: str | None, *, from_crm: bool = True) -> None:
        self.save_button.setEnabled(True)
        self.save_button.setText(f"Save to {self._manifest.name}")
        if field_id and self.fields is not None:
            self.fields.show_error(field_id, message)
        said = f"{self._manifest.name} said: " if from_crm else ""
        self.error.set_text(f"Not saved — {said}{message}")
        self.error.action.show()
        self.error.show()

    @override
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._loaded and not self.draft_settled() and not self._draft_in_flight:
            self._save_draft_now()
        super().closeEvent(event)


class SearchBox(QLineEdit):
    """A line edit whose Enter runs the search (``returnPressed``) and nothing else.

    QLineEdit passes Enter on after ``returnPressed``, and a dialog presses its default button on
    it: in the log dialog, that saved the log with the search not even done.
    """

    @override
    def keyPressEvent(self, event: QKeyEvent) -> None:
        super().keyPressEvent(event)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()


def _contact_label(contact: Contact) -> str:
    extra = " · ".join(p for p in (contact.type, contact.company) if p)
    return f"{contact.name} — {extra}" if extra else contact.name
