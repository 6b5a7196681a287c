# SPDX-License-Identifier: MIT
"""A second Logdesk process on the same data directory: it runs the outbox until nothing is queued.

Usage: ``python -m tests.engine.outbox_child DIR``. Prints ``tick`` per round and ``DONE`` at the end.
"""

from __future__ import annotations

import sys
from pathlib import Path

from adapters.crm.local import LocalCrm
from adapters.notes.models import NoteSettings
from desktop.engine.ports import ManualClock
from desktop.engine.service import Engine
from desktop.engine.store import Store
from tests.engine.fakes import SimulatedRingCentral
from tests.engine.world import START


def main(argv: list[str]) -> int:
    root = Path(argv[0])
    clock = ManualClock(START)
    store = Store(root / "engine.sqlite3")
    crm = LocalCrm.open(root / "crm.sqlite3", clock=clock.now)
    engine = Engine(store, crm, SimulatedRingCentral(clock, []), NoteSettings(), extension_id="400200000001",
                    clock=clock, recordings_expected=False, ai_enabled=False)
    while True:
        engine.run_outbox(max_items=3)
        print("tick", flush=True)
        if not store.count_items("queued"):
            print("DONE", flush=True)
            return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
