# SPDX-License-Identifier: MIT
"""Desktop UI benchmarks (offscreen Qt), each in a fresh subprocess.

- Start-up with 10,000 stored calls to the first paint *with the calls visible*: the calls table
  painted with its rows, against a bare PySide6 window painted the same way (target <= 1.5x).
  Each is timed to a zero timer started by the first paintEvent of the widget in question (the
  table's rows; the bare window), i.e. once that frame is painted and flushed; the benchmark
  checks that the frame showed a screenful of rows with the newest stored call on top.
  Interleaved runs; medians of wall time (the target) and of process CPU time.
- A table over 100,000 stored calls, opened the way the app opens it (``MainController.start()``
  on the real io pool): time until the table is painted with every call in it (target <= 1 s),
  and until search, filters and sorting cover every call.
- Search keystrokes with real key events (``QTest.keyClick`` into the search box), each timed until
  the table has been repainted (the event loop's repaint, or a forced one if it has not painted);
  the typing is done three times with other words (so each pass meets rows not read yet), each
  keystroke's median over the passes is taken, then the median and the worst of those (target
  <= 50 ms worst), with the single worst shown too. Filter switches by clicking the filter
  buttons, likewise. The poller is stopped for these: they measure the GUI thread's
  work per keystroke, not a background sync that may coincide with one.
- Peak memory (VmHWM) of that process after the above (target <= 300 MB), and again after every
  one of the 100,000 rows has been read (the agent scrolled through all of them).

The stored calls are a realistic mix: three in five logged (some waiting for a recording), some
refused by the CRM, the rest unlogged; one in eleven missed.

Run: ``.venv/bin/python -m bench ui``.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import Result, at_most

ROOT = Path(__file__).resolve().parents[1]
STORED_CALLS = 10_000
TABLE_CALLS = 100_000
RUNS = 7

# Each prints "painted <process CPU s> <json details>" on a zero timer started by the watched
# widget's first paintEvent, so once that frame has been painted and flushed. A paintEvent override
# rather than an event filter: a filter would have PySide build the Python type of every event it
# sees, which costs more than some of what is measured.
_BARE = r"""
import json, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv)
def report():
    print("painted", time.process_time(), json.dumps({}), flush=True)
    QApplication.quit()
class Window(QMainWindow):
    painted = False
    def paintEvent(self, event):
        super().paintEvent(event)
        if not self.painted:
            self.painted = True
            QTimer.singleShot(0, report)
w = Window()
w.setWindowTitle("bare")
w.resize(1120, 680)
w.show()
app.exec()
"""

# The app's calls table says when its rows were first painted (run_app's on_first_paint); what the
# frame showed is checked here: rows on screen, and the newest stored call on top.
_APP = r"""
import json, sys, time
from PySide6.QtCore import QPoint, QTimer
from PySide6.QtWidgets import QApplication
from desktop.app import run_app
def report():
    view = next(w for w in QApplication.topLevelWidgets() if hasattr(w, "table")).table
    top, bottom = view.rowAt(0), view.rowAt(view.viewport().height() - 1)
    shown = (bottom if bottom >= 0 else view.model().rowCount() - 1) - top + 1 if top >= 0 else 0
    call = view.indexAt(QPoint(1, 1)).data(256 + 1)  # CallTableModel.CallRole
    print("painted", time.process_time(), json.dumps({"rows_shown": shown, "top": getattr(call, "call_id", None)}),
          flush=True)
    QApplication.quit()
sys.exit(run_app(sandbox=True, on_first_paint=lambda: QTimer.singleShot(0, report)))
"""


SANDBOX_CRM_ENV = "LOGDESK_SANDBOX_CRM"


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    env["PYTHONPATH"] = str(ROOT)
    env.pop(SANDBOX_CRM_ENV, None)
    # Measure an installed app: bytecode compiled once (pip does that at install), not every run.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        (home / var.lower()).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / var.lower())
    return env


def _time_to_paint(code: str, env: dict[str, str]) -> tuple[float, float, dict[str, Any]]:
    """Wall seconds from spawning to the painted frame, the child's CPU seconds by then, details."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=ROOT, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("painted "):
            elapsed = time.perf_counter() - start
            _, cpu, details = line.split(" ", 2)
            break
    else:
        proc.wait()
        raise RuntimeError(f"the window never painted (exit {proc.returncode})")
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    return elapsed, float(cpu), json.loads(details)


def fake_calls(n: int, *, start: datetime | None = None) -> list[Any]:
    """``n`` RingCentral call records, newest first (``rec0``), one every 7 minutes."""
    from adapters.models import Call

    first = start or datetime(2026, 4, 10, 15, 0, tzinfo=UTC)
    out = []
    for k in range(n):
        inbound = k % 3 != 0
        number = f"+1{212 + k % 700:03d}555{k % 10_000:04d}"
        remote = {"phoneNumber": number, "name": f"Caller {k}" if k % 4 == 0 else None}
        local = {"phoneNumber": "+16505550100", "extensionNumber": "101"}
        out.append(
            Call.model_validate(
                {
                    "id": f"rec{k}",
                    "sessionId": f"{4_000_000_000 + k}",
                    "startTime": (first - timedelta(minutes=7 * k)).isoformat(),
                    "duration": 30 + k % 900,
                    "direction": "Inbound" if inbound else "Outbound",
                    "result": "Missed" if k % 11 == 0 else "Accepted",
                    "from": remote if inbound else local,
                    "to": local if inbound else remote,
                }
            )
        )
    return out


EXTENSION_ID = "400200000001"


def _prepare_store(path: Path, n: int) -> None:
    """``n`` stored calls in the mix the module docstring describes."""
    from desktop.engine.models import ArtifactKind, ArtifactState
    from desktop.engine.store import Store, put_artifact, ts

    store = Store(path)
    now = datetime.now(UTC)
    try:
        calls = fake_calls(n)
        for i in range(0, n, 2000):
            store.upsert_calls(calls[i : i + 2000], EXTENSION_ID, now)
        with store.transaction() as conn:
            # The rows the lifecycle writes when a log is created (see Lifecycle.log_call and the outbox).
            for k, call in enumerate(calls):
                if k % 5 in (0, 1, 2):
                    conn.execute(
                        "INSERT INTO call_logs (session_id, extension_id, call_id, adapter_id, log_id, contact_id,"
                        " contact_name, state, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                        (call.session_id, EXTENSION_ID, call.id, "local", f"log{k}", f"contact{k % 300}",
                         f"Contact {k % 300}", "logged", ts(now), ts(now)),
                    )
                    if k % 7 == 0:
                        put_artifact(conn, call.id, ArtifactKind.RECORDING, ArtifactState.PENDING, now)
                elif k % 5 == 3 and k % 4 == 1:
                    conn.execute(
                        "INSERT INTO call_logs (session_id, extension_id, call_id, adapter_id, state, last_error,"
                        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
                        (call.session_id, EXTENSION_ID, call.id, "local", "failed", "Refused by the CRM",
                         ts(now), ts(now)),
                    )
    finally:
        store.close()


def _reset_database(prepared: Path, database: Path) -> None:
    """``database`` becomes a copy of ``prepared`` (its write-ahead log and shared memory gone)."""
    import shutil

    database.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(prepared, database)


def bench_startup() -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="logdesk-bench-") as tmp:
        home = Path(tmp)
        env = _env(home)
        prepared = home / "prepared.sqlite3"
        _prepare_store(prepared, STORED_CALLS)
        database = home / "xdg_data_home" / "Logdesk" / "sandbox" / "engine.sqlite3"

        def app_run() -> tuple[float, float, dict[str, Any]]:
            # The same 10,000 calls each time: a run's sandbox may store calls of its own once the
            # window has painted (its history, live events) before the run quits.
            _reset_database(prepared, database)
            return _time_to_paint(_APP, env)

        _time_to_paint(_BARE, env)  # warm-up: bytecode and OS file caches, for both alike
        app_run()
        bare: list[tuple[float, float]] = []
        ours: list[tuple[float, float]] = []
        for _ in range(RUNS):  # interleaved, so load on a shared machine hits both alike
            wall, cpu, _ = _time_to_paint(_BARE, env)
            bare.append((wall, cpu))
            wall, cpu, details = app_run()
            if details["top"] != "rec0" or details["rows_shown"] < 10:
                raise RuntimeError(f"the first frame did not show the newest calls: {details}")
            ours.append((wall, cpu))
    bare_wall, ours_wall = (statistics.median(w for w, _ in runs) for runs in (bare, ours))
    bare_cpu, ours_cpu = (statistics.median(c for _, c in runs) for runs in (bare, ours))
    return [
        Result("start-up: bare PySide6 window to first paint", bare_wall * 1000, "ms"),
        Result(f"start-up: Logdesk to first paint with calls visible ({STORED_CALLS:,} stored)", ours_wall * 1000,
               "ms"),
        at_most(f"start-up ratio, wall (median of {RUNS}, interleaved)", ours_wall / bare_wall, "x", 1.5),
        Result(f"start-up ratio, process CPU (median of {RUNS})", ours_cpu / bare_cpu, "x"),
    ]


_TABLE = r"""
import json, statistics, sys, time
from dataclasses import replace
from pathlib import Path
from PySide6.QtCore import QEvent, QEventLoop, QObject, QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv)
app.setStyle("Fusion")
from desktop.ui.resources import app_stylesheet
app.setStyleSheet(app_stylesheet())
from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, preset
from desktop.app import build_main_window, sandbox_context
from desktop.secrets import MemorySecretStore
from desktop.settings import AppSettings
from desktop.ui.call_table_model import CallFilter, CallTableModel
from desktop.workers import bind_pool, make_pool

N = int(sys.argv[2])
scenario = replace(preset("happy", demo=True), history=0)
scenario = replace(scenario, delays=replace(scenario.delays, call_interval=None))
account = SandboxAccount(clock=ManualClock(), scenario=scenario, seed=1)
ctx = sandbox_context(Path(sys.argv[1]), MemorySecretStore(), AppSettings(), account=account)
pool = make_pool("io", 4)
controller = build_main_window(ctx, submit=bind_pool(pool), start=False)
window, table = controller.window, controller.window.table
window.show()
app.processEvents()

def wait_until(done, timeout_ms=120_000):
    # An event loop checked every 5 ms, not a busy loop: the process's CPU time is the app's work.
    loop = QEventLoop()
    check = QTimer(interval=5)
    check.timeout.connect(lambda: loop.quit() if done() else None)
    QTimer.singleShot(timeout_ms, loop.quit)
    check.start()
    loop.exec()
    check.stop()
    if not done():
        raise SystemExit("timed out")

class Painted(QObject):
    frame = None
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and self.frame is None and window.proxy.rowCount() == N:
            QTimer.singleShot(0, self.mark)
        return False
    def mark(self):
        if self.frame is None:
            self.frame = (time.perf_counter(), time.process_time())
painted = Painted()
table.viewport().installEventFilter(painted)
indexed = []
controller.calls_indexed.connect(lambda n: indexed.append((time.perf_counter(), time.process_time())))

# Open the table over the stored calls as the app does: list them on the io pool, show, index.
wall0, cpu0 = time.perf_counter(), time.process_time()
controller.start()
wait_until(lambda: painted.frame is not None and indexed)
visible = (painted.frame[0] - wall0, painted.frame[1] - cpu0)
searchable = (indexed[0][0] - wall0, indexed[0][1] - cpu0)
controller.poller.stop()
wait_until(lambda: pool.activeThreadCount() == 0)
assert window.model.rowCount() == N and window.count_label.text() == f"{N:,} calls", window.count_label.text()
table.scrollToBottom()
table.viewport().repaint()
oldest = table.indexAt(QPoint(1, table.viewport().height() - 5)).data(CallTableModel.CallRole).call_id
assert oldest == f"rec{N - 1}", oldest
table.scrollToTop()
app.processEvents()

paints = [0]
class CountPaints(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            paints[0] += 1
        return False
counter = CountPaints()
table.viewport().installEventFilter(counter)

def timed(act):
    app.processEvents()
    before = paints[0]
    wall, cpu = time.perf_counter(), time.process_time()
    act()                 # the key event or click: the proxy filters, the view resets
    app.processEvents()   # the view's relayout and repaint, the counts
    if paints[0] == before:
        table.viewport().repaint()  # forced, should the event loop not have painted yet
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000

box = window.search_box
box.setFocus()
app.processEvents()
def typing(name, digits, contact):
    back = Qt.Key.Key_Backspace
    return [*name, *[back] * len(name), *digits, *[back] * len(digits), *contact, *[back] * len(contact)]
# Three passes of the same kind of typing with other words, so each finds rows not read yet.
passes = [typing("caller 1", "212555", "contact 12"), typing("caller 2", "313555", "contact 23"),
          typing("caller 3", "414555", "contact 34")]
keys = []  # per pass, per keystroke
for actions in passes:
    keys.append([timed(lambda a=action: QTest.keyClick(box, a)) for action in actions])
    assert box.text() == "" and window.proxy.rowCount() == N
filters = []
order = [CallFilter.UNLOGGED, CallFilter.LOGGED, CallFilter.PENDING, CallFilter.MISSED, CallFilter.ALL]
for _ in range(3):
    filters.append([timed(lambda b=window.filter_buttons[w]: QTest.mouseClick(b, Qt.MouseButton.LeftButton))
                    for w in order])
header = table.horizontalHeader()
def click_header(column):
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
sort = timed(lambda: click_header(CallTableModel.COL_CONTACT))
click_header(CallTableModel.COL_TIME)
app.processEvents()

def peak_mb():
    # VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork+exec.
    hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
    return int(hwm.split()[1]) / 1024

listed_mb = peak_mb()
window.model.items()  # every row read, as if the agent scrolled through all of them
all_read_mb = peak_mb()
print(json.dumps({"visible": visible, "searchable": searchable, "keys": keys, "filters": filters, "sort": sort,
                  "listed_mb": listed_mb, "all_read_mb": all_read_mb}))
ctx.close()
"""


def bench_table() -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="logdesk-bench-") as tmp:
        env = _env(Path(tmp))
        data = Path(tmp) / "sandbox"
        _prepare_store(data / "engine.sqlite3", TABLE_CALLS)
        proc = subprocess.run(
            [sys.executable, "-c", _TABLE, str(data), str(TABLE_CALLS)],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=900,
        )
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr[-3000:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    # Per keystroke (click), the median of its three passes: one load spike from another process on
    # the shared machine is not the app's worst keystroke. The single worst is shown as well.
    keys = [statistics.median(wall for wall, _ in runs) for runs in zip(*out["keys"], strict=True)]
    filters = [statistics.median(wall for wall, _ in runs) for runs in zip(*out["filters"], strict=True)]
    single_worst = max(wall for run in out["keys"] for wall, _ in run)
    n = f"{TABLE_CALLS:,} calls"
    return [
        at_most(f"table: {n} visible (painted, every call in the list)", out["visible"][0], "s", 1.0),
        Result(f"table: {n} visible, process CPU", out["visible"][1], "s"),
        Result(f"table: {n} searchable and filterable (index read)", out["searchable"][0], "s"),
        Result(f"table: {n} searchable and filterable, process CPU", out["searchable"][1], "s"),
        at_most(f"search keystroke, {n}, real key events (worst of {len(keys)}, median of 3 passes)", max(keys),
                "ms", 50),
        Result(f"search keystroke, {n} (median)", statistics.median(keys), "ms"),
        Result(f"search keystroke, {n} (single worst of {len(keys) * 3})", single_worst, "ms"),
        at_most(f"filter switch, {n}, button clicks (worst of {len(filters)}, median of 3 passes)", max(filters),
                "ms", 50),
        Result(f"filter switch, {n} (median)", statistics.median(filters), "ms"),
        Result(f"sort by contact, {n} (header click)", out["sort"][0], "ms"),
        at_most(f"peak memory, {n} listed, searched, filtered (max RSS)", out["listed_mb"], "MB", 300),
        at_most(f"peak memory, all {TABLE_CALLS:,} rows read (max RSS)", out["all_read_mb"], "MB", 300),
    ]


def run() -> list[Result]:
    return [*bench_startup(), *bench_table()]
