# SPDX-License-Identifier: MIT
"""RingCentral sign-in: browser PKCE over sockets, consent denied, JWT grant, thread-safe refresh."""

from __future__ import annotations

import threading

import httpx
import pytest

from adapters.base import AuthError
from adapters.oauth import SignInCancelled, TokenSet
from adapters.ringcentral.auth import RingCentralAuth
from adapters.ringcentral.client import RingCentralClient
from adapters.ringcentral.sandbox import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    DESKTOP_CLIENT_ID,
    PLATFORM_BASE,
    ManualClock,
    SandboxAccount,
    SandboxServer,
    connect,
)

from .conftest import follow_like_a_browser


def test_declined_consent_in_the_browser_is_sign_in_cancelled(
    account: SandboxAccount, server: SandboxServer, socket_http: httpx.Client, clock: ManualClock
) -> None:
    account.deny_consent = True
    saved: list[TokenSet] = []
    auth = RingCentralAuth(server.url, DESKTOP_CLIENT_ID, None, save=saved.append, http=socket_http, clock=clock)
    with pytest.raises(SignInCancelled):
        auth.sign_in_browser(follow_like_a_browser, port=0, timeout=5)
    assert saved == [] and not auth.signed_in


def test_unregistered_client_id_fails_sign_in(
    server: SandboxServer, socket_http: httpx.Client, clock: ManualClock
) -> None:
    auth = RingCentralAuth(server.url, "not-registered", None, save=lambda t: None, http=socket_http, clock=clock)

    def browser(url: str) -> None:
        # The authorize page shows an error instead of redirecting; the user gives up.
        assert socket_http.get(url).status_code == 400

    with pytest.raises(AuthError):
        auth.sign_in_browser(browser, port=0, timeout=0.2)


def test_jwt_grant_signs_in_an_admin_tool(account: SandboxAccount, clock: ManualClock) -> None:
    with httpx.Client(transport=account.transport()) as http:
        saved: list[TokenSet] = []
        auth = RingCentralAuth(
            PLATFORM_BASE,
            ADMIN_CLIENT_ID,
            None,
            save=saved.append,
            http=http,
            client_secret=ADMIN_CLIENT_SECRET,
            clock=clock,
        )
        auth.sign_in_jwt(account.make_jwt())
        rc = RingCentralClient(PLATFORM_BASE, auth, client=http, clock=clock, sleep=clock.sleep)
        assert rc.get_extension().extension_number == "101"
        assert len(saved) == 1
        with pytest.raises(AuthError, match="Reconnect"):
            auth.sign_in_jwt("forged.jwt.value")


def test_jwt_grant_without_a_secret_is_refused_locally(account: SandboxAccount) -> None:
    with httpx.Client(transport=account.transport()) as http:
        auth = RingCentralAuth(PLATFORM_BASE, DESKTOP_CLIENT_ID, None, save=lambda t: None, http=http)
        with pytest.raises(AuthError, match="client secret"):
            auth.sign_in_jwt(account.make_jwt())
    assert account.request_count(path_contains="/oauth") == 0


def test_many_threads_near_expiry_cause_exactly_one_refresh(
    client: RingCentralClient, account: SandboxAccount, saved: list[TokenSet]
) -> None:
    account.advance(3600 - 60)
    errors: list[Exception] = []

    def work() -> None:
        try:
            client.get_extension()
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert client.auth.refresh_count == 1
    assert len(saved) == 2
    assert account.request_count(path_contains="/oauth/token") == 2  # sign-in + one refresh
    assert account.request_count(status=401) == 0


def test_refresh_token_expired_means_reconnect(clock: ManualClock) -> None:
    account = SandboxAccount(clock=clock, seed=1)
    rc = connect(account)
    account.advance(604800 + 10)
    with pytest.raises(AuthError, match="Reconnect"):
        rc.get_extension()
    rc.close()


def test_from_settings_reads_the_secret_store_and_writes_rotated_pairs_back(
    account: SandboxAccount, clock: ManualClock, secret_store: object
) -> None:
    from desktop.secrets import MemorySecretStore
    from desktop.settings import RingCentralSettings

    assert isinstance(secret_store, MemorySecretStore)
    with httpx.Client(transport=account.transport()) as http:
        first = connect(account, http=http, server_url=PLATFORM_BASE)
        stored = first.auth.tokens
        assert stored is not None
        secret_store.set("ringcentral:tokens", stored.model_dump_json())
        settings = RingCentralSettings(server=PLATFORM_BASE, client_id=DESKTOP_CLIENT_ID)
        rc = RingCentralClient.from_settings(settings, secret_store, http=http, clock=clock, sleep=clock.sleep)
        sent = len(account.requests)
        assert rc.extension_id() == "400200000001"
        assert len(account.requests) == sent  # known from the token pair, no request
        account.advance(3600)
        rc.get_extension()
        rotated = TokenSet.model_validate_json(secret_store.get("ringcentral:tokens") or "")
        assert rotated.access_token != stored.access_token
        assert rotated.access_token == rc.auth.access_token()


def test_jwt_mode_signs_in_again_instead_of_asking_to_reconnect(
    account: SandboxAccount, clock: ManualClock, secret_store: object
) -> None:
    from desktop.secrets import MemorySecretStore
    from desktop.settings import RingCentralSettings

    assert isinstance(secret_store, MemorySecretStore)
    secret_store.set("ringcentral:jwt", account.make_jwt())
    secret_store.set("ringcentral:client_secret", ADMIN_CLIENT_SECRET)
    settings = RingCentralSettings(server=PLATFORM_BASE, client_id=ADMIN_CLIENT_ID, auth_mode="jwt")
    with httpx.Client(transport=account.transport()) as http:
        rc = RingCentralClient.from_settings(settings, secret_store, http=http, clock=clock, sleep=clock.sleep)
        assert rc.get_extension().id == "400200000001"  # no stored pair: JWT sign-in on first use
        account.advance(120)
        account.revoke_all_sessions()
        assert rc.get_extension().id == "400200000001"  # session gone: JWT again, no reconnect
        assert account.request_count(path_contains="/oauth/token", status=200) == 2
        assert secret_store.get("ringcentral:tokens")


def test_429_on_refresh_pauses_the_auth_group(client: RingCentralClient, account: SandboxAccount) -> None:
    from adapters.base import RateLimited
    from adapters.ringcentral.ratelimit import Group

    account.advance(3600 - 30)
    account.inject("other-limit", path_contains="/oauth/token")
    with pytest.raises(RateLimited) as info:
        client.get_extension()
    assert info.value.retry_after == 5
    status = client.rate_limit_status()[Group.AUTH]
    assert status.paused and status.wait == pytest.approx(5)
    account.advance(5)
    assert client.get_extension().id == "400200000001"  # the old refresh token still works
