# SPDX-License-Identifier: MIT
"""Keeps the live-call strip, the calls table and the engine in step while calls happen.

Live changes arrive from the composition root (already applied to the engine on the socket
thread) as :class:`~desktop.engine.models.LiveChange` values. On a ring the matched contact is
looked up once (off the GUI thread); the note pad saves the call's draft on every keystroke (one
save in flight, the latest text always wins); when the call ends the log form opens with the note
(a setting), or — when the call is already logged — the note goes to the log as an edit. Call-pop
opens the matched contact in the CRM on ring or on answer (a setting).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from adapters.models import Contact
from desktop.engine.models import CallRow, Draft, LiveChange
from desktop.ui.call_table_model import CallItem, LogStatus, display_number
from desktop.ui.live_strip import LiveCallStrip, LiveView

if TYPE_CHECKING:
    from desktop.settings import AppSettings
    from desktop.ui.main_controller import MainController
    from desktop.workers import Submit


def live_view(row: CallRow, contact: str = "", can_open: bool = False) -> LiveView | None:
    """The strip's view of an engine row (None for a row without live events)."""
    live = row.live
    if live is None:
        return None
    status = str(getattr(row.status, "value", row.status))
    log_state = {"logging": "Logging…", "waiting": "Logging…", "failed": "Log failed"}.get(status, "")
    if row.crm_log_id:
        log_state = "Logged"
    return LiveView(
        call_id=row.call_id,
        direction=row.direction,
        number=display_number(row.remote_number),
        name=row.remote_name or "",
        state=live.state,
        rang_at=live.rang_at,
        answered_at=live.answered_at,
        held_since=live.held_since,
        ended_at=live.ended_at,
        recording=live.recording,
        queue_name=live.queue_name,
        log_state=log_state,
        transferred=live.transferred,
        contact=contact,
        can_open_contact=can_open,
    )


class LiveController(QObject):
    """The live half of the main window.

    Args:
        main: the main controller (table, dialogs, links).
        strip: the strip widget.
        settings: the current settings (asked each time: Settings may change them).
        submit: io-pool jobs (contact look-ups, sending the note to a logged call).
        submit_draft: draft saves (their own pool).

    Signals:
        contacts_matched(str): the ring-time contact look-up finished (call id).
        note_saved(str): a note pad save reached the engine (call id).
    """

    contacts_matched = Signal(str)
    note_saved = Signal(str)

    def __init__(
        self,
        main: MainController,
        strip: LiveCallStrip,
        *,
        settings: Callable[[], AppSettings],
        submit: Submit,
        submit_draft: Submit,
    ) -> None:
        super().__init__(strip)
        self.main = main
        self.strip = strip
        self._settings = settings
        self._submit = submit
        self._submit_draft = submit_draft
        self._engine = main.ports.engine
        self._rows: dict[str, CallRow] = {}
        self._contacts: dict[str, list[Contact]] = {}
        self._popped: set[str] = set()
        self._saving: set[str] = set()
        self._unsaved: dict[str, str] = {}
        self._commit_after: set[str] = set()
        self._shown: str | None = None
        strip.note_edited.connect(self.on_note_edited)
        strip.log_requested.connect(self.on_log_requested)
        strip.dismissed.connect(self.on_dismissed)
        strip.open_contact_requested.connect(self.on_open_contact_requested)
        strip.current_changed.connect(self._show)

    # --- live changes ---------------------------------------------------------------------------

    def on_live_changed(self, change: LiveChange) -> None:
        row = change.row
        self._rows[row.call_id] = row
        self.main.upsert_items([self._item(row)])
        if change.rang:
            self._look_up_contacts(row)
            shown = self._rows.get(self._shown) if self._shown else None
            if shown is not None and shown.live is not None and not shown.live.is_live:
                self._flush_note(shown.call_id, commit=True)  # the next call takes the strip
        settings = self._settings()
        if change.connected and settings.call_pop == "answer":
            self._call_pop(row.call_id)
        takes_strip = self._shown is None or not self._is_live(self._shown) or change.rang
        if row.live is not None and row.live.is_live and takes_strip:
            self._shown = row.call_id
            self._load_note(row.call_id)
        if self._shown == row.call_id or self._shown is None:
            self._shown = row.call_id
            self._render()
        if change.ended:
            self._on_ended(row)

    def _item(self, row: CallRow) -> CallItem:
        """The table's item for a live row, named after the contact matched at ring time."""
        item = CallItem.from_row(row)
        matches = self._contacts.get(row.call_id)
        if matches and len(matches) == 1 and not row.contact_name:
            item = replace(item, contact_name=matches[0].name, has_crm_contact=True, search_key="")
        return item

    def _is_live(self, call_id: str) -> bool:
        row = self._rows.get(call_id)
        return bool(row and row.live and row.live.is_live)

    def _on_ended(self, row: CallRow) -> None:
        if row.crm_log_id or str(getattr(row.status, "value", row.status)) in ("logging", "waiting"):
            # Already logged (auto-log, or logged during the call): the pad's note goes to the log.
            self._flush_note(row.call_id, commit=True)
            return
        self._flush_note(row.call_id)
        if self._settings().open_log_on_call_end and self.strip.call_id == row.call_id:
            item = self.main.model.item(row.call_id) or CallItem.from_row(row)
            if item.status is LogStatus.UNLOGGED:
                self.strip.hand_over_note("the log form")
                dialog = self.main.open_log(item)
                dialog.finished.connect(lambda _r, cid=row.call_id: self._after_dialog(cid))

    def _after_dialog(self, call_id: str) -> None:
        if self.strip.call_id == call_id:
            self._load_note(call_id)
            self.main.poller.poll_now()

    def _render(self) -> None:
        call_id = self._shown
        row = self._rows.get(call_id) if call_id else None
        if row is None:
            self.strip.clear()
            return
        view = self._view_of(row)
        if view is None:
            self.strip.clear()
            return
        others = [v for cid, r in self._rows.items() if cid != call_id and r.live and r.live.is_live
                  and (v := self._view_of(r)) is not None]
        self.strip.show_call(view, others=others)

    def _view_of(self, row: CallRow) -> LiveView | None:
        matches = self._contacts.get(row.call_id)
        if matches is None:
            contact = ""
        elif len(matches) == 1:
            contact = matches[0].name
        elif matches:
            contact = f"{len(matches)} contacts"
        elif row.is_internal:
            contact = "Colleague"  # an extension: found only with extension logging on
        else:
            contact = "No contact"
        can_open = bool(matches) and any(self._contact_url(c) is not None for c in matches or ())
        return live_view(row, contact, can_open)

    def _show(self, call_id: str) -> None:
        self._shown = call_id
        self._load_note(call_id)
        self._render()

    # --- contacts and call-pop -------------------------------------------------------------------

    def _look_up_contacts(self, row: CallRow) -> None:
        call_id = row.call_id
        engine = self._engine

        def done(found: list[Contact]) -> None:
            self._contacts[call_id] = list(found)
            item = self.main.model.item(call_id)
            if len(found) == 1 and item is not None and not item.has_crm_contact:
                # The table names the caller as the strip does (search finds the name at once too).
                self.main.model.update_call(call_id, contact_name=found[0].name, has_crm_contact=True, search_key="")
            if self._shown == call_id:
                self._render()
            if self._settings().call_pop == "ring":
                self._call_pop(call_id)
            self.contacts_matched.emit(call_id)

        def failed(exc: Exception) -> None:
            self._contacts[call_id] = []
            self.main.window.flash(f"Could not look up the caller: {exc}", 6000)
            self.contacts_matched.emit(call_id)

        self._submit(lambda: engine.match_contacts(call_id), on_result=done, on_error=failed)

    def _contact_url(self, contact: Contact) -> str | None:
        template = self.main.ports.manifest.urls.open_contact
        if not template or not contact.id:
            return None
        values: dict[str, Any] = {**self.main._connection_settings, "contact_id": contact.id, "log_id": ""}
        try:
            return str(template.format(**values))
        except (KeyError, IndexError, ValueError):
            return None

    def _call_pop(self, call_id: str) -> None:
        if call_id in self._popped:
            return
        matches = self._contacts.get(call_id)
        if not matches:
            return
        mode = self._settings().call_pop_multiple
        if len(matches) > 1 and mode == "none":
            return
        chosen = matches if len(matches) == 1 or mode == "all" else []
        if len(matches) > 1 and mode == "ask":
            self.strip.show()
            self.main.window.flash(f"{len(matches)} contacts match: pick one with “Open contact”.", 8000)
            self._popped.add(call_id)
            return
        self._popped.add(call_id)
        for contact in chosen:
            url = self._contact_url(contact)
            if url:
                self.main._open_url(url)

    def on_open_contact_requested(self, call_id: str) -> None:
        matches = self._contacts.get(call_id) or []
        if len(matches) == 1:
            url = self._contact_url(matches[0])
            if url:
                self.main._open_url(url)
            return
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self.strip)
        for contact in matches:
            url = self._contact_url(contact)
            if url:
                menu.addAction(contact.name, partial(self.main._open_url, url))
        menu.popup(self.strip.open_contact_button.mapToGlobal(self.strip.open_contact_button.rect().bottomLeft()))

    # --- the note pad -----------------------------------------------------------------------------

    def _load_note(self, call_id: str) -> None:
        engine = self._engine

        def loaded(draft: Draft | None) -> None:
            if self.strip.call_id == call_id and call_id not in self._unsaved:
                self.strip.set_note(draft.note if draft else "")

        self._submit_draft(lambda: engine.draft(call_id), on_result=loaded, on_error=lambda _e: None)

    def on_note_edited(self, call_id: str, text: str) -> None:
        self._unsaved[call_id] = text
        self._flush_note(call_id)

    def _flush_note(self, call_id: str, *, commit: bool = False) -> None:
        """Saves the pad's latest text (one save in flight per call); with ``commit``, then sends it
        to the call's log if the call is logged (same job, after the save)."""
        if call_id in self._saving:
            if commit:
                self._commit_after.add(call_id)
            return
        text = self._unsaved.pop(call_id, None)
        commit = commit or call_id in self._commit_after
        self._commit_after.discard(call_id)
        if text is None and not commit:
            return
        self._saving.add(call_id)
        engine = self._engine

        def save() -> bool:
            if text is not None:
                draft = engine.draft(call_id) or Draft()
                engine.save_draft(call_id, draft.model_copy(update={"note": text}))
            return engine.commit_live_note(call_id) if commit else False

        def done(sent: object = None) -> None:
            self._saving.discard(call_id)
            self.note_saved.emit(call_id)
            if sent:
                self.main.poller.poll_now()
            if call_id in self._unsaved or call_id in self._commit_after:
                self._flush_note(call_id)

        def failed(exc: Exception) -> None:
            self._saving.discard(call_id)
            if text is not None:
                self._unsaved.setdefault(call_id, text)  # kept: the next keystroke or the end retries
            self.main.window.flash(f"Your note is kept as a draft for now: {exc}", 6000)

        self._submit_draft(save, on_result=done, on_error=failed)

    # --- actions ------------------------------------------------------------------------------------

    def on_log_requested(self, call_id: str) -> None:
        self._flush_note(call_id)
        row = self._rows.get(call_id)
        item = self.main.model.item(call_id) or (CallItem.from_row(row) if row else None)
        if item is None:
            return
        self.strip.hand_over_note("the log form")
        dialog = self.main.open_log(item)
        dialog.finished.connect(lambda _r: self._after_dialog(call_id))

    def on_dismissed(self, call_id: str) -> None:
        self._flush_note(call_id, commit=True)
        self._rows.pop(call_id, None)
        live = [cid for cid, r in self._rows.items() if r.live and r.live.is_live]
        self._shown = live[-1] if live else None
        if self._shown:
            self._load_note(self._shown)
        self._render()
