# SPDX-License-Identifier: MIT
"""Calls: what happened on the account's lines, and the traffic that makes them.

A :class:`SimCall` is one call and its timeline (all times UNIX seconds): it starts ringing at
``start`` (the call log's ``startTime``), ends at ``start + duration``, appears in the call log at
``visible_at`` (always after the end: RingCentral writes the record 15–30 s after the hang-up, so
the sandbox never shows an ``In Progress`` record), and each of its :class:`SimRecording` legs
attaches at ``attach_at`` and has RingSense insights from ``insights_at`` (``None``: never). A
``live`` call also has telephony-session events while it happens (see :mod:`~.telephony`): it
is answered ``answer_after`` seconds after the first ring and may be held once.

:class:`CallTraffic` makes calls following the scenario: the history already in the log when the
account is created, a new call every ``call_interval`` when the scenario generates traffic (made
when it starts ringing, so it is live first), calls rung by tests (:meth:`CallTraffic.make_call`
with ``start`` and ``live``) and calls placed by tests that already ended (``end``; no live
events). Every new call is handed to the ``on_call`` callback (the account schedules its events
there). Kinds are weighted by
:data:`CALL_KINDS`; recorded calls shorter than 30 s get ``shortRecording`` and no recording,
transfers get two recording legs; the scenario's ``malformed_share`` of new calls render with a
missing or malformed field (see :mod:`~.call_log`).

The calls live in the account's ``calls`` dict and the recordings in its recording index (id →
call and leg), both passed in; the call log, recordings and insights areas read them.

Threading contract: not locked on its own; the account calls it with its lock held.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from adapters.ringcentral.sandbox.data import People, Person, pick_topic
from adapters.ringcentral.sandbox.ids import random_alnum, random_hex
from adapters.ringcentral.sandbox.scenario import Scenario


@dataclass
class SimRecording:
    """One recorded leg of a call: ``leg`` 0 is the call (a transfer's first part), 1 a transfer's second.

    ``attach_at``: when it attaches to the call-log record; ``insights_at``: when RingSense has
    insights for it; ``None``: never.
    """

    id: str
    leg: int
    start: float
    duration: int
    attach_at: float | None
    insights_at: float | None


@dataclass
class SimCall:
    """One call and its timeline. Times are UNIX seconds."""

    id: str
    session_id: str
    telephony_session_id: str
    kind: str
    direction: str
    start: float
    duration: int
    visible_at: float
    remote: Person
    colleague: Person | None
    result: str
    reason: str | None
    action: str
    transport: str
    recordings: list[SimRecording]
    short_recording: bool = False
    message_id: str | None = None
    topic: str = "billing"
    malformed: str | None = None
    deleted_at: float | None = None
    #: Rang live: telephony-session events describe it while it happens.
    live: bool = False
    #: Seconds from the first ring to the agent's ``Answered`` (``VoiceMail`` for voicemail, the
    #: moment another agent took a queue call for ``answered-elsewhere``); live calls only.
    answer_after: float | None = None
    #: The agent puts the call on hold once and resumes it (live calls that were answered).
    hold: bool = False

    @property
    def end(self) -> float:
        return self.start + self.duration

    def attached(self, now: float) -> list[SimRecording]:
        return [r for r in self.recordings if r.attach_at is not None and r.attach_at <= now]

    def modified_at(self, now: float) -> float:
        times = [self.visible_at] + [r.attach_at for r in self.attached(now) if r.attach_at is not None]
        if self.deleted_at is not None and self.deleted_at <= now:
            times.append(self.deleted_at)
        return max(times)


#: kind → weight in generated traffic.
CALL_KINDS: dict[str, float] = {
    "inbound": 30,
    "outbound": 25,
    "missed": 10,
    "voicemail": 8,
    "internal": 8,
    "transfer": 9,
    "busy": 3,
    "no-answer": 3,
    "unknown": 2,
    "answered-elsewhere": 2,
}

#: Kinds in which the agent answers (and may hold) the call.
ANSWERED_KINDS = frozenset({"inbound", "outbound", "internal", "transfer"})

#: Share of generated answered calls that the agent holds once.
HOLD_SHARE = 0.15

#: Recording id → the call and its recording leg.
RecordingIndex = dict[str, tuple[SimCall, SimRecording]]


class CallTraffic:
    """Makes calls into the account's ``calls`` and recording index.

    On creation it schedules the first generated call 5–15 s ahead (when the scenario generates
    traffic) and fills in the scenario's history: settled calls about half an hour apart, the
    newest ended 10–25 minutes ago.

    Args:
        calls: the account's calls by id.
        recordings: the account's recording index.
        people: the agent, colleagues, contacts and unknown callers.
        scenario: kinds of traffic, delays, shares.
        rng: the account's seeded generator (ids, people, timings).
        now: the account's clock at creation.
        on_call: called with every call made (history, generated, rung or placed).
    """

    def __init__(
        self,
        *,
        calls: dict[str, SimCall],
        recordings: RecordingIndex,
        people: People,
        scenario: Scenario,
        rng: random.Random,
        now: float,
        on_call: Callable[[SimCall], None] | None = None,
    ) -> None:
        self._calls = calls
        self._recordings = recordings
        self._people = people
        self._scenario = scenario
        self._rng = rng
        self._on_call = on_call
        self._next_call_at: float | None = None
        if scenario.delays.call_interval is not None:
            self._next_call_at = now + rng.uniform(5.0, 15.0)
        for k in range(scenario.history):
            end = now - 600 - k * 1800 - rng.uniform(0, 900)
            self.make_call(end=end, settled=True)

    def generate_due(self, now: float) -> list[SimCall]:
        """Makes the generated calls that have started ringing by ``now`` (live calls; the call log
        gets them after they end). Returns them, oldest first."""
        interval = self._scenario.delays.call_interval
        made: list[SimCall] = []
        if interval is None or self._next_call_at is None:
            return made
        while self._next_call_at <= now:
            live_kind = self._rng.choices(list(CALL_KINDS), weights=list(CALL_KINDS.values()))[0]
            hold = live_kind in ANSWERED_KINDS and self._rng.random() < HOLD_SHARE
            made.append(self.make_call(start=self._next_call_at, kind=live_kind, live=True, hold=hold))
            self._next_call_at += self._rng.uniform(*interval)
        return made

    def make_call(
        self,
        *,
        end: float | None = None,
        start: float | None = None,
        kind: str | None = None,
        duration: int | None = None,
        recorded: bool | None = None,
        remote: Person | None = None,
        settled: bool = False,
        live: bool = False,
        hold: bool = False,
        ring_seconds: float | None = None,
    ) -> SimCall:
        """Adds a call that ended at ``end``, or one that starts ringing at ``start``; its timeline
        follows the scenario.

        Args:
            end: UNIX seconds (a call that already happened).
            start: UNIX seconds of the first ring (instead of ``end``).
            kind: one of :data:`CALL_KINDS`; drawn by weight when ``None``.
            duration: seconds from the first ring to the end; drawn for the kind when ``None``.
            recorded: force recording on or off; the scenario's share decides when ``None``.
            remote: the outside party; a demo contact (a colleague for ``internal``) when ``None``.
            settled: a history call, never malformed.
            live: the call has telephony-session events (see :mod:`~.telephony`).
            hold: a live call that is answered is held once and resumed.
            ring_seconds: a live call's ``answer_after``; drawn for the kind when ``None``
                (3–12 s for calls the agent answers).
        """
        if (end is None) == (start is None):
            raise ValueError("give the call's end or its start, not both")
        rng = self._rng
        kind = kind or rng.choices(list(CALL_KINDS), weights=list(CALL_KINDS.values()))[0]
        delays = self._scenario.delays
        people = self._people
        colleague: Person | None = rng.choice(people.colleagues)
        if remote is None:
            if kind == "internal":
                remote = colleague
            else:
                pool = people.contacts if rng.random() < 0.85 else people.unknown
                remote = rng.choice(pool)
        assert remote is not None
        connected = kind in ("inbound", "outbound", "internal", "transfer", "answered-elsewhere")
        if duration is None:
            if kind in ("missed", "no-answer", "busy"):
                duration = rng.randint(5, 30)
            elif kind == "voicemail":
                duration = rng.randint(20, 60)
            elif kind == "unknown":
                duration = 0
            else:
                duration = rng.randint(25, 420)
        direction = "Outbound" if kind in ("outbound", "busy", "no-answer", "unknown") else "Inbound"
        if kind == "internal":
            direction = rng.choice(["Inbound", "Outbound"])
        result, reason, action = {
            "inbound": ("Accepted", "Accepted", "Phone Call"),
            "outbound": ("Call connected", "Connected", "VoIP Call"),
            "missed": ("Missed", "Hang Up", "Phone Call"),
            "voicemail": ("Voicemail", "No Answer", "Phone Call"),
            "internal": ("Call connected" if direction == "Outbound" else "Accepted", None, "VoIP Call"),
            "transfer": ("Accepted", "Accepted", "Phone Call"),
            "busy": ("Busy", "Line Busy", "VoIP Call"),
            "no-answer": ("No Answer", "No Answer", "VoIP Call"),
            "unknown": ("Unknown", None, "VoIP Call"),
            "answered-elsewhere": ("Answered Elsewhere", None, "Phone Call"),
        }[kind]
        if start is None:
            assert end is not None
            start = end - duration
        end = start + duration
        visible_at = end + rng.uniform(*delays.visible)
        call = SimCall(
            id=random_alnum(rng, 15),
            session_id=str(rng.randint(10**10, 10**13)),
            telephony_session_id=f"s-{random_hex(rng, 12)}z{random_hex(rng, 11)}z{random_hex(rng, 9)}0000",
            kind=kind,
            direction=direction,
            start=start,
            duration=duration,
            visible_at=visible_at,
            remote=remote,
            colleague=colleague,
            result=result,
            reason=reason,
            action=action,
            transport="VoIP" if kind == "internal" or action == "VoIP Call" else "PSTN",
            recordings=[],
            topic=pick_topic(rng),
        )
        if kind == "voicemail":
            call.message_id = str(rng.randint(10**10, 10**11))
        will_record = recorded if recorded is not None else (connected and rng.random() < self._scenario.recorded_share)
        if will_record and connected:
            if duration < 30:
                call.short_recording = True
            else:
                legs = [0, 1] if kind == "transfer" else [0]
                for leg in legs:
                    rec_start = start if leg == 0 else start + duration * 0.45
                    rec_duration = int(duration * (0.45 if kind == "transfer" and leg == 0 else 0.55 if leg else 1.0))
                    attach = end + rng.uniform(*delays.recording) if self._scenario.recordings_arrive else None
                    insights_at = attach + rng.uniform(*delays.insights) if attach is not None else None
                    rec = SimRecording(
                        id=str(rng.randint(10**9, 10**10 - 1)),
                        leg=leg,
                        start=rec_start,
                        duration=max(rec_duration, 1),
                        attach_at=attach,
                        insights_at=insights_at,
                    )
                    call.recordings.append(rec)
                    self._recordings[rec.id] = (call, rec)
        if not settled and self._scenario.malformed_share and rng.random() < self._scenario.malformed_share:
            call.malformed = rng.choice(
                ["no-start-time", "bad-start-time", "bad-direction", "no-id", "formatted-number", "extra-fields"]
            )
        if live:
            call.live = True
            call.hold = hold and kind in ANSWERED_KINDS
            call.answer_after = self._answer_after(kind, duration, ring_seconds)
        self._calls[call.id] = call
        if self._on_call is not None:
            self._on_call(call)
        return call

    def _answer_after(self, kind: str, duration: int, ring_seconds: float | None) -> float:
        """Seconds from the first ring to the answer (or voicemail, or another agent's answer)."""
        if ring_seconds is None:
            low, high = (1.0, 3.0) if kind in ("internal", "answered-elsewhere") else (3.0, 12.0)
            ring_seconds = self._rng.uniform(low, high)
        # Before the agent's part ends (a transfer's agent leg ends at 45 % of the call).
        ceiling = duration * (0.45 if kind == "transfer" else 1.0)
        ring = max(0.0, float(ring_seconds))
        return ring if ring < ceiling else ceiling * 0.5
