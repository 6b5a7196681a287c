# SPDX-License-Identifier: MIT
"""The Insightly adapter against the fake Insightly (tests/fakes/insightly.py): the contract suite,
in-process and over loopback, and what is particular to Insightly."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.base import (
    AuthError,
    ConflictError,
    Connection,
    PageFieldKind,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationError,
    page_fields_for,
)
from adapters.crm.insightly import InsightlyAdapter, api_base_for, parse_insightly_error
from adapters.models import CallLogRef, Contact, Direction, LogEntry, LogUpdate
from adapters.testing import ContractHarness, CrmAdapterContract, inbound_call, outbound_call, sample_body
from adapters.testing.harness import FailureKind
from tests.fakes.insightly import DEFAULT_API_KEY, InsightlyFake
from tests.fakes.loopback import LoopbackServer

E164 = "+14155550123"


class InsightlyHarness(ContractHarness):
    """An adapter connected to a fresh fake Insightly instance, in-process through
    ``httpx.MockTransport`` on the real API host (``https://api.na1.insightly.com/v3.1``), or on
    whatever ``settings`` name (the loopback fake's address through ``api_base_url``)."""

    def __init__(
        self,
        fake: InsightlyFake | None = None,
        *,
        client: httpx.Client | None = None,
        settings: dict[str, str] | None = None,
    ) -> None:
        self.fake = fake or InsightlyFake()
        self.client = client or httpx.Client(transport=httpx.MockTransport(self.fake.handler))
        self.adapter: InsightlyAdapter = InsightlyAdapter(
            Connection(settings={"api_url": "na1", **(settings or {})}, secrets={"api_key": DEFAULT_API_KEY}),
            client=self.client,
            clock=self.fake.clock,
            sleep=self.fake.sleep,
        )

    def add_contact(self, name: str, phone: str, *, extension: str | None = None) -> str:
        first, _, last = name.partition(" ")
        contact_id = self.fake.add_contact(first, last or None, phone=phone)
        self.fake.add_opportunity(f"{name}: renewal", contact=contact_id)
        self.fake.add_opportunity(f"{name}: upsell", contact=contact_id)
        return str(contact_id)

    def person_edits_log(
        self, ref: CallLogRef, *, subject: str | None = None, body: Callable[[str], str] | None = None
    ) -> None:
        current = self.fake.events[int(ref.log_id)]
        self.fake.person_edits(int(ref.log_id), title=subject, details=body(current["DETAILS"] or "") if body else None)

    def read_log_raw(self, ref: CallLogRef) -> dict[str, Any]:
        event = json.loads(json.dumps(self.fake.events[int(ref.log_id)]))
        start = datetime.strptime(event["START_DATE_UTC"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        end = datetime.strptime(event["END_DATE_UTC"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        people = [link for link in event["LINKS"] if link["LINK_OBJECT_NAME"] in ("Contact", "Lead")]
        opportunities = [link for link in event["LINKS"] if link["LINK_OBJECT_NAME"] == "Opportunity"]
        event["subject"], event["body"] = event["TITLE"], event["DETAILS"]
        event["dispositions"] = {
            "call_result": self.fake.custom_value(int(ref.log_id), "Call_Result__c"),
            "opportunity": str(opportunities[0]["LINK_OBJECT_ID"]) if opportunities else None,
        }
        event["direction"] = event["LOCATION"].split(" ", 1)[0]
        event["start_time"] = start
        event["duration_seconds"] = int((end - start).total_seconds())
        event["contact_id"] = str(people[0]["LINK_OBJECT_ID"]) if people else None
        return event

    def inject_failure(self, kind: FailureKind, *, retry_after: float | None = None, body: Any = None) -> None:
        self.fake.inject_failure(kind, retry_after=retry_after, body=body)

    def close(self) -> None:
        self.adapter.close()
        self.client.close()


class TestInsightlyContract(CrmAdapterContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        h = InsightlyHarness()
        yield h
        h.close()


class TestInsightlyContractOverLoopback(CrmAdapterContract):
    """The same suite with the fake on a real socket, reached through the API address override."""

    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        fake = InsightlyFake()
        with LoopbackServer(fake.handler) as server:
            h = InsightlyHarness(fake, client=httpx.Client(timeout=0.5), settings={"api_base_url": server.base_url})
            yield h
            h.close()


@pytest.fixture
def insightly() -> Iterator[InsightlyHarness]:
    h = InsightlyHarness()
    yield h
    h.close()


def _contact(h: InsightlyHarness, phone: str = E164, name: str = "Ada Lovelace") -> Contact:
    contact_id = h.add_contact(name, phone)
    return next(c for c in h.adapter.find_contact(phone) if c.id == contact_id)


def _entry(**kw: Any) -> LogEntry:
    return LogEntry(**{"subject": "Inbound call from Ada Lovelace", "body": sample_body("text/plain"), **kw})


def _sent(fake: InsightlyFake, method: str, path: str) -> list[dict[str, Any]]:
    return [json.loads(r.content) for r in fake.api_requests(method, path)]


def _searches(fake: InsightlyFake) -> list[httpx.Request]:
    return [r for r in fake.api_requests("GET") if r.url.path.endswith("/Search")]


# --- connect -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entered", "base"),
    [
        ("na1", "https://api.na1.insightly.com/v3.1"),
        (" EU1 ", "https://api.eu1.insightly.com/v3.1"),
        ("https://api.au1.insightly.com/v3.1/", "https://api.au1.insightly.com/v3.1"),
        ("api.na1.insightly.com", "https://api.na1.insightly.com/v3.1"),
        ("https://crm.eu1.insightly.com/list/Contact/", "https://api.eu1.insightly.com/v3.1"),
        ("https://api.insightly.com/v3.1", "https://api.insightly.com/v3.1"),
    ],
)
def test_the_api_url_a_pod_or_any_insightly_address_gives_the_pods_api(entered: str, base: str) -> None:
    assert api_base_for(entered) == base


@pytest.mark.parametrize(
    ("entered", "says"),
    [
        ("", "User Settings → API"),
        ("http://api.na1.insightly.com/v3.1", "https://"),
        ("https://insightly.example.com/v3.1", "not an Insightly address"),
        ("https://api.na1.insightly.com.evil.example/v3.1", "not an Insightly address"),
    ],
)
def test_an_unusable_api_url_is_refused_with_what_to_enter(entered: str, says: str) -> None:
    with pytest.raises(AuthError, match=says):
        api_base_for(entered)


def test_verify_sends_the_key_as_the_basic_user_name_to_the_pods_host(insightly: InsightlyHarness) -> None:
    assert insightly.adapter.verify() == "Avery Agent <avery@agency.example>"
    [me] = insightly.fake.api_requests("GET", "/Users/Me")
    assert str(me.url) == "https://api.na1.insightly.com/v3.1/Users/Me"
    assert me.headers["Authorization"] == "Basic " + base64.b64encode(f"{DEFAULT_API_KEY}:".encode()).decode()


def test_a_wrong_key_says_to_copy_it_again_and_check_the_api_url() -> None:
    fake = InsightlyFake()
    adapter = InsightlyAdapter(
        Connection(settings={"api_url": "na1"}, secrets={"api_key": "not-the-key"}),
        client=httpx.Client(transport=httpx.MockTransport(fake.handler)),
    )
    with pytest.raises(AuthError) as caught:
        adapter.verify()
    message = str(caught.value)
    assert "User Settings → API" in message and "API URL" in message and "not-the-key" not in message
    with pytest.raises(AuthError, match="Paste it again in Settings"):
        adapter.find_contact(E164)


def test_without_a_key_or_an_api_url_nothing_is_sent() -> None:
    fake = InsightlyFake()
    client = httpx.Client(transport=httpx.MockTransport(fake.handler))
    no_key = InsightlyAdapter(Connection(settings={"api_url": "na1"}), client=client)
    with pytest.raises(AuthError, match="No Insightly API key is saved"):
        no_key.verify()
    no_url = InsightlyAdapter(Connection(secrets={"api_key": DEFAULT_API_KEY}), client=client)
    with pytest.raises(AuthError, match="Enter your Insightly API URL"):
        no_url.verify()
    assert fake.requests == []


def test_a_plain_http_override_off_this_computer_is_refused_before_the_key_leaves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOGDESK_INSIGHTLY_URL", "http://insightly.example.net")
    fake = InsightlyFake()
    adapter = InsightlyAdapter(
        Connection(settings={"api_url": "na1"}, secrets={"api_key": DEFAULT_API_KEY}),
        client=httpx.Client(transport=httpx.MockTransport(fake.handler)),
    )
    with pytest.raises(AuthError, match="LOGDESK_INSIGHTLY_URL"):
        adapter.verify()
    assert fake.requests == []


def test_the_env_override_points_every_account_at_a_fake_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = InsightlyFake()
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=5) as http:
        monkeypatch.setenv("LOGDESK_INSIGHTLY_URL", server.base_url)
        adapter = InsightlyAdapter(Connection(secrets={"api_key": DEFAULT_API_KEY}), client=http)
        assert adapter.verify().startswith("Avery Agent")
        assert str(fake.api_requests("GET", "/Users/Me")[0].url) == f"{server.base_url}/v3.1/Users/Me"


def test_api_access_switched_off_is_a_permission_problem_for_an_administrator(insightly: InsightlyHarness) -> None:
    insightly.fake.inject_failure(403)
    with pytest.raises(PermissionDenied, match="administrator"):
        insightly.adapter.verify()


def test_an_unreachable_pod_says_to_check_the_api_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("name or service not known", request=request)

    adapter = InsightlyAdapter(
        Connection(settings={"api_url": "xx9"}, secrets={"api_key": DEFAULT_API_KEY}),
        client=httpx.Client(transport=httpx.MockTransport(refuse)),
    )
    with pytest.raises(TransientError, match=r"Could not reach api\.xx9\.insightly\.com\. Check the API URL"):
        adapter.verify()


def test_a_call_result_field_that_is_not_an_event_drop_down_is_named_at_verify() -> None:
    h = InsightlyHarness(settings={"call_result_field": "Outcome__c"})
    try:
        with pytest.raises(ValidationError, match="Outcome__c") as caught:
            h.adapter.verify()
        assert caught.value.field == "call_result_field"
    finally:
        h.close()


# --- contacts and leads --------------------------------------------------------------------------


def test_contacts_and_leads_are_found_on_their_phone_fields_converted_leads_left_out(
    insightly: InsightlyHarness,
) -> None:
    fake = insightly.fake
    on_mobile = fake.add_contact("Ada", "Lovelace", mobile="(415) 555-0123")
    lead = fake.add_lead("Grace", "Hopper", phone="415.555.0123", organisation="Navy Labs")
    fake.add_lead("Old", "Lead", phone=E164, converted=True)
    fake.add_contact("Someone", "Else", phone="(415) 555-0124")
    found = {c.id: c for c in insightly.adapter.find_contact(E164)}
    assert set(found) == {str(on_mobile), str(lead)}
    assert (found[str(on_mobile)].type, found[str(on_mobile)].name, found[str(on_mobile)].phone) == (
        "Contact", "Ada Lovelace", "(415) 555-0123")
    assert (found[str(lead)].type, found[str(lead)].company) == ("Lead", "Navy Labs")


def test_each_field_is_searched_with_each_notation_once_and_the_cost_is_bounded(insightly: InsightlyHarness) -> None:
    insightly.adapter.find_contact(E164)
    searches = _searches(insightly.fake)
    asked = [(r.url.path.rsplit("/", 2)[1], r.url.params["field_name"], r.url.params["field_value"]) for r in searches]
    assert len(asked) == len(set(asked)) == 32  # 8 notations × (PHONE, PHONE_MOBILE, PHONE, MOBILE)
    assert {p for _, p, _ in asked} == {"PHONE", "PHONE_MOBILE", "MOBILE"}
    assert all(r.url.params["brief"] == "false" for r in searches)


def test_phone_fields_from_settings_custom_ones_included() -> None:
    h = InsightlyHarness(settings={"contact_phone_fields": "PHONE, Direct_Line__c", "lead_phone_fields": "MOBILE"})
    try:
        cid = h.fake.add_contact("Ada", "Lovelace", custom={"Direct_Line__c": "415-555-0123"})
        assert [c.id for c in h.adapter.find_contact(E164)] == [str(cid)]
        fields = {r.url.params["field_name"] for r in _searches(h.fake)}
        assert fields == {"PHONE", "Direct_Line__c", "MOBILE"}
    finally:
        h.close()


def test_a_phone_field_setting_that_is_no_field_name_is_refused_before_sending() -> None:
    h = InsightlyHarness(settings={"contact_phone_fields": "PHONE, phone&top=500"})
    try:
        with pytest.raises(ValidationError, match="not an Insightly field name"):
            h.adapter.find_contact(E164)
        assert _searches(h.fake) == []
    finally:
        h.close()


def test_a_users_pattern_finds_a_notation_beyond_the_common_ones() -> None:
    h = InsightlyHarness(settings={"phone_patterns": "#-###-###-####"})
    try:
        cid = h.fake.add_contact("Frank", "Russo", phone="1-415-555-0123")
        assert [c.id for c in h.adapter.find_contact(E164)] == [str(cid)]
    finally:
        h.close()


def test_open_opportunities_are_offered_and_closed_ones_left_out(insightly: InsightlyHarness) -> None:
    fake = insightly.fake
    cid = fake.add_contact("Ada", "Lovelace", phone=E164)
    open_one = fake.add_opportunity("Renewal 2027", contact=cid)
    fake.add_opportunity("Pilot", contact=cid, state="WON")
    [contact] = insightly.adapter.find_contact(E164)
    assert [(o.id, o.label) for o in contact.options["opportunity"]] == [(str(open_one), "Renewal 2027")]
    assert [o.id for o in contact.options["call_result"]] == ["Connected", "Left voicemail", "No answer",
                                                              "Wrong number"]


def test_an_extension_or_a_short_number_sends_no_search(insightly: InsightlyHarness) -> None:
    assert insightly.adapter.find_contact("102", is_extension=True) == []
    assert insightly.adapter.find_contact("102") == []
    assert _searches(insightly.fake) == []


# --- the log page ----------------------------------------------------------------------------------


def test_call_results_are_the_event_drop_downs_values_with_its_default(insightly: InsightlyHarness) -> None:
    fields = {f.id: f for f in page_fields_for(insightly.adapter)}
    result = fields["call_result"]
    assert (result.kind, result.label, result.contact_dependent) == (PageFieldKind.SELECTION, "Call Result", False)
    assert [o.id for o in result.options] == ["Connected", "Left voicemail", "No answer", "Wrong number"]
    assert result.default_for("Inbound") == "Connected"
    assert fields["opportunity"].contact_dependent


def test_the_call_result_field_named_in_settings_wins() -> None:
    h = InsightlyHarness(settings={"call_result_field": "Reason__c"})
    try:
        h.fake.add_event_custom_field("Reason__c", "Reason for calling", ["Billing", "Support"])
        result = next(f for f in h.adapter.page_fields() if f.id == "call_result")
        assert (result.label, [o.id for o in result.options]) == ("Reason for calling", ["Billing", "Support"])
    finally:
        h.close()


def test_without_a_call_result_drop_down_the_page_says_how_to_add_one() -> None:
    h = InsightlyHarness(InsightlyFake(call_result_field=False))
    try:
        result = next(f for f in h.adapter.page_fields() if f.id == "call_result")
        assert result.kind is PageFieldKind.NOTICE and "custom field on Events" in result.help
        contact = _contact(h)
        with pytest.raises(ValidationError) as caught:
            h.adapter.create_call_log(inbound_call(E164), contact, _entry(dispositions={"call_result": "Connected"}))
        assert caught.value.field == "call_result" and h.fake.events == {}
    finally:
        h.close()


# --- events --------------------------------------------------------------------------------------


def test_a_call_is_one_event_with_its_times_location_links_and_result(insightly: InsightlyHarness) -> None:
    contact = _contact(insightly)
    opportunity = contact.options["opportunity"][0].id
    call = inbound_call(E164, start_time=datetime(2026, 3, 14, 9, 26, 53, 400_000, tzinfo=UTC), duration=194)
    ref = insightly.adapter.create_call_log(
        call, contact, _entry(dispositions={"call_result": "Left voicemail", "opportunity": opportunity})
    )
    [sent] = _sent(insightly.fake, "POST", "/Events")
    assert sent["START_DATE_UTC"] == "2026-03-14 09:26:53" and sent["END_DATE_UTC"] == "2026-03-14 09:30:07"
    assert (sent["LOCATION"], sent["ALL_DAY"]) == ("Inbound call from +14155550123", False)
    assert sent["LINKS"] == [
        {"LINK_OBJECT_NAME": "Contact", "LINK_OBJECT_ID": int(contact.id)},
        {"LINK_OBJECT_NAME": "Opportunity", "LINK_OBJECT_ID": int(opportunity)},
    ]
    assert sent["CUSTOMFIELDS"] == [{"FIELD_NAME": "Call_Result__c", "FIELD_VALUE": "Left voicemail"}]
    assert insightly.fake.api_requests("POST", f"/Events/{ref.log_id}/Links") == []
    stored = insightly.adapter.get_call_log(ref)
    assert (stored.duration_seconds, stored.contact_id, stored.contact_name) == (194, contact.id, "Ada Lovelace")
    assert stored.dispositions == {"call_result": "Left voicemail", "opportunity": opportunity}


def test_a_lead_is_linked_as_a_lead_and_an_outbound_call_says_to_whom(insightly: InsightlyHarness) -> None:
    lead_id = insightly.fake.add_lead("Grace", "Hopper", phone=E164)
    [lead] = insightly.adapter.find_contact(E164)
    ref = insightly.adapter.create_call_log(outbound_call(E164), lead, _entry(subject="Outbound call to Grace"))
    event = insightly.fake.events[int(ref.log_id)]
    assert [(x["LINK_OBJECT_NAME"], x["LINK_OBJECT_ID"]) for x in event["LINKS"]] == [("Lead", lead_id)]
    assert event["LOCATION"] == "Outbound call to +14155550123"
    assert insightly.adapter.get_call_log(ref).contact_id == str(lead_id)


def test_links_insightly_leaves_out_of_a_create_are_added_through_the_links_endpoint(
    insightly: InsightlyHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    contact = _contact(insightly)
    opportunity = contact.options["opportunity"][0].id
    fake = insightly.fake
    original = fake._check_event

    def ignore_links(raw: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        changes = original(raw, existing)
        changes.pop("LINKS", None)
        return changes

    monkeypatch.setattr(fake, "_check_event", ignore_links)
    entry = _entry(dispositions={"opportunity": opportunity})
    ref = insightly.adapter.create_call_log(inbound_call(E164), contact, entry)
    added = _sent(fake, "POST", f"/Events/{ref.log_id}/Links")
    assert added == [
        {"LINK_OBJECT_NAME": "Contact", "LINK_OBJECT_ID": int(contact.id)},
        {"LINK_OBJECT_NAME": "Opportunity", "LINK_OBJECT_ID": int(opportunity)},
    ]
    assert insightly.read_log_raw(ref)["contact_id"] == contact.id


def test_an_update_puts_only_what_changed_and_the_duration_moves_the_end(insightly: InsightlyHarness) -> None:
    contact = _contact(insightly)
    live = inbound_call(E164, duration=None, start_time=datetime(2026, 3, 14, 9, 26, 53, tzinfo=UTC))
    ref = insightly.adapter.create_call_log(live, contact, _entry())
    assert insightly.fake.events[int(ref.log_id)]["END_DATE_UTC"] == "2026-03-14 09:26:53"
    insightly.adapter.update_call_log(ref, LogUpdate(duration_seconds=431))
    insightly.adapter.update_call_log(ref, LogUpdate(body="final note"))
    puts = _sent(insightly.fake, "PUT", "/Events")
    assert puts == [
        {"EVENT_ID": int(ref.log_id), "END_DATE_UTC": "2026-03-14 09:34:04"},
        {"EVENT_ID": int(ref.log_id), "DETAILS": "final note"},
    ]


def test_changing_the_opportunity_moves_the_link_and_clearing_it_removes_it(insightly: InsightlyHarness) -> None:
    contact = _contact(insightly)
    first, second = (o.id for o in contact.options["opportunity"])
    ref = insightly.adapter.create_call_log(inbound_call(E164), contact, _entry(dispositions={"opportunity": first}))
    insightly.adapter.upsert_disposition(ref, {"opportunity": second})
    assert insightly.read_log_raw(ref)["dispositions"]["opportunity"] == second
    assert len(insightly.fake.api_requests("DELETE")) == 1
    assert insightly.fake.api_requests("PUT", "/Events") == []  # links only: the event's fields are not written
    insightly.adapter.upsert_disposition(ref, {"opportunity": None})
    assert insightly.adapter.get_call_log(ref).dispositions["opportunity"] is None
    assert insightly.read_log_raw(ref)["contact_id"] == contact.id  # the contact's link stays


def test_a_call_result_that_is_not_one_of_the_values_is_refused_before_sending(insightly: InsightlyHarness) -> None:
    contact = _contact(insightly)
    ref = insightly.adapter.create_call_log(inbound_call(E164), contact, _entry())
    sent = len(insightly.fake.requests)
    with pytest.raises(ValidationError, match="not one of") as caught:
        insightly.adapter.upsert_disposition(ref, {"call_result": "Busy"})
    assert caught.value.field == "call_result" and len(insightly.fake.requests) == sent


def test_insightlys_words_and_the_field_are_kept_on_a_refusal(insightly: InsightlyHarness) -> None:
    assert parse_insightly_error({"Message": "TITLE is required."}) == ("TITLE is required.", "TITLE")
    contact = _contact(insightly)
    ref = insightly.adapter.create_call_log(inbound_call(E164), contact, _entry())
    insightly.fake.inject_failure(400, body={"Message": "DETAILS contains an invalid character."})
    with pytest.raises(ValidationError) as caught:
        insightly.adapter.get_call_log(ref)
    assert (caught.value.field, caught.value.vendor_message) == ("DETAILS", "DETAILS contains an invalid character.")


# --- versions ------------------------------------------------------------------------------------


def test_an_edit_between_the_read_and_the_write_is_a_conflict_and_nothing_is_written(
    insightly: InsightlyHarness,
) -> None:
    # Given the poller has read the log
    contact = _contact(insightly)
    ref = insightly.adapter.create_call_log(inbound_call(E164), contact, _entry())
    read = insightly.adapter.get_call_log(ref)
    # When a person edits it in Insightly within the same second, before the poller writes
    insightly.person_edits_log(ref, body=lambda b: b + "\nPromised a quote by Friday\n")
    with pytest.raises(ConflictError):
        insightly.adapter.update_call_log(
            ref, LogUpdate(body=read.body.replace("(pending)", "3 min 14 sec")), expected_version=read.version
        )
    # Then nothing was written, and reading again, substituting and writing keeps both
    assert insightly.fake.api_requests("PUT", "/Events") == []
    again = insightly.adapter.get_call_log(ref)
    insightly.adapter.update_call_log(
        ref, LogUpdate(body=again.body.replace("(pending)", "3 min 14 sec")), expected_version=again.version
    )
    body = insightly.read_log_raw(ref)["body"]
    assert "Promised a quote by Friday" in body and "Call duration: 3 min 14 sec" in body


# --- recovery ------------------------------------------------------------------------------------


def test_recovery_prefers_the_session_id_then_the_number_and_direction(insightly: InsightlyHarness) -> None:
    contact = _contact(insightly)
    call = inbound_call(E164)
    insightly.adapter.create_call_log(call, contact, _entry(body="Session id: 1"))
    mine = insightly.adapter.create_call_log(call, contact, _entry(body=f"Session id: {call.session_id}"))
    found = insightly.adapter.find_call_log(call)
    assert found is not None and (found.log_id, found.contact_id) == (mine.log_id, contact.id)
    search = insightly.fake.api_requests("GET", "/Events/Search")[-1]
    assert search.url.params["updated_after_utc"] == (call.start_time - timedelta(minutes=1)).astimezone(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    other_way = outbound_call(E164, start_time=call.start_time, session_id="999")
    assert insightly.adapter.find_call_log(other_way) is None


def test_recovery_skips_another_users_event_at_the_same_start(insightly: InsightlyHarness) -> None:
    contact = _contact(insightly)
    call = inbound_call(E164)
    ref = insightly.adapter.create_call_log(call, contact, _entry())
    insightly.fake.events[int(ref.log_id)]["OWNER_USER_ID"] = 910_002
    assert insightly.adapter.find_call_log(call) is None


# --- rate limits and faults ----------------------------------------------------------------------


def test_the_throttle_keeps_a_lookup_under_ten_requests_a_second(insightly: InsightlyHarness) -> None:
    before = insightly.fake.now
    insightly.add_contact("Ada Lovelace", E164)
    insightly.adapter.find_contact(E164)
    assert insightly.fake.rate_refusals == 0
    assert len(insightly.fake.api_requests()) > 30
    assert (insightly.fake.now - before).total_seconds() >= 3


def test_a_per_second_429_pauses_the_next_request_for_retry_after(insightly: InsightlyHarness) -> None:
    contact = _contact(insightly)
    ref = insightly.adapter.create_call_log(inbound_call(E164), contact, _entry())
    insightly.fake.per_second = 0  # another integration of this instance spent the second
    with pytest.raises(RateLimited) as caught:
        insightly.adapter.get_call_log(ref)
    assert caught.value.retry_after == 1 and "daily" not in str(caught.value)
    insightly.fake.per_second = 10
    before = insightly.fake.now
    assert insightly.adapter.get_call_log(ref).subject == "Inbound call from Ada Lovelace"
    assert (insightly.fake.now - before).total_seconds() >= 1


def test_a_spent_daily_allowance_stops_sending_and_looks_again_within_the_hour(insightly: InsightlyHarness) -> None:
    insightly.adapter.verify()
    fake = insightly.fake
    fake.daily_limit = fake.used_today + 1
    contact_id = insightly.add_contact("Ada Lovelace", E164)
    with pytest.raises(RateLimited) as caught:  # the first search spends the last request
        insightly.adapter.find_contact(E164)
    assert "daily API allowance" in str(caught.value)
    assert 0 < (caught.value.retry_after or 0) <= 3600
    sent = len(fake.requests)
    with pytest.raises(RateLimited):
        insightly.adapter.get_call_log(CallLogRef(adapter_id="insightly", log_id="1"))
    assert len(fake.requests) == sent  # refused here, not at Insightly
    fake.advance(3600)
    fake.used_today, fake.daily_limit = 0, 100_000  # a new day
    assert contact_id in [c.id for c in insightly.adapter.find_contact(E164)]


def test_a_429_saying_nothing_remains_today_is_the_daily_limit(insightly: InsightlyHarness) -> None:
    insightly.adapter.verify()
    insightly.fake.used_today = insightly.fake.daily_limit
    with pytest.raises(RateLimited, match="daily API allowance") as caught:
        insightly.adapter.find_contact(E164)
    assert caught.value.status == 429 and "limit exceeded for today" in (caught.value.vendor_message or "")


def test_a_401_asks_to_paste_the_key_again_in_plain_words(insightly: InsightlyHarness) -> None:
    contact = _contact(insightly)
    ref = insightly.adapter.create_call_log(inbound_call(E164), contact, _entry())
    insightly.fake.api_keys.clear()  # the key was regenerated in Insightly
    with pytest.raises(AuthError) as caught:
        insightly.adapter.get_call_log(ref)
    assert str(caught.value).startswith("Insightly did not accept the saved API key. Paste it again")


def test_timeout_on_a_real_socket_is_transient_and_the_next_request_works() -> None:
    fake = InsightlyFake()
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=0.3) as http:
        h = InsightlyHarness(fake, client=http, settings={"api_base_url": server.base_url})
        fake.inject_failure("timeout")
        with pytest.raises(TransientError, match="did not answer in time"):
            h.adapter.verify()
        assert h.adapter.verify().startswith("Avery Agent")


def test_a_slow_answer_within_the_timeout_arrives_and_a_slower_one_is_transient() -> None:
    fake = InsightlyFake()
    with httpx.Client(transport=httpx.MockTransport(fake.handler), timeout=5) as http:
        h = InsightlyHarness(fake, client=http)
        fake.delay_next(4)
        assert h.adapter.verify().startswith("Avery Agent")
        fake.delay_next(6)
        with pytest.raises(TransientError, match="did not answer in time"):
            h.adapter.find_contact(E164)


# --- the fake validates like Insightly -----------------------------------------------------------


def _raw(h: InsightlyHarness, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return h.client.request(
        method, f"https://api.na1.insightly.com/v3.1{path}", auth=(DEFAULT_API_KEY, ""), **kwargs
    )


def test_the_fake_refuses_undeclared_parameters_and_fields_with_insightlys_body(insightly: InsightlyHarness) -> None:
    answer = _raw(insightly, "GET", "/Contacts/Search", params={"field_name": "PHONE", "field_value": "1", "q": "1"})
    assert (answer.status_code, answer.json()) == (400, {"Message": "The query parameter 'q' is not valid for this "
                                                                    "request."})
    event = {"TITLE": "x", "START_DATE_UTC": "2026-03-14 09:26:53", "END_DATE_UTC": "2026-03-14 09:26:53"}
    answer = _raw(insightly, "POST", "/Events", json={**event, "NOTIFY": True})
    assert (answer.status_code, answer.json()["Message"]) == (400, "The field 'NOTIFY' is not valid for an Event.")
    assert insightly.fake.events == {}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"START_DATE_UTC": "2026-03-14T09:26:53Z"}, "yyyy-MM-dd HH:mm:ss"),
        ({"TITLE": "  "}, "TITLE is required"),
        ({"END_DATE_UTC": "2026-03-14 09:26:52"}, "must not be before"),
        ({"LINKS": [{"LINK_OBJECT_NAME": "Contacts", "LINK_OBJECT_ID": 1}]}, "singular"),
        ({"LINKS": [{"LINK_OBJECT_NAME": "Contact", "LINK_OBJECT_ID": 12345}]}, "no Contact with that id"),
        ({"CUSTOMFIELDS": [{"FIELD_NAME": "Call_Result__c", "FIELD_VALUE": "Busy"}]}, "not an option"),
        ({"OWNER_USER_ID": 1}, "not a user"),
    ],
)
def test_the_fake_refuses_an_event_insightly_would_refuse(
    insightly: InsightlyHarness, change: dict[str, Any], says: str
) -> None:
    event = {"TITLE": "x", "START_DATE_UTC": "2026-03-14 09:26:53", "END_DATE_UTC": "2026-03-14 09:26:53"}
    answer = _raw(insightly, "POST", "/Events", json={**event, **change})
    assert answer.status_code == 400 and says in answer.json()["Message"]
    assert insightly.fake.events == {}


def test_the_fake_needs_both_field_name_and_value_and_knows_its_fields(insightly: InsightlyHarness) -> None:
    answer = _raw(insightly, "GET", "/Contacts/Search", params={"field_name": "PHONE"})
    assert answer.status_code == 400 and "both field_name and field_value" in answer.json()["Message"]
    answer = _raw(insightly, "GET", "/Contacts/Search", params={"field_name": "PHONE_WORK", "field_value": "1"})
    assert answer.status_code == 400 and "PHONE_WORK" in answer.json()["Message"]
    assert _raw(insightly, "GET", "/Contact/Search").status_code == 405  # the wrong number of the collection


def test_the_fake_answers_a_search_briefly_without_subcollections(insightly: InsightlyHarness) -> None:
    insightly.add_contact("Ada Lovelace", E164)
    params = {"field_name": "PHONE", "field_value": E164, "count_total": "true"}
    full = _raw(insightly, "GET", "/Contacts/Search", params={**params, "brief": "false"})
    brief = _raw(insightly, "GET", "/Contacts/Search", params={**params, "brief": "true"})
    assert len(full.json()[0]["LINKS"]) == 2 and "LINKS" not in brief.json()[0]
    assert full.headers["X-Total-Count"] == "1" and full.headers["X-RateLimit-Limit"] == "100000"


def test_a_direction_read_back_from_the_location(insightly: InsightlyHarness) -> None:
    from adapters.crm.insightly import direction_in, location_for

    assert direction_in(location_for(outbound_call(E164))) is Direction.OUTBOUND
    assert direction_in("Board room") is None
