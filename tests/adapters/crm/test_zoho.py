# SPDX-License-Identifier: MIT
"""The Zoho CRM adapter against the fake Zoho (tests/fakes/zoho.py): contract suite and Zoho specifics."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx
import pytest

from adapters import oauth
from adapters.base import (
    AuthError,
    ConflictError,
    Connection,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationError,
    page_fields_for,
)
from adapters.crm.zoho import ZohoAdapter, sign_in
from adapters.models import CallLogRef, Contact, LogEntry, LogUpdate
from adapters.testing import ContractHarness, CrmAdapterContract, inbound_call, outbound_call, sample_body
from tests.adapters.crm.renewing_harness import RenewingHarness
from tests.fakes.browser import play_browser
from tests.fakes.loopback import HostRouter, LoopbackServer
from tests.fakes.zoho import ZohoFake

E164 = "+14155550123"
CLIENT_ID = "1000.DESKTOPCLIENT"


class ZohoHarness(RenewingHarness):
    """An adapter signed in to a fresh fake Zoho org, in-process through ``httpx.MockTransport``.

    ``inject_failure(401)`` makes Zoho refuse the token twice in a row: the adapter renews a
    refused token once by design (an access token can die before its expiry), so a single 401
    is the expired-token case, tested on its own below.
    """

    def __init__(self, fake: ZohoFake | None = None, *, client: httpx.Client | None = None) -> None:
        self.fake = fake or ZohoFake()
        self.saved: list[dict[str, str]] = []
        tokens = oauth.TokenSet.from_response(self.fake.issue_tokens(), now=self.clock())
        self.client = client or httpx.Client(transport=httpx.MockTransport(self.fake.handler))
        self.adapter: ZohoAdapter = ZohoAdapter(
            Connection(
                settings={"client_id": CLIENT_ID, "accounts_url": self.fake.accounts_url, "data_centre": "us"},
                secrets=tokens.to_secrets(),
            ),
            client=self.client,
            save_secrets=lambda values: self.saved.append(dict(values)),
            clock=self.clock,
        )

    def add_contact(self, name: str, phone: str, *, extension: str | None = None) -> str:
        contact_id = self.fake.add_contact(name, phone)
        self.fake.add_deal(f"Renewal for {name}", contact_id)
        return contact_id

    def person_edits_log(
        self, ref: CallLogRef, *, subject: str | None = None, body: Callable[[str], str] | None = None
    ) -> None:
        current = self.fake.records["Calls"][ref.log_id]
        self.fake.person_edits(
            ref.log_id, subject=subject, description=body(current["Description"] or "") if body else None
        )

    def read_log_raw(self, ref: CallLogRef) -> dict[str, Any]:
        record = dict(self.fake.records["Calls"][ref.log_id])
        record["subject"] = record["Subject"]
        record["body"] = record["Description"]
        what = record.get("What_Id")
        record["dispositions"] = {
            "call_result": record.get("Call_Result"),
            "deal": what["id"] if what and record.get("$se_module") == "Deals" else None,
        }
        record["direction"] = record["Call_Type"]
        record["start_time"] = datetime.fromisoformat(record["Call_Start_Time"])
        minutes, _, seconds = (record.get("Call_Duration") or "").partition(":")
        record["duration_seconds"] = int(minutes) * 60 + int(seconds) if seconds else None
        who = record.get("Who_Id") or (what if record.get("$se_module") == "Leads" else None)
        record["contact_id"] = who["id"] if who else None
        return record


class TestZohoContract(CrmAdapterContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        h = ZohoHarness()
        yield h
        h.close()


class TestZohoContractOverLoopback(CrmAdapterContract):
    """The same suite with the fake on real sockets (accounts and API on separate ports)."""

    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        fake = ZohoFake()
        with LoopbackServer(fake.handler) as accounts, LoopbackServer(fake.handler) as api:
            fake.accounts_url, fake.api_url = accounts.base_url, api.base_url
            h = ZohoHarness(fake, client=httpx.Client(timeout=0.5))
            yield h
            h.close()


@pytest.fixture
def zoho() -> Iterator[ZohoHarness]:
    h = ZohoHarness()
    yield h
    h.close()


def _contact(h: ZohoHarness, phone: str = E164, name: str = "Ada Lovelace") -> Contact:
    contact_id = h.add_contact(name, phone)
    return next(c for c in h.adapter.find_contact(phone) if c.id == contact_id)


def _entry(**kw: Any) -> LogEntry:
    return LogEntry(**{"subject": "Inbound call from Ada Lovelace", "body": sample_body("text/plain"), **kw})


def _last_json(fake: ZohoFake, method: str) -> Any:
    request = [r for r in fake.api_requests() if r.method == method][-1]
    return json.loads(request.content)


# --- sign-in -------------------------------------------------------------------------------------


def test_pkce_sign_in_through_loopback_servers_reaches_the_api_domain() -> None:
    # Given the fake Zoho on a real loopback port
    fake = ZohoFake()
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=5) as http:
        fake.accounts_url = fake.api_url = server.base_url
        settings = {"client_id": CLIENT_ID, "accounts_url": server.base_url}
        # When the user signs in through the browser
        secrets = sign_in(settings, http, open_url=play_browser(http), port=0, timeout=10)
        # Then the code was exchanged with its verifier and the adapter works with the tokens
        token_calls = [r for r in fake.requests if r.url.path == "/oauth/v2/token"]
        assert len(token_calls) == 1 and b"code_verifier=" in token_calls[0].content
        tokens = oauth.TokenSet.from_secrets(secrets)
        assert tokens is not None and tokens.refresh_token and tokens.extra["api_domain"] == server.base_url
        adapter = ZohoAdapter(Connection(settings=settings, secrets=secrets), client=http)
        assert adapter.verify() == "Alex Agent <alex@example.test>"


def test_sign_in_uses_the_chosen_data_centre_and_the_api_domain_it_names() -> None:
    # Given two data centres; the account lives in the EU one
    us = ZohoFake(accounts_url="https://accounts.zoho.com", api_url="https://www.zohoapis.com")
    eu = ZohoFake(accounts_url="https://accounts.zoho.eu", api_url="https://www.zohoapis.eu", location="eu")
    router = HostRouter(
        {
            "accounts.zoho.com": us.handler,
            "www.zohoapis.com": us.handler,
            "accounts.zoho.eu": eu.handler,
            "www.zohoapis.eu": eu.handler,
        }
    )
    http = httpx.Client(transport=httpx.MockTransport(router))
    settings = {"client_id": CLIENT_ID, "data_centre": "eu"}
    # When signing in and using the adapter
    secrets = sign_in(settings, http, open_url=play_browser(http), port=0, timeout=10)
    adapter = ZohoAdapter(Connection(settings=settings, secrets=secrets), client=http)
    contact_id = eu.add_contact("Ada Lovelace", E164)
    # Then everything went to the EU accounts server and API domain
    assert [c.id for c in adapter.find_contact(E164)] == [contact_id]
    assert us.requests == []
    assert {r.url.host for r in eu.requests} == {"accounts.zoho.eu", "www.zohoapis.eu"}


def test_sign_in_declined_in_the_browser_says_so() -> None:
    fake = ZohoFake()
    fake.deny_next_authorize = True
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))
    with pytest.raises(oauth.SignInCancelled, match="declined"):
        sign_in(
            {"client_id": CLIENT_ID, "accounts_url": fake.accounts_url},
            http,
            open_url=play_browser(http, lands_on=400),
            port=0,
            timeout=10,
        )


def test_sign_in_with_wrong_verifier_is_refused_in_words() -> None:
    # Given a browser that returns a code obtained for someone else's challenge
    fake = ZohoFake()
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))

    def forged(url: str) -> None:
        swapped = httpx.URL(url).copy_set_param("code_challenge", oauth.make_challenge(oauth.make_verifier()))
        play_browser(http)(str(swapped))  # the redirect itself succeeds; the exchange fails

    # Then Zoho's 200 {"error": "invalid_code"} becomes an AuthError asking to sign in again
    with pytest.raises(AuthError) as caught:
        sign_in({"client_id": CLIENT_ID, "accounts_url": fake.accounts_url}, http, open_url=forged, port=0, timeout=10)
    assert "invalid_code" in (caught.value.vendor_message or "")
    assert "Reconnect" in str(caught.value)


# --- tokens --------------------------------------------------------------------------------------


def test_access_token_is_refreshed_ahead_of_expiry_and_saved(zoho: ZohoHarness) -> None:
    zoho.adapter.verify()
    before = oauth.TokenSet.from_secrets(zoho.adapter._tokens.tokens.to_secrets())  # type: ignore[union-attr]
    zoho.fake.advance(3600 - 30)  # inside the refresh margin, not yet expired
    _contact(zoho)
    assert len(zoho.saved) == 1
    after = oauth.TokenSet.from_secrets(zoho.saved[0])
    assert after is not None and before is not None
    assert after.access_token != before.access_token
    assert after.refresh_token == before.refresh_token  # Zoho does not rotate refresh tokens
    assert after.extra["api_domain"] == zoho.fake.api_url


def test_token_refused_before_its_expiry_is_renewed_once_and_the_request_repeated(zoho: ZohoHarness) -> None:
    contact = _contact(zoho)
    zoho.fake.inject_failure(401)
    ref = zoho.adapter.create_call_log(inbound_call(E164), contact, _entry())
    assert zoho.adapter.get_call_log(ref).subject == "Inbound call from Ada Lovelace"
    assert len(zoho.saved) == 1


def test_revoked_grant_asks_to_reconnect_in_words(zoho: ZohoHarness) -> None:
    zoho.fake.revoke_grant()
    with pytest.raises(AuthError) as caught:
        zoho.adapter.verify()
    message = str(caught.value)
    assert "Reconnect Zoho CRM" in message and "Traceback" not in message
    assert "invalid_code" in (caught.value.vendor_message or "")


def test_missing_scope_is_permission_denied(zoho: ZohoHarness) -> None:
    zoho.fake.inject_failure(
        401,
        body={
            "code": "OAUTH_SCOPE_MISMATCH",
            "details": {},
            "message": "invalid oauth scope to access this URL",
            "status": "error",
        },
    )
    zoho.fake.inject_failure(
        401,
        body={
            "code": "OAUTH_SCOPE_MISMATCH",
            "details": {},
            "message": "invalid oauth scope to access this URL",
            "status": "error",
        },
    )
    with pytest.raises(PermissionDenied) as caught:
        zoho.adapter.verify()
    assert "OAUTH_SCOPE_MISMATCH" in (caught.value.vendor_message or "")


# --- contacts and dispositions -------------------------------------------------------------------


def test_find_contact_searches_contacts_and_leads_and_offers_org_picklist_and_open_deals(zoho: ZohoHarness) -> None:
    contact_id = zoho.fake.add_contact("Ada Lovelace", "(415) 555-0123", account="Analytical Engines")
    open_deal = zoho.fake.add_deal("Engine No. 2", contact_id)
    zoho.fake.add_deal("Engine No. 1", contact_id, stage="Closed Won")
    lead_id = zoho.fake.add_lead("Grace Hopper", "+1 415 555 0123", company="Navy")
    found = {c.id: c for c in zoho.adapter.find_contact(E164)}
    assert set(found) == {contact_id, lead_id}
    assert (found[contact_id].type, found[contact_id].company) == ("Contact", "Analytical Engines")
    assert (found[lead_id].type, found[lead_id].company) == ("Lead", "Navy")
    assert [o.id for o in found[contact_id].options["deal"]] == [open_deal]
    assert found[lead_id].options["deal"] == []
    results = [o.id for o in found[contact_id].options["call_result"]]
    assert results == ["Interested", "Not interested", "No response", "Requested more info"]


def test_searches_send_only_what_the_v8_search_api_declares_and_read_the_whole_records(zoho: ZohoHarness) -> None:
    zoho.fake.add_contact("Ada Lovelace", "(415) 555-0123", account="Analytical Engines")
    [contact] = zoho.adapter.find_contact(E164)
    assert (contact.name, contact.company, contact.owner) == ("Ada Lovelace", "Analytical Engines", "Alex Agent")
    call = inbound_call(E164)
    ref = zoho.adapter.create_call_log(call, contact, _entry())
    found = zoho.adapter.find_call_log(call)
    assert found is not None and (found.log_id, found.contact_id) == (ref.log_id, contact.id)
    searches = [r for r in zoho.fake.api_requests() if r.url.path.endswith("/search")]
    assert len(searches) == 5  # Contacts and Leads by two notations, then Calls by start time
    assert all(set(r.url.params) <= {"phone", "criteria", "per_page"} for r in searches)


def test_the_fake_refuses_a_fields_projection_on_a_search_like_an_undeclared_parameter(zoho: ZohoHarness) -> None:
    token = zoho.adapter._tokens.access_token()
    answer = zoho.client.get(
        f"{zoho.fake.api_url}/crm/v8/Contacts/search",
        params={"phone": "4155550123", "fields": "Full_Name", "per_page": "50"},
        headers={"Authorization": f"Zoho-oauthtoken {token}"},
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "code": "INVALID_REQUEST",
        "details": {"param_name": "fields"},
        "message": "the given parameter is not supported",
        "status": "error",
    }


def test_the_fake_refuses_a_parameter_or_a_body_key_the_v8_endpoint_does_not_declare(zoho: ZohoHarness) -> None:
    headers = {"Authorization": f"Zoho-oauthtoken {zoho.adapter._tokens.access_token()}"}
    answer = zoho.client.get(f"{zoho.fake.api_url}/crm/v8/users", params={"type": "CurrentUser", "sort": "x"},
                             headers=headers)
    assert (answer.status_code, answer.json()["code"], answer.json()["details"]) == (
        400, "INVALID_REQUEST", {"param_name": "sort"})
    body = {"data": [{"Subject": "x", "Call_Type": "Inbound"}], "triggers": ["workflow"]}
    answer = zoho.client.post(f"{zoho.fake.api_url}/crm/v8/Calls", json=body, headers=headers)
    assert (answer.status_code, answer.json()["code"], answer.json()["details"]) == (
        400, "INVALID_DATA", {"api_name": "triggers"})
    assert zoho.fake.records["Calls"] == {}


def test_call_result_options_are_the_orgs_own_picklist() -> None:
    h = ZohoHarness(ZohoFake(call_results=["-None-", "Booked demo", "Wrong number"]))
    try:
        contact = _contact(h)
        assert [o.id for o in contact.options["call_result"]] == ["Booked demo", "Wrong number"]
        ref = h.adapter.create_call_log(
            inbound_call(E164), contact, _entry(dispositions={"call_result": "Booked demo"})
        )
        assert h.adapter.get_call_log(ref).dispositions["call_result"] == "Booked demo"
        with pytest.raises(ValidationError) as caught:
            h.adapter.upsert_disposition(ref, {"call_result": "Interested"})
        assert caught.value.field == "Call_Result"
        assert caught.value.vendor_message and caught.value.vendor_message.startswith("INVALID_DATA: invalid data")
    finally:
        h.close()


def test_call_is_written_to_structured_fields(zoho: ZohoHarness) -> None:
    contact = _contact(zoho)
    deal = contact.options["deal"][0].id
    call = outbound_call(E164, duration=3725, recording=True)
    entry = _entry(
        subject="Outbound call to Ada",
        duration_seconds=3725,
        recording_url="https://media.example.test/rec/1",
        dispositions={"call_result": "Interested", "deal": deal},
    )
    ref = zoho.adapter.create_call_log(call, contact, entry)
    sent = _last_json(zoho.fake, "POST")["data"][0]
    assert sent["Call_Type"] == "Outbound" and sent["Outgoing_Call_Status"] == "Completed"
    assert sent["Call_Duration"] == "62:05"
    assert sent["Call_Start_Time"] == call.start_time.replace(microsecond=0).isoformat()
    assert sent["Dialled_Number"] == E164
    assert sent["Who_Id"] == {"id": contact.id}
    assert (sent["What_Id"], sent["$se_module"]) == ({"id": deal}, "Deals")
    stored = zoho.adapter.get_call_log(ref)
    assert (stored.duration_seconds, stored.recording_url) == (3725, "https://media.example.test/rec/1")
    assert stored.dispositions == {"call_result": "Interested", "deal": deal}
    assert (stored.contact_id, stored.contact_name) == (contact.id, "Ada Lovelace")


def test_call_with_a_lead_goes_in_what_id_with_se_module(zoho: ZohoHarness) -> None:
    lead_id = zoho.fake.add_lead("Grace Hopper", E164)
    lead = zoho.adapter.find_contact(E164)[0]
    ref = zoho.adapter.create_call_log(inbound_call(E164), lead, _entry())
    raw = zoho.read_log_raw(ref)
    assert raw["Who_Id"] is None and raw["What_Id"]["id"] == lead_id and raw["$se_module"] == "Leads"
    stored = zoho.adapter.get_call_log(ref)
    assert (stored.contact_id, stored.contact_name, stored.dispositions["deal"]) == (lead_id, "Grace Hopper", None)
    with pytest.raises(ValidationError, match="lead"):
        zoho.adapter.upsert_disposition(ref, {"deal": "4876876000000000001"})


def test_missed_call_has_no_duration_and_later_duration_does_not_change_its_type(zoho: ZohoHarness) -> None:
    contact = _contact(zoho)
    call = inbound_call(E164, result="Missed", duration=0)
    ref = zoho.adapter.create_call_log(call, contact, _entry())
    sent = _last_json(zoho.fake, "POST")["data"][0]
    assert sent["Call_Type"] == "Missed" and "Call_Duration" not in sent
    zoho.adapter.update_call_log(ref, LogUpdate(duration_seconds=12))
    assert zoho.read_log_raw(ref)["Call_Type"] == "Missed"


def test_duration_filled_later_is_written_as_minutes_and_seconds(zoho: ZohoHarness) -> None:
    contact = _contact(zoho)
    ref = zoho.adapter.create_call_log(inbound_call(E164, duration=None), contact, _entry())
    assert zoho.read_log_raw(ref)["Call_Duration"] == "00:00"
    updated = zoho.adapter.update_call_log(ref, LogUpdate(duration_seconds=194, recording_url="https://r.test/1"))
    raw = zoho.read_log_raw(ref)
    assert (raw["Call_Duration"], raw["Voice_Recording__s"]) == ("03:14", "https://r.test/1")
    assert updated.duration_seconds == 194


def test_per_record_error_in_a_multi_status_answer_is_a_validation_error_with_the_field(zoho: ZohoHarness) -> None:
    contact = _contact(zoho)
    zoho.fake.inject_failure(
        207,
        body={
            "data": [
                {
                    "code": "MANDATORY_NOT_FOUND",
                    "details": {"api_name": "Call_Duration"},
                    "message": "required field not found",
                    "status": "error",
                }
            ]
        },
    )
    with pytest.raises(ValidationError) as caught:
        zoho.adapter.create_call_log(inbound_call(E164), contact, _entry())
    assert caught.value.field == "Call_Duration"
    assert caught.value.vendor_message == "MANDATORY_NOT_FOUND: required field not found"


def test_fake_refuses_what_zoho_refuses(zoho: ZohoHarness) -> None:
    # The fake validates like Zoho: a missing mandatory field and a too-long subject.
    token = zoho.adapter._tokens.access_token()
    headers = {"Authorization": f"Zoho-oauthtoken {token}"}
    url = f"{zoho.fake.api_url}/crm/v8/Calls"
    answer = zoho.client.post(url, headers=headers, json={"data": [{"Subject": "x", "Call_Type": "Inbound"}]})
    assert answer.status_code == 400
    assert answer.json()["data"][0]["code"] == "MANDATORY_NOT_FOUND"
    answer = zoho.client.post(url, headers=headers, json={"data": [{"Subject": "x" * 256}]})
    assert answer.json()["data"][0]["details"] == {"api_name": "Subject", "maximum_length": 255}
    answer = zoho.client.post(url, headers={"Authorization": f"Bearer {token}"}, json={"data": []})
    assert (answer.status_code, answer.json()["code"]) == (401, "AUTHENTICATION_FAILURE")


# --- concurrency ---------------------------------------------------------------------------------


def test_edit_in_zoho_in_the_same_second_between_read_and_write_raises_conflict(zoho: ZohoHarness) -> None:
    # Given a log read by the poller
    contact = _contact(zoho)
    ref = zoho.adapter.create_call_log(inbound_call(E164), contact, _entry())
    read = zoho.adapter.get_call_log(ref)
    # When a person edits it in Zoho within the same second (Modified_Time does not move)
    zoho.person_edits_log(ref, body=lambda b: b + "\nCalled back, all sorted.\n")
    assert zoho.read_log_raw(ref)["Modified_Time"] == read.modified_at.isoformat()  # type: ignore[union-attr]
    # Then writing the poller's version is refused and the person's text stays
    with pytest.raises(ConflictError):
        zoho.adapter.update_call_log(
            ref, LogUpdate(body=read.body.replace("(pending)", "3 min")), expected_version=read.version
        )
    assert "Called back, all sorted." in zoho.read_log_raw(ref)["body"]
    # And a fresh read-substitute-write keeps both
    again = zoho.adapter.get_call_log(ref)
    zoho.adapter.update_call_log(
        ref, LogUpdate(body=again.body.replace("(pending)", "3 min")), expected_version=again.version
    )
    body = zoho.read_log_raw(ref)["body"]
    assert "Called back, all sorted." in body and "Call duration: 3 min" in body


def test_update_reads_right_before_writing_and_sends_only_changed_fields(zoho: ZohoHarness) -> None:
    contact = _contact(zoho)
    ref = zoho.adapter.create_call_log(inbound_call(E164), contact, _entry())
    read = zoho.adapter.get_call_log(ref)
    zoho.fake.requests.clear()
    zoho.adapter.update_call_log(ref, LogUpdate(body="new body"), expected_version=read.version)
    assert [(r.method, r.url.path) for r in zoho.fake.api_requests()] == [
        ("GET", f"/crm/v8/Calls/{ref.log_id}"),
        ("PUT", f"/crm/v8/Calls/{ref.log_id}"),
    ]
    assert _last_json(zoho.fake, "PUT") == {"data": [{"Description": "new body"}]}


def test_duration_and_recording_alone_are_one_put_without_a_read_when_the_record_is_known(
    zoho: ZohoHarness,
) -> None:
    # Given a call logged by this adapter, duration pending, and a person's edit since
    contact = _contact(zoho)
    ref = zoho.adapter.create_call_log(inbound_call(E164, duration=None), contact, _entry())
    zoho.person_edits_log(ref, body=lambda b: b + "\nTyped in Zoho.\n")
    zoho.fake.requests.clear()
    # When only the duration and recording fields are written, without a version
    written = zoho.adapter.update_call_log(ref, LogUpdate(duration_seconds=194, recording_url="https://r.test/1"))
    # Then it is one PUT of those two fields: the note, and the person's edit in it, are not touched
    assert [r.method for r in zoho.fake.api_requests()] == ["PUT"]
    assert _last_json(zoho.fake, "PUT") == {"data": [{"Call_Duration": "03:14", "Voice_Recording__s": "https://r.test/1"}]}
    raw = zoho.read_log_raw(ref)
    assert "Typed in Zoho." in raw["body"] and raw["Call_Duration"] == "03:14"
    # and the version it reports does not pass for the edited record: a versioned write still sees the edit
    with pytest.raises(ConflictError):
        zoho.adapter.update_call_log(ref, LogUpdate(body="overwrites"), expected_version=written.version)
    assert "Typed in Zoho." in zoho.read_log_raw(ref)["body"]


def test_duration_of_a_record_this_adapter_never_saw_is_written_after_a_read(zoho: ZohoHarness) -> None:
    contact = _contact(zoho)
    call = inbound_call(E164, result="Missed", duration=0)
    ref = zoho.adapter.create_call_log(call, contact, _entry())
    fresh = ZohoHarness(zoho.fake)  # the app restarted: this adapter knows no record yet
    try:
        zoho.fake.requests.clear()
        fresh.adapter.update_call_log(ref, LogUpdate(duration_seconds=12))
        # It read the record (a missed call's type takes no duration) and had nothing to write
        assert [r.method for r in zoho.fake.api_requests()] == ["GET"]
        assert zoho.read_log_raw(ref)["Call_Type"] == "Missed"
    finally:
        fresh.close()


# --- recovery ------------------------------------------------------------------------------------


def test_find_call_log_skips_other_users_and_prefers_the_session_marker(zoho: ZohoHarness) -> None:
    contact = _contact(zoho)
    call = inbound_call(E164)
    # Another agent logged a call with the same number at the same second
    zoho.adapter.create_call_log(call, contact, _entry())
    theirs = max(zoho.fake.records["Calls"])
    zoho.fake.records["Calls"][theirs]["Owner"] = {"name": "Other", "id": "4876876000000225777"}
    # Two of ours at that second: only one carries this call's session id
    zoho.adapter.create_call_log(call, contact, _entry(body="Session id: 99"))
    mine = zoho.adapter.create_call_log(call, contact, _entry(body=f"Session id: {call.session_id}"))
    found = zoho.adapter.find_call_log(call)
    assert found is not None and found.log_id == mine.log_id and found.contact_id == contact.id


def test_find_call_log_checks_direction_and_number(zoho: ZohoHarness) -> None:
    contact = _contact(zoho)
    call = inbound_call(E164)
    zoho.adapter.create_call_log(call, contact, _entry())
    assert zoho.adapter.find_call_log(outbound_call(E164, start_time=call.start_time)) is None
    assert zoho.adapter.find_call_log(inbound_call("+12125557464", start_time=call.start_time)) is None


# --- limits and faults ---------------------------------------------------------------------------


def test_retry_after_pauses_later_requests_until_it_has_passed(zoho: ZohoHarness) -> None:
    contact = _contact(zoho)
    zoho.fake.inject_failure(429, retry_after=30)
    with pytest.raises(RateLimited) as first:
        zoho.adapter.find_contact(E164)
    assert first.value.retry_after == 30
    sent = len(zoho.fake.requests)
    with pytest.raises(RateLimited) as second:
        zoho.adapter.find_contact(E164)
    assert second.value.retry_after == pytest.approx(30)
    assert len(zoho.fake.requests) == sent, "nothing may be sent while Zoho asked to pause"
    zoho.fake.advance(31)
    assert [c.id for c in zoho.adapter.find_contact(E164)] == [contact.id]


def test_credit_limit_exceeded_is_rate_limited(zoho: ZohoHarness) -> None:
    zoho.fake.inject_failure(
        400, body={"code": "LIMIT_EXCEEDED", "details": {}, "message": "API credits exhausted", "status": "error"}
    )
    with pytest.raises(RateLimited) as caught:
        zoho.adapter.verify()
    assert caught.value.vendor_message == "LIMIT_EXCEEDED: API credits exhausted"


def test_timeout_on_a_real_socket_is_transient() -> None:
    fake = ZohoFake()
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=0.3) as http:
        fake.accounts_url = fake.api_url = server.base_url
        h = ZohoHarness(fake, client=http)
        fake.inject_failure("timeout")
        with pytest.raises(TransientError, match="did not answer in time"):
            h.adapter.verify()
        assert h.adapter.verify().startswith("Alex Agent")


def test_unknown_data_centre_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="data centre"):
        ZohoAdapter(Connection(settings={"client_id": CLIENT_ID, "data_centre": "mars"}), client=httpx.Client())


def _secrets_kept(values: Mapping[str, str]) -> None:
    raise AssertionError("no secret should be saved")


def test_signed_out_adapter_asks_to_connect() -> None:
    adapter = ZohoAdapter(
        Connection(settings={"client_id": CLIENT_ID}), client=httpx.Client(), save_secrets=_secrets_kept
    )
    with pytest.raises(AuthError, match="Connect"):
        adapter.find_contact(E164)


def test_slow_answer_within_the_timeout_arrives_and_a_slower_one_is_transient() -> None:
    fake = ZohoFake()
    with httpx.Client(transport=httpx.MockTransport(fake.handler), timeout=5) as http:
        h = ZohoHarness(fake, client=http)
        fake.delay_next(4)
        assert h.adapter.verify().startswith("Alex Agent")
        fake.delay_next(6)
        with pytest.raises(TransientError, match="did not answer in time"):
            h.adapter.call_results()


def test_api_domain_on_another_port_than_the_accounts_server_is_used() -> None:
    # Given accounts and API served on two different loopback ports by one Zoho
    fake = ZohoFake()
    with LoopbackServer(fake.handler) as accounts, LoopbackServer(fake.handler) as api, httpx.Client(timeout=5) as http:
        fake.accounts_url, fake.api_url = accounts.base_url, api.base_url
        settings = {"client_id": CLIENT_ID, "accounts_url": accounts.base_url}
        secrets = sign_in(settings, http, open_url=play_browser(http), port=0, timeout=10)
        # When the adapter is used
        adapter = ZohoAdapter(Connection(settings=settings, secrets=secrets), client=http)
        adapter.verify()
        # Then API calls went to the api_domain of the token response, OAuth to the accounts server
        api_port, accounts_port = httpx.URL(api.base_url).port, httpx.URL(accounts.base_url).port
        assert {r.url.port for r in fake.api_requests()} == {api_port}
        assert {r.url.port for r in fake.requests if r.url.path.startswith("/oauth/")} == {accounts_port}


def test_live_page_fields_offer_the_orgs_call_results() -> None:
    h = ZohoHarness(ZohoFake(call_results=["-None-", "Booked demo", "Wrong number"]))
    try:
        fields = {f.id: f for f in page_fields_for(h.adapter)}
        assert [o.id for o in fields["call_result"].options] == ["Booked demo", "Wrong number"]
        assert not fields["call_result"].contact_dependent and fields["deal"].contact_dependent
        assert h.adapter.manifest.field("call_result").options == []  # the static manifest is untouched
    finally:
        h.close()


def test_account_in_another_data_centre_is_signed_in_and_refreshed_at_its_own_accounts_server() -> None:
    # Given an EU account, while the user left the data centre at "us"
    eu = ZohoFake(
        accounts_url="https://accounts.zoho.eu",
        api_url="https://www.zohoapis.eu",
        location="eu",
        login_urls=("https://accounts.zoho.com",),
    )
    router = HostRouter({h: eu.handler for h in ("accounts.zoho.com", "accounts.zoho.eu", "www.zohoapis.eu")})
    http = httpx.Client(transport=httpx.MockTransport(router))
    settings = {"client_id": CLIENT_ID, "data_centre": "us"}
    # When signing in: the login page is on .com, the redirect names accounts.zoho.eu
    secrets = sign_in(settings, http, open_url=play_browser(http), port=0, timeout=10)
    # Then the code was exchanged at the EU accounts server and the refresh goes there too
    [exchange] = [r for r in eu.requests if r.url.path == "/oauth/v2/token"]
    assert exchange.url.host == "accounts.zoho.eu"
    adapter = ZohoAdapter(Connection(settings=settings, secrets=secrets), client=http, clock=lambda: eu.now.timestamp())
    eu.advance(3600)
    assert adapter.verify().startswith("Alex Agent")
    refreshes = [r for r in eu.requests if r.url.path == "/oauth/v2/token"][1:]
    assert [r.url.host for r in refreshes] == ["accounts.zoho.eu"]


def test_redirect_naming_an_unknown_accounts_server_sends_the_code_nowhere() -> None:
    fake = ZohoFake()
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))

    def tampered(url: str) -> None:
        answer = http.get(url)
        location = httpx.URL(answer.headers["Location"]).copy_set_param("accounts-server", "https://evil.example")
        with httpx.Client() as browser:
            browser.get(str(location))

    with pytest.raises(AuthError, match="unknown server"):
        sign_in(
            {"client_id": CLIENT_ID, "accounts_url": fake.accounts_url}, http, open_url=tampered, port=0, timeout=10
        )
    assert not [r for r in fake.requests if r.url.path == "/oauth/v2/token"]


def test_sign_out_revokes_the_grant_at_zoho(zoho: ZohoHarness) -> None:
    secrets = zoho.adapter._tokens.tokens.to_secrets()  # type: ignore[union-attr]
    zoho.adapter.sign_out()
    with pytest.raises(AuthError, match="Not signed in"):
        zoho.adapter.verify()
    other = ZohoAdapter(
        Connection(settings={"client_id": CLIENT_ID, "accounts_url": zoho.fake.accounts_url}, secrets=secrets),
        client=zoho.client,
        clock=zoho.clock,
    )
    with pytest.raises(AuthError, match="Reconnect"):
        other.verify()


def test_recording_link_too_long_for_the_url_field_stays_in_the_note_only(zoho: ZohoHarness) -> None:
    contact = _contact(zoho)
    ref = zoho.adapter.create_call_log(inbound_call(E164), contact, _entry())
    long_link = "https://media.example.test/rec/1?" + "x" * 300
    zoho.adapter.update_call_log(ref, LogUpdate(body="Recording: " + long_link, recording_url=long_link))
    raw = zoho.read_log_raw(ref)
    assert raw["Voice_Recording__s"] is None and raw["body"] == "Recording: " + long_link
