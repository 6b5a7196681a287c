# SPDX-License-Identifier: MIT
"""Live crash test: calls ring and are auto-logged at connect while the process is killed with
SIGKILL at random moments — between connect and the call-log record among them — and restarted.
In the end every call is one row and one CRM log, with the note typed during the call and its
final duration."""

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
from desktop.engine.store import Store
from tests.engine.live_crash_child import note_for, script
from tests.engine.world import phone_for

ROOT = Path(__file__).resolve().parents[2]
CALLS = 40
KILLS = 5


@pytest.mark.slow
def test_killed_during_live_calls_leaves_one_row_and_one_log_per_call(tmp_path: Path) -> None:
    crm = LocalCrm.open(tmp_path / "crm.sqlite3")
    for i in range(CALLS):
        crm.add_contact(f"Customer {i}", phone_for(i))
    crm.close()
    rng = random.Random(5)
    done = False
    for run in range(KILLS + 1):
        kill_after = rng.randint(20, 200) if run < KILLS else None
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.engine.live_crash_child", str(tmp_path), str(CALLS)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        with child:
            assert child.stdout is not None and child.stderr is not None
            for lines, line in enumerate(child.stdout, start=1):
                if line.startswith("DONE"):
                    done = True
                    break
                if kill_after is not None and lines >= kill_after:
                    child.send_signal(signal.SIGKILL)
                    break
            child.stdout.read()
            stderr = child.stderr.read()
            child.wait(timeout=60)
        if child.returncode not in (0, -signal.SIGKILL):
            pytest.fail(f"child run {run} failed ({child.returncode}):\n{stderr[-3000:]}")
        if done:
            break
    assert done, "the engine did not finish after the last restart"

    crm = LocalCrm.open(tmp_path / "crm.sqlite3")
    logs = crm.call_logs()
    per_session = Counter(crm.raw_log(log.ref.log_id)["session_id"] for log in logs)
    assert set(per_session) == {script(i).session_id for i in range(CALLS)}  # 0 lost
    assert max(per_session.values()) == 1  # 0 duplicated
    by_session = {crm.raw_log(log.ref.log_id)["session_id"]: log for log in logs}
    for i in range(CALLS):
        body = by_session[script(i).session_id].body
        assert note_for(i) in body and "(pending)" not in body
    crm.close()
    store = Store(tmp_path / "engine.sqlite3")
    assert store.count_calls() == CALLS  # one row per call: every record joined its live row
    store.close()
