# SPDX-License-Identifier: MIT
"""The call log of the agent's extension: list, records by id, call-log-sync, active calls.

What it checks, like RingCentral does: query parameter values (``dateFrom``/``dateTo`` ISO dates,
``view`` Simple or Detailed, ``perPage`` 1–1000 or ``max``, ``page`` from 1, ``direction``,
``transport``, ``recordingType``/``withRecording``; ``phoneNumber`` and ``extensionNumber`` not
together), with 400 ``CMN-101`` naming the parameter. Records appear only after the call's
``visible_at``; deleted ones only with ``showDeleted=true``. Several ids in one request give a 207
multipart answer. Call-log-sync: FSync needs ``recordCount`` (1–250) and a ``dateFrom`` within the
last 30 days; ISync returns what changed since its token (new, recording attached, deleted) and
answers ``CLG-101`` for an unknown token or after a call-log reset, ``CLG-104`` past 250 changes;
the oldest of more than 5,000 tokens are forgotten. Active calls: those that have started and
ended less than two minutes ago, or not yet (then ``result`` ``In Progress`` and the duration so
far).

Records are rendered by :mod:`~.records`.

Threading contract: not locked on its own; the account calls its handlers and :meth:`CallLog.reset`
with its lock held.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from adapters.ringcentral.sandbox.calls import SimCall
from adapters.ringcentral.sandbox.clock import Clock, iso, parse_iso
from adapters.ringcentral.sandbox.data import People
from adapters.ringcentral.sandbox.records import render_record
from adapters.ringcentral.sandbox.wire import (
    EXTENSION_PATH,
    Route,
    SandboxRequest,
    SandboxResponse,
    api_error,
    json_response,
)

MAX_SYNC_TOKENS = 5000


@dataclass
class _SyncState:
    since: float
    view: str
    status_group: str
    generation: int


class CallLog:
    """The call log of the agent's extension, over the account's calls.

    Args:
        calls: the account's calls by id (made by :class:`~.calls.CallTraffic`).
        people: the agent and the account id.
        clock: UNIX seconds.
    """

    def __init__(self, *, calls: dict[str, SimCall], people: People, clock: Clock) -> None:
        self._calls = calls
        self._people = people
        self._clock = clock
        self._sync: dict[str, _SyncState] = {}
        self._generation = 0

    def routes(self) -> list[Route]:
        log = f"{EXTENSION_PATH}/call-log"
        return [
            Route("GET", "platform", log, "Heavy", True, self._call_log),
            Route("GET", "platform", f"{log}/([^/]+)", "Heavy", True, self._call_log_record),
            Route("GET", "platform", f"{EXTENSION_PATH}/call-log-sync", "Heavy", True, self._call_log_sync),
            Route("GET", "platform", f"{EXTENSION_PATH}/active-calls", "Heavy", True, self._active_calls),
        ]

    def reset(self) -> None:
        """Invalidates every sync token (the next ISync gets ``CLG-101``)."""
        self._generation += 1

    def _visible_calls(self, now: float, *, show_deleted: bool = False) -> list[SimCall]:
        out = [
            c
            for c in self._calls.values()
            if c.visible_at <= now and (show_deleted or c.deleted_at is None or c.deleted_at > now)
        ]
        out.sort(key=lambda c: c.start, reverse=True)
        return out

    def _call_log(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        now = self._clock()
        try:
            date_to = parse_iso(req.param("dateTo") or iso(now))
            raw_from = req.param("dateFrom")
            date_from = parse_iso(raw_from) if raw_from else date_to - 86400
        except ValueError:
            return api_error(400, "CMN-101", "Parameter [dateFrom] value is invalid", parameter="dateFrom")
        view = req.param("view") or "Simple"
        if view not in ("Simple", "Detailed"):
            return api_error(400, "CMN-101", "Parameter [view] value is invalid", parameter="view")
        per_page_raw = req.param("perPage") or "100"
        if per_page_raw == "max":
            per_page = 1000
        elif per_page_raw.isdigit() and int(per_page_raw) >= 1:
            per_page = min(int(per_page_raw), 1000)
        else:
            return api_error(400, "CMN-101", "Parameter [perPage] value is invalid", parameter="perPage")
        page_raw = req.param("page") or "1"
        if not page_raw.isdigit() or int(page_raw) < 1:
            return api_error(400, "CMN-101", "Parameter [page] value is invalid", parameter="page")
        page = int(page_raw)
        if req.param("phoneNumber") and req.param("extensionNumber"):
            return api_error(400, "CMN-101", "Parameters [phoneNumber] and [extensionNumber] cannot be combined")
        for name, allowed in (("direction", {"Inbound", "Outbound"}), ("transport", {"PSTN", "VoIP"})):
            for value in req.params(name):
                if value not in allowed:
                    return api_error(400, "CMN-101", f"Parameter [{name}] value is invalid", parameter=name)
        recording_type = req.param("recordingType")
        if recording_type is None and req.param("withRecording") == "true":
            recording_type = "All"
        if recording_type not in (None, "Automatic", "OnDemand", "All"):
            return api_error(400, "CMN-101", "Parameter [recordingType] value is invalid", parameter="recordingType")
        calls = [
            c
            for c in self._visible_calls(now, show_deleted=req.param("showDeleted") == "true")
            if date_from <= c.start <= date_to and self._matches(c, req, recording_type, now)
        ]
        start = (page - 1) * per_page
        chunk = calls[start : start + per_page]
        records = [render_record(c, now, view, req, self._people) for c in chunk]
        base_query = [(k, v) for k, v in req.query if k not in ("page", "perPage")]
        path = req.path

        def page_uri(n: int) -> str:
            return f"{req.platform_base}{path}?{urlencode([*base_query, ('page', str(n)), ('perPage', str(per_page))])}"

        navigation: dict[str, Any] = {"firstPage": {"uri": page_uri(1)}}
        if start + per_page < len(calls):
            navigation["nextPage"] = {"uri": page_uri(page + 1)}
        if page > 1:
            navigation["previousPage"] = {"uri": page_uri(page - 1)}
        paging: dict[str, Any] = {"page": page, "perPage": per_page}
        if records:
            paging.update({"pageStart": start, "pageEnd": start + len(records) - 1})
        return json_response(
            200, {"uri": page_uri(page), "records": records, "paging": paging, "navigation": navigation}
        )

    def _matches(self, call: SimCall, req: SandboxRequest, recording_type: str | None, now: float) -> bool:
        directions = req.params("direction")
        if directions and call.direction not in directions:
            return False
        transports = req.params("transport")
        if transports and call.transport not in transports:
            return False
        types = req.params("type")
        if types and "Voice" not in types:
            return False
        if recording_type is not None and not call.attached(now):
            return False
        if req.param("telephonySessionId") and req.param("telephonySessionId") != call.telephony_session_id:
            return False
        if req.param("sessionId") and req.param("sessionId") != call.session_id:
            return False
        number = req.param("phoneNumber")
        if number and (call.remote.phone_number or "").lstrip("+") != number.lstrip("+"):
            return False
        ext = req.param("extensionNumber")
        return not (ext and call.remote.extension_number != ext)

    def _call_log_record(self, req: SandboxRequest, match: tuple[str, ...]) -> SandboxResponse:
        now = self._clock()
        view = req.param("view") or "Simple"
        ids = [i for i in match[0].split(",") if i]
        visible = {c.id: c for c in self._visible_calls(now)}
        if len(ids) == 1:
            call = visible.get(ids[0])
            if call is None:
                return api_error(
                    404,
                    "CMN-102",
                    "Resource for parameter [callRecordId] is not found",
                    parameter="callRecordId",
                    parameterValue=ids[0],
                )
            return json_response(200, render_record(call, now, view, req, self._people))
        boundary = f"Boundary_{secrets.token_hex(6)}"
        statuses = [{"status": 200 if i in visible else 404} for i in ids]
        parts = [json.dumps({"response": statuses})]
        for i in ids:
            call = visible.get(i)
            if call is None:
                parts.append(json.dumps({"errorCode": "CMN-102", "message": "Resource not found"}))
            else:
                parts.append(json.dumps(render_record(call, now, view, req, self._people)))
        body = "".join(f"--{boundary}\r\nContent-Type: application/json\r\n\r\n{p}\r\n" for p in parts)
        body += f"--{boundary}--\r\n"
        return SandboxResponse(207, {"Content-Type": f"multipart/mixed; boundary={boundary}"}, body.encode())

    def _call_log_sync(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        now = self._clock()
        sync_type = req.param("syncType") or "FSync"
        if sync_type == "FSync":
            count_raw = req.param("recordCount")
            if count_raw is None:
                return api_error(
                    400, "CMN-101", "Parameter [recordCount] is required for FSync", parameter="recordCount"
                )
            if not count_raw.isdigit() or not 1 <= int(count_raw) <= 250:
                return api_error(400, "CMN-101", "Parameter [recordCount] value is invalid", parameter="recordCount")
            view = req.param("view") or "Simple"
            status_group = req.param("statusGroup") or "All"
            if view not in ("Simple", "Detailed"):
                return api_error(400, "CMN-101", "Parameter [view] value is invalid", parameter="view")
            if status_group not in ("All", "Missed"):
                return api_error(400, "CMN-101", "Parameter [statusGroup] value is invalid", parameter="statusGroup")
            date_from = now - 30 * 86400
            if req.param("dateFrom"):
                try:
                    date_from = parse_iso(req.param("dateFrom") or "")
                except ValueError:
                    return api_error(400, "CMN-101", "Parameter [dateFrom] value is invalid", parameter="dateFrom")
                if date_from < now - 30 * 86400 - 60:
                    return api_error(
                        400, "CMN-101", "Parameter [dateFrom] must be within the last 30 days", parameter="dateFrom"
                    )
            calls = [
                c
                for c in self._visible_calls(now)
                if c.start >= date_from and (status_group == "All" or c.result == "Missed")
            ][: int(count_raw)]
            state = _SyncState(since=now, view=view, status_group=status_group, generation=self._generation)
        elif sync_type == "ISync":
            token = req.param("syncToken")
            if not token:
                return api_error(400, "CMN-101", "Parameter [syncToken] is required for ISync", parameter="syncToken")
            previous = self._sync.get(token)
            if previous is None:
                return api_error(400, "CLG-101", "Parameter [syncToken] is invalid", parameter="syncToken")
            if previous.generation != self._generation:
                return api_error(
                    400,
                    "CLG-101",
                    "Parameter [syncToken] is invalid [Sync token expired, call log was reset]",
                    parameter="syncToken",
                )
            show_deleted = req.param("showDeleted") == "true"
            calls = [
                c
                for c in self._visible_calls(now, show_deleted=show_deleted)
                if previous.since < c.modified_at(now) <= now
                and (previous.status_group == "All" or c.result == "Missed")
            ]
            if len(calls) > 250:
                return api_error(
                    400,
                    "CLG-104",
                    "Parameter [syncToken] is invalid [max sync record number limit is exceeded]",
                    parameter="syncToken",
                )
            view = previous.view
            state = _SyncState(since=now, view=view, status_group=previous.status_group, generation=self._generation)
        else:
            return api_error(400, "CMN-101", "Parameter [syncType] value is invalid", parameter="syncType")
        token = base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")
        self._sync[token] = state
        if len(self._sync) > MAX_SYNC_TOKENS:  # the oldest tokens are forgotten (a later ISync gets CLG-101)
            del self._sync[next(iter(self._sync))]
        records = [render_record(c, now, view, req, self._people) for c in calls]
        return json_response(
            200,
            {
                "uri": f"{req.platform_base}{req.path}?{urlencode(req.query)}",
                "records": records,
                "syncInfo": {"syncType": sync_type, "syncToken": token, "syncTime": iso(now)},
            },
        )

    def _active_calls(self, req: SandboxRequest, _: tuple[str, ...]) -> SandboxResponse:
        now = self._clock()
        calls = sorted(
            (c for c in self._calls.values() if c.start <= now and now - c.end < 120),
            key=lambda c: c.start,
            reverse=True,
        )
        records = [_in_progress(render_record(c, now, "Simple", req, self._people), c, now) for c in calls]
        uri = f"{req.platform_base}{req.path}"
        return json_response(
            200, {"uri": uri, "records": records, "paging": {"page": 1, "perPage": 100}, "navigation": {}}
        )


def _in_progress(record: dict[str, Any], call: SimCall, now: float) -> dict[str, Any]:
    """An active call that has not ended: ``In Progress``, the duration so far, no final reason."""
    if now >= call.end:
        return record
    record["result"] = "In Progress"
    record["duration"] = int(now - call.start)
    record["durationMs"] = int((now - call.start) * 1000)
    record.pop("reason", None)
    return record
