# SPDX-License-Identifier: MIT
"""The process the live crash test kills: calls ring, connect (auto-log creates the log), the agent
types a note, the call ends, and the call-log record arrives 25 s later.

Usage: ``python -m tests.engine.live_crash_child DIR CALLS``. Everything lives in SQLite under DIR
(the engine's store, the Local CRM, the simulated clock and how far the event timeline was
delivered), so a restarted child goes on where the killed one stopped — re-delivering the events
after the last saved point, as a WebSocket recovery replays them. Prints one line per step (the
parent kills on a random line) and ``DONE`` when every call is logged and complete.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

from adapters.crm.local import LocalCrm
from adapters.notes.models import NoteSettings
from desktop.engine.models import Draft
from desktop.engine.ports import ManualClock
from desktop.engine.service import Engine
from desktop.engine.store import Store
from tests.engine.fakes import ScriptedCall, SimulatedRingCentral
from tests.engine.world import START, all_settled, phone_for
from tests.live_events import LiveScript

EXT = "400200000001"
CLOCK = "sim-clock"
DELIVERED = "live-delivered"


def note_for(i: int) -> str:
    return f"Live note {i}: wants the $1 plan, call back <Friday>"


def timeline(n: int) -> tuple[list[tuple[datetime, int, str]], list[ScriptedCall]]:
    """(when, call, what) steps for ``n`` calls, and their call-log records."""
    steps: list[tuple[datetime, int, str]] = []
    records: list[ScriptedCall] = []
    for i in range(n):
        start = START + timedelta(seconds=40 * i)
        duration = 20 + (i * 7) % 60
        steps += [(start, i, "Setup"), (start + timedelta(seconds=4), i, "Answered"),
                  (start + timedelta(seconds=6), i, "note"), (start + timedelta(seconds=duration), i, "Disconnected")]
        record = script(i).record(start=start, duration=duration)
        records.append(ScriptedCall(call=record, appear=start + timedelta(seconds=duration + 25)))
    steps.sort()
    return steps, records


def script(i: int) -> LiveScript:
    return LiveScript(extension_id=EXT, tsid=f"s-crash{i:05d}z0000", session_id=f"99{i:08d}", caller=phone_for(i))


def main(argv: list[str]) -> int:
    root, n = Path(argv[0]), int(argv[1])
    store = Store(root / "engine.sqlite3")
    saved = store.cursor(CLOCK)
    clock = ManualClock(datetime.fromisoformat(saved) if saved else START)
    delivered = int(store.cursor(DELIVERED) or 0)
    steps, records = timeline(n)
    crm = LocalCrm.open(root / "crm.sqlite3", clock=clock.now)
    rc = SimulatedRingCentral(clock, records)
    engine = Engine(store, crm, rc, NoteSettings(), extension_id=EXT, clock=clock, auto_log=True)
    engine.set_push(calls=True, insights=True)
    scripts = {i: script(i) for i in range(n)}
    # A restarted app gets the events after the last saved point again (a recovery's replay);
    # sequences restart too, as a fresh tracker sees them.
    step = max(0, delivered - 3)
    last = steps[-1][0] + timedelta(seconds=200)
    while True:
        while step < len(steps) and steps[step][0] <= clock.now():
            when, i, what = steps[step]
            if what == "note":
                engine.save_draft(scripts[i].tsid, Draft(note=note_for(i)))
            else:
                engine.live_event(scripts[i].event(what, when))
                if what == "Disconnected":
                    engine.commit_live_note(scripts[i].tsid)
            step += 1
            store.set_cursor(DELIVERED, str(step), clock.now())
            print(f"step {step}", flush=True)
        due = engine.tick()
        engine.run_outbox()
        print(f"tick {clock.now().isoformat()}", flush=True)
        if step >= len(steps) and clock.now() >= last and all_settled(engine):
            print("DONE", flush=True)
            return 0
        now = clock.now()
        targets = [t for t in (due, rc.next_event(now), steps[step][0] if step < len(steps) else None) if t]
        clock.set(max(min(targets) if targets else now + timedelta(seconds=30), now + timedelta(milliseconds=1)))
        store.set_cursor(CLOCK, clock.now().isoformat(), clock.now())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
