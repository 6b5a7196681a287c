# SPDX-License-Identifier: MIT
"""One Logdesk per user: a second launch hands its arguments to the running one, which comes to
the front, and exits 0; a socket left by a killed process does not block the next start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_FIRST = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from desktop.app import run_app
from desktop.ui.main_window import MainWindow

def hook():
    for w in QApplication.instance().topLevelWidgets():
        if isinstance(w, MainWindow) and w.single_instance is not None:
            w.single_instance.activated.connect(lambda args: (print("activated", args, flush=True), w.close()))
            # It listens right after the first paint (this hook may run first).
            if w.single_instance.is_listening():
                print("ready", flush=True)
            else:
                w.single_instance.listening.connect(lambda: print("ready", flush=True))
            return

sys.exit(run_app(sandbox=True, on_first_paint=lambda: QTimer.singleShot(0, hook)))
"""


def _env(tmp: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen",
            "XDG_CONFIG_HOME": str(tmp / "config"), "XDG_DATA_HOME": str(tmp / "data"),
            "XDG_STATE_HOME": str(tmp / "state"), "XDG_CACHE_HOME": str(tmp / "cache"),
            "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def _start_first(tmp: Path) -> subprocess.Popen[str]:
    first = subprocess.Popen([sys.executable, "-c", _FIRST], cwd=ROOT, env=_env(tmp), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    assert first.stdout is not None
    for line in first.stdout:
        if line.strip() == "ready":
            return first
    with first:
        first.wait(timeout=30)
        raise AssertionError(f"the first instance did not start: {first.stderr.read() if first.stderr else ''}")


def test_a_second_launch_hands_over_and_exits_zero(tmp_path: Path) -> None:
    # Given Logdesk running
    with _start_first(tmp_path) as first:
        # When the agent launches it again
        second = subprocess.run([sys.executable, "-m", "desktop", "--sandbox"], cwd=ROOT, env=_env(tmp_path),
                                capture_output=True, text=True, timeout=60)
        # Then the second exits 0 saying so, and the first was asked to come to the front
        assert second.returncode == 0, second.stderr[-2000:]
        assert "already running" in second.stdout
        assert first.stdout is not None
        assert first.stdout.readline().startswith("activated ['--sandbox']")
        assert first.wait(timeout=30) == 0


def test_a_socket_left_by_a_killed_instance_does_not_block_the_next_start(tmp_path: Path) -> None:
    with _start_first(tmp_path) as first:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    # The next start takes over the stale socket and runs
    with _start_first(tmp_path) as again:
        again.kill()
        again.wait(timeout=30)


def test_a_start_with_no_other_instance_loads_no_networking_before_its_window() -> None:
    code = ("import sys; from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]);"
            "from desktop.single_instance import SingleInstance;"
            "print(SingleInstance('logdesk-probe-' + str(__import__('os').getpid())).running_elsewhere([]),"
            " 'PySide6.QtNetwork' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(Path("/nonexistent")), capture_output=True,
                         text=True, timeout=60, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_of_two_started_at_once_the_one_that_listens_second_hands_over(qtbot) -> None:  # type: ignore[no-untyped-def]
    from desktop.single_instance import SingleInstance, server_name

    name = server_name(Path(f"/tmp/logdesk-race-{os.getpid()}"))
    first, second = SingleInstance(name), SingleInstance(name)
    try:
        # Both asked before their windows, when neither listened yet
        assert not first.running_elsewhere([]) and not second.running_elsewhere([])
        # The first listens after its paint; the second then finds it and leaves
        assert first.listen([])
        assert not second.listen(["--sandbox"])
        assert first.is_listening() and not second.is_listening()
    finally:
        first.close()
        second.close()
