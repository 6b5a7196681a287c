# SPDX-License-Identifier: MIT
"""Quitting cleanly, every time: the real app under a real X server (Xvfb) starts on the sandbox,
logs a call and quits with the write in flight, thirty times. Every run exits 0 and nothing the
agent logged is lost: each note is in the CRM or still queued in the outbox."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CYCLES = 30

_CHILD = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from desktop.app import run_app
from desktop.engine.models import CallFilter, Draft
from desktop.ui.main_controller import MainController
from desktop.ui.main_window import MainWindow

NOTE = sys.argv[1]

def check():
    app = QApplication.instance()
    for w in app.topLevelWidgets():
        if not (isinstance(w, MainWindow) and w.calls_installed and w.model.rowCount() > 0):
            continue
        controllers = w.findChildren(MainController)
        if not controllers:
            return
        engine = controllers[0].ports.engine
        for row in engine.calls(CallFilter.UNLOGGED, limit=50):
            matches = engine.match_contacts(row.call_id)
            if len(matches) == 1:
                break
        else:
            return
        engine.log_call(row.call_id, Draft(note=NOTE, contact_id=matches[0].id, contact_name=matches[0].name))
        controllers[0].poller.poll_now()  # the write goes out on a pool thread now ...
        print("logged", row.session_id, flush=True)
        QTimer.singleShot(0, w.close)     # ... and the agent quits at once
        timer.stop()

def painted():
    global timer
    timer = QTimer(QApplication.instance())
    timer.timeout.connect(check)
    timer.start(50)

sys.exit(run_app(sandbox=True, on_first_paint=painted))
"""


@pytest.fixture(scope="module")
def x_display() -> Iterator[str]:
    """A private Xvfb display (CI installs Xvfb and requires this test)."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        if os.environ.get("LOGDESK_REQUIRE_XVFB"):
            pytest.fail("Xvfb is required here (apt-get install xvfb)")
        pytest.skip("needs Xvfb (apt-get install xvfb)")
    number = 90 + os.getpid() % 500
    proc = subprocess.Popen([xvfb, f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{number}")
    deadline = time.monotonic() + 20
    while not socket.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"Xvfb :{number} did not start")
        time.sleep(0.05)  # waiting for the server's socket to appear
    yield f":{number}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_thirty_start_log_quit_cycles_under_a_real_x_server_all_exit_cleanly(
    tmp_path: Path, x_display: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update({"DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb", "PYTHONPATH": str(ROOT),
                "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
                "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_CACHE_HOME": str(tmp_path / "cache"),
                "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    notes = []
    for cycle in range(CYCLES):
        note = f"Quit cycle {cycle}: $1 <b>kept</b>"
        done = subprocess.run([sys.executable, "-X", "faulthandler", "-c", _CHILD, note], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"cycle {cycle} exited {done.returncode}:\n{done.stderr[-3000:]}"
        assert "Fatal Python error" not in done.stderr
        if "logged" in done.stdout:
            notes.append(note)
    assert len(notes) >= CYCLES - 2  # a run whose calls were all logged already logs nothing new

    data = tmp_path / "data" / "Logdesk" / "sandbox"
    engine_db = sqlite3.connect(data / "engine.sqlite3")
    crm_db = sqlite3.connect(data / "local-crm.sqlite3")
    try:
        assert engine_db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert crm_db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        queued = " ".join(r[0] for r in engine_db.execute("SELECT payload FROM outbox WHERE state = 'queued'"))
        logged = " ".join(r[0] or "" for r in crm_db.execute("SELECT body FROM call_logs"))
    finally:
        engine_db.close()
        crm_db.close()
    for note in notes:
        assert note in logged or note.replace("<", "\\u003c") in queued or note in queued, f"lost: {note}"
