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


#: Shared libraries Qt's xcb platform plugin loads from the system, by the Debian package that has them.
XCB_LIBRARY_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}


def missing_libraries(ldd_output: str) -> list[str]:
    """The libraries ``ldd`` reports as ``not found``."""
    return sorted({line.split("=>")[0].strip() for line in ldd_output.splitlines() if "not found" in line})


def xcb_plugin_files() -> list[Path]:
    """Qt's xcb platform plugin and the library behind it, inside the venv's PySide6."""
    found = []
    for base in (VENV / "lib").glob("python3*/site-packages/PySide6/Qt"):
        found += list(base.glob("plugins/platforms/libqxcb.so")) + list(base.glob("lib/libQt6XcbQpa.so*"))
    return found


def missing_for_display(files: list[Path]) -> list[str]:
    """System libraries the xcb plugin needs and this machine lacks (empty when ``ldd`` is absent)."""
    missing: set[str] = set()
    for path in files:
        try:
            out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False).stdout
        except OSError:
            return []
        missing.update(missing_libraries(out))
    return sorted(missing)


def apt_line(missing: list[str]) -> str:
    """One ``sudo apt-get install …`` line for the libraries, plus any it cannot name a package for."""
    packages = sorted({XCB_LIBRARY_PACKAGES[lib] for lib in missing if lib in XCB_LIBRARY_PACKAGES})
    unknown = [lib for lib in missing if lib not in XCB_LIBRARY_PACKAGES]
    line = f"sudo apt-get install {' '.join(packages)}" if packages else ""
    if unknown:
        line += ("  (and the packages that provide " if line else "install the packages that provide ")
        line += ", ".join(unknown) + (")" if packages else "")
    return line


def display_ready() -> bool:
    """Before a window opens on X11: the xcb plugin's system libraries are all there, or one exact
    install line says what to add (instead of Qt's "could not load the Qt platform plugin")."""
    if os.environ.get("QT_QPA_PLATFORM", "xcb") not in ("xcb", "") or not os.environ.get("DISPLAY"):
        return True
    missing = missing_for_display(xcb_plugin_files())
    if not missing:
        return True
    say(f"Qt's X11 plugin needs system libraries this machine lacks: {', '.join(missing)}")
    say(f"install them with: {apt_line(missing)}")
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
    if not display_ready():
        return 1
    args = ["--sandbox"] if command == "sandbox" else []
    return subprocess.call([str(PY), "-m", "desktop", *args, *rest], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
