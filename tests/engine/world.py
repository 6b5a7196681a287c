# SPDX-License-Identifier: MIT
"""A small simulated world for engine tests: a manual clock, the Local CRM, a scripted RingCentral."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.base import CrmAdapter
from adapters.crm.local import LocalCrm
from adapters.models import Call, Contact
from adapters.notes.models import NoteSettings
from adapters.testing.calls import inbound_call, raw_call_record
from desktop.engine.models import ArtifactState
from desktop.engine.ports import ManualClock
from desktop.engine.service import Engine
from desktop.engine.store import Store
from tests.engine.fakes import ScriptedCall, SimulatedRingCentral, insights_for

START = datetime(2026, 4, 11, 9, 0, tzinfo=UTC)


@dataclass
class World:
    tmp: Path
    clock: ManualClock = field(default_factory=lambda: ManualClock(START))
    script: list[ScriptedCall] = field(default_factory=list)
    crm: LocalCrm = field(init=False)
    contacts: dict[str, Contact] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.crm = LocalCrm.open(self.tmp / "crm.sqlite3", clock=self.clock.now)

    def contact(self, name: str, phone: str) -> Contact:
        c = self.crm.add_contact(name, phone)
        self.contacts[name] = c
        return c

    def add_call(
        self,
        *,
        phone: str = "+14155550123",
        at: float = 0.0,
        final_after: float | None = None,
        recording_after: float | None = 120.0,
        insights_after: float | None = 600.0,
        summary: str = "a billing question",
        duration: int = 194,
        result: str = "Accepted",
    ) -> Call:
        appear = START + timedelta(seconds=at)
        call = inbound_call(phone, start_time=appear - timedelta(seconds=duration), duration=duration, result=result,
                            recording=recording_after is not None)
        raw_insights: dict[str, Any] | None = None
        if call.recording is not None:
            raw_insights = insights_for(call.recording.id, summary)
        self.script.append(
            ScriptedCall(
                call=call,
                appear=appear,
                final_at=appear + timedelta(seconds=final_after) if final_after is not None else None,
                recording_at=appear + timedelta(seconds=recording_after) if recording_after is not None else None,
                insights_at=(
                    appear + timedelta(seconds=insights_after)
                    if insights_after is not None and recording_after is not None
                    else None
                ),
                raw_insights=raw_insights,
            )
        )
        return call

    def rc(self, **kwargs: Any) -> SimulatedRingCentral:
        return SimulatedRingCentral(self.clock, self.script, **kwargs)

    def engine(self, source: SimulatedRingCentral, adapter: CrmAdapter | None = None, **kwargs: Any) -> Engine:
        kwargs.setdefault("recordings_expected", True)
        return Engine(
            Store(self.tmp / "engine.sqlite3"),
            adapter or self.crm,
            source,
            NoteSettings(),
            extension_id="400200000001",
            clock=self.clock,
            **kwargs,
        )


def scripted_calls(n: int, *, seed: int, spacing: float = 7.0) -> list[ScriptedCall]:
    """``n`` calls with deterministic ids and timings (the same in every process)."""
    rng = random.Random(seed)
    out: list[ScriptedCall] = []
    for i in range(n):
        appear = START + timedelta(seconds=i * spacing)
        recorded = rng.random() < 0.8
        duration = rng.randint(20, 900)
        raw = raw_call_record(
            direction="Inbound",
            from_party={"phoneNumber": phone_for(i)},
            to_party={"phoneNumber": "+16505550101", "extensionNumber": "101", "name": "Dana Agent"},
            start_time=appear - timedelta(seconds=duration),
            duration=duration,
            recording=recorded,
            session_id=f"{seed % 1000:03d}{i:07d}",
            record_id=f"R{seed}x{i}",
        )
        tsid = f"s-sim{raw['sessionId']}"
        raw.update({"telephonySessionId": tsid, "partyId": f"p-{tsid[2:]}-2"})
        raw["legs"][0]["telephonySessionId"] = tsid
        if recorded:
            rec_id = f"7{i:09d}"
            base = "https://platform.ringcentral.com/restapi/v1.0/account/1/recording"
            content = f"https://media.ringcentral.com/restapi/v1.0/account/1/recording/{rec_id}/content"
            raw["recording"].update({"id": rec_id, "uri": f"{base}/{rec_id}", "contentUri": content})
            raw["legs"][0]["recording"] = raw["recording"]
        call = Call.model_validate(raw)
        recording_at = appear + timedelta(seconds=rng.randint(30, 400)) if recorded else None
        insights_at = recording_at + timedelta(seconds=rng.randint(60, 1500)) if recording_at else None
        final_at = appear + timedelta(seconds=rng.randint(5, 60)) if rng.random() < 0.3 else None
        out.append(
            ScriptedCall(
                call=call,
                appear=appear,
                final_at=final_at,
                recording_at=recording_at,
                insights_at=insights_at,
                raw_insights=insights_for(call.recording.id, f"topic {i}") if call.recording else None,
            )
        )
    return out


def phone_for(i: int) -> str:
    return f"+1415556{i:04d}"


def drive(
    engine: Engine,
    clock: ManualClock,
    source: SimulatedRingCentral | None,
    *,
    until: Callable[[], bool],
    max_steps: int = 20_000,
    step_hook: Callable[[], None] | None = None,
) -> int:
    """Ticks the engine, jumping the clock to the next thing due, until ``until()``; returns steps."""
    for step in range(max_steps):
        due = engine.tick()
        if step_hook is not None:
            step_hook()
        if until():
            return step
        now = clock.now()
        candidates = [t for t in (due, source.next_event(now) if source else None) if t is not None]
        if not candidates:
            raise AssertionError("the engine has nothing to do, but the condition is not met")
        target = min(candidates)
        clock.set(max(target, now + timedelta(milliseconds=1)))
    raise AssertionError(f"not done after {max_steps} steps")


def all_settled(engine: Engine) -> bool:
    """Every call logged, nothing queued, no artifact pending or unwritten."""
    store = engine.store
    if store.count_items("queued"):
        return False
    rows = store._query("SELECT COUNT(*) AS n FROM artifacts WHERE state IN ('pending', 'ready') OR dirty = 1")
    return int(rows[0]["n"]) == 0


__all__ = ["START", "ArtifactState", "World", "all_settled", "drive"]
