# SPDX-License-Identifier: MIT
"""Settings: secrets to the secret store only, connect form from the manifest, live note preview."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt

from adapters.base import AuthField, AuthKind, AuthSpec
from desktop.ui.settings_dialog import SettingsDialog
from desktop.workers import run_now


def _dialog(qtbot, app_context, tmp_path):  # type: ignore[no-untyped-def]
    app_context.settings_path = tmp_path / "settings.json"
    dialog = SettingsDialog(app_context, submit=run_now)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_note_preview_follows_the_toggles_and_date_format(qtbot, app_context, tmp_path) -> None:
    dialog = _dialog(qtbot, app_context, tmp_path)
    assert "Asked about the renewal quote" in dialog.preview.toPlainText()
    assert "2026-04-10 03:05:09 PM" in dialog.preview.toPlainText()
    # When the agent turns the agent note off and picks a 24-hour day-first format
    dialog.note_toggles["note"].setChecked(False)
    dialog.date_format.setCurrentIndex(dialog.date_format.findData("DD/MM/YYYY HH:mm:ss"))
    # Then the preview shows it at once
    text = dialog.preview.toPlainText()
    assert "Asked about the renewal quote" not in text
    assert "10/04/2026 15:05:09" in text


def test_unknown_time_zone_is_refused_with_a_message(qtbot, app_context, tmp_path) -> None:
    dialog = _dialog(qtbot, app_context, tmp_path)
    dialog.time_zone.setCurrentText("Mars/Olympus")
    assert "not a known time zone" in dialog.preview_error.text()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and not (tmp_path / "settings.json").exists()


def test_save_writes_options_to_the_file_and_secrets_to_the_store(
    qtbot, app_context, tmp_path, secret_store, monkeypatch
) -> None:
    # Given a CRM whose connect form has a domain and a secret token
    from adapters.crm.local import LocalCrm

    manifest = LocalCrm.manifest.model_copy(update={"auth": AuthSpec(kind=AuthKind.TOKEN, fields=[
        AuthField(key="domain", label="Domain"), AuthField(key="token", label="API token", secret=True)])})
    monkeypatch.setattr(type(app_context.adapter), "manifest", manifest)
    dialog = _dialog(qtbot, app_context, tmp_path)
    dialog.crm_picker.setCurrentIndex(dialog.crm_picker.findData("local"))
    # When the agent fills the generated form, changes options and saves
    dialog.crm_inputs["domain"].setText("acme.example")
    dialog.crm_inputs["token"].setText("tok-SECRET-123")
    dialog.poll_interval.setValue(45)
    dialog.note_toggles["session_id"].setChecked(True)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    # Then the file has the options and not the secret; the store has the secret
    text = (tmp_path / "settings.json").read_text()
    assert "tok-SECRET-123" not in text
    saved = json.loads(text)
    assert saved["crm"]["settings"]["local"] == {"domain": "acme.example"}
    assert saved["poll_interval_seconds"] == 45 and saved["notes"]["session_id"] is True
    assert secret_store.get("local:token") == "tok-SECRET-123"
    # And the running engine composes notes with the new settings
    assert app_context.engine.lifecycle.settings.session_id is True


def test_test_connection_reports_who_we_are(qtbot, app_context, tmp_path) -> None:
    dialog = _dialog(qtbot, app_context, tmp_path)
    dialog.tabs.setCurrentIndex(1)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert dialog.test_result.text().startswith("✓ Connected")


def test_no_keyring_shows_a_banner(qtbot, app_context, tmp_path) -> None:
    dialog = _dialog(qtbot, app_context, tmp_path)
    assert dialog.keyring_banner.isVisible()
    assert "this session only" in dialog.keyring_banner.label.text()


def test_connect_form_is_generated_from_each_crm_s_manifest(qtbot, app_context, tmp_path) -> None:
    from adapters.registry import discover

    dialog = _dialog(qtbot, app_context, tmp_path)
    dialog.tabs.setCurrentIndex(1)
    for info in discover():
        dialog.crm_picker.setCurrentIndex(dialog.crm_picker.findData(info.id))
        # One input per auth field, secrets masked, and a browser sign-in only for OAuth CRMs
        assert set(dialog.crm_inputs) == {f.key for f in info.manifest.auth.fields}
        for field in info.manifest.auth.fields:
            masked = dialog.crm_inputs[field.key].echoMode() != dialog.crm_inputs[field.key].EchoMode.Normal
            assert masked == field.secret
        assert dialog.sign_in_button.isVisible() == (info.manifest.auth.kind is AuthKind.OAUTH_PKCE)


def test_connect_ringcentral_through_the_browser_stores_the_session(
    qtbot, app_context, tmp_path, secret_store, monkeypatch
) -> None:
    import socket
    import threading

    import httpx

    from adapters.ringcentral.sandbox import DESKTOP_CLIENT_ID, SandboxAccount
    from desktop.ui import settings_dialog

    # Given a RingCentral account reachable on loopback, and a "browser" that approves the sign-in
    account = SandboxAccount(seed=3)
    server = account.serve()
    browsers: list[threading.Thread] = []

    def browser(url: str) -> None:
        thread = threading.Thread(target=lambda: httpx.get(url, follow_redirects=True, timeout=10))
        thread.start()
        browsers.append(thread)

    monkeypatch.setattr(settings_dialog, "_open_in_browser", browser)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    app_context.settings.ringcentral = app_context.settings.ringcentral.model_copy(update={"redirect_port": free_port})
    try:
        dialog = _dialog(qtbot, app_context, tmp_path)
        dialog.rc_server.setText(server.url)
        dialog.rc_client_id.setText(DESKTOP_CLIENT_ID)
        # When the agent presses Connect and then Save
        qtbot.mouseClick(dialog.rc_connect, Qt.MouseButton.LeftButton)
        assert dialog.rc_state.text() == "Signed in. Save to keep this session."
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    finally:
        for thread in browsers:
            thread.join(10)
        server.close()
    # Then the session is in the secret store (not the settings file), with the app's client id saved
    stored = secret_store.get("ringcentral:tokens")
    assert stored and "access_token" in stored
    text = (tmp_path / "settings.json").read_text()
    assert json.loads(text)["ringcentral"]["client_id"] == DESKTOP_CLIENT_ID
    assert json.loads(stored)["access_token"] not in text


def test_adapters_are_discovered_once_however_often_settings_opens(qtbot, app_context, tmp_path, monkeypatch) -> None:
    import adapters.registry

    # Given a count of adapter discoveries (each one scans the installed packages' entry points)
    found: list[object] = []
    real = adapters.registry.discover

    def counting(**kwargs):  # type: ignore[no-untyped-def]
        found.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(adapters.registry, "discover", counting)
    # When Settings is opened three times
    dialogs = [_dialog(qtbot, app_context, tmp_path) for _ in range(3)]  # kept: pytest-qt holds weak refs
    pickers = [dialog.crm_picker for dialog in dialogs]
    # Then the adapters were discovered once and every dialog lists them all
    assert len(found) == 1
    listed = {pickers[0].itemData(i) for i in range(pickers[0].count())}
    assert {"salesforce", "clio"} <= listed
    assert all(p.count() == pickers[0].count() for p in pickers)


def test_live_call_options_and_auto_log_apply_without_a_restart(qtbot, app_context, tmp_path) -> None:
    # Given the defaults: the log form opens when a call ends, no call-pop
    dialog = _dialog(qtbot, app_context, tmp_path)
    assert dialog.open_log_on_end.isChecked() and dialog.call_pop.currentData() == "off"
    assert not dialog.call_pop_multiple.isEnabled()
    # When the agent turns on call-pop on answer (all matches), auto-log, and off the form
    dialog.call_pop.setCurrentIndex(dialog.call_pop.findData("answer"))
    assert dialog.call_pop_multiple.isEnabled()
    dialog.call_pop_multiple.setCurrentIndex(dialog.call_pop_multiple.findData("all"))
    dialog.open_log_on_end.setChecked(False)
    dialog.auto_log.setChecked(True)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    # Then they are saved, and in use by the running app at once
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert (saved["call_pop"], saved["call_pop_multiple"], saved["open_log_on_call_end"]) == ("answer", "all", False)
    assert app_context.settings.call_pop == "answer" and app_context.engine.config.auto_log is True
