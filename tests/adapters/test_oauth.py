# SPDX-License-Identifier: MIT
"""The generic OAuth 2.0 + PKCE toolkit: PKCE values, the loopback receiver, token calls, refresh."""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.base import AuthError, MalformedResponse, RateLimited, TransientError
from adapters.oauth import (
    LoopbackReceiver,
    OAuthEndpoints,
    SignInCancelled,
    SignInTimeout,
    StateMismatch,
    TokenManager,
    TokenSaveFailed,
    TokenSet,
    build_authorize_url,
    exchange_code,
    make_challenge,
    make_state,
    make_verifier,
    refresh_tokens,
    revoke_token,
    sign_in,
)

ENDPOINTS = OAuthEndpoints(
    authorize_url="https://auth.example/authorize",
    token_url="https://auth.example/token",
    revoke_url="https://auth.example/revoke",
    client_id="app-123",
)


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FakeTokenServer:
    """A token endpoint that validates like a vendor: PKCE S256, single-use codes, rotation."""

    def __init__(self) -> None:
        self.codes: dict[str, tuple[str, str]] = {}  # code -> (challenge, redirect_uri)
        self.refresh_tokens: set[str] = set()
        self.revoked: list[str] = []
        self.counter = 0
        self.requests: list[httpx.Request] = []
        self.fail_next: httpx.Response | None = None

    def issue(self) -> dict[str, Any]:
        self.counter += 1
        rt = f"rt-{self.counter}"
        self.refresh_tokens.add(rt)
        return {
            "access_token": f"at-{self.counter}",
            "refresh_token": rt,
            "expires_in": 3600,
            "refresh_token_expires_in": 604800,
            "token_type": "bearer",
            "scope": "ReadCallLog",
            "owner_id": "400200000001",
        }

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail_next is not None:
            response, self.fail_next = self.fail_next, None
            return response
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("client_id") != "app-123":
            return httpx.Response(401, json={"error": "invalid_client", "error_description": "Invalid client"})
        if request.url.path == "/revoke":
            self.revoked.append(form["token"])
            return httpx.Response(200)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            entry = self.codes.pop(form.get("code", ""), None)
            if entry is None:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "Invalid code"})
            challenge, redirect = entry
            if make_challenge(form.get("code_verifier", "")) != challenge:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "PKCE failed"})
            if form.get("redirect_uri") != redirect:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "Redirect URIs differ"})
            return httpx.Response(200, json=self.issue())
        if grant == "refresh_token":
            rt = form.get("refresh_token", "")
            if rt not in self.refresh_tokens:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "Token is revoked"})
            self.refresh_tokens.discard(rt)
            return httpx.Response(200, json=self.issue())
        return httpx.Response(400, json={"error": "unsupported_grant_type"})


@pytest.fixture
def server() -> FakeTokenServer:
    return FakeTokenServer()


@pytest.fixture
def http(server: FakeTokenServer) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(server.handler)) as client:
        yield client


def test_verifier_is_url_safe_and_within_rfc_length() -> None:
    verifier = make_verifier()
    assert 43 <= len(verifier) <= 128
    assert set(verifier) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert make_verifier() != verifier


def test_challenge_matches_rfc7636_example() -> None:
    # RFC 7636 appendix B.
    assert (
        make_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_challenge_is_unpadded_sha256() -> None:
    verifier = make_verifier()
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    assert make_challenge(verifier) == expected


def test_authorize_url_carries_pkce_state_and_redirect() -> None:
    url = build_authorize_url(
        ENDPOINTS, redirect_uri="http://127.0.0.1:5000/callback", state="st", code_challenge="ch", extra={"x": "1"}
    )
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert parts.netloc == "auth.example" and parts.path == "/authorize"
    assert query == {
        "response_type": "code",
        "client_id": "app-123",
        "redirect_uri": "http://127.0.0.1:5000/callback",
        "state": "st",
        "code_challenge": "ch",
        "code_challenge_method": "S256",
        "x": "1",
    }


def test_receiver_returns_code_and_tells_browser_to_close_tab() -> None:
    with LoopbackReceiver("s1", port=0) as receiver:
        reply = httpx.get(f"{receiver.redirect_uri}?code=abc&state=s1")
        assert receiver.wait(5) == "abc"
    assert reply.status_code == 200
    assert "close this tab" in reply.text


def test_receiver_rejects_state_mismatch() -> None:
    with LoopbackReceiver("expected", port=0) as receiver:
        reply = httpx.get(f"{receiver.redirect_uri}?code=abc&state=forged")
        with pytest.raises(StateMismatch):
            receiver.wait(5)
    assert reply.status_code == 400


def test_receiver_reports_access_denied_as_cancelled() -> None:
    with LoopbackReceiver("s", port=0) as receiver:
        httpx.get(f"{receiver.redirect_uri}?error=access_denied&error_description=User+declined&state=s")
        with pytest.raises(SignInCancelled) as info:
            receiver.wait(5)
    assert info.value.vendor_message == "User declined"


def test_receiver_ignores_other_paths_until_the_redirect() -> None:
    with LoopbackReceiver("s", port=0, path="/cb") as receiver:
        assert httpx.get(f"http://127.0.0.1:{receiver.port}/favicon.ico").status_code == 404
        httpx.get(f"{receiver.redirect_uri}?code=c&state=s")
        assert receiver.wait(5) == "c"


def test_receiver_times_out_with_clear_error() -> None:
    with LoopbackReceiver("s", port=0) as receiver, pytest.raises(SignInTimeout, match="not completed"):
        receiver.wait(0.01)


def test_receiver_cancel_unblocks_wait_from_another_thread() -> None:
    with LoopbackReceiver("s", port=0) as receiver:
        threading.Thread(target=receiver.cancel).start()
        with pytest.raises(SignInCancelled):
            receiver.wait(30)


def test_receiver_on_busy_port_raises_auth_error() -> None:
    with LoopbackReceiver("s", port=0) as first, pytest.raises(AuthError, match="in use"):
        LoopbackReceiver("s", port=first.port)


def test_sign_in_runs_the_whole_pkce_flow(server: FakeTokenServer, http: httpx.Client) -> None:
    clock = FakeClock()

    def browser(url: str) -> None:
        # What the vendor's page does: remember the challenge, redirect to the loopback with a code.
        query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert query["code_challenge_method"] == "S256"
        server.codes["the-code"] = (query["code_challenge"], query["redirect_uri"])
        httpx.get(query["redirect_uri"], params={"code": "the-code", "state": query["state"]})

    tokens = sign_in(ENDPOINTS, http, open_url=browser, port=0, timeout=5, clock=clock)
    assert tokens.access_token == "at-1"
    assert tokens.expires_at == clock.now + 3600
    assert tokens.extra["owner_id"] == "400200000001"
    token_request = server.requests[-1]
    assert "Authorization" not in token_request.headers  # a public client sends no secret


def test_exchange_with_wrong_verifier_is_auth_error(server: FakeTokenServer, http: httpx.Client) -> None:
    server.codes["c"] = (make_challenge("right-verifier-right-verifier-right-verifier"), "http://127.0.0.1:1/cb")
    with pytest.raises(AuthError, match="Reconnect"):
        exchange_code(ENDPOINTS, http, code="c", verifier="wrong" * 10, redirect_uri="http://127.0.0.1:1/cb")


def test_confidential_client_sends_basic_auth(server: FakeTokenServer, http: httpx.Client) -> None:
    endpoints = ENDPOINTS.model_copy(update={"client_secret": "shh"})
    server.refresh_tokens.add("rt-x")
    refresh_tokens(endpoints, http, TokenSet(access_token="a", refresh_token="rt-x"))
    assert server.requests[-1].headers["Authorization"] == "Basic " + base64.b64encode(b"app-123:shh").decode()


def test_refresh_keeps_old_refresh_token_when_vendor_does_not_rotate(http: httpx.Client) -> None:
    def no_rotation(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": "new", "instance_url": "https://na1.example"})

    with httpx.Client(transport=httpx.MockTransport(no_rotation)) as client:
        old = TokenSet(access_token="old", refresh_token="keep", extra={"instance_url": "https://na0.example"})
        new = refresh_tokens(ENDPOINTS, client, old)
    assert new.refresh_token == "keep"
    assert new.extra["instance_url"] == "https://na1.example"


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(400, json={"error": "invalid_grant"}), AuthError),
        (httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "rate"}), RateLimited),
        (httpx.Response(503, text="<html>down</html>"), TransientError),
        (httpx.Response(200, text="not json"), MalformedResponse),
        (httpx.Response(200, json={"token_type": "bearer"}), MalformedResponse),
        (httpx.Response(200, json={"access_token": "a", "expires_in": "soon"}), MalformedResponse),
    ],
)
def test_token_endpoint_failures_map_to_adapter_errors(
    server: FakeTokenServer, http: httpx.Client, response: httpx.Response, error: type[Exception]
) -> None:
    server.fail_next = response
    with pytest.raises(error):
        refresh_tokens(ENDPOINTS, http, TokenSet(access_token="a", refresh_token="r"))


def test_rate_limited_token_call_carries_retry_after(server: FakeTokenServer, http: httpx.Client) -> None:
    server.fail_next = httpx.Response(429, headers={"Retry-After": "7"}, json={"error": "slow down"})
    with pytest.raises(RateLimited) as info:
        refresh_tokens(ENDPOINTS, http, TokenSet(access_token="a", refresh_token="r"))
    assert info.value.retry_after == 7


def test_timeout_on_token_call_is_transient() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with httpx.Client(transport=httpx.MockTransport(hang)) as client, pytest.raises(TransientError):
        refresh_tokens(ENDPOINTS, client, TokenSet(access_token="a", refresh_token="r"))


def test_revoke_sends_token_and_swallows_failure(server: FakeTokenServer, http: httpx.Client) -> None:
    assert revoke_token(ENDPOINTS, http, "rt-9") is True
    assert server.revoked == ["rt-9"]
    server.fail_next = httpx.Response(500)
    assert revoke_token(ENDPOINTS, http, "rt-10") is False


def test_token_set_round_trips_through_secret_mapping() -> None:
    tokens = TokenSet(access_token="AT-SECRET", refresh_token="RT-SECRET", expires_at=5.0, extra={"api_domain": "x"})
    assert TokenSet.from_secrets(tokens.to_secrets("zoho:"), "zoho:") == tokens
    assert TokenSet.from_secrets({"tokens": "{broken"}) is None
    assert "SECRET" not in repr(tokens)


def _manager(server: FakeTokenServer, http: httpx.Client, clock: FakeClock, saved: list[TokenSet]) -> TokenManager:
    first = TokenSet.from_response(server.issue(), now=clock())
    return TokenManager(
        first,
        refresh=lambda t: refresh_tokens(ENDPOINTS, http, t, clock=clock),
        save=saved.append,
        clock=clock,
        margin=60,
    )


def test_manager_refreshes_ahead_of_expiry_and_saves_before_use(server: FakeTokenServer, http: httpx.Client) -> None:
    clock = FakeClock()
    saved: list[TokenSet] = []
    manager = _manager(server, http, clock, saved)
    assert manager.access_token() == "at-1"
    assert saved == []
    clock.now += 3600 - 59
    assert manager.access_token() == "at-2"
    assert [t.access_token for t in saved] == ["at-2"]
    assert "rt-1" not in server.refresh_tokens  # the old one was spent


def test_manager_refreshes_once_for_many_threads(server: FakeTokenServer, http: httpx.Client) -> None:
    clock = FakeClock()
    saved: list[TokenSet] = []
    manager = _manager(server, http, clock, saved)
    clock.now += 4000
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(manager.access_token())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["at-2"] * 8
    assert manager.refresh_count == 1


def test_manager_refresh_after_401_skips_when_another_thread_already_refreshed(
    server: FakeTokenServer, http: httpx.Client
) -> None:
    clock = FakeClock()
    manager = _manager(server, http, clock, [])
    assert manager.refresh_after_rejection("at-1") == "at-2"
    assert manager.refresh_after_rejection("at-1") == "at-2"
    assert manager.refresh_count == 1


def test_manager_refuses_to_loop_on_a_fresh_token_that_is_rejected(server: FakeTokenServer, http: httpx.Client) -> None:
    clock = FakeClock()
    manager = _manager(server, http, clock, [])
    token = manager.refresh_after_rejection("at-1")
    with pytest.raises(AuthError):
        manager.refresh_after_rejection(token, min_age=60)


def test_manager_invalid_grant_says_reconnect(server: FakeTokenServer, http: httpx.Client) -> None:
    clock = FakeClock()
    manager = _manager(server, http, clock, [])
    server.refresh_tokens.clear()  # revoked elsewhere
    clock.now += 4000
    with pytest.raises(AuthError, match="Reconnect"):
        manager.access_token()


def test_manager_keeps_new_pair_in_memory_when_save_fails(server: FakeTokenServer, http: httpx.Client) -> None:
    clock = FakeClock()

    def broken_save(tokens: TokenSet) -> None:
        raise OSError("keyring locked")

    first = TokenSet.from_response(server.issue(), now=clock())
    manager = TokenManager(
        first, refresh=lambda t: refresh_tokens(ENDPOINTS, http, t, clock=clock), save=broken_save, clock=clock
    )
    clock.now += 4000
    with pytest.raises(TokenSaveFailed):
        manager.access_token()
    assert manager.access_token() == "at-2"  # no second refresh: rt-1 is spent, rt-2 lives in memory
    assert manager.refresh_count == 1


def test_manager_signed_out_raises_auth_error(server: FakeTokenServer, http: httpx.Client) -> None:
    clock = FakeClock()
    manager = TokenManager(
        TokenSet.from_response(server.issue(), now=clock()),
        refresh=lambda t: refresh_tokens(ENDPOINTS, http, t, clock=clock),
        save=lambda t: None,
        clock=clock,
        revoke=lambda t: revoke_token(ENDPOINTS, http, t.refresh_token or ""),
    )
    manager.sign_out()
    assert server.revoked == ["rt-1"]
    with pytest.raises(AuthError, match="Not signed in"):
        manager.access_token()


def test_make_state_is_unguessable() -> None:
    assert len({make_state() for _ in range(50)}) == 50
