# SPDX-License-Identifier: MIT
"""Live calls: the telephony-session events of the agent's calls, on the account's event timeline.

A call that rings live (:attr:`~.calls.SimCall.live`) is described by telephony-session events
while it happens; its call-log record comes 15–30 s after it ended. What the events look like
follows RingCentral's developer guide and the captured event streams it links
(``ringcentral-live-events.md`` §2):

- One party per event, and only the agent's own party: an extension-level subscription sees no
  caller, IVR, queue or colleague party [D telephony-session-notifications.md "initial
  implementation" limits; CSN]. Those hidden parties still use up ``sequence`` numbers, which run
  across every party of the session, so the agent sees gaps (2, 3, 5, 7, …) [CSN].
- Party id ``p-<telephonySessionId without s->-1`` (the call log's ``partyId`` and the RingSense
  speaker id of the agent), ``sessionId``/``telephonySessionId`` as in the call log, ``eventTime``
  on the account clock, ``origin.type`` ``Call``, ``direction`` the agent party's own: ``Inbound``
  on calls it receives, ``Outbound`` on calls it places [D; CSN].
- Sequences per kind (§2.5): answered inbound ``Setup`` → ``Proceeding`` (+``mobilePickupData``) →
  ``Answered`` (→ ``Hold`` → ``Answered`` when held) → ``Disconnected`` with no reason [CSN
  PSTN→RC; D states.md]; missed → ``Disconnected`` with ``missedCall: true`` and reason
  ``Cancelled`` (the caller gave up); voicemail → ``VoiceMail`` → ``Disconnected``; outbound
  ``Setup`` → ``Proceeding`` (far end ringing) → ``Answered`` → ``Disconnected`` [CSN RC→PSTN];
  busy / no answer → ``Disconnected`` with ``TargetBusy`` / ``NoAnswer``, never ``Answered``;
  blind transfer → ``Disconnected`` with ``BlindTransfer`` when the agent hands the call over (45 %
  into the call, where the call log's second leg starts) while the session goes on for the
  colleague [D call-log/states.md]; a queue call another agent took (``answered-elsewhere``) →
  ``Proceeding`` → ``Disconnected``, never answered, with ``queueCall: true`` and
  ``uiCallInfo.primary`` ``QueueName`` (no reason: no source shows which one, §2.5 H); calls
  between extensions carry the colleague's ``extensionId`` and the extension number in
  ``phoneNumber`` on both ends, and the caller's party is ``Answered`` as soon as the RingCentral
  destination is reached, before the callee picks up [CSN RC→RC].
- A recorded call carries ``recordings: [{id, active: true}]`` on the agent's party from its
  ``Answered`` on [SPEC RecordingInfo; §2.5 J inferred]; the id is the call-log
  ``recording.id`` (open item 3 of the reference; the sandbox makes it so).

Timeline: the first ring is the call's ``start`` (the call log's ``startTime``), the agent answers
``answer_after`` seconds later, the call ends at ``start + duration`` (the call log's duration).
Every event goes on the account-wide :class:`Timeline` at its time; the account delivers what is
due whenever its clock has passed it (``advance()``, any request, the WebSocket gateway's
ticker). RingSense insights are timeline entries too, at the recording's ``insights_at``.

Calls placed as already ended (``place_call``) have no live events; their insights are still
pushed if they become ready later.

Threading contract: not locked on its own; the account calls it with its lock held.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.ringcentral.sandbox.calls import SimCall, SimRecording
from adapters.ringcentral.sandbox.clock import iso
from adapters.ringcentral.sandbox.data import People, Person
from adapters.ringcentral.sandbox.records import shows_remote_name
from adapters.ringcentral.sandbox.scenario import Scenario
from adapters.ringcentral.sandbox.wire import Route

#: What a timeline entry is: a telephony-session event or a RingSense insights object.
TELEPHONY = "telephony"
INSIGHTS = "insights"

#: Renders an entry's body for a subscriber's platform base URL (``rsRecordUri`` needs it).
Render = Callable[[str], dict[str, Any]]

#: The media server shown in ``serverId`` [D example "10.13.22.28.TAM"].
SERVER_ID = "10.13.22.28.TAM"


@dataclass(frozen=True, order=True)
class TimelineEntry:
    """Something that happens at ``at`` and is pushed to subscribers then.

    Attributes:
        kind: :data:`TELEPHONY` or :data:`INSIGHTS`.
        owner: the extension id the event belongs to (whose party, whose insights).
        render: the event body for a subscriber's platform base URL.
        misrouted: deliver to the agent's subscription although ``owner`` is someone else (a
            test hook: an event for another extension's party).
    """

    at: float
    order: int
    kind: str = field(compare=False)
    owner: str = field(compare=False)
    render: Render = field(compare=False)
    misrouted: bool = field(default=False, compare=False)


class Timeline:
    """Events waiting for their time, in time order (ties in the order they were scheduled)."""

    def __init__(self) -> None:
        self._heap: list[TimelineEntry] = []
        self._order = itertools.count()

    def push(self, at: float, kind: str, owner: str, render: Render, *, misrouted: bool = False) -> None:
        heapq.heappush(self._heap, TimelineEntry(at, next(self._order), kind, owner, render, misrouted))

    def pop_due(self, now: float) -> list[TimelineEntry]:
        """Every entry whose time has come, oldest first."""
        due: list[TimelineEntry] = []
        while self._heap and self._heap[0].at <= now:
            due.append(heapq.heappop(self._heap))
        return due

    def __len__(self) -> int:
        return len(self._heap)


@dataclass(frozen=True)
class _Step:
    """One status change of one party; only the agent's (``party == "agent"``) are published."""

    at: float
    party: str
    code: str
    reason: str | None = None


class Telephony:
    """The agent's live calls as telephony-session events, and RingSense insights pushes, put on
    the account's timeline.

    It answers no REST route (Call Control is not simulated); its events leave through the
    WebSocket gateway (:mod:`~.push`).

    Args:
        people: the agent, the account id, the colleagues.
        scenario: whether RingSense insights ever arrive.
        timeline: the account's timeline.
        render_insights: the insights body of a recording (the REST endpoint's JSON) for a
            platform base URL.
    """

    def __init__(
        self,
        *,
        people: People,
        scenario: Scenario,
        timeline: Timeline,
        render_insights: Callable[[str, SimCall, SimRecording], dict[str, Any]],
    ) -> None:
        self._people = people
        self._scenario = scenario
        self._timeline = timeline
        self._render_insights = render_insights
        self._foreign = itertools.count(1)

    def routes(self) -> list[Route]:
        return []

    def schedule(self, call: SimCall, now: float) -> None:
        """Puts a new call's live events and its future RingSense insights on the timeline."""
        agent_id = self._people.agent.extension_id or ""
        if call.live:
            for at, body in session_events(call, self._people):
                self._timeline.push(at, TELEPHONY, agent_id, _constant(body))
        if not self._scenario.insights_arrive:
            return
        for rec in call.recordings:
            if rec.insights_at is not None and rec.insights_at > now:
                self._timeline.push(rec.insights_at, INSIGHTS, agent_id, self._insights_render(call, rec))

    def schedule_foreign(self, now: float) -> dict[str, Any]:
        """A colleague's call ringing, delivered to the agent's subscription (a misrouted event: with
        an extension filter RingCentral would not send it). Returns the event body."""
        colleague = self._people.colleagues[0]
        caller = self._people.contacts[0]
        n = next(self._foreign)
        tsid = f"s-f0{n:010x}z0000000000z0000000000"
        base = tsid.removeprefix("s-")
        body: dict[str, Any] = {
            "sequence": 3,
            "sessionId": str(9_000_000_000 + n),
            "telephonySessionId": tsid,
            "serverId": SERVER_ID,
            "eventTime": iso(now),
            "origin": {"type": "Call"},
            "parties": [
                {
                    "accountId": self._people.account_id,
                    "extensionId": colleague.extension_id,
                    "id": f"p-{base}-1",
                    "direction": "Inbound",
                    "from": {"phoneNumber": caller.phone_number, "name": caller.name},
                    "to": {
                        "phoneNumber": self._people.main_number,
                        "name": colleague.name,
                        "extensionId": colleague.extension_id,
                    },
                    "status": {"code": "Proceeding", "rcc": False},
                    "park": {},
                    "missedCall": False,
                    "standAlone": False,
                    "muted": False,
                }
            ],
        }
        self._timeline.push(now, TELEPHONY, colleague.extension_id or "", _constant(body), misrouted=True)
        return body

    def _insights_render(self, call: SimCall, rec: SimRecording) -> Render:
        def render(platform_base: str) -> dict[str, Any]:
            return self._render_insights(platform_base, call, rec)

        return render


def _constant(body: dict[str, Any]) -> Render:
    def render(_: str) -> dict[str, Any]:
        return body

    return render


def session_events(call: SimCall, people: People) -> list[tuple[float, dict[str, Any]]]:
    """The agent party's events of a live call, as ``(time, event body)`` in order."""
    steps = _steps(call)
    ordered = sorted(enumerate(steps), key=lambda item: (item[1].at, item[0]))
    agent_party = _AgentParty(call, people)
    out: list[tuple[float, dict[str, Any]]] = []
    sequence = 1
    for _, step in ordered:
        sequence += 1  # every party's change uses a number; the agent sees only its own
        if step.party != "agent":
            continue
        body = {
            "sequence": sequence,
            "sessionId": call.session_id,
            "telephonySessionId": call.telephony_session_id,
            "serverId": SERVER_ID,
            "eventTime": iso(step.at),
            "origin": {"type": "Call"},
            "parties": [agent_party.render(step)],
        }
        out.append((step.at, body))
    return out


def _steps(call: SimCall) -> list[_Step]:
    """Every party's status changes (the agent's and the hidden ones), in the order they happen."""
    t0 = call.start
    end = call.end
    kind = call.kind
    answer = t0 + (call.answer_after if call.answer_after is not None else 0.0)
    # Inbound: the agent's device starts ringing right after Setup [CSN seq 6→7]; outbound: the far
    # end answers with ringing a few seconds after Setup [CSN RC→PSTN, +3.5 s].
    ring = min(t0 + (2.5 if call.direction == "Outbound" else 0.4), (t0 + answer) / 2 if answer > t0 else t0, end)
    steps: list[_Step] = []
    if kind in ("inbound", "missed", "voicemail", "transfer"):
        steps += [_Step(t0, "caller", "Setup"), _Step(t0, "agent", "Setup"), _Step(ring, "agent", "Proceeding")]
        if kind == "missed":
            steps += [_Step(end, "agent", "Disconnected", "Cancelled"), _Step(end, "caller", "Disconnected")]
        elif kind == "voicemail":
            steps += [
                _Step(answer, "agent", "VoiceMail"),
                _Step(end, "agent", "Disconnected"),
                _Step(end, "caller", "Disconnected"),
            ]
        else:
            steps.append(_Step(answer, "agent", "Answered"))
            agent_end = t0 + call.duration * 0.45 if kind == "transfer" else end
            steps += _hold(call, answer, agent_end)
            if kind == "transfer":
                steps += [
                    _Step(agent_end, "agent", "Disconnected", "BlindTransfer"),
                    _Step(agent_end, "colleague", "Setup"),
                    _Step(agent_end, "colleague", "Proceeding"),
                    _Step(agent_end + min(3.0, (end - agent_end) / 2), "colleague", "Answered"),
                    _Step(end, "colleague", "Disconnected"),
                    _Step(end, "caller", "Disconnected"),
                ]
            else:
                steps += [_Step(end, "agent", "Disconnected"), _Step(end, "caller", "Disconnected")]
    elif kind in ("outbound", "busy", "no-answer"):
        steps += [_Step(t0, "agent", "Setup"), _Step(ring, "callee", "Proceeding"), _Step(ring, "agent", "Proceeding")]
        if kind == "outbound":
            steps += [_Step(answer, "callee", "Answered"), _Step(answer, "agent", "Answered")]
            steps += _hold(call, answer, end)
            steps += [_Step(end, "agent", "Disconnected"), _Step(end, "callee", "Disconnected")]
        else:
            reason = "TargetBusy" if kind == "busy" else "NoAnswer"
            steps += [_Step(end, "agent", "Disconnected", reason), _Step(end, "callee", "Disconnected")]
    elif kind == "answered-elsewhere":
        # A call-queue call ringing several agents; another one took it [§2.5 H]. The agent's
        # party starts ringing with the call (its first event is the call log's startTime).
        taken = min(answer, end)
        steps += [
            _Step(t0, "caller", "Setup"),
            _Step(t0, "queue", "Setup"),
            _Step(t0, "agent", "Proceeding"),
            _Step(taken, "other-agent", "Answered"),
            _Step(taken, "agent", "Disconnected"),
            _Step(taken, "queue", "Disconnected"),
            _Step(end, "other-agent", "Disconnected"),
            _Step(end, "caller", "Disconnected"),
        ]
    elif kind == "internal" and call.direction == "Inbound":
        # The colleague's (caller's) party is Answered as soon as the agent's extension is reached.
        steps += [
            _Step(t0, "colleague", "Setup"),
            _Step(t0, "colleague", "Answered"),
            _Step(t0, "agent", "Setup"),
            _Step(ring, "agent", "Proceeding"),
            _Step(answer, "agent", "Answered"),
        ]
        steps += _hold(call, answer, end)
        steps += [_Step(end, "agent", "Disconnected"), _Step(end, "colleague", "Disconnected")]
    elif kind == "internal":
        # The agent calls a colleague: the agent's party is Answered at once [CSN RC→RC].
        reached = min(t0 + 0.5, end)
        steps += [
            _Step(t0, "agent", "Setup"),
            _Step(reached, "agent", "Answered"),
            _Step(reached, "colleague", "Setup"),
            _Step(reached, "colleague", "Proceeding"),
            _Step(answer, "colleague", "Answered"),
        ]
        steps += _hold(call, answer, end)
        steps += [_Step(end, "agent", "Disconnected"), _Step(end, "colleague", "Disconnected")]
    else:  # "unknown": an outbound attempt that never got anywhere
        steps += [_Step(t0, "agent", "Setup"), _Step(end, "agent", "Disconnected")]
    return steps


def _hold(call: SimCall, answered: float, until: float) -> list[_Step]:
    if not call.hold or until - answered < 2:
        return []
    span = until - answered
    return [_Step(answered + span * 0.35, "agent", "Hold"), _Step(answered + span * 0.65, "agent", "Answered")]


class _AgentParty:
    """Renders the agent's party of one call at each of its steps."""

    def __init__(self, call: SimCall, people: People) -> None:
        self.call = call
        self.people = people
        agent = people.agent
        self.base = call.telephony_session_id.removeprefix("s-")
        internal = call.kind == "internal"
        me: dict[str, Any] = {
            "phoneNumber": agent.extension_number if internal else agent.phone_number,
            "name": agent.name,
            "extensionId": agent.extension_id,
            "deviceId": _device_id(agent),
        }
        other = self._remote(call, internal)
        if call.kind == "answered-elsewhere":
            me["phoneNumber"] = people.main_number  # the queue's number was dialled
        inbound = call.direction == "Inbound"
        self.from_, self.to = (other, me) if inbound else (me, other)
        main = next((r for r in call.recordings if r.leg == 0), None)
        self.recording_id = main.id if main is not None else None
        #: Set from the first ``Answered`` on: the recording shows from then (steps come in order).
        self.answered = False

    def _remote(self, call: SimCall, internal: bool) -> dict[str, Any]:
        remote: Person = call.remote
        if internal:
            return {"phoneNumber": remote.extension_number, "name": remote.name, "extensionId": remote.extension_id}
        out: dict[str, Any] = {"phoneNumber": remote.phone_number}
        if shows_remote_name(call):
            out["name"] = remote.name
        return out

    def render(self, step: _Step) -> dict[str, Any]:
        call = self.call
        agent = self.people.agent
        status: dict[str, Any] = {"code": step.code, "rcc": False}
        if step.reason:
            status["reason"] = step.reason
        if step.code == "Proceeding" and call.direction == "Inbound":
            status["mobilePickupData"] = {
                "ccMailboxes": [agent.extension_id],
                "to": f"#{agent.extension_number}{self.base[:6]}@sip.ringcentral.com:5060",
                "sid": call.session_id,
                "srvLvl": "-149699523",
                "srvLvlExt": "406",
            }
        party: dict[str, Any] = {
            "accountId": self.people.account_id,
            "extensionId": agent.extension_id,
            "id": f"p-{self.base}-1",
            "direction": call.direction,
            "from": dict(self.from_),
            "to": dict(self.to),
            "status": status,
            "park": {},
            "missedCall": call.kind == "missed" and step.code == "Disconnected",
            "standAlone": False,
            "muted": False,
        }
        if call.kind == "answered-elsewhere":
            party["queueCall"] = True
            party["uiCallInfo"] = {"primary": {"type": "QueueName", "value": QUEUE_NAME}}
        self.answered = self.answered or step.code == "Answered"
        if self.recording_id is not None and self.answered:
            party["recordings"] = [{"id": self.recording_id, "active": True}]
        return party


#: The call queue of ``answered-elsewhere`` calls.
QUEUE_NAME = "Support"


def _device_id(agent: Person) -> str:
    """A stable id for the agent's softphone (``from``/``to.deviceId`` [D; CSN])."""
    return f"80{(agent.extension_id or '0')[-8:]}"
