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
    auth = RingCentralAuth(PLATFORM_BASE, DESKTOP_CLIENT_ID, None, save=lambda t: None, http=httpx.Client())
    with pytest.raises(AuthError, match="client secret"):
        auth.sign_in_jwt(account.make_jwt())
    auth.close()


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
