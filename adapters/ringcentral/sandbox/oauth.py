# SPDX-License-Identifier: MIT
"""OAuth 2.0 as RingCentral runs it: authorize, token, revoke, and the bearer check on API routes.

What it checks, like RingCentral does: OAuth client ids, exact redirect URIs (plus any loopback
port for the desktop client when the account allows it), single-use codes with a 60 s life, PKCE
(S256 and plain), refresh-token rotation with the 10 s grace for the old token (an hour while the
new access token is unused), session revocation, the five-sessions cap per user and client, the
JWT grant for the admin client (with its secret, for credentials from :meth:`OAuth.make_jwt`),
bearer tokens on every API route (``access_token`` in the query only on the media host), and
RingCentral's OAuth error bodies.

Threading contract: not locked on its own; the account calls its handlers and hooks with its lock
held.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from adapters.ringcentral.sandbox.clock import Clock
from adapters.ringcentral.sandbox.data import People
from adapters.ringcentral.sandbox.scenario import Scenario
from adapters.ringcentral.sandbox.wire import (
    Route,
    SandboxRequest,
    SandboxResponse,
    api_error,
    json_response,
    oauth_error,
    token_invalid,
)

#: OAuth client ids the account knows. The desktop app is a public (PKCE) client; the admin
#: client uses the JWT grant with a secret.
DESKTOP_CLIENT_ID = "sandbox-desktop-app"
ADMIN_CLIENT_ID = "sandbox-admin-app"
ADMIN_CLIENT_SECRET = "sandbox-admin-secret"  # noqa: S105 (a published demo value)

#: The redirect URI registered for the desktop client (any loopback port is accepted too, see
#: :class:`OAuth`).
DEFAULT_REDIRECT_URI = "http://127.0.0.1:53682/callback"

SESSION_CAP = 5
REFRESH_GRACE = 10.0
UNUSED_REFRESH_GRACE = 3600.0


@dataclass
class _Session:
    id: str
    owner_id: str
    client_id: str
    created: float
    access: str
    access_expires: float
    refresh: str
    refresh_expires: float
    scope: str
    access_used_at: float | None = None
    previous_refresh: str | None = None
    previous_valid_until: float = 0.0
    revoked: bool = False


@dataclass
class _Code:
    session_owner: str
    client_id: str
    redirect_uri: str
    challenge: str | None
    method: str
    expires: float


class OAuth:
    """Sessions, authorization codes and JWT credentials of the account's one user (the agent).

    Args:
        people: the agent signs in; sessions belong to their extension id.
        scenario: access and refresh token lifetimes.
        clock: UNIX seconds.
        redirect_uris: registered redirect URIs of the desktop client, matched exactly.
        any_loopback_port: also accept ``http://127.0.0.1:<any port>/callback``.

    Attributes:
        deny_consent: the "user" refuses on the authorize page (redirect with ``access_denied``).
    """

    def __init__(
        self,
        *,
        people: People,
        scenario: Scenario,
        clock: Clock,
        redirect_uris: Iterable[str],
        any_loopback_port: bool,
    ) -> None:
        self._people = people
        self._scenario = scenario
        self._clock = clock
        self._redirect_uris = set(redirect_uris)
        self._any_loopback_port = any_loopback_port
        self._sessions: dict[str, _Session] = {}
        self._by_access: dict[str, _Session] = {}
        self._by_refresh: dict[str, _Session] = {}
        self._codes: dict[str, _Code] = {}
        self._jwts: set[str] = set()
        self.deny_consent = False

    def routes(self) -> list[Route]:
        return [
            Route("GET", "platform", "/restapi/oauth/authorize", "Auth", False, self._authorize),
            Route("POST", "platform", "/restapi/oauth/token", "Auth", False, self._token),
            Route("POST", "platform", "/restapi/oauth/revoke", "Auth", False, self._revoke),
        ]

    def make_jwt(self) -> str:
        """A JWT credential for the admin client's JWT grant (what the Developer Console issues)."""
        header = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').rstrip(b"=").decode()
        payload = {"aud": "sandbox", "sub": self._people.agent.extension_id, "iss": ADMIN_CLIENT_ID}
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
        token = f"{header}.{body}.{secrets.token_urlsafe(32)}"
        self._jwts.add(token)
        return token

    def revoke_all(self) -> None:
        """Revokes every session, as a password change or an admin would."""
        for session in self._sessions.values():
            session.revoked = True

    def authenticate(self, req: SandboxRequest, now: float) -> str | SandboxResponse:
        """The owner (extension id) of the request's bearer token, or the 401 to answer with.

        The token comes from the ``Authorization`` header, or from the ``access_token`` query
        parameter on the media host only. Its first use ends the 10 s grace of the refresh token
        it replaced.
        """
        header = req.header("Authorization")
        token: str | None = None
        if header:
            scheme, _, value = header.partition(" ")
            if scheme.lower() != "bearer" or not value:
                return api_error(401, "OAU-134", "Invalid Authorization header")
            token = value.strip()
        elif req.host == "media":
            token = req.param("access_token")
        if not token:
            return json_response(401, {"errorCode": "AGW-401", "message": "Authorization header is not specified"})
        session = self._by_access.get(token)
        if session is None or session.revoked or token != session.access:
            return token_invalid("OAU-213", "Token not found")
        if session.access_expires <= now:
            return token_invalid("OAU-128", "Access token expired")
        if session.access_used_at is None:
            session.access_used_at = now
            if session.previous_refresh is not None:
                session.previous_valid_until = min(session.previous_valid_until, now + REFRESH_GRACE)
        return session.owner_id

    def session_of(self, req: SandboxRequest) -> tuple[str, str] | None:
        """The OAuth session id and owner of the request's bearer token (no checks, no side
        effects: call after :meth:`authenticate` accepted it). A refreshed token keeps its session."""
        scheme, _, value = (req.header("Authorization") or "").partition(" ")
        session = self._by_access.get(value.strip()) if scheme.lower() == "bearer" else None
        return (session.id, session.owner_id) if session is not None else None

    def _redirect_ok(self, uri: str) -> bool:
        if uri in self._redirect_uris:
            return True
        if not self._any_loopback_port:
            return False
        parts = urlsplit(uri)
        return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost") and parts.path == "/callback"

    def _authorize(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        client_id = req.param("client_id")
        redirect_uri = req.param("redirect_uri") or ""
        if client_id not in (DESKTOP_CLIENT_ID, ADMIN_CLIENT_ID):
            return oauth_error(400, "invalid_client", "OAU-153", "Invalid client_id")
        if not redirect_uri:
            return oauth_error(400, "invalid_request", "OAU-113", "Redirect URI is not specified")
        if not self._redirect_ok(redirect_uri):
            return oauth_error(400, "invalid_grant", "OAU-109", "Redirect URIs do not match")
        if req.param("response_type") != "code":
            return oauth_error(400, "unsupported_response_type", "OAU-101", "Parameter [response_type] is invalid")
        state = req.param("state")
        if self.deny_consent:
            query = {"error": "access_denied", "error_description": "The user denied access"}
            if state is not None:
                query["state"] = state
            return SandboxResponse(302, {"Location": f"{redirect_uri}?{urlencode(query)}"})
        method = req.param("code_challenge_method") or "plain"
        if method not in ("S256", "plain"):
            return oauth_error(400, "invalid_request", "OAU-101", "Parameter [code_challenge_method] is invalid")
        code = secrets.token_urlsafe(24)
        self._codes[code] = _Code(
            session_owner=self._people.agent.extension_id or "",
            client_id=client_id or "",
            redirect_uri=redirect_uri,
            challenge=req.param("code_challenge"),
            method=method,
            expires=self._clock() + 60,
        )
        query = {"code": code, "expires_in": "60"}
        if state is not None:
            query["state"] = state
        return SandboxResponse(302, {"Location": f"{redirect_uri}?{urlencode(query)}", "Content-Length": "0"})

    def _token(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        form = req.form()
        now = self._clock()
        grant = form.get("grant_type")
        basic = _basic_credentials(req.header("Authorization"))
        if grant == "authorization_code":
            if form.get("client_id") != DESKTOP_CLIENT_ID and (basic is None or basic[0] != ADMIN_CLIENT_ID):
                return oauth_error(400, "invalid_client", "OAU-153", "Invalid client_id")
            entry = self._codes.pop(form.get("code", ""), None)
            if entry is None:
                return oauth_error(400, "invalid_grant", "OAU-106", "Invalid authorization code")
            if entry.expires <= now:
                return oauth_error(400, "invalid_grant", "OAU-108", "Authorization code is expired")
            if form.get("redirect_uri") != entry.redirect_uri:
                return oauth_error(400, "invalid_grant", "OAU-109", "Redirect URIs do not match")
            if entry.challenge is not None:
                verifier = form.get("code_verifier", "")
                expected = _s256(verifier) if entry.method == "S256" else verifier
                if not verifier or expected != entry.challenge:
                    return oauth_error(400, "invalid_grant", "OAU-106", "Code verifier does not match the challenge")
            return self._issue(entry.session_owner, entry.client_id, form, now)
        if grant == "refresh_token":
            client_id = form.get("client_id") or (basic[0] if basic else None)
            token = form.get("refresh_token", "")
            session = self._by_refresh.get(token)
            if session is None or session.revoked or session.client_id != client_id:
                return oauth_error(400, "invalid_grant", "OAU-211", "Token is revoked")
            if token == session.previous_refresh:
                if now <= session.previous_valid_until:
                    return json_response(200, self._token_body(session, now))  # the same pair again
                return oauth_error(400, "invalid_grant", "OAU-211", "Token is revoked")
            if session.refresh_expires <= now:
                return oauth_error(400, "invalid_grant", "OAU-212", "Refresh token is expired")
            self._rotate(session, form, now)
            return json_response(200, self._token_body(session, now))
        if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
            if basic != (ADMIN_CLIENT_ID, ADMIN_CLIENT_SECRET):
                return oauth_error(401, "invalid_client", "OAU-146", "Invalid client credentials")
            if form.get("assertion") not in self._jwts:
                return oauth_error(400, "invalid_grant", "OAU-140", "Invalid JWT token")
            return self._issue(self._people.agent.extension_id or "", ADMIN_CLIENT_ID, form, now)
        return oauth_error(400, "unsupported_grant_type", "OAU-112", "Unsupported grant type")

    def _ttls(self, form: Mapping[str, str]) -> tuple[int, int]:
        access = self._scenario.access_token_ttl
        refresh = self._scenario.refresh_token_ttl
        if form.get("access_token_ttl", "").isdigit():
            access = min(max(int(form["access_token_ttl"]), 600), 3600)
        if form.get("refresh_token_ttl", "").isdigit():
            refresh = min(int(form["refresh_token_ttl"]), 2_592_000)
        return access, refresh

    def _issue(self, owner: str, client_id: str, form: Mapping[str, str], now: float) -> SandboxResponse:
        access_ttl, refresh_ttl = self._ttls(form)
        session = _Session(
            id=secrets.token_hex(8),
            owner_id=owner,
            client_id=client_id,
            created=now,
            access=_opaque_token(),
            access_expires=now + access_ttl,
            refresh=_opaque_token(),
            refresh_expires=now + refresh_ttl,
            scope="ReadAccounts ReadCallLog ReadCallRecording RingSense",
        )
        self._sessions[session.id] = session
        self._by_access[session.access] = session
        self._by_refresh[session.refresh] = session
        live = sorted(
            (s for s in self._sessions.values() if s.owner_id == owner and s.client_id == client_id and not s.revoked),
            key=lambda s: s.created,
        )
        for old in live[:-SESSION_CAP]:
            old.revoked = True
        return json_response(200, self._token_body(session, now))

    def _rotate(self, session: _Session, form: Mapping[str, str], now: float) -> None:
        access_ttl, refresh_ttl = self._ttls(form)
        if session.previous_refresh is not None:
            self._by_refresh.pop(session.previous_refresh, None)
        session.previous_refresh = session.refresh
        session.previous_valid_until = now + UNUSED_REFRESH_GRACE
        self._by_access.pop(session.access, None)  # the old access token dies at once
        session.access = _opaque_token()
        session.access_expires = now + access_ttl
        session.access_used_at = None
        session.refresh = _opaque_token()
        session.refresh_expires = now + refresh_ttl
        self._by_access[session.access] = session
        self._by_refresh[session.refresh] = session

    def _token_body(self, session: _Session, now: float) -> dict[str, Any]:
        return {
            "access_token": session.access,
            "token_type": "bearer",
            "expires_in": round(session.access_expires - now),
            "refresh_token": session.refresh,
            "refresh_token_expires_in": round(session.refresh_expires - now),
            "scope": session.scope,
            "owner_id": session.owner_id,
            "endpoint_id": f"ep-{session.id}",
            "session_id": session.id,
        }

    def _revoke(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        token = req.form().get("token", "")
        session = self._by_access.get(token) or self._by_refresh.get(token)
        if session is not None:
            session.revoked = True
        return SandboxResponse(200, {"Content-Length": "0"})


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest()).rstrip(b"=").decode()


def _opaque_token() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(33)).decode()


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip()).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None
