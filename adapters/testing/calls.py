# SPDX-License-Identifier: MIT
"""Call factories for adapter tests: RingCentral-shaped call-log records turned into :class:`Call`.

Each factory builds the JSON RingCentral's ``call-log`` API returns (Detailed view, camelCase,
``from``/``to`` parties, one leg) and validates it with ``Call.model_validate``, so adapter tests
exercise the same parsing as production. Ids are unique per call: two factories never return the
same ``id`` or ``sessionId``.

Example::

    call = inbound_call("+14155550123", duration=95, recording=True)
    ref = adapter.create_call_log(call, contact, entry)
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from adapters.models import Call

#: The agent's own number and extension in every factory call (a RingCentral main number).
AGENT_NUMBER = "+16505550101"
AGENT_EXTENSION = "101"
AGENT_NAME = "Dana Agent"
_ACCOUNT = "400100000001"
_AGENT_EXTENSION_ID = "400200000001"
_DEFAULT_START = datetime(2026, 4, 10, 23, 58, 47, tzinfo=UTC)


def _unique_digits(n: int) -> str:
    return str(secrets.randbelow(9 * 10 ** (n - 1)) + 10 ** (n - 1))


def _unique_token(n: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(n))


def raw_call_record(
    *,
    direction: str,
    from_party: dict[str, Any],
    to_party: dict[str, Any],
    start_time: datetime | None = None,
    duration: int | None = 194,
    result: str = "Accepted",
    recording: bool = False,
    session_id: str | None = None,
    record_id: str | None = None,
) -> dict[str, Any]:
    """A RingCentral call-log record as JSON (``raw_*``: not validated yet).

    Args:
        direction: ``"Inbound"`` or ``"Outbound"``.
        from_party: the ``from`` object, e.g. ``{"phoneNumber": "+14155550123"}``.
        to_party: the ``to`` object.
        start_time: when the call started (UTC); a fixed April 2026 instant by default.
        duration: seconds, or ``None`` for a call still being finalised.
        result: RingCentral's ``result`` (``Accepted``, ``Call connected``, ``Missed``, ``Voicemail``).
        recording: attach an automatic recording.
        session_id: the ``sessionId``; unique by default.
        record_id: the record ``id``; unique by default.
    """
    start = start_time or _DEFAULT_START
    sid = session_id or _unique_digits(13)
    rid = record_id or _unique_token(15)
    tsid = f"s-{_unique_token(8).lower()}{sid}"
    base = f"https://platform.ringcentral.com/restapi/v1.0/account/{_ACCOUNT}"
    raw_recording: dict[str, Any] | None = None
    if recording:
        rec_id = _unique_digits(10)
        raw_recording = {
            "uri": f"{base}/recording/{rec_id}",
            "id": rec_id,
            "type": "Automatic",
            "contentUri": f"https://media.ringcentral.com/restapi/v1.0/account/{_ACCOUNT}/recording/{rec_id}/content",
        }
    stamp = start.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    record: dict[str, Any] = {
        "uri": f"{base}/extension/{_AGENT_EXTENSION_ID}/call-log/{rid}?view=Detailed",
        "id": rid,
        "sessionId": sid,
        "telephonySessionId": tsid,
        "partyId": f"p-{tsid[2:]}-2",
        "startTime": stamp,
        "type": "Voice",
        "direction": direction,
        "action": "Phone Call" if direction == "Inbound" else "VoIP Call",
        "result": result,
        "from": from_party,
        "to": to_party,
        "transport": "PSTN",
        "lastModifiedTime": stamp,
    }
    if duration is not None:
        record["duration"] = duration
        record["durationMs"] = duration * 1000
    if raw_recording:
        record["recording"] = raw_recording
    leg: dict[str, Any] = {
        "startTime": stamp,
        "type": "Voice",
        "direction": direction,
        "action": record["action"],
        "result": result,
        "from": from_party,
        "to": to_party,
        "telephonySessionId": tsid,
        "transport": "PSTN",
        "legType": "Accept" if direction == "Inbound" else "FindMe",
        "master": True,
        "extension": {"uri": f"{base}/extension/{_AGENT_EXTENSION_ID}", "id": int(_AGENT_EXTENSION_ID)},
    }
    if duration is not None:
        leg["duration"] = duration
    if raw_recording:
        leg["recording"] = raw_recording
    record["legs"] = [leg]
    return record


def _agent_party() -> dict[str, Any]:
    return {
        "phoneNumber": AGENT_NUMBER,
        "extensionNumber": AGENT_EXTENSION,
        "extensionId": _AGENT_EXTENSION_ID,
        "name": AGENT_NAME,
    }


def inbound_call(
    caller: str = "+14155555908",
    *,
    caller_name: str | None = None,
    start_time: datetime | None = None,
    duration: int | None = 194,
    result: str = "Accepted",
    recording: bool = False,
    session_id: str | None = None,
) -> Call:
    """A call from ``caller`` (E.164) to the agent."""
    party: dict[str, Any] = {"phoneNumber": caller}
    if caller_name:
        party["name"] = caller_name
    return Call.model_validate(
        raw_call_record(
            direction="Inbound",
            from_party=party,
            to_party=_agent_party(),
            start_time=start_time,
            duration=duration,
            result=result,
            recording=recording,
            session_id=session_id,
        )
    )


def outbound_call(
    callee: str = "+12125557464",
    *,
    start_time: datetime | None = None,
    duration: int | None = 55,
    result: str = "Call connected",
    recording: bool = False,
    session_id: str | None = None,
) -> Call:
    """A call the agent placed to ``callee`` (E.164)."""
    return Call.model_validate(
        raw_call_record(
            direction="Outbound",
            from_party=_agent_party(),
            to_party={"phoneNumber": callee},
            start_time=start_time,
            duration=duration,
            result=result,
            recording=recording,
            session_id=session_id,
        )
    )


def internal_call(
    colleague_extension: str = "102",
    *,
    colleague_name: str = "Sam Colleague",
    direction: str = "Inbound",
    start_time: datetime | None = None,
    duration: int | None = 42,
    session_id: str | None = None,
) -> Call:
    """A call between the agent and a colleague's extension (no phone number on that side)."""
    colleague = {"extensionNumber": colleague_extension, "name": colleague_name}
    agent = {"extensionNumber": AGENT_EXTENSION, "name": AGENT_NAME}
    from_party, to_party = (colleague, agent) if direction == "Inbound" else (agent, colleague)
    return Call.model_validate(
        raw_call_record(
            direction=direction,
            from_party=from_party,
            to_party=to_party,
            start_time=start_time,
            duration=duration,
            session_id=session_id,
        )
    )


def later(call: Call, minutes: int) -> datetime:
    """A start time ``minutes`` after ``call`` started, for building a second, distinct call."""
    return call.start_time + timedelta(minutes=minutes)
