# SPDX-License-Identifier: MIT
"""Settings → RingCentral, driven through the widgets: a browser sign-in that never comes back
(an unknown client id leaves the browser on RingCentral's error page) can be cancelled, and closing
Settings cancels it, so the fixed redirect port is free for the next attempt.

RingCentral is the sandbox account served on 127.0.0.1; the dialog runs its jobs on a real thread
pool, as in the app, and the tests wait on the widgets.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from adapters.ringcentral.sandbox import DESKTOP_CLIENT_ID, SandboxAccount
from desktop.ui.settings_dialog import SettingsDialog
from desktop.workers import bind_pool, make_pool
from tests.ui.test_settings_crm_sign_in import WAIT_MS, Browser


def _port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture
def server_url() -> Iterator[str]:
    """A RingCentral account on loopback."""
    server = SandboxAccount(seed=3).serve()
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
def open_dialog(qtbot: Any, app_context: Any, tmp_path: Path) -> Iterator[Callable[[Browser], SettingsDialog]]:
    """Builds Settings with a real ``io`` pool, the given browser and a free fixed redirect port."""
    pool = make_pool("io", 2)
    app_context.settings_path = tmp_path / "settings.json"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app_context.settings.ringcentral = app_context.settings.ringcentral.model_copy(update={"redirect_port": port})

    def make(browser: Browser) -> SettingsDialog:
        dialog = SettingsDialog(app_context, submit=bind_pool(pool), open_url=browser)
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    make.pool = pool  # type: ignore[attr-defined]
    make.port = port  # type: ignore[attr-defined]
    yield make
    assert pool.waitForDone(WAIT_MS)


def _connect(qtbot: Any, dialog: SettingsDialog, server_url: str, client_id: str) -> None:
    dialog.rc_server.setText(server_url)
    dialog.rc_client_id.setText(client_id)
    assert dialog.rc_connect.isEnabled() and dialog.rc_connect.text() == "Connect RingCentral"
    qtbot.mouseClick(dialog.rc_connect, Qt.MouseButton.LeftButton)


def _wait_for_error_page(qtbot: Any, dialog: SettingsDialog, browser: Browser) -> None:
    """The browser shows RingCentral's refusal and never reaches the redirect; the dialog offers Cancel."""
    qtbot.waitUntil(browser.opened.is_set, timeout=WAIT_MS)
    assert browser.pages[0].status_code == 400 and "Invalid client_id" in browser.pages[0].text
    assert dialog.rc_connect.isEnabled() and dialog.rc_connect.text() == "Cancel sign-in"
    assert dialog.rc_state.text() == "Finish signing in in your browser…"


def test_cancelling_a_ringcentral_sign_in_frees_the_redirect_port_for_a_second_sign_in(
    qtbot: Any, open_dialog: Any, server_url: str, secret_store: Any
) -> None:
    # Given a sign-in with a client id RingCentral does not know: the browser never comes back
    browser = Browser()
    dialog = open_dialog(browser)
    _connect(qtbot, dialog, server_url, "not-a-registered-app")
    _wait_for_error_page(qtbot, dialog, browser)
    assert not _port_is_free(open_dialog.port)
    # When the agent presses Cancel sign-in
    qtbot.mouseClick(dialog.rc_connect, Qt.MouseButton.LeftButton)
    assert not dialog.rc_connect.isEnabled()
    qtbot.waitUntil(lambda: dialog.rc_connect.isEnabled(), timeout=WAIT_MS)
    # Then the wait ends at once with a plain message, the button is back and the port is free
    assert dialog.rc_state.text() == "Sign-in was cancelled."
    assert dialog.rc_connect.text() == "Connect RingCentral"
    qtbot.waitUntil(lambda: open_dialog.pool.activeThreadCount() == 0, timeout=WAIT_MS)
    assert _port_is_free(open_dialog.port)
    # When the agent corrects the client id and signs in again on the same redirect port
    _connect(qtbot, dialog, server_url, DESKTOP_CLIENT_ID)
    qtbot.waitUntil(lambda: dialog.rc_state.text() == "Signed in. Save to keep this session.", timeout=WAIT_MS)
    # Then the browser landed on the loopback receiver, and Save stores the new session
    assert len(browser.pages) == 2
    assert browser.pages[1].status_code == 200 and "close this tab" in browser.pages[1].text
    assert browser.pages[1].url.port == open_dialog.port
    assert dialog.rc_connect.isEnabled() and dialog.rc_connect.text() == "Connect RingCentral"
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    stored = secret_store.get("ringcentral:tokens")
    assert stored and "access_token" in stored


def test_closing_settings_while_ringcentral_sign_in_waits_cancels_the_wait(
    qtbot: Any, open_dialog: Any, server_url: str, secret_store: Any
) -> None:
    # Given a RingCentral sign-in waiting for a browser that never comes back
    browser = Browser()
    dialog = open_dialog(browser)
    _connect(qtbot, dialog, server_url, "not-a-registered-app")
    _wait_for_error_page(qtbot, dialog, browser)
    # When the agent closes Settings with the window's close button
    dialog.close()
    assert not dialog.isVisible()
    # Then the waiting job ends at once (not after the five minutes the agent has in the browser),
    # cancelled (its outcome reaches the GUI thread as a queued signal after the job returns), and
    # the redirect port is free again
    qtbot.waitUntil(lambda: open_dialog.pool.activeThreadCount() == 0
                    and dialog.rc_state.text() == "Sign-in was cancelled.", timeout=WAIT_MS)
    assert _port_is_free(open_dialog.port)
    assert secret_store.get("ringcentral:tokens") is None
