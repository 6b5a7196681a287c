# SPDX-License-Identifier: MIT
"""RingCentral push events over a WebSocket: telephony sessions (calls ringing, connected, held,
ended) and RingSense insights, as they happen.

The protocol, as RingCentral documents it (developer guide, ``notifications/websockets``) and as
its SDKs and a captured live session show it:

1. ``POST /restapi/oauth/wstoken`` (Auth group, 5 a minute, shared with sign-in) returns a
   single-use ``ws_access_token`` and the ``uri`` of the gateway; connect to
   ``<uri>?access_token=<token>`` (plus ``&wsc=<token>`` to recover a dropped session).
2. Every frame is a JSON array ``[meta, body?]``. The first frame is ``ConnectionDetails``; nothing
   may be sent before it. Its body gives ``recoveryTimeout`` (180 s), ``idleTimeout`` (30 min),
   ``absoluteTimeout`` (24 h) and, after a ``wsc`` reconnect, ``recoveryState`` ``Successful``
   (subscription kept, missed events replayed) or ``Failed`` (subscribe again, same connection).
   ``meta.wsc`` may come on any frame; the one with the highest ``sequence`` is kept.
3. One subscription per connection: a ``ClientRequest`` ``POST /restapi/v1.0/subscription/`` with
   every filter; the reply is a ``ClientRequest`` frame with the same ``messageId`` and a
   ``status``. Filters the user may not use come back in ``disabledFilters``.
4. ``ServerNotification`` frames carry ``{event, subscriptionId, body}``; ``event`` is the filter
   with ``~`` expanded, so it is matched by pattern; notifications of another subscription are
   dropped.
5. WebSocket ping frames do not count as activity: a ``Heartbeat`` frame is sent after a silence,
   well inside the idle timeout. ``Error`` frames ``WSG-902`` (idle) and ``WSG-903`` (absolute
   timeout) precede a close; the connection is renewed (with recovery) before the absolute timeout.

What this client adds: a catch-up callback (``on_gap``) at the first connection and after every
reconnect that did not recover the session, so the engine reads the call log for calls that ended
meanwhile; jittered backoff and its own wstoken budget (2 a minute) so a reconnect storm never
spends the Auth budget sign-in needs; and a fallback state (``UNAVAILABLE``) when the account has no
WebSocket permission or the socket cannot be reached, with a later retry.

Threading contract: :meth:`RingCentralEvents.start` runs one daemon thread (``rc-push``). The
callbacks ``on_event``, ``on_status`` and ``on_gap`` are called on that thread, one at a time; they
must be quick and must not touch Qt (the composition root turns them into signals). :meth:`close`
may be called from any thread: it closes the socket and joins the thread (within ``close_timeout``
unless a wstoken request is in flight, which its HTTP timeout bounds; the thread is a daemon).
"""

from __future__ import annotations

import inspect
import json
import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import urlencode

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import connect as ws_connect

from adapters.base import AdapterError, AuthError, PermissionDenied, RateLimited
from adapters.ringcentral.models import WsToken
from adapters.ringcentral.telephony import INSIGHTS_FILTER, TELEPHONY_FILTER, event_kind

log = logging.getLogger(__name__)

SUBSCRIPTION_PATH = "/restapi/v1.0/subscription/"


class FrameError(ValueError):
    """A frame that is not RingCentral's ``[meta, body?]`` JSON array."""


def parse_frame(text: str | bytes) -> tuple[dict[str, Any], Any]:
    """``(meta, body)`` of one frame; ``body`` is None when the frame has none.

    Raises:
        FrameError: not JSON, not an array of one or two elements, or no ``meta.type``.
    """
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FrameError(f"not JSON: {str(text)[:40]!r}") from exc
    if not isinstance(data, list) or not 1 <= len(data) <= 2 or not isinstance(data[0], dict):
        raise FrameError("not a [meta, body] array")
    meta = data[0]
    if not isinstance(meta.get("type"), str):
        raise FrameError("meta has no type")
    return meta, data[1] if len(data) == 2 else None


def frame(meta: Mapping[str, Any], body: Any = None) -> str:
    return json.dumps([dict(meta)] if body is None else [dict(meta), body], separators=(",", ":"))


class PushState(StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    #: Push cannot be used now (no permission, unreachable): poll instead; tried again later.
    UNAVAILABLE = "unavailable"
    CLOSED = "closed"


@dataclass(frozen=True)
class PushStatus:
    """What the status bar says about live call events.

    Attributes:
        state: see :class:`PushState`.
        message: one plain sentence for the agent.
        insights: RingSense insights arrive as events (no need to ask for them).
        retry_in: seconds until the next attempt, when waiting.
    """

    state: PushState
    message: str
    insights: bool = False
    retry_in: float | None = None


class TokenSource(Protocol):
    """What the events client needs from the REST client (``RingCentralClient.ws_token``)."""

    def ws_token(self) -> WsToken: ...


class Socket(Protocol):
    """The part of ``websockets.sync.client.ClientConnection`` used here."""

    def send(self, message: str) -> None: ...

    def recv(self, timeout: float | None = None) -> str | bytes: ...

    def close(self) -> None: ...


#: websockets 17.1+ deprecates a connection not used as a context manager unless ``legacy=True``
#: is passed (older versions do not know the flag); this client closes the socket itself.
_LEGACY_CONNECT: dict[str, Any] = {"legacy": True} if "legacy" in inspect.signature(ws_connect).parameters else {}


def default_connect(url: str) -> Socket:
    # The library answers the server's pings (the 10 s pong rule) and pings on its own to notice a
    # dead TCP connection; the application-level Heartbeat keeps the idle timer happy.
    sock: Socket = ws_connect(url, open_timeout=10, close_timeout=2, ping_interval=20, ping_timeout=20,
                              max_size=16 * 1024 * 1024, user_agent_header="Logdesk", **_LEGACY_CONNECT)
    return sock


class _Dropped(Exception):
    """The connection ended; ``recover`` says whether a ``wsc`` reconnect may get it back, ``wait``
    the least time before the next attempt."""

    def __init__(self, reason: str, *, recover: bool = True, wait: float = 0.0) -> None:
        super().__init__(reason)
        self.recover = recover
        self.wait = wait


class _Unavailable(Exception):
    """Push cannot be used on this account now: fall back to polling, try again later."""

    def __init__(self, message: str, retry_in: float) -> None:
        super().__init__(message)
        self.retry_in = retry_in


class RingCentralEvents:
    """One WebSocket connection with one subscription, kept alive and recovered.

    Args:
        tokens: issues wstokens (the :class:`~adapters.ringcentral.client.RingCentralClient`).
        on_event: ``(kind, body)`` per notification: kind ``"telephony"`` or ``"insights"``, body
            the untrusted notification body (``body.body`` of the frame).
        on_status: every change of :class:`PushStatus`.
        on_gap: events may have been missed (first connection, or a reconnect that could not
            recover the session): read the call log now.
        insights: also subscribe to RingSense insights (dropped silently if the user may not).
        connect: opens a socket for a URL (tests inject failures).
        rng: jitter.
        clock: monotonic seconds.
        heartbeat_after: seconds of silence before a ``Heartbeat`` is sent.
        unavailable_retry: seconds before trying again after the account refused push.
        close_timeout: how long :meth:`close` waits for the thread.
    """

    def __init__(
        self,
        tokens: TokenSource,
        *,
        on_event: Callable[[str, Mapping[str, Any]], None],
        on_status: Callable[[PushStatus], None],
        on_gap: Callable[[], None],
        insights: bool = True,
        connect: Callable[[str], Socket] = default_connect,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        heartbeat_after: float = 120.0,
        unavailable_retry: float = 1800.0,
        close_timeout: float = 1.0,
    ) -> None:
        self._tokens = tokens
        self._on_event = on_event
        self._on_status = on_status
        self._on_gap = on_gap
        self._want_insights = insights
        self._connect = connect
        self._rng = rng or random.Random()
        self._clock = clock
        self.heartbeat_after = heartbeat_after
        self.unavailable_retry = unavailable_retry
        self.close_timeout = close_timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._socket: Socket | None = None
        self._socket_lock = threading.Lock()
        self._wsc: tuple[str, int] | None = None
        self._dropped_at: float | None = None
        self._recovery_timeout = 180.0
        self._subscription_id: str | None = None
        self._insights_on = False
        self._token_times: deque[float] = deque()
        self._failures = 0
        self.status = PushStatus(PushState.CONNECTING, "Connecting to RingCentral for live call events…")
        #: Counters for tests, the bench and the log.
        self.stats = {"wstokens": 0, "connections": 0, "recovered": 0, "resubscribed": 0, "garbage": 0,
                      "foreign": 0, "heartbeats": 0, "events": 0}

    # --- life cycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name="rc-push", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stops: closes the socket and joins the thread. Safe to call twice, from any thread."""
        self._stop.set()
        with self._socket_lock:
            sock = self._socket
        if sock is not None:
            try:
                sock.close()
            except Exception:
                log.debug("closing the push socket failed", exc_info=True)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self.close_timeout)
        self._set_status(PushStatus(PushState.CLOSED, "Live call events stopped."))

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- the loop --------------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._session()
                self._failures = 0
            except _Unavailable as exc:
                self._wsc = None
                self._set_status(PushStatus(PushState.UNAVAILABLE, str(exc), retry_in=exc.retry_in))
                self._stop.wait(exc.retry_in)
                continue
            except _Dropped as exc:
                if self._stop.is_set():
                    break
                self._failures += 1
                if not exc.recover:
                    self._wsc = None
                self._dropped_at = self._dropped_at or self._clock()
                delay = max(self._backoff(), exc.wait)
                log.info("live call events: %s; reconnecting in %.1f s", exc, delay)
                if self._failures >= 3:
                    self._set_status(PushStatus(
                        PushState.UNAVAILABLE,
                        "Live call events are unavailable (RingCentral's event server cannot be reached); "
                        "checking the call log instead, and trying again.",
                        retry_in=delay,
                    ))
                else:
                    self._set_status(PushStatus(PushState.RECONNECTING, "Reconnecting for live call events…",
                                                retry_in=delay))
                self._stop.wait(delay)
        with self._socket_lock:
            self._socket = None

    def _backoff(self) -> float:
        ceiling = min(300.0, float(2 ** max(0, min(self._failures - 1, 10))))
        return ceiling * (0.5 + self._rng.random() / 2)

    def _session(self) -> None:
        """One connection, from the wstoken to its end (raises why it ended)."""
        recovering = (
            self._wsc is not None and self._dropped_at is not None
            and self._clock() - self._dropped_at < self._recovery_timeout - 10
        )
        token = self._ws_token()
        query = {"access_token": token.ws_access_token}
        if recovering and self._wsc is not None:
            query["wsc"] = self._wsc[0]
        url = f"{token.uri}{'&' if '?' in token.uri else '?'}{urlencode(query)}"
        try:
            sock = self._connect(url)
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            raise _Dropped(f"could not connect ({type(exc).__name__})", recover=recovering) from None
        with self._socket_lock:
            if self._stop.is_set():
                sock.close()
                raise _Dropped("closing")
            self._socket = sock
        self.stats["connections"] += 1
        try:
            self._serve(sock, recovering)
        finally:
            with self._socket_lock:
                self._socket = None
            try:
                sock.close()
            except Exception:
                log.debug("closing the push socket failed", exc_info=True)

    def _ws_token(self) -> WsToken:
        # Our own budget on top of the Auth group's: never more than 2 wstokens a minute.
        now = self._clock()
        while self._token_times and now - self._token_times[0] > 60:
            self._token_times.popleft()
        if len(self._token_times) >= 2:
            wait = 60 - (now - self._token_times[0])
            raise _Dropped(f"wstoken budget spent for {wait:.0f} s", wait=wait)
        self._token_times.append(now)
        self.stats["wstokens"] += 1
        try:
            return self._tokens.ws_token()
        except PermissionDenied as exc:
            raise _Unavailable(
                "Live call events are not allowed for this RingCentral app or user (WebSocket permission "
                "missing); checking the call log instead.",
                self.unavailable_retry,
            ) from exc
        except RateLimited as exc:
            wait = exc.retry_after or 30.0
            raise _Dropped(f"RingCentral's sign-in budget is spent ({wait:.0f} s)", wait=wait) from exc
        except AuthError as exc:
            raise _Unavailable(f"Live call events need RingCentral: {exc}", self.unavailable_retry) from exc
        except AdapterError as exc:
            raise _Dropped(f"no WebSocket token: {exc}") from exc

    def _serve(self, sock: Socket, recovering: bool) -> None:
        details = self._connection_details(sock)
        state = details.get("recoveryState")
        if recovering and state == "Successful":
            self.stats["recovered"] += 1
            log.info("live call events: session recovered; missed events are replayed")
        else:
            if recovering:
                log.info("live call events: recovery failed (%s); subscribing again",
                         details.get("recoveryErrorCode"))
                self.stats["resubscribed"] += 1
            self._subscribe(sock)
            self._on_gap()
        self._dropped_at = None
        self._failures = 0
        self._set_status(PushStatus(
            PushState.LIVE,
            "Live call events: on." if self._insights_on else "Live call events: on (AI notes are checked).",
            insights=self._insights_on,
        ))
        idle = _number(details.get("idleTimeout"), 1800.0)
        absolute = _number(details.get("absoluteTimeout"), 86400.0)
        opened = self._clock()
        renew_at = opened + max(absolute - min(300.0, absolute * 0.1), absolute * 0.5)
        heartbeat_after = min(self.heartbeat_after, idle / 3)
        last_heard = last_sent = opened
        while not self._stop.is_set():
            now = self._clock()
            if now >= renew_at:
                # Renew before the absolute timeout; the new connection recovers this session.
                self._dropped_at = now
                raise _Dropped("renewing before the absolute timeout")
            quiet_until = max(last_sent, last_heard) + heartbeat_after
            wait = max(0.05, min(renew_at - now, quiet_until - now))
            try:
                text = sock.recv(timeout=wait)
            except TimeoutError:
                now = self._clock()
                if now - max(last_heard, last_sent) >= heartbeat_after - 0.01:
                    self._send(sock, frame({"type": "Heartbeat", "messageId": str(uuid.uuid4())}))
                    self.stats["heartbeats"] += 1
                    last_sent = now
                continue
            except ConnectionClosed as exc:
                self._dropped_at = self._clock()
                raise _Dropped(f"connection closed ({exc.rcvd.code if exc.rcvd else 'no close frame'})") from None
            except OSError as exc:
                self._dropped_at = self._clock()
                raise _Dropped(f"connection lost ({type(exc).__name__})") from None
            last_heard = self._clock()
            self._handle(text)

    def _connection_details(self, sock: Socket) -> dict[str, Any]:
        try:
            text = sock.recv(timeout=15)
            meta, body = parse_frame(text)
        except TimeoutError:
            raise _Dropped("no ConnectionDetails within 15 s") from None
        except ConnectionClosed:
            raise _Dropped("closed before ConnectionDetails", recover=False) from None
        except FrameError as exc:
            self.stats["garbage"] += 1
            raise _Dropped(f"garbage instead of ConnectionDetails ({exc})", recover=False) from None
        if meta.get("type") == "Error":
            code = body.get("errorCode") if isinstance(body, dict) else None
            raise _Dropped(f"refused: {code or 'Error'}", recover=False)
        if meta.get("type") != "ConnectionDetails" or not isinstance(body, dict):
            raise _Dropped(f"expected ConnectionDetails, got {meta.get('type')}", recover=False)
        self._track_wsc(meta, details=True)
        self._recovery_timeout = _number(body.get("recoveryTimeout"), 180.0)
        return body

    def _subscribe(self, sock: Socket) -> None:
        filters = [TELEPHONY_FILTER, *([INSIGHTS_FILTER] if self._want_insights else [])]
        message_id = str(uuid.uuid4())
        request = {"type": "ClientRequest", "messageId": message_id, "method": "POST", "path": SUBSCRIPTION_PATH}
        self._send(sock, frame(request, {"eventFilters": filters, "deliveryMode": {"transportType": "WebSocket"}}))
        deadline = self._clock() + 15
        early: list[str] = []
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise _Dropped("no answer to the subscription within 15 s")
            try:
                text = sock.recv(timeout=remaining)
            except TimeoutError:
                continue
            except ConnectionClosed:
                raise _Dropped("closed while subscribing") from None
            try:
                meta, body = parse_frame(text)
            except FrameError:
                self.stats["garbage"] += 1
                continue
            self._track_wsc(meta)
            if meta.get("type") == "ServerNotification":
                early.append(text if isinstance(text, str) else text.decode("utf-8", "replace"))
                continue
            if meta.get("type") == "ClientRequest" and meta.get("messageId") == message_id:
                break
            if meta.get("type") == "Error":
                code = body.get("errorCode") if isinstance(body, dict) else None
                raise _Dropped(f"error while subscribing: {code}")
        status = meta.get("status")
        if status in (401, 403):
            raise _Unavailable(
                "Live call events are not allowed for this RingCentral user (call control permission missing); "
                "checking the call log instead.",
                self.unavailable_retry,
            )
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise _Dropped(f"subscription refused (status {status})")
        disabled = {d.get("filter") for d in body.get("disabledFilters") or () if isinstance(d, dict)}
        if any(_is_telephony_filter(f) for f in disabled if isinstance(f, str)):
            raise _Unavailable(
                "RingCentral will not send call events for this user; checking the call log instead.",
                self.unavailable_retry,
            )
        self._subscription_id = body["id"]
        self._insights_on = self._want_insights and not any(
            isinstance(f, str) and event_kind(f.replace("~", "0")) == "insights" for f in disabled
        )
        for text in early:
            self._handle(text)

    def _handle(self, text: str | bytes) -> None:
        try:
            meta, body = parse_frame(text)
        except FrameError as exc:
            self.stats["garbage"] += 1
            log.warning("live call events: ignored a malformed frame (%s)", exc)
            return
        self._track_wsc(meta)
        kind = meta.get("type")
        if kind == "ServerNotification":
            if not isinstance(body, dict) or body.get("subscriptionId") != self._subscription_id:
                self.stats["foreign"] += 1
                return
            event = body.get("event")
            what = event_kind(event) if isinstance(event, str) else None
            payload = body.get("body")
            if what is None or not isinstance(payload, dict):
                self.stats["foreign"] += 1
                return
            self.stats["events"] += 1
            self._on_event(what, payload)
        elif kind == "Error":
            code = body.get("errorCode") if isinstance(body, dict) else None
            # WSG-902 (idle) and WSG-903 (absolute timeout) are followed by a close: recover then.
            self._dropped_at = self._clock()
            raise _Dropped(f"server said {code or 'Error'}")

    def _track_wsc(self, meta: Mapping[str, Any], *, details: bool = False) -> None:
        wsc = meta.get("wsc")
        if not isinstance(wsc, dict) or not isinstance(wsc.get("token"), str):
            return
        raw_sequence = wsc.get("sequence")
        sequence = raw_sequence if isinstance(raw_sequence, int) else 0
        if details or self._wsc is None or sequence > self._wsc[1]:
            self._wsc = (wsc["token"], sequence)

    def _send(self, sock: Socket, text: str) -> None:
        try:
            sock.send(text)
        except (ConnectionClosed, OSError):
            self._dropped_at = self._clock()
            raise _Dropped("connection lost while sending") from None

    def _set_status(self, status: PushStatus) -> None:
        if status == self.status:
            return
        self.status = status
        try:
            self._on_status(status)
        except Exception:  # a broken listener must not stop the socket thread
            log.exception("live call events: status listener failed")


def _number(value: Any, default: float) -> float:
    return float(value) if isinstance(value, int | float) and value > 0 else default


def _is_telephony_filter(path: str) -> bool:
    return event_kind(path.replace("~", "0")) == "telephony"


def filters_for(insights: bool) -> Sequence[str]:
    return (TELEPHONY_FILTER, INSIGHTS_FILTER) if insights else (TELEPHONY_FILTER,)


__all__ = (
    "FrameError",
    "PushState",
    "PushStatus",
    "RingCentralEvents",
    "Socket",
    "TokenSource",
    "default_connect",
    "filters_for",
    "frame",
    "parse_frame",
)
