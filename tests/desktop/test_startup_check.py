# SPDX-License-Identifier: MIT
"""``logdesk --check-start`` (what CI runs on the bundle): it passes for a window that paints and
shows calls, and fails, saying why, for one that cannot start."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _check_start(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "desktop", "--sandbox", "--check-start"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_check_start_reports_the_painted_window_and_its_calls_then_quits(tmp_path: Path) -> None:
    done = _check_start(tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    painted, started = done.stdout.splitlines()
    assert painted.startswith("painted ")
    assert started.startswith("started ")
    _, cpu, details = started.split(" ", 2)
    seen = json.loads(details)
    assert seen["rows"] > 0 and seen["title"] == "Logdesk — sandbox"
    assert seen["colours"] >= 8 and seen["icon"] is True
    assert float(cpu) > float(painted.split()[1])


def test_check_start_fails_and_says_why_when_the_app_cannot_start(tmp_path: Path, isolated_dirs: Path) -> None:
    # Given a file where the sandbox's data folder belongs
    blocker = isolated_dirs / "data" / "Logdesk" / "sandbox"
    blocker.parent.mkdir(parents=True)
    blocker.write_text("not a folder")
    # When the start is checked
    done = _check_start(tmp_path)
    # Then it fails, naming the error the window shows
    assert done.returncode == 1
    assert "start-up failed" in done.stderr
    assert "the window shows an error: Logdesk could not start: [Errno 17] File exists" in done.stderr
