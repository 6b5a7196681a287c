# SPDX-License-Identifier: MIT
"""The first run's offer to add Logdesk to the applications menu, asked once.

On a system with a freedesktop menu where Logdesk's entry is not installed yet (by ``logdesk
install-desktop`` or an earlier yes), a banner after start-up asks "Add Logdesk to your
applications menu?". **Add to menu** writes the entry and the icon (:mod:`desktop.install`) and the
banner then asks about start at login; **Start at login** adds the autostart entry. Dismissing the
banner is a no. The offer is remembered as made in the UI state as soon as it is shown, so it is
never asked again; the tray's menu and ``logdesk install-desktop`` remain.

Threading contract: GUI thread only (the files are small; writing them takes a few milliseconds,
the PNG icons a few more).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Signal

if TYPE_CHECKING:
    from desktop.install import LoginItem, MenuEntry
    from desktop.ui.main_window import MainWindow
    from desktop.ui.widgets import Banner

#: QSettings key (UI state): the first-run offer was made.
OFFERED = "desktop/entry_offered"

ASK_MENU = "Add Logdesk to your applications menu, so you can start it like your other apps?"
ASK_LOGIN = "Logdesk is in your applications menu. Start it when you log in, too?"
DONE_LOGIN = "Logdesk will start when you log in. \"Start at login\" in the tray icon's menu turns that off."


class DesktopEntryOffer(QObject):
    """The banner and what its buttons do.

    Signals:
        menu_entry_added(): the entry and the icon are installed.
        start_at_login_added(): the autostart entry is written.
    """

    menu_entry_added = Signal()
    start_at_login_added = Signal()

    def __init__(
        self,
        window: MainWindow,
        *,
        menu_entry: MenuEntry,
        login_item: LoginItem | None,
        command: Callable[[], Sequence[str]],
        login_command: Callable[[], Sequence[str]],
    ) -> None:
        super().__init__(window)
        self._menu_entry = menu_entry
        self._login_item = login_item
        self._command = command
        self._login_command = login_command
        self.banner: Banner = window.add_banner("info", ASK_MENU, action="Add to menu")
        self.banner.action_clicked.connect(self._on_add_clicked)

    def _on_add_clicked(self) -> None:
        self.banner.action_clicked.disconnect(self._on_add_clicked)
        try:
            self._menu_entry.install(self._command())
        except (OSError, ValueError) as exc:
            self._say("warning", f"Logdesk could not add itself to the applications menu: {exc}")
            return
        self.menu_entry_added.emit()
        if self._login_item is None or self._login_item.enabled():
            self._say("info", "Logdesk is in your applications menu.")
            return
        self._say("info", ASK_LOGIN, action="Start at login")
        self.banner.action_clicked.connect(self._on_login_clicked)

    def _on_login_clicked(self) -> None:
        self.banner.action_clicked.disconnect(self._on_login_clicked)
        assert self._login_item is not None
        try:
            self._login_item.enable(self._login_command())
        except OSError as exc:
            self._say("warning", f"Logdesk could not set itself to start at login: {exc}")
            return
        self.start_at_login_added.emit()
        self._say("info", DONE_LOGIN)

    def _say(self, kind: str, text: str, action: str | None = None) -> None:
        self.banner.set_kind(kind)
        self.banner.set_text(text)
        self.banner.action.setText(action or "")
        self.banner.action.setVisible(action is not None)


def offer_desktop_entry(
    window: MainWindow,
    *,
    state: QSettings,
    menu_entry: MenuEntry | None,
    login_item: LoginItem | None,
    command: Callable[[], Sequence[str]] | None = None,
    login_command: Callable[[], Sequence[str]] | None = None,
) -> DesktopEntryOffer | None:
    """Shows the offer if this system has a menu entry to add, it is not there, and the offer was
    never made (None otherwise)."""
    if menu_entry is None or menu_entry.installed() or state.value(OFFERED, False, type=bool):
        return None
    state.setValue(OFFERED, True)
    state.sync()
    from desktop import install

    return DesktopEntryOffer(
        window,
        menu_entry=menu_entry,
        login_item=login_item,
        command=command or install.launcher_command,
        login_command=login_command or install.login_command,
    )
