# SPDX-License-Identifier: MIT
"""The sandbox's WebSocket gateway, frame by frame, with the raw ``websockets`` client.

Each test plays the client's side of RingCentral's push protocol by hand (``[meta, body]`` JSON
frames) against the account's gateway on loopback, on a manual clock: the first frame, the
subscription reply, heartbeats, bad tokens, idle and absolute timeouts, recovery with ``wsc``,
RingSense push, and the test hooks.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from adapters.ringcentral.client import RingCentralClient
from adapters.ringcentral.sandbox import (
    DEMO_DELAYS,
    PLATFORM_BASE,
    ManualClock,
    SandboxAccount,
    WsConfig,
    connect,
    preset,
)

TELEPHONY = "/restapi/v1.0/account/~/extension/~/telephony/sessions"
INSIGHTS = "/ai/ringsense/v1/public/accounts/~/domains/pbx/insights"
ACCOUNT_ID = "400100000001"
AGENT_ID = "400200000001"
TELEPHONY_EXPANDED = f"/restapi/v1.0/account/{ACCOUNT_ID}/extension/{AGENT_ID}/telephony/sessions"
INSIGHTS_EXPANDED = f"/ai/ringsense/v1/public/accounts/{ACCOUNT_ID}/domains/pbx/insights"

Frame = tuple[dict[str, Any], Any]


class Peer:
    """A hand-driven client connection: sends and reads ``[meta, body]`` frames."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    def frame(self, timeout: float = 10) -> Frame:
        data = json.loads(self.ws.recv(timeout=timeout))
        assert isinstance(data, list) and 1 <= len(data) <= 2 and isinstance(data[0], dict), data
        return data[0], data[1] if len(data) == 2 else None

    def send(self, meta: dict[str, Any], body: Any = None) -> None:
        self.ws.send(json.dumps([meta] if body is None else [meta, body]))

    def request(self, method: str, path: str, body: Any = None) -> Frame:
        """A ``ClientRequest``; returns its reply (frames in between must not be notifications)."""
        message_id = str(uuid.uuid4())
        self.send({"type": "ClientRequest", "messageId": message_id, "method": method, "path": path}, body)
        meta, reply = self.frame()
        assert meta["type"] == "ClientRequest" and meta["messageId"] == message_id, meta
        return meta, reply

    def subscribe(self, *filters: str, path: str = "/restapi/v1.0/subscription/") -> Frame:
        body = {"eventFilters": list(filters), "deliveryMode": {"transportType": "WebSocket"}}
        return self.request("POST", path, body)

    def heartbeat_round_trip(self) -> list[Frame]:
        """Sends a Heartbeat; returns every frame that came before its echo (in order)."""
        message_id = str(uuid.uuid4())
        self.send({"type": "Heartbeat", "messageId": message_id})
        before: list[Frame] = []
        while True:
            meta, body = self.frame()
            if meta["type"] == "Heartbeat" and meta.get("messageId") == message_id:
                return before
            before.append((meta, body))

    def closed(self, timeout: float = 10) -> ConnectionClosed:
        """Waits for the server to end the connection; returns how it ended."""
        with pytest.raises(ConnectionClosed) as info:
            while True:
                self.ws.recv(timeout=timeout)
        return info.value


@pytest.fixture
def rc(account: SandboxAccount) -> Iterator[RingCentralClient]:
    client = connect(account)
    yield client
    client.close()


def ws_url(rc: RingCentralClient, **extra: str) -> str:
    token = rc.ws_token()
    return f"{token.uri}?{urlencode({'access_token': token.ws_access_token, **extra})}"


def open_peer(url: str) -> Iterator[Peer]:
    with ws_connect(url, open_timeout=10, close_timeout=2) as ws:
        yield Peer(ws)


@pytest.fixture
def peer(rc: RingCentralClient) -> Iterator[Peer]:
    yield from open_peer(ws_url(rc))


def details(peer: Peer) -> dict[str, Any]:
    meta, body = peer.frame()
    assert meta["type"] == "ConnectionDetails", meta
    assert isinstance(body, dict)
    return {"meta": meta, **body}


def notifications(frames: list[Frame]) -> list[dict[str, Any]]:
    return [body for meta, body in frames if meta["type"] == "ServerNotification"]


# --- wstoken -----------------------------------------------------------------------------------


def test_wstoken_is_an_auth_group_route_that_needs_a_bearer_and_names_the_gateway(
    account: SandboxAccount, rc: RingCentralClient
) -> None:
    assert account.ws_url is None  # the gateway starts with the first wstoken
    token = rc.ws_token()
    assert token.expires_in == 30 and token.uri == account.ws_url
    assert token.uri.startswith("ws://127.0.0.1:") and token.uri.endswith("/ws")
    with httpx.Client(transport=account.transport(), base_url=PLATFORM_BASE) as http:
        anonymous = http.post("/restapi/oauth/wstoken")
    assert anonymous.status_code == 401
    assert account.ws_stats["wstokens"] == 1


def test_wstoken_without_the_websocket_permission_is_403_insufficient_permissions(clock: ManualClock) -> None:
    with SandboxAccount(clock=clock, scenario="no-websocket", seed=1) as account:
        rc = connect(account)
        bearer = {"Authorization": f"Bearer {rc.auth.access_token()}"}
        with httpx.Client(transport=account.transport(), base_url=PLATFORM_BASE) as http:
            response = http.post("/restapi/oauth/wstoken", headers=bearer)
        rc.close()
    body = response.json()
    assert response.status_code == 403 and body["errorCode"] == "InsufficientPermissions"
    assert body["errors"][0] == {
        "errorCode": "CMN-401",
        "message": "In order to call this API endpoint, application needs to have [WebSocketsSubscriptions] permission",
        "permissionName": "WebSocketsSubscriptions",
    }
    assert account.ws_url is None


def test_injected_wstoken_faults_forbidden_then_rate_limited_with_retry_after(account: SandboxAccount) -> None:
    rc = connect(account)
    bearer = {"Authorization": f"Bearer {rc.auth.access_token()}"}
    rc.close()
    with httpx.Client(transport=account.transport(), base_url=PLATFORM_BASE) as http:
        account.inject_ws_fault("wstoken-forbidden")
        assert http.post("/restapi/oauth/wstoken", headers=bearer).status_code == 403
        assert http.post("/restapi/oauth/wstoken", headers=bearer).status_code == 200
        account.inject_ws_fault("wstoken-rate-limited")
        limited = http.post("/restapi/oauth/wstoken", headers=bearer)
        assert limited.status_code == 429 and limited.json()["errorCode"] == "CMN-301"
        assert limited.headers["Retry-After"] == "60" and limited.headers["X-Rate-Limit-Group"] == "auth"
        account.advance(61)
        assert http.post("/restapi/oauth/wstoken", headers=bearer).status_code == 200
    with pytest.raises(ValueError, match="unknown WebSocket fault"):
        account.inject_ws_fault("nope")


# --- connecting ------------------------------------------------------------------------------------


def test_connection_details_is_the_first_frame(peer: Peer, clock: ManualClock) -> None:
    got = details(peer)
    meta = got.pop("meta")
    assert meta["status"] == 200 and meta["messageId"] and meta["headers"]["RCRequestId"]
    assert meta["wsc"]["sequence"] == 1 and isinstance(meta["wsc"]["token"], str)
    assert got == {
        "creationTime": "2026-04-10T15:00:00.000Z",
        "maxConnectionsPerSession": 50,
        "recoveryBufferSize": 100,
        "recoveryTimeout": 180,
        "idleTimeout": 1800,
        "absoluteTimeout": 86400,
        "maxActiveRequests": 10,
    }


@pytest.mark.parametrize("how", ["unknown", "used", "expired"])
def test_a_bad_token_gets_an_error_frame_then_the_connection_closes(
    account: SandboxAccount, rc: RingCentralClient, how: str
) -> None:
    token = rc.ws_token()
    url = f"{token.uri}?access_token={token.ws_access_token}"
    if how == "unknown":
        url = f"{token.uri}?access_token=not-a-token"
    elif how == "used":
        for first in open_peer(url):
            details(first)
    else:
        account.advance(31)
    for peer in open_peer(url):
        meta, body = peer.frame()
        assert meta["type"] == "Error" and body["errorCode"] == "WSG-401"
        assert "wsc" not in meta
        assert peer.closed().rcvd.code == 1008


def test_no_access_token_is_closed_with_4400(account: SandboxAccount, rc: RingCentralClient) -> None:
    rc.ws_token()
    for peer in open_peer(str(account.ws_url)):
        assert peer.closed().rcvd.code == 4400


def test_only_the_ws_path_upgrades_and_refused_connections_get_503(
    account: SandboxAccount, rc: RingCentralClient
) -> None:
    rc.ws_token()
    with pytest.raises(InvalidStatus) as not_found:
        ws_connect(str(account.ws_url).replace("/ws", "/other"), open_timeout=5).close()
    assert not_found.value.response.status_code == 404
    account.inject_ws_fault("connection-refused")
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(ws_url(rc), open_timeout=5).close()
    assert refused.value.response.status_code == 503
    for peer in open_peer(ws_url(rc)):  # only the next one was refused
        details(peer)
    assert account.ws_stats["refused"] == 1


# --- subscriptions -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/restapi/v1.0/subscription/", "/restapi/v1.0/subscription"])
def test_the_subscription_reply_echoes_the_message_id_and_expands_the_filters(peer: Peer, path: str) -> None:
    details(peer)
    meta, body = peer.subscribe(TELEPHONY, INSIGHTS, f"{TELEPHONY}?statusCode=Answered", path=path)
    assert meta["status"] == 200
    assert meta["headers"]["Content-Type"].startswith("application/json") and meta["headers"]["RCRequestId"]
    assert "WSG-SubscriptionId" not in meta["headers"]
    assert meta["wsc"]["sequence"] == 2
    assert body["eventFilters"] == [TELEPHONY_EXPANDED, INSIGHTS_EXPANDED, f"{TELEPHONY_EXPANDED}?statusCode=Answered"]
    assert body["uri"] == f"/restapi/v1.0/subscription/{body['id']}"
    assert body["status"] == "Active" and body["creationTime"] == "2026-04-10T15:00:00.000Z"
    assert body["expirationTime"] == "2026-04-11T15:00:00.000Z" and body["expiresIn"] == 86399
    assert body["deliveryMode"] == {"transportType": "WebSocket", "encryption": False}
    assert "disabledFilters" not in body


def test_invalid_filters_and_requests_are_answered_like_rest(peer: Peer) -> None:
    details(peer)
    meta, body = peer.subscribe(TELEPHONY, "/restapi/v1.0/account/~/extension/~/message-store/nope")
    assert meta["status"] == 400 and body["errors"][0]["errorCode"] == "SUB-508"
    meta, body = peer.subscribe(f"{TELEPHONY}?colour=blue")
    assert meta["status"] == 400 and body["errorCode"] == "SUB-508"
    meta, body = peer.subscribe("/restapi/v1.0/account/~/extension/400200000002/telephony/sessions")
    assert meta["status"] == 403 and body["errorCode"] == "SUB-405"
    meta, body = peer.subscribe("/restapi/v1.0/account/999/extension/~/telephony/sessions")
    assert meta["status"] == 403 and body["errorCode"] == "SUB-406"
    meta, body = peer.request("POST", "/restapi/v1.0/subscription/", {"eventFilters": [TELEPHONY],
                                                                       "deliveryMode": {"transportType": "WebHook"}})
    assert meta["status"] == 400 and body["errors"][0]["parameterName"] == "deliveryMode.transportType"
    meta, body = peer.request("GET", "/restapi/v1.0/account/~/extension/~")
    assert meta["status"] == 404 and body["errorCode"] == "CMN-102"


def test_a_second_subscribe_replaces_the_first_and_put_and_delete_work_on_it(
    account: SandboxAccount, peer: Peer
) -> None:
    details(peer)
    _, first = peer.subscribe(TELEPHONY)
    _, second = peer.subscribe(f"{TELEPHONY}?direction=Outbound")
    assert first["id"] != second["id"]
    account.ring_call("inbound", duration=40)
    assert notifications(peer.heartbeat_round_trip()) == []  # the first subscription is gone
    account.ring_call("outbound", duration=40)
    (note,) = notifications(peer.heartbeat_round_trip())
    assert note["subscriptionId"] == second["id"] and note["event"] == f"{TELEPHONY_EXPANDED}?direction=Outbound"
    meta, _ = peer.request("PUT", f"/restapi/v1.0/subscription/{first['id']}",
                           {"eventFilters": [TELEPHONY], "deliveryMode": {"transportType": "WebSocket"}})
    assert meta["status"] == 404
    meta, updated = peer.request("PUT", f"/restapi/v1.0/subscription/{second['id']}",
                                 {"eventFilters": [TELEPHONY], "deliveryMode": {"transportType": "WebSocket"}})
    assert meta["status"] == 200 and updated["id"] == second["id"] and updated["eventFilters"] == [TELEPHONY_EXPANDED]
    meta, fetched = peer.request("GET", f"/restapi/v1.0/subscription/{second['id']}")
    assert meta["status"] == 200 and fetched["eventFilters"] == [TELEPHONY_EXPANDED]
    meta, gone = peer.request("DELETE", f"/restapi/v1.0/subscription/{second['id']}")
    assert meta["status"] == 204 and gone is None
    account.ring_call("inbound", duration=40)
    assert notifications(peer.heartbeat_round_trip()) == []


def test_ringsense_filters_come_back_disabled_without_a_licence(clock: ManualClock) -> None:
    scenario = replace(preset("no-ringsense"), history=0, delays=replace(DEMO_DELAYS, call_interval=None))
    with SandboxAccount(clock=clock, scenario=scenario, seed=2) as account:
        rc = connect(account)
        for peer in open_peer(ws_url(rc)):
            details(peer)
            meta, body = peer.subscribe(TELEPHONY, INSIGHTS)
            assert meta["status"] == 200 and body["eventFilters"] == [TELEPHONY_EXPANDED]
            (disabled,) = body["disabledFilters"]
            assert disabled["filter"] == INSIGHTS_EXPANDED and disabled["reason"] and disabled["message"]
            call = account.ring_call("inbound", duration=120, recorded=True)
            account.advance(call.recordings[0].insights_at - clock() + 1)  # type: ignore[operator]
            kinds = {n["event"] for n in notifications(peer.heartbeat_round_trip())}
            assert kinds == {TELEPHONY_EXPANDED}  # no insights pushed
        rc.close()


# --- notifications ----------------------------------------------------------------------------------


def test_a_rung_call_is_pushed_as_server_notifications_in_order(
    account: SandboxAccount, peer: Peer, clock: ManualClock
) -> None:
    details(peer)
    _, sub = peer.subscribe(TELEPHONY)
    call = account.ring_call("inbound", duration=60, recorded=True, ring_seconds=5)
    account.advance(61)
    frames = peer.heartbeat_round_trip()
    metas = [meta for meta, _ in frames]
    assert all(m["type"] == "ServerNotification" and m["status"] == 200 and m["headers"]["RCRequestId"]
               for m in metas)
    assert [m["wsc"]["sequence"] for m in metas] == list(range(3, 3 + len(metas)))
    notes = notifications(frames)
    for note in notes:
        assert note["event"] == TELEPHONY_EXPANDED and note["subscriptionId"] == sub["id"]
        assert note["ownerId"] == AGENT_ID and note["uuid"] and note["timestamp"]
    bodies = [n["body"] for n in notes]
    codes = [b["parties"][0]["status"]["code"] for b in bodies]
    assert codes == ["Setup", "Proceeding", "Answered", "Disconnected"]
    sequences = [b["sequence"] for b in bodies]
    assert sequences == sorted(sequences) and len(set(sequences)) == 4
    assert {b["telephonySessionId"] for b in bodies} == {call.telephony_session_id}
    assert {b["sessionId"] for b in bodies} == {call.session_id}
    assert bodies[0]["eventTime"] == "2026-04-10T15:00:00.000Z"
    assert bodies[2]["eventTime"] == "2026-04-10T15:00:05.000Z"
    assert bodies[3]["eventTime"] == "2026-04-10T15:01:00.000Z"
    assert bodies[3]["parties"][0]["recordings"] == [{"id": call.recordings[0].id, "active": True}]


def test_ringsense_insights_are_pushed_once_ready_with_the_rest_endpoints_json(clock: ManualClock) -> None:
    scenario = replace(preset("happy"), history=0, delays=replace(DEMO_DELAYS, call_interval=None))
    with SandboxAccount(clock=clock, scenario=scenario, seed=3) as account:
        rc = connect(account)
        for peer in open_peer(ws_url(rc)):
            details(peer)
            peer.subscribe(INSIGHTS)
            call = account.ring_call("outbound", duration=150, recorded=True)
            rec = call.recordings[0]
            assert rec.insights_at is not None
            account.advance(rec.insights_at - clock() - 1)
            assert notifications(peer.heartbeat_round_trip()) == []
            account.advance(2)
            (note,) = notifications(peer.heartbeat_round_trip())
            assert note["event"] == INSIGHTS_EXPANDED and note["ownerId"] == AGENT_ID
            pushed = note["body"]
            assert pushed["sourceSessionId"] == call.telephony_session_id and pushed["sourceRecordId"] == rec.id
            assert pushed == rc.get_insights(rec.id).raw  # type: ignore[union-attr]
        rc.close()


def test_a_heartbeat_is_echoed_and_counts_as_activity(account: SandboxAccount, rc: RingCentralClient) -> None:
    account.ws_config = WsConfig(idle_timeout=60)
    for peer in open_peer(ws_url(rc)):
        assert details(peer)["idleTimeout"] == 60
        account.advance(40)
        peer.send({"type": "Heartbeat", "messageId": "hb-1"})
        meta, body = peer.frame()
        assert meta == {"type": "Heartbeat", "messageId": "hb-1"} and body is None
        account.advance(40)  # 80 s since the connection opened, 40 s since the heartbeat
        assert peer.heartbeat_round_trip() == []
        account.advance(60)
        meta, body = peer.frame()
        assert meta["type"] == "Error" and body == {"errorCode": "WSG-902", "message": "Idle timeout expired"}
        peer.closed()


def test_the_absolute_timeout_ends_even_a_busy_connection(account: SandboxAccount, rc: RingCentralClient) -> None:
    account.ws_config = WsConfig(absolute_timeout=100)
    for peer in open_peer(ws_url(rc)):
        details(peer)
        for _ in range(3):
            account.advance(30)
            peer.heartbeat_round_trip()
        account.advance(15)
        _, body = peer.frame()
        assert body == {"errorCode": "WSG-903", "message": "Absolute timeout expired"}
        peer.closed()


# --- recovery --------------------------------------------------------------------------------------


def test_a_wsc_reconnect_recovers_the_subscription_and_replays_missed_events_in_order(
    account: SandboxAccount, rc: RingCentralClient
) -> None:
    for peer in open_peer(ws_url(rc)):
        wsc = details(peer)["meta"]["wsc"]["token"]
        _, sub = peer.subscribe(TELEPHONY)
        call = account.ring_call("inbound", duration=60, ring_seconds=5)
        assert [n["body"]["parties"][0]["status"]["code"] for n in notifications(peer.heartbeat_round_trip())] == [
            "Setup"
        ]
        assert account.drop_ws_connections() == 1
        closed = peer.closed()
        assert closed.rcvd is None  # cut, no close frame
    account.advance(70)  # Proceeding, Answered, Disconnected happen while nobody is connected
    for peer in open_peer(ws_url(rc, wsc=wsc)):
        got = details(peer)
        assert got["recoveryState"] == "Successful" and "recoveryErrorCode" not in got
        replayed = [peer.frame() for _ in range(3)]
        assert all(meta["type"] == "ServerNotification" for meta, _ in replayed)
        bodies = [body["body"] for _, body in replayed]
        assert [b["parties"][0]["status"]["code"] for b in bodies] == ["Proceeding", "Answered", "Disconnected"]
        assert {body["subscriptionId"] for _, body in replayed} == {sub["id"]}
        assert {b["telephonySessionId"] for b in bodies} == {call.telephony_session_id}
        # The subscription lives on without subscribing again
        account.ring_call("missed", duration=20)
        assert len(notifications(peer.heartbeat_round_trip())) == 1
    assert account.ws_stats["recovered"] == 1


def test_the_recovery_buffer_keeps_the_most_recent_events(account: SandboxAccount, rc: RingCentralClient) -> None:
    account.ws_config = WsConfig(recovery_buffer_size=3)
    for peer in open_peer(ws_url(rc)):
        wsc = details(peer)["meta"]["wsc"]["token"]
        peer.subscribe(TELEPHONY)
        account.drop_ws_connections()
        peer.closed()
    call = account.ring_call("inbound", duration=60, ring_seconds=5, hold=True)
    account.advance(61)  # six events; the last three are kept
    for peer in open_peer(ws_url(rc, wsc=wsc)):
        assert details(peer)["recoveryState"] == "Successful"
        codes = [n["body"]["parties"][0]["status"]["code"] for n in notifications(peer.heartbeat_round_trip())]
        assert codes == ["Hold", "Answered", "Disconnected"]
    assert call.hold


@pytest.mark.parametrize("case", ["no-subscription", "expired", "refused", "other-session"])
def test_a_failed_recovery_says_why_and_the_client_subscribes_again(
    account: SandboxAccount, rc: RingCentralClient, case: str
) -> None:
    for peer in open_peer(ws_url(rc)):
        wsc = details(peer)["meta"]["wsc"]["token"]
        if case != "no-subscription":
            peer.subscribe(TELEPHONY)
        account.drop_ws_connections()
        peer.closed()
    if case == "expired":
        account.advance(181)
    elif case == "refused":
        account.inject_ws_fault("recovery-refused")
    other = connect(account) if case == "other-session" else None
    url = ws_url(other or rc, wsc=wsc)
    for peer in open_peer(url):
        got = details(peer)
        assert got["recoveryState"] == "Failed"
        assert got["recoveryErrorCode"] == ("WSG-1003" if case == "other-session" else "WSG-1005")
        assert got["meta"]["wsc"]["token"] != wsc  # a new session context
        account.ring_call("missed", duration=20)
        assert notifications(peer.heartbeat_round_trip()) == []  # nothing without a subscription
        meta, _ = peer.subscribe(TELEPHONY)
        assert meta["status"] == 200
        account.ring_call("missed", duration=20)
        assert len(notifications(peer.heartbeat_round_trip())) == 1
    if other is not None:
        other.close()
    assert account.ws_stats["recovery_failed"] == 1


def test_a_refreshed_token_of_the_same_session_recovers(account: SandboxAccount, rc: RingCentralClient) -> None:
    for peer in open_peer(ws_url(rc)):
        wsc = details(peer)["meta"]["wsc"]["token"]
        peer.subscribe(TELEPHONY)
        account.drop_ws_connections()
        peer.closed()
    rc.auth.refresh_after_rejection(rc.auth.access_token())
    for peer in open_peer(ws_url(rc, wsc=wsc)):
        assert details(peer)["recoveryState"] == "Successful"


def test_a_wsc_that_is_not_ours_is_an_error_frame(rc: RingCentralClient) -> None:
    for peer in open_peer(ws_url(rc, wsc="RTFhRG5nfE-fake")):
        meta, body = peer.frame()
        assert meta["type"] == "Error" and body["errorCode"] == "WSG-400"
        peer.closed()


# --- hooks -----------------------------------------------------------------------------------------


def test_garbage_and_foreign_events_reach_the_client_as_sent(account: SandboxAccount, peer: Peer) -> None:
    details(peer)
    peer.subscribe(TELEPHONY)
    assert account.send_ws_garbage() == 1
    assert peer.ws.recv(timeout=10) == "<html><body><h1>502 Bad Gateway</h1></body></html>"
    body = account.emit_foreign_event()
    (note,) = notifications(peer.heartbeat_round_trip())
    assert note["body"] == body and body["parties"][0]["extensionId"] != AGENT_ID
    assert note["event"] == TELEPHONY_EXPANDED


def test_stats_count_the_traffic_and_close_joins_every_thread(clock: ManualClock) -> None:
    account = SandboxAccount(clock=clock, seed=5)
    rc = connect(account)
    for peer in open_peer(ws_url(rc)):
        details(peer)
        peer.subscribe(TELEPHONY)
        account.ring_call("inbound", duration=30, ring_seconds=4)
        account.advance(31)
        assert len(notifications(peer.heartbeat_round_trip())) == 4
        stats = account.ws_stats
        assert stats["connections"] == 1 and stats["connected"] == 1 and stats["wstokens"] == 1
        assert stats["frames_received"] == 2 and stats["notifications"] == 4
        assert stats["frames_sent"] == 1 + 1 + 4 + 1
    rc.close()
    account.close()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("sandbox-ws")]
    account.close()  # twice is fine


def test_the_server_closes_the_gateway_too(account: SandboxAccount) -> None:
    with account.serve() as server, httpx.Client(timeout=10) as http:
        rc = connect(account, server_url=server.url, http=http)
        token = rc.ws_token()  # over real sockets: the same gateway
        assert token.uri == account.ws_url
        for peer in open_peer(f"{token.uri}?access_token={token.ws_access_token}"):
            details(peer)
        rc.close()
    assert account.ws_url is None
    assert not [t.name for t in threading.enumerate() if t.name.startswith("sandbox-ws")]


def test_on_a_real_clock_the_ticker_delivers_events_on_time() -> None:
    import time

    with SandboxAccount(clock=time.time, scenario=replace(preset("happy"), history=0), seed=6) as account:
        rc = connect(account)
        for peer in open_peer(ws_url(rc)):
            details(peer)
            peer.subscribe(TELEPHONY)
            call = account.ring_call("inbound", duration=1, ring_seconds=0.3)
            bodies = [peer.frame()[1]["body"] for _ in range(4)]  # nobody advances the clock
        rc.close()
    assert [b["parties"][0]["status"]["code"] for b in bodies] == ["Setup", "Proceeding", "Answered", "Disconnected"]
    assert {b["telephonySessionId"] for b in bodies} == {call.telephony_session_id}
