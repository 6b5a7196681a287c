# SPDX-License-Identifier: MIT
"""Pipedrive adapter: the contract suite against the fake company, plus Pipedrive's own rules."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.base import (
    AuthError,
    Connection,
    MalformedResponse,
    NotFound,
    RateLimited,
    TransientError,
    ValidationError,
)
from adapters.crm.pipedrive import (
    PipedriveAdapter,
    format_duration,
    normalize_domain,
    parse_duration,
    parse_pipedrive_error,
)
from adapters.models import CallLogRef, Contact, LogEntry, LogUpdate
from adapters.testing import ContractHarness, CrmAdapterContract, calls
from tests.fakes.pipedrive import DEFAULT_TOKEN, PipedriveFake
from tests.fakes.vendor_base import RealClock

E164 = "+14155550123"
BASE = "https://acme.pipedrive.com"


class PipedriveHarness(ContractHarness):
    """The adapter on ``httpx.MockTransport`` in front of a fresh fake company, sharing its clock.

    Every contact gets an open deal and a lead, so the contact-dependent field has options.
    An activity has no direction field (the subject and the note say it), keeps the start as a
    date and a ``HH:MM`` time in UTC, and the duration as ``HH:MM``.
    """

    facts_not_stored = frozenset({"direction"})
    start_time_grain = timedelta(minutes=1)
    duration_grain = 60

    def __init__(self, fake: PipedriveFake | None = None, *, token: str = DEFAULT_TOKEN, **settings: str) -> None:
        self.fake = fake or PipedriveFake()
        self.client = self.fake.client(BASE)
        self.adapter = PipedriveAdapter(
            Connection(secrets={"api_token": token}, settings={"company_domain": "acme", **settings}),
            client=self.client,
            clock=self.fake.clock.monotonic,
            sleep=self.fake.clock.sleep,
        )

    def add_contact(self, name: str, phone: str, *, extension: str | None = None) -> str:
        pid = self.fake.add_person(name, [phone])
        self.fake.add_deal(f"Deal with {name}", pid)
        self.fake.add_lead(f"Lead from {name}", pid)
        return str(pid)

    def person_edits_log(
        self, ref: CallLogRef, *, subject: str | None = None, body: Callable[[str], str] | None = None
    ) -> None:
        current = self.fake.activities[int(ref.log_id)]["note"] or ""
        self.fake.edit_activity(int(ref.log_id), subject=subject, note=body(current) if body else None)

    def read_log_raw(self, ref: CallLogRef) -> dict[str, Any]:
        activity = dict(self.fake.activities[int(ref.log_id)])
        related = f"deal:{activity['deal_id']}" if activity["deal_id"] else (
            f"lead:{activity['lead_id']}" if activity["lead_id"] else None)
        hours, minutes = (int(part) for part in (activity["duration"] or "00:00").split(":"))
        primary = [p["person_id"] for p in activity["participants"] if p["primary"]]
        return {**activity, "subject": activity["subject"] or "", "body": activity["note"] or "",
                "dispositions": {"related": related},
                "start_time": datetime.fromisoformat(f"{activity['due_date']}T{activity['due_time']}+00:00"),
                "duration_seconds": (hours * 60 + minutes) * 60 if activity["duration"] else None,
                "contact_id": str(primary[0]) if primary else None}

    def inject_failure(self, kind: Any, *, retry_after: float | None = None, body: Any = None) -> None:
        self.fake.inject(kind, retry_after=retry_after, body=body)

    def close(self) -> None:
        self.adapter.close()
        self.client.close()


class TestPipedriveContract(CrmAdapterContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        h = PipedriveHarness()
        yield h
        h.close()


@pytest.fixture
def pd() -> Iterator[PipedriveHarness]:
    h = PipedriveHarness()
    yield h
    h.close()


def _contact(pd: PipedriveHarness, phone: str = E164) -> Contact:
    pd.add_contact("Ana Diaz", phone)
    return pd.adapter.find_contact(phone)[0]


def _entry(**kw: Any) -> LogEntry:
    base: dict[str, Any] = {"subject": "Inbound call from Ana Diaz", "body": "<p>Wants a quote.</p>"}
    base.update(kw)
    return LogEntry(**base)


# --- connect ---------------------------------------------------------------------------------


def test_verify_names_user_and_company_and_assigns_calls_to_them(pd: PipedriveHarness) -> None:
    assert pd.adapter.verify() == "Avery Agent (agent@example.com) at Acme Inc."
    ref = pd.adapter.create_call_log(calls.inbound_call(E164), _contact(pd), _entry())
    assert pd.fake.activities[int(ref.log_id)]["owner_id"] == 77


def test_verify_with_a_wrong_token_says_where_to_copy_it() -> None:
    h = PipedriveHarness(token="0" * 40)
    try:
        with pytest.raises(AuthError) as caught:
            h.adapter.verify()
        assert "Personal preferences → API" in caught.value.message
        assert caught.value.vendor_message == "unauthorized access"
    finally:
        h.close()


def test_verify_without_a_company_domain_asks_for_it_before_any_request() -> None:
    h = PipedriveHarness(company_domain="")
    try:
        with pytest.raises(AuthError, match="company domain"):
            h.adapter.verify()
        assert h.fake.requests == []
    finally:
        h.close()


def test_verify_refuses_a_company_without_a_call_activity_type(pd: PipedriveHarness) -> None:
    pd.fake.activity_types = [t for t in pd.fake.activity_types if t["key_string"] != "call"]
    with pytest.raises(ValidationError, match="no active activity type for calls"):
        pd.adapter.verify()


def test_the_chosen_activity_type_is_used_when_active() -> None:
    h = PipedriveHarness(activity_type="meeting")
    try:
        ref = h.adapter.create_call_log(calls.inbound_call(E164), _contact(h), _entry())
        assert h.fake.activities[int(ref.log_id)]["type"] == "meeting"
    finally:
        h.close()


def test_an_inactive_chosen_activity_type_is_refused_with_a_clear_message() -> None:
    h = PipedriveHarness(activity_type="old_call")
    h.fake.activity_types.append({"id": 9, "name": "Old call", "key_string": "old_call", "active_flag": False})
    try:
        with pytest.raises(ValidationError, match="no active activity type “old_call”"):
            h.adapter.verify()
    finally:
        h.close()


def test_normalize_domain_accepts_what_people_paste() -> None:
    assert normalize_domain("https://Acme.pipedrive.com/deals") == "acme"
    assert normalize_domain(" acme ") == "acme"


# --- contacts --------------------------------------------------------------------------------


def test_contact_carries_company_owner_creation_and_open_deals_and_leads(pd: PipedriveHarness) -> None:
    org = pd.fake.add_org("Diaz Supply")
    pid = pd.fake.add_person("Ana Diaz", ["(415) 555-0123"], org_id=org, owner_id=78)
    open_deal = pd.fake.add_deal("20 seats", pid)
    pd.fake.add_deal("Old order", pid, status="won")
    lead = pd.fake.add_lead("Website enquiry", pid)
    pd.fake.add_lead("Cold", pid, archived=True)
    [contact] = pd.adapter.find_contact(E164)
    assert (contact.id, contact.name, contact.company, contact.owner) == (str(pid), "Ana Diaz", "Diaz Supply",
                                                                          "Lee Manager")
    assert contact.created_at == datetime(2026, 9, 30, 14, 0, tzinfo=UTC)
    assert [(o.id, o.label) for o in contact.options["related"]] == [
        (f"deal:{open_deal}", "Deal: 20 seats"),
        (f"lead:{lead}", "Lead: Website enquiry"),
    ]


def test_archived_leads_are_not_offered(pd: PipedriveHarness) -> None:
    pid = pd.fake.add_person("Ana Diaz", [E164])
    pd.fake.add_lead("Cold", pid, archived=True)
    [contact] = pd.adapter.find_contact(E164)
    assert contact.options["related"] == []
    [leads] = [r for r in pd.fake.requests if r.path == "/v1/leads"]
    assert dict(leads.query) == {"person_id": str(pid)}


def test_an_archived_lead_in_the_leads_list_is_still_not_offered(pd: PipedriveHarness) -> None:
    pid = pd.fake.add_person("Ana Diaz", [E164])
    lead = pd.fake.add_lead("Cold", pid, archived=True)
    # As an account still on the old listing would answer: the archived lead among the others
    body = {"success": True, "data": [pd.fake.leads[lead]], "additional_data": {"pagination": {}}}
    pd.fake.inject(200, body=body, path_prefix="/v1/leads")
    [contact] = pd.adapter.find_contact(E164)
    assert contact.options["related"] == []


def test_the_fake_lists_leads_like_pipedrive_since_archived_ones_moved(pd: PipedriveHarness) -> None:
    pid = pd.fake.add_person("Ana Diaz", [E164])
    open_lead = pd.fake.add_lead("Website enquiry", pid)
    archived = pd.fake.add_lead("Cold", pid, archived=True)
    headers = {"x-api-token": DEFAULT_TOKEN}
    listed = pd.client.get("/v1/leads", params={"person_id": pid}, headers=headers).json()["data"]
    assert [lead["id"] for lead in listed] == [open_lead]
    listed = pd.client.get("/v1/leads/archived", params={"person_id": pid}, headers=headers).json()["data"]
    assert [lead["id"] for lead in listed] == [archived]
    refused = pd.client.get("/v1/leads", params={"archived_status": "not_archived"}, headers=headers)
    assert refused.status_code == 400
    assert refused.json()["error"] == "Validation failed: archived_status: Unknown parameter"


@pytest.mark.parametrize(
    ("path", "params", "body"),
    [
        ("/api/v2/persons/search", {"term": "4155550123", "search_by_email": "1"},
         {"success": False, "error": "Validation failed: search_by_email: Unknown parameter",
          "code": "ERR_BAD_REQUEST"}),
        ("/v1/activityTypes", {"include_inactive": "1"},
         {"success": False, "error": "Validation failed: include_inactive: Unknown parameter",
          "error_info": "Please check developers.pipedrive.com for more information", "data": None,
          "additional_data": None}),
    ],
    ids=["v2", "v1"],
)
def test_the_fake_refuses_a_query_parameter_the_endpoint_does_not_declare(
    pd: PipedriveHarness, path: str, params: dict[str, str], body: dict[str, Any]
) -> None:
    answer = pd.client.get(path, params=params, headers={"x-api-token": DEFAULT_TOKEN})
    assert (answer.status_code, answer.json()) == (400, body)


def test_the_fake_refuses_a_participant_field_the_v2_activity_does_not_declare(pd: PipedriveHarness) -> None:
    pid = pd.fake.add_person("Ana Diaz", [E164])
    body = {"subject": "Call", "type": "call", "participants": [{"person_id": pid, "primary_flag": True}]}
    answer = pd.client.post("/api/v2/activities", json=body, headers={"x-api-token": DEFAULT_TOKEN})
    assert answer.status_code == 400
    assert answer.json()["error"] == "Validation failed: participants: Unknown field participants.primary_flag"
    assert pd.fake.activities == {}


def test_the_call_is_filed_under_the_persons_organisation_too(pd: PipedriveHarness) -> None:
    org = pd.fake.add_org("Diaz Supply")
    pd.fake.add_person("Ana Diaz", [E164], org_id=org)
    [contact] = pd.adapter.find_contact(E164)
    ref = pd.adapter.create_call_log(calls.inbound_call(E164), contact, _entry())
    assert pd.fake.activities[int(ref.log_id)]["org_id"] == org


def test_a_longer_number_containing_the_digits_is_not_a_match(pd: PipedriveHarness) -> None:
    pd.fake.add_person("Not Ana", ["+1 415 555 01234"])
    ana = pd.fake.add_person("Ana Diaz", ["415-555-0123 ext. 12"])
    assert [c.id for c in pd.adapter.find_contact(E164)] == [str(ana)]


def test_person_search_uses_the_national_number(pd: PipedriveHarness) -> None:
    pd.add_contact("Ana Diaz", "+1 415-555-0123")
    pd.adapter.find_contact(E164)
    [search] = [r for r in pd.fake.requests if r.path == "/api/v2/persons/search"]
    assert search.query["term"] == "4155550123" and search.query["fields"] == "phone"


def test_the_fake_refuses_a_one_character_search_term_like_pipedrive(pd: PipedriveHarness) -> None:
    response = pd.client.get("/api/v2/persons/search", params={"term": "4"}, headers={"x-api-token": DEFAULT_TOKEN})
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": "Validation failed: term: Must be at least 2 characters long",
        "code": "ERR_BAD_REQUEST",
    }


# --- call logs -------------------------------------------------------------------------------


def test_a_stored_activity_names_its_person_from_the_primary_participant(pd: PipedriveHarness) -> None:
    contact = _contact(pd)
    ref = pd.adapter.create_call_log(calls.inbound_call(E164), contact, _entry())
    pd.fake.activities[int(ref.log_id)]["person_id"] = None  # only the participants say who it was
    assert pd.adapter.get_call_log(ref).contact_id == contact.id


def test_the_fake_answers_participants_as_the_v2_activity_item_does(pd: PipedriveHarness) -> None:
    contact = _contact(pd)
    ref = pd.adapter.create_call_log(calls.inbound_call(E164), contact, _entry())
    answer = pd.client.get(f"/api/v2/activities/{ref.log_id}", headers={"x-api-token": DEFAULT_TOKEN})
    assert answer.json()["data"]["participants"] == [{"person_id": int(contact.id), "primary": True}]


def test_create_sends_pipedrives_v2_activity_fields(pd: PipedriveHarness) -> None:
    contact = _contact(pd)
    call = calls.outbound_call(E164, start_time=datetime(2026, 9, 30, 14, 5, 40, tzinfo=UTC))
    deal = contact.options["related"][0].id
    ref = pd.adapter.create_call_log(call, contact, _entry(duration_seconds=95, dispositions={"related": deal}))
    [post] = [r for r in pd.fake.requests if r.method == "POST"]
    assert "person_id" not in post.json
    assert post.json["participants"] == [{"person_id": int(contact.id), "primary": True}]
    assert post.json["done"] is True
    assert (post.json["due_date"], post.json["due_time"], post.json["duration"]) == ("2026-09-30", "14:05", "00:02")
    assert (post.json["type"], post.json["deal_id"]) == ("call", int(deal[5:]))
    assert "lead_id" not in post.json
    stored = pd.adapter.get_call_log(ref)
    assert (stored.contact_id, stored.duration_seconds, stored.dispositions) == (contact.id, 120, {"related": deal})


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "00:00"), (1, "00:01"), (29, "00:01"), (59, "00:01"), (60, "00:01"), (89, "00:01"), (90, "00:02"),
     (3599, "01:00"), (3600, "01:00"), (5400, "01:30")],
)
def test_duration_rounds_to_the_nearest_minute(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == int(text[:2]) * 3600 + int(text[3:]) * 60


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": "x", "person_id": 501}, "person_id"),
        ({"subject": "x", "done": 1}, "done"),
        ({"subject": "x", "type": "fax"}, "type"),
        ({"subject": "x", "duration": "95"}, "duration"),
        ({"subject": "x", "due_time": "2:05 PM"}, "due_time"),
        ({"subject": "x", "lead_id": "12"}, "lead_id"),
        ({"subject": "x", "sessionId": "1"}, "sessionId"),
    ],
)
def test_the_fake_refuses_what_pipedrive_refuses_and_the_adapter_names_the_field(
    pd: PipedriveHarness, body: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        pd.adapter._request("POST", "/api/v2/activities", json=body)
    assert caught.value.field == field
    assert caught.value.vendor_message and caught.value.vendor_message.startswith("Validation failed")
    assert pd.fake.activities == {}


def test_choosing_a_lead_unlinks_the_deal_and_back(pd: PipedriveHarness) -> None:
    contact = _contact(pd)
    deal, lead = (o.id for o in contact.options["related"])
    ref = pd.adapter.create_call_log(calls.inbound_call(E164), contact, _entry(dispositions={"related": deal}))
    pd.adapter.upsert_disposition(ref, {"related": lead})
    activity = pd.fake.activities[int(ref.log_id)]
    assert (activity["deal_id"], activity["lead_id"]) == (None, lead[5:])
    pd.adapter.upsert_disposition(ref, {"related": None})
    assert (activity["deal_id"], activity["lead_id"]) == (None, None)


def test_unknown_page_field_or_value_is_refused_before_any_request(pd: PipedriveHarness) -> None:
    ref = CallLogRef(adapter_id="pipedrive", log_id="9001")
    with pytest.raises(ValidationError):
        pd.adapter.upsert_disposition(ref, {"outcome": "x"})
    with pytest.raises(ValidationError):
        pd.adapter.upsert_disposition(ref, {"related": "project:3"})
    assert pd.fake.requests == []


def test_lifecycle_costs_one_create_and_one_read_plus_one_write_per_batch(pd: PipedriveHarness) -> None:
    contact = _contact(pd)
    pd.adapter.activity_type()  # looked up once per connection (verify does it)
    before = len(pd.fake.requests)
    call = calls.inbound_call(E164, duration=None)
    ref = pd.adapter.create_call_log(call, contact, _entry(body="<p>(pending)</p>"))
    pd.fake.edit_activity(int(ref.log_id), note="<p>(pending)</p><p>typed in Pipedrive</p>")
    for final, seconds in (("3 min", 194), ("recording", 194)):
        stored = pd.adapter.get_call_log(ref)
        pd.adapter.update_call_log(ref, LogUpdate(body=stored.body.replace("(pending)", final),
                                                  duration_seconds=seconds))
    assert [r.method for r in pd.fake.requests[before:]] == ["POST", "GET", "PATCH", "GET", "PATCH"]
    activity = pd.fake.activities[int(ref.log_id)]
    assert (activity["note"], activity["duration"]) == ("<p>3 min</p><p>typed in Pipedrive</p>", "00:03")


def test_find_call_log_prefers_the_session_id_in_the_note(pd: PipedriveHarness) -> None:
    contact = _contact(pd)
    call = calls.inbound_call(E164)
    twin = calls.inbound_call(E164, start_time=call.start_time)  # same minute, another session
    pd.adapter.create_call_log(twin, contact, _entry(body="<p>Session Id: " + twin.session_id + "</p>"))
    ref = pd.adapter.create_call_log(call, contact, _entry(body="<p>Session Id: " + call.session_id + "</p>"))
    found = pd.adapter.find_call_log(call)
    assert found is not None and found.log_id == ref.log_id


def test_find_call_log_gives_up_when_two_calls_share_a_minute_without_session_ids(pd: PipedriveHarness) -> None:
    contact = _contact(pd)
    call = calls.inbound_call(E164)
    twin = calls.inbound_call(E164, start_time=call.start_time)
    pd.adapter.create_call_log(call, contact, _entry())
    pd.adapter.create_call_log(twin, contact, _entry())
    assert pd.adapter.find_call_log(call) is None


def test_find_call_log_follows_the_cursor(pd: PipedriveHarness) -> None:
    contact = _contact(pd)
    for _ in range(120):
        pd.adapter.create_call_log(calls.inbound_call(E164), contact, _entry(subject="other"))
    call = calls.inbound_call(E164, start_time=datetime(2026, 4, 11, 9, 30, tzinfo=UTC))
    ref = pd.adapter.create_call_log(call, contact, _entry())
    found = pd.adapter.find_call_log(call)
    assert found is not None and found.log_id == ref.log_id
    assert pd.fake.count("GET", "/api/v2/activities") == 2


# --- limits and errors -----------------------------------------------------------------------


def test_a_backlog_of_reads_follows_the_burst_window_without_429() -> None:
    h = PipedriveHarness(PipedriveFake(burst_limit=5))
    try:
        ref = h.adapter.create_call_log(calls.inbound_call(E164), _contact(h), _entry())
        for _ in range(20):
            assert h.adapter.get_call_log(ref).subject == "Inbound call from Ana Diaz"
        assert h.adapter._throttle.waited > 0
    finally:
        h.close()


def test_a_backlog_of_searches_keeps_to_the_search_window(pd: PipedriveHarness) -> None:
    start = pd.fake.clock.time()
    for _ in range(25):  # numbers nobody has: one search request each, nothing else
        assert pd.adapter.find_contact(E164) == []
    assert pd.fake.count("GET", "/api/v2/persons/search") == 25
    assert pd.fake.clock.time() - start >= 4.0  # 25 searches at 10 per 2 seconds


def test_spent_daily_writes_stop_writes_without_sending_them_but_not_reads(pd: PipedriveHarness) -> None:
    pd.fake.daily_writes = 1
    contact = _contact(pd)
    ref = pd.adapter.create_call_log(calls.inbound_call(E164), contact, _entry())
    writes = pd.fake.count("POST") + pd.fake.count("PATCH")
    with pytest.raises(RateLimited, match="daily allowance") as caught:
        pd.adapter.update_call_log(ref, LogUpdate(subject="later"))
    assert pd.fake.count("POST") + pd.fake.count("PATCH") == writes
    assert caught.value.retry_after is not None and 0 < caught.value.retry_after <= 86400
    assert pd.adapter.get_call_log(ref).subject == "Inbound call from Ana Diaz"


def test_429_without_retry_after_waits_out_the_burst_window(pd: PipedriveHarness) -> None:
    pd.fake.burst_limit = 0
    with pytest.raises(RateLimited) as caught:
        pd.adapter.find_contact(E164)
    assert caught.value.retry_after == 2.0
    assert caught.value.vendor_message == "Request over limit"


def test_a_spent_token_budget_backs_off_longer_each_time(pd: PipedriveHarness) -> None:
    ref = pd.adapter.create_call_log(calls.inbound_call(E164), _contact(pd), _entry())
    pd.fake.token_budget = 0
    pauses = []
    for _ in range(4):
        with pytest.raises(RateLimited) as caught:
            pd.adapter.get_call_log(ref)
        pauses.append(caught.value.retry_after)
    assert pauses == [2.0, 4.0, 8.0, 16.0]
    pd.fake.token_budget = 100  # a new day
    assert pd.adapter.get_call_log(ref).subject == "Inbound call from Ana Diaz"
    pd.fake.token_budget = 0
    with pytest.raises(RateLimited) as caught:
        pd.adapter.get_call_log(ref)
    assert caught.value.retry_after == 2.0  # a success in between starts the count again


def test_answer_without_the_success_envelope_is_malformed(pd: PipedriveHarness) -> None:
    pd.fake.inject("malformed", body={"data": {"items": []}})
    with pytest.raises(Exception, match="success envelope") as caught:
        pd.adapter.find_contact(E164)
    assert type(caught.value).__name__ == "MalformedResponse"


def test_a_value_of_the_wrong_type_deep_in_a_record_is_a_malformed_response(pd: PipedriveHarness) -> None:
    pd.add_contact("Ana Diaz", E164)
    item = {"id": 1, "type": "person", "name": "Ana Diaz", "phones": [E164], "owner": 77}  # owner is an object
    pd.fake.inject("malformed", body={"success": True, "data": {"items": [{"result_score": 1, "item": item}]}})
    with pytest.raises(MalformedResponse) as caught:
        pd.adapter.find_contact(E164)
    assert "AttributeError" in (caught.value.vendor_message or "")
    assert [c.name for c in pd.adapter.find_contact(E164)] == ["Ana Diaz"]


def test_parse_pipedrive_error_reads_v1_and_v2_bodies() -> None:
    v2 = {"success": False, "error": "Validation failed: done: Must be a boolean", "code": "ERR_BAD_REQUEST"}
    assert parse_pipedrive_error(v2) == ("Validation failed: done: Must be a boolean", "done")
    assert parse_pipedrive_error({"success": False, "error": "unauthorized access", "error_info": "see docs"}) == (
        "unauthorized access", None)
    assert parse_pipedrive_error("nope") == (None, None)


def test_the_fake_strips_script_elements_from_notes_like_pipedrive(pd: PipedriveHarness) -> None:
    ref = pd.adapter.create_call_log(calls.inbound_call(E164), _contact(pd),
                                     _entry(body="<p>a</p><script>alert(1)</script><p>&lt;script&gt;</p>"))
    assert pd.adapter.get_call_log(ref).body == "<p>a</p><p>&lt;script&gt;</p>"


# --- over a real socket ----------------------------------------------------------------------


def test_adapter_talks_to_the_fake_served_on_loopback() -> None:
    fake = PipedriveFake()
    pid = fake.add_person("Ana Diaz", ["(415) 555-0123"])
    fake.add_deal("20 seats", pid)
    with fake.serve() as base_url:
        adapter = PipedriveAdapter(Connection(secrets={"api_token": DEFAULT_TOKEN},
                                              settings={"company_domain": "acme", "api_base_url": base_url}))
        try:
            assert adapter.verify().startswith("Avery Agent")
            [contact] = adapter.find_contact(E164)
            call = calls.inbound_call(E164)
            deal = contact.options["related"][0].id
            ref = adapter.create_call_log(call, contact, _entry(dispositions={"related": deal}))
            assert adapter.get_call_log(ref).dispositions["related"] == deal
            found = adapter.find_call_log(call)
            assert found is not None and found.log_id == ref.log_id
        finally:
            adapter.close()


def test_timeouts_over_loopback_are_transient() -> None:
    fake = PipedriveFake()
    with fake.serve() as base_url:
        client = httpx.Client(timeout=5.0)
        adapter = PipedriveAdapter(Connection(secrets={"api_token": DEFAULT_TOKEN},
                                              settings={"company_domain": "acme", "api_base_url": base_url}),
                                   client=client)
        try:
            fake.inject("timeout")
            with pytest.raises(Exception, match="Could not reach") as caught:
                adapter.verify()
            assert caught.value.retryable  # type: ignore[attr-defined]
            assert adapter.verify().startswith("Avery Agent")
        finally:
            client.close()


def test_environment_variable_points_the_adapter_at_a_fake_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = PipedriveFake()
    with fake.serve() as base_url:
        monkeypatch.setenv("LOGDESK_PIPEDRIVE_URL", base_url)
        connection = Connection(secrets={"api_token": DEFAULT_TOKEN}, settings={"company_domain": "acme"})
        adapter = PipedriveAdapter(connection)
        try:
            assert adapter.verify() == "Avery Agent (agent@example.com) at Acme Inc."
        finally:
            adapter.close()
    assert fake.count("GET", "/v1/users/me") == 1


def test_an_activity_deleted_in_pipedrive_is_not_found_and_not_recovered(pd: PipedriveHarness) -> None:
    call = calls.inbound_call(E164)
    ref = pd.adapter.create_call_log(call, _contact(pd), _entry(body=f"<p>{call.session_id}</p>"))
    pd.fake.delete_activity(int(ref.log_id))
    with pytest.raises(NotFound):
        pd.adapter.get_call_log(ref)
    assert pd.adapter.find_call_log(call) is None


def test_region_setting_reads_numbers_written_without_a_country_code() -> None:
    h = PipedriveHarness(phone_region="GB")
    try:
        pid = h.fake.add_person("Oliver Twist", ["+44 20 7946 0958"])
        assert [c.id for c in h.adapter.find_contact("020 7946 0958")] == [str(pid)]
    finally:
        h.close()


def test_a_slow_fake_served_to_the_app_answers_late_enough_to_time_out() -> None:
    fake = PipedriveFake(clock=RealClock())
    with fake.serve() as base_url:
        client = httpx.Client(timeout=0.2)
        adapter = PipedriveAdapter(Connection(secrets={"api_token": DEFAULT_TOKEN},
                                              settings={"company_domain": "acme", "api_base_url": base_url}),
                                   client=client)
        try:
            fake.inject("slow", delay=1.0)
            with pytest.raises(TransientError, match=r"Could not reach|did not answer"):
                adapter.verify()
        finally:
            client.close()


def test_a_stored_log_names_its_contact_without_another_request(pd: PipedriveHarness) -> None:
    contact = _contact(pd)
    ref = pd.adapter.create_call_log(calls.inbound_call(E164), contact, _entry())
    fresh = PipedriveHarness(pd.fake)  # another session: nothing remembered from the create
    try:
        fresh.adapter.find_contact(E164)
        before = len(pd.fake.requests)
        assert fresh.adapter.get_call_log(ref).contact_name == "Ana Diaz"
        assert len(pd.fake.requests) == before + 1
    finally:
        fresh.close()
