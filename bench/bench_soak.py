# SPDX-License-Identifier: MIT
"""An agent's whole day: 8 simulated hours with calls flowing and the window open.

The app runs as it does for an agent (the main window over the sandbox, the real io pool, auto-log
into the Local CRM, recordings and AI notes arriving), in a fresh process, on the sandbox's manual
clock: every simulated minute the clock moves on, the poller polls (as its timer would), and the
event loop runs until the poll is done and the table repainted. A call arrives every 1–3 minutes.

At simulated hour 1 and hour 8 the process's resident memory (VmRSS), its threads, its open file
descriptors (the io pool's idle threads let go first: a thread that stays is a leak), and the SQLite
files' size per stored call are read. Targets: each grows by at most
10 % from hour 1 to hour 8 (the databases in proportion to the calls, not beyond).

Run: ``.venv/bin/python -m bench soak``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import Result, at_most

ROOT = Path(__file__).resolve().parents[1]
HOURS = 8

_DAY = r"""
import gc, json, os, sys, time
from dataclasses import replace
from pathlib import Path
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
app.setStyle("Fusion")
from desktop.ui.resources import app_stylesheet
app.setStyleSheet(app_stylesheet())
from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, preset
from desktop.app import build_main_window, sandbox_context
from desktop.secrets import MemorySecretStore
from desktop.settings import AppSettings
from desktop.workers import bind_pool, make_pool

folder = Path(sys.argv[1])
hours = int(sys.argv[2])
scenario = preset("happy", demo=True)
scenario = replace(scenario, history=0, delays=replace(scenario.delays, call_interval=(60.0, 180.0)))
account = SandboxAccount(clock=ManualClock(), scenario=scenario, seed=7)
ctx = sandbox_context(folder, MemorySecretStore(), AppSettings(auto_log=True), account=account)
pool = make_pool("io", 4)
controller = build_main_window(ctx, submit=bind_pool(pool), start=False)
window = controller.window
window.show()
with_rows = []
controller.rows_loaded.connect(lambda *_: with_rows.append(True))
controller.start()

def wait_until(done, timeout_ms=60_000):
    loop = QEventLoop()
    check = QTimer(interval=2)
    check.timeout.connect(lambda: loop.quit() if done() else None)
    QTimer.singleShot(timeout_ms, loop.quit)
    check.start()
    loop.exec()
    check.stop()
    if not done():
        raise SystemExit(f"a poll did not finish: in flight {controller.poller.in_flight},"
                         f" jobs {pool.activeThreadCount()}")

def status_value(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])  # kB
    raise KeyError(key)

def sqlite_bytes():
    return sum(p.stat().st_size for p in folder.glob("*.sqlite3*") if p.is_file())

def sample(hour):
    pool.waitForDone()  # the pool's idle threads exit (they come back with the next job): leaks remain
    gc.collect()
    app.processEvents()
    calls = ctx.engine.store.count_calls()
    return {"hour": hour, "rss_kb": status_value("VmRSS"), "threads": len(os.listdir("/proc/self/task")),
            "fds": len(os.listdir("/proc/self/fd")), "sqlite_bytes": sqlite_bytes(), "calls": calls,
            "logged": len(ctx.adapter.call_logs()), "rows": window.model.rowCount()}

wait_until(lambda: bool(with_rows) and not controller.poller.in_flight)
controller.poller.stop()  # the clock is driven here: one poll per simulated minute, as its timer would
samples = []
for minute in range(1, hours * 60 + 1):
    account.advance(60)
    controller.poller.poll_now()
    wait_until(lambda: not controller.poller.in_flight and pool.activeThreadCount() == 0)
    app.processEvents()
    window.repaint()
    if minute in (60, hours * 60):
        samples.append(sample(minute // 60))
print("day " + json.dumps(samples), flush=True)
controller.poller.stop()
pool.waitForDone()
ctx.close()
"""


def day(hours: int = HOURS) -> list[dict[str, Any]]:
    """Runs the day in a fresh process; the samples at hour 1 and the last hour."""
    with tempfile.TemporaryDirectory(prefix="logdesk-soak-") as tmp:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT),
               "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            env[var] = str(Path(tmp) / var.lower())
        out = subprocess.run([sys.executable, "-c", _DAY, str(Path(tmp) / "app"), str(hours)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=1800, check=False)
        for line in out.stdout.splitlines():
            if line.startswith("day "):
                samples: list[dict[str, Any]] = json.loads(line[4:])
                return samples
        raise RuntimeError(f"the day did not finish (exit {out.returncode}): {out.stderr[-3000:]}")


def run() -> list[Result]:
    first, last = day()
    if last["calls"] <= first["calls"] or last["logged"] == 0 or last["rows"] != last["calls"]:
        raise RuntimeError(f"calls did not flow through the day: {first} → {last}")

    def growth(key: str, per_call: bool = False) -> float:
        a, b = float(first[key]), float(last[key])
        if per_call:
            a, b = a / first["calls"], b / last["calls"]
        return (b - a) / a * 100

    span = f"hour 1 → {HOURS}"
    return [
        Result(f"soak: calls stored at hour {HOURS} ({first['calls']} at hour 1; {last['logged']} logged)",
               last["calls"], "calls"),
        Result(f"soak: resident memory at hour {HOURS} ({first['rss_kb'] / 1024:.0f} MB at hour 1)",
               last["rss_kb"] / 1024, "MB"),
        at_most(f"soak: resident memory growth, {span}", growth("rss_kb"), "%", 10),
        at_most(f"soak: threads growth, {span} ({first['threads']} → {last['threads']})", growth("threads"), "%", 10),
        at_most(f"soak: open file descriptors growth, {span} ({first['fds']} → {last['fds']})", growth("fds"), "%",
                10),
        at_most(f"soak: SQLite bytes per stored call growth, {span}", growth("sqlite_bytes", per_call=True), "%", 10),
    ]
