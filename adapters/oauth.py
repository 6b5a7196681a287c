# SPDX-License-Identifier: MIT
"""OAuth 2.0 authorization code + PKCE (S256) for a desktop app, without Qt.

Every vendor whose sign-in runs in the system browser (RingCentral, Salesforce, Zoho, Clio, ...)
builds on the pieces below. The flow, from the caller's point of view::

    endpoints = OAuthEndpoints(
        authorize_url="https://vendor.example/oauth/authorize",
        token_url="https://vendor.example/oauth/token",
        revoke_url="https://vendor.example/oauth/revoke",
        client_id="abc",                      # public client: no secret in the app
    )
    with httpx.Client(timeout=20) as http:
        tokens = sign_in(endpoints, http, open_url=webbrowser.open, port=53682, timeout=300)
    save(tokens.to_secrets())                 # into the keyring, on the GUI thread

    manager = TokenManager(tokens, refresh=lambda rt: refresh_tokens(endpoints, http, rt),
                           save=lambda t: save(t.to_secrets()))
    headers = {"Authorization": f"Bearer {manager.access_token()}"}

Pieces, usable on their own:

- :func:`make_verifier`, :func:`make_challenge`, :func:`make_state`: the PKCE values (RFC 7636).
- :func:`build_authorize_url`: the URL to open in the browser.
- :class:`LoopbackReceiver`: a one-shot HTTP listener on ``127.0.0.1:<port>`` that receives the
  redirect, checks ``state``, answers the browser with a "you can close this tab" page and hands
  back the code (or raises :class:`SignInCancelled`, :class:`StateMismatch`, :class:`SignInTimeout`).
- :func:`exchange_code`, :func:`refresh_tokens`, :func:`revoke_token`: the token endpoint calls,
  over an injected ``httpx.Client``; failures become :mod:`adapters.base` errors
  (``invalid_grant`` → :class:`~adapters.base.AuthError` saying to reconnect).
- :class:`TokenSet`: one access/refresh pair with absolute expiry times and vendor extras
  (``instance_url``, ``api_domain``, ``owner_id``, ...), convertible to and from the flat
  ``str → str`` mapping the secret store keeps.
- :class:`TokenManager`: hands out a fresh access token, refreshing ahead of expiry from one
  place only (a lock: single flight), and **persists the new pair through the ``save`` callback
  before using it**, because most vendors rotate refresh tokens and the old one is single-use.

Threading contract: the module never touches Qt and never opens the browser itself (the caller
passes ``open_url``). :class:`TokenManager` is thread-safe: any worker thread may call
:meth:`TokenManager.access_token`; concurrent callers wait for one refresh instead of starting
their own. :class:`LoopbackReceiver` serves on its own daemon thread; :meth:`LoopbackReceiver.wait`
blocks the calling thread (run it on a worker, never on the GUI thread) and
:meth:`LoopbackReceiver.cancel` may be called from any thread to abort the wait.

Secrets: tokens, codes and verifiers are never logged here, and :class:`TokenSet` hides them from
``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field

from adapters.base import AdapterError, AuthError, MalformedResponse, RateLimited, TransientError
from adapters.http import parse_retry_after, transport_failure

log = logging.getLogger(__name__)

#: Seconds since the epoch; inject a fake one in tests.
Clock = Callable[[], float]

#: Refresh this many seconds before the access token expires.
DEFAULT_REFRESH_MARGIN = 60.0

__all__ = [
    "Clock",
    "LoopbackReceiver",
    "OAuthEndpoints",
    "SignInCancelled",
    "SignInTimeout",
    "StateMismatch",
    "TokenManager",
    "TokenSaveFailed",
    "TokenSet",
    "build_authorize_url",
    "dumps_for_log",
    "exchange_code",
    "make_challenge",
    "make_state",
    "make_verifier",
    "refresh_tokens",
    "request_tokens",
    "revoke_token",
    "sign_in",
]


# --- errors -------------------------------------------------------------------------------------


class SignInCancelled(AuthError):
    """The user declined in the browser (``error=access_denied``) or the caller cancelled the wait."""


class StateMismatch(AuthError):
    """The redirect carried a ``state`` we did not send: a stale tab or a forged request."""


class SignInTimeout(AuthError):
    """No redirect arrived in time."""


class TokenSaveFailed(AdapterError):
    """The new token pair could not be persisted.

    The pair is kept in memory (the old refresh token is already spent), so this session keeps
    working, but the next launch will need a new sign-in unless a later save succeeds.
    """


# --- PKCE values --------------------------------------------------------------------------------


def make_verifier(n_bytes: int = 48) -> str:
    """A PKCE ``code_verifier``: URL-safe base64 without padding, 43–128 characters (RFC 7636 §4.1).

    Args:
        n_bytes: random bytes to encode; 32–96 gives a valid length.
    """
    if not 32 <= n_bytes <= 96:
        raise ValueError("n_bytes must be between 32 and 96")
    return base64.urlsafe_b64encode(secrets.token_bytes(n_bytes)).rstrip(b"=").decode("ascii")


def make_challenge(verifier: str) -> str:
    """The S256 ``code_challenge`` for ``verifier``: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_state() -> str:
    """An unguessable ``state`` value that ties the redirect to this sign-in attempt."""
    return secrets.token_urlsafe(24)


# --- endpoints and the authorize URL ------------------------------------------------------------


class OAuthEndpoints(BaseModel):
    """One OAuth application at one vendor.

    Attributes:
        authorize_url: the browser page that asks the user to approve.
        token_url: where codes and refresh tokens are exchanged (form-encoded POST).
        revoke_url: where sign-out revokes a token, if the vendor has one.
        client_id: the app's public id.
        client_secret: only for vendors that insist on one even with PKCE (Clio); leave ``None``
            for a public client, which is what a desktop binary should be.
        secret_in_body: send ``client_secret`` in the form body instead of HTTP Basic.
        scopes: requested scopes (some vendors, e.g. RingCentral, ignore them).
        extra_authorize_params: vendor extras for the authorize URL (``prompt``, ``access_type``).
    """

    model_config = ConfigDict(frozen=True)

    authorize_url: str
    token_url: str
    revoke_url: str | None = None
    client_id: str
    client_secret: str | None = Field(default=None, repr=False)
    secret_in_body: bool = False
    scopes: tuple[str, ...] = ()
    extra_authorize_params: dict[str, str] = Field(default_factory=dict)


def build_authorize_url(
    endpoints: OAuthEndpoints,
    *,
    redirect_uri: str,
    state: str,
    code_challenge: str,
    extra: Mapping[str, str] | None = None,
) -> str:
    """The URL to open in the system browser (``response_type=code``, S256 challenge).

    Args:
        endpoints: the application.
        redirect_uri: exactly as registered with the vendor (e.g. ``http://127.0.0.1:53682/callback``).
        state: from :func:`make_state`; the receiver checks it comes back unchanged.
        code_challenge: from :func:`make_challenge`.
        extra: more query parameters, added last (they override same-named ones).
    """
    params: dict[str, str] = {
        "response_type": "code",
        "client_id": endpoints.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if endpoints.scopes:
        params["scope"] = " ".join(endpoints.scopes)
    params.update(endpoints.extra_authorize_params)
    if extra:
        params.update(extra)
    sep = "&" if "?" in endpoints.authorize_url else "?"
    return f"{endpoints.authorize_url}{sep}{urlencode(params)}"


# --- the loopback redirect receiver -------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:15vh auto;max-width:32em;text-align:center;color:#222}}</style>
</head><body><h1>{title}</h1><p>{body}</p></body></html>
"""


class _Outcome:
    """What the redirect brought: a code or an error. Set once."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.code: str | None = None
        self.error: AuthError | None = None
        self.params: dict[str, str] = {}
        self._lock = threading.Lock()

    def settle(
        self, *, code: str | None = None, error: AuthError | None = None, params: Mapping[str, str] | None = None
    ) -> bool:
        with self._lock:
            if self.event.is_set():
                return False
            self.code, self.error = code, error
            self.params = dict(params or {})
            self.event.set()
            return True


class LoopbackReceiver:
    """A one-shot HTTP listener on the loopback interface that receives the OAuth redirect.

    Binds at construction (so the redirect URI is known, and a busy port fails early), serves on
    a daemon thread, accepts exactly one redirect on ``path``, answers every other path with 404.

    Args:
        expected_state: the ``state`` sent in the authorize URL.
        port: the fixed port registered with the vendor; ``0`` picks a free one (tests).
        path: the redirect path registered with the vendor.
        host: always a loopback address; ``127.0.0.1`` by default.
        app_name: shown on the page the browser lands on.

    Raises:
        AuthError: the port is in use or cannot be bound.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        expected_state: str,
        *,
        port: int = 0,
        path: str = "/callback",
        host: str = "127.0.0.1",
        app_name: str = "Logdesk",
    ) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the redirect receiver only listens on a loopback address")
        self._expected_state = expected_state
        self._path = path if path.startswith("/") else f"/{path}"
        self._app_name = app_name
        self._outcome = _Outcome()
        handler = self._make_handler()
        try:
            self._server = http.server.ThreadingHTTPServer((host, port), handler)
        except OSError as exc:
            raise AuthError(
                f"Cannot listen for the sign-in redirect on {host}:{port}: the port is in use or blocked. "
                "Close the program using it, or change the redirect port in Settings.",
                vendor_message=str(exc),
            ) from exc
        self._server.daemon_threads = True
        self._host = host
        self._port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="oauth-loopback", daemon=True
        )
        self._thread.start()
        self._closed = False

    @property
    def port(self) -> int:
        """The bound port (the real one when constructed with ``port=0``)."""
        return self._port

    @property
    def redirect_uri(self) -> str:
        """``http://127.0.0.1:<port><path>``: pass this to the authorize URL and the code exchange."""
        return f"http://{self._host}:{self._port}{self._path}"

    @property
    def redirect_params(self) -> dict[str, str]:
        """Every query parameter of the accepted redirect (vendor extras such as Zoho's
        ``accounts-server`` and ``location``); empty until one arrived."""
        return dict(self._outcome.params)

    def wait(self, timeout: float) -> str:
        """Blocks until the redirect arrives; returns the authorization code.

        Args:
            timeout: seconds to wait for the user to finish in the browser.

        Raises:
            SignInCancelled: the user declined, or :meth:`cancel` was called.
            StateMismatch: the redirect's ``state`` is not ours.
            SignInTimeout: nothing arrived in ``timeout`` seconds.
            AuthError: the vendor reported another error in the redirect.
        """
        if not self._outcome.event.wait(timeout):
            raise SignInTimeout(f"Sign-in was not completed within {timeout:g} seconds. Start the sign-in again.")
        if self._outcome.error is not None:
            raise self._outcome.error
        assert self._outcome.code is not None
        return self._outcome.code

    def cancel(self) -> None:
        """Aborts :meth:`wait` from any thread (the user closed the sign-in dialog)."""
        self._outcome.settle(error=SignInCancelled("Sign-in was cancelled."))

    def close(self) -> None:
        """Stops listening. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackReceiver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # The handler runs on the server's thread; it only settles the outcome and writes a page.
    def _make_handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            server_version = "LogdeskSignIn/1"

            def do_GET(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                # The query string carries the code: never log request lines.
                return

        return Handler

    def _handle(self, req: http.server.BaseHTTPRequestHandler) -> None:
        parts = urlsplit(req.path)
        if parts.path != self._path:
            self._respond(req, 404, "Not found", "This address is only used to finish signing in.")
            return
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        error: AuthError | None = None
        code: str | None = None
        if query.get("state") != self._expected_state:
            error = StateMismatch(
                "The sign-in reply did not match this sign-in attempt (state mismatch). "
                "Close old sign-in tabs and try again."
            )
        elif "error" in query:
            vendor = query.get("error_description") or query["error"]
            if query["error"] == "access_denied":
                error = SignInCancelled("Sign-in was declined in the browser.", vendor_message=vendor)
            else:
                error = AuthError("The sign-in page reported an error. Try again.", vendor_message=vendor)
        elif query.get("code"):
            code = query["code"]
        else:
            error = AuthError("The sign-in reply carried no authorization code. Try again.")
        if not self._outcome.settle(code=code, error=error, params=query):
            self._respond(req, 409, "Already handled", "This sign-in was already completed. You can close this tab.")
            return
        if error is None:
            self._respond(req, 200, "Signed in", f"You can close this tab and return to {self._app_name}.")
        else:
            self._respond(req, 400, "Sign-in did not complete", f"{error.message} You can close this tab.")

    def _respond(self, req: http.server.BaseHTTPRequestHandler, status: int, title: str, body: str) -> None:
        page = _PAGE.format(title=html.escape(title), body=html.escape(body)).encode("utf-8")
        req.send_response(status)
        req.send_header("Content-Type", "text/html; charset=utf-8")
        req.send_header("Content-Length", str(len(page)))
        req.send_header("Cache-Control", "no-store")
        req.send_header("Connection", "close")
        req.end_headers()
        req.wfile.write(page)


# --- tokens -------------------------------------------------------------------------------------

#: Fields of a token response that are not vendor extras.
_STANDARD_FIELDS = frozenset(
    {"access_token", "refresh_token", "expires_in", "refresh_token_expires_in", "token_type", "scope", "id_token"}
)


class TokenSet(BaseModel):
    """One access token (and usually a refresh token) with absolute expiry times.

    Attributes:
        access_token: the bearer token.
        refresh_token: ``None`` when the vendor issued none.
        expires_at: UNIX seconds when the access token expires; ``None`` if unknown.
        refresh_expires_at: UNIX seconds when the refresh token expires, if the vendor says.
        token_type: usually ``bearer``.
        scope: the granted scope string as sent.
        extra: vendor fields kept as strings (Salesforce ``instance_url``, Zoho ``api_domain``,
            RingCentral ``owner_id``/``endpoint_id``/``session_id``).
    """

    model_config = ConfigDict(frozen=True)

    access_token: str = Field(repr=False)
    refresh_token: str | None = Field(default=None, repr=False)
    expires_at: float | None = None
    refresh_expires_at: float | None = None
    token_type: str = "bearer"  # noqa: S105 (a token kind, not a credential)
    scope: str | None = None
    extra: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def from_response(
        cls, raw_body: Any, *, now: float, previous: TokenSet | None = None, vendor: str = "The sign-in service"
    ) -> TokenSet:
        """Builds a token set from a token endpoint's JSON body.

        Args:
            raw_body: the decoded JSON.
            now: the clock reading when the request was sent (expiry is measured from it).
            previous: on refresh, the pair being replaced: its refresh token and extras are kept
                when the response omits them (Salesforce does not rotate refresh tokens).
            vendor: named in error messages.

        Raises:
            MalformedResponse: no ``access_token`` string, or a non-numeric ``expires_in``.
        """
        if not isinstance(raw_body, dict):
            raise MalformedResponse(f"{vendor} sent a token response that is not a JSON object.")
        access = raw_body.get("access_token")
        if not isinstance(access, str) or not access:
            raise MalformedResponse(f"{vendor} sent a token response without 'access_token'.")
        refresh = raw_body.get("refresh_token")
        if refresh is not None and not isinstance(refresh, str):
            raise MalformedResponse(f"{vendor} sent a malformed 'refresh_token'.")

        def seconds(key: str) -> float | None:
            value = raw_body.get(key)
            if value is None:
                return None
            try:
                return float(value)
            except (TypeError, ValueError):
                raise MalformedResponse(f"{vendor} sent a malformed '{key}': {value!r}.") from None

        expires_in = seconds("expires_in")
        refresh_in = seconds("refresh_token_expires_in")
        extra = dict(previous.extra) if previous else {}
        for key, value in raw_body.items():
            if key not in _STANDARD_FIELDS and isinstance(value, str | int | float | bool):
                extra[key] = str(value)
        keep_old_refresh = refresh is None and previous is not None
        return cls(
            access_token=access,
            refresh_token=previous.refresh_token if keep_old_refresh and previous else refresh,
            expires_at=now + expires_in if expires_in is not None else None,
            refresh_expires_at=(
                now + refresh_in
                if refresh_in is not None
                else (previous.refresh_expires_at if keep_old_refresh and previous else None)
            ),
            token_type=str(raw_body.get("token_type") or "bearer"),
            scope=raw_body.get("scope") if isinstance(raw_body.get("scope"), str) else None,
            extra=extra,
        )

    def expires_within(self, seconds: float, *, now: float) -> bool:
        """Whether the access token is expired or will be within ``seconds``."""
        return self.expires_at is not None and self.expires_at - now <= seconds

    def to_secrets(self, prefix: str = "") -> dict[str, str]:
        """The flat ``str → str`` mapping for the secret store (one JSON value under ``<prefix>tokens``)."""
        return {f"{prefix}tokens": self.model_dump_json()}

    @classmethod
    def from_secrets(cls, values: Mapping[str, str], prefix: str = "") -> TokenSet | None:
        """Reads what :meth:`to_secrets` wrote; ``None`` when nothing (usable) is stored."""
        raw = values.get(f"{prefix}tokens")
        if not raw:
            return None
        try:
            return cls.model_validate_json(raw)
        except ValueError:
            return None


# --- token endpoint calls -----------------------------------------------------------------------


def _token_request(
    endpoints: OAuthEndpoints,
    http: httpx.Client,
    url: str,
    form: dict[str, str],
    *,
    vendor: str,
) -> httpx.Response:
    """POSTs a form to a token/revoke endpoint and maps failures to :mod:`adapters.base` errors."""
    headers = {"Accept": "application/json"}
    form = {**form, "client_id": endpoints.client_id}
    if endpoints.client_secret:
        if endpoints.secret_in_body:
            form["client_secret"] = endpoints.client_secret
        else:
            basic = base64.b64encode(f"{endpoints.client_id}:{endpoints.client_secret}".encode()).decode("ascii")
            headers["Authorization"] = f"Basic {basic}"
    try:
        response = http.post(url, data=form, headers=headers)
    except httpx.TransportError as exc:  # timeouts included
        raise transport_failure(exc, crm=vendor) from exc
    if response.is_success and not _is_error_body(response):
        return response
    raise _token_error(response, vendor=vendor)


def _is_error_body(response: httpx.Response) -> bool:
    """A 2xx whose JSON says ``{"error": ...}`` and carries no token: Zoho answers failed token
    calls this way (HTTP 200 with ``{"error": "invalid_code"}``)."""
    try:
        raw_body: Any = response.json()
    except ValueError:
        return False
    return isinstance(raw_body, dict) and bool(raw_body.get("error")) and "access_token" not in raw_body


def _token_error(response: httpx.Response, *, vendor: str) -> AdapterError:
    status = response.status_code
    try:
        raw_body: Any = response.json()
    except ValueError:
        raw_body = None
    error_code = ""
    detail: str | None = None
    if isinstance(raw_body, dict):
        error_code = str(raw_body.get("error") or raw_body.get("errorCode") or "")
        detail = raw_body.get("error_description") or raw_body.get("message") or None
        errors = raw_body.get("errors")
        if detail is None and isinstance(errors, list) and errors and isinstance(errors[0], dict):
            detail = errors[0].get("message")
    if detail is None:
        text = response.text.strip()
        detail = text[:300] or None
    vendor_message = f"{error_code}: {detail}" if error_code and detail else (error_code or detail)
    kw: dict[str, Any] = {"vendor_message": vendor_message, "status": status}
    if status == 429:
        return RateLimited(
            f"{vendor} asks to slow down sign-in requests.",
            retry_after=parse_retry_after(response.headers.get("Retry-After")),
            **kw,
        )
    if status >= 500:
        return TransientError(f"{vendor} had a server error ({status}) while signing in; will retry.", **kw)
    if error_code in ("invalid_grant", "invalid_code"):  # invalid_code: Zoho's word for a dead grant
        return AuthError(f"The {vendor} sign-in has expired or was revoked. Reconnect {vendor} in Settings.", **kw)
    if error_code in ("invalid_client", "unauthorized_client"):
        return AuthError(f"{vendor} does not recognise this application's credentials. Check the app settings.", **kw)
    return AuthError(f"{vendor} refused the sign-in ({status}). Reconnect {vendor} in Settings.", **kw)


def exchange_code(
    endpoints: OAuthEndpoints,
    http: httpx.Client,
    *,
    code: str,
    verifier: str,
    redirect_uri: str,
    clock: Clock = time.time,
    vendor: str = "The sign-in service",
    extra_form: Mapping[str, str] | None = None,
) -> TokenSet:
    """Trades an authorization code for tokens (``grant_type=authorization_code`` + ``code_verifier``).

    Raises:
        AuthError: the code is invalid, expired or already used, or the redirect URI differs.
        RateLimited, TransientError, MalformedResponse: see :mod:`adapters.base`.
    """
    now = clock()
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri, "code_verifier": verifier}
    response = _token_request(endpoints, http, endpoints.token_url, {**form, **(extra_form or {})}, vendor=vendor)
    return TokenSet.from_response(_json(response, vendor), now=now, vendor=vendor)


def refresh_tokens(
    endpoints: OAuthEndpoints,
    http: httpx.Client,
    current: TokenSet,
    *,
    clock: Clock = time.time,
    vendor: str = "The sign-in service",
    extra_form: Mapping[str, str] | None = None,
) -> TokenSet:
    """Trades ``current.refresh_token`` for a new pair (``grant_type=refresh_token``).

    The refresh token is spent by this call at vendors that rotate: persist the result before
    using it (:class:`TokenManager` does).

    Raises:
        AuthError: no refresh token, or ``invalid_grant`` (expired, revoked, already used): reconnect.
        RateLimited, TransientError, MalformedResponse: see :mod:`adapters.base`.
    """
    if not current.refresh_token:
        raise AuthError(f"The {vendor} sign-in cannot be renewed (no refresh token). Reconnect {vendor} in Settings.")
    now = clock()
    form = {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
    response = _token_request(endpoints, http, endpoints.token_url, {**form, **(extra_form or {})}, vendor=vendor)
    return TokenSet.from_response(_json(response, vendor), now=now, previous=current, vendor=vendor)


def request_tokens(
    endpoints: OAuthEndpoints,
    http: httpx.Client,
    form: Mapping[str, str],
    *,
    clock: Clock = time.time,
    vendor: str = "The sign-in service",
) -> TokenSet:
    """Any other grant (JWT bearer, client credentials): POSTs ``form`` to the token endpoint.

    ``client_id`` is added to the form; the client secret, if configured, is sent as HTTP Basic
    (or in the body with ``secret_in_body``).

    Raises:
        AuthError, RateLimited, TransientError, MalformedResponse: as :func:`exchange_code`.
    """
    now = clock()
    response = _token_request(endpoints, http, endpoints.token_url, dict(form), vendor=vendor)
    return TokenSet.from_response(_json(response, vendor), now=now, vendor=vendor)


def revoke_token(
    endpoints: OAuthEndpoints, http: httpx.Client, token: str, *, vendor: str = "The sign-in service"
) -> bool:
    """Revokes ``token`` at sign-out. Best effort: returns whether the vendor confirmed.

    Errors are logged at INFO and swallowed: a failed revoke must not block signing out, and the
    vendors' advice is not to retry it.
    """
    if not endpoints.revoke_url:
        return False
    try:
        _token_request(endpoints, http, endpoints.revoke_url, {"token": token}, vendor=vendor)
    except AdapterError as exc:
        log.info("revoking the %s token failed: %s", vendor, exc)
        return False
    return True


def _json(response: httpx.Response, vendor: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise MalformedResponse(
            f"{vendor} sent a token response that is not JSON.", status=response.status_code
        ) from exc


def sign_in(
    endpoints: OAuthEndpoints,
    http: httpx.Client,
    *,
    open_url: Callable[[str], None],
    port: int,
    path: str = "/callback",
    timeout: float = 300.0,
    clock: Clock = time.time,
    vendor: str = "The sign-in service",
    app_name: str = "Logdesk",
    on_receiver: Callable[[LoopbackReceiver], None] | None = None,
    extra_authorize: Mapping[str, str] | None = None,
    extra_token_form: Mapping[str, str] | None = None,
    exchange_endpoints: Callable[[Mapping[str, str]], OAuthEndpoints] | None = None,
) -> TokenSet:
    """The whole browser sign-in: PKCE values, listener, browser, code exchange.

    Blocks until done: call it on a worker thread.

    Args:
        endpoints: the application.
        http: used for the code exchange only.
        open_url: opens the authorize URL in the system browser (the UI's job, e.g.
            ``QDesktopServices.openUrl`` or ``webbrowser.open``).
        port: the registered loopback port (``0`` only where the vendor accepts any port).
        path: the registered redirect path.
        timeout: seconds the user has to finish in the browser.
        clock: for token expiry.
        vendor: named in messages.
        app_name: shown on the landing page.
        on_receiver: called with the listener once it is bound, so the UI can offer Cancel
            (:meth:`LoopbackReceiver.cancel`).
        extra_authorize: vendor extras for the authorize URL.
        extra_token_form: vendor extras for the code exchange.
        exchange_endpoints: given the redirect's query parameters, the endpoints to exchange the
            code at (Zoho names the account's own accounts server in the redirect); it may raise
            :class:`AuthError` to refuse an unexpected value.

    Raises:
        SignInCancelled, StateMismatch, SignInTimeout, AuthError, RateLimited, TransientError,
        MalformedResponse.
    """
    verifier = make_verifier()
    state = make_state()
    with LoopbackReceiver(state, port=port, path=path, app_name=app_name) as receiver:
        if on_receiver is not None:
            on_receiver(receiver)
        url = build_authorize_url(
            endpoints,
            redirect_uri=receiver.redirect_uri,
            state=state,
            code_challenge=make_challenge(verifier),
            extra=extra_authorize,
        )
        open_url(url)
        code = receiver.wait(timeout)
        redirect_uri = receiver.redirect_uri
        if exchange_endpoints is not None:
            endpoints = exchange_endpoints(receiver.redirect_params)
    return exchange_code(
        endpoints,
        http,
        code=code,
        verifier=verifier,
        redirect_uri=redirect_uri,
        clock=clock,
        vendor=vendor,
        extra_form=extra_token_form,
    )


# --- the token manager --------------------------------------------------------------------------


class TokenManager:
    """Hands out a valid access token; refreshes ahead of expiry from one place only.

    Args:
        tokens: the current pair (from the secret store or a fresh sign-in); ``None`` means
            signed out, and :meth:`access_token` raises :class:`AuthError`.
        refresh: spends a pair's refresh token and returns the new pair, e.g.
            ``lambda t: refresh_tokens(endpoints, http, t)``. May raise any
            :class:`~adapters.base.AdapterError`.
        save: persists a new pair (into the keyring via the app). Called **before** the new
            access token is used by anyone, because rotated refresh tokens are single-use.
        clock: UNIX seconds.
        margin: refresh when the access token expires within this many seconds.
        revoke: optional; used by :meth:`sign_out`.

    Threading contract: every method is thread-safe. A refresh holds the lock, so concurrent
    callers block until it finishes and then get the new token; no two refreshes ever run at once.
    ``refresh`` and ``save`` are called with the lock held and must not call back into the manager.
    """

    def __init__(
        self,
        tokens: TokenSet | None,
        *,
        refresh: Callable[[TokenSet], TokenSet],
        save: Callable[[TokenSet], None],
        clock: Clock = time.time,
        margin: float = DEFAULT_REFRESH_MARGIN,
        revoke: Callable[[TokenSet], None] | None = None,
    ) -> None:
        self._tokens = tokens
        self._refresh = refresh
        self._save = save
        self._clock = clock
        self._margin = margin
        self._revoke = revoke
        self._lock = threading.RLock()
        self._refresh_count = 0
        self._last_refresh_at: float | None = None

    @property
    def tokens(self) -> TokenSet | None:
        """The current pair (for display of extras such as ``instance_url``); never log it."""
        with self._lock:
            return self._tokens

    @property
    def refresh_count(self) -> int:
        """How many refreshes this manager performed (observable for tests and diagnostics)."""
        with self._lock:
            return self._refresh_count

    def access_token(self) -> str:
        """A bearer token valid for at least ``margin`` seconds, refreshing first if needed.

        Raises:
            AuthError: signed out, or the refresh token was refused (reconnect).
            TokenSaveFailed: refreshed, but the new pair could not be persisted.
            RateLimited, TransientError, MalformedResponse: the refresh could not be done now.
        """
        with self._lock:
            tokens = self._require()
            if tokens.expires_within(self._margin, now=self._clock()):
                tokens = self._do_refresh(tokens)
            return tokens.access_token

    def refresh_after_rejection(self, rejected_access_token: str, *, min_age: float = 0.0) -> str:
        """Called when the API answered 401 to ``rejected_access_token``.

        Refreshes only if that token is still the current one (another thread may have refreshed
        already; then the newer token is returned without a second refresh).

        Args:
            rejected_access_token: the token the API refused.
            min_age: if the current pair was refreshed less than this many seconds ago and is
                still refused, do not refresh again: the problem is not the token's age
                (a scope or a revoked session), so raise :class:`AuthError`.

        Raises:
            AuthError: as above, or the refresh itself was refused.
        """
        with self._lock:
            tokens = self._require()
            if tokens.access_token != rejected_access_token:
                return tokens.access_token
            if min_age and self._last_refresh_at is not None and self._clock() - self._last_refresh_at < min_age:
                raise AuthError("The freshly renewed sign-in was refused. Reconnect in Settings.")
            return self._do_refresh(tokens).access_token

    def replace(self, tokens: TokenSet | None) -> None:
        """Installs a pair obtained elsewhere (a new sign-in). Does not call ``save``."""
        with self._lock:
            self._tokens = tokens
            self._last_refresh_at = None

    def sign_out(self) -> None:
        """Revokes the session (best effort) and forgets the pair. The caller deletes the stored secret."""
        with self._lock:
            tokens, self._tokens = self._tokens, None
        if tokens is not None and self._revoke is not None:
            try:
                self._revoke(tokens)
            except AdapterError as exc:
                log.info("revoking at sign-out failed: %s", exc)

    def _require(self) -> TokenSet:
        if self._tokens is None:
            raise AuthError("Not signed in. Connect in Settings.")
        return self._tokens

    def _do_refresh(self, old: TokenSet) -> TokenSet:
        new = self._refresh(old)
        # The old refresh token is spent now: the new pair replaces it in memory whatever happens
        # next, and is persisted before anyone uses its access token.
        self._tokens = new
        self._refresh_count += 1
        self._last_refresh_at = self._clock()
        try:
            self._save(new)
        except Exception as exc:
            raise TokenSaveFailed(
                "Signed in again, but the new credentials could not be saved; you may need to sign in "
                "after restarting.",
                vendor_message=type(exc).__name__,
            ) from exc
        return new


def dumps_for_log(tokens: TokenSet) -> str:
    """A log-safe description of a pair: expiry and extras, never the token values."""
    described = {"expires_at": tokens.expires_at, "refresh_expires_at": tokens.refresh_expires_at}
    return json.dumps({**described, "extra": sorted(tokens.extra)})
