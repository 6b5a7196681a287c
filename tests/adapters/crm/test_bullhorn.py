# SPDX-License-Identifier: MIT
"""The Bullhorn adapter against the fake Bullhorn (tests/fakes/bullhorn.py): the contract suite,
in-process and over loopback sockets, and what is Bullhorn's own: data-centre discovery, the
browser sign-in with the key's secret, the REST session and its renewal, note actions, job orders
and placements, versions, recovery, rate limits and error bodies."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters import oauth
from adapters.base import Connection
from adapters.crm.bullhorn import BullhornAdapter
from adapters.models import CallLogRef
from adapters.testing import ContractHarness, CrmAdapterContract
from tests.adapters.crm.renewing_harness import RenewingHarness
from tests.fakes.bullhorn import CLIENT_ID, CLIENT_SECRET, USERNAME, BullhornFake
from tests.fakes.loopback import LoopbackServer

E164 = "+14155550123"
_HEADING = re.compile(r"<h3>(.*?)</h3>", re.DOTALL)


def split_note(comments: str) -> tuple[str, str]:
    """How a person reads a note in Bullhorn: the heading, then the rest."""
    match = _HEADING.match(comments)
    if match is None:
        return "", comments
    return html.unescape(match.group(1)), comments[match.end():]


class BullhornHarness(RenewingHarness):
    """An adapter signed in to a fresh fake Bullhorn (the sign-in itself is tested below).

    ``inject_failure(401)`` makes Bullhorn refuse the session twice in a row: the adapter renews a
    refused session once by design (a session can end before its ttl), tested on its own below.
    """

    facts_not_stored = frozenset({"direction"})  # a Note has no direction field
    duration_grain = 60  # minutesSpent is whole minutes

    def __init__(
        self, fake: BullhornFake | None = None, *, client: httpx.Client | None = None, base_url: str | None = None
    ) -> None:
        self.fake = fake or BullhornFake()
        self.saved: list[dict[str, str]] = []
        tokens = oauth.TokenSet.from_response(self.fake.issue_tokens(), now=self.clock())
        extra = {"oauth_url": self.fake.oauth_url, "login_url": self.fake.login_url, "username": USERNAME}
        tokens = tokens.model_copy(update={"extra": extra})
        self.client = client or httpx.Client(transport=httpx.MockTransport(self.fake.handler))
        settings = {"username": USERNAME, "client_id": CLIENT_ID}
        if base_url is not None:
            settings["api_base_url"] = base_url
        self.adapter: BullhornAdapter = BullhornAdapter(
            Connection(settings=settings, secrets={"client_secret": CLIENT_SECRET, **tokens.to_secrets()}),
            client=self.client,
            save_secrets=lambda values: self.saved.append(dict(values)),
            clock=self.clock,
            sleep=self.fake.advance,
        )

    def add_contact(self, name: str, phone: str, *, extension: str | None = None) -> str:
        contact_id = self.fake.add_contact(name, phone)
        self.fake.add_job_order(f"Senior analyst for {name}", contact_id)
        self.fake.add_job_order(f"Contract recruiter for {name}", contact_id)
        return str(contact_id)

    def person_edits_log(
        self, ref: CallLogRef, *, subject: str | None = None, body: Callable[[str], str] | None = None
    ) -> None:
        old_subject, old_body = split_note(self.fake.notes()[int(ref.log_id)]["comments"])
        new_subject = old_subject if subject is None else subject
        new_body = old_body if body is None else body(old_body)
        self.fake.person_edits(
            int(ref.log_id), comments=f"<h3>{html.escape(new_subject, quote=False)}</h3>{new_body}"
        )

    def read_log_raw(self, ref: CallLogRef) -> dict[str, Any]:
        note = dict(self.fake.notes()[int(ref.log_id)])
        note["subject"], note["body"] = split_note(note["comments"])
        placements = [
            e["targetEntityID"] for e in self.fake.records["NoteEntity"].values()
            if e["note"] == note["id"] and e["targetEntityName"] == "Placement"
        ]
        related = f"JobOrder:{note['jobOrder']}" if note.get("jobOrder") else (
            f"Placement:{placements[0]}" if placements else None
        )
        note["dispositions"] = {"action": note.get("action"), "related": related}
        note["start_time"] = datetime.fromtimestamp(note["dateAdded"] / 1000, UTC)
        minutes = note.get("minutesSpent")
        note["duration_seconds"] = minutes * 60 if minutes is not None else None
        note["contact_id"] = str(note["personReference"])
        return note


class TestBullhornContract(CrmAdapterContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        h = BullhornHarness()
        yield h
        h.close()


class TestBullhornContractOverLoopback(CrmAdapterContract):
    """The same suite with every Bullhorn host on a real loopback socket (the developer override)."""

    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        fake = BullhornFake()
        with LoopbackServer(fake.handler) as server:
            fake.serve_at(server.base_url)
            h = BullhornHarness(fake, client=httpx.Client(timeout=0.5), base_url=server.base_url)
            yield h
            h.close()


def _json(request: httpx.Request) -> Any:
    return json.loads(request.content)
