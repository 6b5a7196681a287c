# SPDX-License-Identifier: MIT
"""Settings under an administrator's policy: locked settings show a lock and why, cannot be
changed, and are what is saved; the others stay the agent's."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from desktop.app import managed_policy
from desktop.policy import POLICY_ENV
from desktop.ui.settings_dialog import SettingsDialog
from desktop.workers import run_now


def _policy_file(tmp_path: Path, settings: dict[str, object]) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"settings": settings}), encoding="utf-8")
    return path


def test_a_locked_setting_shows_a_lock_and_why_and_is_what_is_saved(
    qtbot, app_context, tmp_path: Path, monkeypatch
) -> None:
    # Given an administrator's policy that locks auto-log and the notes' time zone
    path = _policy_file(tmp_path, {
        "auto_log": {"value": True, "locked": True},
        "notes.time_zone": {"value": "America/Chicago", "locked": True},
        "poll_interval_seconds": {"value": 90},
    })
    monkeypatch.setenv(POLICY_ENV, str(path))
    policy, problem = managed_policy()
    assert problem is None
    app_context.policy = policy
    app_context.settings = policy.apply(app_context.settings, first_start=False)
    app_context.settings_path = tmp_path / "settings.json"
    # When the agent opens Settings
    dialog = SettingsDialog(app_context, submit=run_now)
    qtbot.addWidget(dialog)
    dialog.show()
    why = f"Set by your administrator (policy file {path}); it cannot be changed here."
    # Then the locked ones are disabled, say so and why, and show the policy's values
    assert not dialog.auto_log.isEnabled() and dialog.auto_log.isChecked()
    assert dialog.auto_log.text().endswith("(set by your administrator)")
    assert dialog.auto_log.toolTip() == why and dialog.auto_log.accessibleDescription() == why
    assert not dialog.time_zone.isEnabled() and dialog.time_zone.currentText() == "America/Chicago"
    lock = dialog.findChild(QLabel, "lock_notes.time_zone")
    assert lock is not None and lock.toolTip() == why and not lock.pixmap().isNull()
    # And the others are the agent's to change (a default is not a lock)
    assert dialog.all_at_once.isEnabled() and dialog.poll_interval.isEnabled()
    # When a locked value is changed anyway (the control is disabled: a click does nothing) and saved
    qtbot.mouseClick(dialog.auto_log, Qt.MouseButton.LeftButton)
    assert dialog.auto_log.isChecked()
    dialog.auto_log.setChecked(False)  # as if the widget had been tampered with
    dialog.poll_interval.setValue(45)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    # Then what is saved keeps the lock and the agent's own choice
    saved = json.loads((tmp_path / "settings.json").read_text(encoding="utf-8"))
    assert saved["auto_log"] is True and saved["notes"]["time_zone"] == "America/Chicago"
    assert saved["poll_interval_seconds"] == 45


def test_a_policy_with_errors_is_reported_and_settings_stay_the_agent_s(tmp_path: Path, monkeypatch, caplog) -> None:
    monkeypatch.setenv(POLICY_ENV, str(_policy_file(tmp_path, {"crm.settings.salesforce.client_secret": {
        "value": "s3cret", "locked": True}})))
    policy, problem = managed_policy()
    assert not policy.locked
    assert problem is not None and "was ignored because" in problem
    assert "s3cret" not in problem and "s3cret" not in caplog.text
