# SPDX-License-Identifier: MIT
"""A simulated RingCentral account: the same REST API, in-process or on loopback sockets.

Quick use::

    from adapters.ringcentral.sandbox import SandboxAccount, connect

    account = SandboxAccount(scenario="happy", seed=1)      # manual clock
    client = connect(account)                               # signed in through PKCE, in-process
    account.place_call("inbound")
    account.advance(30)
    result = client.sync_call_log(None)

    with account.serve() as server:                         # real sockets on 127.0.0.1
        print(server.url, server.media_url)

Live calls and push events::

    events = RingCentralEvents(client, on_event=..., on_status=..., on_gap=...)
    events.start()                       # wstoken → the account's WebSocket gateway on loopback
    call = account.ring_call("inbound", duration=90, recorded=True)
    account.advance(10)                  # Setup, Proceeding, Answered are pushed
    account.advance(90)                  # Disconnected; the call-log record follows 15–30 s later
    events.close()
    account.close()                      # stops the gateway's threads

For the desktop app's ``--sandbox`` mode, :func:`demo_client` builds an account on the real clock
with compressed delays (a call every 30–60 s; recording and AI notes within two minutes).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import httpx

from adapters.base import AuthError
from adapters.oauth import TokenSet, build_authorize_url, make_challenge, make_state, make_verifier
from adapters.ringcentral.auth import RingCentralAuth
from adapters.ringcentral.client import RingCentralClient
from adapters.ringcentral.sandbox.account import SandboxAccount
from adapters.ringcentral.sandbox.calls import CALL_KINDS, SimCall
from adapters.ringcentral.sandbox.clock import ManualClock
from adapters.ringcentral.sandbox.oauth import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    DESKTOP_CLIENT_ID,
)
from adapters.ringcentral.sandbox.push import WS_FAULT_KINDS, WsConfig
from adapters.ringcentral.sandbox.scenario import DEMO_DELAYS, PRESETS, REALISTIC_DELAYS, Delays, Scenario, preset
from adapters.ringcentral.sandbox.server import MEDIA_BASE, PLATFORM_BASE, SandboxServer, SandboxTransport
from adapters.ringcentral.sandbox.wire import SandboxRequest, SandboxResponse

__all__ = [
    "ADMIN_CLIENT_ID",
    "ADMIN_CLIENT_SECRET",
    "CALL_KINDS",
    "DEFAULT_REDIRECT_URI",
    "DEMO_DELAYS",
    "DESKTOP_CLIENT_ID",
    "MEDIA_BASE",
    "PLATFORM_BASE",
    "PRESETS",
    "REALISTIC_DELAYS",
    "WS_FAULT_KINDS",
    "Delays",
    "ManualClock",
    "SandboxAccount",
    "SandboxRequest",
    "SandboxResponse",
    "SandboxServer",
    "SandboxTransport",
    "Scenario",
    "SimCall",
    "WsConfig",
    "connect",
    "demo_client",
    "preset",
]


def connect(
    account: SandboxAccount,
    *,
    server_url: str | None = None,
    http: httpx.Client | None = None,
    save: Callable[[TokenSet], None] | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
    max_wait: float = 15.0,
) -> RingCentralClient:
    """A :class:`RingCentralClient` signed in to ``account`` through the PKCE flow.

    The "browser" step is done directly: the authorize URL is requested, the sandbox approves and
    redirects with a code, and the code is exchanged with the verifier — the same requests and
    checks as a real sign-in, without opening a window or a loopback listener.

    Args:
        account: the simulated account.
        server_url: the platform URL; the in-process transport's when ``http`` is omitted.
        http: an httpx client that reaches the account (default: in-process transport).
        save: receives the token pair after sign-in and after every refresh.
        clock: defaults to the account's clock.
        sleep: defaults to advancing a :class:`ManualClock`, else ``time.sleep``.
        max_wait: see :class:`RingCentralClient`.

    Raises:
        AuthError: the sandbox refused the sign-in (e.g. ``account.deny_consent``).
    """
    owns = http is None
    if http is None:
        http = httpx.Client(transport=account.transport(), timeout=httpx.Timeout(20.0))
        server_url = PLATFORM_BASE
    if server_url is None:
        raise ValueError("pass server_url together with http")
    clock = clock or account.clock
    if sleep is None:
        sleep = account.clock.sleep if isinstance(account.clock, ManualClock) else time.sleep
    auth = RingCentralAuth(
        server_url, DESKTOP_CLIENT_ID, None, save=save or _discard, http=http, clock=clock, sleep=sleep
    )
    verifier, state = make_verifier(), make_state()
    url = build_authorize_url(
        auth.endpoints, redirect_uri=DEFAULT_REDIRECT_URI, state=state, code_challenge=make_challenge(verifier)
    )
    response = http.get(url, follow_redirects=False)
    location = response.headers.get("Location", "")
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    if response.status_code != 302 or query.get("state") != state or "code" not in query:
        reason = query.get("error_description") or query.get("error") or f"HTTP {response.status_code}"
        raise AuthError("The sandbox did not approve the sign-in.", vendor_message=reason)
    auth.sign_in_with_code(code=query["code"], verifier=verifier, redirect_uri=DEFAULT_REDIRECT_URI)
    return RingCentralClient(
        server_url, auth, client=http, clock=clock, sleep=sleep, max_wait=max_wait, owns_client=owns
    )


def demo_client(
    *, scenario: str | Scenario = "happy", seed: int | None = None, save: Callable[[TokenSet], None] | None = None
) -> RingCentralClient:
    """A signed-in client on a live demo account (real clock, compressed delays).

    A new call rings every 30–60 s (live: telephony-session events for push clients), appears in
    the call log 15–25 s after it ends, gets its recording about half a minute after that and
    RingSense insights within another minute.
    """
    chosen = preset(scenario, demo=True) if isinstance(scenario, str) else scenario
    account = SandboxAccount(clock=time.time, scenario=chosen, seed=seed if seed is not None else int(time.time()))
    return connect(account, save=save)


def _discard(tokens: TokenSet) -> None:
    return None
