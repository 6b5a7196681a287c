# SPDX-License-Identifier: MIT
"""OAuthSession: authorised requests with one renewal on a refused token, persistence, sign-out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from adapters.base import AdapterError, AuthError, NotFound, PermissionDenied, RateLimited
from adapters.oauth import OAuthEndpoints, TokenSet
from adapters.oauth_session import OAuthSession
from adapters.throttle import Throttle

VENDOR = "Acme CRM"
ENDPOINTS = OAuthEndpoints(
    authorize_url="https://accounts.acme.example/oauth/authorize",
    token_url="https://accounts.acme.example/oauth/token",
    revoke_url="https://accounts.acme.example/oauth/revoke",
    client_id="app-1",
)
NOW = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeVendor:
    """A token endpoint that rotates single-use refresh tokens, and an API that accepts only the
    access token issued last (unless every token is refused, as after a revoked grant)."""

    def __init__(self, saved: list[Mapping[str, str]]) -> None:
        self.saved = saved
        self.issued = 1
        self.access = "at-1"
        self.refresh = "rt-1"
        self.refuse_every_token = False
        self.token_calls = 0
        self.revoked: list[str] = []
        self.api_calls: list[httpx.Request] = []
        #: For each API call: the access token the app had persisted when the call arrived.
        self.persisted_at_call: list[str | None] = []
        self.next_api_response: httpx.Response | None = None
        self.host_after_refresh: str | None = None

    def handler(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "accounts.acme.example":
            return self._accounts(request)
        return self._api(request)

    def _accounts(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST"
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if request.url.path == "/oauth/revoke":
            self.revoked.append(form["token"])
            return httpx.Response(200)
        assert request.url.path == "/oauth/token"
        self.token_calls += 1
        if form.get("client_id") != "app-1" or form.get("grant_type") != "refresh_token":
            return httpx.Response(400, json={"error": "invalid_request"})
        if form.get("refresh_token") != self.refresh:  # spent or unknown: single use
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "token spent"})
        self.issued += 1
        self.access, self.refresh = f"at-{self.issued}", f"rt-{self.issued}"
        body: dict[str, Any] = {"access_token": self.access, "refresh_token": self.refresh, "expires_in": 3600}
        if self.host_after_refresh:
            body["api_host"] = self.host_after_refresh
        return httpx.Response(200, json=body)

    def _api(self, request: httpx.Request) -> httpx.Response:
        self.api_calls.append(request)
        stored = TokenSet.from_secrets(self.saved[-1]) if self.saved else None
        self.persisted_at_call.append(stored.access_token if stored else None)
        if self.next_api_response is not None:
            response, self.next_api_response = self.next_api_response, None
            return response
        if self.refuse_every_token or request.headers.get("Authorization") != f"Bearer {self.access}":
            return httpx.Response(401, json={"message": "INVALID_TOKEN"})
        return httpx.Response(200, json={"ok": True})


def stored_secrets(*, access: str = "at-1", refresh: str = "rt-1", expires_at: float | None = NOW + 3600) -> Any:
    return TokenSet(access_token=access, refresh_token=refresh, expires_at=expires_at).to_secrets()


@pytest.fixture
def saved() -> list[Mapping[str, str]]:
    return []


@pytest.fixture
def vendor(saved: list[Mapping[str, str]]) -> FakeVendor:
    return FakeVendor(saved)


@pytest.fixture
def http(vendor: FakeVendor) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(vendor.handler)) as client:
        yield client


def make_session(http: httpx.Client, saved: list[Mapping[str, str]], **kwargs: Any) -> OAuthSession:
    options: dict[str, Any] = {
        "endpoints": lambda: ENDPOINTS,
        "client": http,
        "save_secrets": saved.append,
        "clock": FakeClock(),
    }
    options.update(kwargs)
    secrets = options.pop("secrets", stored_secrets())
    return OAuthSession(VENDOR, secrets, **options)


API = "https://api.acme.example/v1/me"


def test_401_refreshes_once_and_repeats_the_request(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    session = make_session(http, saved)
    vendor.access = "at-elsewhere"  # the stored token was replaced elsewhere before it expired

    response = session.send("GET", API)

    assert response.json() == {"ok": True}
    assert vendor.token_calls == 1
    assert [r.headers["Authorization"] for r in vendor.api_calls] == ["Bearer at-1", "Bearer at-2"]
    assert session.manager.refresh_count == 1


def test_rotated_pair_is_persisted_before_the_new_token_is_used(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    session = make_session(http, saved)
    vendor.access = "at-elsewhere"

    session.send("GET", API)

    assert vendor.persisted_at_call == [None, "at-2"]
    persisted = TokenSet.from_secrets(saved[-1])
    assert persisted is not None and persisted.refresh_token == "rt-2"
    assert session.tokens == persisted


def test_second_401_raises_auth_error_asking_to_reconnect(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    session = make_session(http, saved)
    vendor.refuse_every_token = True

    with pytest.raises(
        AuthError, match=r"Acme CRM no longer accepts this sign-in\. Reconnect Acme CRM in Settings"
    ) as e:
        session.send("GET", API)

    assert e.value.status == 401
    assert e.value.vendor_message == "INVALID_TOKEN"
    assert vendor.token_calls == 1  # renewed once, never twice
    assert len(vendor.api_calls) == 2


def test_refused_renewal_raises_its_own_auth_error_without_repeating(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    session = make_session(http, saved)
    vendor.access, vendor.refresh = "at-elsewhere", "rt-elsewhere"  # our refresh token is spent

    with pytest.raises(AuthError, match="expired or was revoked"):
        session.send("GET", API)

    assert len(vendor.api_calls) == 1
    assert saved == []


def test_an_error_that_is_not_a_refusal_is_raised_without_renewing(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    session = make_session(http, saved)
    vendor.next_api_response = httpx.Response(404, json={"message": "no such record"})

    with pytest.raises(NotFound):
        session.send("GET", API)

    assert vendor.token_calls == 0


def test_remap_reads_other_errors_and_refused_decides_what_is_renewed(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    def remap(exc: AdapterError) -> AdapterError:
        return PermissionDenied("scope missing", vendor_message=exc.vendor_message, status=exc.status)

    session = make_session(http, saved)
    vendor.next_api_response = httpx.Response(401, json={"message": "OAUTH_SCOPE_MISMATCH"})

    with pytest.raises(PermissionDenied, match="scope missing"):
        session.send("GET", API, refused=lambda exc: exc.vendor_message == "INVALID_TOKEN", remap=remap)

    assert vendor.token_calls == 0


def test_url_function_is_asked_again_for_the_repeat(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    session = make_session(http, saved)
    vendor.access = "at-elsewhere"
    vendor.host_after_refresh = "https://api2.acme.example"

    def url() -> str:
        tokens = session.tokens
        host = tokens.extra.get("api_host") if tokens else None
        return f"{host or 'https://api.acme.example'}/v1/me"

    session.send("GET", url)

    assert [r.url.host for r in vendor.api_calls] == ["api.acme.example", "api2.acme.example"]


def test_scheme_and_extra_headers_are_sent(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    session = make_session(http, saved)
    vendor.next_api_response = httpx.Response(200, json={})

    session.send("PATCH", API, scheme="Zoho-oauthtoken", headers={"If-Match": '"e1"'}, json={"a": 1})

    sent = vendor.api_calls[0]
    assert sent.headers["Authorization"] == "Zoho-oauthtoken at-1"
    assert sent.headers["Accept"] == "application/json"
    assert sent.headers["If-Match"] == '"e1"'
    assert sent.content == b'{"a":1}'


def test_retry_after_pauses_the_throttle_and_a_long_pause_raises_without_sending(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    clock = FakeClock(0.0)
    throttle = Throttle(clock=clock, sleep=lambda s: None, max_wait=2.0)
    session = make_session(http, saved, throttle=throttle)
    vendor.next_api_response = httpx.Response(429, headers={"Retry-After": "30"})

    with pytest.raises(RateLimited) as first:
        session.send("GET", API)
    with pytest.raises(RateLimited, match="Acme CRM asked to pause") as second:
        session.send("GET", API)

    assert first.value.retry_after == 30.0
    assert second.value.retry_after == 30.0
    assert len(vendor.api_calls) == 1


def test_complete_is_applied_to_the_stored_and_the_renewed_pair(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    def complete(tokens: TokenSet) -> TokenSet:
        return tokens.model_copy(update={"extra": {**tokens.extra, "completed": "yes"}})

    session = make_session(http, saved, complete=complete)
    assert session.tokens is not None and session.tokens.extra["completed"] == "yes"
    vendor.access = "at-elsewhere"

    session.send("GET", API)

    persisted = TokenSet.from_secrets(saved[-1])
    assert persisted is not None and persisted.access_token == "at-2" and persisted.extra["completed"] == "yes"


def test_sign_out_revokes_the_chosen_token_and_forgets_the_pair(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    session = make_session(http, saved, revocable=lambda tokens: tokens.refresh_token)

    session.sign_out()

    assert vendor.revoked == ["rt-1"]
    assert session.tokens is None
    with pytest.raises(AuthError, match="Not signed in"):
        session.send("GET", API)
    assert vendor.api_calls == []


def test_without_a_stored_pair_requests_say_not_signed_in(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    session = make_session(http, saved, secrets={})

    with pytest.raises(AuthError, match="Not signed in"):
        session.send("GET", API)
    session.sign_out()

    assert vendor.revoked == []


def test_close_closes_only_a_client_the_session_built(http: httpx.Client, saved: list[Mapping[str, str]]) -> None:
    injected = make_session(http, saved)
    built = make_session(http, saved, client=None)

    injected.close()
    built.close()

    assert not http.is_closed
    assert built.http.is_closed


def test_a_vendor_refresh_call_replaces_the_standard_one_and_its_pair_is_persisted(
    vendor: FakeVendor, http: httpx.Client, saved: list[Mapping[str, str]]
) -> None:
    # Given a vendor whose token endpoint takes its parameters elsewhere (Bullhorn: the query string)
    calls: list[TokenSet] = []

    def vendor_refresh(current: TokenSet) -> TokenSet:
        calls.append(current)
        vendor.issued += 1
        vendor.access = f"at-{vendor.issued}"
        return TokenSet(access_token=vendor.access, refresh_token=f"rt-{vendor.issued}", expires_at=NOW + 600)

    session = make_session(http, saved, refresh=vendor_refresh)
    vendor.access = "at-elsewhere"
    # When the API refuses the stored token
    assert session.send("GET", API).json() == {"ok": True}
    # Then the vendor's call renewed it (never the standard form POST), and the pair was kept first
    assert [t.refresh_token for t in calls] == ["rt-1"]
    assert vendor.token_calls == 0
    persisted = TokenSet.from_secrets(saved[-1])
    assert persisted is not None and persisted.access_token == "at-2" and session.tokens == persisted
