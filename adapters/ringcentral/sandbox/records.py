# SPDX-License-Identifier: MIT
"""Calls as RingCentral's call-log records: what the call log, call-log-sync and active calls return.

Both views: ``Simple``, and ``Detailed`` with ``legs``, ``lastModifiedTime`` and ``billing``. Party
objects follow the direction (``dialerPhoneNumber``/``dialedPhoneNumber`` on the outside party);
a ``recording`` reference (``contentUri`` on the media host) appears once the recording is
attached; in the ``Detailed`` view a transfer has a second leg to the colleague, with that leg's
recording once attached. The
scenario's malformed records carry a missing or unparsable ``startTime``, an unknown
``direction``, no ``id``, a formatted phone number, or fields and values newer than the client's
models.

Pure functions of the call, the time and the request (for absolute URIs); no state, no lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters.ringcentral.sandbox.calls import SimCall, SimRecording
from adapters.ringcentral.sandbox.clock import iso
from adapters.ringcentral.sandbox.data import People
from adapters.ringcentral.sandbox.recordings import content_uri
from adapters.ringcentral.sandbox.wire import SandboxRequest


def render_record(call: SimCall, now: float, view: str, req: SandboxRequest, people: People) -> dict[str, Any]:
    """``call`` as a call-log record at ``now``, in the ``Simple`` or ``Detailed`` view."""
    agent = people.agent
    acc = people.account_id
    base = req.platform_base
    tsid_base = call.telephony_session_id.removeprefix("s-")
    agent_party: dict[str, Any] = {
        "phoneNumber": agent.phone_number,
        "extensionNumber": agent.extension_number,
        "extensionId": agent.extension_id,
        "name": agent.name,
    }
    if call.kind == "internal":
        agent_party.pop("phoneNumber")
    remote = call.remote
    remote_party: dict[str, Any] = {}
    if remote.phone_number:
        remote_party["phoneNumber"] = remote.phone_number
    if remote.extension_number:
        remote_party["extensionNumber"] = remote.extension_number
        remote_party["extensionId"] = remote.extension_id
    if shows_remote_name(call):
        remote_party["name"] = remote.name
    if remote.location and not remote.extension_number:
        remote_party["location"] = remote.location
    if call.direction == "Inbound":
        from_party, to_party = remote_party, agent_party
        if "phoneNumber" in remote_party:
            from_party = {**remote_party, "dialerPhoneNumber": remote_party["phoneNumber"]}
    else:
        from_party, to_party = agent_party, remote_party
        if "phoneNumber" in remote_party:
            to_party = {**remote_party, "dialedPhoneNumber": remote_party["phoneNumber"]}
    attached = call.attached(now)
    record: dict[str, Any] = {
        "uri": f"{base}/restapi/v1.0/account/{acc}/extension/{agent.extension_id}/call-log/{call.id}?view={view}",
        "id": call.id,
        "sessionId": call.session_id,
        "telephonySessionId": call.telephony_session_id,
        "partyId": f"p-{tsid_base}-1",
        "startTime": iso(call.start),
        "duration": call.duration,
        "durationMs": call.duration * 1000,
        "type": "Voice",
        "internalType": "Usual" if call.kind == "internal" else "LocalNumber",
        "direction": call.direction,
        "action": call.action,
        "result": call.result,
        "to": to_party,
        "from": from_party,
        "transport": call.transport,
        "extension": {
            "uri": f"{base}/restapi/v1.0/account/{acc}/extension/{agent.extension_id}",
            "id": int(agent.extension_id or 0),
        },
    }
    if call.reason:
        record["reason"] = call.reason
    if call.short_recording:
        record["shortRecording"] = True
    if call.message_id:
        record["message"] = {
            "id": call.message_id,
            "type": "VoiceMail",
            "uri": f"{base}/restapi/v1.0/account/{acc}/extension/{agent.extension_id}/message-store/{call.message_id}",
        }
    main = next((r for r in attached if r.leg == 0), None)
    if main is not None:
        record["recording"] = _recording_ref(req, main, people)
    if call.deleted_at is not None and call.deleted_at <= now:
        record["deleted"] = True
    if view == "Detailed":
        record["lastModifiedTime"] = iso(call.modified_at(now))
        record["billing"] = {"costIncluded": 0.0, "costPurchased": 0.0}
        record["legs"] = _legs(call, record, attached, req, people)
    if call.malformed == "no-start-time":
        record.pop("startTime")
    elif call.malformed == "bad-start-time":
        record["startTime"] = "yesterday afternoon"
    elif call.malformed == "bad-direction":
        record["direction"] = "Sideways"
    elif call.malformed == "no-id":
        record.pop("id")
    elif call.malformed == "formatted-number":
        # Valid, but the number carries formatting, as the API reference warns it may.
        side = "from" if call.direction == "Inbound" else "to"
        number = record[side].get("phoneNumber")
        if isinstance(number, str) and number.startswith("+1") and len(number) == 12:
            record[side]["phoneNumber"] = f"({number[2:5]}){number[5:8]}-{number[8:]}"
    elif call.malformed == "extra-fields":
        # Valid, with fields and values newer than the models know.
        record["metadataCategories"] = ["AiNotes"]
        record["sipUuidInfo"] = f"{call.session_id}-sip"
        record["internalType"] = "SomethingNew"
        record["result"] = "Callback requested"
    return record


def _recording_ref(req: SandboxRequest, rec: SimRecording, people: People) -> dict[str, Any]:
    acc = people.account_id
    return {
        "uri": f"{req.platform_base}/restapi/v1.0/account/{acc}/recording/{rec.id}",
        "id": rec.id,
        "type": "Automatic",
        "contentUri": content_uri(req, acc, rec.id),
    }


def _legs(
    call: SimCall, record: Mapping[str, Any], attached: list[SimRecording], req: SandboxRequest, people: People
) -> list[dict[str, Any]]:
    agent = people.agent
    acc = people.account_id
    ext_ref = {
        "uri": f"{req.platform_base}/restapi/v1.0/account/{acc}/extension/{agent.extension_id}",
        "id": int(agent.extension_id or 0),
    }
    leg_type = (
        "ExtensionToExtension"
        if call.kind == "internal"
        else ("SipToPstnMetered" if call.direction == "Outbound" else "Accept")
    )
    first: dict[str, Any] = {
        key: record[key]
        for key in (
            "startTime",
            "duration",
            "durationMs",
            "type",
            "direction",
            "action",
            "result",
            "to",
            "from",
            "transport",
            "telephonySessionId",
        )
        if key in record
    }
    first.update({"legType": leg_type, "master": True, "extension": ext_ref})
    if "reason" in record:
        first["reason"] = record["reason"]
    rec0 = next((r for r in attached if r.leg == 0), None)
    if rec0 is not None:
        first["recording"] = _recording_ref(req, rec0, people)
    legs = [first]
    if call.kind == "transfer" and call.colleague is not None:
        colleague = call.colleague
        first["duration"] = int(call.duration * 0.45)
        first["durationMs"] = first["duration"] * 1000
        second: dict[str, Any] = {
            "startTime": iso(call.start + call.duration * 0.45),
            "duration": call.duration - first["duration"],
            "durationMs": (call.duration - first["duration"]) * 1000,
            "type": "Voice",
            "direction": "Outbound",
            "action": "Transfer",
            "result": "Call connected",
            "reason": "Connected",
            "from": {
                "extensionNumber": agent.extension_number,
                "extensionId": agent.extension_id,
                "name": agent.name,
            },
            "to": {
                "extensionNumber": colleague.extension_number,
                "extensionId": colleague.extension_id,
                "name": colleague.name,
            },
            "transport": "VoIP",
            "telephonySessionId": call.telephony_session_id,
            "legType": "TransferCall",
            "master": False,
            "extension": {
                "uri": f"{req.platform_base}/restapi/v1.0/account/{acc}/extension/{colleague.extension_id}",
                "id": int(colleague.extension_id or 0),
            },
        }
        rec1 = next((r for r in attached if r.leg == 1), None)
        if rec1 is not None:
            second["recording"] = _recording_ref(req, rec1, people)
        legs.append(second)
    return legs


def shows_remote_name(call: SimCall) -> bool:
    """Whether the outside party's name is known (caller ID): always for colleagues, for two in
    three other calls; the same answer in the call log and in live events."""
    return bool(call.remote.name and (call.remote.extension_number or _stable(call, 3)))


def _stable(call: SimCall, modulo: int) -> bool:
    """A per-call yes/no that does not change between renderings (2 in ``modulo``)."""
    return int(call.session_id) % modulo != 0
