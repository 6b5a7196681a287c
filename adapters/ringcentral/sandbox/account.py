# SPDX-License-Identifier: MIT
"""A simulated RingCentral account that speaks the REST API the client uses.

:class:`SandboxAccount` holds the state (users, OAuth sessions, calls, recordings, insights, rate
limit windows) and answers :class:`SandboxRequest` objects. The same account can be reached
in-process through an httpx transport and over real loopback sockets at the same time (see
:mod:`adapters.ringcentral.sandbox.server`); both go through :meth:`SandboxAccount.handle`.

What it checks, like RingCentral does: OAuth client ids, exact redirect URIs, single-use codes with
a 60 s life, PKCE (S256 and plain), refresh-token rotation with the 10 s grace for the old token,
session revocation, the five-sessions cap, bearer tokens on every API route (``access_token`` in
the query only on the media host), query parameter values, per-user rate limits per group with the
penalty restarting on every request sent during it, and RingCentral's error bodies.

Threading contract: :meth:`SandboxAccount.handle` and every public method are thread-safe (one
lock); the socket server calls them from many threads.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import secrets
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from adapters.ringcentral.sandbox.clock import Clock, ManualClock, iso, parse_iso
from adapters.ringcentral.sandbox.data import People, Person, load_people, pick_topic, render_insights, wav_bytes
from adapters.ringcentral.sandbox.ids import random_alnum, random_hex
from adapters.ringcentral.sandbox.scenario import Scenario, preset
from adapters.ringcentral.sandbox.server import MEDIA_BASE, PLATFORM_BASE, SandboxServer, SandboxTransport
from adapters.ringcentral.sandbox.wire import (
    SandboxRequest,
    SandboxResponse,
    ai_error,
    api_error,
    json_response,
    oauth_error,
    pattern_match,
    token_invalid,
)

__all__ = [
    "ADMIN_CLIENT_ID",
    "ADMIN_CLIENT_SECRET",
    "CALL_KINDS",
    "DEFAULT_REDIRECT_URI",
    "DESKTOP_CLIENT_ID",
    "LoggedRequest",
    "ManualClock",
    "SandboxAccount",
    "SandboxRequest",
    "SandboxResponse",
    "SimCall",
    "SimRecording",
]

#: OAuth client ids the account knows. The desktop app is a public (PKCE) client; the admin
#: client uses the JWT grant with a secret.
DESKTOP_CLIENT_ID = "sandbox-desktop-app"
ADMIN_CLIENT_ID = "sandbox-admin-app"
ADMIN_CLIENT_SECRET = "sandbox-admin-secret"  # noqa: S105 (a published demo value)

#: The redirect URI registered for the desktop client (any loopback port is accepted too, see
#: :class:`SandboxAccount`).
DEFAULT_REDIRECT_URI = "http://127.0.0.1:53682/callback"

PENALTY_SECONDS = 60
WINDOW_SECONDS = 60
SESSION_CAP = 5
REFRESH_GRACE = 10.0
UNUSED_REFRESH_GRACE = 3600.0
MAX_SYNC_TOKENS = 5000

_RANGE_PREFIX = "bytes="


# --- calls --------------------------------------------------------------------------------------


@dataclass
class SimRecording:
    id: str
    leg: int
    start: float
    duration: int
    attach_at: float | None
    insights_at: float | None


@dataclass
class SimCall:
    """One call and its timeline. Times are UNIX seconds."""

    id: str
    session_id: str
    telephony_session_id: str
    kind: str
    direction: str
    start: float
    duration: int
    visible_at: float
    remote: Person
    colleague: Person | None
    result: str
    reason: str | None
    action: str
    transport: str
    recordings: list[SimRecording]
    short_recording: bool = False
    message_id: str | None = None
    topic: str = "billing"
    malformed: str | None = None
    deleted_at: float | None = None

    @property
    def end(self) -> float:
        return self.start + self.duration

    def attached(self, now: float) -> list[SimRecording]:
        return [r for r in self.recordings if r.attach_at is not None and r.attach_at <= now]

    def modified_at(self, now: float) -> float:
        times = [self.visible_at] + [r.attach_at for r in self.attached(now) if r.attach_at is not None]
        if self.deleted_at is not None and self.deleted_at <= now:
            times.append(self.deleted_at)
        return max(times)


#: kind → weight in generated traffic.
CALL_KINDS: dict[str, float] = {
    "inbound": 30,
    "outbound": 25,
    "missed": 10,
    "voicemail": 8,
    "internal": 8,
    "transfer": 9,
    "busy": 3,
    "no-answer": 3,
    "unknown": 2,
    "answered-elsewhere": 2,
}


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


@dataclass
class _SyncState:
    since: float
    view: str
    status_group: str
    generation: int


@dataclass
class _Fault:
    kind: str
    path_contains: str | None
    remaining: int


@dataclass(frozen=True)
class LoggedRequest:
    """One request the account answered (for assertions and the benchmark)."""

    time: float
    method: str
    host: str
    path: str
    status: int
    group: str | None


_Handler = Callable[[SandboxRequest, tuple[str, ...]], SandboxResponse]


class SandboxAccount:
    """A simulated RingCentral account with one signed-in user (the agent) and demo traffic.

    Args:
        clock: UNIX seconds; a :class:`ManualClock` for tests, ``time.time`` for a live demo.
        scenario: a :class:`Scenario` or a preset name (see :func:`~.scenario.preset`).
        seed: makes ids, people and timings reproducible.
        redirect_uris: registered redirect URIs of the desktop client, matched exactly.
        any_loopback_port: also accept ``http://127.0.0.1:<any port>/callback`` (tests bind port 0).
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        scenario: Scenario | str = "happy",
        seed: int = 0,
        redirect_uris: Iterable[str] = (DEFAULT_REDIRECT_URI,),
        any_loopback_port: bool = True,
    ) -> None:
        self.clock: Clock = clock if clock is not None else ManualClock()
        self.scenario = preset(scenario) if isinstance(scenario, str) else scenario
        self.people: People = load_people()
        self._rng = random.Random(seed)
        self._fault_rng = random.Random(seed + 1)
        self._lock = threading.RLock()
        self._redirect_uris = set(redirect_uris)
        self._any_loopback_port = any_loopback_port
        self.calls: dict[str, SimCall] = {}
        self._recordings: dict[str, tuple[SimCall, SimRecording]] = {}
        self._sessions: dict[str, _Session] = {}
        self._by_access: dict[str, _Session] = {}
        self._by_refresh: dict[str, _Session] = {}
        self._codes: dict[str, _Code] = {}
        self._jwts: set[str] = set()
        self._sync: dict[str, _SyncState] = {}
        self._generation = 0
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._penalty: dict[tuple[str, str], float] = {}
        self._faults: list[_Fault] = []
        self.requests: list[LoggedRequest] = []
        self.deny_consent = False
        self.hang_seconds = 2.0
        now = self.clock()
        self._next_call_at: float | None = None
        if self.scenario.delays.call_interval is not None:
            self._next_call_at = now + self._rng.uniform(5.0, 15.0)
        for k in range(self.scenario.history):
            end = now - 600 - k * 1800 - self._rng.uniform(0, 900)
            self._make_call(end=end, settled=True)
        self._routes = self._build_routes()

    # --- ways in ------------------------------------------------------------------------------

    def transport(self, *, platform_base: str | None = None, media_base: str | None = None) -> SandboxTransport:
        """An in-process httpx transport to this account (no sockets).

        Use ``httpx.Client(transport=account.transport())`` with ``server_url`` =
        :data:`~.server.PLATFORM_BASE` (the default host names).
        """
        return SandboxTransport(self, platform_base=platform_base or PLATFORM_BASE, media_base=media_base or MEDIA_BASE)

    def serve(self, host: str = "127.0.0.1", port: int = 0, *, media_port: int = 0) -> SandboxServer:
        """Serves this account on loopback sockets; the handle has ``.url``, ``.media_url``, ``.close()``."""
        return SandboxServer(self, host=host, port=port, media_port=media_port)

    # --- test and demo hooks ------------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Moves a :class:`ManualClock` forward (calls end, records appear, artifacts attach).

        Raises:
            TypeError: the account runs on a real clock.
        """
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a ManualClock; this account runs on real time")
        self.clock.advance(seconds)

    def place_call(
        self,
        kind: str = "inbound",
        *,
        ended_ago: float = 0.0,
        duration: int | None = None,
        recorded: bool | None = None,
        remote: Person | None = None,
    ) -> SimCall:
        """Adds a call that ended ``ended_ago`` seconds ago; its timeline follows the scenario.

        Args:
            kind: one of :data:`CALL_KINDS`.
            ended_ago: seconds before now the call ended.
            duration: seconds; drawn at random when ``None``.
            recorded: force recording on or off; the scenario's share decides when ``None``.
            remote: the outside party; a demo contact when ``None``.
        """
        if kind not in CALL_KINDS:
            raise ValueError(f"unknown call kind {kind!r}; choose one of {', '.join(CALL_KINDS)}")
        with self._lock:
            return self._make_call(
                end=self.clock() - ended_ago, kind=kind, duration=duration, recorded=recorded, remote=remote
            )

    def delete_call(self, call_id: str) -> None:
        """Deletes a record (it shows in ISync with ``deleted: true`` when ``showDeleted`` is set)."""
        with self._lock:
            self.calls[call_id].deleted_at = self.clock()

    def reset_call_log(self) -> None:
        """Invalidates every sync token (the next ISync gets ``CLG-101``)."""
        with self._lock:
            self._generation += 1

    def inject(self, kind: str, *, path_contains: str | None = None, times: int = 1) -> None:
        """Makes the next matching request(s) fail.

        Args:
            kind: ``server-error`` (500 CMN-201), ``unavailable`` (503 CMN-203), ``timeout`` (no
                answer), ``truncated`` (connection cut mid-body), ``not-json`` (an HTML error page
                with status 200), ``cut-json`` (a JSON body cut short), ``other-limit`` (429 with no
                ``X-Rate-Limit-*`` headers), ``token-invalid`` (401 as if revoked),
                ``no-permission`` (403 ``InsufficientPermissions`` / ``CMN-401``).
            path_contains: only requests whose path contains this.
            times: how many requests.
        """
        kinds = {"server-error", "unavailable", "timeout", "truncated", "not-json", "cut-json", "other-limit"}
        if kind not in kinds | {"token-invalid", "no-permission"}:
            raise ValueError(f"unknown fault {kind!r}")
        with self._lock:
            self._faults.append(_Fault(kind, path_contains, times))

    def revoke_all_sessions(self) -> None:
        """Revokes every token, as a password change or an admin would."""
        with self._lock:
            for session in self._sessions.values():
                session.revoked = True

    def make_jwt(self) -> str:
        """A JWT credential for the admin client's JWT grant (what the Developer Console issues)."""
        header = base64.urlsafe_b64encode(b'{"alg":"RS256","typ":"JWT"}').rstrip(b"=").decode()
        payload = {"aud": "sandbox", "sub": self.people.agent.extension_id, "iss": ADMIN_CLIENT_ID}
        body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
        token = f"{header}.{body}.{secrets.token_urlsafe(32)}"
        with self._lock:
            self._jwts.add(token)
        return token

    def request_count(self, *, path_contains: str = "", status: int | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if path_contains in r.path and (status is None or r.status == status))

    # --- the HTTP entry point -----------------------------------------------------------------

    def handle(self, req: SandboxRequest) -> SandboxResponse:
        """Answers one request. Thread-safe."""
        with self._lock:
            now = self.clock()
            self._generate_due_calls(now)
            response, group = self._dispatch(req, now)
            self.requests.append(LoggedRequest(now, req.method, req.host, req.path, response.status, group))
        return response

    def _dispatch(self, req: SandboxRequest, now: float) -> tuple[SandboxResponse, str | None]:
        for method, host, pattern, group, needs_auth, handler in self._routes:
            match = pattern_match(pattern, req.path)
            if match is None:
                continue
            if req.method != method:
                return api_error(405, "CMN-405", f"Method {req.method} is not allowed"), None
            if host != "any" and req.host != host:
                if host == "media":
                    return api_error(404, "CMN-102", "Media content is served from the media host only"), None
                return api_error(404, "CMN-102", "Resource not found"), None
            owner = "anonymous"
            if needs_auth:
                owner_or_error = self._authenticate(req, now)
                if isinstance(owner_or_error, SandboxResponse):
                    return owner_or_error, group
                owner = owner_or_error
            elif group == "Auth":
                owner = req.form().get("client_id") or req.param("client_id") or "anonymous"
            limited = self._rate_limit(owner, group, now) if group else None
            if limited is not None:
                return limited, group
            fault = self._take_fault(req) if group else None
            if fault is not None:
                return self._with_limits(fault, owner, group), group
            response = handler(req, match)
            return self._with_limits(response, owner, group), group
        return api_error(404, "CMN-102", "Resource for parameter [path] is not found", parameter="path"), None

    def _build_routes(self) -> list[tuple[str, str, str, str | None, bool, _Handler]]:
        acc = r"(?:~|\d+)"
        ext = r"(?:~|\d+)"
        base = f"/restapi/v1.0/account/{acc}"
        ai = f"/ai/ringsense/v1/public/accounts/{acc}/domains/pbx"
        return [
            ("GET", "platform", "/restapi/oauth/authorize", "Auth", False, self._authorize),
            ("POST", "platform", "/restapi/oauth/token", "Auth", False, self._token),
            ("POST", "platform", "/restapi/oauth/revoke", "Auth", False, self._revoke),
            ("GET", "platform", f"{base}/extension/{ext}", "Light", True, self._extension),
            ("GET", "platform", f"{base}/extension/{ext}/call-log", "Heavy", True, self._call_log),
            ("GET", "platform", f"{base}/extension/{ext}/call-log/([^/]+)", "Heavy", True, self._call_log_record),
            ("GET", "platform", f"{base}/extension/{ext}/call-log-sync", "Heavy", True, self._call_log_sync),
            ("GET", "platform", f"{base}/extension/{ext}/active-calls", "Heavy", True, self._active_calls),
            ("GET", "platform", f"{base}/recording/([^/]+)", "Heavy", True, self._recording),
            ("GET", "media", f"{base}/recording/([^/]+)/content", "Heavy", True, self._recording_content),
            ("GET", "platform", f"{ai}/records/([^/]+)/insights", "Light", True, self._insights_by_record),
            ("GET", "platform", f"{ai}/sessions/([^/]+)/insights", "Light", True, self._insights_by_session),
            ("POST", "any", "/__sandbox/advance", None, False, self._control_advance),
            ("POST", "any", "/__sandbox/calls", None, False, self._control_call),
        ]

    # --- auth ---------------------------------------------------------------------------------

    def _authenticate(self, req: SandboxRequest, now: float) -> str | SandboxResponse:
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
            session_owner=self.people.agent.extension_id or "",
            client_id=client_id or "",
            redirect_uri=redirect_uri,
            challenge=req.param("code_challenge"),
            method=method,
            expires=self.clock() + 60,
        )
        query = {"code": code, "expires_in": "60"}
        if state is not None:
            query["state"] = state
        return SandboxResponse(302, {"Location": f"{redirect_uri}?{urlencode(query)}", "Content-Length": "0"})

    def _token(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        form = req.form()
        now = self.clock()
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
            return self._issue(self.people.agent.extension_id or "", ADMIN_CLIENT_ID, form, now)
        return oauth_error(400, "unsupported_grant_type", "OAU-112", "Unsupported grant type")

    def _ttls(self, form: Mapping[str, str]) -> tuple[int, int]:
        access = self.scenario.access_token_ttl
        refresh = self.scenario.refresh_token_ttl
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
            access=_token(),
            access_expires=now + access_ttl,
            refresh=_token(),
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
        session.access = _token()
        session.access_expires = now + access_ttl
        session.access_used_at = None
        session.refresh = _token()
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

    # --- rate limits and faults ---------------------------------------------------------------

    def _rate_limit(self, owner: str, group: str, now: float) -> SandboxResponse | None:
        key = (owner, group)
        limit = self.scenario.limits.get(group, 50)
        if self._penalty.get(key, 0.0) > now:
            self._penalty[key] = now + PENALTY_SECONDS  # every request during the penalty restarts it
            return self._too_many(group, limit)
        window = self._windows.setdefault(key, deque())
        while window and window[0] <= now - WINDOW_SECONDS:
            window.popleft()
        if len(window) >= limit:
            self._penalty[key] = now + PENALTY_SECONDS
            return self._too_many(group, limit)
        share = self.scenario.other_limit_share
        if group != "Auth" and share and self._fault_rng.random() < share:
            return self._other_limit()
        window.append(now)
        return None

    def _too_many(self, group: str, limit: int) -> SandboxResponse:
        response = api_error(429, "CMN-301", "Request rate exceeded")
        response.headers.update(
            {
                "Retry-After": str(PENALTY_SECONDS),
                "X-Rate-Limit-Group": group.lower(),
                "X-Rate-Limit-Limit": str(limit),
                "X-Rate-Limit-Remaining": "0",
                "X-Rate-Limit-Window": str(WINDOW_SECONDS),
            }
        )
        return response

    def _with_limits(self, response: SandboxResponse, owner: str, group: str | None) -> SandboxResponse:
        if group is None or response.status == 429 or response.fault is not None:
            return response
        window = self._windows.get((owner, group), deque())
        limit = self.scenario.limits.get(group, 50)
        response.headers.update(
            {
                "X-Rate-Limit-Group": group.lower(),
                "X-Rate-Limit-Limit": str(limit),
                "X-Rate-Limit-Remaining": str(max(0, limit - len(window))),
                "X-Rate-Limit-Window": str(WINDOW_SECONDS),
            }
        )
        return response

    def _take_fault(self, req: SandboxRequest) -> SandboxResponse | None:
        kind: str | None = None
        for fault in self._faults:
            if fault.remaining > 0 and (fault.path_contains is None or fault.path_contains in req.path):
                fault.remaining -= 1
                kind = fault.kind
                break
        self._faults = [f for f in self._faults if f.remaining > 0]
        share = self.scenario.server_error_share
        if kind is None and share and not req.path.startswith("/restapi/oauth") and self._fault_rng.random() < share:
            kind = self._fault_rng.choice(["server-error", "unavailable"])
        if kind is None:
            return None
        if kind == "server-error":
            return api_error(500, "CMN-201", "Service Temporary Unavailable")
        if kind == "unavailable":
            return api_error(503, "CMN-203", "Internal Server Error")
        if kind == "timeout":
            return SandboxResponse(504, fault="timeout")
        if kind == "truncated":
            return SandboxResponse(200, {"Content-Type": "application/json"}, b'{"records":[{"id":"', fault="truncated")
        if kind == "not-json":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return SandboxResponse(200, {"Content-Type": "text/html"}, page)
        if kind == "cut-json":
            return SandboxResponse(200, {"Content-Type": "application/json"}, b'{"uri":"x","records":[{"id":"abc","sta')
        if kind == "other-limit":
            return self._other_limit()
        if kind == "no-permission":
            message = "In order to call this API endpoint, application needs to have [ReadCallLog] permission"
            return json_response(
                403,
                {
                    "errorCode": "InsufficientPermissions",
                    "message": message,
                    "errors": [{"errorCode": "CMN-401", "message": message, "permissionName": "ReadCallLog"}],
                    "permissionName": "ReadCallLog",
                },
            )
        return token_invalid("OAU-213", "Token not found")

    def _other_limit(self) -> SandboxResponse:
        response = api_error(429, "CMN-310", "Global request rate exceeded")
        response.headers["Retry-After"] = "5"
        return response

    # --- identity -----------------------------------------------------------------------------

    def _extension(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        agent = self.people.agent
        first, _sep, last = (agent.name or "").partition(" ")
        acc = self.people.account_id
        return json_response(
            200,
            {
                "uri": f"{req.platform_base}/restapi/v1.0/account/{acc}/extension/{agent.extension_id}",
                "id": int(agent.extension_id or 0),
                "extensionNumber": agent.extension_number,
                "name": agent.name,
                "contact": {"firstName": first, "lastName": last, "email": self.people.agent_email},
                "account": {"id": acc, "uri": f"{req.platform_base}/restapi/v1.0/account/{acc}"},
                "status": "Enabled",
                "type": "User",
            },
        )

    # --- call log -----------------------------------------------------------------------------

    def _visible_calls(self, now: float, *, show_deleted: bool = False) -> list[SimCall]:
        out = [
            c
            for c in self.calls.values()
            if c.visible_at <= now and (show_deleted or c.deleted_at is None or c.deleted_at > now)
        ]
        out.sort(key=lambda c: c.start, reverse=True)
        return out

    def _call_log(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        now = self.clock()
        try:
            date_to = parse_iso(req.param("dateTo") or iso(now))
            raw_from = req.param("dateFrom")
            date_from = parse_iso(raw_from) if raw_from else date_to - 86400
        except ValueError:
            return api_error(400, "CMN-101", "Parameter [dateFrom] value is invalid", parameter="dateFrom")
        view = req.param("view") or "Simple"
        if view not in ("Simple", "Detailed"):
            return api_error(400, "CMN-101", "Parameter [view] value is invalid", parameter="view")
        per_page_raw = req.param("perPage") or "100"
        if per_page_raw == "max":
            per_page = 1000
        elif per_page_raw.isdigit() and int(per_page_raw) >= 1:
            per_page = min(int(per_page_raw), 1000)
        else:
            return api_error(400, "CMN-101", "Parameter [perPage] value is invalid", parameter="perPage")
        page_raw = req.param("page") or "1"
        if not page_raw.isdigit() or int(page_raw) < 1:
            return api_error(400, "CMN-101", "Parameter [page] value is invalid", parameter="page")
        page = int(page_raw)
        if req.param("phoneNumber") and req.param("extensionNumber"):
            return api_error(400, "CMN-101", "Parameters [phoneNumber] and [extensionNumber] cannot be combined")
        for name, allowed in (("direction", {"Inbound", "Outbound"}), ("transport", {"PSTN", "VoIP"})):
            for value in req.params(name):
                if value not in allowed:
                    return api_error(400, "CMN-101", f"Parameter [{name}] value is invalid", parameter=name)
        recording_type = req.param("recordingType")
        if recording_type is None and req.param("withRecording") == "true":
            recording_type = "All"
        if recording_type not in (None, "Automatic", "OnDemand", "All"):
            return api_error(400, "CMN-101", "Parameter [recordingType] value is invalid", parameter="recordingType")
        calls = [
            c
            for c in self._visible_calls(now, show_deleted=req.param("showDeleted") == "true")
            if date_from <= c.start <= date_to and self._matches(c, req, recording_type, now)
        ]
        start = (page - 1) * per_page
        chunk = calls[start : start + per_page]
        records = [self._record(c, now, view, req) for c in chunk]
        base_query = [(k, v) for k, v in req.query if k not in ("page", "perPage")]
        path = req.path

        def page_uri(n: int) -> str:
            return f"{req.platform_base}{path}?{urlencode([*base_query, ('page', str(n)), ('perPage', str(per_page))])}"

        navigation: dict[str, Any] = {"firstPage": {"uri": page_uri(1)}}
        if start + per_page < len(calls):
            navigation["nextPage"] = {"uri": page_uri(page + 1)}
        if page > 1:
            navigation["previousPage"] = {"uri": page_uri(page - 1)}
        paging: dict[str, Any] = {"page": page, "perPage": per_page}
        if records:
            paging.update({"pageStart": start, "pageEnd": start + len(records) - 1})
        return json_response(
            200, {"uri": page_uri(page), "records": records, "paging": paging, "navigation": navigation}
        )

    def _matches(self, call: SimCall, req: SandboxRequest, recording_type: str | None, now: float) -> bool:
        directions = req.params("direction")
        if directions and call.direction not in directions:
            return False
        transports = req.params("transport")
        if transports and call.transport not in transports:
            return False
        types = req.params("type")
        if types and "Voice" not in types:
            return False
        if recording_type is not None and not call.attached(now):
            return False
        if req.param("telephonySessionId") and req.param("telephonySessionId") != call.telephony_session_id:
            return False
        if req.param("sessionId") and req.param("sessionId") != call.session_id:
            return False
        number = req.param("phoneNumber")
        if number and (call.remote.phone_number or "").lstrip("+") != number.lstrip("+"):
            return False
        ext = req.param("extensionNumber")
        return not (ext and call.remote.extension_number != ext)

    def _call_log_record(self, req: SandboxRequest, match: tuple[str, ...]) -> SandboxResponse:
        now = self.clock()
        view = req.param("view") or "Simple"
        ids = [i for i in match[0].split(",") if i]
        visible = {c.id: c for c in self._visible_calls(now)}
        if len(ids) == 1:
            call = visible.get(ids[0])
            if call is None:
                return api_error(
                    404,
                    "CMN-102",
                    "Resource for parameter [callRecordId] is not found",
                    parameter="callRecordId",
                    parameterValue=ids[0],
                )
            return json_response(200, self._record(call, now, view, req))
        boundary = f"Boundary_{secrets.token_hex(6)}"
        statuses = [{"status": 200 if i in visible else 404} for i in ids]
        parts = [json.dumps({"response": statuses})]
        for i in ids:
            call = visible.get(i)
            if call is None:
                parts.append(json.dumps({"errorCode": "CMN-102", "message": "Resource not found"}))
            else:
                parts.append(json.dumps(self._record(call, now, view, req)))
        body = "".join(f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{p}\r\n" for p in parts)
        body += f"--{boundary}--\r\n"
        return SandboxResponse(207, {"Content-Type": f"multipart/mixed; boundary={boundary}"}, body.encode())

    def _call_log_sync(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        now = self.clock()
        sync_type = req.param("syncType") or "FSync"
        if sync_type == "FSync":
            count_raw = req.param("recordCount")
            if count_raw is None:
                return api_error(
                    400, "CMN-101", "Parameter [recordCount] is required for FSync", parameter="recordCount"
                )
            if not count_raw.isdigit() or not 1 <= int(count_raw) <= 250:
                return api_error(400, "CMN-101", "Parameter [recordCount] value is invalid", parameter="recordCount")
            view = req.param("view") or "Simple"
            status_group = req.param("statusGroup") or "All"
            if view not in ("Simple", "Detailed"):
                return api_error(400, "CMN-101", "Parameter [view] value is invalid", parameter="view")
            if status_group not in ("All", "Missed"):
                return api_error(400, "CMN-101", "Parameter [statusGroup] value is invalid", parameter="statusGroup")
            date_from = now - 30 * 86400
            if req.param("dateFrom"):
                try:
                    date_from = parse_iso(req.param("dateFrom") or "")
                except ValueError:
                    return api_error(400, "CMN-101", "Parameter [dateFrom] value is invalid", parameter="dateFrom")
                if date_from < now - 30 * 86400 - 60:
                    return api_error(
                        400, "CMN-101", "Parameter [dateFrom] must be within the last 30 days", parameter="dateFrom"
                    )
            calls = [
                c
                for c in self._visible_calls(now)
                if c.start >= date_from and (status_group == "All" or c.result == "Missed")
            ][: int(count_raw)]
            state = _SyncState(since=now, view=view, status_group=status_group, generation=self._generation)
        elif sync_type == "ISync":
            token = req.param("syncToken")
            if not token:
                return api_error(400, "CMN-101", "Parameter [syncToken] is required for ISync", parameter="syncToken")
            previous = self._sync.get(token)
            if previous is None:
                return api_error(400, "CLG-101", "Parameter [syncToken] is invalid", parameter="syncToken")
            if previous.generation != self._generation:
                return api_error(
                    400,
                    "CLG-101",
                    "Parameter [syncToken] is invalid [Sync token expired, call log was reset]",
                    parameter="syncToken",
                )
            show_deleted = req.param("showDeleted") == "true"
            calls = [
                c
                for c in self._visible_calls(now, show_deleted=show_deleted)
                if previous.since < c.modified_at(now) <= now
                and (previous.status_group == "All" or c.result == "Missed")
            ]
            if len(calls) > 250:
                return api_error(
                    400,
                    "CLG-104",
                    "Parameter [syncToken] is invalid [max sync record number limit is exceeded]",
                    parameter="syncToken",
                )
            view = previous.view
            state = _SyncState(since=now, view=view, status_group=previous.status_group, generation=self._generation)
        else:
            return api_error(400, "CMN-101", "Parameter [syncType] value is invalid", parameter="syncType")
        token = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
        self._sync[token] = state
        if len(self._sync) > MAX_SYNC_TOKENS:  # the oldest tokens are forgotten (a later ISync gets CLG-101)
            del self._sync[next(iter(self._sync))]
        records = [self._record(c, now, view, req) for c in calls]
        return json_response(
            200,
            {
                "uri": f"{req.platform_base}{req.path}?{urlencode(req.query)}",
                "records": records,
                "syncInfo": {"syncType": sync_type, "syncToken": token, "syncTime": iso(now)},
            },
        )

    def _active_calls(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        now = self.clock()
        calls = sorted(
            (c for c in self.calls.values() if c.start <= now and now - c.end < 120),
            key=lambda c: c.start,
            reverse=True,
        )
        records = [self._record(c, now, "Simple", req) for c in calls]
        uri = f"{req.platform_base}{req.path}"
        return json_response(
            200, {"uri": uri, "records": records, "paging": {"page": 1, "perPage": 100}, "navigation": {}}
        )

    # --- recordings and insights ----------------------------------------------------------------

    def _attached_recording(self, recording_id: str) -> tuple[SimCall, SimRecording] | None:
        found = self._recordings.get(recording_id)
        now = self.clock()
        if found is None or found[1].attach_at is None or found[1].attach_at > now or found[0].visible_at > now:
            return None
        return found

    def _content_uri(self, req: SandboxRequest, recording_id: str) -> str:
        return f"{req.media_base}/restapi/v1.0/account/{self.people.account_id}/recording/{recording_id}/content"

    def _recording(self, req: SandboxRequest, match: tuple[str, ...]) -> SandboxResponse:
        found = self._attached_recording(match[0])
        if found is None:
            return api_error(
                404, "CMN-102", "Resource for parameter [recordingId] is not found", parameter="recordingId"
            )
        _, rec = found
        return json_response(
            200,
            {
                "uri": f"{req.platform_base}/restapi/v1.0/account/{self.people.account_id}/recording/{rec.id}",
                "id": rec.id,
                "contentUri": self._content_uri(req, rec.id),
                "contentType": "audio/wav",
                "duration": rec.duration,
            },
        )

    def _recording_content(self, req: SandboxRequest, match: tuple[str, ...]) -> SandboxResponse:
        found = self._attached_recording(match[0])
        if found is None:
            return api_error(
                404, "CMN-102", "Resource for parameter [recordingId] is not found", parameter="recordingId"
            )
        _, rec = found
        data = wav_bytes(min(max(rec.duration, 1), 8))
        total = len(data)
        headers = {"Content-Type": "audio/wav", "Accept-Ranges": "bytes"}
        disposition = req.param("contentDisposition")
        if disposition in ("Inline", "Attachment"):
            filename = req.param("contentDispositionFilename") or f"recording-{rec.id}.wav"
            headers["Content-Disposition"] = f'{disposition.lower()}; filename="{filename}"'
        range_header = req.header("Range")
        if range_header:
            span = _parse_range(range_header, total)
            if span is None:
                response = api_error(416, "CMN-107", "Requested Range Not Satisfiable")
                response.headers["Content-Range"] = f"bytes */{total}"
                return response
            first, last = span
            headers["Content-Range"] = f"bytes {first}-{last}/{total}"
            return SandboxResponse(206, headers, data[first : last + 1])
        return SandboxResponse(200, headers, data)

    def _insights_for(self, req: SandboxRequest, call: SimCall, rec: SimRecording) -> dict[str, Any]:
        colleague = call.colleague if call.kind == "transfer" else None
        created = rec.insights_at if rec.insights_at is not None else self.clock()
        return render_insights(
            topic=call.topic,
            recording_id=rec.id,
            telephony_session_id=call.telephony_session_id,
            owner_extension_id=self.people.agent.extension_id or "",
            account_id=self.people.account_id,
            direction=call.direction,
            agent=self.people.agent,
            caller=call.remote,
            colleague=colleague,
            recording_start=iso(rec.start),
            duration_s=rec.duration,
            created=iso(created),
            rs_record_uri=f"{req.platform_base}/ringsense/calls/{call.telephony_session_id}-{rec.id}",
            part="whole" if colleague is None else ("first" if rec.leg == 0 else "second"),
        )

    def _ringsense_refusal(self) -> SandboxResponse | None:
        if self.scenario.ringsense_licensed:
            return None
        return ai_error(403, "RAH-3005", "User does not have permission to access AI insights (RingSense licence)")

    def _insights_ready(self, rec: SimRecording) -> bool:
        now = self.clock()
        return (
            self.scenario.insights_arrive
            and rec.attach_at is not None
            and rec.attach_at <= now
            and rec.insights_at is not None
            and rec.insights_at <= now
        )

    def _insights_by_record(self, req: SandboxRequest, match: tuple[str, ...]) -> SandboxResponse:
        refusal = self._ringsense_refusal()
        if refusal is not None:
            return refusal
        found = self._recordings.get(match[0])
        if found is None:
            return ai_error(404, "RAH-3001", "Call not found with sourceRecordId")
        call, rec = found
        if not self._insights_ready(rec):
            return ai_error(404, "RAH-3001", "Insights not found")
        only = set(req.params("insightTypes"))
        body = self._insights_for(req, call, rec)
        if only:
            body["insights"] = {k: v for k, v in body["insights"].items() if k in only}
        return json_response(200, body)

    def _insights_by_session(self, req: SandboxRequest, match: tuple[str, ...]) -> SandboxResponse:
        refusal = self._ringsense_refusal()
        if refusal is not None:
            return refusal
        calls = [c for c in self.calls.values() if c.telephony_session_id == match[0]]
        records = [self._insights_for(req, c, r) for c in calls for r in c.recordings if self._insights_ready(r)]
        if not records:
            return ai_error(404, "RAH-3001", "Insights not found")
        paging = {"page": 1, "perPage": 100, "pageStart": 0, "pageEnd": len(records) - 1, "totalElements": len(records)}
        return json_response(200, {"records": records, "paging": paging})

    # --- control API (demo and manual testing; no auth, loopback only) --------------------------

    def _control_advance(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        try:
            seconds = float(req.param("seconds") or "0")
            self.advance(seconds)
        except (TypeError, ValueError) as exc:
            return api_error(400, "CMN-101", str(exc), parameter="seconds")
        return json_response(200, {"now": iso(self.clock())})

    def _control_call(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        try:
            call = self.place_call(req.param("kind") or "inbound")
        except ValueError as exc:
            return api_error(400, "CMN-101", str(exc), parameter="kind")
        return json_response(200, {"id": call.id, "telephonySessionId": call.telephony_session_id, "kind": call.kind})

    # --- generating calls -----------------------------------------------------------------------

    def _generate_due_calls(self, now: float) -> None:
        interval = self.scenario.delays.call_interval
        if interval is None or self._next_call_at is None:
            return
        while self._next_call_at <= now:
            self._make_call(end=self._next_call_at)
            self._next_call_at += self._rng.uniform(*interval)

    def _make_call(
        self,
        *,
        end: float,
        kind: str | None = None,
        duration: int | None = None,
        recorded: bool | None = None,
        remote: Person | None = None,
        settled: bool = False,
    ) -> SimCall:
        rng = self._rng
        kind = kind or rng.choices(list(CALL_KINDS), weights=list(CALL_KINDS.values()))[0]
        delays = self.scenario.delays
        people = self.people
        colleague: Person | None = rng.choice(people.colleagues)
        if remote is None:
            if kind == "internal":
                remote = colleague
            else:
                pool = people.contacts if rng.random() < 0.85 else people.unknown
                remote = rng.choice(pool)
        assert remote is not None
        connected = kind in ("inbound", "outbound", "internal", "transfer", "answered-elsewhere")
        if duration is None:
            if kind in ("missed", "no-answer", "busy"):
                duration = rng.randint(5, 30)
            elif kind == "voicemail":
                duration = rng.randint(20, 60)
            elif kind == "unknown":
                duration = 0
            else:
                duration = rng.randint(25, 420)
        direction = "Outbound" if kind in ("outbound", "busy", "no-answer", "unknown") else "Inbound"
        if kind == "internal":
            direction = rng.choice(["Inbound", "Outbound"])
        result, reason, action = {
            "inbound": ("Accepted", "Accepted", "Phone Call"),
            "outbound": ("Call connected", "Connected", "VoIP Call"),
            "missed": ("Missed", "Hang Up", "Phone Call"),
            "voicemail": ("Voicemail", "No Answer", "Phone Call"),
            "internal": ("Call connected" if direction == "Outbound" else "Accepted", None, "VoIP Call"),
            "transfer": ("Accepted", "Accepted", "Phone Call"),
            "busy": ("Busy", "Line Busy", "VoIP Call"),
            "no-answer": ("No Answer", "No Answer", "VoIP Call"),
            "unknown": ("Unknown", None, "VoIP Call"),
            "answered-elsewhere": ("Answered Elsewhere", None, "Phone Call"),
        }[kind]
        start = end - duration
        visible_at = end + rng.uniform(*delays.visible)
        call = SimCall(
            id=random_alnum(rng, 15),
            session_id=str(rng.randint(10**10, 10**13)),
            telephony_session_id=f"s-{random_hex(rng, 12)}z{random_hex(rng, 11)}z{random_hex(rng, 9)}0000",
            kind=kind,
            direction=direction,
            start=start,
            duration=duration,
            visible_at=visible_at,
            remote=remote,
            colleague=colleague,
            result=result,
            reason=reason,
            action=action,
            transport="VoIP" if kind == "internal" or action == "VoIP Call" else "PSTN",
            recordings=[],
            topic=pick_topic(rng),
        )
        if kind == "voicemail":
            call.message_id = str(rng.randint(10**10, 10**11))
        will_record = recorded if recorded is not None else (connected and rng.random() < self.scenario.recorded_share)
        if will_record and connected:
            if duration < 30:
                call.short_recording = True
            else:
                legs = [0, 1] if kind == "transfer" else [0]
                for leg in legs:
                    rec_start = start if leg == 0 else start + duration * 0.45
                    rec_duration = int(duration * (0.45 if kind == "transfer" and leg == 0 else 0.55 if leg else 1.0))
                    attach = end + rng.uniform(*delays.recording) if self.scenario.recordings_arrive else None
                    insights_at = attach + rng.uniform(*delays.insights) if attach is not None else None
                    rec = SimRecording(
                        id=str(rng.randint(10**9, 10**10 - 1)),
                        leg=leg,
                        start=rec_start,
                        duration=max(rec_duration, 1),
                        attach_at=attach,
                        insights_at=insights_at,
                    )
                    call.recordings.append(rec)
                    self._recordings[rec.id] = (call, rec)
        if not settled and self.scenario.malformed_share and rng.random() < self.scenario.malformed_share:
            call.malformed = rng.choice(
                ["no-start-time", "bad-start-time", "bad-direction", "no-id", "formatted-number", "extra-fields"]
            )
        self.calls[call.id] = call
        return call

    # --- rendering records ----------------------------------------------------------------------

    def _record(self, call: SimCall, now: float, view: str, req: SandboxRequest) -> dict[str, Any]:
        people = self.people
        agent = people.agent
        acc = people.account_id
        base = req.platform_base
        tsid_base = call.telephony_session_id.removeprefix("s-")
        agent_party: dict[str, Any] = {
            "phoneNumber": agent.phone_number,
            "extensionNumber": agent.extension_number,
            "extensionId": agent.extension_id,
            "name": agent.name,
        }
        if call.kind == "internal":
            agent_party.pop("phoneNumber")
        remote = call.remote
        remote_party: dict[str, Any] = {}
        if remote.phone_number:
            remote_party["phoneNumber"] = remote.phone_number
        if remote.extension_number:
            remote_party["extensionNumber"] = remote.extension_number
            remote_party["extensionId"] = remote.extension_id
        if remote.name and (remote.extension_number or self._stable(call, 3)):
            remote_party["name"] = remote.name
        if remote.location and not remote.extension_number:
            remote_party["location"] = remote.location
        if call.direction == "Inbound":
            from_party, to_party = remote_party, agent_party
            if "phoneNumber" in remote_party:
                from_party = {**remote_party, "dialerPhoneNumber": remote_party["phoneNumber"]}
        else:
            from_party, to_party = agent_party, remote_party
            if "phoneNumber" in remote_party:
                to_party = {**remote_party, "dialedPhoneNumber": remote_party["phoneNumber"]}
        attached = call.attached(now)
        record: dict[str, Any] = {
            "uri": f"{base}/restapi/v1.0/account/{acc}/extension/{agent.extension_id}/call-log/{call.id}?view={view}",
            "id": call.id,
            "sessionId": call.session_id,
            "telephonySessionId": call.telephony_session_id,
            "partyId": f"p-{tsid_base}-1",
            "startTime": iso(call.start),
            "duration": call.duration,
            "durationMs": call.duration * 1000,
            "type": "Voice",
            "internalType": "Usual" if call.kind == "internal" else "LocalNumber",
            "direction": call.direction,
            "action": call.action,
            "result": call.result,
            "to": to_party,
            "from": from_party,
            "transport": call.transport,
            "extension": {
                "uri": f"{base}/restapi/v1.0/account/{acc}/extension/{agent.extension_id}",
                "id": int(agent.extension_id or 0),
            },
        }
        if call.reason:
            record["reason"] = call.reason
        if call.short_recording:
            record["shortRecording"] = True
        if call.message_id:
            record["message"] = {
                "id": call.message_id,
                "type": "VoiceMail",
                "uri": f"{base}/restapi/v1.0/account/{acc}/extension/{agent.extension_id}"
                f"/message-store/{call.message_id}",
            }
        main = next((r for r in attached if r.leg == 0), None)
        if main is not None:
            record["recording"] = self._recording_ref(req, main)
        if call.deleted_at is not None and call.deleted_at <= now:
            record["deleted"] = True
        if view == "Detailed":
            record["lastModifiedTime"] = iso(call.modified_at(now))
            record["billing"] = {"costIncluded": 0.0, "costPurchased": 0.0}
            record["legs"] = self._legs(call, record, attached, req)
        if call.malformed == "no-start-time":
            record.pop("startTime")
        elif call.malformed == "bad-start-time":
            record["startTime"] = "yesterday afternoon"
        elif call.malformed == "bad-direction":
            record["direction"] = "Sideways"
        elif call.malformed == "no-id":
            record.pop("id")
        elif call.malformed == "formatted-number":
            # Valid, but the number carries formatting, as the API reference warns it may.
            side = "from" if call.direction == "Inbound" else "to"
            number = record[side].get("phoneNumber")
            if isinstance(number, str) and number.startswith("+1") and len(number) == 12:
                record[side]["phoneNumber"] = f"({number[2:5]}){number[5:8]}-{number[8:]}"
        elif call.malformed == "extra-fields":
            # Valid, with fields and values newer than the models know.
            record["metadataCategories"] = ["AiNotes"]
            record["sipUuidInfo"] = f"{call.session_id}-sip"
            record["internalType"] = "SomethingNew"
            record["result"] = "Callback requested"
        return record

    def _recording_ref(self, req: SandboxRequest, rec: SimRecording) -> dict[str, Any]:
        acc = self.people.account_id
        return {
            "uri": f"{req.platform_base}/restapi/v1.0/account/{acc}/recording/{rec.id}",
            "id": rec.id,
            "type": "Automatic",
            "contentUri": self._content_uri(req, rec.id),
        }

    def _legs(
        self, call: SimCall, record: Mapping[str, Any], attached: list[SimRecording], req: SandboxRequest
    ) -> list[dict[str, Any]]:
        agent = self.people.agent
        acc = self.people.account_id
        ext_ref = {
            "uri": f"{req.platform_base}/restapi/v1.0/account/{acc}/extension/{agent.extension_id}",
            "id": int(agent.extension_id or 0),
        }
        leg_type = (
            "ExtensionToExtension"
            if call.kind == "internal"
            else ("SipToPstnMetered" if call.direction == "Outbound" else "Accept")
        )
        first: dict[str, Any] = {
            key: record[key]
            for key in (
                "startTime",
                "duration",
                "durationMs",
                "type",
                "direction",
                "action",
                "result",
                "to",
                "from",
                "transport",
                "telephonySessionId",
            )
            if key in record
        }
        first.update({"legType": leg_type, "master": True, "extension": ext_ref})
        if "reason" in record:
            first["reason"] = record["reason"]
        rec0 = next((r for r in attached if r.leg == 0), None)
        if rec0 is not None:
            first["recording"] = self._recording_ref(req, rec0)
        legs = [first]
        if call.kind == "transfer" and call.colleague is not None:
            colleague = call.colleague
            first["duration"] = int(call.duration * 0.45)
            first["durationMs"] = first["duration"] * 1000
            second: dict[str, Any] = {
                "startTime": iso(call.start + call.duration * 0.45),
                "duration": call.duration - first["duration"],
                "durationMs": (call.duration - first["duration"]) * 1000,
                "type": "Voice",
                "direction": "Outbound",
                "action": "Transfer",
                "result": "Call connected",
                "reason": "Connected",
                "from": {
                    "extensionNumber": agent.extension_number,
                    "extensionId": agent.extension_id,
                    "name": agent.name,
                },
                "to": {
                    "extensionNumber": colleague.extension_number,
                    "extensionId": colleague.extension_id,
                    "name": colleague.name,
                },
                "transport": "VoIP",
                "telephonySessionId": call.telephony_session_id,
                "legType": "TransferCall",
                "master": False,
                "extension": {
                    "uri": f"{req.platform_base}/restapi/v1.0/account/{acc}/extension/{colleague.extension_id}",
                    "id": int(colleague.extension_id or 0),
                },
            }
            rec1 = next((r for r in attached if r.leg == 1), None)
            if rec1 is not None:
                second["recording"] = self._recording_ref(req, rec1)
            legs.append(second)
        return legs

    def _stable(self, call: SimCall, modulo: int) -> bool:
        """A per-call yes/no that does not change between renderings (2 in ``modulo``)."""
        return int(call.session_id) % modulo != 0


# --- helpers ------------------------------------------------------------------------------------


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii", "replace")).digest()).rstrip(b"=").decode()


def _token() -> str:
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


def _parse_range(value: str, total: int) -> tuple[int, int] | None:
    if not value.startswith(_RANGE_PREFIX) or "," in value:
        return None
    first_raw, _, last_raw = value[len(_RANGE_PREFIX) :].strip().partition("-")
    try:
        if first_raw == "":
            suffix = int(last_raw)
            if suffix <= 0:
                return None
            return max(0, total - suffix), total - 1
        first = int(first_raw)
        last = int(last_raw) if last_raw else total - 1
    except ValueError:
        return None
    if first >= total or last < first:
        return None
    return first, min(last, total - 1)
