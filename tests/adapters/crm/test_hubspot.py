# SPDX-License-Identifier: MIT
"""HubSpot adapter: the contract suite against the fake portal, plus HubSpot's own rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from adapters.base import (
    AuthError,
    Connection,
    MalformedResponse,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationError,
)
from adapters.crm.hubspot import API_BASE, DEFAULT_OUTCOMES, HubSpotAdapter, call_status, parse_hubspot_error
from adapters.models import Call, CallLogRef, Contact, LogEntry, LogUpdate
from adapters.testing import ContractHarness, CrmAdapterContract, calls
from tests.fakes.hubspot import CUSTOM_OUTCOME, DEFAULT_TOKEN, HubSpotFake

E164 = "+14155550123"
CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"


class HubSpotHarness(ContractHarness):
    """The adapter on ``httpx.MockTransport`` in front of a fresh fake portal, sharing its clock."""

    def __init__(self, fake: HubSpotFake | None = None, *, token: str = DEFAULT_TOKEN, **settings: str) -> None:
        self.fake = fake or HubSpotFake()
        self.client = self.fake.client(API_BASE)
        self.adapter = HubSpotAdapter(
            Connection(secrets={"token": token}, settings=settings),
            client=self.client,
            clock=self.fake.clock.monotonic,
            sleep=self.fake.clock.sleep,
        )

    def add_contact(self, name: str, phone: str, *, extension: str | None = None) -> str:
        first, _, last = name.partition(" ")
        return self.fake.add_contact(first, last, phone=phone)

    def person_edits_log(
        self, ref: CallLogRef, *, subject: str | None = None, body: Callable[[str], str] | None = None
    ) -> None:
        current = self.fake.calls[ref.log_id]["properties"].get("hs_call_body", "")
        self.fake.edit_call(ref.log_id, title=subject, body=body(current) if body else None)

    def read_log_raw(self, ref: CallLogRef) -> dict[str, Any]:
        call = self.fake.calls[ref.log_id]
        props = dict(call["properties"])
        duration_ms = props.get("hs_call_duration")
        return {
            **props,
            "subject": props.get("hs_call_title", ""),
            "body": props.get("hs_call_body", ""),
            "dispositions": {"outcome": props.get("hs_call_disposition")},
            "direction": str(props.get("hs_call_direction", "")).capitalize(),
            "start_time": datetime.fromisoformat(props["hs_timestamp"].replace("Z", "+00:00")),
            "duration_seconds": round(int(duration_ms) / 1000) if duration_ms else None,
            "contact_id": call["contacts"][0] if call["contacts"] else None,
        }

    def inject_failure(self, kind: Any, *, retry_after: float | None = None, body: Any = None) -> None:
        self.fake.inject(kind, retry_after=retry_after, body=body)

    def close(self) -> None:
        self.adapter.close()
        self.client.close()


class TestHubSpotContract(CrmAdapterContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        h = HubSpotHarness()
        yield h
        h.close()


@pytest.fixture
def hs() -> Iterator[HubSpotHarness]:
    h = HubSpotHarness()
    yield h
    h.close()


def _contact(hs: HubSpotHarness, phone: str = E164) -> Contact:
    hs.add_contact("Ana Diaz", phone)
    return hs.adapter.find_contact(phone)[0]


def _entry(**kw: Any) -> LogEntry:
    base: dict[str, Any] = {"subject": "Inbound call from Ana Diaz", "body": "<p>Wants a quote.</p>"}
    base.update(kw)
    return LogEntry(**base)


# --- connect ---------------------------------------------------------------------------------


def test_verify_names_the_portal_and_loads_its_outcomes(hs: HubSpotHarness) -> None:
    assert hs.adapter.verify() == "HubSpot portal 24681357"
    options = {o.id: o.label for o in hs.adapter.page_fields()[0].options}
    assert options[CUSTOM_OUTCOME[0]] == CUSTOM_OUTCOME[1]
    assert options[CONNECTED] == "Connected"


def test_live_outcomes_never_change_the_shared_manifest(hs: HubSpotHarness) -> None:
    live = hs.adapter.page_fields()
    assert CUSTOM_OUTCOME[0] in [o.id for o in live[0].options]
    assert [o.id for o in HubSpotAdapter.manifest.page_fields[0].options] == [o.id for o in DEFAULT_OUTCOMES]


def test_verify_with_owner_email_names_the_owner() -> None:
    h = HubSpotHarness(owner_email="agent@example.com")
    try:
        assert h.adapter.verify() == "HubSpot portal 24681357 as Avery Agent"
    finally:
        h.close()


def test_verify_with_an_unknown_owner_email_names_the_field() -> None:
    h = HubSpotHarness(owner_email="nobody@example.com")
    try:
        with pytest.raises(ValidationError) as caught:
            h.adapter.verify()
        assert caught.value.field == "owner_email" and "nobody@example.com" in caught.value.message
    finally:
        h.close()


def test_environment_variable_points_the_adapter_at_a_fake_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = HubSpotFake()
    with fake.serve() as base_url:
        monkeypatch.setenv("LOGDESK_HUBSPOT_URL", base_url)
        adapter = HubSpotAdapter(Connection(secrets={"token": DEFAULT_TOKEN}))
        try:
            assert adapter.verify() == "HubSpot portal 24681357"
        finally:
            adapter.close()
    assert fake.count("GET", "/account-info/v3/details") == 1


def test_verify_with_a_wrong_token_says_what_to_paste() -> None:
    h = HubSpotHarness(token="pat-na1-wrong")
    try:
        with pytest.raises(AuthError) as caught:
            h.adapter.verify()
        assert "private app or service key" in caught.value.message
        assert caught.value.vendor_message and "invalid" in caught.value.vendor_message
    finally:
        h.close()


def test_verify_names_the_missing_contacts_scope() -> None:
    h = HubSpotHarness()
    h.fake.scopes[DEFAULT_TOKEN] = frozenset({"crm.objects.owners.read"})
    try:
        with pytest.raises(PermissionDenied) as caught:
            h.adapter.verify()
        assert "crm.objects.contacts.read" in caught.value.message
        assert "Required scopes: crm.objects.contacts.read." in (caught.value.vendor_message or "")
    finally:
        h.close()


def test_without_the_owners_scope_calls_are_still_logged_without_an_owner() -> None:
    h = HubSpotHarness(owner_email="agent@example.com")
    h.fake.scopes[DEFAULT_TOKEN] = frozenset({"crm.objects.contacts.read", "crm.objects.contacts.write"})
    try:
        with pytest.raises(PermissionDenied, match=r"crm\.objects\.owners\.read"):
            h.adapter.verify()
        h.add_contact("Ana Diaz", E164)
        contact = Contact(id=h.adapter.find_contact(E164)[0].id, name="Ana Diaz")
        ref = h.adapter.create_call_log(calls.inbound_call(E164), contact, _entry())
        assert "hubspot_owner_id" not in h.fake.calls[ref.log_id]["properties"]
    finally:
        h.close()


def test_missing_token_raises_auth_error_without_a_request() -> None:
    h = HubSpotHarness(token="")
    try:
        with pytest.raises(AuthError, match="Paste one"):
            h.adapter.find_contact(E164)
        assert h.fake.requests == []
    finally:
        h.close()


def test_outcomes_fall_back_to_the_documented_defaults_when_unreadable(hs: HubSpotHarness) -> None:
    hs.fake.inject(500, path_prefix="/calling/v1/dispositions")
    assert [o.id for o in hs.adapter.outcomes()] == [o.id for o in DEFAULT_OUTCOMES]


# --- contacts --------------------------------------------------------------------------------


def test_find_contact_matches_mobile_numbers_and_fills_owner_company_and_creation(hs: HubSpotHarness) -> None:
    cid = hs.fake.add_contact("Ben", "Okafor", mobilephone="415.555.0123", company="Okafor & Co")
    [contact] = hs.adapter.find_contact(E164)
    assert (contact.id, contact.name, contact.company, contact.owner) == (cid, "Ben Okafor", "Okafor & Co",
                                                                          "Avery Agent")
    assert contact.created_at is not None and contact.created_at.year == 2026


@pytest.mark.parametrize(
    ("calculated", "typed"),
    [("14155550123", "+14155550123"), (None, "(415) 555-0123"), (None, "415.555.0123")],
    ids=["calculated with country code", "typed national notation", "typed with dots"],
)
def test_find_contact_does_not_depend_on_one_reading_of_the_phone_properties(
    hs: HubSpotHarness, calculated: str | None, typed: str
) -> None:
    cid = hs.fake.add_contact("Ana", "Diaz", phone=typed)
    hs.fake.contacts[cid]["properties"]["hs_searchable_calculated_phone_number"] = calculated
    assert [c.id for c in hs.adapter.find_contact(E164)] == [cid]


def test_find_contact_is_one_search_within_hubspots_filter_limits(hs: HubSpotHarness) -> None:
    hs.add_contact("Ana Diaz", E164)
    hs.adapter.find_contact("(415) 555-0123")
    [search] = [r for r in hs.fake.requests if r.path.endswith("/contacts/search")]
    groups = search.json["filterGroups"]
    assert len(groups) <= 5 and sum(len(g["filters"]) for g in groups) <= 25


def test_a_backlog_of_searches_never_hits_the_per_second_limit(hs: HubSpotHarness) -> None:
    hs.add_contact("Ana Diaz", E164)
    for _ in range(12):
        assert len(hs.adapter.find_contact(E164)) == 1
    assert hs.adapter._throttle.waited >= 2.0  # 12 searches at 4 per second


def test_search_429_reports_the_one_second_window(hs: HubSpotHarness) -> None:
    hs.fake.search_per_second = 0
    with pytest.raises(RateLimited) as caught:
        hs.adapter.find_contact(E164)
    assert caught.value.retry_after == 1.0
    assert "secondly" in (caught.value.vendor_message or "")


def test_spent_daily_limit_stops_requests_without_sending_them(hs: HubSpotHarness) -> None:
    hs.fake.inject(429, body={"status": "error", "message": "You have reached your daily limit.",
                              "errorType": "RATE_LIMIT", "policyName": "DAILY", "category": "RATE_LIMITS"})
    with pytest.raises(RateLimited) as first:
        hs.adapter.verify()
    assert first.value.retry_after == 3600.0
    sent = len(hs.fake.requests)
    with pytest.raises(RateLimited) as second:
        hs.adapter.verify()
    assert len(hs.fake.requests) == sent
    assert second.value.retry_after == pytest.approx(3600.0)


def test_the_last_request_of_the_day_stops_further_ones_before_hubspot_refuses_them(hs: HubSpotHarness) -> None:
    hs.fake.daily_limit = 2
    hs.fake.add_contact("Ana", "Diaz", phone=E164)
    ref_call = calls.inbound_call(E164)
    hs.adapter.create_call_log(ref_call, Contact(id="501", name="Ana Diaz"), _entry())  # request 1
    hs.adapter.outcomes()  # request 2: the portal says none are left today
    sent = len(hs.fake.requests)
    with pytest.raises(RateLimited) as caught:
        hs.adapter.get_call_log(CallLogRef(adapter_id="hubspot", log_id="90001"))
    assert len(hs.fake.requests) == sent
    assert caught.value.retry_after == pytest.approx(3600.0)


def test_exhausted_burst_budget_pauses_before_the_next_request(hs: HubSpotHarness) -> None:
    hs.fake.burst_limit = 3
    contact = _contact(hs)
    start = hs.fake.clock.time()
    for _ in range(5):
        hs.adapter.create_call_log(calls.inbound_call(E164), contact, _entry())
    assert hs.fake.clock.time() - start >= 10.0
    assert hs.fake.count("POST", "/crm/v3/objects/calls") == 5  # none refused with 429
    assert len(hs.fake.calls) == 5


# --- call logs -------------------------------------------------------------------------------


def test_create_fills_hubspots_structured_call_properties(hs: HubSpotHarness) -> None:
    contact = _contact(hs)
    call = calls.outbound_call(E164, duration=95, result="Call connected")
    ref = hs.adapter.create_call_log(
        call, contact, _entry(dispositions={"outcome": CONNECTED}, duration_seconds=95,
                              recording_url="https://media.ringcentral.com/recording/1")
    )
    stored = hs.fake.calls[ref.log_id]
    props = stored["properties"]
    assert props["hs_call_direction"] == "OUTBOUND"
    assert props["hs_call_duration"] == "95000"
    assert props["hs_call_status"] == "COMPLETED"
    assert props["hs_call_disposition"] == CONNECTED
    assert props["hs_call_recording_url"] == "https://media.ringcentral.com/recording/1"
    assert props["hs_call_to_number"] == E164
    assert props["hs_call_external_id"] == call.session_id
    assert props["hs_timestamp"].startswith(call.start_time.strftime("%Y-%m-%dT%H:%M:%S"))
    assert stored["contacts"] == [contact.id]
    assert all(isinstance(v, str) for v in props.values())


def test_the_call_is_associated_with_the_contacts_company_too(hs: HubSpotHarness) -> None:
    company = hs.fake.add_company("Diaz Supply")
    cid = hs.fake.add_contact("Ana", "Diaz", phone=E164, company_id=company)
    [contact] = hs.adapter.find_contact(E164)
    ref = hs.adapter.create_call_log(calls.inbound_call(E164), contact, _entry())
    stored = hs.fake.calls[ref.log_id]
    assert (stored["contacts"], stored["companies"]) == ([cid], [company])


def test_get_reads_string_properties_back_as_typed_values(hs: HubSpotHarness) -> None:
    ref = hs.adapter.create_call_log(calls.inbound_call(E164), _contact(hs), _entry(duration_seconds=194))
    stored = hs.adapter.get_call_log(ref)
    assert stored.duration_seconds == 194
    assert stored.contact_id == ref.contact_id
    assert stored.version and stored.modified_at is not None


def test_recording_link_fills_the_structured_field_without_touching_the_note(hs: HubSpotHarness) -> None:
    ref = hs.adapter.create_call_log(calls.inbound_call(E164), _contact(hs), _entry())
    hs.fake.edit_call(ref.log_id, body="<p>Edited in HubSpot</p>")
    updated = hs.adapter.update_call_log(ref, LogUpdate(recording_url="https://media.ringcentral.com/recording/7"))
    assert hs.fake.calls[ref.log_id]["properties"]["hs_call_body"] == "<p>Edited in HubSpot</p>"
    assert updated.recording_url == "https://media.ringcentral.com/recording/7"


def test_a_non_https_recording_link_is_left_to_the_note(hs: HubSpotHarness) -> None:
    ref = hs.adapter.create_call_log(calls.inbound_call(E164), _contact(hs), _entry(recording_url="http://x/1"))
    assert "hs_call_recording_url" not in hs.fake.calls[ref.log_id]["properties"]


def test_vendor_validation_message_and_property_reach_the_agent(hs: HubSpotHarness) -> None:
    ref = hs.adapter.create_call_log(calls.inbound_call(E164), _contact(hs), _entry())
    with pytest.raises(ValidationError) as caught:
        hs.adapter.upsert_disposition(ref, {"outcome": "not-a-guid"})
    assert caught.value.field == "hs_call_disposition"
    assert caught.value.vendor_message == "hs_call_disposition: not-a-guid was not one of the allowed options"


_OK = {"hs_timestamp": "2026-09-30T14:05:00.000Z", "hs_call_title": "t"}


@pytest.mark.parametrize(
    ("properties", "field"),
    [
        ({"hs_call_title": "t"}, "hs_timestamp"),
        ({**_OK, "hs_call_direction": "SIDEWAYS"}, "hs_call_direction"),
        ({**_OK, "hs_call_status": "DONE"}, "hs_call_status"),
        ({**_OK, "hs_call_duration": "95s"}, "hs_call_duration"),
        ({**_OK, "hs_call_recording_url": "http://media.example/1.mp3"}, "hs_call_recording_url"),
        ({**_OK, "hubspot_owner_id": "999"}, "hubspot_owner_id"),
        ({**_OK, "session_id": "1"}, "session_id"),
        ({**_OK, "hs_lastmodifieddate": "2026-09-30T14:05:00.000Z"}, "hs_lastmodifieddate"),
    ],
)
def test_the_fake_refuses_what_hubspot_refuses_and_the_adapter_names_the_property(
    hs: HubSpotHarness, properties: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        hs.adapter._request("POST", "/crm/v3/objects/calls", json={"properties": properties})
    assert caught.value.field == field
    assert hs.fake.calls == {}


@pytest.mark.parametrize(
    ("to_id", "type_id"), [("424242", 194), (None, 999)], ids=["unknown contact", "wrong association type"]
)
def test_the_fake_refuses_bad_associations_like_hubspot(hs: HubSpotHarness, to_id: str | None, type_id: int) -> None:
    known = hs.add_contact("Ana Diaz", E164)
    association = {"to": {"id": to_id or known},
                   "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}
    with pytest.raises(ValidationError, match=r"not valid|invalid") as caught:
        hs.adapter._request("POST", "/crm/v3/objects/calls", json={"properties": _OK, "associations": [association]})
    assert caught.value.status == 400
    assert hs.fake.calls == {}


@pytest.mark.parametrize(
    "associations",
    [
        {},
        {"to": {"id": "501"}},
        [{"to": {"id": ""}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194}]}],
        [{"to": {"id": "501"}, "types": []}],
        [{"to": {"id": "501"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": "194"}]}],
    ],
    ids=["an empty object", "an object", "empty id", "no types", "type id as text"],
)
def test_the_fake_refuses_associations_not_shaped_as_hubspot_declares(hs: HubSpotHarness, associations: Any) -> None:
    hs.add_contact("Ana Diaz", E164)
    with pytest.raises(ValidationError) as caught:
        hs.adapter._request("POST", "/crm/v3/objects/calls", json={"properties": _OK, "associations": associations})
    assert caught.value.status == 400
    assert hs.fake.calls == {}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "words"),
    [
        ("GET", "/crm/v3/objects/calls/90001", {"params": {"propertys": "hs_call_body"}},
         "Unrecognized query parameter: propertys"),
        ("POST", "/crm/v3/objects/calls", {"json": {"properties": _OK, "association": []}},
         'Unrecognized field "association"'),
        ("POST", "/crm/v3/objects/contacts/search",
         {"json": {"filterGroups": [{"filters": [{"propertyName": "phone", "operator": "EQ", "value": "1",
                                                  "caseSensitive": True}]}]}},
         'Unrecognized field "filterGroups.filters.caseSensitive"'),
        ("PATCH", "/crm/v3/objects/calls/90001", {"json": {"properties": {"hs_call_title": "t"}, "archived": False}},
         'Unrecognized field "archived"'),
    ],
    ids=["query parameter", "create field", "nested search field", "update field"],
)
def test_the_fake_refuses_what_the_endpoint_does_not_declare_like_a_strict_hubspot(
    hs: HubSpotHarness, method: str, path: str, kwargs: dict[str, Any], words: str
) -> None:
    answer = hs.client.request(method, path, headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"}, **kwargs)
    assert answer.status_code == 400
    body = answer.json()
    assert (body["status"], body["category"]) == ("error", "VALIDATION_ERROR") and words in body["message"]
    assert hs.fake.calls == {}


def test_unknown_page_field_is_refused_before_any_request(hs: HubSpotHarness) -> None:
    with pytest.raises(ValidationError):
        hs.adapter.upsert_disposition(CallLogRef(adapter_id="hubspot", log_id="1"), {"deal": "12"})
    assert hs.fake.requests == []


def test_clearing_the_outcome_sends_an_empty_string(hs: HubSpotHarness) -> None:
    contact = _contact(hs)
    ref = hs.adapter.create_call_log(calls.inbound_call(E164), contact, _entry(dispositions={"outcome": CONNECTED}))
    hs.adapter.upsert_disposition(ref, {"outcome": None})
    assert "hs_call_disposition" not in hs.fake.calls[ref.log_id]["properties"]
    assert hs.adapter.get_call_log(ref).dispositions == {"outcome": None}


def test_missed_inbound_call_to_voicemail_is_missed() -> None:
    assert call_status(calls.inbound_call(E164, result="Voicemail")) == "MISSED"
    assert call_status(calls.outbound_call(E164, result="Busy")) == "BUSY"
    assert call_status(calls.inbound_call(E164, result="Accepted")) == "COMPLETED"


def test_owner_email_assigns_the_call(hs: HubSpotHarness) -> None:
    h = HubSpotHarness(owner_email="lee@example.com")
    try:
        ref = h.adapter.create_call_log(calls.inbound_call(E164), _contact(h), _entry())
        assert h.fake.calls[ref.log_id]["properties"]["hubspot_owner_id"] == "78"
    finally:
        h.close()


def test_lifecycle_costs_one_create_and_one_read_plus_one_write_per_batch(hs: HubSpotHarness) -> None:
    contact = _contact(hs)
    before = len(hs.fake.requests)
    call = calls.inbound_call(E164, duration=None)
    ref = hs.adapter.create_call_log(call, contact, _entry(body="<p>a (pending)</p>"))
    hs.fake.edit_call(ref.log_id, body="<p>a (pending)</p><p>typed in HubSpot</p>")
    for final in ("3 min", "recording"):  # two poller batches
        stored = hs.adapter.get_call_log(ref)
        hs.adapter.update_call_log(ref, LogUpdate(body=stored.body.replace("(pending)", final), duration_seconds=194))
    methods = [r.method for r in hs.fake.requests[before:]]
    assert methods == ["POST", "GET", "PATCH", "GET", "PATCH"]
    assert hs.fake.calls[ref.log_id]["properties"]["hs_call_body"] == "<p>a 3 min</p><p>typed in HubSpot</p>"


def test_update_returns_the_whole_record_though_patch_answers_partially(hs: HubSpotHarness) -> None:
    entry = _entry(dispositions={"outcome": CONNECTED})
    ref = hs.adapter.create_call_log(calls.inbound_call(E164), _contact(hs), entry)
    stored = hs.adapter.get_call_log(ref)
    updated = hs.adapter.update_call_log(ref, LogUpdate(subject="New subject"))
    assert (updated.subject, updated.body, updated.dispositions) == ("New subject", stored.body, stored.dispositions)
    assert updated.version != stored.version


def test_update_without_changes_sends_no_write(hs: HubSpotHarness) -> None:
    ref = hs.adapter.create_call_log(calls.inbound_call(E164), _contact(hs), _entry())
    hs.adapter.update_call_log(ref, LogUpdate())
    assert hs.fake.count("PATCH") == 0


def test_a_colleagues_log_of_the_same_session_is_not_taken_for_ours(hs: HubSpotHarness) -> None:
    contact = _contact(hs)
    ours = calls.inbound_call(E164)
    colleague_raw = ours.to_raw()  # the same session, seen from a colleague's extension
    colleague_raw["to"]["extensionId"] = "400200000777"
    colleague = Call.model_validate(colleague_raw)
    hs.adapter.create_call_log(colleague, contact, _entry())
    assert hs.adapter.find_call_log(ours) is None
    ref = hs.adapter.create_call_log(ours, contact, _entry())
    found = hs.adapter.find_call_log(ours)
    assert found is not None and found.log_id == ref.log_id
    assert hs.fake.calls[ref.log_id]["properties"]["hs_call_external_account_id"] == ours.local.extension_id


@pytest.mark.parametrize(
    "colleague",
    [
        Contact(id="", name="Sam Colleague", is_internal=True),
        Contact(id="9001", name="Sam Colleague", is_internal=True),
    ],
    ids=["no contact id", "a colleague's id"],
)
def test_an_internal_call_is_logged_without_an_association_and_its_log_names_no_contact(
    hs: HubSpotHarness, colleague: Contact
) -> None:
    call = calls.internal_call("102", colleague_name="Sam Colleague")
    ref = hs.adapter.create_call_log(call, colleague, _entry(subject="Internal call with Sam"))
    [post] = [r for r in hs.fake.requests if r.method == "POST" and r.path == "/crm/v3/objects/calls"]
    assert "associations" not in post.json
    assert (hs.fake.calls[ref.log_id]["contacts"], hs.fake.calls[ref.log_id]["companies"]) == ([], [])
    assert ref.contact_id is None
    read = hs.client.get(f"/crm/v3/objects/calls/{ref.log_id}", params={"associations": "contacts"},
                         headers={"Authorization": f"Bearer {DEFAULT_TOKEN}"})
    assert "associations" not in read.json()
    stored = hs.adapter.update_call_log(ref, LogUpdate(body="<p>Talked about the rota.</p>"))
    assert (stored.contact_id, stored.contact_name, stored.body) == (None, None, "<p>Talked about the rota.</p>")
    assert hs.adapter.get_call_log(ref).contact_id is None
    found = hs.adapter.find_call_log(call)
    assert found is not None and found.log_id == ref.log_id


def test_find_call_log_finds_a_call_the_search_index_has_not_caught_up_with() -> None:
    fake = HubSpotFake(search_lag=5.0)
    h = HubSpotHarness(fake)
    try:
        contact_id = h.add_contact("Ana Diaz", E164)
        other = calls.inbound_call(E164)
        call = calls.inbound_call(E164)
        fake.clock.advance(5.0)  # the contact is indexed; the calls will not be yet
        contact = Contact(id=contact_id, name="Ana Diaz")
        h.adapter.create_call_log(other, contact, _entry())
        ref = h.adapter.create_call_log(call, contact, _entry())
        before = len(fake.requests)
        found = h.adapter.find_call_log(call)
        assert found is not None and found.log_id == ref.log_id
        assert [r.path.rsplit("/", 2)[-2:] for r in fake.requests[before:]] == [
            ["calls", "search"], ["contacts", "search"], ["associations", "calls"], ["batch", "read"]]
        assert h.adapter.find_call_log(calls.inbound_call(E164)) is None
    finally:
        h.close()


# --- errors ----------------------------------------------------------------------------------


def test_parse_hubspot_error_unpacks_property_problems() -> None:
    raw = {
        "status": "error",
        "message": 'Property values were not valid: [{"isValid":false,"message":"SIDEWAYS was not one of the '
        'allowed options","error":"INVALID_OPTION","name":"hs_call_direction"}]',
        "correlationId": "c0",
        "category": "VALIDATION_ERROR",
    }
    assert parse_hubspot_error(raw) == ("hs_call_direction: SIDEWAYS was not one of the allowed options",
                                        "hs_call_direction")
    assert parse_hubspot_error({"message": "x", "errors": [{"message": "y", "in": "hs_timestamp"}]}) == (
        "x", "hs_timestamp")
    assert parse_hubspot_error(["not", "a", "dict"]) == (None, None)


def test_body_over_hubspots_limit_is_refused_by_the_fake_like_hubspot(hs: HubSpotHarness) -> None:
    with pytest.raises(ValidationError) as caught:
        hs.adapter.create_call_log(calls.inbound_call(E164), _contact(hs), _entry(body="x" * 65537))
    assert caught.value.field == "hs_call_body"


def test_wrong_json_shape_is_a_malformed_response(hs: HubSpotHarness) -> None:
    hs.add_contact("Ana Diaz", E164)
    hs.fake.inject("malformed", body={"results": "nope"})
    with pytest.raises(TransientError, match="unexpected shape"):
        hs.adapter.find_contact(E164)


def test_a_value_of_the_wrong_type_deep_in_a_record_is_a_malformed_response(hs: HubSpotHarness) -> None:
    ref = hs.adapter.create_call_log(calls.inbound_call(E164), _contact(hs), _entry())
    hs.fake.inject("malformed", body={"id": ref.log_id, "properties": {"hs_call_title": 5, "hs_call_body": []}})
    with pytest.raises(MalformedResponse) as caught:
        hs.adapter.get_call_log(ref)
    assert "ValidationError" in (caught.value.vendor_message or "")
    assert hs.adapter.get_call_log(ref).subject == "Inbound call from Ana Diaz"


def test_slow_answer_beyond_the_read_timeout_is_transient() -> None:
    fake = HubSpotFake()
    client = httpx.Client(base_url=API_BASE, transport=fake.transport(), timeout=5.0)
    adapter = HubSpotAdapter(Connection(secrets={"token": DEFAULT_TOKEN}), client=client,
                             clock=fake.clock.monotonic, sleep=fake.clock.sleep)
    try:
        fake.inject("slow", delay=30.0)
        with pytest.raises(TransientError, match="did not answer in time"):
            adapter.verify()
        fake.inject("slow", delay=1.0)
        assert adapter.verify().startswith("HubSpot portal")
    finally:
        client.close()


# --- over a real socket ----------------------------------------------------------------------


def test_adapter_talks_to_the_fake_served_on_loopback() -> None:
    fake = HubSpotFake()
    fake.add_contact("Ana", "Diaz", phone="(415) 555-0123")
    with fake.serve() as base_url:
        adapter = HubSpotAdapter(Connection(secrets={"token": DEFAULT_TOKEN}, settings={"api_base_url": base_url}))
        try:
            assert adapter.verify().startswith("HubSpot portal")
            [contact] = adapter.find_contact(E164)
            ref = adapter.create_call_log(calls.inbound_call(E164), contact, _entry())
            assert adapter.get_call_log(ref).subject == "Inbound call from Ana Diaz"
            assert adapter.find_call_log(calls.inbound_call(E164)) is None
        finally:
            adapter.close()


def test_a_call_deleted_in_hubspot_is_not_found_and_not_recovered(hs: HubSpotHarness) -> None:
    call = calls.inbound_call(E164)
    ref = hs.adapter.create_call_log(call, _contact(hs), _entry())
    hs.fake.archive_call(ref.log_id)
    with pytest.raises(NotFound):
        hs.adapter.update_call_log(ref, LogUpdate(body="<p>final</p>"))
    assert hs.adapter.find_call_log(call) is None


def test_region_setting_reads_numbers_written_without_a_country_code() -> None:
    h = HubSpotHarness(phone_region="GB")
    try:
        cid = h.fake.add_contact("Oliver", "Twist", phone="+44 20 7946 0958")
        assert [c.id for c in h.adapter.find_contact("020 7946 0958")] == [cid]
    finally:
        h.close()


def test_a_stored_log_names_its_contact_without_another_request(hs: HubSpotHarness) -> None:
    contact = _contact(hs)
    ref = hs.adapter.create_call_log(calls.inbound_call(E164), contact, _entry())
    fresh = HubSpotHarness(hs.fake)  # another session: nothing remembered from the create
    try:
        fresh.adapter.find_contact(E164)
        before = len(hs.fake.requests)
        assert fresh.adapter.get_call_log(ref).contact_name == "Ana Diaz"
        assert len(hs.fake.requests) == before + 1
    finally:
        fresh.close()
