# SPDX-License-Identifier: MIT
"""Fixtures: a sandbox account on a manual clock, reached in-process or over loopback sockets."""

from __future__ import annotations

import random
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from adapters.oauth import TokenSet
from adapters.ringcentral.auth import RingCentralAuth
from adapters.ringcentral.client import RingCentralClient
from adapters.ringcentral.sandbox import DESKTOP_CLIENT_ID, ManualClock, SandboxAccount, SandboxServer, connect


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def account(clock: ManualClock) -> Iterator[SandboxAccount]:
    with SandboxAccount(clock=clock, scenario="happy", seed=7) as acc:
        yield acc  # closing stops its WebSocket gateway, if a wstoken started one


@pytest.fixture
def saved() -> list[TokenSet]:
    """Every token pair the client asked the app to persist, in order."""
    return []


@pytest.fixture
def client(account: SandboxAccount, saved: list[TokenSet]) -> Iterator[RingCentralClient]:
    """Signed in through PKCE over the in-process transport."""
    rc = connect(account, save=saved.append)
    yield rc
    rc.close()


@pytest.fixture
def server(account: SandboxAccount) -> Iterator[SandboxServer]:
    with account.serve() as handle:
        yield handle


def follow_like_a_browser(url: str) -> None:
    """What the system browser does: load the authorize page, follow the redirect to the loopback."""
    with httpx.Client(follow_redirects=False, timeout=5) as browser:
        response = browser.get(url)
        assert response.status_code == 302, response.text
        location = response.headers["Location"]
        assert urlsplit(location).hostname == "127.0.0.1"
        browser.get(location)


@pytest.fixture
def socket_http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(2.0)) as http:
        yield http


@pytest.fixture
def socket_client(
    account: SandboxAccount, server: SandboxServer, socket_http: httpx.Client, clock: ManualClock, saved: list[TokenSet]
) -> Iterator[RingCentralClient]:
    """Signed in through the real PKCE flow: browser, loopback listener, code exchange, all sockets."""
    auth = RingCentralAuth(
        server.url, DESKTOP_CLIENT_ID, None, save=saved.append, http=socket_http, clock=clock, sleep=clock.sleep
    )
    auth.sign_in_browser(follow_like_a_browser, port=0, timeout=5)
    rc = RingCentralClient(server.url, auth, client=socket_http, clock=clock, sleep=clock.sleep, rng=random.Random(3))
    yield rc
    rc.close()
