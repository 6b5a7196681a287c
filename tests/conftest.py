# SPDX-License-Identifier: MIT
"""Root test configuration: offscreen Qt, isolated directories and secrets, strict logs."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--onscreen", action="store_true", help="show Qt windows instead of offscreen")


def pytest_configure(config: pytest.Config) -> None:
    # Once, before any test module imports Qt.
    if not config.getoption("--onscreen"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    # A stray real keyring call fails loudly instead of touching the developer's keychain.
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "qtbot" in fixtures or "qapp" in fixtures:
            item.add_marker(pytest.mark.gui)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every platformdirs path (config, data, state/logs, cache) points into a fresh temp dir."""
    root = tmp_path_factory.mktemp("home")
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "runtime"),
    ):
        (root / sub).mkdir()
        monkeypatch.setenv(var, str(root / sub))
    (root / "runtime").chmod(0o700)
    return root


@pytest.fixture(autouse=True)
def secret_store() -> object:
    """An in-memory secret store; the composition root is given this one in tests."""
    import keyring
    import keyring.backends.fail

    from desktop.secrets import MemorySecretStore

    keyring.set_keyring(keyring.backends.fail.Keyring())
    return MemorySecretStore()


class _LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def fail_on_unexpected_logs(request: pytest.FixtureRequest) -> Iterator[None]:
    """A WARNING or worse logged during a test fails it, unless the test uses ``caplog``."""
    collector = _LogCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    try:
        yield
    finally:
        root.removeHandler(collector)
    if "caplog" in request.fixturenames:
        return
    if collector.records:
        lines = "\n".join(f"{r.levelname} {r.name}: {r.getMessage()}" for r in collector.records)
        pytest.fail(f"unexpected log records at WARNING or above:\n{lines}", pytrace=False)
