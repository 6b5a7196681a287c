# SPDX-License-Identifier: MIT
"""The tray icon, and what closing the window does when there is one.

Agents keep Logdesk open all day, so closing the window hides it and Logdesk keeps logging from
the tray (the setting ``close_to_tray``, on by default; the first time, a tray message says so and
how to quit). The tray's menu: Show Logdesk, Keep running when the window is closed (the setting),
Start at login (where the system has a way, :mod:`desktop.install`), Quit Logdesk. Ctrl+Q in the
window quits too. Where the desktop has no system tray (:func:`make_tray` returns None) nothing
changes: closing the window quits, as Qt does when the last window closes.

Threading contract: GUI thread only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtWidgets import QApplication, QMenu, QSystemTrayIcon

from desktop.ui.resources import icon

if TYPE_CHECKING:
    from collections.abc import Sequence

    from desktop.install import LoginItem
    from desktop.settings import AppSettings
    from desktop.ui.main_window import MainWindow

#: QSettings key (UI state): the "still running in the tray" message was shown once.
CLOSE_EXPLAINED = "tray/close_explained"
MESSAGE_MS = 10_000

CLOSED_TITLE = "Logdesk is still running"
CLOSED_TEXT = (
    "Closing the window keeps Logdesk logging your calls from here. To quit, choose Quit Logdesk "
    "in this icon's menu (or press Ctrl+Q in the window); untick \"Keep running when the window is "
    "closed\" there to make closing quit."
)


class TrayController(QObject):
    """The tray icon and its menu; makes closing the window hide it while the setting is on.

    Args:
        window: the main window.
        settings: the current settings (the settings dialog may replace the object).
        save_settings: writes the settings after the tray changed one.
        state: UI state (``QSettings``) for the one-time message.
        quit: quits the application (the window has closed for good).
        login_item: start at login on this system (None: the menu has no such entry).
        login_command: what starts Logdesk at login.

    Signals:
        message_shown(str, str): a tray message was shown (title, text).
    """

    message_shown = Signal(str, str)

    def __init__(
        self,
        window: MainWindow,
        *,
        settings: Callable[[], AppSettings],
        save_settings: Callable[[AppSettings], None],
        state: QSettings,
        quit: Callable[[], None],
        login_item: LoginItem | None = None,
        login_command: Callable[[], Sequence[str]] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self._settings = settings
        self._save_settings = save_settings
        self._state = state
        self._quit = quit
        self._quit_called = False
        self._login_item = login_item
        self._login_command = login_command
        self.icon = QSystemTrayIcon(icon("logdesk"), window)
        self.icon.setToolTip("Logdesk")
        self.menu = QMenu(window)
        self.act_show = self.menu.addAction("Show Logdesk")
        self.act_show.triggered.connect(self.show_window)
        self.menu.addSeparator()
        self.act_keep = self.menu.addAction("Keep running when the window is closed")
        self.act_keep.setCheckable(True)
        self.act_keep.toggled.connect(self._on_keep_toggled)
        self.act_login = self.menu.addAction("Start at login")
        self.act_login.setCheckable(True)
        self.act_login.setVisible(login_item is not None)
        self.act_login.toggled.connect(self._on_login_toggled)
        self.menu.addSeparator()
        self.act_quit = self.menu.addAction("Quit Logdesk")
        self.act_quit.triggered.connect(window.quit)
        self.menu.aboutToShow.connect(self.refresh_menu)
        self.refresh_menu()
        self.icon.setContextMenu(self.menu)
        window.hide_on_close = self._keeps_running
        window.closed_to_tray.connect(self._on_closed_to_tray)
        window.closing.connect(self._on_closing)
        self.icon.show()

    def refresh_menu(self) -> None:
        """The check marks from what is true now (the settings dialog or the command line may
        have changed either)."""
        for action, checked in (
            (self.act_keep, self._settings().close_to_tray),
            (self.act_login, self._login_item is not None and self._login_item.enabled()),
        ):
            action.blockSignals(True)
            action.setChecked(checked)
            action.blockSignals(False)

    def show_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def show_message(self, title: str, text: str) -> None:
        self.icon.showMessage(title, text, icon("logdesk"), MESSAGE_MS)
        self.message_shown.emit(title, text)

    def _keeps_running(self) -> bool:
        return self.icon.isVisible() and self._settings().close_to_tray

    def _on_closed_to_tray(self) -> None:
        if self._state.value(CLOSE_EXPLAINED, False, type=bool):
            return
        self._state.setValue(CLOSE_EXPLAINED, True)
        self._state.sync()
        self.show_message(CLOSED_TITLE, CLOSED_TEXT)

    def _on_closing(self) -> None:
        if not self._quit_called:
            self._quit_called = True
            self.icon.hide()
            self._quit()

    def _on_keep_toggled(self, checked: bool) -> None:
        settings = self._settings()
        settings.close_to_tray = checked
        self._save_settings(settings)

    def _on_login_toggled(self, checked: bool) -> None:
        item = self._login_item
        if item is None:
            return
        if checked:
            from desktop.install import login_command

            item.enable((self._login_command or login_command)())
        else:
            item.disable()


def make_tray(
    app: QApplication,
    window: MainWindow,
    *,
    settings: Callable[[], AppSettings],
    save_settings: Callable[[AppSettings], None],
    login_item: LoginItem | None,
    state: QSettings | None = None,
    available: bool | None = None,
) -> TrayController | None:
    """The tray, if the desktop has a system tray (``available`` overrides the question); then
    the window's close no longer quits by itself and the tray quits the app. None: no tray, and
    closing the window quits as before."""
    if available is None:
        available = QSystemTrayIcon.isSystemTrayAvailable()
    if not available:
        return None
    app.setQuitOnLastWindowClosed(False)
    return TrayController(
        window,
        settings=settings,
        save_settings=save_settings,
        state=state if state is not None else QSettings("Logdesk", "ui"),
        quit=app.quit,
        login_item=login_item,
    )
