# SPDX-License-Identifier: MIT
"""Push notifications as RingCentral's WebSocket API delivers them: wstokens, session contexts,
subscriptions, frames, timeouts and recovery.

This module is the protocol, without sockets: :mod:`~.websocket` carries its frames over a real
WebSocket on loopback, the account runs it under its lock. Sources are the keys of
``ringcentral-live-events.md`` ([D] developer guide, [SPEC], [SDK-…], [ISS], [3P]); where nothing
documents a behaviour the choice is marked *undocumented*.

- ``POST /restapi/oauth/wstoken`` (Auth group, bearer required [D subscribing.md; SPEC]) returns
  ``{ws_access_token, uri, expires_in: 30}``; the token is good for one connection only and
  expires on the account clock [D]. Without the WebSocket permission (scenario ``websocket``
  off, or :data:`WS_FAULT_KINDS` ``wstoken-forbidden``) the answer is 403
  ``InsufficientPermissions``/``CMN-401`` naming ``WebSocketsSubscriptions`` [D quick start].
- Connecting: ``<uri>?access_token=…[&wsc=…]`` [D session-recovery.md]. No ``access_token``: close
  code 4400 [3P ringclaw#150]. An unknown, used or expired token: an ``Error`` frame ``WSG-401``
  then close 1008 (*undocumented*: §1.9 lists no code for it). A ``wsc`` that is not one of ours:
  ``Error`` ``WSG-400`` "Malformed WebSocket session context token" then close [3P
  rc-ws-recover-test].
- Every frame is ``[meta, body?]`` [D receiving.md]. The first is ``ConnectionDetails`` (meta
  ``wsc {token, sequence}``; body ``creationTime``, ``maxConnectionsPerSession``,
  ``recoveryBufferSize``, ``recoveryTimeout``, ``idleTimeout``, ``absoluteTimeout``,
  ``maxActiveRequests``, and ``recoveryState``/``recoveryErrorCode`` only after a ``wsc``
  reconnect) [D; 3P]. ``wsc.sequence`` counts this connection's frames that carry ``wsc``
  (``ConnectionDetails``, replies, notifications), from 1 [D examples show 1; SDK-TS keeps the
  highest].
- ``ClientRequest`` is REST over the socket; the reply is a ``ClientRequest`` frame with the same
  ``messageId``, a ``status`` and ``headers`` (``Content-Type``, ``RCRequestId``; no
  ``WSG-SubscriptionId``) [ISS ringcentral-python#92]. ``POST /restapi/v1.0/subscription/`` (with or
  without the slash [D; SDK-TS]) validates ``eventFilters`` (400 ``SUB-508`` "Invalid event
  filters", 403 ``SUB-405``/``SUB-406`` for another extension/account [D basics/errors.md]) and
  ``deliveryMode.transportType`` ``WebSocket``; ``~`` comes back expanded to the real ids; filters
  the user may not use (RingSense without a licence) come back in ``disabledFilters`` [SPEC
  SubscriptionInfo]. One subscription per connection context: a second POST replaces the first
  [D]. ``GET``/``PUT``/``DELETE /restapi/v1.0/subscription/{id}`` work on it [SDK-PY; SDK-TS];
  any other path is answered 404 ``CMN-102``. Presence filters are accepted but no presence
  events are simulated.
- ``Heartbeat`` is echoed with the same ``messageId`` [D heart-beats.md]. Any frame from the client
  is activity; WebSocket pings are not [ISS ringcentral-python#68].
- ``ServerNotification``: meta ``{type, messageId, status: 200, headers {RCRequestId}, wsc}``, body
  ``{uuid, event, timestamp, subscriptionId, ownerId, body}``; ``event`` is the subscribed filter
  with ``~`` expanded and its query kept [D receiving.md; §1.6 note].
- No client frame for ``idleTimeout`` (account clock): ``Error`` ``WSG-902`` "Idle timeout
  expired", then close; a connection older than ``absoluteTimeout``: ``WSG-903`` "Absolute timeout
  expired", then close [D heart-beats.md]. The ``status`` on ``Error`` frames and the close code
  are *undocumented* (408 and 1000 here).
- Recovery [D session-recovery.md; 3P rc-ws-recover-test]: when a connection ends, its session
  context (subscription, wsc token, the events published meanwhile, at most
  ``recoveryBufferSize``, the most recent kept) lives ``recoveryTimeout`` seconds on the account
  clock. A new connection with ``&wsc=<token>`` within that time gets ``recoveryState``
  ``Successful`` and the missed events, in order, after ``ConnectionDetails``; otherwise
  ``Failed`` with ``recoveryErrorCode`` ``WSG-1005`` (context gone, expired, or no subscription)
  or ``WSG-1003`` (the context belongs to another OAuth session; a refreshed token of the same
  session recovers), a new context, and the client must subscribe again. Recovering a context
  that still has a connection takes it over and drops the old connection (one connection per
  context, as a reused wstoken does [ISS ringcentral-extensible#39]).

Not enforced: ``maxConnectionsPerSession`` and ``maxActiveRequests`` (only reported), the
subscriptions' expiry (WebSocket subscriptions renew on their own [D]).

Threading contract: not locked on its own; the account calls every method with its lock held.
:class:`PushConnection` objects cross to the socket threads of :mod:`~.websocket`, which only wait
on ``wake`` and call back into the account.
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
import threading
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from adapters.ringcentral.sandbox.clock import Clock, iso
from adapters.ringcentral.sandbox.data import People
from adapters.ringcentral.sandbox.scenario import Scenario
from adapters.ringcentral.sandbox.telephony import INSIGHTS, TELEPHONY, TimelineEntry
from adapters.ringcentral.sandbox.wire import (
    Route,
    SandboxRequest,
    SandboxResponse,
    api_error_body,
    insufficient_permissions,
    json_response,
)

#: Every kind :meth:`Push.inject` accepts.
WS_FAULT_KINDS = frozenset({"wstoken-forbidden", "wstoken-rate-limited", "recovery-refused", "connection-refused"})

#: The permission the wstoken needs, as the Developer Console names it [D quick start].
WS_PERMISSION = "WebSocketsSubscriptions"

#: What :meth:`Push.send_garbage` sends: a proxy's error page instead of a frame.
GARBAGE_FRAME = "<html><body><h1>502 Bad Gateway</h1></body></html>"

_SUBSCRIPTION_PATH = re.compile(r"/restapi/v1\.0/subscription/?")
_SUBSCRIPTION_ID_PATH = re.compile(r"/restapi/v1\.0/subscription/([^/]+)")
_TELEPHONY_FILTER = re.compile(r"/restapi/v1\.0/account/(~|\d+)/extension/(~|\d+)/telephony/sessions")
_PRESENCE_FILTER = re.compile(r"/restapi/v1\.0/account/(~|\d+)/extension/(~|\d+)/presence")
_RINGSENSE_FILTER = re.compile(
    r"/ai/ringsense/v1/public/accounts/(~|\d+)/domains/(pbx|rcv|rcx|ms-teams|nice-incontact)/insights"
)

_BOOL = {"true", "false"}
_STATUS_CODES = {
    "setup",
    "proceeding",
    "answered",
    "disconnected",
    "gone",
    "parked",
    "hold",
    "voicemail",
    "faxreceive",
    "voicemailscreening",
}
#: Query parameters each filter accepts [D event-filters; ringcentral-api.md §6.1].
_FILTER_PARAMS: dict[str, dict[str, set[str] | None]] = {
    "telephony": {
        "direction": {"Inbound", "Outbound"},
        "missedCall": _BOOL,
        "phoneNumber": None,
        "sipData": _BOOL,
        "statusCode": None,
        "withRecordings": _BOOL,
    },
    "presence": {"detailedTelephonyState": _BOOL, "sipData": _BOOL, "totalActiveCalls": None, "aggregated": _BOOL},
    "ringsense": {},
}

_WSC_PREFIX = "WSC1|"


@dataclass
class WsConfig:
    """The WebSocket gateway's limits, in seconds on the account clock (defaults as documented).

    Tests shorten them (``SandboxAccount(ws_config=WsConfig(idle_timeout=5))`` or by setting
    ``account.ws_config.idle_timeout``); a new connection reads them when it opens.
    """

    token_ttl: float = 30.0
    recovery_timeout: float = 180.0
    recovery_buffer_size: int = 100
    idle_timeout: float = 1800.0
    absolute_timeout: float = 86400.0
    max_connections_per_session: int = 50
    max_active_requests: int = 10


@dataclass
class Outgoing:
    """What a socket thread does next for a connection.

    Attributes:
        action: ``send`` (``text``), ``close`` (a close frame with ``code``/``reason``) or
            ``abort`` (cut the TCP connection, no close frame).
        notification: the ``ServerNotification`` body ``text`` carries (put back for recovery if
            the send fails).
    """

    action: str
    text: str = ""
    code: int = 1000
    reason: str = ""
    notification: dict[str, Any] | None = None


@dataclass
class _Queued:
    meta: dict[str, Any]
    body: Any = None
    has_body: bool = True
    wsc: bool = True
    notification: dict[str, Any] | None = None
    raw: str | None = None


@dataclass(frozen=True)
class _Refusal:
    """A failed request over the socket: its status and RingCentral's error body."""

    status: int
    body: dict[str, Any]


@dataclass
class _IssuedToken:
    owner: str
    oauth_session: str
    platform_base: str
    expires: float


@dataclass
class _Filter:
    requested: str
    kind: str
    expanded: str
    params: dict[str, str]
    domain: str | None = None


@dataclass
class _Subscription:
    id: str
    created: float
    filters: list[_Filter]
    disabled: list[dict[str, str]]


@dataclass
class _Context:
    """A WebSocket session context: what survives a dropped connection for ``recoveryTimeout``."""

    id: str
    wsc: str
    oauth_session: str
    owner: str
    platform_base: str
    created: float
    buffer: deque[dict[str, Any]]
    subscription: _Subscription | None = None
    connection: PushConnection | None = None
    dropped_at: float | None = None


class PushConnection:
    """One WebSocket connection's state. ``wake`` is set whenever there is something to send."""

    def __init__(self, number: int, opened_at: float) -> None:
        self.number = number
        self.opened_at = opened_at
        self.last_heard = opened_at
        self.context: _Context | None = None
        self.outbox: deque[_Queued] = deque()
        self.wake = threading.Event()
        #: The close or abort to perform once the outbox is sent (``ending_taken`` once handed out).
        self.ending: Outgoing | None = None
        self.ending_taken = False
        #: The socket is gone; nothing more is sent.
        self.ended = False
        #: A send failed; wait for the socket thread to notice the end.
        self.broken = False
        self.sequence = 0


@dataclass
class _Faults:
    pending: dict[str, int] = field(default_factory=dict)

    def take(self, kind: str) -> bool:
        left = self.pending.get(kind, 0)
        if left <= 0:
            return False
        self.pending[kind] = left - 1
        return True


class Push:
    """The WebSocket API's state: issued wstokens, session contexts with their subscriptions, open
    connections; and the wstoken REST route.

    Args:
        people: the agent (owner of every session) and the account id.
        scenario: whether the app has the WebSocket permission; whether RingSense is licensed.
        clock: UNIX seconds (the account clock).
        config: timeouts and sizes, read when a connection opens.
        session_of: the OAuth session id and owner of a request's bearer token.
        gateway_url: starts the WebSocket gateway if needed and returns its ``ws://`` URL.
    """

    def __init__(
        self,
        *,
        people: People,
        scenario: Scenario,
        clock: Clock,
        config: WsConfig,
        session_of: Callable[[SandboxRequest], tuple[str, str] | None],
        gateway_url: Callable[[], str],
    ) -> None:
        self._people = people
        self._scenario = scenario
        self._clock = clock
        self.config = config
        self._session_of = session_of
        self._gateway_url = gateway_url
        self._tokens: dict[str, _IssuedToken] = {}
        self._contexts: dict[str, _Context] = {}
        self._open: set[PushConnection] = set()
        self._numbers = 0
        self._faults = _Faults()
        self.stats: dict[str, int] = dict.fromkeys(
            (
                "wstokens",
                "connections",
                "frames_sent",
                "frames_received",
                "notifications",
                "recovered",
                "recovery_failed",
                "refused",
            ),
            0,
        )

    # --- REST ----------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [Route("POST", "platform", "/restapi/oauth/wstoken", "Auth", True, self._wstoken)]

    def _wstoken(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        if not self._scenario.websocket or self._faults.take("wstoken-forbidden"):
            return insufficient_permissions(WS_PERMISSION)
        session = self._session_of(req)
        if session is None:  # the router authenticated the request: cannot happen
            return insufficient_permissions(WS_PERMISSION)
        oauth_session, owner = session
        now = self._clock()
        token = base64.urlsafe_b64encode(secrets.token_bytes(30)).decode()
        ttl = self.config.token_ttl
        self._tokens[token] = _IssuedToken(owner, oauth_session, req.platform_base, now + ttl)
        self.stats["wstokens"] += 1
        return json_response(200, {"ws_access_token": token, "uri": self._gateway_url(), "expires_in": round(ttl)})

    # --- hooks ---------------------------------------------------------------------------------

    def inject(self, kind: str, times: int = 1) -> None:
        """Queues a WebSocket fault (see :data:`WS_FAULT_KINDS`; ``wstoken-rate-limited`` is the
        account's, through its rate limits). Raises ``ValueError`` for an unknown kind."""
        if kind not in WS_FAULT_KINDS or kind == "wstoken-rate-limited":
            raise ValueError(f"unknown WebSocket fault {kind!r}")
        self._faults.pending[kind] = self._faults.pending.get(kind, 0) + times

    def drop_all(self, now: float) -> int:
        """Cuts every open connection without a close frame; their contexts wait for recovery."""
        dropped = 0
        for conn in list(self._open):
            if conn.ending is not None:
                continue
            self._detach(conn, now)
            conn.ending = Outgoing("abort")
            conn.wake.set()
            dropped += 1
        return dropped

    def send_garbage(self) -> int:
        """Sends a frame that is not ``[meta, body]`` JSON to every open connection."""
        sent = 0
        for conn in self._open:
            if conn.ending is None:
                conn.outbox.append(_Queued({}, raw=GARBAGE_FRAME))
                conn.wake.set()
                sent += 1
        return sent

    def admit(self) -> bool:
        """Whether the gateway accepts the next WebSocket upgrade (``connection-refused`` fault)."""
        if self._faults.take("connection-refused"):
            self.stats["refused"] += 1
            return False
        return True

    # --- connections ---------------------------------------------------------------------------

    def open(self, query: Mapping[str, str], now: float) -> PushConnection:
        """A new connection (the upgrade succeeded): checks the token, recovers or makes a context,
        queues ``ConnectionDetails`` and any replayed events."""
        self._numbers += 1
        conn = PushConnection(self._numbers, now)
        self._open.add(conn)
        self.stats["connections"] += 1
        raw_token = query.get("access_token")
        if not raw_token:
            conn.ending = Outgoing("close", code=4400, reason="access_token is required")
            conn.wake.set()
            return conn
        issued = self._tokens.pop(raw_token, None)
        if issued is None or issued.expires <= now:
            # Undocumented: no source gives the code for a bad, used or expired ws_access_token.
            return self._refuse(conn, 401, "WSG-401", "Access token is invalid, expired or already used")
        cfg = self.config
        wsc = query.get("wsc")
        recovery: dict[str, str] = {}
        context: _Context | None = None
        if wsc is not None:
            context_id = _context_id(wsc)
            if context_id is None:
                return self._refuse(conn, 400, "WSG-400", "Malformed WebSocket session context token")
            old = self._contexts.get(context_id)
            code: str | None = None
            if self._faults.take("recovery-refused") or old is None or old.wsc != wsc:
                code = "WSG-1005"
            elif old.oauth_session != issued.oauth_session:
                code = "WSG-1003"
            elif old.subscription is None or (
                old.dropped_at is not None and now - old.dropped_at > cfg.recovery_timeout
            ):
                code = "WSG-1005"
            if code is None and old is not None:
                context = old
                if old.connection is not None:  # taken over: the old connection goes
                    previous = old.connection
                    self._detach(previous, now)
                    previous.ending = Outgoing("abort")
                    previous.wake.set()
                recovery = {"recoveryState": "Successful"}
                self.stats["recovered"] += 1
            else:
                if old is not None and code == "WSG-1005":
                    self._forget(old)
                recovery = {"recoveryState": "Failed", "recoveryErrorCode": code or "WSG-1005"}
                self.stats["recovery_failed"] += 1
        if context is None:
            context = self._new_context(issued, now)
        context.connection = conn
        context.dropped_at = None
        conn.context = context
        body: dict[str, Any] = {
            "creationTime": iso(context.created),
            "maxConnectionsPerSession": cfg.max_connections_per_session,
            "recoveryBufferSize": cfg.recovery_buffer_size,
            "recoveryTimeout": _seconds(cfg.recovery_timeout),
            "idleTimeout": _seconds(cfg.idle_timeout),
            "absoluteTimeout": _seconds(cfg.absolute_timeout),
            "maxActiveRequests": cfg.max_active_requests,
            **recovery,
        }
        self._queue(conn, _Queued(_meta("ConnectionDetails", status=200), body))
        if recovery.get("recoveryState") == "Successful":
            replay = list(context.buffer)
            context.buffer.clear()
            for note in replay:
                self._queue(conn, _notification_frame(note))
        return conn

    def receive(self, conn: PushConnection, text: str | bytes, now: float) -> None:
        """A frame from the client (any frame is activity for the idle timeout)."""
        self.stats["frames_received"] += 1
        if conn.ended or conn.ending is not None or conn.context is None:
            return
        conn.last_heard = now
        try:
            data = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            return  # not JSON: ignored
        if not isinstance(data, list) or not data or not isinstance(data[0], dict):
            return
        meta: dict[str, Any] = data[0]
        body = data[1] if len(data) > 1 else None
        kind = meta.get("type")
        if kind == "Heartbeat":
            echo = {"type": "Heartbeat", **({"messageId": meta["messageId"]} if "messageId" in meta else {})}
            self._queue(conn, _Queued(echo, has_body=False, wsc=False))
        elif kind == "ClientRequest":
            self._client_request(conn, meta, body, now)

    def next_frame(self, conn: PushConnection) -> Outgoing | None:
        """The next thing to do on ``conn``'s socket, or ``None`` for nothing now."""
        if conn.ended or conn.broken:
            return None
        if conn.outbox:
            item = conn.outbox.popleft()
            if item.raw is not None:
                text = item.raw
            else:
                meta = dict(item.meta)
                if item.wsc and conn.context is not None:
                    conn.sequence += 1
                    meta["wsc"] = {"token": conn.context.wsc, "sequence": conn.sequence}
                text = json.dumps([meta, item.body] if item.has_body else [meta], separators=(",", ":"))
            self.stats["frames_sent"] += 1
            if item.notification is not None:
                self.stats["notifications"] += 1
            return Outgoing("send", text, notification=item.notification)
        if conn.ending is not None and not conn.ending_taken:
            conn.ending_taken = True
            return conn.ending
        return None

    def unsent(self, conn: PushConnection, out: Outgoing) -> None:
        """A send failed: the connection is gone; its notification waits for recovery."""
        conn.broken = True
        context = conn.context
        if out.notification is None or context is None:
            return
        if context.connection is conn:
            conn.outbox.appendleft(_notification_frame(out.notification))  # moved by _detach
        elif len(context.buffer) < (context.buffer.maxlen or 0):
            context.buffer.appendleft(out.notification)  # older than anything buffered

    def closed(self, conn: PushConnection, now: float) -> None:
        """The socket is gone (closed by either side, or cut)."""
        if conn.ended:
            return
        self._detach(conn, now)
        conn.ended = True
        self._open.discard(conn)
        conn.wake.set()

    def tick(self, now: float) -> None:
        """Timeouts: idle and absolute per connection, recovery windows, unused wstokens."""
        cfg = self.config
        for conn in list(self._open):
            if conn.ending is not None or conn.context is None:
                continue
            if now - conn.last_heard >= cfg.idle_timeout:
                self._expire(conn, now, "WSG-902", "Idle timeout expired")
            elif now - conn.opened_at >= cfg.absolute_timeout:
                self._expire(conn, now, "WSG-903", "Absolute timeout expired")
        for context in list(self._contexts.values()):
            gone_at = context.dropped_at if context.connection is None else None
            if gone_at is not None and now - gone_at > cfg.recovery_timeout:
                self._forget(context)
        for token, issued in list(self._tokens.items()):
            if issued.expires <= now:
                del self._tokens[token]

    def publish(self, entry: TimelineEntry, now: float) -> None:
        """Delivers a due timeline entry to every subscription it matches (connected now, or
        waiting for recovery)."""
        for context in self._contexts.values():
            sub = context.subscription
            if sub is None:
                continue
            body: dict[str, Any] | None = None
            chosen: _Filter | None = None
            for flt in sub.filters:
                if flt.kind == "telephony" and entry.kind == TELEPHONY:
                    if entry.owner != context.owner and not entry.misrouted:
                        continue
                    body = entry.render(context.platform_base)
                    if _telephony_matches(flt, body):
                        chosen = flt
                        break
                elif (
                    flt.kind == "ringsense"
                    and entry.kind == INSIGHTS
                    and flt.domain == "pbx"
                    and entry.owner == context.owner
                ):
                    body = entry.render(context.platform_base)
                    chosen = flt
                    break
            if chosen is None or body is None:
                continue
            if chosen.kind == "telephony" and chosen.params.get("sipData") == "true":
                body = _with_sip_data(body)
            note = {
                "uuid": str(uuid.uuid4()),
                "event": chosen.expanded,
                "timestamp": iso(now),
                "subscriptionId": sub.id,
                "ownerId": context.owner,
                "body": body,
            }
            if context.connection is not None:
                self._queue(context.connection, _notification_frame(note))
            elif context.dropped_at is not None:
                context.buffer.append(note)  # the most recent are kept

    @property
    def connected(self) -> int:
        return sum(1 for c in self._open if c.ending is None)

    # --- internals -----------------------------------------------------------------------------

    def _new_context(self, issued: _IssuedToken, now: float) -> _Context:
        context_id = secrets.token_hex(12)
        wsc = base64.urlsafe_b64encode(f"{_WSC_PREFIX}{context_id}|{secrets.token_hex(8)}".encode()).decode()
        context = _Context(
            id=context_id,
            wsc=wsc.rstrip("="),
            oauth_session=issued.oauth_session,
            owner=issued.owner,
            platform_base=issued.platform_base,
            created=now,
            buffer=deque(maxlen=max(1, self.config.recovery_buffer_size)),
        )
        self._contexts[context_id] = context
        return context

    def _forget(self, context: _Context) -> None:
        self._contexts.pop(context.id, None)

    def _detach(self, conn: PushConnection, now: float) -> None:
        """The connection leaves its context: the context waits for recovery with the unsent events."""
        context = conn.context
        if context is None or context.connection is not conn:
            return
        unsent = [item.notification for item in conn.outbox if item.notification is not None]
        conn.outbox = deque(item for item in conn.outbox if item.notification is None)
        context.buffer = deque([*unsent, *context.buffer], maxlen=context.buffer.maxlen)
        context.connection = None
        context.dropped_at = now

    def _queue(self, conn: PushConnection, item: _Queued) -> None:
        conn.outbox.append(item)
        conn.wake.set()

    def _refuse(self, conn: PushConnection, status: int, code: str, message: str) -> PushConnection:
        self._queue(conn, _error_frame(status, code, message))
        # Undocumented close code; RingCentral documents none (§1.9).
        conn.ending = Outgoing("close", code=1008, reason=message)
        return conn

    def _expire(self, conn: PushConnection, now: float, code: str, message: str) -> None:
        self._detach(conn, now)
        self._queue(conn, _error_frame(408, code, message))
        conn.ending = Outgoing("close", code=1000, reason=message)
        conn.wake.set()

    def _client_request(self, conn: PushConnection, meta: Mapping[str, Any], body: Any, now: float) -> None:
        message_id = meta.get("messageId")
        if not isinstance(message_id, str):
            return  # a reply could not be correlated
        method = meta.get("method")
        raw_path = meta.get("path")
        status: int
        reply: Any
        if not isinstance(method, str) or not isinstance(raw_path, str):
            status, reply = 400, api_error_body("CMN-104", "Cannot parse request")
        else:
            status, reply = self._route(conn, method.upper(), urlsplit(raw_path).path, body, now)
        headers = {"Content-Type": "application/json; charset=utf-8", "RCRequestId": str(uuid.uuid4())}
        reply_meta = {"type": "ClientRequest", "messageId": message_id, "status": status, "headers": headers}
        self._queue(conn, _Queued(reply_meta, reply, has_body=reply is not None))

    def _route(self, conn: PushConnection, method: str, path: str, body: Any, now: float) -> tuple[int, Any]:
        context = conn.context
        assert context is not None
        if _SUBSCRIPTION_PATH.fullmatch(path):
            if method != "POST":
                return 405, api_error_body("CMN-405", f"Method {method} is not allowed")
            filters = self._validate(context, body)
            if isinstance(filters, _Refusal):
                return filters.status, filters.body
            active, disabled = filters
            context.subscription = _Subscription(str(uuid.uuid4()), now, active, disabled)
            return 200, self._subscription_body(context.subscription, now)
        match = _SUBSCRIPTION_ID_PATH.fullmatch(path)
        if match is None:
            return 404, api_error_body("CMN-102", "Resource for parameter [path] is not found", parameter="path")
        sub = context.subscription
        if sub is None or sub.id != match.group(1):
            return 404, api_error_body(
                "CMN-102", "Resource for parameter [subscriptionId] is not found", parameter="subscriptionId"
            )
        if method == "GET":
            return 200, self._subscription_body(sub, now)
        if method == "DELETE":
            context.subscription = None
            return 204, None
        if method == "PUT":
            filters = self._validate(context, body)
            if isinstance(filters, _Refusal):
                return filters.status, filters.body
            sub.filters, sub.disabled = filters
            return 200, self._subscription_body(sub, now)
        return 405, api_error_body("CMN-405", f"Method {method} is not allowed")

    def _validate(self, context: _Context, body: Any) -> tuple[list[_Filter], list[dict[str, str]]] | _Refusal:
        """The active and disabled filters of a subscription request, or why it is refused."""
        if not isinstance(body, dict):
            return _refusal(400, "CMN-101", "Parameter [eventFilters] value is invalid", parameter="eventFilters")
        requested = body.get("eventFilters")
        if not isinstance(requested, list) or not requested or not all(isinstance(f, str) for f in requested):
            return _refusal(400, "CMN-101", "Parameter [eventFilters] value is invalid", parameter="eventFilters")
        delivery = body.get("deliveryMode")
        if not isinstance(delivery, dict) or delivery.get("transportType") != "WebSocket":
            return _refusal(
                400,
                "CMN-101",
                "Parameter [deliveryMode.transportType] value is invalid",
                parameter="deliveryMode.transportType",
            )
        parsed: list[_Filter] = []
        invalid: list[str] = []
        for raw in requested:
            result = self._parse_filter(raw, context)
            if isinstance(result, _Refusal):
                return result
            if result is None:
                invalid.append(raw)
            else:
                parsed.append(result)
        if invalid:
            return _refusal(400, "SUB-508", f"Invalid event filters: [{', '.join(invalid)}]")
        active: list[_Filter] = []
        disabled: list[dict[str, str]] = []
        for flt in parsed:
            if flt.kind == "ringsense" and not self._scenario.ringsense_licensed:
                disabled.append(
                    {
                        "filter": flt.expanded,
                        "reason": "Permission",
                        "message": "The user has no RingSense licence ([ReadRingSenseInsights] permission required)",
                    }
                )
            else:
                active.append(flt)
        return active, disabled

    def _parse_filter(self, raw: str, context: _Context) -> _Filter | _Refusal | None:
        """A filter, ``None`` when it is not a valid filter, or the 403 for someone else's."""
        parts = urlsplit(raw)
        path, query = parts.path, parts.query
        acc = self._people.account_id
        kind: str
        domain: str | None = None
        if match := _TELEPHONY_FILTER.fullmatch(path):
            kind, ids = "telephony", match.groups()
            expanded = f"/restapi/v1.0/account/{acc}/extension/{context.owner}/telephony/sessions"
        elif match := _PRESENCE_FILTER.fullmatch(path):
            kind, ids = "presence", match.groups()
            expanded = f"/restapi/v1.0/account/{acc}/extension/{context.owner}/presence"
        elif match := _RINGSENSE_FILTER.fullmatch(path):
            kind, ids, domain = "ringsense", (match.group(1),), match.group(2)
            expanded = f"/ai/ringsense/v1/public/accounts/{acc}/domains/{domain}/insights"
        else:
            return None
        if ids[0] not in ("~", acc):
            return _refusal(403, "SUB-406", "Not allowed subscribe for events to extensions of other account")
        if len(ids) > 1 and ids[1] not in ("~", context.owner):
            return _refusal(403, "SUB-405", "Not allowed subscribe for messages to other extensions")
        params: dict[str, str] = {}
        allowed = _FILTER_PARAMS[kind]
        for key, value in parse_qsl(query, keep_blank_values=True):
            if key not in allowed:
                return None
            values = allowed[key]
            if values is not None and value not in values:
                return None
            if key == "statusCode" and value.lower() not in _STATUS_CODES:
                return None
            params[key] = value
        if query:
            expanded = f"{expanded}?{query}"
        return _Filter(raw, kind, expanded, params, domain)

    def _subscription_body(self, sub: _Subscription, now: float) -> dict[str, Any]:
        expires = sub.created + 86400
        body: dict[str, Any] = {
            "uri": f"/restapi/v1.0/subscription/{sub.id}",
            "id": sub.id,
            "creationTime": iso(sub.created),
            "status": "Active",
            "eventFilters": [f.expanded for f in sub.filters],
            "expirationTime": iso(expires),
            "expiresIn": max(0, math.ceil(expires - now) - 1),
            "deliveryMode": {"transportType": "WebSocket", "encryption": False},
        }
        if sub.disabled:
            body["disabledFilters"] = [dict(d) for d in sub.disabled]
        return body


def _refusal(status: int, code: str, message: str, *, parameter: str | None = None) -> _Refusal:
    return _Refusal(status, api_error_body(code, message, parameter=parameter))


def _meta(kind: str, **extra: Any) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    return {"type": kind, "messageId": request_id, **extra, "headers": {"RCRequestId": request_id}}


def _notification_frame(note: dict[str, Any]) -> _Queued:
    return _Queued(_meta("ServerNotification", status=200), note, notification=note)


def _error_frame(status: int, code: str, message: str) -> _Queued:
    meta = {"type": "Error", "messageId": str(uuid.uuid4()), "status": status, "headers": {}}
    return _Queued(meta, {"errorCode": code, "message": message}, wsc=False)


def _context_id(wsc: str) -> str | None:
    try:
        decoded = base64.urlsafe_b64decode(wsc + "=" * (-len(wsc) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    if not decoded.startswith(_WSC_PREFIX):
        return None
    context_id, _, _ = decoded[len(_WSC_PREFIX) :].partition("|")
    return context_id or None


def _seconds(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _telephony_matches(flt: _Filter, body: Mapping[str, Any]) -> bool:
    if not flt.params:
        return True
    parties = body.get("parties") or []
    for party in parties:
        if not isinstance(party, dict):
            continue
        status = party.get("status") or {}
        checks = flt.params
        if "direction" in checks and party.get("direction") != checks["direction"]:
            continue
        if "missedCall" in checks and bool(party.get("missedCall")) != (checks["missedCall"] == "true"):
            continue
        if "statusCode" in checks and str(status.get("code", "")).lower() != checks["statusCode"].lower():
            continue
        if "withRecordings" in checks and bool(party.get("recordings")) != (checks["withRecordings"] == "true"):
            continue
        if "phoneNumber" in checks:
            numbers = {(party.get(end) or {}).get("phoneNumber") for end in ("from", "to")}
            if checks["phoneNumber"] not in numbers:
                continue
        return True
    return False


def _with_sip_data(body: dict[str, Any]) -> dict[str, Any]:
    tsid = str(body.get("telephonySessionId", ""))
    parties = []
    for party in body.get("parties") or []:
        party = dict(party)
        party["sipData"] = {"toTag": f"{tsid[-8:]}-to", "fromTag": f"{tsid[-8:]}-from", "callId": f"{tsid}@sip"}
        parties.append(party)
    return {**body, "parties": parties}
