# SPDX-License-Identifier: MIT
"""Two processes on one data directory (a second copy, a stale hand-over): each runs the outbox
over the same 200 queued logs while one of them is killed and restarted now and then. The send
claim lets one send at a time, so every call is logged exactly once: 0 duplicates, 0 lost."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from adapters.crm.local import LocalCrm
from adapters.notes.models import NoteSettings
from desktop.engine.models import Draft
from desktop.engine.ports import ManualClock
from desktop.engine.service import Engine
from desktop.engine.store import Store
from tests.engine.fakes import SimulatedRingCentral
from tests.engine.world import START, phone_for, scripted_calls

ROOT = Path(__file__).resolve().parents[2]
CALLS = 200


def _child(tmp: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "tests.engine.outbox_child", str(tmp)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONHASHSEED": "0"})


@pytest.mark.slow
def test_two_processes_sending_the_same_outbox_log_each_call_once(tmp_path: Path) -> None:
    # Given 200 calls the agent asked to log, queued in one engine database
    clock = ManualClock(START)
    crm = LocalCrm.open(tmp_path / "crm.sqlite3", clock=clock.now)
    contacts = {phone_for(i): crm.add_contact(f"Customer {i}", phone_for(i)) for i in range(CALLS)}
    store = Store(tmp_path / "engine.sqlite3")
    engine = Engine(store, crm, SimulatedRingCentral(clock, []), NoteSettings(), extension_id="400200000001",
                    clock=clock, recordings_expected=False, ai_enabled=False)
    calls = [s.call for s in scripted_calls(CALLS, seed=3)]
    store.upsert_calls(calls, "400200000001", clock.now())
    for call in calls:
        contact = contacts[call.remote.phone_number or ""]
        draft = Draft(contact_id=contact.id, contact_name=contact.name, note=f"note {call.session_id}")
        engine.log_call(call.id, draft)
    engine.close()
    crm.close()
    # When two processes run the outbox at once, one killed now and then and started again
    rng = random.Random(8)
    a, b = _child(tmp_path), _child(tmp_path)
    kills = 0
    try:
        while True:
            assert a.stdout is not None
            line = a.stdout.readline()
            if line.startswith("DONE") or not line:
                break
            if kills < 5 and rng.random() < 0.08:
                a.send_signal(signal.SIGKILL)
                a.wait(timeout=30)
                a.stdout.close()
                assert a.stderr is not None
                a.stderr.close()
                kills += 1
                a = _child(tmp_path)
        assert b.wait(timeout=120) == 0, b.stderr.read() if b.stderr else ""
    finally:
        for proc in (a, b):
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
    assert kills >= 1
    # Then every call is logged exactly once, with its note
    crm = LocalCrm.open(tmp_path / "crm.sqlite3")
    per_session = Counter(crm.raw_log(log.ref.log_id)["session_id"] for log in crm.call_logs())
    crm.close()
    assert set(per_session) == {c.session_id for c in calls}  # 0 lost
    assert max(per_session.values()) == 1  # 0 duplicated
