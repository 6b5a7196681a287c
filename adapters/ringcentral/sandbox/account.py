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
- :mod:`~.insights`: RingSense insights;
- :mod:`~.telephony`: live calls as telephony-session events, and RingSense insights pushes, put
  on the account's event timeline (no REST route);
- :mod:`~.push`: the WebSocket API: ``POST /restapi/oauth/wstoken``, session contexts,
  subscriptions, frames, timeouts and recovery; carried over a real loopback WebSocket by
  :mod:`~.websocket`, whose gateway starts with the first wstoken.

Calls themselves are made by :class:`~.calls.CallTraffic` into the account's ``calls`` and
recording index, which the areas are given; every new call is handed to the telephony area, which
schedules its live events (calls that ring live) and its RingSense pushes on the timeline. Due
timeline entries are published to the WebSocket subscriptions whenever the account catches up with
its clock: on every request, on :meth:`SandboxAccount.advance`, and every 50 ms on the gateway's
ticker thread. Every request passes through the router here:
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
lock, an ``RLock``, held while any area runs); the socket servers call them from many threads. The
areas take no locks of their own, and no socket I/O happens under the lock (the WebSocket
gateway's writer threads send what the push area queued). :meth:`SandboxAccount.close` stops the
gateway's threads; tests call it (or close the :class:`~.server.SandboxServer`) when done.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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
from adapters.ringcentral.sandbox.push import WS_FAULT_KINDS, Outgoing, Push, PushConnection, WsConfig
from adapters.ringcentral.sandbox.recordings import Recordings
from adapters.ringcentral.sandbox.scenario import Scenario, preset
from adapters.ringcentral.sandbox.server import MEDIA_BASE, PLATFORM_BASE, SandboxServer, SandboxTransport
from adapters.ringcentral.sandbox.telephony import Telephony, Timeline
from adapters.ringcentral.sandbox.websocket import WebSocketGateway
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
    "WS_FAULT_KINDS",
    "LoggedRequest",
    "ManualClock",
    "SandboxAccount",
    "SandboxRequest",
    "SandboxResponse",
    "SimCall",
    "SimRecording",
    "WsConfig",
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
        ws_config: the WebSocket gateway's token life, timeouts and recovery buffer (documented
            values by default; tests shorten them).

    Attributes:
        clock: the account's clock.
        scenario: how it behaves.
        people: the agent, colleagues, contacts and unknown callers.
        calls: every call by id, visible in the call log or not yet.
        requests: every request answered, in order.
        hang_seconds: how long the socket server holds a ``timeout`` fault's connection.
        ws_config: see the argument; changes apply to connections opened afterwards.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        scenario: Scenario | str = "happy",
        seed: int = 0,
        redirect_uris: Iterable[str] = (DEFAULT_REDIRECT_URI,),
        any_loopback_port: bool = True,
        ws_config: WsConfig | None = None,
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
        self._timeline = Timeline()
        self._telephony = Telephony(
            people=self.people, scenario=self.scenario, timeline=self._timeline, render_insights=self._insights.render
        )
        self._push = Push(
            people=self.people,
            scenario=self.scenario,
            clock=self.clock,
            config=ws_config if ws_config is not None else WsConfig(),
            session_of=self._oauth.session_of,
            gateway_url=self._gateway_url,
        )
        self._gateway: WebSocketGateway | None = None
        self._traffic = CallTraffic(
            calls=self.calls,
            recordings=self._recording_index,
            people=self.people,
            scenario=self.scenario,
            rng=self._rng,
            now=self.clock(),
            on_call=self._on_call,
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

    @property
    def ws_url(self) -> str | None:
        """The WebSocket gateway (``ws://127.0.0.1:<port>/ws``), or ``None`` until the first wstoken."""
        with self._lock:
            return self._gateway.url if self._gateway is not None else None

    def close(self) -> None:
        """Stops the WebSocket gateway: closes its connections and joins its threads. The account
        stays usable (the next wstoken starts a new gateway). Safe to call twice."""
        with self._lock:
            gateway, self._gateway = self._gateway, None
        if gateway is not None:
            gateway.close()

    def __enter__(self) -> SandboxAccount:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        """Moves a :class:`ManualClock` forward (calls ring and end, records appear, artifacts
        attach) and delivers the push events that became due.

        Raises:
            TypeError: the account runs on a real clock.
        """
        if not isinstance(self.clock, ManualClock):
            raise TypeError("advance() needs a ManualClock; this account runs on real time")
        self.clock.advance(seconds)
        with self._lock:
            self._catch_up(self.clock())

    def ring_call(
        self,
        kind: str = "inbound",
        *,
        duration: int | None = None,
        recorded: bool | None = None,
        remote: Person | None = None,
        hold: bool = False,
        ring_seconds: float | None = None,
    ) -> SimCall:
        """A call that starts ringing now and happens live: telephony-session events while it goes
        on (see :mod:`~.telephony`), its call-log record 15–30 s (scaled by the scenario) after it
        ends at ``now + duration``.

        Args:
            kind: one of :data:`CALL_KINDS`.
            duration: seconds from the first ring to the end; drawn for the kind when ``None``.
            recorded: force recording on or off; the scenario's share decides when ``None``.
            remote: the outside party; a demo contact when ``None``.
            hold: the agent holds the call once and resumes it (calls the agent answers).
            ring_seconds: seconds until the agent answers (or voicemail picks up, or another queue
                agent does); 3–12 s at random when ``None``.
        """
        if kind not in CALL_KINDS:
            raise ValueError(f"unknown call kind {kind!r}; choose one of {', '.join(CALL_KINDS)}")
        with self._lock:
            now = self.clock()
            call = self._traffic.make_call(
                start=now,
                kind=kind,
                duration=duration,
                recorded=recorded,
                remote=remote,
                live=True,
                hold=hold,
                ring_seconds=ring_seconds,
            )
            self._catch_up(now)
            return call

    def place_call(
        self,
        kind: str = "inbound",
        *,
        ended_ago: float = 0.0,
        duration: int | None = None,
        recorded: bool | None = None,
        remote: Person | None = None,
    ) -> SimCall:
        """Adds a call that ended ``ended_ago`` seconds ago; its timeline follows the scenario. It
        has no live events (see :meth:`ring_call`); its RingSense insights are pushed if they
        become ready later.

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

    # --- WebSocket hooks -----------------------------------------------------------------------

    @property
    def ws_config(self) -> WsConfig:
        return self._push.config

    @ws_config.setter
    def ws_config(self, value: WsConfig) -> None:
        with self._lock:
            self._push.config = value

    @property
    def ws_stats(self) -> dict[str, int]:
        """Counters of the WebSocket API: ``wstokens`` issued, ``connections`` accepted,
        ``frames_sent``/``frames_received``, ``notifications`` sent, ``recovered``,
        ``recovery_failed``, ``refused`` upgrades; ``connected`` now; ``scheduled`` timeline
        entries still waiting."""
        with self._lock:
            return {**self._push.stats, "connected": self._push.connected, "scheduled": len(self._timeline)}

    def drop_ws_connections(self) -> int:
        """Cuts every WebSocket connection abruptly (no close frame), as a network drop does; the
        session contexts wait ``recoveryTimeout`` for a ``wsc`` reconnect. Returns how many."""
        with self._lock:
            return self._push.drop_all(self.clock())

    def send_ws_garbage(self) -> int:
        """Sends every connected client a frame that is not RingCentral's ``[meta, body]`` JSON (a
        proxy's HTML error page). Returns how many got it."""
        with self._lock:
            return self._push.send_garbage()

    def inject_ws_fault(self, kind: str, *, times: int = 1) -> None:
        """Makes the WebSocket side fail.

        Args:
            kind: ``wstoken-forbidden`` (the next wstoken requests get 403
                ``InsufficientPermissions``), ``wstoken-rate-limited`` (the agent's Auth group
                enters its penalty now: wstoken requests get 429 ``CMN-301`` with ``Retry-After``
                until it has passed, restarting with each request made during it; ``times`` is
                ignored), ``recovery-refused`` (the next ``wsc`` reconnects get
                ``recoveryState: Failed`` / ``WSG-1005``, their context dropped),
                ``connection-refused`` (the next WebSocket upgrades get HTTP 503).
            times: how many requests or connections.

        Raises:
            ValueError: unknown kind.
        """
        if kind not in WS_FAULT_KINDS:
            raise ValueError(f"unknown WebSocket fault {kind!r}; choose one of {', '.join(sorted(WS_FAULT_KINDS))}")
        with self._lock:
            if kind == "wstoken-rate-limited":
                self._limits.penalize(self.people.agent.extension_id or "", "Auth", self.clock())
            else:
                self._push.inject(kind, times)

    def emit_foreign_event(self) -> dict[str, Any]:
        """Delivers, on the agent's subscriptions, a telephony event whose party belongs to another
        extension (a colleague's call ringing): RingCentral would not send it on an extension
        filter, a client must ignore it. Returns the event body."""
        with self._lock:
            now = self.clock()
            body = self._telephony.schedule_foreign(now)
            self._catch_up(now)
            return body

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
            self._catch_up(now)
            response, group = self._dispatch(req, now)
            self.requests.append(LoggedRequest(now, req.method, req.host, req.path, response.status, group))
        return response

    # --- the WebSocket gateway's entry points (websocket.PushApp) -------------------------------

    def ws_admit(self) -> bool:
        with self._lock:
            return self._push.admit()

    def ws_open(self, query: Mapping[str, str]) -> PushConnection:
        with self._lock:
            return self._push.open(query, self.clock())

    def ws_receive(self, conn: PushConnection, text: str | bytes) -> None:
        with self._lock:
            self._push.receive(conn, text, self.clock())

    def ws_next(self, conn: PushConnection) -> Outgoing | None:
        with self._lock:
            return self._push.next_frame(conn)

    def ws_unsent(self, conn: PushConnection, out: Outgoing) -> None:
        with self._lock:
            self._push.unsent(conn, out)

    def ws_closed(self, conn: PushConnection) -> None:
        with self._lock:
            self._push.closed(conn, self.clock())

    def ws_tick(self) -> None:
        with self._lock:
            self._catch_up(self.clock())

    # --- time ---------------------------------------------------------------------------------

    def _catch_up(self, now: float) -> None:
        """Makes the generated calls that rang by ``now``, publishes the due timeline entries and
        enforces the WebSocket timeouts. Lock held."""
        self._traffic.generate_due(now)
        for entry in self._timeline.pop_due(now):
            self._push.publish(entry, now)
        self._push.tick(now)

    def _on_call(self, call: SimCall) -> None:
        self._telephony.schedule(call, self.clock())

    def _gateway_url(self) -> str:
        """The gateway's URL, starting it first if needed. Lock held."""
        if self._gateway is None:
            self._gateway = WebSocketGateway(self)
        return self._gateway.url

    def _route_table(self) -> list[Route]:
        """Every area's routes, in matching order: the one place an area is registered."""
        areas: list[Area] = [
            self._oauth,
            self._push,
            self._extension,
            self._call_log,
            self._recordings,
            self._insights,
            self._telephony,
        ]
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
        live = (req.param("live") or "").lower() in ("1", "true", "yes")
        raw_duration = req.param("duration")
        if raw_duration is not None and not raw_duration.isdigit():
            return api_error(400, "CMN-101", "Parameter [duration] value is invalid", parameter="duration")
        duration = int(raw_duration) if raw_duration is not None else None
        try:
            if live:
                hold = (req.param("hold") or "").lower() in ("1", "true", "yes")
                call = self.ring_call(req.param("kind") or "inbound", duration=duration, hold=hold)
            else:
                call = self.place_call(req.param("kind") or "inbound", duration=duration)
        except ValueError as exc:
            return api_error(400, "CMN-101", str(exc), parameter="kind")
        return json_response(
            200,
            {
                "id": call.id,
                "sessionId": call.session_id,
                "telephonySessionId": call.telephony_session_id,
                "kind": call.kind,
                "live": call.live,
                "startTime": iso(call.start),
                "duration": call.duration,
            },
        )
