# SPDX-License-Identifier: MIT
"""Salesforce adapter: the contract suite against the fake org, the PKCE sign-in, Salesforce's rules."""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters import oauth
from adapters.base import (
    AuthError,
    ConflictError,
    Connection,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationError,
)
from adapters.crm.salesforce import (
    CALL_RESULT,
    RELATED_TO,
    USAGE_RECHECK_SECONDS,
    SalesforceAdapter,
    escape_sosl,
    login_base_url,
    parse_salesforce_error,
    session_seconds,
    sign_in,
    with_expiry,
)
from adapters.models import CallLogRef, Contact, LogEntry, LogUpdate
from adapters.notes.models import NoteSettings
from adapters.testing import ContractHarness, CrmAdapterContract, calls
from desktop.engine.models import CallFilter, Draft, LogStatus
from tests.engine.world import World, all_settled, drive
from tests.fakes.salesforce import DEFAULT_CLIENT_ID, SalesforceFake, served

E164 = "+14155550123"
PERSON_LINE = "Promised a quote by Friday (typed in Salesforce)"


class SalesforceHarness(ContractHarness):
    """The adapter on ``httpx.MockTransport`` in front of a fresh fake org, sharing its clock.

    The adapter starts signed in with tokens the fake issued (the browser sign-in has its own
    tests below). Every contact belongs to an account with one open opportunity, so the
    ``related_to`` field is exercised by the suite. A Task keeps the call's day, not its time.
    """

    start_time_grain = timedelta(days=1)

    def __init__(self, fake: SalesforceFake | None = None, **settings: str) -> None:
        self.fake = fake or SalesforceFake()
        self.seen: list[httpx.Request] = []
        #: Called with each request before the fake answers it (to act "while it is in flight").
        self.on_request: Callable[[httpx.Request], None] | None = None
        #: The first request this matches is carried out by the org, but its answer never arrives.
        self.lose_answer: Callable[[httpx.Request], bool] | None = None
        self.client = self._make_client()
        self.saved: list[dict[str, str]] = []
        now = self.fake.clock.time()
        tokens = oauth.TokenSet.from_response(self.fake.issue_tokens(), now=now)
        self.settings = {"client_id": DEFAULT_CLIENT_ID, **settings}
        secrets = with_expiry(tokens, session=session_seconds(self.settings), now=now).to_secrets()
        self.adapter: SalesforceAdapter = SalesforceAdapter(
            Connection(settings=self.settings, secrets=secrets),
            client=self.client,
            save_secrets=lambda values: self.saved.append(dict(values)),
            clock=self.fake.clock.time,
        )
        self.account = self.fake.add_account("Analytical Engines Ltd")
        self.opportunity = self.fake.add_opportunity("Engines — 20 seats", self.account)

    def _make_client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self._handle), timeout=5.0)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.on_request is not None:
            self.on_request(request)
        response = self.fake.handle(request)
        if self.lose_answer is not None and self.lose_answer(request):
            self.lose_answer = None
            raise httpx.ReadTimeout("the answer was lost on the way back", request=request)
        return response

    def add_contact(self, name: str, phone: str, *, extension: str | None = None) -> str:
        if extension is not None:
            return self.fake.add_user(name, phone=phone, extension=extension)
        return self.fake.add_contact(name, phone=phone, account_id=self.account)

    def person_edits_log(
        self, ref: CallLogRef, *, subject: str | None = None, body: Callable[[str], str] | None = None
    ) -> None:
        values: dict[str, Any] = {}
        if subject is not None:
            values["Subject"] = subject
        if body is not None:
            values["Description"] = body(self.fake.task(ref.log_id)["Description"] or "")
        self.fake.person_edits(ref.log_id, **values)

    def read_log_raw(self, ref: CallLogRef) -> dict[str, Any]:
        task = self.fake.task(ref.log_id)
        day = date.fromisoformat(task["ActivityDate"]) if task.get("ActivityDate") else None
        return {
            **task,
            "subject": task["Subject"] or "",
            "body": task["Description"] or "",
            "dispositions": {CALL_RESULT: task["CallDisposition"], RELATED_TO: task["WhatId"]},
            "direction": task.get("CallType"),
            # A Task keeps the day only (ActivityDate, in the agent's time zone): its midnight.
            "start_time": datetime.combine(day, datetime.min.time()).astimezone() if day else None,
            "duration_seconds": task.get("CallDurationInSeconds"),
            "contact_id": task.get("WhoId"),
        }

    def inject_failure(self, kind: Any, *, retry_after: float | None = None, body: Any = None) -> None:
        if kind == 401 and body is None:
            # A session Salesforce refuses even after a refresh: the request and its retry both get 401.
            self.fake.inject(401, times=2, path_prefix="/services/data")
        else:
            self.fake.inject(kind, retry_after=retry_after, body=body, path_prefix="/services/data")

    def unknown_log_ref(self) -> CallLogRef:
        return CallLogRef(adapter_id="salesforce", log_id="00T5E000000ZZZZUAA")

    def close(self) -> None:
        self.adapter.close()
        self.client.close()


class LoopbackSalesforceHarness(SalesforceHarness):
    """The same, over real HTTP: the fake org served on 127.0.0.1 and an ordinary ``httpx.Client``."""

    def __init__(self) -> None:
        fake = SalesforceFake()
        self._serving = contextlib.ExitStack()
        base_url = self._serving.enter_context(served(fake))
        super().__init__(fake, login_host=base_url.removeprefix("http://"))

    def _make_client(self) -> httpx.Client:
        # Answers on loopback take milliseconds; a held request times out after one second.
        return httpx.Client(timeout=httpx.Timeout(5.0, read=1.0))

    def close(self) -> None:
        super().close()
        self._serving.close()


class TestSalesforceContract(CrmAdapterContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        h = SalesforceHarness()
        yield h
        h.close()


class TestSalesforceContractOverLoopback(CrmAdapterContract):
    @pytest.fixture
    def harness(self) -> Iterator[ContractHarness]:
        h = LoopbackSalesforceHarness()
        yield h
        h.close()


@pytest.fixture
def sf() -> Iterator[SalesforceHarness]:
    h = SalesforceHarness()
    yield h
    h.close()


def _contact(sf: SalesforceHarness, phone: str = E164) -> Contact:
    contact_id = sf.add_contact("Ana Diaz", phone)
    return next(c for c in sf.adapter.find_contact(phone) if c.id == contact_id)


def _entry(**kw: Any) -> LogEntry:
    base: dict[str, Any] = {
        "subject": "Inbound call from Ana Diaz",
        "body": "Wants a quote.\n\n- Call duration: (pending)\n",
    }
    base.update(kw)
    return LogEntry(**base)


def _requests(sf: SalesforceHarness, method: str, path_part: str) -> list[httpx.Request]:
    return [r for r in sf.seen if r.method == method and path_part in r.url.path]


# --- sign-in through the browser (PKCE, loopback) ----------------------------------------------


def _browser(fetched: list[httpx.Response]) -> Callable[[str], None]:
    """Plays the system browser: opens the authorize page and follows its redirect to the loopback."""

    def open_url(url: str) -> None:
        with httpx.Client(follow_redirects=True, timeout=5.0) as browser:
            fetched.append(browser.get(url))

    return open_url


def test_pkce_sign_in_against_the_org_then_logs_a_call_on_the_instance() -> None:
    # Given a fake org served on loopback
    fake = SalesforceFake()
    contact_id = fake.add_contact("Ana Diaz", phone="(415) 555-0123")
    with served(fake) as base_url, httpx.Client(timeout=5.0) as http:
        settings = {"login_host": base_url.removeprefix("http://"), "client_id": DEFAULT_CLIENT_ID}
        pages: list[httpx.Response] = []
        # When the user signs in through the browser
        secrets = sign_in(settings, http, open_url=_browser(pages), port=0, timeout=10, clock=fake.clock.time)
        # Then the browser landed on the loopback page and the secrets name the instance
        assert pages[0].status_code == 200 and "close this tab" in pages[0].text
        authorize = pages[0].history[0].request.url
        assert authorize.params["code_challenge_method"] == "S256"
        assert authorize.params["scope"] == "api refresh_token"
        tokens = oauth.TokenSet.from_secrets(secrets)
        assert tokens is not None and tokens.refresh_token
        assert tokens.extra["instance_url"] == base_url
        assert tokens.expires_at == pytest.approx(fake.clock.time() + 7200)
        # And the adapter works over real HTTP with those secrets
        adapter = SalesforceAdapter(Connection(settings=settings, secrets=secrets), client=http, clock=fake.clock.time)
        assert adapter.verify() == "Dana Agent (dana@logdesk.test)"
        contact = next(c for c in adapter.find_contact(E164) if c.id == contact_id)
        ref = adapter.create_call_log(calls.inbound_call(E164), contact, _entry())
        assert fake.task(ref.log_id)["Subject"] == "Inbound call from Ana Diaz"


def test_sign_in_declined_in_the_browser_says_so() -> None:
    fake = SalesforceFake(user_decision="deny")
    with served(fake) as base_url, httpx.Client(timeout=5.0) as http:
        settings = {"login_host": base_url, "client_id": DEFAULT_CLIENT_ID}
        with pytest.raises(oauth.SignInCancelled) as caught:
            sign_in(settings, http, open_url=_browser([]), port=0, timeout=10, clock=fake.clock.time)
    assert "declined" in caught.value.message
    assert caught.value.vendor_message == "end-user denied authorization"


def test_sign_in_without_the_refresh_token_scope_explains_what_the_admin_must_add() -> None:
    fake = SalesforceFake(app_scopes=("api",))
    with served(fake) as base_url, httpx.Client(timeout=5.0) as http:
        settings = {"login_host": base_url, "client_id": DEFAULT_CLIENT_ID}
        with pytest.raises(AuthError, match="refresh_token scope"):
            sign_in(settings, http, open_url=_browser([]), port=0, timeout=10, clock=fake.clock.time)


def test_sign_in_with_an_unknown_consumer_key_never_reaches_the_loopback() -> None:
    fake = SalesforceFake()
    pages: list[httpx.Response] = []
    with served(fake) as base_url, httpx.Client(timeout=5.0) as http:
        settings = {"login_host": base_url, "client_id": "3MVG9-not-registered"}

        def open_url(url: str) -> None:
            _browser(pages)(url)
            raise oauth.SignInCancelled("The browser showed an error page.")

        with pytest.raises(AuthError):
            sign_in(settings, http, open_url=open_url, port=0, timeout=10, clock=fake.clock.time)
    assert pages[0].status_code == 400 and "invalid_client_id" in pages[0].text


def test_fake_org_checks_the_pkce_verifier_and_the_code_is_single_use() -> None:
    fake = SalesforceFake()
    verifier = oauth.make_verifier()
    redirect = "http://127.0.0.1:47011/callback"
    with httpx.Client(transport=fake.transport(), base_url="https://login.salesforce.com") as http:
        endpoints = oauth.OAuthEndpoints(
            authorize_url="https://login.salesforce.com/services/oauth2/authorize",
            token_url="https://login.salesforce.com/services/oauth2/token",
            client_id=DEFAULT_CLIENT_ID,
        )
        url = oauth.build_authorize_url(
            endpoints, redirect_uri=redirect, state="s1", code_challenge=oauth.make_challenge(verifier)
        )
        code = httpx.URL(http.get(url).headers["Location"]).params["code"]
        with pytest.raises(AuthError) as wrong:
            oauth.exchange_code(endpoints, http, code=code, verifier=oauth.make_verifier(), redirect_uri=redirect)
        assert "invalid code verifier" in (wrong.value.vendor_message or "")
        code = httpx.URL(
            http.get(
                oauth.build_authorize_url(
                    endpoints, redirect_uri=redirect, state="s2", code_challenge=oauth.make_challenge(verifier)
                )
            ).headers["Location"]
        ).params["code"]
        tokens = oauth.exchange_code(endpoints, http, code=code, verifier=verifier, redirect_uri=redirect)
        assert tokens.extra["instance_url"].startswith("https://") and tokens.expires_at is None
        with pytest.raises(AuthError):
            oauth.exchange_code(endpoints, http, code=code, verifier=verifier, redirect_uri=redirect)
        no_pkce = http.get(url.replace("code_challenge=", "x="))
        assert "missing+required+code+challenge" in no_pkce.headers["Location"]


def test_login_host_accepts_my_domain_and_sandbox_and_keeps_loopback_plain() -> None:
    assert login_base_url("acme.my.salesforce.com") == "https://acme.my.salesforce.com"
    assert login_base_url("https://test.salesforce.com/") == "https://test.salesforce.com"
    assert login_base_url("127.0.0.1:8765") == "http://127.0.0.1:8765"
    with pytest.raises(ValidationError):
        login_base_url("https://acme.my.salesforce.com/path")


# --- tokens ---------------------------------------------------------------------------------


def test_token_is_refreshed_ahead_of_the_session_timeout(sf: SalesforceHarness) -> None:
    ref = sf.adapter.create_call_log(calls.inbound_call(E164), _contact(sf), _entry())
    sf.seen.clear()
    sf.fake.clock.advance(7200 - 120)  # two minutes before the session ends
    sf.adapter.get_call_log(ref)
    paths = [r.url.path for r in sf.seen]
    assert paths[0] == "/services/oauth2/token" and len(paths) == 2, "refresh first, then the request, no 401"
    assert len(sf.saved) == 1
    saved = oauth.TokenSet.from_secrets(sf.saved[0])
    assert saved is not None and saved.refresh_token and saved.extra["instance_url"]
    assert saved.expires_at == pytest.approx(sf.fake.clock.time() + 7200)


def test_session_ended_early_is_refreshed_once_and_the_request_repeated(sf: SalesforceHarness) -> None:
    ref = sf.adapter.create_call_log(calls.inbound_call(E164), _contact(sf), _entry())
    sf.fake.expire_sessions()  # an admin shortened the timeout, or the user logged out everywhere
    sf.seen.clear()
    assert sf.adapter.get_call_log(ref).subject == "Inbound call from Ana Diaz"
    assert [r.url.path.rsplit("/", 1)[-1] for r in sf.seen] == [ref.log_id, "token", ref.log_id]
    assert len(sf.saved) == 1


def test_org_moved_to_another_instance_is_followed_after_the_refresh(sf: SalesforceHarness) -> None:
    ref = sf.adapter.create_call_log(calls.inbound_call(E164), _contact(sf), _entry())
    sf.fake.instance_url = "https://logdesk-dev-ed.my.salesforce.com"  # an org migration
    assert sf.adapter.get_call_log(ref).subject == "Inbound call from Ana Diaz"
    hosts = [r.url.host for r in sf.seen[-3:]]
    assert hosts == [
        "logdesk-dev-ed.develop.my.salesforce.com",
        "login.salesforce.com",
        "logdesk-dev-ed.my.salesforce.com",
    ]
    saved = oauth.TokenSet.from_secrets(sf.saved[-1])
    assert saved is not None and saved.extra["instance_url"] == "https://logdesk-dev-ed.my.salesforce.com"


def test_revoked_grant_asks_the_user_to_reconnect_in_words(sf: SalesforceHarness) -> None:
    sf.fake.revoke_all()
    with pytest.raises(AuthError) as caught:
        sf.adapter.find_contact(E164)
    assert "Reconnect Salesforce" in caught.value.message
    assert "expired access/refresh token" in (caught.value.vendor_message or "")
    assert "Traceback" not in str(caught.value)


def test_rotated_refresh_token_is_saved_before_use() -> None:
    h = SalesforceHarness(SalesforceFake(rotate_refresh_tokens=True))
    try:
        before = h.adapter.tokens
        h.fake.expire_sessions()
        h.adapter.find_contact(E164)
        after = oauth.TokenSet.from_secrets(h.saved[-1])
        assert before is not None and after is not None
        assert after.refresh_token and after.refresh_token != before.refresh_token
    finally:
        h.close()


def test_missing_consumer_key_is_reported_before_any_request() -> None:
    h = SalesforceHarness(client_id="")
    try:
        h.fake.expire_sessions()
        with pytest.raises(AuthError, match="consumer key"):
            h.adapter.find_contact(E164)
        assert not _requests(h, "POST", "/token")
    finally:
        h.close()


def test_verify_after_session_expiry_refreshes_on_bad_oauth_token(sf: SalesforceHarness) -> None:
    sf.fake.expire_sessions()
    assert sf.adapter.verify() == "Dana Agent (dana@logdesk.test)"
    assert len(_requests(sf, "GET", "/userinfo")) == 2


def test_verify_names_call_fields_hidden_from_the_users_profile() -> None:
    h = SalesforceHarness(SalesforceFake(hidden_task_fields=("CallObject", "CallDisposition")))
    try:
        with pytest.raises(PermissionDenied) as caught:
            h.adapter.verify()
        assert "CallObject, CallDisposition" in caught.value.message
    finally:
        h.close()


def test_verify_refuses_a_recording_field_the_org_does_not_have() -> None:
    h = SalesforceHarness(recording_url_field="Recording_Link__c")
    try:
        with pytest.raises(ValidationError) as caught:
            h.adapter.verify()
        assert caught.value.field == "recording_url_field"
    finally:
        h.close()


def test_sign_out_revokes_the_refresh_token(sf: SalesforceHarness) -> None:
    sf.adapter.sign_out()
    assert sf.fake.active_access_tokens() == 0
    with pytest.raises(AuthError):
        sf.adapter.find_contact(E164)


# --- find_contact ---------------------------------------------------------------------------


def test_find_contact_searches_phone_fields_with_national_digits_first(sf: SalesforceHarness) -> None:
    contact_id = sf.add_contact("Ana Diaz", "+1 (415) 555-0123")
    found = sf.adapter.find_contact(E164)
    assert [c.id for c in found] == [contact_id]
    searches = _requests(sf, "GET", "/search")
    assert len(searches) == 1
    assert searches[0].url.params["q"].startswith("FIND {4155550123} IN PHONE FIELDS RETURNING Contact(")


def test_find_contact_falls_back_to_country_code_digits(sf: SalesforceHarness) -> None:
    assert sf.adapter.find_contact(E164) == []
    terms = [r.url.params["q"].split("}")[0] for r in _requests(sf, "GET", "/search")]
    assert terms == ["FIND {4155550123", "FIND {14155550123"]


def test_number_stored_with_a_trunk_prefix_is_found(sf: SalesforceHarness) -> None:
    contact_id = sf.add_contact("Zoé Martin", "01 23 45 67 89")
    assert [c.id for c in sf.adapter.find_contact("+33 1 23 45 67 89")] == [contact_id]
    terms = [r.url.params["q"].split("}")[0] for r in _requests(sf, "GET", "/search")]
    assert terms == ["FIND {123456789", "FIND {33123456789", "FIND {0123456789"]


def test_found_contact_offers_its_account_and_open_opportunities(sf: SalesforceHarness) -> None:
    sf.fake.add_opportunity("Engines — closed deal", sf.account, closed=True)
    contact = _contact(sf)
    assert contact.company == "Analytical Engines Ltd"
    assert contact.owner == "Dana Agent"
    related = {o.id: o.label for o in contact.options[RELATED_TO]}
    assert related == {sf.account: "Account: Analytical Engines Ltd", sf.opportunity: "Opportunity: Engines — 20 seats"}
    assert [o.id for o in contact.options[CALL_RESULT]][:2] == ["Connected", "Left voicemail"]


def test_leads_are_found_with_their_company_and_no_related_records(sf: SalesforceHarness) -> None:
    lead_id = sf.fake.add_lead("Cy Lead", phone="415.555.0123", company="Lead Co")
    [lead] = sf.adapter.find_contact(E164)
    assert (lead.id, lead.type, lead.company) == (lead_id, "Lead", "Lead Co")
    assert lead.options[RELATED_TO] == []


def test_colleague_found_by_extension_gets_an_internal_task_without_a_who(sf: SalesforceHarness) -> None:
    user_id = sf.fake.add_user("Sam Colleague", extension="102")
    sf.fake.add_user("Former Colleague", extension="102", active=False)
    [colleague] = sf.adapter.find_contact("102", is_extension=True)
    assert (colleague.id, colleague.type, colleague.is_internal) == (user_id, "User", True)
    call = calls.internal_call("102", colleague_name="Sam Colleague")
    ref = sf.adapter.create_call_log(call, colleague, _entry(subject="Internal call with Sam"))
    task = sf.fake.task(ref.log_id)
    assert (task["CallType"], task["WhoId"], task["CallObject"]) == ("Internal", None, call.session_id)


def test_who_is_decided_by_the_record_id_even_when_the_type_was_lost(sf: SalesforceHarness) -> None:
    lead_id = sf.fake.add_lead("Cy Lead", phone=E164)
    user_id = sf.fake.add_user("Sam Colleague", extension="102")
    as_lead = sf.adapter.create_call_log(calls.inbound_call(E164), Contact(id=lead_id, name="Cy Lead"), _entry())
    as_user = sf.adapter.create_call_log(calls.inbound_call(E164), Contact(id=user_id, name="Sam"), _entry())
    assert sf.fake.task(as_lead.log_id)["WhoId"] == lead_id
    assert sf.fake.task(as_user.log_id)["WhoId"] is None


def test_configured_call_results_are_offered() -> None:
    h = SalesforceHarness(call_results="Sale, No sale ,Callback")
    try:
        contact = _contact(h)
        assert [o.id for o in contact.options[CALL_RESULT]] == ["Sale", "No sale", "Callback"]
    finally:
        h.close()


def test_sosl_reserved_characters_are_escaped() -> None:
    assert escape_sosl("+1 (415) 555-0123") == r"\+1 \(415\) 555\-0123"


def test_fake_org_rejects_unescaped_sosl_and_malformed_soql(sf: SalesforceHarness) -> None:
    token = sf.adapter.tokens
    assert token is not None
    base = f"{token.extra['instance_url']}/services/data/v62.0"
    headers = {"Authorization": f"Bearer {token.access_token}"}
    sosl = sf.client.get(
        f"{base}/search", params={"q": "FIND {+14155550123} IN PHONE FIELDS RETURNING Contact(Id)"}, headers=headers
    )
    assert sosl.status_code == 400 and sosl.json()[0]["errorCode"] == "MALFORMED_SEARCH"
    soql = sf.client.get(f"{base}/query", params={"q": "SELECT Id FROM Task WHERE CallObject == 'x'"}, headers=headers)
    assert soql.status_code == 400 and soql.json()[0]["errorCode"] == "MALFORMED_QUERY"
    column = sf.client.get(f"{base}/query", params={"q": "SELECT Nope FROM Task"}, headers=headers)
    assert column.status_code == 400 and column.json()[0]["errorCode"] == "INVALID_FIELD"
    picklist = sf.client.post(
        f"{base}/sobjects/Task", json={"Status": "Completed", "CallType": "Sideways"}, headers=headers
    )
    assert picklist.status_code == 400
    assert picklist.json()[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    assert "Sforce-Limit-Info" in picklist.headers


def test_fake_org_guards_task_writes_like_salesforce(sf: SalesforceHarness) -> None:
    ref = sf.adapter.create_call_log(calls.inbound_call(E164), _contact(sf), _entry())
    token = sf.adapter.tokens
    assert token is not None
    task_url = f"{token.extra['instance_url']}/services/data/v62.0/sobjects/Task/{ref.log_id}"
    headers = {"Authorization": f"Bearer {token.access_token}"}
    subtype = sf.client.patch(task_url, json={"TaskSubtype": "Email"}, headers=headers)
    assert subtype.status_code == 400 and subtype.json()[0]["errorCode"] == "INVALID_FIELD_FOR_INSERT_UPDATE"
    bad_date = sf.client.patch(task_url, json={"Subject": "x"}, headers={**headers, "If-Unmodified-Since": "yesterday"})
    assert bad_date.status_code == 400
    typed = sf.client.patch(task_url, json={"CallDurationInSeconds": "95"}, headers=headers)
    assert typed.status_code == 400 and typed.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    who = sf.client.patch(task_url, json={"WhoId": "003NOTANID"}, headers=headers)
    assert who.status_code == 400 and who.json()[0] == {
        "message": "Name ID: id value of incorrect type: 003NOTANID",
        "errorCode": "MALFORMED_ID",
        "fields": ["WhoId"],
    }
    assert sf.fake.task(ref.log_id)["Subject"] == "Inbound call from Ana Diaz", "refused writes change nothing"
    describe = sf.client.get(
        f"{token.extra['instance_url']}/services/data/v62.0/sobjects/Task/describe", headers=headers
    )
    call_type = next(f for f in describe.json()["fields"] if f["name"] == "CallType")
    assert [v["value"] for v in call_type["picklistValues"]] == ["Internal", "Inbound", "Outbound"]


@pytest.mark.parametrize(
    ("method", "resource", "params", "body", "code", "words"),
    [
        ("GET", "/query", {"q": "SELECT Id FROM Task", "explain": "x"}, None, "INVALID_PARAMETER_VALUE",
         "Unknown parameter: explain"),
        ("GET", "/sobjects/Task/describe", {"fields": "Subject"}, None, "INVALID_PARAMETER_VALUE",
         "Unknown parameter: fields"),
        ("POST", "/sobjects/Task", {}, {"Subject": "x", "Status": "Completed", "CallLength": 5}, "INVALID_FIELD",
         "No such column 'CallLength'"),
    ],
    ids=["query parameter", "describe parameter", "body field"],
)
def test_the_fake_refuses_what_a_resource_does_not_declare_in_salesforces_error_array(
    sf: SalesforceHarness, method: str, resource: str, params: dict[str, str], body: Any, code: str, words: str
) -> None:
    token = sf.adapter.tokens
    assert token is not None
    answer = sf.client.request(
        method, f"{token.extra['instance_url']}/services/data/v62.0{resource}", params=params, json=body,
        headers={"Authorization": f"Bearer {token.access_token}"},
    )
    assert answer.status_code == 400
    [error] = answer.json()
    assert error["errorCode"] == code and words in error["message"]


def test_unreadable_version_is_refused_before_sending(sf: SalesforceHarness) -> None:
    ref = sf.adapter.create_call_log(calls.inbound_call(E164), _contact(sf), _entry())
    sent = len(sf.seen)
    with pytest.raises(ValidationError):
        sf.adapter.update_call_log(ref, LogUpdate(subject="x"), expected_version="v7")
    assert len(sf.seen) == sent


def test_token_from_another_instance_is_refused(sf: SalesforceHarness) -> None:
    token = sf.adapter.tokens
    assert token is not None
    response = sf.client.get(
        "https://na1.salesforce.com/services/data/v62.0/sobjects/Task/describe",
        headers={"Authorization": f"Bearer {token.access_token}"},
    )
    assert response.status_code == 401 and response.json()[0]["errorCode"] == "INVALID_SESSION_ID"


# --- create / get / update --------------------------------------------------------------------


def test_create_writes_a_completed_call_task(sf: SalesforceHarness) -> None:
    contact = _contact(sf)
    call = calls.outbound_call(E164, duration=95)
    entry = _entry(
        subject="Outbound call to Ana Diaz", dispositions={CALL_RESULT: "Connected", RELATED_TO: sf.opportunity}
    )
    ref = sf.adapter.create_call_log(call, contact, entry)
    task = sf.fake.task(ref.log_id)
    assert task["TaskSubtype"] == "Call" and task["Status"] == "Completed" and task["IsClosed"]
    assert (task["CallType"], task["CallDurationInSeconds"], task["CallObject"]) == ("Outbound", 95, call.session_id)
    assert (task["WhoId"], task["WhatId"], task["CallDisposition"]) == (contact.id, sf.opportunity, "Connected")
    assert task["ActivityDate"] == call.start_time.astimezone().date().isoformat()
    assert ref.version == task["LastModifiedDate"] and ref.contact_id == contact.id


@contextlib.contextmanager
def computer_time_zone(name: str) -> Iterator[None]:
    """The computer's own time zone is ``name`` for the block (``TZ``), then what it was."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


def test_activity_date_is_the_day_in_the_agents_time_zone(sf: SalesforceHarness) -> None:
    # 23:58 on 10 April in Los Angeles is 06:58 UTC on 11 April, and already the afternoon of the 11th in Tokyo
    call = calls.inbound_call(E164, start_time=datetime(2026, 4, 11, 6, 58, tzinfo=UTC))
    with computer_time_zone("Asia/Tokyo"):
        ref = sf.adapter.create_call_log(call, _contact(sf), _entry(time_zone="America/Los_Angeles"))
    assert sf.fake.task(ref.log_id)["ActivityDate"] == "2026-04-10"


def test_without_a_time_zone_the_activity_date_is_the_day_on_the_computers_clock(
    sf: SalesforceHarness,
) -> None:
    call = calls.inbound_call(E164, start_time=datetime(2026, 4, 10, 23, 58, tzinfo=UTC))
    with computer_time_zone("Asia/Tokyo"):
        ref = sf.adapter.create_call_log(call, _contact(sf), _entry())
    assert sf.fake.task(ref.log_id)["ActivityDate"] == "2026-04-11"


def test_the_engine_dates_the_task_in_the_time_zone_chosen_for_notes_even_after_a_change(tmp_path: Path) -> None:
    # Given a call at 08:57 UTC on 11 April, which is still the 10th in Honolulu
    world = World(tmp_path)
    h = SalesforceHarness()
    try:
        contact = _contact(h)
        call = world.add_call(phone=E164, at=0, final_after=30)
        rc = world.rc()
        engine = world.engine(rc, adapter=h.adapter)
        # When the agent picks Honolulu in Settings while the app runs, then logs the call
        engine.lifecycle.settings = NoteSettings(time_zone="Pacific/Honolulu")
        engine.sync()
        [row] = engine.calls(CallFilter.UNLOGGED)
        engine.log_call(row.call_id, Draft(contact_id=contact.id, contact_name=contact.name, note="n"))
        with computer_time_zone("UTC"):
            engine.run_outbox()
        # Then the task is dated on the agent's day, the one the note's times are written in
        [task] = h.fake.records["Task"].values()
        assert call.start_time.date().isoformat() == "2026-04-11"
        assert task["ActivityDate"] == "2026-04-10"
    finally:
        h.close()


def test_free_text_call_result_is_kept_and_an_overlong_one_refused_before_sending(sf: SalesforceHarness) -> None:
    ref = sf.adapter.create_call_log(calls.inbound_call(E164), _contact(sf), _entry())
    sf.adapter.upsert_disposition(ref, {CALL_RESULT: "Asked for a callback next week"})
    assert sf.fake.task(ref.log_id)["CallDisposition"] == "Asked for a callback next week"
    sent = len(sf.seen)
    with pytest.raises(ValidationError) as caught:
        sf.adapter.upsert_disposition(ref, {CALL_RESULT: "x" * 256})
    assert caught.value.field == CALL_RESULT and len(sf.seen) == sent


def test_overlong_subject_keeps_salesforces_message(sf: SalesforceHarness) -> None:
    with pytest.raises(ValidationError) as caught:
        sf.adapter.create_call_log(calls.inbound_call(E164), _contact(sf), _entry(subject="s" * 256))
    assert caught.value.field == "Subject"
    assert "data value too large" in (caught.value.vendor_message or "")
    assert "max length=255" in str(caught.value)


def test_required_field_missing_in_this_org_is_named() -> None:
    h = SalesforceHarness(SalesforceFake(required_task_fields=("Status", "WhatId")))
    try:
        with pytest.raises(ValidationError) as caught:
            h.adapter.create_call_log(calls.inbound_call(E164), _contact(h), _entry())
        assert caught.value.field == "WhatId"
        assert caught.value.vendor_message == "Required fields are missing: [WhatId]"
    finally:
        h.close()


def test_a_lead_cannot_be_related_to_an_account(sf: SalesforceHarness) -> None:
    sf.fake.add_lead("Cy Lead", phone=E164)
    [lead] = sf.adapter.find_contact(E164)
    with pytest.raises(ValidationError) as caught:
        sf.adapter.create_call_log(calls.inbound_call(E164), lead, _entry(dispositions={RELATED_TO: sf.account}))
    assert caught.value.field == "WhatId"


def test_recording_link_goes_to_the_configured_custom_field() -> None:
    fake = SalesforceFake(custom_task_fields={"Recording_URL__c": 255})
    h = SalesforceHarness(fake, recording_url_field="Recording_URL__c")
    try:
        ref = h.adapter.create_call_log(calls.inbound_call(E164), _contact(h), _entry())
        assert h.adapter.get_call_log(ref).recording_url is None
        url = "https://media.ringcentral.com/restapi/v1.0/account/~/recording/1/content"
        stored = h.adapter.update_call_log(ref, LogUpdate(recording_url=url))
        assert stored.recording_url == url and fake.task(ref.log_id)["Recording_URL__c"] == url
    finally:
        h.close()


def test_deleted_task_is_not_found(sf: SalesforceHarness) -> None:
    ref = sf.adapter.create_call_log(calls.inbound_call(E164), _contact(sf), _entry())
    sf.fake.person_deletes(ref.log_id)
    with pytest.raises(NotFound) as caught:
        sf.adapter.get_call_log(ref)
    assert caught.value.vendor_message == "entity is deleted"


def test_find_call_log_quotes_the_session_id(sf: SalesforceHarness) -> None:
    call = calls.inbound_call(E164, session_id="it's\\odd")
    ref = sf.adapter.create_call_log(call, _contact(sf), _entry())
    found = sf.adapter.find_call_log(call)
    assert (
        found is not None
        and found.log_id == ref.log_id
        and found.version == sf.fake.task(ref.log_id)["LastModifiedDate"]
    )


# --- concurrent edits ---------------------------------------------------------------------------


def _subrequests(request: httpx.Request) -> list[dict[str, Any]]:
    subrequests: list[dict[str, Any]] = json.loads(request.content)["compositeRequest"]
    return subrequests


def test_write_carries_if_unmodified_since_from_the_version(sf: SalesforceHarness) -> None:
    ref = sf.adapter.create_call_log(calls.inbound_call(E164), _contact(sf), _entry())
    stored = sf.adapter.get_call_log(ref)
    sf.seen.clear()
    updated = sf.adapter.update_call_log(ref, LogUpdate(subject="New"), expected_version=stored.version)
    # One request, one API call: the guarded write, then the read of the new version
    [composite] = sf.seen
    assert composite.method == "POST" and composite.url.path.endswith("/composite")
    patch, read = _subrequests(composite)
    assert (patch["method"], patch["url"], patch["body"]) == (
        "PATCH", f"/services/data/v62.0/sobjects/Task/{ref.log_id}", {"Subject": "New"}
    )
    assert stored.version is not None and stored.version.endswith(".000+0000")
    assert patch["httpHeaders"] == {"If-Unmodified-Since": "Wed, 30 Sep 2026 14:00:01 GMT"}
    assert read["method"] == "GET" and json.loads(composite.content)["allOrNone"] is True
    assert updated.subject == "New" and updated.version == sf.fake.task(ref.log_id)["LastModifiedDate"]
    assert updated.version != stored.version


def test_create_and_its_version_are_one_api_call(sf: SalesforceHarness) -> None:
    contact = _contact(sf)
    sf.seen.clear()
    used = sf.fake.api_used
    ref = sf.adapter.create_call_log(calls.inbound_call(E164), contact, _entry())
    [composite] = sf.seen
    post, read = _subrequests(composite)
    assert (post["method"], read["url"]) == (
        "POST", "/services/data/v62.0/sobjects/Task/@{task.id}?fields=LastModifiedDate"
    )
    assert sf.fake.api_used == used + 1
    assert ref.version == sf.fake.task(ref.log_id)["LastModifiedDate"]


def test_a_refused_write_in_a_composite_changes_nothing_and_is_a_conflict(sf: SalesforceHarness) -> None:
    ref = sf.adapter.create_call_log(calls.inbound_call(E164), _contact(sf), _entry())
    read = sf.adapter.get_call_log(ref)
    sf.fake.person_edits(ref.log_id, Description=read.body + PERSON_LINE + "\n")
    edited = dict(sf.fake.task(ref.log_id))
    with pytest.raises(ConflictError) as caught:
        sf.adapter.update_call_log(ref, LogUpdate(body="overwrites"), expected_version=read.version)
    assert caught.value.status == 412
    assert sf.fake.task(ref.log_id) == edited


def test_edit_in_salesforce_between_read_and_write_is_merged_not_lost(sf: SalesforceHarness) -> None:
    """What the poller does: read, substitute, write; on 412 read again and substitute again."""
    ref = sf.adapter.create_call_log(calls.inbound_call(E164), _contact(sf), _entry())

    def substitute(body: str) -> str:
        return body.replace("Call duration: (pending)", "Call duration: 3 min 14 sec")

    read = sf.adapter.get_call_log(ref)
    # A person saves the task in Salesforce after the poller read it
    sf.fake.person_edits(ref.log_id, Description=read.body + PERSON_LINE + "\n")
    with pytest.raises(ConflictError):
        sf.adapter.update_call_log(ref, LogUpdate(body=substitute(read.body)), expected_version=read.version)
    assert PERSON_LINE in sf.fake.task(ref.log_id)["Description"], "the refused write changed nothing"
    again = sf.adapter.get_call_log(ref)
    assert again.version != read.version
    final = sf.adapter.update_call_log(ref, LogUpdate(body=substitute(again.body)), expected_version=again.version)
    assert PERSON_LINE in final.body and "Call duration: 3 min 14 sec" in final.body
    assert sf.fake.task(ref.log_id)["Description"] == final.body


# --- limits and errors --------------------------------------------------------------------------


def test_api_usage_is_read_and_the_last_share_of_the_allowance_is_left_alone() -> None:
    fake = SalesforceFake(api_max=100)
    h = SalesforceHarness(fake)
    fake.add_lead("Cy Lead", phone=E164)  # one search request per look-up
    try:
        h.adapter.find_contact(E164)
        assert h.adapter.api_usage == (1, 100)
        fake.api_used = 96
        h.adapter.find_contact(E164)  # this answer reports 97/100
        sent = len(h.seen)
        with pytest.raises(RateLimited) as caught:
            h.adapter.find_contact(E164)
        assert len(h.seen) == sent, "nothing sent while the allowance is nearly used up"
        assert caught.value.retry_after == pytest.approx(USAGE_RECHECK_SECONDS)
        assert "97 of its 100" in caught.value.message
        fake.clock.advance(USAGE_RECHECK_SECONDS)
        fake.api_used = 10  # the rolling 24 hours moved on
        h.adapter.find_contact(E164)
        assert h.adapter.api_usage is not None and h.adapter.api_usage[0] < 20
    finally:
        h.close()


def test_request_limit_exceeded_is_a_rate_limit_not_a_permission_problem() -> None:
    fake = SalesforceFake(api_max=1000)
    h = SalesforceHarness(fake)
    fake.add_lead("Cy Lead", phone=E164)
    try:
        h.adapter.find_contact(E164)
        fake.api_used = 1000  # other tools used up the org's allowance
        with pytest.raises(RateLimited) as caught:
            h.adapter.find_contact(E164)
        assert caught.value.vendor_message == "TotalRequests Limit exceeded."
        sent = len(h.seen)
        with pytest.raises(RateLimited):
            h.adapter.find_contact(E164)
        assert len(h.seen) == sent, "held off after the org ran out"
    finally:
        h.close()


def test_insufficient_access_stays_a_permission_error(sf: SalesforceHarness) -> None:
    sf.inject_failure(403)
    with pytest.raises(PermissionDenied) as caught:
        sf.adapter.find_contact(E164)
    assert caught.value.vendor_message == "insufficient access rights on object id"


def test_salesforce_error_array_is_parsed() -> None:
    body = [{"message": "Subject: data value too large", "errorCode": "STRING_TOO_LONG", "fields": ["Subject"]}]
    assert parse_salesforce_error(body) == ("Subject: data value too large", "Subject")
    assert parse_salesforce_error({"error": "invalid_grant", "error_description": "expired"}) == ("expired", None)
    assert parse_salesforce_error("Bad_OAuth_Token") == (None, None)


def test_engine_poller_merges_edits_made_in_salesforce_between_its_read_and_its_write(tmp_path: Path) -> None:
    """The whole loop: the poller reads, substitutes, writes with If-Unmodified-Since; a person saves
    the task in Salesforce while that write is in flight; 412 → ConflictError → read again → re-apply."""
    # Given a call logged into Salesforce through the engine, with artifacts still to come
    world = World(tmp_path)
    h = SalesforceHarness()
    try:
        contact = _contact(h)
        world.add_call(phone=E164, at=0, final_after=30, recording_after=120, insights_after=900, summary="a refund")
        rc = world.rc()
        engine = world.engine(rc, adapter=h.adapter)
        engine.sync()
        [row] = engine.calls(CallFilter.UNLOGGED)
        engine.log_call(row.call_id, Draft(contact_id=contact.id, contact_name=contact.name, note="Original note"))
        engine.run_outbox()
        [task_id] = list(h.fake.records["Task"])
        assert "(pending)" in h.fake.task(task_id)["Description"]
        # When a person saves the task in Salesforce just before each of the poller's first writes lands
        lines: list[str] = []
        patches = 0

        def person_saves_while_write_in_flight(request: httpx.Request) -> None:
            nonlocal patches
            if not request.url.path.endswith("/composite") or _subrequests(request)[0]["method"] != "PATCH":
                return
            patches += 1
            if patches % 2 == 1:
                lines.append(f"Supervisor remark {len(lines) + 1}")
                description = h.fake.task(task_id)["Description"]
                h.fake.person_edits(task_id, Description=f"{lines[-1]}\n{description}")

        h.on_request = person_saves_while_write_in_flight
        drive(engine, world.clock, rc, until=lambda: all_settled(engine))
        # Then every write was refused once (412) and re-applied on top of the person's version
        body = h.fake.task(task_id)["Description"]
        assert lines
        for line in lines:
            assert line in body
        guarded = [
            r for r in h.seen
            if r.url.path.endswith("/composite") and "If-Unmodified-Since" in _subrequests(r)[0].get("httpHeaders", {})
        ]
        assert len(guarded) == 2 * len(lines), "each cycle: one refused write, one re-applied write"
        assert "Original note" in body and "a refund" in body
        assert "(pending)" not in body
        assert engine.calls()[0].status is LogStatus.COMPLETE
    finally:
        h.close()


def test_slow_answer_within_the_timeout_succeeds_and_beyond_it_is_transient(sf: SalesforceHarness) -> None:
    ref = sf.adapter.create_call_log(calls.inbound_call(E164), _contact(sf), _entry())
    sf.fake.inject("slow", delay=2, path_prefix="/services/data")
    before = sf.fake.clock.time()
    assert sf.adapter.get_call_log(ref).subject == "Inbound call from Ana Diaz"
    assert sf.fake.clock.time() - before == pytest.approx(2)
    sf.fake.inject("slow", delay=60, path_prefix="/services/data")
    with pytest.raises(TransientError, match="did not answer in time"):
        sf.adapter.get_call_log(ref)


def test_server_unavailable_is_transient_and_keeps_salesforces_words(sf: SalesforceHarness) -> None:
    sf.inject_failure(503, retry_after=30)
    with pytest.raises(TransientError) as caught:
        sf.adapter.find_contact(E164)
    assert caught.value.retryable and caught.value.status == 503
    assert caught.value.vendor_message == "Server temporarily unavailable, please try again later"


def test_reads_the_task_shape_salesforce_documents() -> None:
    """The GET example from Salesforce's REST documentation, answered verbatim."""
    raw_task = {
        "attributes": {"type": "Task", "url": "/services/data/v62.0/sobjects/Task/00T5e00000XyZ12EAB"},
        "Subject": "Outbound call to Ana Diaz",
        "Description": "Wants a quote for 20 seats.\n\n--- call details ---\n- Recording: (pending)",
        "CallType": "Outbound",
        "CallDurationInSeconds": 95,
        "CallDisposition": "Connected",
        "WhoId": "0035e00000AbCdEAAV",
        "LastModifiedDate": "2026-09-30T14:07:02.000+0000",
        "Id": "00T5e00000XyZ12EAB",
    }

    def org(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/services/data/v62.0/sobjects/Task/00T5e00000XyZ12EAB"
        assert "LastModifiedDate" in request.url.params["fields"].split(",")
        return httpx.Response(200, json=raw_task, headers={"Sforce-Limit-Info": "api-usage=18/15000"})

    tokens = oauth.TokenSet(
        access_token="00D!x", refresh_token="5Aep", expires_at=4e9, extra={"instance_url": "https://na1.salesforce.com"}
    )
    with httpx.Client(transport=httpx.MockTransport(org)) as client:
        adapter = SalesforceAdapter(
            Connection(settings={"client_id": DEFAULT_CLIENT_ID}, secrets=tokens.to_secrets()), client=client
        )
        stored = adapter.get_call_log(CallLogRef(adapter_id="salesforce", log_id="00T5e00000XyZ12EAB"))
    assert (stored.subject, stored.duration_seconds, stored.contact_id) == (
        "Outbound call to Ana Diaz",
        95,
        "0035e00000AbCdEAAV",
    )
    assert stored.dispositions == {CALL_RESULT: "Connected", RELATED_TO: None}
    assert stored.version == "2026-09-30T14:07:02.000+0000"
    assert stored.modified_at is not None and stored.modified_at.isoformat() == "2026-09-30T14:07:02+00:00"
    assert adapter.api_usage == (18, 15000)


def test_engine_resolves_a_create_whose_answer_was_lost_without_logging_twice(tmp_path: Path) -> None:
    # Given a create that Salesforce carried out but whose answer never arrived
    world = World(tmp_path)
    h = SalesforceHarness()
    try:
        contact = _contact(h)
        world.add_call(phone=E164, at=0, final_after=30, recording_after=None)
        rc = world.rc()
        engine = world.engine(rc, adapter=h.adapter, recordings_expected=False)
        engine.sync()
        [row] = engine.calls(CallFilter.UNLOGGED)
        h.lose_answer = lambda r: r.url.path.endswith("/composite") and _subrequests(r)[0]["method"] == "POST"
        engine.log_call(row.call_id, Draft(contact_id=contact.id, contact_name=contact.name, note="Call me back"))
        # When the engine retries
        drive(engine, world.clock, rc, until=lambda: all_settled(engine))
        # Then the task was found by its CallObject and completed, not created again
        assert len(h.fake.records["Task"]) == 1
        assert len(_requests(h, "GET", "/query")) >= 1
        [task] = h.fake.records["Task"].values()
        assert "Call me back" in task["Description"] and task["CallObject"] == world.script[0].call.session_id
    finally:
        h.close()


def test_not_signed_in_says_connect_without_sending_anything() -> None:
    seen: list[httpx.Request] = []

    def org(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500)

    with httpx.Client(transport=httpx.MockTransport(org)) as client:
        adapter = SalesforceAdapter(Connection(settings={"client_id": DEFAULT_CLIENT_ID}), client=client)
        with pytest.raises(AuthError, match="Connect Salesforce in Settings"):
            adapter.verify()
        with pytest.raises(AuthError, match="Connect Salesforce in Settings"):
            adapter.find_contact(E164)
    assert seen == []
