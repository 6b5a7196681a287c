# SPDX-License-Identifier: MIT
"""The template adapter beyond the contract: user phone patterns, region, one search request."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from adapters.api_override import SETTING_API_BASE_URL
from adapters.base import SETTING_PHONE_PATTERNS, SETTING_REGION, AuthError, Connection, TransientError, ValidationError
from adapters.models import LogEntry, LogUpdate
from adapters.template.acme import ENV_BASE_URL, AcmeAdapter
from adapters.template.acme_fake import BASE_URL, TEST_TOKEN, FakeAcmeServer
from adapters.testing.calls import inbound_call


@pytest.fixture
def server() -> FakeAcmeServer:
    return FakeAcmeServer()


def _adapter(server: FakeAcmeServer, **settings: str) -> AcmeAdapter:
    return AcmeAdapter(
        Connection(settings={"api_base_url": BASE_URL, **settings}, secrets={"api_token": TEST_TOKEN}),
        client=httpx.Client(transport=server.transport()),
    )


@pytest.fixture
def acme(server: FakeAcmeServer) -> Iterator[AcmeAdapter]:
    adapter = _adapter(server)
    yield adapter
    adapter.close()


def test_a_number_stored_in_an_unusual_format_is_found_through_a_user_pattern(server: FakeAcmeServer) -> None:
    contact_id = server.add_contact("Odd Format", "415/555/0123")
    plain = _adapter(server)
    patterned = _adapter(server, **{SETTING_PHONE_PATTERNS: "###/###/####\n"})
    try:
        assert plain.find_contact("+14155550123") == []
        assert [c.id for c in patterned.find_contact("+14155550123")] == [contact_id]
    finally:
        plain.close()
        patterned.close()


def test_user_patterns_are_read_as_the_app_writes_them_one_per_line_or_separated_by_semicolons(
    server: FakeAcmeServer,
) -> None:
    slashes = server.add_contact("Slashes", "415/555/0123")
    spaced = server.add_contact("Spaced", "415 555 01 23")
    adapter = _adapter(server, **{SETTING_PHONE_PATTERNS: "###/###/####; ### ### ## ##"})
    try:
        assert sorted(c.id for c in adapter.find_contact("+14155550123")) == sorted([slashes, spaced])
    finally:
        adapter.close()


def test_the_default_region_reads_numbers_without_a_country_code(server: FakeAcmeServer) -> None:
    contact_id = server.add_contact("London Office", "020 7946 0000")
    adapter = _adapter(server, **{SETTING_REGION: "GB"})
    try:
        assert [c.id for c in adapter.find_contact("020 7946 0000")] == [contact_id]
        assert [c.id for c in adapter.find_contact("+442079460000")] == [contact_id]
    finally:
        adapter.close()


def test_a_lookup_is_one_request_with_every_candidate(acme: AcmeAdapter, server: FakeAcmeServer) -> None:
    acme.find_contact("+14155550123")
    [request] = server.requests
    values = request.url.params.get_list("phone")
    assert values[:2] == ["+14155550123", "4155550123"]
    assert "(415) 555-0123" in values and len(values) <= 20


@pytest.mark.parametrize("address", ["http://crm.example.org", "http://192.168.1.20:8770", "ftp://127.0.0.1"])
def test_an_api_address_that_would_send_the_token_in_clear_text_is_refused_before_any_request(
    server: FakeAcmeServer, address: str
) -> None:
    adapter = _adapter(server, **{SETTING_API_BASE_URL: address})
    try:
        with pytest.raises(AuthError, match=SETTING_API_BASE_URL) as caught:
            adapter.verify()
        assert "no credentials were sent" in str(caught.value)
        with pytest.raises(AuthError):
            adapter.find_contact("+14155550123")
    finally:
        adapter.close()
    assert server.requests == []


@pytest.mark.parametrize("address", ["http://127.0.0.1:8770", "http://localhost:8770", "https://eu.acme-crm.example"])
def test_an_https_or_loopback_api_address_is_used(address: str) -> None:
    server = FakeAcmeServer(base_url=address)
    adapter = _adapter(server, **{SETTING_API_BASE_URL: address + "/"})
    try:
        assert adapter.verify() == "Dana Agent"
    finally:
        adapter.close()
    [request] = server.requests
    assert str(request.url).startswith(address + "/v1/")


def test_the_api_address_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    server = FakeAcmeServer(base_url="http://127.0.0.1:8770")
    monkeypatch.setenv(ENV_BASE_URL, "http://127.0.0.1:8770")
    adapter = AcmeAdapter(
        Connection(secrets={"api_token": TEST_TOKEN}), client=httpx.Client(transport=server.transport())
    )
    try:
        assert adapter.verify() == "Dana Agent"
    finally:
        adapter.close()


def test_a_missing_token_is_an_auth_error_before_any_request() -> None:
    with pytest.raises(AuthError, match="API token"):
        AcmeAdapter(Connection(settings={"api_base_url": BASE_URL}))


def test_a_wrong_token_is_an_auth_error_with_the_vendor_message(server: FakeAcmeServer) -> None:
    adapter = AcmeAdapter(
        Connection(settings={"api_base_url": BASE_URL}, secrets={"api_token": "revoked"}),
        client=httpx.Client(transport=server.transport()),
    )
    try:
        with pytest.raises(AuthError) as caught:
            adapter.verify()
        assert caught.value.vendor_message == "Invalid or expired token"
        assert "revoked" not in str(caught.value)
    finally:
        adapter.close()


def test_a_rejected_value_names_the_field(acme: AcmeAdapter, server: FakeAcmeServer) -> None:
    contact_id = server.add_contact("Ada", "+14155550123")
    [contact] = acme.find_contact("+14155550123")
    assert contact.id == contact_id
    ref = acme.create_call_log(inbound_call("+14155550123"), contact, _entry())
    with pytest.raises(ValidationError) as caught:
        acme.update_call_log(ref, LogUpdate(recording_url="http://insecure.example/rec"))
    assert caught.value.field == "recording_url"
    with pytest.raises(ValidationError) as unknown:
        acme.upsert_disposition(ref, {"mood": "happy"})
    assert unknown.value.field == "mood"


def test_structured_fields_are_written_where_acme_has_them(acme: AcmeAdapter, server: FakeAcmeServer) -> None:
    server.add_contact("Ada", "+14155550123")
    [contact] = acme.find_contact("+14155550123")
    ref = acme.create_call_log(inbound_call("+14155550123"), contact, _entry())
    stored = acme.update_call_log(ref, LogUpdate(duration_seconds=194, recording_url="https://media.example/rec/1"))
    assert (stored.duration_seconds, stored.recording_url) == (194, "https://media.example/rec/1")
    assert server.activities[ref.log_id]["direction"] == "inbound"


def _entry() -> LogEntry:
    return LogEntry(subject="Call", body="Note", dispositions={"outcome": "connected"})


def test_deals_are_offered_per_contact_and_checked_by_acme(acme: AcmeAdapter, server: FakeAcmeServer) -> None:
    ada_id = server.add_contact("Ada", "+14155550123")
    renewal = server.add_deal(ada_id, "Renewal")
    bob_id = server.add_contact("Bob", "+12125557464")
    bobs_deal = server.add_deal(bob_id, "Bob's deal")
    [ada] = acme.find_contact("+14155550123")
    assert [(o.id, o.label) for o in ada.options["deal"]] == [(renewal, "Renewal")]
    ref = acme.create_call_log(inbound_call("+14155550123"), ada, _entry())
    acme.upsert_disposition(ref, {"deal": renewal, "ticket": "SUP-12"})
    stored = acme.get_call_log(ref)
    assert (stored.dispositions["deal"], stored.dispositions["ticket"]) == (renewal, "SUP-12")
    with pytest.raises(ValidationError) as caught:
        acme.upsert_disposition(ref, {"deal": bobs_deal})
    assert caught.value.field == "deal_id"
    with pytest.raises(ValidationError) as bad_ticket:
        acme.upsert_disposition(ref, {"ticket": "not a ticket"})
    assert bad_ticket.value.field == "ticket"


def test_the_fake_serves_the_sandbox_people_on_loopback_for_trying_the_app() -> None:
    fake = FakeAcmeServer()
    assert fake.seed_demo() >= 13
    with fake.serve() as url:
        assert url.startswith("http://127.0.0.1:")
        adapter = AcmeAdapter(Connection(settings={"api_base_url": url}, secrets={"api_token": TEST_TOKEN}))
        try:
            assert adapter.verify() == "Dana Agent"
            [alice] = adapter.find_contact("+14155550132")  # stored as "(415) 555-0132"
            assert alice.name == "Alice Moreno" and alice.options["deal"]
            ref = adapter.create_call_log(inbound_call("+14155550132"), alice, _entry())
            assert adapter.get_call_log(ref).subject == "Call"
            [marcus] = adapter.find_contact("102", is_extension=True)
            assert marcus.is_internal
            fake.faults.inject(503)
            with pytest.raises(TransientError):
                adapter.get_call_log(ref)
        finally:
            adapter.close()
    assert fake.base_url == BASE_URL
