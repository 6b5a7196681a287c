# SPDX-License-Identifier: MIT
"""A simulated RingCentral account that speaks the REST API the client uses.

:class:`SandboxAccount` answers :class:`~.wire.SandboxRequest` objects. The same account can be
reached in-process through an httpx transport and over real loopback sockets at the same time (see
:mod:`~.server`); both go through :meth:`SandboxAccount.handle`.

The account is composed of areas, each a class that owns its state and its route handlers:

- :mod:`~.oauth`: sessions, codes, JWT credentials; authorize, token, revoke; the bearer check;
- :mod:`~.extension`: the signed-in user's extension;
- :mod:`~.call_log`: call log, records by id, call-log-sync, active calls (records rendered by
  :mod:`~.records`);
- :mod:`~.recordings`: recording metadata, and content with ``Range`` on the media host;
- :mod:`~.insights`: RingSense insights.

Calls themselves are made by :class:`~.calls.CallTraffic` into the account's ``calls`` and
recording index, which the areas are given. Every request passes through the router here:
matching path (405 ``CMN-405`` for another method, 404 ``CMN-102`` on the wrong host), bearer
token (:meth:`~.oauth.OAuth.authenticate`), per-user rate limit (:class:`~.limits.RateLimits`),
injected or random faults (:class:`~.faults.Faults`), the area's handler, then the
``X-Rate-Limit-*`` headers. Adding an area: write its class with a ``routes()`` list of
:class:`~.wire.Route`, build it in :meth:`SandboxAccount.__init__` with the shared state it needs,
and add it to :meth:`SandboxAccount._route_table`.

What it checks, like RingCentral does: OAuth client ids, exact redirect URIs, single-use codes with
a 60 s life, PKCE (S256 and plain), refresh-token rotation with the 10 s grace for the old token,
session revocation, the five-sessions cap, bearer tokens on every API route (``access_token`` in
the query only on the media host), query parameter values, per-user rate limits per group with the
penalty restarting on every request sent during it, and RingCentral's error bodies. Each area's
module says what it checks.

Threading contract: :meth:`SandboxAccount.handle` and every public method are thread-safe (one
lock, an ``RLock``, held while any area runs); the socket server calls them from many threads. The
areas take no locks of their own.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from adapters.ringcentral.sandbox.call_log import CallLog
from adapters.ringcentral.sandbox.calls import CALL_KINDS, CallTraffic, RecordingIndex, SimCall, SimRecording
from adapters.ringcentral.sandbox.clock import Clock, ManualClock, iso
from adapters.ringcentral.sandbox.data import People, Person, load_people
from adapters.ringcentral.sandbox.extension import Extension
from adapters.ringcentral.sandbox.faults import Faults
from adapters.ringcentral.sandbox.insights import Insights
from adapters.ringcentral.sandbox.limits import RateLimits
from adapters.ringcentral.sandbox.oauth import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    DESKTOP_CLIENT_ID,
    OAuth,
)
from adapters.ringcentral.sandbox.recordings import Recordings
from adapters.ringcentral.sandbox.scenario import Scenario, preset
from adapters.ringcentral.sandbox.server import MEDIA_BASE, PLATFORM_BASE, SandboxServer, SandboxTransport
from adapters.ringcentral.sandbox.wire import (
    Area,
    Route,
    SandboxRequest,
    SandboxResponse,
    api_error,
    json_response,
    pattern_match,
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


@dataclass(frozen=True)
class LoggedRequest:
    """One request the account answered (for assertions and the benchmark)."""

    time: float
    method: str
    host: str
    path: str
    status: int
    group: str | None


class SandboxAccount:
    """A simulated RingCentral account with one signed-in user (the agent) and demo traffic.

    Args:
        clock: UNIX seconds; a :class:`ManualClock` for tests, ``time.time`` for a live demo.
        scenario: a :class:`Scenario` or a preset name (see :func:`~.scenario.preset`).
        seed: makes ids, people and timings reproducible.
        redirect_uris: registered redirect URIs of the desktop client, matched exactly.
        any_loopback_port: also accept ``http://127.0.0.1:<any port>/callback`` (tests bind port 0).

    Attributes:
        clock: the account's clock.
        scenario: how it behaves.
        people: the agent, colleagues, contacts and unknown callers.
        calls: every call by id, visible in the call log or not yet.
        requests: every request answered, in order.
        hang_seconds: how long the socket server holds a ``timeout`` fault's connection.
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
        self.calls: dict[str, SimCall] = {}
        self._recording_index: RecordingIndex = {}
        self.requests: list[LoggedRequest] = []
        self.hang_seconds = 2.0
        self._limits = RateLimits(self.scenario, self._fault_rng)
        self._faults = Faults(self.scenario, self._fault_rng)
        self._oauth = OAuth(
            people=self.people,
            scenario=self.scenario,
            clock=self.clock,
            redirect_uris=redirect_uris,
            any_loopback_port=any_loopback_port,
        )
        self._extension = Extension(self.people)
        self._call_log = CallLog(calls=self.calls, people=self.people, clock=self.clock)
        self._recordings = Recordings(recordings=self._recording_index, people=self.people, clock=self.clock)
        self._insights = Insights(
            calls=self.calls,
            recordings=self._recording_index,
            people=self.people,
            scenario=self.scenario,
            clock=self.clock,
        )
        self._traffic = CallTraffic(
            calls=self.calls,
            recordings=self._recording_index,
            people=self.people,
            scenario=self.scenario,
            rng=self._rng,
            now=self.clock(),
        )
        self._routes = self._route_table()

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

    @property
    def deny_consent(self) -> bool:
        """``True``: the "user" refuses on the authorize page (redirect with ``access_denied``)."""
        with self._lock:
            return self._oauth.deny_consent

    @deny_consent.setter
    def deny_consent(self, value: bool) -> None:
        with self._lock:
            self._oauth.deny_consent = value

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
            return self._traffic.make_call(
                end=self.clock() - ended_ago, kind=kind, duration=duration, recorded=recorded, remote=remote
            )

    def delete_call(self, call_id: str) -> None:
        """Deletes a record (it shows in ISync with ``deleted: true`` when ``showDeleted`` is set)."""
        with self._lock:
            self.calls[call_id].deleted_at = self.clock()

    def reset_call_log(self) -> None:
        """Invalidates every sync token (the next ISync gets ``CLG-101``)."""
        with self._lock:
            self._call_log.reset()

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

        Raises:
            ValueError: unknown kind.
        """
        with self._lock:
            self._faults.inject(kind, path_contains=path_contains, times=times)

    def revoke_all_sessions(self) -> None:
        """Revokes every token, as a password change or an admin would."""
        with self._lock:
            self._oauth.revoke_all()

    def make_jwt(self) -> str:
        """A JWT credential for the admin client's JWT grant (what the Developer Console issues)."""
        with self._lock:
            return self._oauth.make_jwt()

    def request_count(self, *, path_contains: str = "", status: int | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if path_contains in r.path and (status is None or r.status == status))

    # --- the HTTP entry point -----------------------------------------------------------------

    def handle(self, req: SandboxRequest) -> SandboxResponse:
        """Answers one request. Thread-safe."""
        with self._lock:
            now = self.clock()
            self._traffic.generate_due(now)
            response, group = self._dispatch(req, now)
            self.requests.append(LoggedRequest(now, req.method, req.host, req.path, response.status, group))
        return response

    def _route_table(self) -> list[Route]:
        """Every area's routes, in matching order: the one place an area is registered."""
        areas: list[Area] = [self._oauth, self._extension, self._call_log, self._recordings, self._insights]
        return [route for area in areas for route in area.routes()] + self._control_routes()

    def _dispatch(self, req: SandboxRequest, now: float) -> tuple[SandboxResponse, str | None]:
        for route in self._routes:
            match = pattern_match(route.pattern, req.path)
            if match is None:
                continue
            group = route.group
            if req.method != route.method:
                return api_error(405, "CMN-405", f"Method {req.method} is not allowed"), None
            if route.host != "any" and req.host != route.host:
                if route.host == "media":
                    return api_error(404, "CMN-102", "Media content is served from the media host only"), None
                return api_error(404, "CMN-102", "Resource not found"), None
            owner = "anonymous"
            if route.needs_auth:
                owner_or_error = self._oauth.authenticate(req, now)
                if isinstance(owner_or_error, SandboxResponse):
                    return owner_or_error, group
                owner = owner_or_error
            elif group == "Auth":
                owner = req.form().get("client_id") or req.param("client_id") or "anonymous"
            limited = self._limits.check(owner, group, now) if group else None
            if limited is not None:
                return limited, group
            fault = self._faults.take(req) if group else None
            if fault is not None:
                return self._limits.with_limits(fault, owner, group), group
            response = route.handler(req, match)
            return self._limits.with_limits(response, owner, group), group
        return api_error(404, "CMN-102", "Resource for parameter [path] is not found", parameter="path"), None

    # --- control API (demo and manual testing; no auth, no rate limit, loopback only) ----------

    def _control_routes(self) -> list[Route]:
        return [
            Route("POST", "any", "/__sandbox/advance", None, False, self._control_advance),
            Route("POST", "any", "/__sandbox/calls", None, False, self._control_call),
        ]

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
