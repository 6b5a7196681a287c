# SPDX-License-Identifier: MIT
"""Where Logdesk keeps its files: platformdirs, one function per kind of file."""

from __future__ import annotations

from pathlib import Path

import platformdirs

from desktop import APP_NAME


def _dirs() -> platformdirs.PlatformDirs:
    return platformdirs.PlatformDirs(APP_NAME, appauthor=False, ensure_exists=True)


def config_dir() -> Path:
    """Settings (``settings.json``). Never secrets."""
    return Path(_dirs().user_config_dir)


def data_dir() -> Path:
    """The SQLite databases: calls, drafts, outbox, the Local CRM."""
    return Path(_dirs().user_data_dir)


def log_dir() -> Path:
    return Path(_dirs().user_log_dir)


def cache_dir() -> Path:
    """Downloaded recordings and other files that can be fetched again."""
    return Path(_dirs().user_cache_dir)
