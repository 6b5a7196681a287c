# SPDX-License-Identifier: MIT
"""Where Logdesk keeps its files, one function per kind of file.

On Linux and the BSDs the XDG base directories are read here directly (the same rules as
platformdirs, which ``tests/desktop/test_paths.py`` checks): the window asks for the data directory
before its first paint, and importing platformdirs costs more than the rest of this module. Other
systems ask platformdirs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from desktop import APP_NAME

_XDG = sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd"))

# (environment variable, default under the home directory, sub-directory under it)
_XDG_DIRS = {
    "config": ("XDG_CONFIG_HOME", ".config", ""),
    "data": ("XDG_DATA_HOME", ".local/share", ""),
    "log": ("XDG_STATE_HOME", ".local/state", "log"),
    "cache": ("XDG_CACHE_HOME", ".cache", ""),
}


def _dir(kind: str) -> Path:
    if _XDG:
        var, default, sub = _XDG_DIRS[kind]
        base = os.environ.get(var, "").strip() or os.path.expanduser(f"~/{default}")
        path = Path(base) / APP_NAME / sub if sub else Path(base) / APP_NAME
    else:
        import platformdirs

        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        path = Path(getattr(dirs, f"user_{kind}_dir"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """Settings (``settings.json``). Never secrets."""
    return _dir("config")


def data_dir() -> Path:
    """The SQLite databases: calls, drafts, outbox, the Local CRM."""
    return _dir("data")


def log_dir() -> Path:
    return _dir("log")


def cache_dir() -> Path:
    """Downloaded recordings and other files that can be fetched again."""
    return _dir("cache")
