# SPDX-License-Identifier: MIT
"""The first run's offer to add Logdesk to the applications menu: asked once, and its two
answers write the real files (XDG_DATA_HOME and XDG_CONFIG_HOME point into a temp dir)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from desktop import install
from desktop.ui.desktop_offer import ASK_LOGIN, ASK_MENU, DONE_LOGIN, OFFERED, offer_desktop_entry


@pytest.fixture
def state(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)


def _offer(window, state: QSettings):  # type: ignore[no-untyped-def]
    return offer_desktop_entry(window, state=state, menu_entry=install.MenuEntry(), login_item=install.XdgAutostart(),
                               command=lambda: ["/opt/Logdesk/logdesk"], login_command=lambda: ["/opt/Logdesk/logdesk"])


def test_a_first_run_offers_the_menu_entry_then_start_at_login(qtbot, main, state, isolated_dirs: Path) -> None:  # type: ignore[no-untyped-def]
    # Given a first run on a desktop where Logdesk is not in the menu
    offer = _offer(main.window, state)
    # Then a banner asks
    assert offer is not None
    qtbot.waitUntil(offer.banner.isVisible, timeout=2000)
    assert offer.banner.label.text() == ASK_MENU and offer.banner.action.text() == "Add to menu"
    # When the agent adds it
    with qtbot.waitSignal(offer.menu_entry_added, timeout=2000):
        offer.banner.action.click()
    # Then the entry and the icon are installed, starting this Logdesk
    entry = isolated_dirs / "data" / "applications" / "logdesk.desktop"
    assert install.parse_exec(install.read_entry(entry)["Exec"]) == ["/opt/Logdesk/logdesk"]
    assert (isolated_dirs / "data" / "icons" / "hicolor" / "48x48" / "apps" / "logdesk.png").is_file()
    # And the banner asks about start at login
    assert offer.banner.label.text() == ASK_LOGIN and offer.banner.action.text() == "Start at login"
    with qtbot.waitSignal(offer.start_at_login_added, timeout=2000):
        offer.banner.action.click()
    autostart = isolated_dirs / "config" / "autostart" / "logdesk.desktop"
    assert install.parse_exec(install.read_entry(autostart)["Exec"]) == ["/opt/Logdesk/logdesk"]
    assert offer.banner.label.text() == DONE_LOGIN and not offer.banner.action.isVisibleTo(offer.banner)


def test_the_offer_is_made_once_even_when_dismissed(qtbot, main, state, isolated_dirs: Path) -> None:  # type: ignore[no-untyped-def]
    offer = _offer(main.window, state)
    assert offer is not None
    offer.banner.hide()  # the agent dismissed it
    assert state.value(OFFERED, False, type=bool)
    # The next start does not ask again, and nothing was installed
    assert _offer(main.window, state) is None
    assert not (isolated_dirs / "data" / "applications" / "logdesk.desktop").exists()


def test_no_offer_when_the_entry_is_installed_already_or_the_system_has_no_menu(main, state) -> None:  # type: ignore[no-untyped-def]
    assert offer_desktop_entry(main.window, state=state, menu_entry=None, login_item=None) is None
    install.MenuEntry().install(["/opt/Logdesk/logdesk"])
    assert _offer(main.window, state) is None
    assert not state.value(OFFERED, False, type=bool)


def test_a_menu_folder_that_cannot_be_written_is_said_in_the_banner(qtbot, main, state, isolated_dirs: Path) -> None:  # type: ignore[no-untyped-def]
    # Given XDG_DATA_HOME's applications folder is a file
    (isolated_dirs / "data" / "applications").write_text("not a folder")
    offer = _offer(main.window, state)
    assert offer is not None
    with qtbot.assertNotEmitted(offer.menu_entry_added):
        offer.banner.action.click()
    assert offer.banner.property("banner") == "warning"
    assert offer.banner.label.text().startswith("Logdesk could not add itself to the applications menu:")
