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
from adapters.base import (
    AuthError,
    ConflictError,
    Connection,
    NotFound,
    PermissionDenied,
    RateLimited,
    TransientError,
    ValidationError,
    page_fields_for,
)
from adapters.crm.bullhorn import SESSION_MINUTES, BullhornAdapter, UntrustedAddress, sign_in
from adapters.models import CallLogRef, Contact, LogEntry, LogUpdate
from adapters.testing import ContractHarness, CrmAdapterContract, inbound_call, outbound_call, sample_body
from tests.adapters.crm.renewing_harness import RenewingHarness
from tests.fakes.browser import play_browser
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


@pytest.fixture
def bullhorn() -> Iterator[BullhornHarness]:
    h = BullhornHarness()
    yield h
    h.close()


SETTINGS = {"username": USERNAME, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}


def _adapter(fake: BullhornFake, secrets: dict[str, str], http: httpx.Client, **settings: str) -> BullhornAdapter:
    return BullhornAdapter(
        Connection(settings={"username": USERNAME, "client_id": CLIENT_ID, **settings},
                   secrets={"client_secret": CLIENT_SECRET, **secrets}),
        client=http,
        clock=lambda: fake.now.timestamp(),
        sleep=fake.advance,
    )


# --- sign-in -------------------------------------------------------------------------------------


def test_sign_in_finds_the_data_centre_then_trades_the_code_with_the_secret_in_the_query_string() -> None:
    # Given Bullhorn on a real loopback port, the username's data centre known only to loginInfo
    fake = BullhornFake()
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=5) as http:
        fake.serve_at(server.base_url)
        opened: list[str] = []

        def browser(url: str) -> None:
            opened.append(url)
            play_browser(http)(url)

        # When the user signs in through the browser
        secrets = sign_in({**SETTINGS, "api_base_url": server.base_url}, http, open_url=browser, port=0, timeout=10)
        # Then loginInfo came first, the authorize page was the data centre's, without PKCE
        paths = [r.url.path for r in fake.requests]
        assert paths[:3] == ["/rest-services/loginInfo", "/oauth/authorize", "/oauth/token"]
        authorize = httpx.URL(opened[0])
        assert authorize.path == "/oauth/authorize"
        assert set(authorize.params) == {"client_id", "response_type", "redirect_uri", "state"}
        # and the code went to the token endpoint in the query string, with the key's secret
        [token_call] = [r for r in fake.requests if r.url.path == "/oauth/token"]
        assert token_call.content == b""
        assert token_call.url.params["grant_type"] == "authorization_code"
        assert token_call.url.params["client_secret"] == CLIENT_SECRET
        assert token_call.url.params["redirect_uri"] == authorize.params["redirect_uri"]
        tokens = oauth.TokenSet.from_secrets(secrets)
        assert tokens is not None and tokens.refresh_token
        assert (tokens.extra["oauth_url"], tokens.extra["login_url"]) == (fake.oauth_url, fake.login_url)
        assert list(secrets) == ["tokens"], "only the token pair is handed back for the keyring"
        # and the adapter works with what was kept
        adapter = _adapter(fake, secrets, http, api_base_url=server.base_url)
        assert adapter.verify() == "Alex Agent (alex.agent) at Acme Staffing"


def test_sign_in_declined_in_the_browser_says_so() -> None:
    fake = BullhornFake()
    fake.deny_next_authorize = True
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))
    with pytest.raises(oauth.SignInCancelled, match="declined"):
        sign_in(SETTINGS, http, open_url=play_browser(http, lands_on=400), port=0, timeout=10)
    assert not [r for r in fake.requests if r.url.path.endswith("/token")]


def test_sign_in_with_a_wrong_secret_says_to_check_the_client_id_and_secret() -> None:
    fake = BullhornFake()
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))
    with pytest.raises(AuthError) as caught:
        sign_in({**SETTINGS, "client_secret": "wrong"}, http, open_url=play_browser(http), port=0, timeout=10)
    assert "client ID and secret" in caught.value.message
    assert "invalid_client" in (caught.value.vendor_message or "")


def test_sign_in_with_an_unknown_username_names_it_and_opens_no_browser() -> None:
    fake = BullhornFake()
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))
    opened: list[str] = []
    with pytest.raises(AuthError, match="does not know the username 'nobody'"):
        sign_in({**SETTINGS, "username": "nobody"}, http, open_url=opened.append, port=0, timeout=10)
    assert opened == []


@pytest.mark.parametrize(
    ("missing", "words"), [("username", "username"), ("client_id", "client ID"), ("client_secret", "client secret")]
)
def test_sign_in_names_the_setting_that_is_missing_before_anything_is_sent(missing: str, words: str) -> None:
    fake = BullhornFake()
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))
    with pytest.raises(AuthError, match=words):
        sign_in({**SETTINGS, missing: ""}, http, open_url=lambda url: None, port=0, timeout=10)
    assert fake.requests == []


def test_a_key_without_refresh_tokens_is_refused_with_what_to_ask_bullhorn() -> None:
    fake = BullhornFake()
    fake.clients[CLIENT_ID]["refresh_tokens"] = False
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))
    with pytest.raises(AuthError, match="Ask Bullhorn Support to enable refresh tokens"):
        sign_in(SETTINGS, http, open_url=play_browser(http), port=0, timeout=10)


def test_login_info_naming_a_host_that_is_not_bullhorns_gets_nothing_sent() -> None:
    fake = BullhornFake(oauth_url="https://auth.bullhorn-staffing.example/oauth")
    http = httpx.Client(transport=httpx.MockTransport(fake.handler))
    opened: list[str] = []
    with pytest.raises(UntrustedAddress, match="not one of Bullhorn's"):
        sign_in(SETTINGS, http, open_url=opened.append, port=0, timeout=10)
    assert opened == [] and [r.url.path for r in fake.requests] == ["/rest-services/loginInfo"]


# --- data centres and the REST session -------------------------------------------------------------


def test_a_stale_data_centre_answers_307_and_the_login_follows_it_to_the_right_one() -> None:
    # Given a pair whose stored login address is another data centre (Bullhorn moved the account)
    fake = BullhornFake(other_data_centres=("rest-west.bullhornstaffing.com",))
    h = BullhornHarness(fake)
    tokens = h.adapter._tokens.tokens
    assert tokens is not None
    extra = {**tokens.extra, "login_url": "https://rest-west.bullhornstaffing.com/rest-services"}
    h.adapter._tokens.replace(tokens.model_copy(update={"extra": extra}))
    # When the adapter opens its session
    assert h.adapter.verify().startswith("Alex Agent")
    # Then the west data centre's 307 was followed to the east one, once
    logins = [(r.url.host, r.url.path) for r in fake.requests if r.url.path == "/rest-services/login"]
    assert logins == [("rest-west.bullhornstaffing.com", "/rest-services/login"),
                      ("rest-east.bullhornstaffing.com", "/rest-services/login")]


def _stored_hosts(h: BullhornHarness, *, oauth_url: str, login_url: str) -> None:
    tokens = h.adapter._tokens.tokens
    assert tokens is not None
    extra = {**tokens.extra, "oauth_url": oauth_url, "login_url": login_url}
    h.adapter._tokens.replace(tokens.model_copy(update={"extra": extra}))


def test_hosts_that_no_longer_serve_the_account_are_found_again_through_login_info(bullhorn: BullhornHarness) -> None:
    # Given stored addresses of a data centre the account has left (they answer 404)
    gone = ("https://auth-gone.bullhornstaffing.com/oauth", "https://rest-gone.bullhornstaffing.com/rest-services")
    _stored_hosts(bullhorn, oauth_url=gone[0], login_url=gone[1])
    # When the adapter opens its session, and later renews the pair
    assert bullhorn.adapter.verify().startswith("Alex Agent")
    # Then loginInfo named the new hosts, which were used and kept with the session
    paths = [(r.url.host, r.url.path) for r in bullhorn.fake.requests][:3]
    assert paths == [("rest-gone.bullhornstaffing.com", "/rest-services/login"),
                     ("rest.bullhornstaffing.com", "/rest-services/loginInfo"),
                     ("rest-east.bullhornstaffing.com", "/rest-services/login")]
    kept = oauth.TokenSet.from_secrets(bullhorn.saved[-1])
    assert kept is not None and kept.extra["login_url"] == bullhorn.fake.login_url
    assert kept.extra["oauth_url"] == bullhorn.fake.oauth_url
    # And a refresh at a token endpoint that moved is found the same way
    _stored_hosts(bullhorn, oauth_url=gone[0], login_url=bullhorn.fake.login_url)
    bullhorn.fake.expire_sessions()
    bullhorn.fake.requests.clear()
    assert bullhorn.adapter.find_contact(E164) == []
    hosts = [r.url.host for r in bullhorn.fake.requests if r.url.path.endswith(("/token", "/loginInfo"))]
    assert hosts == ["auth-gone.bullhornstaffing.com", "rest.bullhornstaffing.com", "auth-east.bullhornstaffing.com"]
    renewed = bullhorn.adapter._tokens.tokens
    assert renewed is not None and renewed.extra["oauth_url"] == bullhorn.fake.oauth_url


def test_a_redirect_to_a_host_that_is_not_bullhorns_is_not_followed() -> None:
    fake = BullhornFake()
    sent_elsewhere: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "evil.example":
            sent_elsewhere.append(request)
            return httpx.Response(200, json={})
        if request.url.path == "/rest-services/login":
            return httpx.Response(307, headers={"Location": f"https://evil.example/login?{request.url.query.decode()}"})
        return fake.handler(request)

    h = BullhornHarness(fake, client=httpx.Client(transport=httpx.MockTransport(handler)))
    with pytest.raises(UntrustedAddress):
        h.adapter.verify()
    assert sent_elsewhere == []


def test_the_session_is_renewed_before_its_ttl_ends_with_a_rotated_pair_saved_first(
    bullhorn: BullhornHarness,
) -> None:
    # Given a session opened with the ttl the adapter asks for
    bullhorn.adapter.verify()
    [login] = [r for r in bullhorn.fake.requests if r.url.path == "/rest-services/login"]
    assert login.url.params["ttl"] == str(SESSION_MINUTES) and login.url.params["version"] == "2.0"
    first = oauth.TokenSet.from_secrets(bullhorn.saved[-1])
    assert first is not None
    # When the session is about to end (the 10-minute access token ended long ago)
    bullhorn.fake.advance(SESSION_MINUTES * 60 - 60)
    bullhorn.fake.requests.clear()
    contact_id = bullhorn.add_contact("Ada Lovelace", E164)
    assert [c.id for c in bullhorn.adapter.find_contact(E164)] == [contact_id]
    # Then it refreshed the pair, logged in again, and only then asked the API; nothing was refused
    paths = [r.url.path for r in bullhorn.fake.requests]
    assert paths[:3] == ["/oauth/token", "/rest-services/login", "/rest-services/e999/search/ClientContact"]
    assert bullhorn.fake.requests[0].url.params["grant_type"] == "refresh_token"
    kept = [oauth.TokenSet.from_secrets(s) for s in bullhorn.saved]
    assert kept[-2] is not None and kept[-2].refresh_token != first.refresh_token, "the rotated pair, saved first"
    assert kept[-1] is not None and kept[-1].extra["bh_rest_token"] != first.extra["bh_rest_token"]


def test_a_session_ended_early_is_renewed_once_and_the_request_repeated(bullhorn: BullhornHarness) -> None:
    contact_id = bullhorn.add_contact("Ada Lovelace", E164)
    bullhorn.adapter.verify()
    bullhorn.fake.expire_sessions()
    bullhorn.fake.requests.clear()
    assert [c.id for c in bullhorn.adapter.find_contact(E164)] == [contact_id]
    answers = [r.url.path for r in bullhorn.fake.requests][:4]
    assert answers == [
        "/rest-services/e999/search/ClientContact",  # 401: the session ended
        "/oauth/token",  # _login.md: "a refresh token request"
        "/rest-services/login",
        "/rest-services/e999/search/ClientContact",  # the same request again
    ]


def test_a_revoked_key_asks_to_reconnect_in_words(bullhorn: BullhornHarness) -> None:
    bullhorn.adapter.verify()
    bullhorn.fake.revoke_grants()
    with pytest.raises(AuthError) as caught:
        bullhorn.adapter.find_contact(E164)
    assert "Reconnect Bullhorn" in caught.value.message and "Traceback" not in str(caught.value)
    assert "invalid_grant" in (caught.value.vendor_message or "")


def test_a_stored_session_is_used_without_a_new_login(bullhorn: BullhornHarness) -> None:
    bullhorn.adapter.verify()
    again = _adapter(bullhorn.fake, bullhorn.saved[-1], bullhorn.client)
    bullhorn.fake.requests.clear()
    assert again.verify().startswith("Alex Agent")
    assert [r.url.path for r in bullhorn.fake.requests] == [
        "/rest-services/e999/settings/userId,corporationName,commentActionList,isNoteActionRequired",
        "/rest-services/e999/entity/CorporateUser/1001",
    ]


def test_an_access_token_refused_at_login_is_refreshed_once(bullhorn: BullhornHarness) -> None:
    # Given an access token Bullhorn no longer accepts although it has minutes left
    for grant in bullhorn.fake.grants:
        grant.access.clear()
    # When the adapter opens its session: the login answers 400 "Invalid or expired OAuth access token."
    assert bullhorn.adapter.verify().startswith("Alex Agent")
    paths = [r.url.path for r in bullhorn.fake.requests]
    assert paths[:3] == ["/rest-services/login", "/oauth/token", "/rest-services/login"]


def test_sign_out_ends_the_rest_session_and_forgets_the_pair(bullhorn: BullhornHarness) -> None:
    bullhorn.adapter.verify()
    assert len(bullhorn.fake.sessions) == 1
    bullhorn.adapter.sign_out()
    assert bullhorn.fake.sessions == {}
    with pytest.raises(AuthError, match="Not signed in"):
        bullhorn.adapter.verify()


# --- note actions and associations ------------------------------------------------------------------


def _contact(h: BullhornHarness, phone: str = E164, name: str = "Ada Lovelace") -> Contact:
    contact_id = h.add_contact(name, phone)
    return next(c for c in h.adapter.find_contact(phone) if c.id == contact_id)


def _entry(**kw: Any) -> LogEntry:
    return LogEntry(**{"subject": "Inbound call from Ada Lovelace", "body": sample_body("text/html"), **kw})


def test_note_actions_are_the_corporations_own_and_default_per_direction() -> None:
    h = BullhornHarness(BullhornFake(actions=["Outbound call - reached", "Inbound Call", "Screening"],
                                     note_action_required=True))
    try:
        fields = {f.id: f for f in page_fields_for(h.adapter)}
        action = fields["action"]
        assert [o.id for o in action.options] == ["Outbound call - reached", "Inbound Call", "Screening"]
        assert action.required and not action.contact_dependent
        assert action.defaults == {"Inbound": "Inbound Call", "Outbound": "Outbound call - reached"}
        assert fields["related"].contact_dependent
        assert h.adapter.manifest.field("action").options == []  # the static manifest is untouched
        contact = _contact(h)
        assert [o.id for o in contact.options["action"]] == [o.id for o in action.options]
        ref = h.adapter.create_call_log(inbound_call(E164), contact, _entry(dispositions={"action": "Screening"}))
        assert h.read_log_raw(ref)["action"] == "Screening"
    finally:
        h.close()


def test_an_action_outside_the_list_is_refused_in_bullhorns_words(bullhorn: BullhornHarness) -> None:
    contact = _contact(bullhorn)
    with pytest.raises(ValidationError) as caught:
        bullhorn.adapter.create_call_log(inbound_call(E164), contact, _entry(dispositions={"action": "Coffee"}))
    assert caught.value.field == "action"
    assert "commentActionList" in (caught.value.vendor_message or "")
    assert bullhorn.fake.notes() == {}


def test_a_contact_offers_its_open_job_orders_only(bullhorn: BullhornHarness) -> None:
    contact_id = bullhorn.fake.add_contact("Ada Lovelace", E164)
    open_job = bullhorn.fake.add_job_order("Data engineer", contact_id)
    bullhorn.fake.add_job_order("Filled role", contact_id, status="Filled", is_open=False)
    [contact] = bullhorn.adapter.find_contact(E164)
    assert [(o.id, o.label) for o in contact.options["related"]] == [
        (f"JobOrder:{open_job}", "Job: Data engineer (Accepting Candidates)")
    ]


def test_a_candidates_placement_is_linked_by_a_note_entity_and_can_become_a_job(bullhorn: BullhornHarness) -> None:
    # Given a candidate placed in one job and submitted to another
    fake = bullhorn.fake
    client = fake.add_contact("Hiring Manager", "+12125550100")
    placed_job = fake.add_job_order("Analyst", client)
    other_job = fake.add_job_order("Architect", client)
    candidate = fake.add_candidate("Grace Hopper", "(415) 555-0123")
    placement = fake.add_placement(candidate, placed_job)
    fake.add_submission(candidate, other_job, status="Interviewing")
    [found] = bullhorn.adapter.find_contact(E164)
    assert (found.id, found.type) == (str(candidate), "Candidate")
    assert [(o.id, o.label) for o in found.options["related"]] == [
        (f"Placement:{placement}", "Placement: Analyst (Approved)"),
        (f"JobOrder:{other_job}", "Job: Architect (Interviewing)"),
    ]
    # When a call is logged with the placement
    ref = bullhorn.adapter.create_call_log(
        inbound_call(E164), found, _entry(dispositions={"related": f"Placement:{placement}"})
    )
    # Then a NoteEntity ties the note to the placement, and the log reads it back
    links = [(e["targetEntityName"], e["targetEntityID"]) for e in fake.records["NoteEntity"].values()]
    assert ("Placement", placement) in links and ("User", candidate) in links
    assert bullhorn.adapter.get_call_log(ref).dispositions["related"] == f"Placement:{placement}"
    # When the agent relates it to the other job instead, then to nothing
    bullhorn.adapter.upsert_disposition(ref, {"related": f"JobOrder:{other_job}"})
    note = fake.notes()[int(ref.log_id)]
    assert note["jobOrder"] == other_job
    assert not [e for e in fake.records["NoteEntity"].values() if e["targetEntityName"] == "Placement"]
    bullhorn.adapter.upsert_disposition(ref, {"related": None})
    assert note["jobOrder"] is None and bullhorn.adapter.get_call_log(ref).dispositions["related"] is None


def test_a_lead_offers_no_associations(bullhorn: BullhornHarness) -> None:
    lead = bullhorn.fake.add_lead("Katherine Johnson", "757-555-0100")
    [found] = bullhorn.adapter.find_contact("+17575550100")
    assert (found.id, found.type, found.options["related"]) == (str(lead), "Lead", [])


def test_a_related_value_that_is_not_a_job_or_placement_is_refused(bullhorn: BullhornHarness) -> None:
    contact = _contact(bullhorn)
    with pytest.raises(ValidationError) as caught:
        bullhorn.adapter.create_call_log(inbound_call(E164), contact, _entry(dispositions={"related": "deal:7"}))
    assert caught.value.field == "related"


# --- the phone search --------------------------------------------------------------------------------


def test_search_is_one_post_per_kind_of_person_with_every_notation_quoted(bullhorn: BullhornHarness) -> None:
    contact = bullhorn.fake.add_contact("Ada Lovelace", "415.555.0123")
    candidate = bullhorn.fake.add_candidate("Grace Hopper", "+1 415-555-0123", workPhone=None)
    bullhorn.fake.add_candidate("Gone Person", "4155550123", isDeleted=True)
    found = {c.id: c for c in bullhorn.adapter.find_contact(E164)}
    assert set(found) == {str(contact), str(candidate)}
    searches = [r for r in bullhorn.fake.api_requests() if "/search/" in r.url.path]
    assert [r.url.path.rsplit("/", 1)[1] for r in searches] == ["ClientContact", "Candidate", "Lead"]
    query = _json(searches[1])["query"]
    assert query.endswith(") AND isDeleted:0")
    assert 'workPhone:"+14155550123"' in query and 'mobile:"(415) 555-0123"' in query


def test_a_hit_that_only_contains_the_number_is_not_a_match(bullhorn: BullhornHarness) -> None:
    # A Lucene phrase also matches inside a longer value: "415 555 0123" inside another number
    bullhorn.fake.add_contact("Not Ada", "+44 415 555 0123")
    ada = bullhorn.fake.add_contact("Ada Lovelace", "(415) 555-0123")
    assert [c.id for c in bullhorn.adapter.find_contact(E164)] == [str(ada)]


# --- notes --------------------------------------------------------------------------------------------


def test_the_note_holds_the_calls_facts_in_bullhorns_own_fields(bullhorn: BullhornHarness) -> None:
    contact = _contact(bullhorn)
    call = outbound_call(E164, duration=3725)
    ref = bullhorn.adapter.create_call_log(
        call, contact, _entry(subject="Call <Ada> & co", dispositions={"action": "Outbound Call"})
    )
    [create] = [r for r in bullhorn.fake.api_requests() if r.method == "PUT"]
    sent = _json(create)
    assert set(sent) == {"personReference", "commentingPerson", "comments", "dateAdded", "externalID",
                         "minutesSpent", "action"}
    assert sent["personReference"] == {"id": int(contact.id)} and sent["commentingPerson"] == {"id": 1001}
    assert sent["dateAdded"] == int(call.start_time.timestamp() * 1000)
    assert sent["minutesSpent"] == 63  # 62 min 5 s, rounded up to whole minutes
    assert sent["externalID"] == call.session_id
    assert sent["comments"] == "<h3>Call &lt;Ada&gt; &amp; co</h3>" + sample_body("text/html")
    stored = bullhorn.adapter.get_call_log(ref)
    assert (stored.subject, stored.duration_seconds, stored.contact_name) == ("Call <Ada> & co", 3780, "Ada Lovelace")


def test_a_heading_the_editor_decorated_is_still_read_as_the_subject(bullhorn: BullhornHarness) -> None:
    contact = _contact(bullhorn)
    ref = bullhorn.adapter.create_call_log(inbound_call(E164), contact, _entry())
    bullhorn.fake.person_edits(
        int(ref.log_id), comments='<h3 style="color:#333"><span>Renamed &amp; kept</span></h3><p>typed</p>'
    )
    stored = bullhorn.adapter.get_call_log(ref)
    assert (stored.subject, stored.body) == ("Renamed & kept", "<p>typed</p>")


def test_update_reads_right_before_writing_sends_only_changes_and_knows_the_new_version_without_reading_back(
    bullhorn: BullhornHarness,
) -> None:
    contact = _contact(bullhorn)
    ref = bullhorn.adapter.create_call_log(inbound_call(E164), contact, _entry())
    read = bullhorn.adapter.get_call_log(ref)
    bullhorn.fake.requests.clear()
    updated = bullhorn.adapter.update_call_log(ref, LogUpdate(body="<p>new</p>", duration_seconds=61),
                                               expected_version=read.version)
    assert [(r.method, r.url.path) for r in bullhorn.fake.api_requests()] == [
        ("GET", f"/rest-services/e999/entity/Note/{ref.log_id}"),
        ("POST", f"/rest-services/e999/entity/Note/{ref.log_id}"),
    ]
    post = _json(bullhorn.fake.api_requests()[1])
    assert post == {"comments": "<h3>Inbound call from Ada Lovelace</h3><p>new</p>", "minutesSpent": 2}
    assert updated.body == "<p>new</p>" and updated.duration_seconds == 120
    assert updated.version == bullhorn.adapter.get_call_log(ref).version


def test_an_edit_in_the_same_millisecond_between_read_and_write_is_a_conflict(bullhorn: BullhornHarness) -> None:
    # Given a log read by the poller
    contact = _contact(bullhorn)
    ref = bullhorn.adapter.create_call_log(inbound_call(E164), contact, _entry())
    read = bullhorn.adapter.get_call_log(ref)
    # When a person edits it in Bullhorn within the same millisecond (dateLastModified does not move)
    bullhorn.person_edits_log(ref, body=lambda b: b + "<p>Called back, all sorted.</p>")
    assert bullhorn.read_log_raw(ref)["dateLastModified"] == int(read.modified_at.timestamp() * 1000)  # type: ignore[union-attr]
    # Then writing the poller's version is refused and the person's text stays
    with pytest.raises(ConflictError):
        bullhorn.adapter.update_call_log(
            ref, LogUpdate(body=read.body.replace("(pending)", "3 min")), expected_version=read.version
        )
    assert "Called back, all sorted." in bullhorn.read_log_raw(ref)["body"]


def test_a_note_deleted_in_bullhorn_is_not_found(bullhorn: BullhornHarness) -> None:
    contact = _contact(bullhorn)
    ref = bullhorn.adapter.create_call_log(inbound_call(E164), contact, _entry())
    bullhorn.fake.notes()[int(ref.log_id)]["isDeleted"] = True
    with pytest.raises(NotFound, match="deleted"):
        bullhorn.adapter.get_call_log(ref)
    with pytest.raises(NotFound):
        bullhorn.adapter.update_call_log(ref, LogUpdate(body="x"))


def test_find_call_log_takes_the_note_of_this_session_not_another_at_the_same_millisecond(
    bullhorn: BullhornHarness,
) -> None:
    contact = _contact(bullhorn)
    call = inbound_call(E164)
    twin = inbound_call(E164, start_time=call.start_time)  # another session, same start
    bullhorn.adapter.create_call_log(twin, contact, _entry(subject="Twin"))
    mine = bullhorn.adapter.create_call_log(call, contact, _entry(subject="Mine"))
    found = bullhorn.adapter.find_call_log(call)
    assert found is not None and (found.log_id, found.contact_id) == (mine.log_id, contact.id)
    # A note whose externalID a person cleared is still found by the session id in its comments
    note = bullhorn.fake.notes()[int(mine.log_id)]
    note["externalID"] = None
    note["comments"] += f"<br>Session id: {call.session_id}"
    found = bullhorn.adapter.find_call_log(call)
    assert found is not None and found.log_id == mine.log_id
    [query] = [r for r in bullhorn.fake.api_requests() if r.url.path.endswith("/query/Note")][:1]
    assert query.url.params["where"] == (
        f"commentingPerson.id=1001 AND dateAdded={int(call.start_time.timestamp() * 1000)} AND isDeleted=false"
    )


def test_another_users_note_at_the_same_millisecond_is_not_found(bullhorn: BullhornHarness) -> None:
    contact = _contact(bullhorn)
    call = inbound_call(E164)
    ref = bullhorn.adapter.create_call_log(call, contact, _entry())
    colleague = bullhorn.fake.add_colleague("Sam Other", "sam.other")
    bullhorn.fake.notes()[int(ref.log_id)]["commentingPerson"] = colleague
    assert bullhorn.adapter.find_call_log(call) is None


# --- rate limits, errors and slow answers -----------------------------------------------------------


def test_429_without_retry_after_pauses_the_documented_second_then_goes_on(bullhorn: BullhornHarness) -> None:
    contact = _contact(bullhorn)
    bullhorn.fake.inject_failure(429)
    with pytest.raises(RateLimited) as caught:
        bullhorn.adapter.find_contact(E164)
    assert caught.value.retry_after == 1.0  # _errors.md: "Wait 1 second then retry request."
    assert "Wait 1 second" in (caught.value.vendor_message or "")
    before = bullhorn.fake.now
    assert [c.id for c in bullhorn.adapter.find_contact(E164)] == [contact.id]
    assert (bullhorn.fake.now - before).total_seconds() == pytest.approx(1.0), "waited out on the fake clock"


def test_a_longer_retry_after_is_honoured_without_sending_anything(bullhorn: BullhornHarness) -> None:
    contact = _contact(bullhorn)
    bullhorn.fake.inject_failure(429, retry_after=30)
    with pytest.raises(RateLimited):
        bullhorn.adapter.find_contact(E164)
    sent = len(bullhorn.fake.requests)
    with pytest.raises(RateLimited) as caught:
        bullhorn.adapter.find_contact(E164)
    assert caught.value.retry_after == pytest.approx(30)
    assert len(bullhorn.fake.requests) == sent, "nothing may be sent while Bullhorn asked to pause"
    bullhorn.fake.advance(31)
    assert [c.id for c in bullhorn.adapter.find_contact(E164)] == [contact.id]


def test_the_fakes_own_rate_limit_answers_bullhorns_429() -> None:
    h = BullhornHarness(BullhornFake(requests_per_minute=2))
    try:
        h.adapter.verify()  # settings + CorporateUser: the two of this minute
        with pytest.raises(RateLimited) as caught:
            h.adapter.find_contact(E164)
        assert caught.value.status == 429
    finally:
        h.close()


def test_a_validation_error_keeps_bullhorns_words_and_names_the_field(bullhorn: BullhornHarness) -> None:
    contact = _contact(bullhorn)
    bullhorn.fake.inject_failure(400, body={
        "errorMessage": "error persisting an entity of type: Note",
        "errorMessageKey": "errors.cannotPersistEntity",
        "errorCode": 400,
        "errors": [{"propertyName": "comments", "severity": "ERROR", "type": "INVALID_FIELD",
                    "detailMessage": "value too long"}],
    })
    with pytest.raises(ValidationError) as caught:
        bullhorn.adapter.create_call_log(inbound_call(E164), contact, _entry())
    assert caught.value.field == "comments"
    assert caught.value.vendor_message == "error persisting an entity of type: Note (value too long)"


def test_permission_refused_says_what_to_ask_for(bullhorn: BullhornHarness) -> None:
    contact = _contact(bullhorn)
    bullhorn.fake.inject_failure(403)
    with pytest.raises(PermissionDenied, match="Ask your Bullhorn administrator"):
        bullhorn.adapter.create_call_log(inbound_call(E164), contact, _entry())


def test_a_slow_answer_within_the_timeout_arrives_and_a_slower_one_is_transient() -> None:
    fake = BullhornFake()
    with httpx.Client(transport=httpx.MockTransport(fake.handler), timeout=5) as http:
        h = BullhornHarness(fake, client=http)
        fake.delay_next(4)
        assert h.adapter.verify().startswith("Alex Agent")
        fake.delay_next(6)
        with pytest.raises(TransientError, match="did not answer in time"):
            h.adapter.find_contact(E164)


def test_a_timeout_on_a_real_socket_is_transient_and_the_next_request_works() -> None:
    fake = BullhornFake()
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=0.3) as http:
        fake.serve_at(server.base_url)
        h = BullhornHarness(fake, client=http, base_url=server.base_url)
        h.adapter.verify()
        fake.inject_failure("timeout")
        with pytest.raises(TransientError, match="did not answer in time"):
            h.adapter.find_contact(E164)
        assert h.adapter.find_contact(E164) == []


def test_a_signed_out_adapter_asks_to_sign_in() -> None:
    adapter = BullhornAdapter(Connection(settings={"username": USERNAME, "client_id": CLIENT_ID}),
                              client=httpx.Client())
    with pytest.raises(AuthError, match="Sign in to Bullhorn in Settings"):
        adapter.find_contact(E164)


def test_an_address_override_off_loopback_is_refused_before_anything_is_sent(bullhorn: BullhornHarness) -> None:
    tokens = bullhorn.adapter._tokens.tokens
    assert tokens is not None
    adapter = _adapter(bullhorn.fake, tokens.to_secrets(), bullhorn.client, api_base_url="http://bullhorn.example")
    bullhorn.fake.requests.clear()
    with pytest.raises(AuthError, match="api_base_url / LOGDESK_BULLHORN_URL"):
        adapter.verify()
    assert bullhorn.fake.requests == []


def test_the_environment_variable_points_sign_in_and_the_api_at_a_fake_on_loopback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = BullhornFake()
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=5) as http:
        fake.serve_at(server.base_url)
        monkeypatch.setenv("LOGDESK_BULLHORN_URL", server.base_url)
        secrets = sign_in(SETTINGS, http, open_url=play_browser(http), port=0, timeout=10)
        adapter = BullhornAdapter(
            Connection(settings={"username": USERNAME, "client_id": CLIENT_ID},
                       secrets={"client_secret": CLIENT_SECRET, **secrets})
        )
        try:
            assert adapter.verify() == "Alex Agent (alex.agent) at Acme Staffing"
        finally:
            adapter.close()
    assert fake.requests[0].url.path == "/rest-services/loginInfo"


# --- the fake refuses what Bullhorn refuses -------------------------------------------------------------


def _api(h: BullhornHarness, method: str, path: str, **kwargs: Any) -> httpx.Response:
    token, rest_url = h.adapter._session()
    headers = {"BhRestToken": token, **kwargs.pop("headers", {})}
    return h.client.request(method, rest_url + path, headers=headers, **kwargs)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"comments": "x", "personReference": {"id": 1001}, "subject": "x"}, 400, "Invalid field 'subject'"),
        ({"comments": "x", "personReference": {"id": 1001, "personSubtype": "Candidate"}}, 400, "one field, id"),
        ({"comments": "x", "personReference": {"id": 424242}}, 400, "cannot find Person"),
        ({"personReference": {"id": 1001}}, 400, "Missing required field 'comments'"),
        ({"comments": "x", "personReference": {"id": 1001}, "minutesSpent": 1.5}, 400, "whole number"),
        ({"comments": "x", "personReference": {"id": 1001}, "dateAdded": "2026-09-30T14:00:00Z"}, 400,
         "UNIX milliseconds"),
        ({"comments": "x", "personReference": {"id": 1001}, "externalID": "x" * 101}, 400, "longer than 100"),
        ({"comments": "x", "personReference": {"id": 1001}, "candidates": [{"id": 1001}]}, 400, "to-many"),
        ({"comments": "x", "personReference": {"id": 1001}, "dateLastModified": 1}, 400, "read-only"),
    ],
)
def test_the_fake_refuses_a_note_bullhorn_would_refuse(
    bullhorn: BullhornHarness, body: dict[str, Any], status: int, words: str
) -> None:
    answer = _api(bullhorn, "PUT", "entity/Note", json=body)
    assert answer.status_code == status
    assert words in answer.json()["errorMessage"] + json.dumps(answer.json().get("errors", []))
    assert bullhorn.fake.notes() == {}


def test_the_fake_refuses_requests_bullhorn_would_refuse(bullhorn: BullhornHarness) -> None:
    # [authz] no BhRestToken → 412; a wrong one → 401
    _, rest_url = bullhorn.adapter._session()
    assert bullhorn.client.get(rest_url + "ping").status_code == 412
    assert bullhorn.client.get(rest_url + "ping", headers={"BhRestToken": "nope"}).status_code == 401
    # [get] fields=* is blocked; [entity] a field that does not exist → 404; no fields → 400
    assert _api(bullhorn, "GET", "entity/CorporateUser/1001", params={"fields": "*"}).status_code == 400
    assert _api(bullhorn, "GET", "entity/CorporateUser/1001", params={"fields": "id,shoeSize"}).status_code == 404
    assert _api(bullhorn, "GET", "entity/CorporateUser/1001").status_code == 400
    # an undeclared query parameter (here a Zoho-style one) is refused
    answer = _api(bullhorn, "GET", "entity/CorporateUser/1001", params={"fields": "id", "per_page": "5"})
    assert (answer.status_code, answer.json()["errorMessage"]) == (400, "Unknown parameter: per_page")
    # [search] a query outside the understood subset, and a body key besides "query"
    answer = _api(bullhorn, "POST", "search/Candidate", params={"fields": "id"}, json={"query": "phone:+1 415"})
    assert answer.status_code == 400 and "Cannot parse" in answer.json()["errorMessage"]
    answer = _api(bullhorn, "POST", "search/Candidate", params={"fields": "id"}, json={"query": "id:1", "count": 5})
    assert answer.status_code == 400
    # [query] a where clause outside the subset, or naming a property that does not exist
    assert _api(bullhorn, "GET", "query/Note", params={"where": "id LIKE 1", "fields": "id"}).status_code == 400
    assert _api(bullhorn, "GET", "query/Note", params={"where": "shoe.id=1", "fields": "id"}).status_code == 400
    # [ping] answers the session's end
    assert isinstance(_api(bullhorn, "GET", "ping").json()["sessionExpires"], int)


def test_the_fake_reads_token_parameters_from_the_query_string_only() -> None:
    fake = BullhornFake()
    tokens = fake.issue_tokens()
    with httpx.Client(transport=httpx.MockTransport(fake.handler)) as http:
        form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
                "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        assert http.post(f"{fake.oauth_url}/token", data=form).status_code == 401  # no client in the query
        answer = http.post(f"{fake.oauth_url}/token", params=form)
        assert answer.status_code == 200 and answer.json()["refresh_token"] != tokens["refresh_token"]
        # docs/oauth: a refresh token is spent by its first use
        again = http.post(f"{fake.oauth_url}/token", params=form)
        assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_the_fake_serves_demo_data_on_the_port_asked_for() -> None:
    import subprocess
    import sys

    with subprocess.Popen(
        [sys.executable, "-u", "-m", "tests.fakes.bullhorn", "--port", "0"], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            base_url = first.rsplit(" ", 1)[1].strip()
            assert first.startswith("fake Bullhorn listening on http://127.0.0.1:")
            with httpx.Client(timeout=5) as http:
                info = http.get(f"{base_url}/rest-services/loginInfo", params={"username": USERNAME}).json()
            assert info["oauthUrl"] == f"{base_url}/oauth" and info["restUrl"] == f"{base_url}/rest-services"
        finally:
            process.terminate()


# --- the sandbox logging into the fake ------------------------------------------------------------------


def test_the_sandbox_logs_into_the_fake_bullhorn_signed_in_through_settings(
    tmp_path: Any, secret_store: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, preset
    from desktop.app import SANDBOX_CRM_ENV, sandbox_context
    from desktop.settings import AppSettings

    # Given the fake Bullhorn on loopback, and Bullhorn connected in Settings → CRM against it
    fake = BullhornFake()
    contact = fake.add_contact("Ana Diaz", "(415) 555-0123")
    scenario = preset("happy", demo=True)
    scenario = replace(scenario, history=0, delays=replace(scenario.delays, call_interval=None))
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=5) as http:
        fake.serve_at(server.base_url)
        monkeypatch.setenv("LOGDESK_BULLHORN_URL", server.base_url)
        settings = AppSettings()
        settings.crm.settings["bullhorn"] = {"username": USERNAME, "client_id": CLIENT_ID}
        secret_store.set("bullhorn:client_secret", CLIENT_SECRET)
        for key, value in sign_in(SETTINGS, http, open_url=play_browser(http), port=0, timeout=10).items():
            secret_store.set(f"bullhorn:{key}", value)
        signed_in = secret_store.get("bullhorn:tokens")
        for grant in fake.grants:  # the 10-minute access token has ended by the time the sandbox starts
            grant.access.clear()
        # When the sandbox starts with LOGDESK_SANDBOX_CRM=bullhorn
        monkeypatch.setenv(SANDBOX_CRM_ENV, "bullhorn")
        for run in (1, 2):
            account = SandboxAccount(clock=ManualClock(), scenario=scenario, seed=7)
            ctx = sandbox_context(tmp_path, secret_store, settings, account=account)
            try:
                # Then its calls log into the fake, as the saved connection says
                assert isinstance(ctx.adapter, BullhornAdapter)
                assert ctx.adapter.verify() == "Alex Agent (alex.agent) at Acme Staffing"
                assert [c.id for c in ctx.adapter.find_contact(E164)] == [str(contact)]
            finally:
                ctx.close()
            # and the renewed pair and session went back to the keyring: the next start reuses them
            assert secret_store.get("bullhorn:tokens") != signed_in, f"run {run}"
    assert [r.url.path for r in fake.requests].count("/oauth/token") == 2, "one exchange, one refresh"
    assert (tmp_path / "engine-bullhorn.sqlite3").exists()
