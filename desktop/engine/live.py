# SPDX-License-Identifier: MIT
"""The live half of a call's life, from RingCentral's push events to the engine's rows.

A call the agent's extension rings on becomes a row the moment its first telephony-session event
arrives: its id is the ``telephonySessionId`` and its record is made from the events
(:func:`live_record`: result ``In Progress``, no duration, a recording reference without content
while ``parties[].recordings[]`` shows one). The same lifecycle as for call-log records then
decides the artifacts: the duration is pending until the call ends (when the events give it), a
recording placeholder is written only when a recording is under way. When the call-log record
arrives 15–30 s after the hang-up it joins the row (``store.store_records_in``) and keeps its id,
so the call stays one row with one CRM log, one draft and one set of artifacts — across a crash
too, since the row and its link are in SQLite before anything is sent.

Pure functions here; :class:`desktop.engine.service.Engine` owns the locking and the store.
"""

from __future__ import annotations

from datetime import timedelta

from adapters.models import Call, Direction, Party, Recording
from adapters.ringcentral.telephony import LiveCall
from desktop.engine.models import LiveInfo

#: How long after a hang-up the call-log record is read (RingCentral: 15–30 s; Embeddable waits 30 s).
RECORD_DELAY = timedelta(seconds=30)

#: Waits between call-log reads while a record or a recording is still awaited with push on
#: (recordings attach seconds to minutes after the call); then the safety-net interval.
AWAIT_STEPS = (timedelta(seconds=60), timedelta(minutes=3), timedelta(minutes=8))


def live_record(call: LiveCall, extension_id: str) -> Call:
    """The record the engine keeps for a call known from live events only."""
    agent = Party(
        phone_number=call.local.phone_number,
        extension_number=call.local.extension_number,
        extension_id=call.local.extension_id or extension_id,
        name=call.local.name,
    )
    remote = call.remote
    inbound = call.direction is Direction.INBOUND
    recording = Recording(id=call.recording_ids[0]) if call.recording_ids else None
    return Call(
        id=call.telephony_session_id,
        session_id=call.session_id or call.telephony_session_id,
        telephony_session_id=call.telephony_session_id,
        start_time=call.rang_at,
        duration=call.duration,
        direction=call.direction,
        result=call.result,
        reason=call.end_reason,
        from_=remote if inbound else agent,
        to=agent if inbound else remote,
        recording=recording,
        type="Voice",
    )


def live_info(call: LiveCall) -> LiveInfo:
    return LiveInfo(
        telephony_session_id=call.telephony_session_id,
        state=str(call.state),
        rang_at=call.rang_at,
        answered_at=call.answered_at,
        held_since=call.held_since,
        ended_at=call.ended_at,
        recording=bool(call.recording_ids),
        recording_active=call.recording_active,
        queue_name=call.queue_name,
        end_reason=call.end_reason,
        transferred=call.transferred,
    )


def await_step(round_: int, safety_net: timedelta) -> timedelta:
    """The wait before the ``round_``-th read of the call log for an awaited record or recording."""
    return AWAIT_STEPS[round_] if round_ < len(AWAIT_STEPS) else safety_net
