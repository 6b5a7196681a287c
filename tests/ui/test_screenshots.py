# SPDX-License-Identifier: MIT
"""Renders the main window and every dialog offscreen to PNG files (the README shows the first).

Set ``LOGDESK_SCREENSHOT_DIR`` to keep the files (``docs/`` refreshes the README's screenshot).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from desktop.ui.call_table_model import LogStatus
from desktop.ui.edit_dialog import EditDialog
from desktop.ui.log_dialog import LogDialog
from desktop.ui.resources import app_stylesheet
from desktop.ui.settings_dialog import SettingsDialog
from desktop.ui.widgets import Banner
from desktop.workers import run_now


def _save(widget: QWidget, path: Path) -> Path:
    widget.grab().save(str(path))
    image = QImage(str(path))
    # Then a real picture came out: the size of the widget, and not one flat colour.
    assert image.width() == widget.width() and image.height() == widget.height()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 23)}
    assert len(colours) > 8
    return path


def test_main_window_and_dialogs_render_to_png(qtbot, main, busy_day, app_context, tmp_path: Path) -> None:
    # Given the styled app on a morning of sandbox calls
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    app.setStyleSheet(app_stylesheet())
    window = main.window
    window.resize(1180, 660)
    shots: list[Path] = []
    # And a call in progress: the strip with the caller, the timer and the agent's notes so far
    from datetime import timedelta

    from tests.live_events import LiveScript

    live = LiveScript(extension_id=app_context.engine.config.extension_id, tsid="s-shot0001z0000",
                      session_id="5550100001", caller="+13035550164")
    now = app_context.clock()
    for code, ago in (("Setup", 108), ("Answered", 102)):
        recording = [{"id": "7001", "active": True}] if code == "Answered" else None
        change = app_context.engine.live_event(live.event(code, now - timedelta(seconds=ago), recordings=recording))
        assert change is not None
        main.live.on_live_changed(change)
    window.live_strip.note.setPlainText("Wants to move the Thursday delivery to Friday; check the $1 fee waiver.")
    window.set_push_status("● Live call events", live=True)
    # Then the main window shows logged, pending and unlogged calls
    states = {item.status for item in window.model.items()}
    assert {LogStatus.LOGGED, LogStatus.UNLOGGED} <= states
    for banner in window.findChildren(Banner):
        if banner.isVisible() and banner.closable:
            banner.hide()  # the agent dismissed the session-only keyring notice
    app.processEvents()  # let the layout close the gap
    first = window.proxy.item_at(0)
    assert first is not None
    window.select_call(first.call_id)
    shots.append(_save(window, tmp_path / "screenshot.png"))

    # The log dialog, on an unlogged call with a matched contact
    unlogged = next(i for i in window.proxy.visible_items() if i.status is LogStatus.UNLOGGED and i.contact_name)
    dialog = main.open_log(unlogged)
    assert isinstance(dialog, LogDialog)
    dialog.note.setPlainText("Asked for a callback about the invoice on Monday.")
    shots.append(_save(dialog, tmp_path / "log-dialog.png"))
    dialog.close()

    # The editor, on a logged call
    logged = next(i for i in window.model.items() if i.status is LogStatus.LOGGED)
    editor = main.open_edit(logged)
    assert isinstance(editor, EditDialog)
    assert editor.note.toPlainText()
    shots.append(_save(editor, tmp_path / "edit-dialog.png"))
    editor.close()

    # Settings, every tab
    settings = SettingsDialog(app_context, submit=run_now, parent=window)
    qtbot.addWidget(settings)
    settings.show()
    for index, name in enumerate(("ringcentral", "crm", "note", "logging")):
        settings.tabs.setCurrentIndex(index)
        shots.append(_save(settings, tmp_path / f"settings-{name}.png"))

    keep = os.environ.get("LOGDESK_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, Path(keep) / shot.name)
