# SPDX-License-Identifier: MIT
"""The OAuth plumbing a CRM adapter signed in through the browser needs after sign-in.

An adapter holds one :class:`OAuthSession` (composition: adapters have no base class). It owns

- the HTTP client (closing it only when it built it),
- the :class:`~adapters.oauth.TokenManager` over the stored pair, refreshing at the vendor's token
  endpoint and persisting every new pair through ``save_secrets`` **before** it is used,
- sign-out (revoke best effort, forget the pair),
- :meth:`OAuthSession.send`: one authorised request that adds the access token, renews it once
  when the vendor refuses it and repeats the request, and maps failures through
  :func:`adapters.http.send`.

What differs per vendor stays with the adapter and comes in as arguments: where the token
endpoints are (Zoho's accounts server, Clio's region host), how a pair is completed after a
refresh (Salesforce's computed expiry), which token sign-out revokes, which errors mean "the token
was refused" (Salesforce's ``Bad_OAuth_Token`` 403, Zoho's ``INVALID_TOKEN``) and how the vendor's
own error codes are read.

Threading contract: one worker thread at a time per adapter, as for the adapter itself; the token
manager inside is thread-safe.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import httpx

from adapters import oauth
from adapters.base import AdapterError, AuthError, RateLimited, SecretsSaver, make_client
from adapters.http import ErrorParser, default_error_parser, send
from adapters.throttle import Throttle, ThrottleTimeout

__all__ = ["OAuthSession", "is_auth_error"]


def is_auth_error(exc: AdapterError) -> bool:
    """The usual reading of a refused token: the API answered 401."""
    return isinstance(exc, AuthError)


def _access_token(tokens: oauth.TokenSet) -> str | None:
    return tokens.access_token


class OAuthSession:
    """The signed-in side of one OAuth connection: tokens, their renewal and authorised requests.

    Args:
        vendor: the CRM's name, used in messages ("Reconnect <vendor> in Settings").
        secrets: the connection's secrets; the pair is read with :meth:`TokenSet.from_secrets`
            (none stored: signed out, every request raises :class:`AuthError`).
        endpoints: the OAuth application to refresh and revoke at, asked for at each use (it may
            depend on the current pair, e.g. Zoho's accounts server).
        client: the HTTP client to use; ``None`` builds one with :func:`adapters.base.make_client`,
            which :meth:`close` then closes.
        save_secrets: persists a new pair (``{"tokens": ...}``) before it is used.
        clock: UNIX seconds, for expiry.
        margin: refresh this many seconds before the access token expires.
        complete: applied to the stored pair and to every refreshed one (Salesforce computes the
            expiry its token responses leave out).
        revocable: which token of a pair sign-out revokes; ``None`` or ``""`` revokes nothing.
        refresh: the vendor's own refresh call, for a token endpoint that does not take the
            standard form body (Bullhorn documents its parameters in the query string); ``None``
            refreshes with :func:`adapters.oauth.refresh_tokens` at ``endpoints``.
        throttle: the adapter's request limiter; when given, :meth:`send` waits for it (a pause
            longer than its ``max_wait`` raises :class:`RateLimited`) and feeds it ``Retry-After``.
    """

    def __init__(
        self,
        vendor: str,
        secrets: Mapping[str, str],
        *,
        endpoints: Callable[[], oauth.OAuthEndpoints],
        client: httpx.Client | None,
        save_secrets: SecretsSaver | None,
        clock: oauth.Clock,
        margin: float = oauth.DEFAULT_REFRESH_MARGIN,
        complete: Callable[[oauth.TokenSet], oauth.TokenSet] | None = None,
        revocable: Callable[[oauth.TokenSet], str | None] = _access_token,
        refresh: Callable[[oauth.TokenSet], oauth.TokenSet] | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self.vendor = vendor
        self._endpoints = endpoints
        self._owns_client = client is None
        self.http = make_client(client=client)
        self._save_secrets = save_secrets
        self._clock = clock
        self._complete = complete
        self._revocable = revocable
        self._refresh_call = refresh
        self.throttle = throttle
        stored = oauth.TokenSet.from_secrets(secrets)
        if stored is not None and complete is not None:
            stored = complete(stored)
        self.manager = oauth.TokenManager(
            stored, refresh=self._refresh, save=self._persist, clock=clock, margin=margin, revoke=self._revoke
        )

    @property
    def tokens(self) -> oauth.TokenSet | None:
        """The current pair (for vendor extras such as ``instance_url``); never log it."""
        return self.manager.tokens

    # --- the token manager's callbacks ----------------------------------------------------------

    def _refresh(self, current: oauth.TokenSet) -> oauth.TokenSet:
        if self._refresh_call is not None:
            fresh = self._refresh_call(current)
        else:
            fresh = oauth.refresh_tokens(self._endpoints(), self.http, current, clock=self._clock, vendor=self.vendor)
        return self._complete(fresh) if self._complete is not None else fresh

    def _persist(self, tokens: oauth.TokenSet) -> None:
        if self._save_secrets is not None:
            self._save_secrets(tokens.to_secrets())

    def _revoke(self, tokens: oauth.TokenSet) -> None:
        token = self._revocable(tokens)
        if token:
            oauth.revoke_token(self._endpoints(), self.http, token, vendor=self.vendor)

    # --- the adapter's surface ------------------------------------------------------------------

    def sign_out(self) -> None:
        """Revokes the session at the vendor (best effort) and forgets the pair; the app deletes
        the stored secrets."""
        self.manager.sign_out()

    def close(self) -> None:
        """Closes the HTTP client if this session built it."""
        if self._owns_client:
            self.http.close()

    def send(
        self,
        method: str,
        url: str | Callable[[], str],
        *,
        parse: ErrorParser = default_error_parser,
        scheme: str = "Bearer",
        headers: Mapping[str, str] | None = None,
        refused: Callable[[AdapterError], bool] = is_auth_error,
        remap: Callable[[AdapterError], AdapterError] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One authorised request; a refused token is renewed once and the request repeated.

        Args:
            method: the HTTP method.
            url: the address, or a function giving it, asked again for the repeat (the renewed
                pair may name another API host).
            parse: reads the vendor's error bodies (see :mod:`adapters.http`).
            scheme: the ``Authorization`` scheme (``Bearer``; Zoho's ``Zoho-oauthtoken``).
            headers: more headers, added after ``Authorization`` and ``Accept``.
            refused: whether an error means the access token was refused (401 by default).
            remap: the vendor's reading of any other error of the request itself, raised in its
                place (token renewal errors are raised as they are).
            **kwargs: passed to :meth:`httpx.Client.request` (``params``, ``json``, ...).

        Returns:
            The 2xx response.

        Raises:
            AuthError: not signed in, the renewal was refused, or the renewed token was refused
                too (the message asks to reconnect).
            RateLimited: the throttle's pause is too long, or the vendor asked to slow down.
            AdapterError: any other failure, as :func:`adapters.http.send` maps it (then ``remap``).
        """
        if self.throttle is not None:
            try:
                self.throttle.acquire("api")
            except ThrottleTimeout as exc:
                raise RateLimited(
                    f"{self.vendor} asked to pause; trying again later.", retry_after=exc.seconds
                ) from None
        token = self.manager.access_token()
        for attempt in (1, 2):
            sent_headers = {"Authorization": f"{scheme} {token}", "Accept": "application/json", **(headers or {})}
            target = url() if callable(url) else url
            try:
                return send(self.http, method, target, crm=self.vendor, parse=parse, headers=sent_headers, **kwargs)
            except AdapterError as exc:
                if isinstance(exc, RateLimited) and exc.retry_after and self.throttle is not None:
                    self.throttle.block_for(exc.retry_after)
                if not refused(exc):
                    if remap is None:
                        raise
                    raise remap(exc) from None
                if attempt == 2:
                    raise AuthError(
                        f"{self.vendor} no longer accepts this sign-in. Reconnect {self.vendor} in Settings.",
                        vendor_message=exc.vendor_message,
                        status=exc.status,
                    ) from exc
            # Expired early, revoked or rotated elsewhere: one renewal, then the same request again.
            token = self.manager.refresh_after_rejection(token)
        raise AssertionError("unreachable")  # pragma: no cover
