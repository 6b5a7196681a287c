# SPDX-License-Identifier: MIT
"""The sandbox's live calls: each kind's telephony-session events (the agent's party only), their
timeline, and how they line up with the call-log record that follows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
import pytest

from adapters.ringcentral.sandbox import CALL_KINDS, PLATFORM_BASE, ManualClock, SandboxAccount, connect, preset
from adapters.ringcentral.sandbox.calls import SimCall
from adapters.ringcentral.sandbox.clock import parse_iso
from adapters.ringcentral.sandbox.telephony import session_events
from adapters.ringcentral.telephony import LiveCalls, LiveState, TelephonySessionEvent

AGENT_ID = "400200000001"


def call_log_record(account: SandboxAccount, call_id: str) -> httpx.Response:
    rc = connect(account)
    try:
        with httpx.Client(transport=account.transport(), base_url=PLATFORM_BASE) as http:
            bearer = {"Authorization": f"Bearer {rc.auth.access_token()}"}
            return http.get(f"/restapi/v1.0/account/~/extension/~/call-log/{call_id}", headers=bearer)
    finally:
        rc.close()


def events(account: SandboxAccount, call: SimCall) -> list[dict[str, Any]]:
    return [body for _, body in session_events(call, account.people)]


def codes(bodies: list[dict[str, Any]]) -> list[str]:
    return [b["parties"][0]["status"]["code"] for b in bodies]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("inbound", ["Setup", "Proceeding", "Answered", "Disconnected"]),
        ("missed", ["Setup", "Proceeding", "Disconnected"]),
        ("voicemail", ["Setup", "Proceeding", "VoiceMail", "Disconnected"]),
        ("outbound", ["Setup", "Proceeding", "Answered", "Disconnected"]),
        ("busy", ["Setup", "Proceeding", "Disconnected"]),
        ("no-answer", ["Setup", "Proceeding", "Disconnected"]),
        ("transfer", ["Setup", "Proceeding", "Answered", "Disconnected"]),
        ("answered-elsewhere", ["Proceeding", "Disconnected"]),
        ("unknown", ["Setup", "Disconnected"]),
    ],
)
def test_each_kind_has_the_documented_sequence_of_the_agents_party(
    account: SandboxAccount, kind: str, expected: list[str]
) -> None:
    call = account.ring_call(kind)
    bodies = events(account, call)
    assert codes(bodies) == expected
    base = call.telephony_session_id.removeprefix("s-")
    for body in bodies:
        (party,) = body["parties"]  # one party per event, the agent's
        assert party["id"] == f"p-{base}-1" and party["extensionId"] == AGENT_ID
        assert party["direction"] == call.direction
        assert body["sessionId"] == call.session_id and body["telephonySessionId"] == call.telephony_session_id
        assert body["origin"] == {"type": "Call"}
    sequences = [b["sequence"] for b in bodies]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    times = [parse_iso(b["eventTime"]) for b in bodies]
    assert times == sorted(times) and times[0] == pytest.approx(call.start, abs=0.001)  # the startTime
    reason = bodies[-1]["parties"][0]["status"].get("reason")
    assert reason == {"missed": "Cancelled", "busy": "TargetBusy", "no-answer": "NoAnswer",
                      "transfer": "BlindTransfer"}.get(kind)
    assert bodies[-1]["parties"][0]["missedCall"] is (kind == "missed")
    if kind == "transfer":  # the agent hands over where the call log's second leg starts
        assert times[-1] == pytest.approx(call.start + call.duration * 0.45, abs=0.01)
    elif kind != "answered-elsewhere":
        assert times[-1] == pytest.approx(call.end, abs=0.01)


def test_hidden_parties_use_up_sequence_numbers(account: SandboxAccount) -> None:
    call = account.ring_call("outbound", duration=60)
    # Setup 2, far end ringing 3, agent Proceeding 4, far end answers 5, agent Answered 6, ...
    assert [b["sequence"] for b in events(account, call)] == [2, 4, 6, 7]


def test_a_held_call_goes_hold_then_answered(account: SandboxAccount) -> None:
    call = account.ring_call("inbound", duration=100, ring_seconds=10, hold=True)
    bodies = events(account, call)
    assert codes(bodies) == ["Setup", "Proceeding", "Answered", "Hold", "Answered", "Disconnected"]
    held, resumed = (parse_iso(b["eventTime"]) - call.start for b in bodies[3:5])
    assert 10 < held < resumed < 100


def test_a_queue_call_taken_elsewhere_names_its_queue_and_is_never_answered(account: SandboxAccount) -> None:
    call = account.ring_call("answered-elsewhere", duration=90, ring_seconds=4)
    for body in events(account, call):
        party = body["parties"][0]
        assert party["queueCall"] is True
        assert party["uiCallInfo"] == {"primary": {"type": "QueueName", "value": "Support"}}
        assert party["to"]["phoneNumber"] == account.people.main_number
    assert parse_iso(events(account, call)[-1]["eventTime"]) == pytest.approx(call.start + 4, abs=0.01)


def test_calls_between_extensions_carry_extension_numbers_and_ids(account: SandboxAccount) -> None:
    for _ in range(6):  # both directions come up
        call = account.ring_call("internal", duration=60)
        party = events(account, call)[0]["parties"][0]
        colleague = call.remote
        mine, theirs = (party["to"], party["from"]) if call.direction == "Inbound" else (party["from"], party["to"])
        assert theirs == {"phoneNumber": colleague.extension_number, "name": colleague.name,
                          "extensionId": colleague.extension_id}
        assert mine["phoneNumber"] == "101" and mine["extensionId"] == AGENT_ID
        if call.direction == "Outbound":  # the RingCentral destination answers at once [CSN RC→RC]
            assert codes(events(account, call))[:2] == ["Setup", "Answered"]


def test_a_recorded_call_shows_the_call_logs_recording_id_from_answered_on(
    account: SandboxAccount, clock: ManualClock
) -> None:
    call = account.ring_call("inbound", duration=120, recorded=True, ring_seconds=5)
    bodies = events(account, call)
    recordings = [b["parties"][0].get("recordings") for b in bodies]
    rec_id = call.recordings[0].id
    assert recordings == [None, None, [{"id": rec_id, "active": True}], [{"id": rec_id, "active": True}]]
    # The record, once attached, names the same recording
    attach = call.recordings[0].attach_at
    assert attach is not None
    account.advance(attach - clock() + 1)
    record = call_log_record(account, call.id).json()
    assert record["recording"]["id"] == rec_id and record["partyId"] == bodies[0]["parties"][0]["id"]


@pytest.mark.parametrize("kind", [k for k in CALL_KINDS if k not in ("unknown", "answered-elsewhere")])
def test_folded_events_give_the_result_the_call_log_will_have(account: SandboxAccount, kind: str) -> None:
    call = account.ring_call(kind, hold=True)
    live = LiveCalls(AGENT_ID)
    states = [live.apply(TelephonySessionEvent.parse(b)) for b in events(account, call)]
    final = states[-1]
    assert final is not None and final.state is LiveState.ENDED
    assert final.result == call.result
    assert final.rang_at.timestamp() == pytest.approx(call.start, abs=0.001)


def test_a_live_call_reaches_the_call_log_only_after_it_ended(account: SandboxAccount) -> None:
    call = account.ring_call("inbound", duration=60)
    assert call.live and call.start == account.clock() and call.end < call.visible_at <= call.end + 30
    account.advance(60 + 14)
    assert call_log_record(account, call.id).status_code == 404
    account.advance(call.visible_at - account.clock())
    record = call_log_record(account, call.id).json()
    assert record["duration"] == 60 and record["result"] == "Accepted"
    assert parse_iso(record["startTime"]) == call.start


def test_placed_calls_have_no_live_events(account: SandboxAccount) -> None:
    scheduled = account.ws_stats["scheduled"]
    call = account.place_call("inbound", ended_ago=60, recorded=False)
    assert not call.live and account.ws_stats["scheduled"] == scheduled


def test_generated_calls_ring_live_first(clock: ManualClock) -> None:
    scenario = replace(preset("happy", demo=True), history=0)
    with SandboxAccount(clock=clock, scenario=scenario, seed=9) as account:
        account.advance(20)  # the first generated call rings 5–15 s after creation
        (call,) = account.calls.values()
        assert call.live and call.start <= clock() < call.visible_at
        assert call.start > clock() - 20


def test_the_control_api_rings_a_live_call(account: SandboxAccount) -> None:
    with httpx.Client(transport=account.transport(), base_url=PLATFORM_BASE) as http:
        rung = http.post("/__sandbox/calls", params={"kind": "outbound", "live": "1", "duration": "45", "hold": "1"})
        placed = http.post("/__sandbox/calls", params={"kind": "missed"})
        bad = http.post("/__sandbox/calls", params={"kind": "outbound", "live": "1", "duration": "soon"})
    assert rung.status_code == 200 and rung.json()["live"] is True and rung.json()["duration"] == 45
    call = next(c for c in account.calls.values() if c.id == rung.json()["id"])
    assert call.live and call.hold and call.start == account.clock()
    assert placed.json()["live"] is False
    assert bad.status_code == 400


def test_active_calls_show_a_live_call_in_progress_and_the_call_log_never_does(account: SandboxAccount) -> None:
    call = account.ring_call("outbound", duration=100)
    account.advance(40)
    rc = connect(account)
    try:
        with httpx.Client(transport=account.transport(), base_url=PLATFORM_BASE) as http:
            bearer = {"Authorization": f"Bearer {rc.auth.access_token()}"}
            active = http.get("/restapi/v1.0/account/~/extension/~/active-calls", headers=bearer).json()["records"]
            log = http.get("/restapi/v1.0/account/~/extension/~/call-log", headers=bearer).json()["records"]
    finally:
        rc.close()
    (record,) = [r for r in active if r["id"] == call.id]
    assert record["result"] == "In Progress" and record["duration"] == 40 and "reason" not in record
    assert call.id not in {r["id"] for r in log}
