# SPDX-License-Identifier: MIT
"""The agent's live calls from telephony-session events (one party per event, out of order)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.models import Direction
from adapters.ringcentral.telephony import (
    LiveCalls,
    LiveState,
    TelephonySessionEvent,
    canonical_code,
    event_kind,
)

AGENT = "62264425016"
T0 = datetime(2026, 3, 2, 15, 4, 11, tzinfo=UTC)


def party_event(
    seq: int,
    code: str,
    *,
    at: float = 0.0,
    tsid: str = "s-a0e7b361acc0",
    party: str = "p-a0e7b361acc0-4",
    ext: str | None = AGENT,
    direction: str = "Inbound",
    reason: str | None = None,
    recordings: list[dict[str, Any]] | None = None,
    queue: str | None = None,
    missed: bool = False,
    caller_name: str | None = "ACME CORP",
) -> TelephonySessionEvent:
    remote = {"phoneNumber": "+14155550142", **({"name": caller_name} if caller_name else {})}
    me = {"phoneNumber": "+16505550100", "name": "Agent J", "extensionId": AGENT}
    raw_party: dict[str, Any] = {
        "accountId": "37439510",
        "id": party,
        "direction": direction,
        "from": remote if direction == "Inbound" else me,
        "to": me if direction == "Inbound" else remote,
        "status": {"code": code, "rcc": False, **({"reason": reason} if reason else {})},
        "missedCall": missed,
        "queueCall": queue is not None,
        "park": {},
    }
    if ext is not None:
        raw_party["extensionId"] = ext
    if recordings is not None:
        raw_party["recordings"] = recordings
    if queue is not None:
        raw_party["uiCallInfo"] = {"primary": {"type": "QueueName", "value": queue}}
    return TelephonySessionEvent.parse(
        {
            "sequence": seq,
            "sessionId": "4291804870016",
            "telephonySessionId": tsid,
            "serverId": "10.13.22.27.TAM",
            "eventTime": (T0 + timedelta(seconds=at)).isoformat(),
            "origin": {"type": "Call"},
            "parties": [raw_party],
        }
    )


def test_inbound_call_rings_connects_holds_and_ends_with_its_duration() -> None:
    # Given the agent's extension
    calls = LiveCalls(AGENT)
    # When an inbound call rings, is answered, held, resumed and hung up
    ringing = calls.apply(party_event(6, "Setup", at=0))
    assert ringing is not None and ringing.state is LiveState.RINGING
    assert ringing.remote.phone_number == "+14155550142" and ringing.remote.name == "ACME CORP"
    assert calls.apply(party_event(7, "Proceeding", at=1)).state is LiveState.RINGING  # type: ignore[union-attr]
    answered = calls.apply(party_event(8, "Answered", at=8))
    assert answered is not None and answered.state is LiveState.CONNECTED
    assert answered.answered_at == T0 + timedelta(seconds=8)
    held = calls.apply(party_event(9, "Hold", at=30))
    assert held is not None and held.state is LiveState.ON_HOLD and held.held_since == T0 + timedelta(seconds=30)
    assert calls.apply(party_event(10, "Answered", at=45)).state is LiveState.CONNECTED  # type: ignore[union-attr]
    ended = calls.apply(party_event(11, "Disconnected", at=120))
    # Then the call is over, answered, with the duration counted from the first ring
    assert ended is not None and ended.state is LiveState.ENDED
    assert ended.duration == 120 and ended.result == "Accepted" and ended.direction is Direction.INBOUND
    assert calls.active() == []


def test_out_of_order_events_are_put_in_sequence() -> None:
    calls = LiveCalls(AGENT)
    calls.apply(party_event(6, "Setup", at=0))
    calls.apply(party_event(8, "Answered", at=8))
    # The Proceeding event that was sent before Answered arrives after it: it is stale
    assert calls.apply(party_event(7, "Proceeding", at=1)) is None
    assert calls.get("s-a0e7b361acc0").state is LiveState.CONNECTED  # type: ignore[union-attr]
    assert calls.stale == 1


def test_events_for_another_extension_are_ignored() -> None:
    calls = LiveCalls(AGENT)
    assert calls.apply(party_event(6, "Setup", ext="99999")) is None
    assert calls.apply(party_event(6, "Setup", ext=None)) is None  # the PSTN side
    assert calls.active() == [] and calls.foreign == 2


def test_inbound_call_never_answered_is_missed() -> None:
    calls = LiveCalls(AGENT)
    calls.apply(party_event(2, "Setup", at=0))
    calls.apply(party_event(3, "Proceeding", at=1))
    ended = calls.apply(party_event(4, "Disconnected", at=20, missed=True, reason="Cancelled"))
    assert ended is not None and ended.result == "Missed" and ended.missed and not ended.was_answered


def test_voicemail_then_disconnect_is_a_voicemail() -> None:
    calls = LiveCalls(AGENT)
    calls.apply(party_event(2, "Setup", at=0))
    assert calls.apply(party_event(3, "VoiceMail", at=15)).state is LiveState.VOICEMAIL  # type: ignore[union-attr]
    ended = calls.apply(party_event(4, "Disconnected", at=50))
    assert ended is not None and ended.result == "Voicemail"


def test_outbound_busy_takes_its_result_from_the_reason() -> None:
    calls = LiveCalls(AGENT)
    calls.apply(party_event(2, "Setup", direction="Outbound"))
    ended = calls.apply(party_event(3, "Disconnected", at=4, direction="Outbound", reason="TargetBusy"))
    assert ended is not None and ended.result == "Busy" and ended.direction is Direction.OUTBOUND
    assert ended.remote.phone_number == "+14155550142"


def test_blind_transfer_ends_the_agents_part_and_says_transferred() -> None:
    calls = LiveCalls(AGENT)
    calls.apply(party_event(2, "Setup"))
    calls.apply(party_event(3, "Answered", at=5))
    ended = calls.apply(party_event(4, "Disconnected", at=60, reason="BlindTransfer"))
    assert ended is not None and ended.state is LiveState.ENDED and ended.transferred
    assert ended.result == "Accepted"


def test_call_switch_to_another_device_is_not_an_end() -> None:
    calls = LiveCalls(AGENT)
    calls.apply(party_event(2, "Setup"))
    calls.apply(party_event(3, "Answered", at=5))
    moved = calls.apply(party_event(4, "Disconnected", at=40, reason="CallSwitch"))
    assert moved is not None and moved.is_live
    # The call goes on from the new device (a new party of the same agent)
    resumed = calls.apply(party_event(5, "Answered", at=41, party="p-a0e7b361acc0-7", direction="Outbound"))
    assert resumed is not None and resumed.state is LiveState.CONNECTED
    # The direction seen by the agent stays the call's, not the new leg's technical one
    assert resumed.answered_at == T0 + timedelta(seconds=5)
    ended = calls.apply(party_event(6, "Disconnected", at=90, party="p-a0e7b361acc0-7", direction="Outbound"))
    assert ended is not None and ended.state is LiveState.ENDED


def test_attended_transfer_gone_ends_the_call() -> None:
    calls = LiveCalls(AGENT)
    calls.apply(party_event(2, "Setup"))
    calls.apply(party_event(3, "Answered", at=5))
    ended = calls.apply(party_event(4, "Gone", at=70, reason="AttendedTransfer"))
    assert ended is not None and ended.state is LiveState.ENDED and ended.transferred


def test_recording_flag_follows_the_parties_recordings() -> None:
    calls = LiveCalls(AGENT)
    calls.apply(party_event(2, "Setup"))
    recording = calls.apply(party_event(3, "Answered", at=5, recordings=[{"id": "7001", "active": True}]))
    assert recording is not None and recording.recording_ids == ("7001",) and recording.recording_active
    paused = calls.apply(party_event(4, "Answered", at=30, recordings=[{"id": "7001", "active": False}]))
    assert paused is not None and paused.recording_ids == ("7001",) and not paused.recording_active
    # A later event without the array does not forget the recording
    ended = calls.apply(party_event(5, "Disconnected", at=60))
    assert ended is not None and ended.recording_ids == ("7001",)


def test_queue_call_carries_the_queue_name() -> None:
    calls = LiveCalls(AGENT)
    ringing = calls.apply(party_event(7, "Proceeding", queue="Support"))
    assert ringing is not None and ringing.queue_call and ringing.queue_name == "Support"


def test_a_queue_call_another_agent_answered_is_answered_elsewhere_not_missed() -> None:
    calls = LiveCalls(AGENT)
    calls.apply(party_event(7, "Proceeding", queue="Support"))
    ended = calls.apply(party_event(8, "Disconnected", at=9, queue="Support"))
    assert ended is not None and ended.result == "Answered Elsewhere"
    # The caller gave up while the queue rang: missed
    calls.apply(party_event(2, "Proceeding", queue="Support", tsid="s-2"))
    gave_up = calls.apply(party_event(3, "Disconnected", at=9, queue="Support", tsid="s-2", missed=True))
    assert gave_up is not None and gave_up.result == "Missed"


def test_caller_name_filled_in_later_is_kept_and_not_lost_again() -> None:
    calls = LiveCalls(AGENT)
    calls.apply(party_event(2, "Setup", caller_name=None))
    named = calls.apply(party_event(3, "Proceeding", caller_name="ACME CORP"))
    assert named is not None and named.remote.name == "ACME CORP"
    later = calls.apply(party_event(4, "Answered", caller_name=None))
    assert later is not None and later.remote.name == "ACME CORP"


def test_internal_call_reads_the_short_number_as_an_extension() -> None:
    calls = LiveCalls(AGENT)
    event = TelephonySessionEvent.parse(
        {
            "sequence": 2,
            "sessionId": "1",
            "telephonySessionId": "s-1",
            "eventTime": T0.isoformat(),
            "parties": [
                {
                    "id": "p-1-1",
                    "extensionId": AGENT,
                    "direction": "Inbound",
                    "from": {"phoneNumber": "103", "name": "Dana Colleague", "extensionId": "777"},
                    "to": {"phoneNumber": "101", "extensionId": AGENT},
                    "status": {"code": "Setup"},
                }
            ],
        }
    )
    call = calls.apply(event)
    assert call is not None and call.remote.extension_number == "103" and call.remote.phone_number is None


@pytest.mark.parametrize(
    "raw",
    [
        [],
        {"sequence": "x", "telephonySessionId": "s-1", "eventTime": T0.isoformat()},
        {"sequence": 1, "eventTime": T0.isoformat()},
        {"sequence": 1, "telephonySessionId": "s-1", "eventTime": "yesterday"},
        {"sequence": 1, "telephonySessionId": "s-1", "eventTime": T0.isoformat(), "parties": [{"id": "p"}]},
    ],
)
def test_malformed_bodies_are_refused_with_a_reason(raw: Any) -> None:
    with pytest.raises(ValueError, match=r"telephony-session event|JSON object"):
        TelephonySessionEvent.parse(raw)


def test_status_codes_in_every_documented_spelling() -> None:
    assert canonical_code("VMScreening") == canonical_code("VoiceMailScreening") == "VoiceMailScreening"
    assert canonical_code("Voicemail") == canonical_code("VoiceMail") == "VoiceMail"
    assert canonical_code("SomethingNew") == "SomethingNew"


def test_event_paths_are_matched_with_ids_expanded_and_query_kept() -> None:
    assert event_kind("/restapi/v1.0/account/37439510/extension/62264425016/telephony/sessions") == "telephony"
    assert event_kind("/restapi/v1.0/account/1/extension/2/telephony/sessions?statusCode=Answered") == "telephony"
    assert event_kind("/ai/ringsense/v1/public/accounts/37439510/domains/pbx/insights") == "insights"
    assert event_kind("/restapi/v1.0/account/1/extension/2/presence") is None
