# SPDX-License-Identifier: MIT
"""Settings → CRM → Salesforce, driven through the widgets: the browser sign-in (PKCE, loopback
redirect) against the fake org served on 127.0.0.1, Test connection, and refused sign-ins.

The dialog runs its jobs on a real thread pool, as in the app; the tests wait on the widgets.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt

from desktop.ui.settings_dialog import SettingsDialog
from desktop.workers import bind_pool, make_pool
from tests.fakes.salesforce import DEFAULT_CLIENT_ID, SalesforceFake, served
from tests.ui.conftest import free_loopback_port

WAIT_MS = 15_000


class Browser:
    """Plays the system browser: GETs the authorize page from the fake org and follows its redirect
    to the loopback receiver. Called on the sign-in job's thread, like ``webbrowser.open``."""

    def __init__(self) -> None:
        self.pages: list[httpx.Response] = []
        self.opened = threading.Event()

    def __call__(self, url: str) -> None:
        with httpx.Client(follow_redirects=True, timeout=10.0) as browser:
            self.pages.append(browser.get(url))
        self.opened.set()


@pytest.fixture
def open_dialog(qtbot: Any, app_context: Any, tmp_path: Path) -> Iterator[Callable[[Browser], SettingsDialog]]:
    """Builds Settings over the sandbox context with a real ``io`` pool and the given browser."""
    pool = make_pool("io", 2)
    app_context.settings_path = tmp_path / "settings.json"
    port = free_loopback_port()  # one per test: the same port for every dialog it opens

    def make(browser: Browser) -> SettingsDialog:
        dialog = SettingsDialog(app_context, submit=bind_pool(pool), open_url=browser, crm_redirect_port=port)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.tabs.setCurrentIndex(1)  # CRM
        return dialog

    make.pool = pool  # type: ignore[attr-defined]
    yield make
    assert pool.waitForDone(WAIT_MS)


def _choose_salesforce(qtbot: Any, dialog: SettingsDialog, login_host: str, client_id: str) -> None:
    qtbot.keyClicks(dialog.crm_picker, "Salesforce")
    assert dialog.current_adapter_id() == "salesforce"
    for key, value in (("login_host", login_host), ("client_id", client_id)):
        dialog.crm_inputs[key].clear()
        qtbot.keyClicks(dialog.crm_inputs[key], value)


def _sign_in(qtbot: Any, dialog: SettingsDialog) -> None:
    assert dialog.sign_in_button.isVisible() and dialog.sign_in_button.text() == "Sign in to Salesforce"
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)


def test_salesforce_browser_sign_in_stores_the_session_in_the_secret_store_only(
    qtbot: Any, open_dialog: Any, secret_store: Any, tmp_path: Path
) -> None:
    # Given a Salesforce org on loopback and Settings pointed at it
    fake = SalesforceFake()
    browser = Browser()
    with served(fake) as base_url:
        host = base_url.removeprefix("http://")
        dialog = open_dialog(browser)
        _choose_salesforce(qtbot, dialog, host, DEFAULT_CLIENT_ID)
        # When the agent signs in through the browser
        _sign_in(qtbot, dialog)
        qtbot.waitUntil(lambda: dialog.test_result.text() == "✓ Signed in. Save to keep this connection.",
                        timeout=WAIT_MS)
        # Then the browser went to the org's authorize page and landed on the loopback receiver
        assert browser.pages[0].status_code == 200 and "close this tab" in browser.pages[0].text
        authorize = browser.pages[0].history[0].request.url
        assert authorize.host == "127.0.0.1" and authorize.path == "/services/oauth2/authorize"
        assert authorize.params["client_id"] == DEFAULT_CLIENT_ID
        assert dialog.sign_in_button.isEnabled() and dialog.sign_in_button.text() == "Sign in to Salesforce"
        # And nothing is stored before Save
        assert secret_store.get("salesforce:tokens") is None
        # When the agent tests the connection, it reports the user who signed in
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=WAIT_MS)
        assert dialog.test_result.text() == "✓ Connected: Dana Agent (dana@logdesk.test)"
        # When the agent saves
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        assert not dialog.isVisible()
        # Then the session is in the secret store under the adapter's key, and nowhere in settings.json
        stored = secret_store.get("salesforce:tokens")
        assert stored is not None
        tokens: dict[str, Any] = json.loads(stored)
        assert tokens["extra"]["instance_url"] == base_url and tokens["refresh_token"]
        text = (tmp_path / "settings.json").read_text()
        assert tokens["access_token"] not in text and tokens["refresh_token"] not in text
        assert "tokens" not in json.dumps(json.loads(text)["crm"])
        saved = json.loads(text)["crm"]
        assert saved["adapter_id"] == "salesforce"
        assert saved["settings"]["salesforce"]["login_host"] == host
        assert saved["settings"]["salesforce"]["client_id"] == DEFAULT_CLIENT_ID
        # And a fresh Settings window says so and tests the connection with the stored session alone
        again = open_dialog(Browser())
        assert again.current_adapter_id() == "salesforce"
        assert again.crm_inputs["login_host"].text() == host
        qtbot.mouseClick(again.test_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: again.test_button.isEnabled(), timeout=WAIT_MS)
        assert again.test_result.text() == "✓ Connected: Dana Agent (dana@logdesk.test)"


def test_salesforce_sign_in_declined_in_the_browser_shows_a_message_and_stores_nothing(
    qtbot: Any, open_dialog: Any, secret_store: Any, tmp_path: Path
) -> None:
    # Given an org where the person in the browser presses Deny
    fake = SalesforceFake(user_decision="deny")
    browser = Browser()
    with served(fake) as base_url:
        dialog = open_dialog(browser)
        _choose_salesforce(qtbot, dialog, base_url.removeprefix("http://"), DEFAULT_CLIENT_ID)
        # When the agent signs in
        _sign_in(qtbot, dialog)
        qtbot.waitUntil(lambda: dialog.test_result.text().startswith("✗"), timeout=WAIT_MS)
    # Then a plain message says it was declined (no traceback), and the button works again
    message = dialog.test_result.text()
    assert "declined" in message and "Traceback" not in message
    assert dialog.sign_in_button.isEnabled() and dialog.sign_in_button.text() == "Sign in to Salesforce"
    landed = browser.pages[0].url  # the browser came back to the loopback receiver with the refusal
    assert landed.path == "/callback" and landed.params["error"] == "access_denied"
    # And Save stores no session
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert secret_store.get("salesforce:tokens") is None
    assert "access_token" not in (tmp_path / "settings.json").read_text()


def test_unknown_consumer_key_leaves_the_browser_on_an_error_page_and_cancel_ends_the_wait(
    qtbot: Any, open_dialog: Any, secret_store: Any
) -> None:
    # Given a consumer key the org does not know: Salesforce shows an error page and never redirects
    fake = SalesforceFake()
    browser = Browser()
    with served(fake) as base_url:
        dialog = open_dialog(browser)
        _choose_salesforce(qtbot, dialog, base_url.removeprefix("http://"), "3MVG9-not-registered")
        # When the agent signs in, the browser shows the error and the dialog offers Cancel
        _sign_in(qtbot, dialog)
        qtbot.waitUntil(browser.opened.is_set, timeout=WAIT_MS)
        assert browser.pages[0].status_code == 400 and "invalid_client_id" in browser.pages[0].text
        assert dialog.sign_in_button.isEnabled() and dialog.sign_in_button.text() == "Cancel sign-in"
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.test_result.text().startswith("✗"), timeout=WAIT_MS)
    # Then the wait ends at once with a plain message, and nothing is stored
    assert dialog.test_result.text() == "✗ Sign-in was cancelled."
    assert dialog.sign_in_button.text() == "Sign in to Salesforce"
    assert secret_store.get("salesforce:tokens") is None


def test_a_login_host_that_is_not_a_host_is_refused_before_the_browser_opens(qtbot: Any, open_dialog: Any) -> None:
    browser = Browser()
    dialog = open_dialog(browser)
    _choose_salesforce(qtbot, dialog, "https://login.salesforce.com/some/page", DEFAULT_CLIENT_ID)
    _sign_in(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.test_result.text().startswith("✗"), timeout=WAIT_MS)
    assert "is not a Salesforce login host" in dialog.test_result.text()
    assert dialog.sign_in_button.isEnabled() and not browser.pages


def test_closing_settings_during_sign_in_releases_the_redirect_port(qtbot: Any, open_dialog: Any) -> None:
    # Given a sign-in waiting for a browser that never comes back (unknown consumer key)
    fake = SalesforceFake()
    browser = Browser()
    with served(fake) as base_url:
        dialog = open_dialog(browser)
        _choose_salesforce(qtbot, dialog, base_url.removeprefix("http://"), "3MVG9-not-registered")
        _sign_in(qtbot, dialog)
        qtbot.waitUntil(browser.opened.is_set, timeout=WAIT_MS)
        # When the agent closes Settings
        dialog.reject()
        # Then the waiting job ends at once (not after the five minutes the agent has in the browser)
        qtbot.waitUntil(lambda: open_dialog.pool.activeThreadCount() == 0, timeout=WAIT_MS)
        # And a new Settings window signs in on the same redirect port
        second = Browser()
        again = open_dialog(second)
        _choose_salesforce(qtbot, again, base_url.removeprefix("http://"), DEFAULT_CLIENT_ID)
        _sign_in(qtbot, again)
        qtbot.waitUntil(lambda: again.test_result.text().startswith("✓"), timeout=WAIT_MS)
        assert second.pages[0].status_code == 200
