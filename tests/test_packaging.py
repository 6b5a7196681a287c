# SPDX-License-Identifier: MIT
"""pip into a fresh virtual environment (what pipx does) gives a working ``logdesk``.

The project is built into a wheel offline and installed with ``--no-deps`` into a new venv in a
folder whose name has a space; the dependencies (PySide6, pydantic, ...) come from this test
run's environment through a ``.pth`` line, so nothing is downloaded. The installed command then
reports its version, installs its menu entry (whose Exec line must start that same command) and
starts on the sandbox, offscreen, to a painted window with the calls loaded (``--check-start``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from desktop import install
from tests.desktop.test_install import assert_valid_entry

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Logdesk's wheel, built from a copy of the sources (the work tree gets no build/ folder)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("desktop", "adapters", "resources"):
        shutil.copytree(ROOT / package, src / package, ignore=ignore)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
         "--disable-pip-version-check", "-w", str(out), str(src)],
        check=True, capture_output=True, timeout=300,
    )
    [built] = out.glob("logdesk-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A new venv with Logdesk installed from the wheel; returns its ``bin`` folder."""
    target = tmp_path_factory.mktemp("apps") / "Logdesk venv"
    venv.EnvBuilder(with_pip=False).create(target)
    python = target / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # The dependencies, from this environment (a path line: its own .pth files, an editable
    # Logdesk among them, are not read).
    (site / "logdesk-test-deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    # --ignore-installed: the dependencies' folder may hold an editable Logdesk (a developer's);
    # it is left alone, and this venv gets its own.
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
         "--ignore-installed", "--disable-pip-version-check", str(wheel)],
        check=True, capture_output=True, timeout=300, cwd=target, env=_env(target),
    )
    assert (target / "bin" / "logdesk").is_file()
    yield target / "bin"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.update({"QT_QPA_PLATFORM": "offscreen", "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(home / var.lower())
    return env


def test_the_wheel_has_the_command_and_the_resources_and_nothing_of_the_tests(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = archive.read(entry_points).decode()
    assert "logdesk = desktop.__main__:main" in scripts
    assert {"resources/icons/logdesk.svg", "resources/styles/app.qss", "resources/sandbox/contacts.json"} <= names
    assert "desktop/install.py" in names and "desktop/engine/listing.py" in names
    assert not any(n.startswith(("tests/", "bench/", "scripts/")) for n in names)


def test_the_command_pip_installs_runs_from_its_own_venv(installed: Path, tmp_path: Path) -> None:
    env = _env(tmp_path)
    done = subprocess.run([str(installed / "logdesk"), "--version"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "logdesk 0.1.0", done.stderr
    where = subprocess.run([str(installed / "python"), "-c", "import desktop; print(desktop.__file__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60, check=True).stdout
    assert Path(where.strip()).is_relative_to(installed.parent)


def test_its_install_desktop_entry_starts_that_installed_command(installed: Path, tmp_path: Path) -> None:
    env = _env(tmp_path)
    # When the installed logdesk adds itself to the menu
    done = subprocess.run([str(installed / "logdesk"), "install-desktop", "--autostart"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    # Then the entry validates and its Exec line (quoted: the folder has a space) is that command
    entry = tmp_path / "xdg_data_home" / "applications" / "logdesk.desktop"
    assert_valid_entry(entry)
    argv = install.parse_exec(install.read_entry(entry)["Exec"])
    assert argv == [str(installed / "logdesk")]
    autostart = tmp_path / "xdg_config_home" / "autostart" / "logdesk.desktop"
    assert install.parse_exec(install.read_entry(autostart)["Exec"]) == argv
    # And what it names runs
    done = subprocess.run([*argv, "--version"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60,
                          check=False)
    assert done.returncode == 0 and done.stdout.strip() == "logdesk 0.1.0"


def test_the_installed_logdesk_starts_on_the_sandbox_to_a_painted_window_with_calls(
    installed: Path, tmp_path: Path
) -> None:
    done = subprocess.run([str(installed / "logdesk"), "--sandbox", "--check-start"], capture_output=True,
                          text=True, env=_env(tmp_path), cwd=tmp_path, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("painted ")
    assert '"rows": ' in done.stdout.splitlines()[1]
