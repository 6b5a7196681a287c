#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds Logdesk as a self-contained bundle (PyInstaller, one folder), and checks that it starts.

    python3 scripts/bundle.py              # builds dist/logdesk/ (run dist/logdesk/logdesk)
    python3 scripts/bundle.py --check      # builds, then checks the bundle (what CI runs)
    python3 scripts/bundle.py --check-only # checks the bundle already built

The check starts the bundle offscreen on the sandbox with empty settings and data folders
(``logdesk --sandbox --check-start``: the window painted, calls in the table, the icon loaded, no
error), has it install its menu entry there and checks that the entry starts the bundle, and
starts it once more beside gnome-keyring in a private D-Bus session (where both are installed):
it must find that keyring.

Run with the quick start's virtual environment (created and installed as ``quickstart.py`` does)
or, when this script is run by a virtual environment's own python, with that one. PyInstaller is
installed into it from the package index if it is missing (the version range of pyproject.toml's
``bundle`` extra).

Why PyInstaller rather than Briefcase: PyInstaller is a package on the index and bundles the
interpreter and packages of the environment it runs in, with maintained hooks for PySide6 and
keyring, so the build needs nothing but the package index. Briefcase builds from an app template
and a standalone Python it downloads from their source repositories (and on Linux builds in a
container or for one distribution's system packages), none of which a build here can reach. One
folder rather than one file: a one-file bundle unpacks itself into a temporary folder at every
start, which costs start-up time an agent sees every morning.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
NAME = "logdesk"
#: Packages of the app whose modules are all bundled (many are imported by name at run time:
#: the adapter registry, the command line's subcommands).
PACKAGES = ("adapters", "desktop")
#: Test helpers that ship in the packages for third-party adapters' test suites (they import
#: pytest), and what they would pull in.
LEFT_OUT = ("adapters.testing", "adapters.pytest_plugin", "adapters.template.acme_harness")
EXCLUDED = ("pytest", "_pytest", "hypothesis", "mypy", "tkinter", "setuptools", "pip", "tests", "bench", *LEFT_OUT)
#: The Qt modules the bundle holds; each gets scripts/pyinstaller_qt_hook.py as its hook.
QT_MODULES = ("QtCore", "QtGui", "QtWidgets", "QtNetwork", "QtSvg", "QtDBus")
#: What that hook leaves out; the check fails if it is in the bundle all the same.
LEFT_OUT_FILES = ("libqgtk3.so", "qtbase_en.qm")


def say(message: str) -> None:
    print(f"[bundle] {message}", flush=True)


def executable(dist: Path | None = None) -> Path:
    """The bundle's executable."""
    dist = dist or DIST
    if sys.platform == "darwin":
        return dist / f"{NAME}.app" / "Contents" / "MacOS" / NAME
    return dist / NAME / (f"{NAME}.exe" if os.name == "nt" else NAME)


def bundle_dir(dist: Path | None = None) -> Path:
    dist = dist or DIST
    return dist / (f"{NAME}.app" if sys.platform == "darwin" else NAME)


def _quickstart() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quickstart", ROOT / "scripts" / "quickstart.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def interpreter() -> Path:
    """This script's python when it is a virtual environment's, else the quick start's .venv."""
    if sys.prefix != sys.base_prefix:
        return Path(sys.executable)
    quickstart = _quickstart()
    quickstart.ensure_venv()
    quickstart.ensure_installed()
    return Path(quickstart.PY)


def pyinstaller_requirement() -> str:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    return next(r for r in extras["bundle"] if r.lower().startswith("pyinstaller"))


def ensure_pyinstaller(python: Path) -> None:
    probe = subprocess.run([str(python), "-c", "import PyInstaller"], capture_output=True, check=False)
    if probe.returncode == 0:
        return
    requirement = pyinstaller_requirement()
    say(f"installing {requirement} into {python.parent.parent}")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", requirement],
                   check=True)


def app_modules() -> list[str]:
    """Every module of the app's packages, by name, but the test helpers."""
    modules = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            name = ".".join(parts)
            if any(name == out or name.startswith(out + ".") for out in LEFT_OUT):
                continue
            modules.append(name)
    return modules


def qt_hooks() -> Path:
    """A hooks folder with scripts/pyinstaller_qt_hook.py as the hook of each of :data:`QT_MODULES`."""
    hooks = WORK / "hooks"
    shutil.rmtree(hooks, ignore_errors=True)
    hooks.mkdir(parents=True)
    for module in QT_MODULES:
        shutil.copyfile(ROOT / "scripts" / "pyinstaller_qt_hook.py", hooks / f"hook-PySide6.{module}.py")
    return hooks


def build(python: Path) -> Path:
    ensure_pyinstaller(python)
    args = [
        str(python), "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
        "--name", NAME, "--onedir",
        "--distpath", str(DIST), "--workpath", str(WORK / "work"), "--specpath", str(WORK),
        "--paths", str(ROOT), "--additional-hooks-dir", str(qt_hooks()),
        # Icons, the style sheet and the sandbox's people, read through importlib.resources.
        "--collect-data", "resources",
        # `logdesk adapter new` copies the template adapter's sources.
        "--add-data", f"{ROOT / 'adapters' / 'template' / '*.py'}:adapters/template",
    ]
    if sys.platform in ("win32", "darwin"):
        args.append("--windowed")  # no console window (Windows); an .app (macOS)
    for module in app_modules():
        args += ["--hidden-import", module]
    for module in EXCLUDED:
        args += ["--exclude-module", module]
    args.append(str(ROOT / "desktop" / "__main__.py"))
    say(f"building {bundle_dir()} with PyInstaller")
    started = time.monotonic()
    subprocess.run(args, cwd=ROOT, check=True)
    say(f"built in {time.monotonic() - started:.0f} s: {bundle_dir()} ({size_mb(bundle_dir()):.1f} MB)")
    return executable()


def size_mb(folder: Path) -> float:
    """The bytes of every file in ``folder`` (symbolic links not followed), in MB."""
    total = sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())
    return total / 1e6


def check_env(home: Path) -> dict[str, str]:
    """Offscreen, empty settings and data folders, no system keyring, nothing from a source tree."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "LOGDESK_SANDBOX_CRM")}
    env.update({"QT_QPA_PLATFORM": "offscreen", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        (home / var.lower()).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / var.lower())
    return env


def check(exe: Path) -> int:
    """Starts the bundle to a painted window with calls, then installs its menu entry; 0 if both work."""
    if not exe.is_file():
        say(f"no bundle at {exe}: build it first")
        return 1
    unwanted = [p for name in LEFT_OUT_FILES for p in bundle_dir().rglob(name)]
    if unwanted:
        say(f"the bundle holds what its Qt hook leaves out (a Qt module without that hook?): {unwanted}")
        return 1
    with tempfile.TemporaryDirectory(prefix="logdesk-bundle-check-") as tmp:
        home = Path(tmp)
        env = check_env(home)
        started = time.monotonic()
        done = subprocess.run([str(exe), "--sandbox", "--check-start"], env=env, cwd=home, capture_output=True,
                              text=True, timeout=300, check=False)
        took = time.monotonic() - started
        lines = done.stdout.splitlines()
        if done.returncode != 0 or len(lines) < 2 or not lines[0].startswith("painted "):
            say(f"the bundle did not start (exit {done.returncode}):\n{done.stdout}\n{done.stderr[-4000:]}")
            return 1
        details = json.loads(lines[1].split(" ", 2)[2])
        say(f"started offscreen on the sandbox in {took:.1f} s: {details['rows']} calls shown, "
            f"{details['colours']} colours painted, icon loaded: {details['icon']}")
        if sys.platform.startswith("linux"):
            problem = check_menu_entry(exe, env, home) or check_keyring(exe, home)
            if problem:
                say(problem)
                return 1
    say(f"bundle OK: {bundle_dir()} ({size_mb(bundle_dir()):.1f} MB)")
    return 0


def check_menu_entry(exe: Path, env: dict[str, str], home: Path) -> str | None:
    """``logdesk install-desktop`` from the bundle: its entry must start the bundle."""
    done = subprocess.run([str(exe), "install-desktop"], env=env, cwd=home, capture_output=True, text=True,
                          timeout=120, check=False)
    if done.returncode != 0:
        return f"install-desktop failed (exit {done.returncode}): {done.stderr[-2000:]}"
    sys.path.insert(0, str(ROOT))
    from desktop.install import parse_exec, read_entry  # standard library only

    entry = home / "xdg_data_home" / "applications" / f"{NAME}.desktop"
    command = parse_exec(read_entry(entry).get("Exec", ""))
    if command != [str(exe.absolute())]:
        return f"the menu entry starts {command}, not the bundle {exe}"
    validator = shutil.which("desktop-file-validate")
    if validator is not None:
        valid = subprocess.run([validator, str(entry)], capture_output=True, text=True, check=False)
        if valid.returncode != 0 or valid.stdout.strip():
            return f"desktop-file-validate: {valid.stdout}{valid.stderr}"
    say(f"install-desktop from the bundle: {entry.name} starts {command[0]}")
    return None


def check_keyring(exe: Path, home: Path) -> str | None:
    """The bundle's keyring backend against gnome-keyring in a private D-Bus session (where both
    are installed, as in CI): no "credentials for this session only" banner."""
    if shutil.which("dbus-run-session") is None or shutil.which("gnome-keyring-daemon") is None:
        say("gnome-keyring or dbus-run-session is not installed: the bundle's keyring is not checked")
        return None
    env = check_env(home / "keyring")
    del env["PYTHON_KEYRING_BACKEND"]
    shell = ("printf 'throwaway-pw' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; "
             'exec "$LOGDESK_BUNDLE" --sandbox --check-start')
    env["LOGDESK_BUNDLE"] = str(exe)
    done = subprocess.run(["dbus-run-session", "--", "sh", "-c", shell], env=env, cwd=home, capture_output=True,
                          text=True, timeout=300, check=False)
    lines = done.stdout.splitlines()
    if done.returncode != 0 or len(lines) < 2:
        return f"the bundle did not start with gnome-keyring (exit {done.returncode}): {done.stderr[-3000:]}"
    banners = json.loads(lines[1].split(" ", 2)[2])["banners"]
    if any("keyring" in text.lower() for _kind, text in banners):
        return f"the bundle found no usable keyring in a session with gnome-keyring: {banners}"
    say("the bundle keeps credentials in the system keyring (gnome-keyring's Secret Service)")
    return None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bundle.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="check the bundle once built")
    parser.add_argument("--check-only", action="store_true", help="check the bundle already built")
    args = parser.parse_args(argv)
    if args.check_only:
        return check(executable())
    exe = build(interpreter())
    return check(exe) if args.check else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
