# SPDX-License-Identifier: MIT
"""The contract-suite harness for the Acme adapter:
the adapter wired to a fresh fake server."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from adapters.base import Connection
from adapters.models import CallLogRef, Contact, FieldValue
from adapters.testing import ContractHarness, FailureKind

# isort: split
from adapters.template.acme import AcmeAdapter
from adapters.template.acme_fake import (
    BASE_URL,
    TEST_TOKEN,
    FakeAcmeServer,
)


class AcmeHarness(ContractHarness):
    """A new fake Acme server and an adapter talking to it
    through ``httpx.MockTransport``."""

    supports_http_faults = True

    def __init__(self) -> None:
        self.server = FakeAcmeServer(token=TEST_TOKEN)
        self.adapter: AcmeAdapter = AcmeAdapter(
            Connection(settings={"api_base_url": BASE_URL}, secrets={"api_token": TEST_TOKEN}),
            client=httpx.Client(transport=self.server.transport(), timeout=5.0),
        )

    def add_contact(self, name: str, phone: str, *, extension: str | None = None) -> str:
        if extension is not None:
            return self.server.add_user(name, extension, phone)
        contact_id = self.server.add_contact(name, phone)
        self.server.add_deal(contact_id, f"{name}: renewal")
        self.server.add_deal(contact_id, f"{name}: upgrade")
        return contact_id

    def person_edits_log(
        self, ref: CallLogRef, *, subject: str | None = None, body: Callable[[str], str] | None = None
    ) -> None:
        self.server.person_edits(ref.log_id, subject=subject, note=body)

    def read_log_raw(self, ref: CallLogRef) -> dict[str, Any]:
        raw = dict(self.server.activities[ref.log_id])
        raw["body"] = raw["note"]
        # The call's facts, from Acme's own fields
        # (duration_seconds and contact_id are Acme's names too).
        raw["direction"] = str(raw["direction"]).capitalize()
        raw["start_time"] = datetime.fromisoformat(raw["started_at"])
        raw["dispositions"] = {
            "outcome": raw["outcome"],
            "follow_up": raw["follow_up"],
            "deal": raw["deal_id"],
            "ticket": raw["ticket"],
        }
        return raw

    def sample_dispositions(self, contact: Contact, *, alternate: bool = False) -> dict[str, FieldValue]:
        # The generic values, plus one for the patterned "ticket" field the generic ones skip.
        return {
            **super().sample_dispositions(contact, alternate=alternate),
            "ticket": "SUP-7" if alternate else "SUP-1042",
        }

    def inject_failure(self, kind: FailureKind, *, retry_after: float | None = None, body: Any = None) -> None:
        self.server.faults.inject(kind, retry_after=retry_after, body=body)
