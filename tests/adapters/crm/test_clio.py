# SPDX-License-Identifier: MIT
"""The Clio adapter against the fake Clio (tests/fakes/clio.py): contract suite and Clio specifics."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from adapters import oauth
from adapters.base import AuthError, ConflictError, Connection, RateLimited, TransientError, ValidationError
from adapters.crm.clio import ClioAdapter, reduce_candidates, sign_in
from adapters.models import CallLogRef, Contact, LogEntry, LogUpdate
from adapters.testing import ContractHarness, CrmAdapterContract, inbound_call, outbound_call, sample_body
from tests.adapters.crm.renewing_harness import RenewingHarness
from tests.fakes.browser import play_browser
from tests.fakes.clio import ClioFake
from tests.fakes.loopback import HostRouter, LoopbackServer

E164 = "+14155550123"
APP = {"client_id": "clio-app-id", "client_secret": "clio-app-secret"}


class ClioHarness(RenewingHarness):
    """An adapter signed in to a fresh fake Clio firm, in-process through ``httpx.MockTransport``.

    ``inject_failure(401)`` makes Clio refuse the token twice in a row: the adapter renews a
    refused token once by design, so a single 401 is the renewable case, tested on its own below.
    """

    def __init__(
        self,
        fake: ClioFake | None = None,
        *,
        client: httpx.Client | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.fake = fake or ClioFake()
        self.saved: list[dict[str, str]] = []
        tokens = oauth.TokenSet.from_response(self.fake.issue_tokens(), now=self.clock())
        self.client = client or httpx.Client(transport=httpx.MockTransport(self.fake.handler))
        self.adapter: ClioAdapter = ClioAdapter(
            Connection(
                settings={"base_url": self.fake.base_url, **(settings or {})}, secrets={**APP, **tokens.to_secrets()}
            ),
            client=self.client,
            save_secrets=lambda values: self.saved.append(dict(values)),
            clock=self.clock,
            sleep=self.fake.sleep,
        )

    def add_contact(self, name: str, phone: str, *, extension: str | None = None) -> str:
        contact_id = self.fake.add_contact(name, phone)
        self.fake.add_matter(contact_id, f"{name} — general advice")
        return str(contact_id)

    def person_edits_log(
        self, ref: CallLogRef, *, subject: str | None = None, body: Callable[[str], str] | None = None
    ) -> None:
        current = self.fake.communications[int(ref.log_id)]
        self.fake.person_edits(int(ref.log_id), subject=subject, body=body(current["body"]) if body else None)

    def read_log_raw(self, ref: CallLogRef) -> dict[str, Any]:
        record = dict(self.fake.communications[int(ref.log_id)])
        entries = self.fake.time_entries(int(ref.log_id))
        record["subject"], record["body"] = record["subject"], record["body"]
        record["dispositions"] = {
            "matter": str(record["matter"]["id"]) if record["matter"] else None,
            "time_entry": ("non_billable" if entries[0]["non_billable"] else "billable") if entries else "none",
        }
        # The contact is the sender of an inbound call and the receiver of an outbound one; the
        # duration lives in the call's time entry.
        [sender], [receiver] = record["senders"], record["receivers"]
        record["direction"] = "Inbound" if sender["type"] == "Contact" else "Outbound"
        record["contact_id"] = str(sender["id"] if sender["type"] == "Contact" else receiver["id"])
        record["start_time"] = datetime.fromisoformat(str(record["received_at"]).replace("Z", "+00:00"))
        record["duration_seconds"] = entries[0]["quantity"] if entries else None
        return record


class TestClioContract(CrmAdapterContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        h = ClioHarness()
        yield h
        h.close()


class TestClioContractOverLoopback(CrmAdapterContract):
    """The same suite with the fake on a real socket."""

    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        fake = ClioFake()
        with LoopbackServer(fake.handler) as server:
            fake.base_url = server.base_url
            h = ClioHarness(fake, client=httpx.Client(timeout=0.5))
            yield h
            h.close()


@pytest.fixture
def clio() -> Iterator[ClioHarness]:
    h = ClioHarness()
    yield h
    h.close()


def _contact(h: ClioHarness, phone: str = E164, name: str = "Ada Lovelace") -> Contact:
    contact_id = h.add_contact(name, phone)
    return next(c for c in h.adapter.find_contact(phone) if c.id == contact_id)


def _entry(**kw: Any) -> LogEntry:
    return LogEntry(**{"subject": "Inbound call from Ada Lovelace", "body": sample_body("text/plain"), **kw})


def _requests(fake: ClioFake, method: str, path: str) -> list[httpx.Request]:
    return [r for r in fake.api_requests() if r.method == method and r.url.path == path]


# --- sign-in -------------------------------------------------------------------------------------


def test_pkce_sign_in_through_loopback_servers_with_the_users_own_app() -> None:
    # Given the fake Clio on a real loopback port
    fake = ClioFake()
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=5) as http:
        fake.base_url = server.base_url
        settings = {"base_url": server.base_url}
        # When the user signs in with their application's key and secret
        secrets = sign_in(settings, http, secrets=APP, open_url=play_browser(http), port=0, timeout=10)
        # Then the code was exchanged with the verifier and the secret, and the API answers
        exchange = [r for r in fake.requests if r.url.path == "/oauth/token"]
        assert len(exchange) == 1
        assert b"code_verifier=" in exchange[0].content and b"client_secret=clio-app-secret" in exchange[0].content
        adapter = ClioAdapter(Connection(settings=settings, secrets={**APP, **secrets}), client=http)
        assert adapter.verify() == "Alex Agent <alex@firm.example>"


def test_sign_in_with_a_wrong_app_secret_says_to_check_the_app() -> None:
    fake = ClioFake()
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))
    with pytest.raises(AuthError, match="does not recognise this application"):
        sign_in(
            {"base_url": fake.base_url},
            http,
            secrets={**APP, "client_secret": "wrong"},
            open_url=play_browser(http),
            port=0,
            timeout=10,
        )


def test_sign_in_needs_the_app_key_and_secret() -> None:
    with pytest.raises(AuthError, match="key and secret"):
        sign_in({"region": "us"}, httpx.Client(), open_url=lambda url: None, port=0)


def test_region_setting_sends_everything_to_that_regions_host() -> None:
    us, eu = ClioFake(base_url="https://app.clio.com"), ClioFake(base_url="https://eu.app.clio.com")
    http = httpx.Client(
        transport=httpx.MockTransport(HostRouter({"app.clio.com": us.handler, "eu.app.clio.com": eu.handler}))
    )
    secrets = sign_in({"region": "eu", **APP}, http, open_url=play_browser(http), port=0, timeout=10)
    adapter = ClioAdapter(Connection(settings={"region": "eu"}, secrets={**APP, **secrets}), client=http)
    contact_id = eu.add_contact("Ada Lovelace", E164)
    assert [c.id for c in adapter.find_contact(E164)] == [str(contact_id)]
    assert us.requests == []


def test_unknown_region_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="region"):
        ClioAdapter(Connection(settings={"region": "mars"}), client=httpx.Client())


# --- tokens --------------------------------------------------------------------------------------


def test_token_is_refreshed_ahead_of_expiry_with_the_app_secret_and_saved(clio: ClioHarness) -> None:
    clio.adapter.verify()
    clio.fake.advance(2_592_000 - 30)
    clio.adapter.find_contact(E164)
    refresh = [r for r in clio.fake.requests if r.url.path == "/oauth/token"]
    assert len(refresh) == 1 and b"grant_type=refresh_token" in refresh[0].content
    assert b"client_secret=clio-app-secret" in refresh[0].content
    assert len(clio.saved) == 1 and oauth.TokenSet.from_secrets(clio.saved[0]) is not None


def test_disconnected_app_asks_to_reconnect_in_words(clio: ClioHarness) -> None:
    clio.fake.revoke_grant()
    with pytest.raises(AuthError) as caught:
        clio.adapter.verify()
    assert "Reconnect Clio" in str(caught.value) and "Traceback" not in str(caught.value)
    assert "invalid_grant" in (caught.value.vendor_message or "")


def test_token_refused_once_is_renewed_and_the_request_repeated(clio: ClioHarness) -> None:
    clio.fake.inject_failure(401)
    assert clio.adapter.verify().startswith("Alex Agent")
    assert len(clio.saved) == 1


# --- contacts and matters ------------------------------------------------------------------------


def test_formatted_candidates_find_numbers_stored_as_text_in_few_queries(clio: ClioHarness) -> None:
    stored = ["(415) 555-0123", "415.555.0123", "+1 415-555-0123", "4155550123", "+14155550123", "415 555 0123"]
    ids = {str(clio.fake.add_contact(f"Person {i}", number)) for i, number in enumerate(stored)}
    clio.fake.add_contact("Not Them", "(415) 555-0124")
    found = clio.adapter.find_contact(E164)
    assert {c.id for c in found} == ids
    queries = [r.url.params["query"] for r in _requests(clio.fake, "GET", "/api/v4/contacts.json")]
    assert len(queries) == len(set(queries)) <= 8


def test_user_phone_format_is_queried() -> None:
    h = ClioHarness(settings={"phone_formats": "###/###-####"})
    try:
        contact_id = h.fake.add_contact("Ada Lovelace", "415/555-0123")
        assert [c.id for c in h.adapter.find_contact(E164)] == [str(contact_id)]
    finally:
        h.close()


def test_reduce_candidates_drops_notations_containing_another() -> None:
    assert reduce_candidates(["+14155550123", "4155550123", "14155550123", "415-555-0123", "+1 415-555-0123"]) == [
        "4155550123",
        "415-555-0123",
    ]


def test_matters_are_offered_per_contact_closed_ones_hidden(clio: ClioHarness) -> None:
    contact_id = clio.fake.add_contact("Ada Lovelace", E164)
    open_matter = clio.fake.add_matter(contact_id, "Estate planning")
    clio.fake.add_matter(contact_id, "Old dispute", status="Closed")
    related = clio.fake.add_matter(contact_id, "Witness in Babbage v. Crown", related_only=True)
    for i in range(3):  # more than one page of relationships
        clio.fake.add_matter(contact_id, f"Related {i}", related_only=True)
    contact = clio.adapter.find_contact(E164)[0]
    ids = [o.id for o in contact.options["matter"]]
    assert ids[:2] == [str(open_matter), str(related)] and len(ids) == 5
    assert contact.options["matter"][0].label.endswith("Estate planning")


# --- communications and time entries -------------------------------------------------------------


def test_inbound_call_is_a_phone_communication_from_the_contact_with_a_billable_time_entry(clio: ClioHarness) -> None:
    contact = _contact(clio)
    matter = contact.options["matter"][0].id
    call = inbound_call(E164, duration=194)
    ref = clio.adapter.create_call_log(call, contact, _entry(dispositions={"matter": matter, "time_entry": "billable"}))
    sent = json.loads(_requests(clio.fake, "POST", "/api/v4/communications.json")[0].content)["data"]
    assert sent["type"] == "PhoneCommunication"
    assert sent["senders"] == [{"id": int(contact.id), "type": "Contact"}]
    assert sent["receivers"] == [{"id": clio.fake.user["id"], "type": "User"}]
    assert sent["received_at"] == call.start_time.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    [entry] = clio.fake.time_entries(int(ref.log_id))
    assert (entry["quantity"], entry["non_billable"], entry["matter"]["id"]) == (194, False, int(matter))
    assert entry["note"] == "Inbound call from Ada Lovelace"
    stored = clio.adapter.get_call_log(ref)
    assert stored.dispositions == {"matter": matter, "time_entry": "billable"}
    assert (stored.duration_seconds, stored.contact_id, stored.contact_name) == (194, contact.id, "Ada Lovelace")
    # The version is the ETag, followed by the time entry it names (so updates need not look it up)
    etag = clio.fake.communications[int(ref.log_id)]["etag"]
    assert stored.version == ref.version == f"{etag}#te=billable:{entry['id']}:194"


def test_outbound_call_is_sent_by_the_user(clio: ClioHarness) -> None:
    contact = _contact(clio)
    clio.adapter.create_call_log(outbound_call(E164), contact, _entry(dispositions={"time_entry": "none"}))
    sent = json.loads(_requests(clio.fake, "POST", "/api/v4/communications.json")[0].content)["data"]
    assert sent["senders"][0]["type"] == "User" and sent["receivers"][0]["type"] == "Contact"
    assert clio.fake.activities == {}


def test_time_entry_of_a_call_still_going_on_is_created_with_its_final_duration(clio: ClioHarness) -> None:
    # Given a call logged while it goes on (auto-log at connect), with non-billable time chosen
    contact = _contact(clio)
    ref = clio.adapter.create_call_log(
        inbound_call(E164, duration=None, result="In Progress"), contact,
        _entry(dispositions={"time_entry": "non_billable"}),
    )
    # Then no time entry exists yet: the choice waits in the version
    assert clio.fake.time_entries(int(ref.log_id)) == []
    assert (ref.version or "").endswith("#te=non_billable")
    assert clio.adapter.get_call_log(ref).dispositions["time_entry"] == "non_billable"
    # When the note update brings the final duration
    read = clio.adapter.get_call_log(ref)
    clio.fake.requests.clear()
    stored = clio.adapter.update_call_log(
        ref, LogUpdate(body=read.body.replace("(pending)", "12 min 34 sec"), duration_seconds=754),
        expected_version=read.version,
    )
    # Then the communication's write and the entry's creation are the only requests
    assert [(r.method, r.url.path) for r in clio.fake.api_requests()] == [
        ("PATCH", f"/api/v4/communications/{ref.log_id}.json"),
        ("POST", "/api/v4/activities.json"),
    ]
    [entry] = clio.fake.time_entries(int(ref.log_id))
    assert (entry["quantity"], entry["non_billable"]) == (754, True)
    assert stored.duration_seconds == 754 and stored.dispositions["time_entry"] == "non_billable"
    assert stored.version == f"{clio.fake.communications[int(ref.log_id)]['etag']}#te=non_billable:{entry['id']}:754"
    # and a later note update leaves the entry alone: one request
    clio.fake.requests.clear()
    again = clio.adapter.update_call_log(
        ref, LogUpdate(body=stored.body + "\nAI note\n"), expected_version=stored.version
    )
    assert [r.method for r in clio.fake.api_requests()] == ["PATCH"]
    assert again.dispositions["time_entry"] == "non_billable"
    assert clio.fake.time_entries(int(ref.log_id))[0]["quantity"] == 754


def test_a_revised_duration_updates_the_time_entry(clio: ClioHarness) -> None:
    contact = _contact(clio)
    ref = clio.adapter.create_call_log(inbound_call(E164, duration=194), contact, _entry())
    assert clio.fake.time_entries(int(ref.log_id))[0]["quantity"] == 194
    stored = clio.adapter.update_call_log(ref, LogUpdate(duration_seconds=200), expected_version=ref.version)
    assert clio.fake.time_entries(int(ref.log_id))[0]["quantity"] == 200
    assert stored.duration_seconds == 200


def test_a_version_without_the_time_entry_has_it_read_when_the_duration_changes(clio: ClioHarness) -> None:
    contact = _contact(clio)
    ref = clio.adapter.create_call_log(inbound_call(E164, duration=194), contact, _entry())
    found = clio.adapter.find_call_log(inbound_call(E164, duration=194))  # as after a crash: the ETag alone
    assert found is not None and "#te=" not in (found.version or "")
    clio.adapter.update_call_log(found, LogUpdate(duration_seconds=201), expected_version=found.version)
    [entry] = clio.fake.time_entries(int(ref.log_id))
    assert entry["quantity"] == 201


def test_choosing_no_time_entry_later_deletes_it(clio: ClioHarness) -> None:
    contact = _contact(clio)
    ref = clio.adapter.create_call_log(inbound_call(E164), contact, _entry(dispositions={"time_entry": "billable"}))
    clio.adapter.upsert_disposition(ref, {"time_entry": "none"})
    assert clio.fake.time_entries(int(ref.log_id)) == []
    assert clio.adapter.get_call_log(ref).dispositions["time_entry"] == "none"


def test_refused_time_entry_still_reports_the_log_as_created(
    clio: ClioHarness, caplog: pytest.LogCaptureFixture
) -> None:
    contact = _contact(clio)
    call = inbound_call(E164)
    original = clio.fake._validate_activity
    clio.fake._validate_activity = lambda data, existing: "Activities are disabled for this firm"  # type: ignore[method-assign]
    ref = clio.adapter.create_call_log(call, contact, _entry())
    clio.fake._validate_activity = original  # type: ignore[method-assign]
    assert int(ref.log_id) in clio.fake.communications
    assert "refused its time entry" in caplog.text and "Activities are disabled" in caplog.text


def test_validation_error_keeps_clios_words(clio: ClioHarness) -> None:
    contact = _contact(clio)
    with pytest.raises(ValidationError) as caught:
        clio.adapter.create_call_log(inbound_call(E164), contact, _entry(subject="   "))
    assert caught.value.vendor_message == "ValidationError: Subject can't be blank"


# --- concurrency ---------------------------------------------------------------------------------


def test_edit_in_clio_between_read_and_write_is_412_conflict_and_never_lost(clio: ClioHarness) -> None:
    # Given the poller has read the log
    contact = _contact(clio)
    ref = clio.adapter.create_call_log(inbound_call(E164), contact, _entry())
    read = clio.adapter.get_call_log(ref)
    # When a person edits it in Clio before the poller writes
    clio.person_edits_log(ref, body=lambda b: b + "\nClient will send the deed.\n")
    # Then the write carries If-Match, Clio answers 412, and the person's text is kept
    with pytest.raises(ConflictError) as caught:
        clio.adapter.update_call_log(
            ref, LogUpdate(body=read.body.replace("(pending)", "3 min 14 sec")), expected_version=read.version
        )
    assert caught.value.status == 412 and "PreconditionFailed" in (caught.value.vendor_message or "")
    patch = _requests(clio.fake, "PATCH", f"/api/v4/communications/{ref.log_id}.json")[-1]
    assert patch.headers["If-Match"] == (read.version or "").partition("#te=")[0]
    assert "Client will send the deed." in clio.read_log_raw(ref)["body"]
    # And reading again, substituting and writing keeps both
    again = clio.adapter.get_call_log(ref)
    written = clio.adapter.update_call_log(
        ref, LogUpdate(body=again.body.replace("(pending)", "3 min 14 sec")), expected_version=again.version
    )
    body = clio.read_log_raw(ref)["body"]
    assert "Client will send the deed." in body and "Call duration: 3 min 14 sec" in body
    assert (written.version or "").partition("#te=")[0] == clio.fake.communications[int(ref.log_id)]["etag"]
    assert written.version != again.version


def test_the_fake_refuses_a_parameter_or_a_body_key_the_endpoint_does_not_declare(clio: ClioHarness) -> None:
    headers = {"Authorization": f"Bearer {clio.adapter._tokens.access_token()}"}
    api = f"{clio.fake.base_url}/api/v4"
    answer = clio.client.get(f"{api}/contacts.json", params={"query": "555", "phone_number": "555"}, headers=headers)
    assert (answer.status_code, answer.json()) == (
        400, {"error": {"type": "BadRequest", "message": "Unknown parameter: phone_number"}})
    body = {"data": {"type": "PhoneCommunication", "subject": "x", "body": "y"}, "notify": True}
    answer = clio.client.post(f"{api}/communications.json", json=body, headers=headers)
    assert (answer.status_code, answer.json()["error"]["message"]) == (400, "Unknown parameter: notify")
    assert clio.fake.communications == {}


def test_fake_answers_304_for_an_unchanged_etag(clio: ClioHarness) -> None:
    contact = _contact(clio)
    ref = clio.adapter.create_call_log(inbound_call(E164), contact, _entry())
    token = clio.adapter._tokens.access_token()
    url = f"{clio.fake.base_url}/api/v4/communications/{ref.log_id}.json"
    etag = clio.fake.communications[int(ref.log_id)]["etag"]
    answer = clio.client.get(url, headers={"Authorization": f"Bearer {token}", "If-None-Match": etag})
    assert answer.status_code == 304 and answer.headers["ETag"] == etag


# --- recovery ------------------------------------------------------------------------------------


def test_find_call_log_prefers_the_session_marker_and_checks_direction(clio: ClioHarness) -> None:
    contact = _contact(clio)
    call = inbound_call(E164)
    clio.adapter.create_call_log(call, contact, _entry(body="Session id: 1"))
    mine = clio.adapter.create_call_log(call, contact, _entry(body=f"Session id: {call.session_id}"))
    found = clio.adapter.find_call_log(call)
    assert found is not None and (found.log_id, found.contact_id) == (mine.log_id, contact.id)
    assert clio.adapter.find_call_log(outbound_call(E164, start_time=call.start_time)) is None


# --- rate limits and faults ----------------------------------------------------------------------


def test_spent_rate_budget_is_waited_out_when_short() -> None:
    # Given a budget of 3 requests a minute, the first spent 59 seconds ago and the rest just now
    h = ClioHarness(ClioFake(rate_limit=3))
    try:
        h.adapter.verify()
        h.fake.advance(59)
        contact_id = h.add_contact("Ada Lovelace", E164)
        h.adapter._matters(contact_id)  # two more requests: the budget is spent
        before, sent = h.fake.now, len(h.fake.requests)
        # When another request is needed, the adapter waits for the window to reset (1 s) and sends it
        assert h.adapter._time_entry("1") is None
        assert (h.fake.now - before).total_seconds() == pytest.approx(1)
        assert len(h.fake.requests) == sent + 1
    finally:
        h.close()


def test_spent_rate_budget_with_a_long_wait_raises_without_sending() -> None:
    h = ClioHarness(ClioFake(rate_limit=2))
    try:
        h.adapter.verify()
        h.adapter._time_entry("1")  # the second request: the budget is spent for a minute
        sent = len(h.fake.requests)
        with pytest.raises(RateLimited) as caught:
            h.adapter.find_contact(E164)
        assert caught.value.retry_after == pytest.approx(60)
        assert len(h.fake.requests) == sent
    finally:
        h.close()


def test_429_from_clio_pauses_later_requests(clio: ClioHarness) -> None:
    clio.fake.inject_failure(429, retry_after=20)
    with pytest.raises(RateLimited):
        clio.adapter.verify()
    sent = len(clio.fake.requests)
    with pytest.raises(RateLimited):
        clio.adapter.verify()
    assert len(clio.fake.requests) == sent
    clio.fake.advance(21)
    assert clio.adapter.verify().startswith("Alex Agent")


def test_timeout_on_a_real_socket_is_transient() -> None:
    fake = ClioFake()
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=0.3) as http:
        fake.base_url = server.base_url
        h = ClioHarness(fake, client=http)
        fake.inject_failure("timeout")
        with pytest.raises(TransientError, match="did not answer in time"):
            h.adapter.verify()
        assert h.adapter.verify().startswith("Alex Agent")


def test_slow_answer_within_the_timeout_arrives_and_a_slower_one_is_transient() -> None:
    fake = ClioFake()
    with httpx.Client(transport=httpx.MockTransport(fake.handler), timeout=5) as http:
        h = ClioHarness(fake, client=http)
        fake.delay_next(4)
        assert h.adapter.verify().startswith("Alex Agent")
        fake.delay_next(6)
        with pytest.raises(TransientError, match="did not answer in time"):
            h.adapter.find_contact(E164)


def test_time_entry_is_dated_in_the_users_time_zone(clio: ClioHarness) -> None:
    from datetime import UTC, datetime

    clio.fake.user["time_zone"] = "America/Los_Angeles"
    contact = _contact(clio)
    call = inbound_call(E164, start_time=datetime(2026, 4, 11, 2, 30, tzinfo=UTC))  # 19:30 on the 10th in LA
    ref = clio.adapter.create_call_log(call, contact, _entry(dispositions={"time_entry": "billable"}))
    assert clio.fake.time_entries(int(ref.log_id))[0]["date"] == "2026-04-10"


def test_a_matter_that_is_not_a_clio_id_is_refused_before_sending(clio: ClioHarness) -> None:
    contact = _contact(clio)
    sent = len(clio.fake.requests)
    with pytest.raises(ValidationError) as caught:
        clio.adapter.create_call_log(inbound_call(E164), contact, _entry(dispositions={"matter": "deal:7"}))
    assert caught.value.field == "matter" and len(clio.fake.requests) == sent


def test_a_short_or_unreadable_number_is_not_sent_as_a_query(clio: ClioHarness) -> None:
    clio.fake.add_contact("Ada Lovelace", E164)
    assert clio.adapter.find_contact("102") == []
    assert clio.adapter.find_contact("Anonymous") == []
    assert _requests(clio.fake, "GET", "/api/v4/contacts.json") == []


def test_sign_out_deauthorizes_the_token_at_clio(clio: ClioHarness) -> None:
    secrets = {**APP, **clio.adapter._tokens.tokens.to_secrets()}  # type: ignore[union-attr]
    clio.adapter.sign_out()
    [deauthorize] = [r for r in clio.fake.requests if r.url.path == "/oauth/deauthorize"]
    assert b"client_secret=clio-app-secret" in deauthorize.content
    other = ClioAdapter(
        Connection(settings={"base_url": clio.fake.base_url}, secrets=secrets), client=clio.client, clock=clio.clock
    )
    with pytest.raises(AuthError, match="Reconnect"):
        other.verify()
