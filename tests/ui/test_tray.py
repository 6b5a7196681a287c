# SPDX-License-Identifier: MIT
"""The tray: closing the window hides it (the first time, a message says so), the tray's menu
shows it again or quits; with the setting off, or with no system tray, closing quits."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication

from desktop import install
from desktop.settings import AppSettings, load_settings
from desktop.ui.tray import CLOSE_EXPLAINED, CLOSED_TITLE, TrayController, make_tray

# WORKAROUND for https://bugreports.qt.io/browse/QTBUG-98034 (and friends): the offscreen platform
# has no tray host, so Qt's X11 tray code runs and warns once while showing the icon.
pytestmark = pytest.mark.qt_log_ignore("No such signal QPlatformNativeInterface::systemTrayWindowChanged")


class Quits:
    """Stands in for ``QApplication.quit`` (the test's application must keep running)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


@pytest.fixture
def tray(main, app_context, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A tray over the sandbox's main window, its settings saved to a file, its one-time state in
    its own QSettings file, start at login through the XDG autostart folder of this test."""
    settings_path = tmp_path / "settings.json"
    app_context.settings_path = settings_path
    quits = Quits()
    controller = TrayController(
        main.window,
        settings=lambda: app_context.settings,
        save_settings=lambda s: s.save(settings_path),
        state=QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat),
        quit=quits,
        login_item=install.XdgAutostart(),
        login_command=lambda: ["/opt/Logdesk/logdesk"],
    )
    controller.quits = quits
    yield controller
    controller.icon.hide()


def test_closing_the_window_hides_it_in_the_tray_and_says_so_the_first_time(qtbot, tray) -> None:  # type: ignore[no-untyped-def]
    window = tray.window
    # Given the window on screen with the tray icon shown
    assert window.isVisible() and tray.icon.isVisible()
    # When the agent closes it
    with qtbot.waitSignal(tray.message_shown, timeout=2000) as shown, qtbot.assertNotEmitted(window.closing):
        assert window.close() is False
    # Then it is hidden, Logdesk still runs, and the tray says how to quit
    assert not window.isVisible()
    assert tray.quits.count == 0
    assert shown.args[0] == CLOSED_TITLE and "Quit Logdesk" in shown.args[1]
    assert tray._state.value(CLOSE_EXPLAINED, False, type=bool)
    # When it is shown from the tray's menu and closed again
    tray.act_show.trigger()
    assert window.isVisible()
    with qtbot.assertNotEmitted(tray.message_shown):
        window.close()
    # Then it hides again without the message
    assert not window.isVisible() and tray.quits.count == 0


def test_the_tray_menu_quit_closes_the_window_for_good_and_quits(qtbot, tray) -> None:  # type: ignore[no-untyped-def]
    window = tray.window
    window.close()
    assert not window.isVisible()
    # When Quit is chosen in the tray's menu
    with qtbot.waitSignal(window.closing, timeout=2000):
        tray.act_quit.trigger()
    # Then the app quits once, and the icon is gone
    assert tray.quits.count == 1
    assert not tray.icon.isVisible()


def test_ctrl_q_in_the_window_quits_even_with_the_tray(qtbot, tray) -> None:  # type: ignore[no-untyped-def]
    window = tray.window
    with qtbot.waitActive(window):
        window.activateWindow()
    with qtbot.waitSignal(window.closing, timeout=2000):
        qtbot.keyClick(window.table, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert tray.quits.count == 1 and not window.isVisible()


def test_with_the_setting_off_closing_the_window_quits(qtbot, tray, app_context) -> None:  # type: ignore[no-untyped-def]
    # Given "Keep running when the window is closed" unticked in the tray's menu
    tray.refresh_menu()
    assert tray.act_keep.isChecked()
    tray.act_keep.trigger()
    # Then the setting is off and saved
    assert not app_context.settings.close_to_tray
    assert load_settings(app_context.settings_path)[0].close_to_tray is False
    # When the window is closed
    with qtbot.waitSignal(tray.window.closing, timeout=2000), qtbot.assertNotEmitted(tray.message_shown):
        tray.window.close()
    # Then Logdesk quits
    assert tray.quits.count == 1 and not tray.window.isVisible()


def test_start_at_login_in_the_tray_menu_writes_and_removes_the_autostart_entry(tray, isolated_dirs: Path) -> None:  # type: ignore[no-untyped-def]
    autostart = isolated_dirs / "config" / "autostart" / "logdesk.desktop"
    tray.refresh_menu()
    assert tray.act_login.isVisible() and not tray.act_login.isChecked()
    tray.act_login.trigger()
    assert install.parse_exec(install.read_entry(autostart)["Exec"]) == ["/opt/Logdesk/logdesk"]
    # The menu shows what is on disk, also after the command line changed it
    autostart.unlink()
    tray.menu.aboutToShow.emit()
    assert not tray.act_login.isChecked()
    tray.act_login.trigger()
    assert autostart.is_file()
    tray.act_login.trigger()
    assert not autostart.exists()


def test_without_a_system_tray_there_is_no_tray_and_closing_the_window_quits(qtbot, main, app_context) -> None:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    # Given a desktop without a system tray
    tray = make_tray(app, main.window, settings=lambda: AppSettings(), save_settings=lambda s: None,
                     login_item=None, available=False)
    # Then there is no tray, and Qt still quits when the last window closes
    assert tray is None
    assert main.window.hide_on_close is None
    assert app.quitOnLastWindowClosed()
    # When the window is closed, it closes for good (the last window: Qt quits the app, as
    # tests/ui/test_app.py::test_logdesk_sandbox_starts_shows_calls_and_shuts_down sees for real,
    # offscreen, where there is no system tray)
    with qtbot.waitSignal(main.window.closing, timeout=2000):
        assert main.window.close() is True
    assert not main.window.isVisible()


def test_with_a_system_tray_the_last_window_closing_no_longer_quits_by_itself(main) -> None:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    try:
        tray = make_tray(app, main.window, settings=lambda: AppSettings(), save_settings=lambda s: None,
                         login_item=None, available=True)
        assert isinstance(tray, TrayController)
        assert not app.quitOnLastWindowClosed()  # the tray quits, once the window closed for good
        assert not tray.act_login.isVisible()  # no start-at-login entry where the system has none
        tray.icon.hide()
    finally:
        app.setQuitOnLastWindowClosed(True)


def test_a_tray_is_made_exactly_when_qt_says_the_desktop_has_one(main) -> None:  # type: ignore[no-untyped-def]
    # (Offscreen, Qt says there is none; with --onscreen on a desktop with a tray, there is one.)
    from PySide6.QtWidgets import QSystemTrayIcon

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    try:
        tray = make_tray(app, main.window, settings=lambda: AppSettings(), save_settings=lambda s: None,
                         login_item=None)
        assert (tray is not None) == QSystemTrayIcon.isSystemTrayAvailable()
        assert app.quitOnLastWindowClosed() == (tray is None)
        if tray is not None:
            tray.icon.hide()
    finally:
        app.setQuitOnLastWindowClosed(True)


def test_keeping_running_in_the_tray_is_a_setting_in_settings_too(qtbot, tray, app_context) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    from desktop.ui.settings_dialog import SettingsDialog
    from desktop.workers import run_now

    # Given Settings open on the Logging page, the box ticked as the setting is
    dialog = SettingsDialog(app_context, submit=run_now)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.close_to_tray.isChecked()
    # When the agent unticks it and saves
    dialog.close_to_tray.setChecked(False)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    # Then it is saved, the tray's menu says so, and closing the window quits
    assert load_settings(app_context.settings_path)[0].close_to_tray is False
    tray.refresh_menu()
    assert not tray.act_keep.isChecked()
    with qtbot.waitSignal(tray.window.closing, timeout=2000):
        tray.window.close()
    assert tray.quits.count == 1
