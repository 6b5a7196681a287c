# SPDX-License-Identifier: MIT
"""The self-contained bundle (``python3 scripts/bundle.py`` builds ``dist/logdesk/``).

- Its size on disk (target <= 200 MB: what the build holds today, as a ceiling against growth),
  and as a ``.tar.gz`` download (informational).
- Its start-up to the first paint with the calls visible, measured as ``bench ui`` measures
  Logdesk's: 10,000 stored calls, offscreen, from spawning the process to the ``painted`` line
  ``logdesk --sandbox --check-start`` prints on a zero timer after the calls table's first
  paintEvent; the frame must have shown the newest stored call on top. The yardstick is the same
  app started from its virtual environment (``python -m desktop``, what pip or pipx installs),
  interleaved with the bundle's runs so that load on a shared machine hits both alike: target
  <= 1.25x its median (a one-folder bundle unpacks nothing; it reads its modules from an archive).
  Each run goes on to the end of start-up, calls shown, and must exit 0.

Without a built bundle the rows say so: no figure and no verdict, rather than a crash.

Run: ``.venv/bin/python -m bench bundle``.
"""

from __future__ import annotations

import importlib.util
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from bench import Result, at_most
from bench.bench_ui import STORED_CALLS, _env, _prepare_store, _reset_database

ROOT = Path(__file__).resolve().parents[1]
RUNS = 7
SIZE_LIMIT_MB = 200
RATIO_LIMIT = 1.25


def _bundle_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bundle_script", ROOT / "scripts" / "bundle.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class _Counter(io.RawIOBase):
    """A sink that counts the bytes written to it."""

    def __init__(self) -> None:
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.size += len(data)
        return len(data)


def tar_gz_mb(folder: Path) -> float:
    counter = _Counter()
    with tarfile.open(fileobj=counter, mode="w:gz", compresslevel=6) as archive:
        archive.add(folder, arcname=folder.name)
    return counter.size / 1e6


def _time_to_paint(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, dict[str, Any]]:
    """Wall seconds from spawning ``command`` to its ``painted`` line, and what the frame showed;
    the process must then finish start-up and exit 0."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, text=True)
    assert proc.stdout is not None
    elapsed, shown = None, {}
    for line in proc.stdout:
        if line.startswith("painted ") and elapsed is None:
            elapsed = time.perf_counter() - start
            shown = json.loads(line.split(" ", 2)[2])
    _, err = proc.communicate(timeout=180)
    if elapsed is None or proc.returncode != 0:
        raise RuntimeError(f"{command[0]} did not start (exit {proc.returncode}): {err[-2000:]}")
    return elapsed, shown


def bench_size(bundle: ModuleType) -> list[Result]:
    folder = bundle.bundle_dir()
    return [
        at_most(f"bundle: size on disk ({folder.relative_to(ROOT)})", bundle.size_mb(folder), "MB", SIZE_LIMIT_MB),
        Result("bundle: size as a .tar.gz download", tar_gz_mb(folder), "MB"),
    ]


def bench_startup(bundle: ModuleType) -> list[Result]:
    exe = bundle.executable()
    with tempfile.TemporaryDirectory(prefix="logdesk-bench-") as tmp:
        home = Path(tmp)
        from_venv = _env(home)
        frozen = {k: v for k, v in from_venv.items() if k != "PYTHONPATH"}
        prepared = home / "prepared.sqlite3"
        _prepare_store(prepared, STORED_CALLS)
        database = home / "xdg_data_home" / "Logdesk" / "sandbox" / "engine.sqlite3"
        runs = {
            "bundle": ([str(exe), "--sandbox", "--check-start"], frozen),
            "venv": ([sys.executable, "-m", "desktop", "--sandbox", "--check-start"], from_venv),
        }

        def run(which: str) -> float:
            _reset_database(prepared, database)  # the same 10,000 calls each time
            command, env = runs[which]
            wall, shown = _time_to_paint(command, env, home)
            if shown.get("top") != "rec0" or shown.get("rows", 0) < 10:
                raise RuntimeError(f"the {which}'s first frame did not show the newest calls: {shown}")
            return wall

        run("bundle")  # warm-up: OS file caches and bytecode, for both alike
        run("venv")
        walls: dict[str, list[float]] = {"bundle": [], "venv": []}
        for _ in range(RUNS):
            for which in ("bundle", "venv"):
                walls[which].append(run(which))
    bundle_ms, venv_ms = (statistics.median(walls[w]) * 1000 for w in ("bundle", "venv"))
    return [
        Result(f"bundle: start-up to first paint with calls visible ({STORED_CALLS:,} stored)", bundle_ms, "ms"),
        Result("bundle: the same start from the virtual environment (python -m desktop)", venv_ms, "ms"),
        at_most(f"bundle: start-up ratio to the venv's, wall (median of {RUNS}, interleaved)", bundle_ms / venv_ms,
                "x", RATIO_LIMIT),
    ]


def run() -> list[Result]:
    bundle = _bundle_script()
    if not bundle.executable().is_file():
        not_built = "not built: python3 scripts/bundle.py"
        nan = float("nan")
        return [
            Result(f"bundle: size on disk ({not_built})", nan, "MB", f"<= {SIZE_LIMIT_MB:g}"),
            Result(f"bundle: start-up to first paint ({not_built})", nan, "ms"),
            Result(f"bundle: start-up ratio to the venv's ({not_built})", nan, "x", f"<= {RATIO_LIMIT:g}"),
        ]
    return [*bench_size(bundle), *bench_startup(bundle)]
