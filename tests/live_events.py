# SPDX-License-Identifier: MIT
"""Telephony-session events for one call of the agent, one party per event, as RingCentral sends
them on an extension subscription (see reference: live events §2.1–§2.5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from adapters.models import Call
from adapters.ringcentral.telephony import TelephonySessionEvent
from adapters.testing.calls import raw_call_record


class LiveScript:
    """Builds the events of one call; ``record()`` gives its later call-log record."""

    def __init__(self, *, extension_id: str, tsid: str, session_id: str, caller: str,
                 direction: str = "Inbound", agent_number: str = "+16505550101") -> None:
        self.extension_id, self.tsid, self.session_id, self.caller = extension_id, tsid, session_id, caller
        self.direction, self.agent_number = direction, agent_number
        self.seq = 1

    def event(self, code: str, at: datetime, *, reason: str | None = None,
              recordings: list[dict[str, Any]] | None = None) -> TelephonySessionEvent:
        self.seq += 1
        me = {"phoneNumber": self.agent_number, "name": "Dana Agent", "extensionId": self.extension_id}
        other = {"phoneNumber": self.caller}
        inbound = self.direction == "Inbound"
        party: dict[str, Any] = {
            "id": f"p-{self.tsid[2:]}-2",
            "accountId": "1",
            "extensionId": self.extension_id,
            "direction": self.direction,
            "from": other if inbound else me,
            "to": me if inbound else other,
            "status": {"code": code, **({"reason": reason} if reason else {})},
        }
        if recordings is not None:
            party["recordings"] = recordings
        return TelephonySessionEvent.parse({
            "sequence": self.seq, "sessionId": self.session_id, "telephonySessionId": self.tsid,
            "eventTime": at.isoformat(), "parties": [party],
        })

    def record(self, *, start: datetime, duration: int, recording: bool = False) -> Call:
        inbound = self.direction == "Inbound"
        me = {"phoneNumber": self.agent_number, "extensionNumber": "101", "name": "Dana Agent"}
        other = {"phoneNumber": self.caller}
        raw = raw_call_record(direction=self.direction, from_party=other if inbound else me,
                              to_party=me if inbound else other, start_time=start, duration=duration,
                              recording=recording, session_id=self.session_id, record_id="Rec" + self.session_id)
        raw["telephonySessionId"] = self.tsid
        return Call.model_validate(raw)
