# SPDX-License-Identifier: MIT
"""Calls: what happened on the account's lines, and the traffic that makes them.

A :class:`SimCall` is one call and its timeline (all times UNIX seconds): it ends at
``start + duration``, appears in the call log at ``visible_at``, and each of its
:class:`SimRecording` legs attaches at ``attach_at`` and has RingSense insights from
``insights_at`` (``None``: never). :class:`CallTraffic` makes calls following the scenario: the
history already in the log when the account is created, a new call every ``call_interval`` when
the scenario generates traffic, and calls placed by tests. Kinds are weighted by
:data:`CALL_KINDS`; recorded calls shorter than 30 s get ``shortRecording`` and no recording,
transfers get two recording legs; the scenario's ``malformed_share`` of new calls render with a
missing or malformed field (see :mod:`~.call_log`).

The calls live in the account's ``calls`` dict and the recordings in its recording index (id →
call and leg), both passed in; the call log, recordings and insights areas read them.

Threading contract: not locked on its own; the account calls it with its lock held.
"""

from __future__ import annotations

import random
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
    ) -> None:
        self._calls = calls
        self._recordings = recordings
        self._people = people
        self._scenario = scenario
        self._rng = rng
        self._next_call_at: float | None = None
        if scenario.delays.call_interval is not None:
            self._next_call_at = now + rng.uniform(5.0, 15.0)
        for k in range(scenario.history):
            end = now - 600 - k * 1800 - rng.uniform(0, 900)
            self.make_call(end=end, settled=True)

    def generate_due(self, now: float) -> None:
        """Makes the generated calls that have ended by ``now``."""
        interval = self._scenario.delays.call_interval
        if interval is None or self._next_call_at is None:
            return
        while self._next_call_at <= now:
            self.make_call(end=self._next_call_at)
            self._next_call_at += self._rng.uniform(*interval)

    def make_call(
        self,
        *,
        end: float,
        kind: str | None = None,
        duration: int | None = None,
        recorded: bool | None = None,
        remote: Person | None = None,
        settled: bool = False,
    ) -> SimCall:
        """Adds a call that ended at ``end``; its timeline follows the scenario.

        Args:
            end: UNIX seconds.
            kind: one of :data:`CALL_KINDS`; drawn by weight when ``None``.
            duration: seconds; drawn for the kind when ``None``.
            recorded: force recording on or off; the scenario's share decides when ``None``.
            remote: the outside party; a demo contact (a colleague for ``internal``) when ``None``.
            settled: a history call, never malformed.
        """
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
        start = end - duration
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
        self._calls[call.id] = call
        return call
