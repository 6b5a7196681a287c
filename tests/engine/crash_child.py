# SPDX-License-Identifier: MIT
"""The process the crash test kills: an agent logging every call while faults fly.

Usage: ``python -m tests.engine.crash_child DIR SEED CALLS RUN``. State lives only in SQLite
files under DIR (the engine's store and the Local CRM), plus the simulated clock, which is kept
in the engine's store, so a restarted child continues where the killed one stopped. Prints one
line per cycle (the parent kills on a random line) and ``DONE`` when every call is complete.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

from adapters.crm.local import LocalCrm
from adapters.notes.models import NoteSettings
from desktop.engine.models import CallFilter, Draft
from desktop.engine.ports import ManualClock
from desktop.engine.service import Engine
from desktop.engine.store import Store
from tests.engine.fakes import FaultyCrm, SimulatedRingCentral
from tests.engine.world import START, all_settled, scripted_calls

CLOCK = "sim-clock"


def agent_note(session_id: str) -> str:
    return f"Agent note for session {session_id}: customer asked about $1 and <b>invoices</b>"


def main(argv: list[str]) -> int:
    root, seed, n, run = Path(argv[0]), int(argv[1]), int(argv[2]), int(argv[3])
    store = Store(root / "engine.sqlite3")
    saved = store.cursor(CLOCK)
    clock = ManualClock(datetime.fromisoformat(saved) if saved else START)
    script = scripted_calls(n, seed=seed)
    crm = LocalCrm.open(root / "crm.sqlite3", clock=clock.now)
    contacts = {c.phone: c for c in crm.contacts()}
    faulty = FaultyCrm(crm, clock, rate=0.2, seed=seed * 1000 + run)
    rc = SimulatedRingCentral(clock, script, fault_rate=0.2, seed=seed * 1000 + run + 500)
    engine = Engine(store, faulty, rc, NoteSettings(), extension_id="400200000001", clock=clock,
                    recordings_expected=False)
    last_appear = max(s.appear for s in script)
    for cycle in range(100_000):
        due = engine.tick()
        # The agent presses "+" on every unlogged call, with a note of their own.
        for row in engine.calls(CallFilter.UNLOGGED, limit=1000):
            contact = contacts[row.remote_number]
            engine.log_call(row.call_id, Draft(contact_id=contact.id, contact_name=contact.name,
                                               note=agent_note(row.session_id)))
        engine.run_outbox()
        print(f"cycle {cycle} {clock.now().isoformat()}", flush=True)
        if clock.now() >= last_appear and engine.store.count_calls() == n and all_settled(engine):
            print(f"DONE rc_too_early={rc.too_early} crm_too_early={faulty.too_early}", flush=True)
            return 0
        now = clock.now()
        candidates = [t for t in (due, rc.next_event(now)) if t is not None]
        clock.set(max(min(candidates) if candidates else now + timedelta(seconds=30), now + timedelta(seconds=0.001)))
        store.set_cursor(CLOCK, clock.now().isoformat(), clock.now())
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
