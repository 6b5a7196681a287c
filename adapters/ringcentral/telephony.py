# SPDX-License-Identifier: MIT
"""Telephony-session push events, and the agent's live calls built from them.

RingCentral's telephony-session notifications (event filter
``/restapi/v1.0/account/~/extension/~/telephony/sessions``) are the live half of a call's life:
the call rings, is answered, held, transferred and ends here, 15–30 s before its call-log record
exists. What the developer guide and the published captures say about them, and what this module
does with it:

- Each event carries **one party** (a delta, not a snapshot); more are accepted. Parties are merged
  by ``id``, so a session is the set of the agent's parties with their last status.
- Events may arrive **out of order**: within a session, an event whose ``sequence`` is not newer
  than the last one applied to that party is stale and dropped.
- With an extension filter only the agent's own parties are visible; a party of another extension
  (a misrouted event, someone else's call) is ignored.
- Status codes are compared case-insensitively and both voicemail-screening spellings are accepted
  (the guide, the spec and the filter spell them differently).
- The call is **over for the agent** when every party of the agent is ``Disconnected`` (with a reason
  other than ``Pickup``/``CallSwitch``/``CallFlip``, which move the call to another device of the
  same user) or ``Gone`` (attended transfer, park pickup). A blind transfer ends the agent's part of
  the call; the session goes on for others.
- ``parties[].recordings[]`` shows that a recording is under way (``active`` false: paused); the
  recording itself is attached to the call-log record later.

Nothing here does I/O or holds a lock: :class:`LiveCalls` is used by one owner at a time (the
engine serialises it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, Field
from pydantic import ValidationError as PydanticValidationError

from adapters.models import Direction, Party, _Wire

#: The event filters Logdesk subscribes to (``~`` = the signed-in account and extension).
TELEPHONY_FILTER = "/restapi/v1.0/account/~/extension/~/telephony/sessions"
INSIGHTS_FILTER = "/ai/ringsense/v1/public/accounts/~/domains/pbx/insights"

_TELEPHONY_EVENT = re.compile(r"^/restapi/v1\.0/account/[^/]+/extension/[^/]+/telephony/sessions(?:\?.*)?$")
_INSIGHTS_EVENT = re.compile(r"^/ai/ringsense/v1/public/accounts/[^/]+/domains/pbx/insights(?:\?.*)?$")

#: Canonical status codes by their lower-case spelling.
_CODES = {
    "setup": "Setup",
    "proceeding": "Proceeding",
    "answered": "Answered",
    "disconnected": "Disconnected",
    "gone": "Gone",
    "parked": "Parked",
    "hold": "Hold",
    "voicemail": "VoiceMail",
    "voicemailscreening": "VoiceMailScreening",
    "vmscreening": "VoiceMailScreening",
    "faxreceive": "FaxReceive",
    "tds": "Tds",
}

#: ``Disconnected`` reasons that move the call to another device of the same user: not an end.
_MOVED_REASONS = {"pickup", "callswitch", "callflip"}
#: ``Disconnected`` reasons of a transfer: the agent's part is over, the session goes on.
_TRANSFER_REASONS = {"blindtransfer", "rcctransfer", "dtmftransfer", "attendedtransfer"}
#: Reasons of an outbound call that never connected, with the call-log ``result`` they become.
_OUTBOUND_FAILURES = {
    "targetbusy": "Busy",
    "noanswer": "No Answer",
    "timeout": "No Answer",
    "rejected": "Rejected",
    "invalidnumber": "Wrong Number",
    "internationaldisabled": "International Disabled",
    "destinationblocked": "Blocked",
    "notenoughfunds": "Insufficient Funds",
    "nosuchuser": "Wrong Number",
}


def event_kind(event_path: str) -> str | None:
    """``"telephony"``, ``"insights"`` or None for a ServerNotification's ``event``.

    The server echoes the filter with ``~`` expanded to real ids and the query string kept, so the
    path is matched by pattern.
    """
    if _TELEPHONY_EVENT.match(event_path):
        return "telephony"
    if _INSIGHTS_EVENT.match(event_path):
        return "insights"
    return None


def canonical_code(code: str) -> str:
    """A status code in one spelling (``VMScreening`` → ``VoiceMailScreening``); unknown codes as given."""
    return _CODES.get(code.replace("_", "").lower(), code)


# --- the wire --------------------------------------------------------------------------------


class PartyEnd(_Wire):
    """``from``/``to`` of a party (``CallPartyShortInfo`` plus the ``deviceId`` the captures show)."""

    phone_number: str | None = None
    name: str | None = None
    extension_id: str | None = None
    device_id: str | None = None


class PeerId(_Wire):
    session_id: str | None = None
    telephony_session_id: str | None = None
    party_id: str | None = None


class PartyStatus(_Wire):
    code: str
    reason: str | None = None
    description: str | None = None
    peer_id: PeerId | None = None


class LiveRecording(_Wire):
    id: str
    #: False while the recording is paused.
    active: bool = True


class UiCallInfoItem(_Wire):
    type: str | None = None
    value: str | None = None


class UiCallInfo(_Wire):
    primary: UiCallInfoItem | None = None
    additional: UiCallInfoItem | None = None


class TelephonyParty(_Wire):
    id: str
    account_id: str | None = None
    extension_id: str | None = None
    direction: Direction | None = None
    from_: PartyEnd | None = Field(default=None, validation_alias=AliasChoices("from", "from_"))
    to: PartyEnd | None = None
    status: PartyStatus
    missed_call: bool = False
    queue_call: bool = False
    recordings: list[LiveRecording] = Field(default_factory=list)
    ui_call_info: UiCallInfo | None = None


class TelephonySessionEvent(_Wire):
    """The ``body`` of a telephony-session notification."""

    sequence: int
    session_id: str | None = None
    telephony_session_id: str
    event_time: datetime
    parties: list[TelephonyParty] = Field(default_factory=list)
    origin_type: str | None = None

    @classmethod
    def parse(cls, raw_body: Any) -> TelephonySessionEvent:
        """Validates an untrusted body. Raises ``ValueError`` naming what is wrong."""
        if not isinstance(raw_body, dict):
            raise ValueError("a telephony-session event body must be a JSON object")
        origin = raw_body.get("origin")
        try:
            event = cls.model_validate(raw_body)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ()))
            raise ValueError(f"telephony-session event: {where or 'body'}: {first.get('msg')}") from None
        if isinstance(origin, dict) and isinstance(origin.get("type"), str):
            event = event.model_copy(update={"origin_type": origin["type"]})
        return event


# --- the agent's view -------------------------------------------------------------------------


class LiveState(StrEnum):
    RINGING = "ringing"
    CONNECTED = "connected"
    ON_HOLD = "on_hold"
    PARKED = "parked"
    VOICEMAIL = "voicemail"
    ENDED = "ended"


@dataclass(frozen=True)
class LiveCall:
    """One telephony session as the agent sees it, after the events applied so far.

    ``rang_at`` is the first event's time (what the call log calls ``startTime``); ``duration`` is
    counted from it, as the call log does, once the call ended.
    """

    telephony_session_id: str
    session_id: str | None
    direction: Direction
    remote: Party
    local: Party
    state: LiveState
    rang_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    held_since: datetime | None = None
    recording_ids: tuple[str, ...] = ()
    recording_active: bool = False
    queue_call: bool = False
    queue_name: str | None = None
    missed: bool = False
    voicemail: bool = False
    end_reason: str | None = None
    sequence: int = 0

    @property
    def is_live(self) -> bool:
        return self.state is not LiveState.ENDED

    @property
    def was_answered(self) -> bool:
        return self.answered_at is not None

    @property
    def transferred(self) -> bool:
        return (self.end_reason or "").lower() in _TRANSFER_REASONS

    @property
    def duration(self) -> int | None:
        """Seconds from the first ring to the end, once the call ended."""
        if self.ended_at is None:
            return None
        return max(0, round((self.ended_at - self.rang_at).total_seconds()))

    @property
    def result(self) -> str:
        """The call-log ``result`` this call will most likely get (``In Progress`` while live)."""
        if self.state is not LiveState.ENDED:
            return "In Progress"
        if self.answered_at is not None:
            return "Accepted" if self.direction is Direction.INBOUND else "Call connected"
        if self.voicemail:
            return "Voicemail"
        if self.queue_call and not self.missed:
            # A queue call that rang here and stopped without a missed flag: another agent took it.
            return "Answered Elsewhere"
        if self.direction is Direction.OUTBOUND:
            return _OUTBOUND_FAILURES.get((self.end_reason or "").lower(), "No Answer")
        return "Missed"


@dataclass
class _Session:
    parties: dict[str, TelephonyParty] = field(default_factory=dict)
    sequence_of: dict[str, int] = field(default_factory=dict)
    call: LiveCall | None = None


class LiveCalls:
    """The agent's telephony sessions, built from events (see the module docstring for the rules).

    Args:
        extension_id: the agent's extension id; parties of other extensions are ignored.

    Not thread-safe: one owner applies events.
    """

    def __init__(self, extension_id: str) -> None:
        self.extension_id = extension_id
        self._sessions: dict[str, _Session] = {}
        #: Events dropped as stale (older sequence) or as someone else's.
        self.stale = 0
        self.foreign = 0

    def get(self, telephony_session_id: str) -> LiveCall | None:
        session = self._sessions.get(telephony_session_id)
        return session.call if session else None

    def active(self) -> list[LiveCall]:
        return [s.call for s in self._sessions.values() if s.call is not None and s.call.is_live]

    def forget(self, telephony_session_id: str) -> None:
        self._sessions.pop(telephony_session_id, None)

    def apply(self, event: TelephonySessionEvent) -> LiveCall | None:
        """Applies one event; returns the session's new state, or None when nothing changed for the agent."""
        mine = [p for p in event.parties if p.extension_id == self.extension_id]
        if not mine:
            self.foreign += 1
            return None
        session = self._sessions.setdefault(event.telephony_session_id, _Session())
        applied = False
        for party in mine:
            if session.sequence_of.get(party.id, -1) >= event.sequence:
                self.stale += 1
                continue
            session.sequence_of[party.id] = event.sequence
            session.parties[party.id] = party
            applied = True
        if not applied:
            return None
        before = session.call
        session.call = _fold(before, session.parties, event)
        return session.call


def _fold(before: LiveCall | None, parties: dict[str, TelephonyParty], event: TelephonySessionEvent) -> LiveCall:
    """The session's new state from its parties' last statuses and the previous state."""
    when = event.event_time
    # The call's direction is the one of its first event (a call switch opens a new party whose
    # technical direction may differ); each party's own direction tells its far end.
    party = next(p for p in reversed(event.parties) if p.id in parties)
    own = party.direction or (before.direction if before else Direction.INBOUND)
    direction = before.direction if before else own
    ends = (party.from_, party.to) if own is Direction.INBOUND else (party.to, party.from_)
    remote = _party(ends[0]) if ends[0] is not None else (before.remote if before else Party())
    local = _party(ends[1]) if ends[1] is not None else (before.local if before else Party())
    if before is not None:
        # Names arrive on later events (an IVR fills in the caller's name): keep what was known.
        remote = Party(
            phone_number=remote.phone_number or before.remote.phone_number,
            extension_number=remote.extension_number or before.remote.extension_number,
            extension_id=remote.extension_id or before.remote.extension_id,
            name=remote.name or before.remote.name,
        )

    codes = {pid: canonical_code(p.status.code) for pid, p in parties.items()}
    # A party that moved to another device of the agent is replaced by the new one; while no new
    # party has shown up yet, the call keeps the state it had.
    moved = {
        pid for pid, code in codes.items()
        if code == "Disconnected" and (parties[pid].status.reason or "").lower() in _MOVED_REASONS
    }
    current = {pid: code for pid, code in codes.items() if pid not in moved}
    live_codes = {c for c in current.values() if c not in ("Disconnected", "Gone")}
    if not current:
        state = before.state if before else LiveState.RINGING
    elif not live_codes:
        state = LiveState.ENDED
    elif "Answered" in live_codes:
        state = LiveState.CONNECTED
    elif "Hold" in live_codes:
        state = LiveState.ON_HOLD
    elif "Parked" in live_codes:
        state = LiveState.PARKED
    elif live_codes & {"VoiceMail", "VoiceMailScreening"}:
        state = LiveState.VOICEMAIL
    else:
        state = LiveState.RINGING

    recordings: dict[str, bool] = dict.fromkeys(before.recording_ids, before.recording_active) if before else {}
    for p in parties.values():
        for rec in p.recordings:
            recordings[rec.id] = rec.active
    queue_name = before.queue_name if before else None
    if party.ui_call_info and party.ui_call_info.primary and party.ui_call_info.primary.type == "QueueName":
        queue_name = party.ui_call_info.primary.value
    code = canonical_code(party.status.code)
    reached = state in (LiveState.CONNECTED, LiveState.ON_HOLD, LiveState.PARKED) or code in ("Answered", "Hold")
    answered_at = (before.answered_at if before else None) or (when if reached else None)
    held_since = None
    if state is LiveState.ON_HOLD:
        held_since = before.held_since if before and before.held_since else when
    base = LiveCall(
        telephony_session_id=event.telephony_session_id,
        session_id=event.session_id or (before.session_id if before else None),
        direction=direction,
        remote=remote,
        local=local,
        state=state,
        rang_at=min(before.rang_at, when) if before else when,
    )
    return replace(
        base,
        answered_at=answered_at,
        ended_at=when if state is LiveState.ENDED else None,
        held_since=held_since,
        recording_ids=tuple(recordings),
        recording_active=any(recordings.values()),
        queue_call=any(p.queue_call for p in parties.values()) or bool(before and before.queue_call),
        queue_name=queue_name,
        missed=any(p.missed_call for p in parties.values()),
        voicemail=bool(live_codes & {"VoiceMail", "VoiceMailScreening"}) or bool(before and before.voicemail),
        end_reason=party.status.reason if state is LiveState.ENDED else None,
        sequence=max(event.sequence, before.sequence if before else 0),
    )


def _party(end: PartyEnd) -> Party:
    number = end.phone_number
    if number and number.isdigit() and len(number) <= 6:
        # Calls between extensions carry the extension number where a phone number would be.
        return Party(extension_number=number, name=end.name, extension_id=end.extension_id)
    return Party(phone_number=number, name=end.name, extension_id=end.extension_id)
