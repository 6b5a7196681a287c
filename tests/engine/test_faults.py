# SPDX-License-Identifier: MIT
"""Fault soak: 20% of CRM and RingCentral responses fail (429 with Retry-After, 5xx, timeouts,
resets after the CRM acted) while a person edits every log between our read and our write.
Everything completes, every Retry-After is honoured, nothing is logged twice, every edit survives."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from adapters.models import Contact
from desktop.engine.models import CallFilter, Draft
from tests.engine.fakes import FaultyCrm
from tests.engine.world import World, all_settled, drive, phone_for, scripted_calls


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_everything_completes_through_faults_and_person_edits(tmp_path: Path, seed: int) -> None:
    # Given 60 calls, a CRM and a RingCentral that fail 20% of the time
    n = 60
    world = World(tmp_path)
    world.script = scripted_calls(n, seed=seed)
    contacts: dict[str, Contact] = {phone_for(i): world.crm.add_contact(f"C{i}", phone_for(i)) for i in range(n)}
    edited_at: dict[str, str | None] = {}
    edits: dict[str, list[str]] = {}

    def person_edit(log_id: str) -> None:
        # A person edits the record once between the engine's read and each of its writes.
        version = str(world.crm.raw_log(log_id)["version"])
        if edited_at.get(log_id) == version:
            return
        line = f"Person edit {len(edits.get(log_id, [])) + 1} on log {log_id}"
        edits.setdefault(log_id, []).append(line)
        world.crm.person_edits(log_id, body=lambda b: f"{line}\n{b}")
        edited_at[log_id] = str(world.crm.raw_log(log_id)["version"])

    faulty = FaultyCrm(world.crm, world.clock, rate=0.2, seed=seed, person_edit=person_edit)
    rc = world.rc(fault_rate=0.2, seed=seed + 100)
    engine = world.engine(rc, adapter=faulty, recordings_expected=False)

    def agent_logs_new_calls() -> None:
        for row in engine.calls(CallFilter.UNLOGGED, limit=500):
            c = contacts[row.remote_number or ""]
            engine.log_call(row.call_id, Draft(contact_id=c.id, contact_name=c.name, note=f"Note {row.session_id}"))

    # When the engine runs until everything settled
    drive(engine, world.clock, rc, step_hook=agent_logs_new_calls,
          until=lambda: engine.store.count_calls() == n and all_settled(engine))

    # Then: faults really happened, and every Retry-After was honoured
    assert sum(faulty.injected.values()) > 20 and faulty.injected.get("reset", 0) > 0
    assert faulty.injected.get("429", 0) > 0 and rc.injected > 5
    assert faulty.too_early == 0 and rc.too_early == 0
    # Every call logged exactly once, with its note and every person's edit
    logs = world.crm.call_logs()
    sessions = Counter(world.crm.raw_log(log.ref.log_id)["session_id"] for log in logs)
    assert set(sessions) == {s.call.session_id for s in world.script}
    assert max(sessions.values()) == 1
    assert edits
    for log in logs:
        raw = world.crm.raw_log(log.ref.log_id)
        assert f"Note {raw['session_id']}" in log.body
        for line in edits.get(log.ref.log_id, []):
            assert line in log.body
        assert "(pending)" not in log.body and "being processed" not in log.body
