# SPDX-License-Identifier: MIT
"""What the dialogs and the main window ask of the engine, phrased for them.

:class:`EnginePorts` implements :class:`~desktop.ui.log_dialog.LogPort` and
:class:`~desktop.ui.edit_dialog.EditPort` over :class:`desktop.engine.service.Engine` and the
CRM adapter. It holds no Qt objects.

Threading contract: every method blocks (SQLite, the network) and is called on a pool thread.
"""

from __future__ import annotations

import logging
from typing import Any

from adapters.base import AdapterError, CrmAdapter, Manifest, PageField, page_fields_for
from adapters.models import Contact, FieldValue
from desktop.engine.errors import StoreFull
from desktop.engine.models import Draft, EditSession
from desktop.engine.service import Engine
from desktop.engine.store import LinkState
from desktop.ui.log_dialog import LogContext, SaveOutcome

log = logging.getLogger(__name__)


class ContactCreateUnsupported(AdapterError):
    """This CRM cannot create contacts from Logdesk."""


class EnginePorts:
    """The engine, as the log dialog, the editor and the calls list use it.

    Args:
        engine: the engine.
        adapter: the CRM adapter the engine writes to (for page fields, contact creation and
            search by name, which are adapter extras outside the engine's contract).
    """

    def __init__(self, engine: Engine, adapter: CrmAdapter) -> None:
        self.engine = engine
        self.adapter = adapter
        self.manifest: Manifest = adapter.manifest

    def use_adapter(self, adapter: CrmAdapter) -> None:
        """The CRM the engine now logs into (``Engine.use_adapter``): dialogs opened from now on
        ask it. GUI thread."""
        self.adapter = adapter
        self.manifest = adapter.manifest

    # --- log dialog -----------------------------------------------------------------------------

    def page_fields(self) -> list[PageField]:
        """The log page's fields: live ones where the adapter offers them (current dispositions)."""
        return page_fields_for(self.adapter)

    def load(self, call_id: str) -> LogContext:
        draft = self.engine.draft(call_id)
        lookup_error: str | None = None
        try:
            matches = self.engine.match_contacts(call_id)
        except AdapterError as exc:
            matches = []
            lookup_error = str(exc)
        if draft is not None and draft.contact_id and all(c.id != draft.contact_id for c in matches):
            matches.append(Contact(id=draft.contact_id, name=draft.contact_name or draft.contact_id))
        return LogContext(
            matches=matches,
            draft=draft,
            page_fields=self.page_fields(),
            lookup_error=lookup_error,
            can_search=self.can_search(),
        )

    def save_draft(self, call_id: str, draft: Draft) -> None:
        self.engine.save_draft(call_id, draft)

    def draft(self, call_id: str) -> Draft | None:
        return self.engine.draft(call_id)

    def can_search(self) -> bool:
        return callable(getattr(self.adapter, "search_contacts", None)) or callable(
            getattr(self.adapter, "contacts", None)
        )

    def search_contacts(self, name: str) -> list[Contact]:
        search = getattr(self.adapter, "search_contacts", None)
        if callable(search):
            found = search(name)
            return list(found)
        every = getattr(self.adapter, "contacts", None)
        if callable(every):
            needle = name.strip().lower()
            return [c for c in every() if needle in c.name.lower()][:50]
        raise AdapterError(f"{self.manifest.name} cannot search contacts by name.")

    def create_contact(self, name: str, phone: str | None) -> Contact:
        create: Any = getattr(self.adapter, "create_contact", None) or getattr(self.adapter, "add_contact", None)
        if not callable(create) or not self.manifest.capabilities.create_contact:
            raise ContactCreateUnsupported(f"{self.manifest.name} cannot create contacts from Logdesk.")
        contact = create(name, phone)
        assert isinstance(contact, Contact)
        return contact

    def log(self, call_id: str, draft: Draft, new_contact_name: str | None) -> SaveOutcome:
        """Creates the contact if asked, queues the log, and sends it now.

        Returns:
            ``logged`` when the CRM has it; ``queued`` when it waits in the outbox (offline,
            rate-limited, retrying); otherwise ``error`` with the CRM's message.
        """
        contact = None
        try:
            if new_contact_name:
                phone = self._remote_number(call_id)
                contact = self.create_contact(new_contact_name, phone)
                draft = draft.model_copy(update={"contact_id": contact.id, "contact_name": contact.name})
                self.engine.save_draft(call_id, draft)
            self.engine.log_call(call_id, draft)
        except StoreFull as exc:  # nothing queued: the dialog keeps the input and tries again
            return SaveOutcome(logged=False, error=exc.message, disk_full=True, created_contact=contact)
        self.engine.run_outbox()
        link = self.engine.store.link_for_call(call_id)
        if link is None:
            return SaveOutcome(logged=False, error="The log request was lost; please try again.")
        if link.state == LinkState.LOGGED:
            return SaveOutcome(logged=True)
        if link.state == LinkState.FAILED:
            return SaveOutcome(logged=False, error=link.last_error or "The CRM did not accept the log.",
                               error_field=_field_of(link.last_error))
        return SaveOutcome(logged=False, queued=True, error=link.last_error)

    def _remote_number(self, call_id: str) -> str | None:
        call = self.engine.store.call(call_id)
        if call is None:
            return None
        return call.remote.phone_number or call.remote.extension_number

    # --- editor ---------------------------------------------------------------------------------

    def open_for_edit(self, call_id: str) -> EditSession:
        return self.engine.open_for_edit(call_id)

    def save_edit(
        self,
        session: EditSession,
        *,
        subject: str | None,
        note: str | None,
        dispositions: dict[str, FieldValue] | None,
        force: bool = False,
    ) -> None:
        self.engine.save_edit(
            session,
            subject if subject is not None else session.subject,
            note if note is not None else session.note,
            dispositions if dispositions is not None else dict(session.dispositions),
            force=force,
        )


def _field_of(message: str | None) -> str | None:
    if message and "Field: " in message:
        return message.rsplit("Field: ", 1)[1].rstrip(".").strip() or None
    return None
