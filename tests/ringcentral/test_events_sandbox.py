# SPDX-License-Identifier: MIT
"""The real push client (``RingCentralEvents``) against the sandbox's WebSocket gateway on loopback.

The sandbox account runs on a manual clock; the client runs on its own thread with real time for
its backoff and heartbeats. Each test waits for what it expects with a deadline.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import httpx
import pytest

from adapters.ringcentral.client import RingCentralClient
from adapters.ringcentral.events import PushState, PushStatus, RingCentralEvents
from adapters.ringcentral.sandbox import DEMO_DELAYS, ManualClock, SandboxAccount, connect, preset
from adapters.ringcentral.telephony import LiveCall, LiveCalls, LiveState, TelephonySessionEvent

AGENT_ID = "400200000001"
WAIT = 15.0


class Listener:
    """The client's callbacks, collected for the test thread."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, Mapping[str, Any]]] = queue.Queue()
        self.statuses: queue.Queue[PushStatus] = queue.Queue()
        self._gaps = 0
        self._lock = threading.Lock()
        self.live = LiveCalls(AGENT_ID)

    def gap(self) -> None:
        with self._lock:
            self._gaps += 1

    @property
    def gaps(self) -> int:
        with self._lock:
            return self._gaps

    def wait_status(self, state: PushState) -> PushStatus:
        while True:
            status = self.statuses.get(timeout=WAIT)
            if status.state is state:
                return status

    def next_event(self, kind: str = "telephony") -> Mapping[str, Any]:
        while True:
            got, body = self.events.get(timeout=WAIT)
            if got == kind:
                return body

    def fold(self, count: int) -> list[LiveCall]:
        """Applies the next ``count`` telephony events; the call's state after each."""
        states = []
        for _ in range(count):
            call = self.live.apply(TelephonySessionEvent.parse(self.next_event()))
            assert call is not None
            states.append(call)
        return states


def start(rc: RingCentralClient, listener: Listener) -> RingCentralEvents:
    events = RingCentralEvents(
        rc,
        on_event=lambda kind, body: listener.events.put((kind, body)),
        on_status=listener.statuses.put,
        on_gap=listener.gap,
        close_timeout=5.0,
    )
    events.start()
    return events


@pytest.fixture
def listener() -> Listener:
    return Listener()


@pytest.fixture
def rc(account: SandboxAccount) -> Iterator[RingCentralClient]:
    client = connect(account)
    yield client
    client.close()


@pytest.fixture
def live(rc: RingCentralClient, listener: Listener) -> Iterator[RingCentralEvents]:
    """The push client, connected and subscribed."""
    events = start(rc, listener)
    listener.wait_status(PushState.LIVE)
    yield events
    events.close()
    assert not events.running


def test_a_rung_call_arrives_in_order_and_folds_ringing_connected_ended(
    account: SandboxAccount, live: RingCentralEvents, listener: Listener
) -> None:
    assert listener.gaps == 1  # the first connection catches up on the call log
    call = account.ring_call("inbound", duration=75, recorded=True, ring_seconds=6, hold=True)
    account.advance(1)
    ringing = listener.fold(2)  # Setup, Proceeding
    assert [c.state for c in ringing] == [LiveState.RINGING, LiveState.RINGING]
    assert ringing[-1].telephony_session_id == call.telephony_session_id
    assert ringing[-1].session_id == call.session_id
    assert ringing[-1].remote.phone_number == call.remote.phone_number
    account.advance(5)
    (connected,) = listener.fold(1)
    assert connected.state is LiveState.CONNECTED and connected.recording_ids == (call.recordings[0].id,)
    account.advance(30)
    (held,) = listener.fold(1)
    assert held.state is LiveState.ON_HOLD
    account.advance(40)
    resumed, ended = listener.fold(2)
    assert resumed.state is LiveState.CONNECTED
    assert ended.state is LiveState.ENDED and ended.duration == 75 and ended.result == "Accepted"
    assert listener.live.stale == 0 and listener.live.foreign == 0
    # The call-log record comes after the end, with the same ids
    assert call.visible_at > call.end
    account.advance(call.visible_at - account.clock())
    record = next(r for r in account.calls.values() if r.telephony_session_id == call.telephony_session_id)
    assert record.recordings[0].id == ended.recording_ids[0]


def test_a_dropped_connection_recovers_and_the_missed_events_are_replayed(
    account: SandboxAccount, live: RingCentralEvents, listener: Listener
) -> None:
    account.ring_call("outbound", duration=60, ring_seconds=8)
    account.advance(9)
    assert listener.fold(3)[-1].state is LiveState.CONNECTED  # Setup, Proceeding, Answered
    assert account.drop_ws_connections() == 1
    account.advance(60)  # the hang-up happens while the client is away
    listener.wait_status(PushState.RECONNECTING)
    listener.wait_status(PushState.LIVE)
    (ended,) = listener.fold(1)
    assert ended.state is LiveState.ENDED and ended.result == "Call connected"
    assert live.stats["recovered"] == 1 and listener.gaps == 1  # recovered: no call-log catch-up needed
    assert account.ws_stats["recovered"] == 1


def test_a_refused_recovery_subscribes_again_and_asks_for_a_catch_up(
    account: SandboxAccount, live: RingCentralEvents, listener: Listener
) -> None:
    account.inject_ws_fault("recovery-refused")
    account.drop_ws_connections()
    listener.wait_status(PushState.RECONNECTING)
    listener.wait_status(PushState.LIVE)
    assert live.stats["resubscribed"] == 1 and listener.gaps == 2
    assert account.ws_stats["recovery_failed"] == 1
    account.ring_call("missed", duration=15)
    account.advance(16)
    states = listener.fold(3)
    assert states[-1].state is LiveState.ENDED and states[-1].missed and states[-1].result == "Missed"


def test_no_websocket_permission_leaves_the_client_unavailable(clock: ManualClock, listener: Listener) -> None:
    with SandboxAccount(clock=clock, scenario="no-websocket", seed=3) as account:
        rc = connect(account)
        events = start(rc, listener)
        status = listener.wait_status(PushState.UNAVAILABLE)
        events.close()
        rc.close()
    assert "WebSocket permission" in status.message
    assert account.ws_url is None


def test_a_garbage_frame_is_ignored(
    account: SandboxAccount, live: RingCentralEvents, listener: Listener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="adapters.ringcentral.events")
    assert account.send_ws_garbage() == 1
    account.ring_call("voicemail", duration=30, ring_seconds=10)
    account.advance(31)
    states = listener.fold(4)  # Setup, Proceeding, VoiceMail, Disconnected
    assert [s.state for s in states] == [LiveState.RINGING, LiveState.RINGING, LiveState.VOICEMAIL, LiveState.ENDED]
    assert states[-1].result == "Voicemail"
    assert live.stats["garbage"] == 1 and live.status.state is PushState.LIVE
    assert "ignored a malformed frame" in caplog.text


def test_someone_elses_call_reaches_the_client_and_is_ignored_by_live_calls(
    account: SandboxAccount, live: RingCentralEvents, listener: Listener
) -> None:
    account.emit_foreign_event()
    body = listener.next_event()
    assert listener.live.apply(TelephonySessionEvent.parse(body)) is None and listener.live.foreign == 1


def test_ringsense_insights_are_pushed_for_a_recorded_call(clock: ManualClock, listener: Listener) -> None:
    scenario = replace(preset("happy"), history=0, delays=replace(DEMO_DELAYS, call_interval=None))
    with SandboxAccount(clock=clock, scenario=scenario, seed=8) as account:
        rc = connect(account)
        events = start(rc, listener)
        try:
            assert listener.wait_status(PushState.LIVE).insights
            call = account.ring_call("inbound", duration=120, recorded=True)
            rec = call.recordings[0]
            assert rec.insights_at is not None
            account.advance(rec.insights_at - clock() + 1)
            insights = listener.next_event("insights")
        finally:
            events.close()
            rc.close()
    assert insights["sourceSessionId"] == call.telephony_session_id and insights["sourceRecordId"] == rec.id
    assert insights["insights"]["Summary"] and insights["insights"]["Transcript"]


def test_the_client_reaches_the_gateway_through_the_socket_server_too(
    account: SandboxAccount, listener: Listener
) -> None:
    with account.serve() as server, httpx.Client(timeout=10) as http:
        rc = connect(account, server_url=server.url, http=http)
        events = start(rc, listener)
        try:
            listener.wait_status(PushState.LIVE)
            account.ring_call("internal", duration=40)
            (setup,) = listener.fold(1)
            assert setup.remote.extension_number is not None and setup.remote.extension_id is not None
        finally:
            events.close()
            rc.close()
