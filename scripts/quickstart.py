#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sets up a project-local virtual environment and runs the app or the tests.

    python3 scripts/quickstart.py sandbox   # install, then launch Logdesk on its sandbox
    python3 scripts/quickstart.py test      # install, then run the whole test suite

Standard library only, no sudo. Where the system Python has no ``ensurepip`` (Debian without the
python3-venv package), the environment is created without pip and pip is installed into it from
the package index that pip's own configuration names.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import urllib.request
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PY = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".logdesk-installed"
DEFAULT_INDEX = "https://pypi.org/simple"


def say(message: str) -> None:
    print(f"[quickstart] {message}", flush=True)


def index_url() -> str:
    """The index pip itself would use: PIP_INDEX_URL, then pip.conf, then the public default."""
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"]
    for conf in (Path("/etc/pip.conf"), Path.home() / ".config/pip/pip.conf", Path.home() / ".pip/pip.conf"):
        parser = configparser.ConfigParser()
        try:
            parser.read(conf)
        except configparser.Error:
            continue
        if parser.has_option("global", "index-url"):
            return parser.get("global", "index-url")
    return DEFAULT_INDEX


def bootstrap_pip() -> None:
    """Installs pip into a venv that was created without it, from the wheel on the index."""
    base = index_url().rstrip("/")
    say(f"this Python has no ensurepip; fetching pip from {base}")
    request = urllib.request.Request(f"{base}/pip/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        listing = json.load(response)
    wheels = [f for f in listing["files"] if f["filename"].endswith("-py3-none-any.whl") and not f.get("yanked")]
    newest = wheels[-1]
    with tempfile.TemporaryDirectory() as tmp:
        wheel = Path(tmp) / newest["filename"]
        with urllib.request.urlopen(newest["url"], timeout=120) as response:
            wheel.write_bytes(response.read())
        digest = newest.get("hashes", {}).get("sha256")
        if digest and hashlib.sha256(wheel.read_bytes()).hexdigest() != digest:
            sys.exit("[quickstart] the downloaded pip wheel does not match its published hash")
        subprocess.run([str(PY), f"{wheel}/pip", "install", "--quiet", str(wheel)], check=True)


def ensure_venv() -> None:
    if PY.exists():
        return
    say(f"creating a virtual environment in {VENV}")
    try:
        venv.EnvBuilder(with_pip=True).create(VENV)
    except (subprocess.CalledProcessError, OSError):
        venv.EnvBuilder(with_pip=False, clear=True).create(VENV)
        bootstrap_pip()


def ensure_installed() -> None:
    """Installs the project with its test extras once, and again whenever pyproject.toml changes."""
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    say("installing Logdesk and its test tools into .venv (first run takes a minute)")
    subprocess.run(
        [str(PY), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", f"{ROOT}[test,dev]"],
        check=True,
    )
    STAMP.write_text(wanted)


#: Debian packages holding the system libraries Qt's wheels load (the rest ship inside the wheel).
QT_SYSTEM_PACKAGES = "libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3"


def qt_loads() -> bool:
    """Whether Qt's GUI module loads; if a system library is missing, says which and how to add it."""
    probe = subprocess.run(
        [str(PY), "-c", "import PySide6.QtGui"], capture_output=True, text=True, check=False
    )
    if probe.returncode == 0:
        return True
    detail = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
    say(f"Qt cannot load on this machine: {detail}")
    say(f"Qt needs a few system libraries; install them with: sudo apt-get install {QT_SYSTEM_PACKAGES}")
    return False


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("sandbox", "test", "app"):
        print(__doc__)
        return 2
    ensure_venv()
    ensure_installed()
    command, rest = argv[0], argv[1:]
    if not qt_loads():
        return 1
    if command == "test":
        say("running the test suite")
        return subprocess.call([str(PY), "-m", "pytest", *rest], cwd=ROOT)
    args = ["--sandbox"] if command == "sandbox" else []
    return subprocess.call([str(PY), "-m", "desktop", *args, *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
