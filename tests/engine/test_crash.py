# SPDX-License-Identifier: MIT
"""Crash test: a child process logs 200 calls through a faulty CRM and is killed with SIGKILL at
random moments, restarted and killed again; in the end every call is logged exactly once with the
agent's note and every artifact, and no Retry-After was disregarded."""

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
from tests.engine.crash_child import agent_note
from tests.engine.world import phone_for, scripted_calls

ROOT = Path(__file__).resolve().parents[2]
CALLS = 200
KILLS = 6


def _spawn(tmp: Path, seed: int, run: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.engine.crash_child", str(tmp), str(seed), str(CALLS), str(run)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11])
def test_killed_and_restarted_engine_logs_every_call_exactly_once_with_its_note(tmp_path: Path, seed: int) -> None:
    crm = LocalCrm.open(tmp_path / "crm.sqlite3")
    for i in range(CALLS):
        crm.add_contact(f"Customer {i}", phone_for(i))
    crm.close()
    rng = random.Random(seed)
    done_line = ""
    for run in range(KILLS + 1):
        kill_after = rng.randint(10, 150) if run < KILLS else None
        with _spawn(tmp_path, seed, run) as child:
            assert child.stdout is not None and child.stderr is not None
            for lines, line in enumerate(child.stdout, start=1):
                if line.startswith("DONE"):
                    done_line = line
                    break
                if kill_after is not None and lines >= kill_after:
                    child.send_signal(signal.SIGKILL)
                    break
            child.stdout.read()
            stderr = child.stderr.read()
            child.wait(timeout=60)
        if child.returncode not in (0, -signal.SIGKILL):
            pytest.fail(f"child run {run} failed ({child.returncode}):\n{stderr[-3000:]}")
        if done_line:
            break
    assert done_line, "the engine did not finish after the last restart"
    assert "rc_too_early=0 crm_too_early=0" in done_line

    crm = LocalCrm.open(tmp_path / "crm.sqlite3")
    logs = crm.call_logs()
    per_session = Counter(crm.raw_log(log.ref.log_id)["session_id"] for log in logs)
    expected = {s.call.session_id for s in scripted_calls(CALLS, seed=seed)}
    assert set(per_session) == expected  # 0 lost
    assert max(per_session.values()) == 1  # 0 duplicated
    for log in logs:
        session = crm.raw_log(log.ref.log_id)["session_id"]
        assert agent_note(session) in log.body
        assert "(pending)" not in log.body
        assert "being processed" not in log.body and "being prepared" not in log.body
    crm.close()
