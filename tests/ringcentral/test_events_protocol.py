# SPDX-License-Identifier: MIT
"""The push-events client's side of RingCentral's WebSocket protocol, against a scripted peer.

The peer plays frames exactly as the developer guide documents them; each test drives one rule
(ConnectionDetails first, one subscription, recovery with ``wsc``, heartbeats after silence,
fallback without permission). The same client runs against the sandbox's real WebSocket server in
``test_events_sandbox.py``.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedError

from adapters.base import PermissionDenied, RateLimited
from adapters.ringcentral.events import FrameError, PushState, PushStatus, RingCentralEvents, frame, parse_frame
from adapters.ringcentral.models import WsToken

TELEPHONY_EVENT = "/restapi/v1.0/account/37439510/extension/62264425016/telephony/sessions"


def details(**extra: Any) -> str:
    return frame(
        {"type": "ConnectionDetails", "messageId": "m0", "status": 200, "wsc": {"token": "WSC-1", "sequence": 1}},
        {"creationTime": "2026-03-02T14:00:01.120Z", "recoveryTimeout": 180, "idleTimeout": 1800,
         "absoluteTimeout": 86400, "recoveryBufferSize": 100, **extra},
    )


def notification(subscription: str, seq: int = 2, event: str = TELEPHONY_EVENT) -> str:
    return frame(
        {"type": "ServerNotification", "messageId": f"n{seq}", "status": 200},
        {"uuid": f"u{seq}", "event": event, "subscriptionId": subscription, "ownerId": "62264425016",
         "body": {"sequence": seq, "telephonySessionId": "s-1"}},
    )


class ScriptedSocket:
    """A peer: answers the subscription, plays queued frames, records what the client sent."""

    def __init__(self, *, subscribe_reply: Callable[[dict[str, Any]], str] | None = None) -> None:
        self.inbox: queue.Queue[str | BaseException] = queue.Queue()
        self.sent: list[list[Any]] = []
        self.closed = threading.Event()
        self.subscribe_reply = subscribe_reply

    def send(self, message: str) -> None:
        data = json.loads(message)
        self.sent.append(data)
        meta = data[0]
        if meta.get("type") == "ClientRequest" and self.subscribe_reply is not None:
            self.inbox.put(self.subscribe_reply(meta))

    def recv(self, timeout: float | None = None) -> str:
        if self.closed.is_set():
            raise ConnectionClosedError(None, None)
        try:
            item = self.inbox.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError from None
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self) -> None:
        self.closed.set()
        self.inbox.put(ConnectionClosedError(None, None))


def ok_subscription(
    sub_id: str = "sub-1", disabled: list[dict[str, str]] | None = None
) -> Callable[[Mapping[str, Any]], str]:
    def reply(meta: Mapping[str, Any]) -> str:
        body: dict[str, Any] = {"id": sub_id, "status": "Active", "eventFilters": [],
                                "deliveryMode": {"transportType": "WebSocket"}}
        if disabled:
            body["disabledFilters"] = disabled
        return frame({"type": "ClientRequest", "messageId": meta["messageId"], "status": 200}, body)
    return reply


class Tokens:
    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.count = 0

    def ws_token(self) -> WsToken:
        self.count += 1
        if self.failures:
            raise self.failures.pop(0)
        return WsToken(ws_access_token=f"wst-{self.count}", uri="ws://127.0.0.1:9/ws", expires_in=30)


class Harness:
    def __init__(self, sockets: list[ScriptedSocket], tokens: Tokens | None = None, **kwargs: Any) -> None:
        self.sockets = sockets
        self.urls: list[str] = []
        self.events: queue.Queue[tuple[str, Mapping[str, Any]]] = queue.Queue()
        self.statuses: queue.Queue[PushStatus] = queue.Queue()
        self.gaps = 0
        self.tokens = tokens or Tokens()
        self.client = RingCentralEvents(
            self.tokens,
            on_event=lambda kind, body: self.events.put((kind, body)),
            on_status=self.statuses.put,
            on_gap=self._gap,
            connect=self._connect,
            **kwargs,
        )

    def _gap(self) -> None:
        self.gaps += 1

    def _connect(self, url: str) -> ScriptedSocket:
        self.urls.append(url)
        if not self.sockets:
            raise OSError("connection refused")
        return self.sockets.pop(0)

    def wait_status(self, state: PushState, timeout: float = 10) -> PushStatus:
        while True:
            status = self.statuses.get(timeout=timeout)
            if status.state is state:
                return status

    def __enter__(self) -> Harness:
        self.client.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()


def test_the_client_waits_for_connection_details_then_subscribes_once_to_every_filter() -> None:
    sock = ScriptedSocket(subscribe_reply=ok_subscription())
    sock.inbox.put(details())
    with Harness([sock]) as h:
        status = h.wait_status(PushState.LIVE)
        assert status.insights
        sock.inbox.put(notification("sub-1"))
        kind, body = h.events.get(timeout=5)
    assert kind == "telephony" and body["telephonySessionId"] == "s-1"
    requests = [m for m in sock.sent if m[0]["type"] == "ClientRequest"]
    assert len(requests) == 1
    meta, body = requests[0]
    assert meta["method"] == "POST" and meta["path"] == "/restapi/v1.0/subscription/"
    assert body == {"eventFilters": ["/restapi/v1.0/account/~/extension/~/telephony/sessions",
                                     "/ai/ringsense/v1/public/accounts/~/domains/pbx/insights"],
                    "deliveryMode": {"transportType": "WebSocket"}}
    assert h.urls == ["ws://127.0.0.1:9/ws?access_token=wst-1"]
    assert h.gaps == 1  # the first connection catches up on the call log


def test_notifications_of_another_subscription_and_garbage_frames_are_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="adapters.ringcentral.events")
    sock = ScriptedSocket(subscribe_reply=ok_subscription())
    sock.inbox.put(details())
    with Harness([sock]) as h:
        h.wait_status(PushState.LIVE)
        sock.inbox.put(notification("someone-else"))
        sock.inbox.put("<html>502 Bad Gateway</html>")
        sock.inbox.put(json.dumps({"type": "ServerNotification"}))
        sock.inbox.put(notification("sub-1", seq=3))
        _, body = h.events.get(timeout=5)
        assert body["sequence"] == 3 and h.events.empty()
        assert h.client.stats["foreign"] == 1 and h.client.stats["garbage"] == 2
    assert "ignored a malformed frame" in caplog.text


def test_a_dropped_connection_recovers_with_the_wsc_token_without_subscribing_again() -> None:
    first = ScriptedSocket(subscribe_reply=ok_subscription())
    first.inbox.put(details())
    second = ScriptedSocket()
    second.inbox.put(details(recoveryState="Successful"))
    with Harness([first, second], rng=__import__("random").Random(1)) as h:
        h.wait_status(PushState.LIVE)
        first.inbox.put(ConnectionClosedError(None, None))
        h.wait_status(PushState.RECONNECTING)
        h.wait_status(PushState.LIVE)
        second.inbox.put(notification("sub-1", seq=9))
        assert h.events.get(timeout=5)[1]["sequence"] == 9
    assert h.urls[1] == "ws://127.0.0.1:9/ws?access_token=wst-2&wsc=WSC-1"
    assert not [m for m in second.sent if m[0]["type"] == "ClientRequest"]
    assert h.gaps == 1 and h.client.stats["recovered"] == 1


def test_a_failed_recovery_subscribes_again_on_the_same_connection_and_catches_up() -> None:
    first = ScriptedSocket(subscribe_reply=ok_subscription())
    first.inbox.put(details())
    second = ScriptedSocket(subscribe_reply=ok_subscription("sub-2"))
    second.inbox.put(details(recoveryState="Failed", recoveryErrorCode="WSG-1005"))
    with Harness([first, second]) as h:
        h.wait_status(PushState.LIVE)
        first.inbox.put(ConnectionClosedError(None, None))
        h.wait_status(PushState.RECONNECTING)
        h.wait_status(PushState.LIVE)
    assert [m[0]["type"] for m in second.sent] == ["ClientRequest"]
    assert h.gaps == 2 and h.client.stats["resubscribed"] == 1


def test_silence_is_broken_by_a_heartbeat_frame() -> None:
    sock = ScriptedSocket(subscribe_reply=ok_subscription())
    sock.inbox.put(details())
    with Harness([sock], heartbeat_after=0.2) as h:
        h.wait_status(PushState.LIVE)
        deadline = threading.Event()
        for _ in range(100):
            if any(m[0]["type"] == "Heartbeat" for m in sock.sent):
                break
            deadline.wait(0.05)
    heartbeat = next(m for m in sock.sent if m[0]["type"] == "Heartbeat")
    assert len(heartbeat) == 1 and heartbeat[0]["messageId"]


def test_an_idle_timeout_error_frame_leads_to_a_recovering_reconnect() -> None:
    first = ScriptedSocket(subscribe_reply=ok_subscription())
    first.inbox.put(details())
    second = ScriptedSocket()
    second.inbox.put(details(recoveryState="Successful"))
    with Harness([first, second]) as h:
        h.wait_status(PushState.LIVE)
        first.inbox.put(frame({"type": "Error", "messageId": "e", "status": 408},
                              {"errorCode": "WSG-902", "message": "Idle timeout expired"}))
        h.wait_status(PushState.RECONNECTING)
        h.wait_status(PushState.LIVE)
    assert "wsc=WSC-1" in h.urls[1]


def test_the_connection_is_renewed_before_the_absolute_timeout() -> None:
    first = ScriptedSocket(subscribe_reply=ok_subscription())
    first.inbox.put(details(absoluteTimeout=1))
    second = ScriptedSocket()
    second.inbox.put(details(recoveryState="Successful", absoluteTimeout=86400))
    with Harness([first, second]) as h:
        h.wait_status(PushState.LIVE)
        h.wait_status(PushState.RECONNECTING)
        h.wait_status(PushState.LIVE)
    assert first.closed.is_set() and "wsc=WSC-1" in h.urls[1]


def test_no_websocket_permission_falls_back_to_polling_and_says_so() -> None:
    tokens = Tokens(PermissionDenied("no", status=403))
    with Harness([], tokens=tokens) as h:
        status = h.wait_status(PushState.UNAVAILABLE)
    assert "WebSocket permission" in status.message and "call log" in status.message
    assert status.retry_in == 1800.0


def test_a_rate_limited_wstoken_waits_for_retry_after_and_never_storms() -> None:
    tokens = Tokens(RateLimited("slow down", retry_after=30))
    with Harness([], tokens=tokens) as h:
        status = h.wait_status(PushState.RECONNECTING)
        assert status.retry_in is not None and status.retry_in >= 30
    assert tokens.count == 1


def test_reconnects_never_spend_more_than_two_wstokens_a_minute() -> None:
    # Every connection is refused: the client backs off and keeps to its own wstoken budget
    clock = [1000.0]
    with Harness([], clock=lambda: clock[0], rng=__import__("random").Random(0)) as h:
        statuses = [h.wait_status(PushState.RECONNECTING)]
        statuses.append(h.statuses.get(timeout=10))
        statuses.append(h.statuses.get(timeout=10))
    assert h.tokens.count == 2
    assert statuses[-1].retry_in is not None and statuses[-1].retry_in >= 30


def test_a_user_without_call_events_falls_back_even_when_the_subscription_succeeds() -> None:
    disabled = [{"filter": "/restapi/v1.0/account/~/extension/~/telephony/sessions", "reason": "Permission"}]
    sock = ScriptedSocket(subscribe_reply=ok_subscription(disabled=disabled))
    sock.inbox.put(details())
    with Harness([sock]) as h:
        status = h.wait_status(PushState.UNAVAILABLE)
    assert "call log" in status.message


def test_insights_the_user_may_not_have_are_left_to_polling() -> None:
    disabled = [{"filter": "/ai/ringsense/v1/public/accounts/~/domains/pbx/insights", "reason": "Permission"}]
    sock = ScriptedSocket(subscribe_reply=ok_subscription(disabled=disabled))
    sock.inbox.put(details())
    with Harness([sock]) as h:
        status = h.wait_status(PushState.LIVE)
    assert not status.insights and "AI notes are checked" in status.message


def test_an_error_frame_instead_of_connection_details_is_a_failed_connection() -> None:
    sock = ScriptedSocket()
    sock.inbox.put(frame({"type": "Error", "messageId": "e", "status": 400},
                         {"errorCode": "WSG-400", "message": "Malformed WebSocket session context token"}))
    with Harness([sock]) as h:
        status = h.wait_status(PushState.RECONNECTING)
    assert status.retry_in is not None


def test_close_ends_the_thread_quickly() -> None:
    sock = ScriptedSocket(subscribe_reply=ok_subscription())
    sock.inbox.put(details())
    h = Harness([sock])
    h.client.start()
    h.wait_status(PushState.LIVE)
    h.client.close()
    assert not h.client.running and sock.closed.is_set()


@pytest.mark.parametrize("text", ["", "[]", "{}", '["x"]', '[{"type": 3}]', "[1, 2]", '[{"type":"a"}, 1, 2]'])
def test_frames_that_are_not_meta_body_arrays_are_refused(text: str) -> None:
    with pytest.raises(FrameError):
        parse_frame(text)
