# SPDX-License-Identifier: MIT
"""The guide's sandbox rehearsal on a computer without a system keyring: the plug-in CRM's token
is asked for when the sandbox starts, kept in memory for the session, and never written down."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit

from adapters.base import AuthField
from adapters.crm.local import LocalCrm
from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, preset
from adapters.template.acme import AcmeAdapter
from adapters.template.acme_fake import TEST_TOKEN, FakeAcmeServer
from desktop.app import SANDBOX_CRM_ENV, ask_with_dialog, prepare_sandbox_crm, sandbox_context
from desktop.secrets import MemorySecretStore, SessionSecretStore
from desktop.settings import AppSettings
from desktop.ui.session_secrets_dialog import SessionSecretsDialog

TOKEN_FIELD = AuthField(key="api_token", label="API token", secret=True, help="Acme → Settings → API")


@pytest.fixture
def acme_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The template adapter installed as the third-party adapter ``acme``, named by the option."""
    info = tmp_path / "site" / "logdesk_acme-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: logdesk-acme\nVersion: 0.1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[logdesk.adapters]\nacme = adapters.template.acme:AcmeAdapter\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setenv(SANDBOX_CRM_ENV, "acme")
    yield


@pytest.fixture
def fake_url() -> Iterator[str]:
    fake = FakeAcmeServer()
    fake.seed_demo()
    with fake.serve() as url:
        yield url


def _account() -> SandboxAccount:
    scenario = preset("happy", demo=True)
    scenario = replace(scenario, history=0, delays=replace(scenario.delays, call_interval=None))
    return SandboxAccount(clock=ManualClock(), scenario=scenario, seed=7)


def _answer_the_dialog(qtbot: Any, token: str | None, seen: list[SessionSecretsDialog]) -> None:
    """Once the start-up dialog is up: type ``token`` and press Start (``None``: decline)."""

    def answer() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, SessionSecretsDialog)
        seen.append(dialog)
        if token is None:
            qtbot.mouseClick(dialog.local_button, Qt.MouseButton.LeftButton)
            return
        qtbot.keyClicks(dialog.inputs["api_token"], token)
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, answer)


def test_the_dialog_asks_for_each_missing_secret_hidden_and_starts_once_all_are_filled(qtbot: Any) -> None:
    second = AuthField(key="signing_key", label="Signing key", secret=True)
    dialog = SessionSecretsDialog("Acme CRM", "acme", [TOKEN_FIELD, second], persistent_store=False)
    qtbot.addWidget(dialog)
    assert "no system keyring" in dialog.intro.text() and "never written to disk" in dialog.intro.text()
    assert all(edit.echoMode() is QLineEdit.EchoMode.Password for edit in dialog.inputs.values())
    assert not dialog.start_button.isEnabled()
    qtbot.keyClicks(dialog.inputs["api_token"], "  tok-1 ")
    assert not dialog.start_button.isEnabled()
    qtbot.keyClicks(dialog.inputs["signing_key"], "key-2")
    assert dialog.start_button.isEnabled()
    assert dialog.values() == {"api_token": "tok-1", "signing_key": "key-2"}


def test_without_a_keyring_the_sandbox_asks_for_the_token_and_logs_into_the_plugin(
    qtbot: Any, acme_plugin: None, fake_url: str, tmp_path: Path
) -> None:
    # Given no system keyring (memory only, empty after a restart) and the API address saved in Settings
    base = MemorySecretStore()
    secrets = SessionSecretStore(base)
    settings = AppSettings()
    settings.crm.settings["acme"] = {"api_base_url": fake_url}
    settings_file = tmp_path / "settings.json"
    data_dir = tmp_path / "data" / "sandbox"
    # When the sandbox starts with LOGDESK_SANDBOX_CRM=acme and the developer types the token
    seen: list[SessionSecretsDialog] = []
    _answer_the_dialog(qtbot, TEST_TOKEN, seen)
    use_crm, warning = prepare_sandbox_crm(secrets, ask=ask_with_dialog(secrets))
    # Then the dialog asked for the API token, saying why and that it stays in memory
    [dialog] = seen
    assert list(dialog.inputs) == ["api_token"]
    assert "LOGDESK_SANDBOX_CRM=acme" in dialog.intro.text() and "no system keyring" in dialog.intro.text()
    assert (use_crm, warning) == (True, None)
    ctx = sandbox_context(data_dir, secrets, settings, account=_account(), use_developer_crm=use_crm)
    try:
        # And the sandbox logs into the plug-in's fake with it
        assert isinstance(ctx.adapter, AcmeAdapter)
        assert ctx.adapter.verify() == "Dana Agent"
        settings.save(settings_file)
    finally:
        ctx.close()
    # And its engine database is sandbox/engine-acme.sqlite3 under the data folder
    assert (data_dir / "engine-acme.sqlite3").exists()
    # And the token lives for this session only: not in the store behind it, not on disk
    assert secrets.get("acme:api_token") == TEST_TOKEN
    assert base.get("acme:api_token") is None
    assert TEST_TOKEN in secrets.values()  # so the log filter redacts it
    for path in [settings_file, *data_dir.rglob("*")]:
        if path.is_file():
            assert TEST_TOKEN.encode() not in path.read_bytes(), f"the token was written to {path}"


def test_declining_keeps_the_local_crm_and_says_why(qtbot: Any, acme_plugin: None, tmp_path: Path) -> None:
    secrets = SessionSecretStore(MemorySecretStore())
    seen: list[SessionSecretsDialog] = []
    _answer_the_dialog(qtbot, None, seen)
    use_crm, warning = prepare_sandbox_crm(secrets, ask=ask_with_dialog(secrets))
    assert len(seen) == 1
    assert use_crm is False
    assert warning == "LOGDESK_SANDBOX_CRM=acme: no API token was given, so the sandbox logs into the Local CRM."
    ctx = sandbox_context(tmp_path, secrets, AppSettings(), account=_account(), use_developer_crm=use_crm)
    try:
        assert isinstance(ctx.adapter, LocalCrm)
    finally:
        ctx.close()


def test_a_stored_token_is_used_without_asking(acme_plugin: None) -> None:
    base = MemorySecretStore()
    base.set("acme:api_token", TEST_TOKEN)

    def ask(manifest: object, fields: list[AuthField]) -> dict[str, str] | None:
        raise AssertionError("asked although the token is stored")

    assert prepare_sandbox_crm(SessionSecretStore(base), ask=ask) == (True, None)


def test_nothing_is_asked_without_the_developer_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SANDBOX_CRM_ENV, raising=False)

    def ask(manifest: object, fields: list[AuthField]) -> dict[str, str] | None:
        raise AssertionError("asked without LOGDESK_SANDBOX_CRM")

    assert prepare_sandbox_crm(SessionSecretStore(MemorySecretStore()), ask=ask) == (True, None)


_ENTRY = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from desktop.app import run_app
from desktop.ui.main_window import MainWindow
from desktop.ui.session_secrets_dialog import SessionSecretsDialog

def tick():
    app = QApplication.instance()
    dialog = app.activeModalWidget()
    if isinstance(dialog, SessionSecretsDialog):
        print("asked " + ",".join(dialog.inputs), flush=True)
        dialog.inputs["api_token"].setText(sys.argv[1])
        dialog.start_button.click()
        return
    for w in app.topLevelWidgets():
        if isinstance(w, MainWindow) and w.calls_installed and w.model.rowCount() > 0:
            print("connection " + w.connection_label.text(), flush=True)
            w.close()

def painted():
    timer = QTimer(QApplication.instance())
    timer.timeout.connect(tick)
    timer.start(100)

sys.exit(run_app(sandbox=True, on_first_paint=painted))
"""


def test_logdesk_sandbox_without_a_keyring_asks_for_the_plugins_token_at_start_up(
    acme_plugin: None, fake_url: str, tmp_path: Path
) -> None:
    """``LOGDESK_SANDBOX_CRM=acme logdesk --sandbox`` for real, in its own process, with no
    keyring: the dialog asks for the token, the sandbox starts on the plug-in, the token is
    nowhere on disk afterwards."""
    import os
    import subprocess
    import sys

    from desktop import paths
    from desktop.settings import default_path

    settings = AppSettings()
    settings.crm.settings["acme"] = {"api_base_url": fake_url}
    settings.save(default_path())
    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(root)]),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    done = subprocess.run(
        [sys.executable, "-c", _ENTRY, TEST_TOKEN], cwd=root, env=env, capture_output=True, text=True, timeout=90
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "asked api_token" in lines
    assert any(line.startswith("connection ") and line.endswith("Acme CRM") for line in lines), lines
    assert (paths.data_dir() / "sandbox" / "engine-acme.sqlite3").exists()
    for folder in (paths.data_dir(), paths.config_dir(), paths.log_dir()):
        for path in folder.rglob("*"):
            if path.is_file():
                assert TEST_TOKEN.encode() not in path.read_bytes(), f"the token was written to {path}"
