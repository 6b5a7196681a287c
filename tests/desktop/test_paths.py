# SPDX-License-Identifier: MIT
"""Logdesk's own reading of the XDG base directories gives the paths platformdirs would."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from desktop import APP_NAME, paths

pytestmark = pytest.mark.skipif(not paths._XDG, reason="platformdirs itself is used on this system")

_VARS = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")


def _platformdirs() -> dict[str, Path]:
    dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
    return {
        "config": Path(dirs.user_config_dir),
        "data": Path(dirs.user_data_dir),
        "log": Path(dirs.user_log_dir),
        "cache": Path(dirs.user_cache_dir),
    }


def _ours() -> dict[str, Path]:
    return {"config": paths.config_dir(), "data": paths.data_dir(), "log": paths.log_dir(), "cache": paths.cache_dir()}


@pytest.mark.parametrize("setting", ["set", "unset", "empty", "blank"])
def test_each_directory_is_where_platformdirs_puts_it(
    setting: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in _VARS:
        if setting == "set":
            monkeypatch.setenv(var, str(tmp_path / var.lower()))
        elif setting == "unset":
            monkeypatch.delenv(var, raising=False)
        else:
            monkeypatch.setenv(var, "" if setting == "empty" else "  ")
    assert _ours() == _platformdirs()


def test_the_directories_are_made_when_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "fresh" / "data"))
    assert paths.data_dir().is_dir()


def test_the_window_does_not_import_platformdirs_to_find_its_files() -> None:
    import subprocess

    code = "import sys; from desktop import paths; paths.data_dir(); print('platformdirs' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "False"
