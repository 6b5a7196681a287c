# SPDX-License-Identifier: MIT
"""RingSense: AI insights (transcript, summary, notes, score) for recorded calls.

What it checks, like RingCentral does: without a RingSense licence (scenario
``ringsense_licensed=False``) every request gets 403 ``RAH-3005``; insights exist only once the
recording is attached and its ``insights_at`` has passed (404 ``RAH-3001`` until then, and forever
when the scenario's ``insights_arrive`` is off); by record (``sourceRecordId`` = recording id,
filtered by ``insightTypes``) or by telephony session (every recorded leg, paged); errors in the
``/ai`` body shape (``errors[]`` only). Transcripts are diarized with the call's party ids as
speaker ids; a transfer's two legs get the first and second part of the conversation.

Threading contract: not locked on its own; the account calls it with its lock held.
"""

from __future__ import annotations

from typing import Any

from adapters.ringcentral.sandbox.calls import RecordingIndex, SimCall, SimRecording
from adapters.ringcentral.sandbox.clock import Clock, iso
from adapters.ringcentral.sandbox.data import People, render_insights
from adapters.ringcentral.sandbox.scenario import Scenario
from adapters.ringcentral.sandbox.wire import ID_OR_ME, Route, SandboxRequest, SandboxResponse, ai_error, json_response

#: Route-pattern prefix of RingSense's PBX domain.
AI_PATH = f"/ai/ringsense/v1/public/accounts/{ID_OR_ME}/domains/pbx"


class Insights:
    """RingSense insights of the account's recorded calls.

    Args:
        calls: the account's calls by id (for lookups by telephony session).
        recordings: the account's recording index (for lookups by recording id).
        people: the agent and the account id.
        scenario: licence and whether insights arrive.
        clock: UNIX seconds.
    """

    def __init__(
        self,
        *,
        calls: dict[str, SimCall],
        recordings: RecordingIndex,
        people: People,
        scenario: Scenario,
        clock: Clock,
    ) -> None:
        self._calls = calls
        self._recordings = recordings
        self._people = people
        self._scenario = scenario
        self._clock = clock

    def routes(self) -> list[Route]:
        return [
            Route("GET", "platform", f"{AI_PATH}/records/([^/]+)/insights", "Light", True, self._insights_by_record),
            Route("GET", "platform", f"{AI_PATH}/sessions/([^/]+)/insights", "Light", True, self._insights_by_session),
        ]

    def _insights_for(self, req: SandboxRequest, call: SimCall, rec: SimRecording) -> dict[str, Any]:
        return self.render(req.platform_base, call, rec)

    def render(self, platform_base: str, call: SimCall, rec: SimRecording) -> dict[str, Any]:
        """The insights of one recording, as the REST endpoint returns them and RingSense pushes them."""
        colleague = call.colleague if call.kind == "transfer" else None
        created = rec.insights_at if rec.insights_at is not None else self._clock()
        return render_insights(
            topic=call.topic,
            recording_id=rec.id,
            telephony_session_id=call.telephony_session_id,
            owner_extension_id=self._people.agent.extension_id or "",
            account_id=self._people.account_id,
            direction=call.direction,
            agent=self._people.agent,
            caller=call.remote,
            colleague=colleague,
            recording_start=iso(rec.start),
            duration_s=rec.duration,
            created=iso(created),
            rs_record_uri=f"{platform_base}/ringsense/calls/{call.telephony_session_id}-{rec.id}",
            part="whole" if colleague is None else ("first" if rec.leg == 0 else "second"),
        )

    def _ringsense_refusal(self) -> SandboxResponse | None:
        if self._scenario.ringsense_licensed:
            return None
        return ai_error(403, "RAH-3005", "User does not have permission to access AI insights (RingSense licence)")

    def _insights_ready(self, rec: SimRecording) -> bool:
        now = self._clock()
        return (
            self._scenario.insights_arrive
            and rec.attach_at is not None
            and rec.attach_at <= now
            and rec.insights_at is not None
            and rec.insights_at <= now
        )

    def _insights_by_record(self, req: SandboxRequest, match: tuple[str, ...]) -> SandboxResponse:
        refusal = self._ringsense_refusal()
        if refusal is not None:
            return refusal
        found = self._recordings.get(match[0])
        if found is None:
            return ai_error(404, "RAH-3001", "Call not found with sourceRecordId")
        call, rec = found
        if not self._insights_ready(rec):
            return ai_error(404, "RAH-3001", "Insights not found")
        only = set(req.params("insightTypes"))
        body = self._insights_for(req, call, rec)
        if only:
            body["insights"] = {k: v for k, v in body["insights"].items() if k in only}
        return json_response(200, body)

    def _insights_by_session(self, req: SandboxRequest, match: tuple[str, ...]) -> SandboxResponse:
        refusal = self._ringsense_refusal()
        if refusal is not None:
            return refusal
        calls = [c for c in self._calls.values() if c.telephony_session_id == match[0]]
        records = [self._insights_for(req, c, r) for c in calls for r in c.recordings if self._insights_ready(r)]
        if not records:
            return ai_error(404, "RAH-3001", "Insights not found")
        paging = {"page": 1, "perPage": 100, "pageStart": 0, "pageEnd": len(records) - 1, "totalElements": len(records)}
        return json_response(200, {"records": records, "paging": paging})
