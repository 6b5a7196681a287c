# SPDX-License-Identifier: MIT
"""Settings → CRM → Bullhorn through the widgets, against the fake Bullhorn on 127.0.0.1
(``LOGDESK_BULLHORN_URL``): the browser sign-in, Test connection, Save, and a later Test
connection that renews the session with a single-use refresh token and keeps the new pair."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from adapters import oauth
from adapters.base import Connection
from adapters.crm.bullhorn import BullhornAdapter
from desktop.ui.settings_dialog import SettingsDialog
from desktop.workers import bind_pool, make_pool
from tests.fakes.bullhorn import CLIENT_ID, CLIENT_SECRET, USERNAME, BullhornFake
from tests.fakes.loopback import LoopbackServer
from tests.ui.conftest import free_loopback_port
from tests.ui.test_settings_crm_sign_in import Browser

WAIT_MS = 15_000
CONNECTED = "✓ Connected: Alex Agent (alex.agent) at Acme Staffing"


@pytest.fixture
def open_dialog(qtbot: Any, app_context: Any, tmp_path: Path) -> Iterator[Callable[[Browser], SettingsDialog]]:
    pool = make_pool("io", 2)
    app_context.settings_path = tmp_path / "settings.json"
    port = free_loopback_port()  # one per test: the same port for every dialog it opens

    def make(browser: Browser) -> SettingsDialog:
        dialog = SettingsDialog(app_context, submit=bind_pool(pool), open_url=browser, crm_redirect_port=port)
        qtbot.addWidget(dialog)
        dialog.show()
        dialog.tabs.setCurrentIndex(1)  # CRM
        return dialog

    yield make
    assert pool.waitForDone(WAIT_MS)


def _test_connection(qtbot: Any, dialog: SettingsDialog) -> str:
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=WAIT_MS)
    return dialog.test_result.text()


def _sessions_and_access_tokens_end(fake: BullhornFake) -> None:
    fake.expire_sessions()
    for grant in fake.grants:
        grant.access.clear()


def test_bullhorn_is_signed_in_tested_and_saved_and_a_renewed_pair_is_kept(
    qtbot: Any, open_dialog: Any, secret_store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the fake Bullhorn on loopback, and Settings with Bullhorn chosen and filled in
    fake = BullhornFake()
    browser = Browser()
    with LoopbackServer(fake.handler) as server:
        fake.serve_at(server.base_url)
        monkeypatch.setenv("LOGDESK_BULLHORN_URL", server.base_url)
        dialog = open_dialog(browser)
        qtbot.keyClicks(dialog.crm_picker, "Bullhorn")
        assert dialog.current_adapter_id() == "bullhorn"
        for key, value in (("username", USERNAME), ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)):
            dialog.crm_inputs[key].clear()
            qtbot.keyClicks(dialog.crm_inputs[key], value)
        # When the agent signs in through the browser
        assert dialog.sign_in_button.isVisible() and dialog.sign_in_button.text() == "Sign in to Bullhorn"
        qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.test_result.text() == "✓ Signed in. Save to keep this connection.",
                        timeout=WAIT_MS)
        # Then the browser went to the data centre's authorize page that loginInfo named
        authorize = browser.pages[0].history[0].request.url
        assert authorize.path == "/oauth/authorize" and authorize.params["client_id"] == CLIENT_ID
        assert browser.pages[0].status_code == 200 and "close this tab" in browser.pages[0].text
        assert secret_store.get("bullhorn:tokens") is None, "nothing is stored before Save"
        # And Test connection names the signed-in user; Save keeps the secrets in the store only
        assert _test_connection(qtbot, dialog) == CONNECTED
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
        stored = secret_store.get("bullhorn:tokens")
        assert stored is not None and secret_store.get("bullhorn:client_secret") == CLIENT_SECRET
        assert json.loads(stored)["extra"]["bh_rest_token"], "the session the test opened is kept too"
        text = (tmp_path / "settings.json").read_text()
        assert CLIENT_SECRET not in text and json.loads(stored)["refresh_token"] not in text
        assert json.loads(text)["crm"]["settings"]["bullhorn"] == {"username": USERNAME, "client_id": CLIENT_ID}
        # When, days later, the session and the access token have ended and the agent tests again
        _sessions_and_access_tokens_end(fake)
        again = open_dialog(Browser())
        assert _test_connection(qtbot, again) == CONNECTED
        # Then the pair the test renewed (the old refresh token is spent) is the one in the store
        renewed = oauth.TokenSet.from_secrets({"tokens": secret_store.get("bullhorn:tokens")})
        assert renewed is not None and renewed.refresh_token != json.loads(stored)["refresh_token"]
        _sessions_and_access_tokens_end(fake)
        adapter = BullhornAdapter(Connection(
            settings={"username": USERNAME, "client_id": CLIENT_ID},
            secrets={"client_secret": CLIENT_SECRET, "tokens": secret_store.get("bullhorn:tokens")},
        ))
        try:
            assert adapter.verify() == CONNECTED.removeprefix("✓ Connected: ")
        finally:
            adapter.close()
