# SPDX-License-Identifier: MIT
"""Signing in to RingCentral and keeping the token pair fresh.

Two ways in:

- **Authorization code + PKCE** (the default for agents): the system browser opens
  ``/restapi/oauth/authorize``, RingCentral redirects to a loopback listener on
  ``http://127.0.0.1:<port>/callback`` (the port is fixed and registered with the app; see
  :data:`DEFAULT_REDIRECT_PORT`), and the code is exchanged with the ``code_verifier``. The app is a
  public client: no secret ships with it and ``client_id`` travels in the form body.
- **JWT grant** (an alternative for admins and unattended tools): a JWT credential from the
  Developer Console, plus the client id and secret sent as HTTP Basic.

:class:`RingCentralAuth` then refreshes ahead of expiry from one place only (refresh tokens rotate
and are single-use), calls the ``save`` callback with the new pair **before** the new access token
is used, spends the Auth rate-limit budget (5 a minute) deliberately, and revokes the session at
sign-out. Tokens live only where ``save`` puts them (the app's secret store); this module never
touches keyring.

Threading contract: thread-safe. Sign-in methods block (browser round trip) and belong on a worker
thread; :meth:`RingCentralAuth.access_token` may be called from any worker thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import httpx

from adapters.base import AuthError, RateLimited
from adapters.oauth import (
    LoopbackReceiver,
    OAuthEndpoints,
    TokenManager,
    TokenSet,
    exchange_code,
    refresh_tokens,
    request_tokens,
    revoke_token,
    sign_in,
)
from adapters.ringcentral.ratelimit import Group, RateLimiter

#: RingCentral's production platform.
PRODUCTION_URL = "https://platform.ringcentral.com"
#: The loopback port registered as ``http://127.0.0.1:53682/callback`` (configurable in Settings).
DEFAULT_REDIRECT_PORT = 53682
REDIRECT_PATH = "/callback"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
VENDOR = "RingCentral"

Clock = Callable[[], float]
Sleep = Callable[[float], None]
Saver = Callable[[TokenSet], None]
T = TypeVar("T")


def endpoints(server_url: str, client_id: str, client_secret: str | None = None) -> OAuthEndpoints:
    """RingCentral's OAuth endpoints under ``server_url`` (production, a partner brand, or the sandbox)."""
    base = server_url.rstrip("/")
    return OAuthEndpoints(
        authorize_url=f"{base}/restapi/oauth/authorize",
        token_url=f"{base}/restapi/oauth/token",
        revoke_url=f"{base}/restapi/oauth/revoke",
        client_id=client_id,
        client_secret=client_secret,
    )


class RingCentralAuth:
    """The RingCentral session of one user: sign-in, refresh, revoke.

    Args:
        server_url: e.g. :data:`PRODUCTION_URL`.
        client_id: the app's client id.
        tokens: the pair read from the secret store, or ``None`` before the first sign-in.
        save: persists a new pair (the app writes it to the keyring). Called after every sign-in
            and every refresh, before the new access token is used.
        http: the client for token calls; one with a 20 s timeout is made (and closed) when omitted.
        client_secret: only for the JWT grant (an admin tool); leave ``None`` in the desktop app.
        clock: UNIX seconds.
        sleep: used while waiting for the Auth budget.
        limiter: the rate limiter shared with :class:`~adapters.ringcentral.client.RingCentralClient`.
        margin: refresh this many seconds before the access token expires.
        max_wait: longest wait for the Auth budget before raising :class:`RateLimited`.
        jwt: a JWT credential (with ``client_secret``): when there is no usable pair, the session
            signs in again with it instead of asking the user to reconnect.
    """

    def __init__(
        self,
        server_url: str,
        client_id: str,
        tokens: TokenSet | None,
        *,
        save: Saver,
        http: httpx.Client | None = None,
        client_secret: str | None = None,
        clock: Clock = time.time,
        sleep: Sleep = time.sleep,
        limiter: RateLimiter | None = None,
        margin: float = 120.0,
        max_wait: float = 15.0,
        jwt: str | None = None,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.endpoints = endpoints(server_url, client_id, client_secret)
        self._own_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=httpx.Timeout(20.0, connect=10.0))
        self._save = save
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        self.limiter = limiter if limiter is not None else RateLimiter(clock=clock)
        self._jwt = jwt
        self._jwt_lock = threading.Lock()
        self._manager = TokenManager(
            tokens, refresh=self._refresh, save=save, clock=clock, margin=margin, revoke=self._revoke
        )

    # --- state ------------------------------------------------------------------------------

    @property
    def tokens(self) -> TokenSet | None:
        """The current pair; never log it."""
        return self._manager.tokens

    @property
    def signed_in(self) -> bool:
        return self._manager.tokens is not None

    @property
    def owner_id(self) -> str | None:
        """The signed-in extension id (``owner_id`` of the token response)."""
        tokens = self._manager.tokens
        return tokens.extra.get("owner_id") if tokens else None

    @property
    def refresh_count(self) -> int:
        return self._manager.refresh_count

    def access_token(self) -> str:
        """A bearer token valid for at least ``margin`` seconds; refreshes first when needed.

        Raises:
            AuthError: not signed in, or the session ended (reconnect).
            RateLimited, TransientError, MalformedResponse, TokenSaveFailed.
        """
        try:
            return self._manager.access_token()
        except AuthError:
            if self._jwt is None:
                raise
            return self._jwt_again(None)

    def refresh_after_rejection(self, rejected_access_token: str) -> str:
        """After a 401: one refresh, unless another thread did it already or the pair is brand new.

        Raises:
            AuthError: the refreshed token is refused too, or the refresh is refused.
        """
        try:
            return self._manager.refresh_after_rejection(rejected_access_token, min_age=60.0)
        except AuthError:
            if self._jwt is None:
                raise
            return self._jwt_again(rejected_access_token)

    def _jwt_again(self, rejected: str | None) -> str:
        """Signs in with the JWT credential once, however many threads found the session dead."""
        with self._jwt_lock:
            current = self._manager.tokens
            if (
                current is not None
                and current.access_token != rejected
                and not current.expires_within(0, now=self._clock())
            ):
                try:
                    return self._manager.access_token()
                except AuthError:
                    pass
            assert self._jwt is not None
            return self.sign_in_jwt(self._jwt).access_token

    # --- signing in and out ---------------------------------------------------------------------

    def sign_in_browser(
        self,
        open_url: Callable[[str], None],
        *,
        port: int = DEFAULT_REDIRECT_PORT,
        path: str = REDIRECT_PATH,
        timeout: float = 300.0,
        on_receiver: Callable[[LoopbackReceiver], None] | None = None,
    ) -> TokenSet:
        """Authorization code + PKCE through the system browser and a loopback listener.

        Args:
            open_url: opens the URL in the system browser (the UI passes ``QDesktopServices.openUrl``).
            port: the registered redirect port.
            path: the registered redirect path (``/callback``).
            timeout: seconds the user has to finish in the browser.
            on_receiver: receives the listener, so a Cancel button can call ``receiver.cancel()``.

        Returns:
            The new pair (already passed to ``save``).

        Raises:
            SignInCancelled, StateMismatch, SignInTimeout, AuthError, RateLimited, TransientError.
        """
        self._spend_auth_budget()
        tokens = self._guard(
            lambda: sign_in(
                self.endpoints,
                self._http,
                open_url=open_url,
                port=port,
                path=path,
                timeout=timeout,
                clock=self._clock,
                vendor=VENDOR,
                on_receiver=on_receiver,
            )
        )
        self._install(tokens)
        return tokens

    def sign_in_with_code(self, *, code: str, verifier: str, redirect_uri: str) -> TokenSet:
        """Finishes a PKCE sign-in whose redirect was received elsewhere (headless tools, the demo)."""
        self._spend_auth_budget()
        tokens = self._guard(
            lambda: exchange_code(
                self.endpoints,
                self._http,
                code=code,
                verifier=verifier,
                redirect_uri=redirect_uri,
                clock=self._clock,
                vendor=VENDOR,
            )
        )
        self._install(tokens)
        return tokens

    def sign_in_jwt(self, assertion: str) -> TokenSet:
        """The JWT grant (admins): needs ``client_secret``, which is sent as HTTP Basic.

        Raises:
            AuthError: no client secret configured, or RingCentral refused the JWT or the client.
            RateLimited, TransientError, MalformedResponse.
        """
        if not self.endpoints.client_secret:
            raise AuthError("The JWT sign-in needs the app's client secret. Use browser sign-in instead.")
        self._spend_auth_budget()
        form = {"grant_type": JWT_GRANT, "assertion": assertion}
        tokens: TokenSet = self._guard(
            lambda: request_tokens(self.endpoints, self._http, form, clock=self._clock, vendor=VENDOR)
        )
        self._install(tokens)
        return tokens

    def sign_out(self) -> None:
        """Revokes the session at RingCentral (best effort) and forgets the pair.

        The caller deletes the stored secret.
        """
        self._manager.sign_out()

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    # --- internals ------------------------------------------------------------------------------

    def _install(self, tokens: TokenSet) -> None:
        self._manager.replace(tokens)
        self._save(tokens)

    def _spend_auth_budget(self) -> None:
        self.limiter.acquire(Group.AUTH, sleep=self._sleep, max_wait=self._max_wait)

    def _guard(self, call: Callable[[], T]) -> T:
        try:
            return call()
        except RateLimited as exc:
            exc.retry_after = self.limiter.penalize(Group.AUTH, exc.retry_after)
            raise

    def _refresh(self, current: TokenSet) -> TokenSet:
        self._spend_auth_budget()
        tokens: TokenSet = self._guard(
            lambda: refresh_tokens(self.endpoints, self._http, current, clock=self._clock, vendor=VENDOR)
        )
        return tokens

    def _revoke(self, tokens: TokenSet) -> None:
        try:
            self._spend_auth_budget()
        except RateLimited:
            return  # revoking is best effort; do not hold up signing out
        revoke_token(self.endpoints, self._http, tokens.refresh_token or tokens.access_token, vendor=VENDOR)
