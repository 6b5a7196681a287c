# SPDX-License-Identifier: MIT
"""``LOGDESK_SANDBOX_CRM=sheets``: the sandbox logs into the fake Google Sheets served on loopback,
reached through ``LOGDESK_SHEETS_URL``, after a browser sign-in like Settings → CRM runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.crm.sheets import ENV_BASE_URL, SheetsAdapter, sign_in
from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, preset
from desktop.app import SANDBOX_CRM_ENV, sandbox_context
from desktop.settings import AppSettings
from tests.fakes.browser import play_browser
from tests.fakes.loopback import LoopbackServer
from tests.fakes.sheets import CLIENT_ID, CLIENT_SECRET, DEMO_DISPOSITIONS, demo_fake


def _account() -> SandboxAccount:
    scenario = preset("happy", demo=True)
    scenario = replace(scenario, history=0, delays=replace(scenario.delays, call_interval=None))
    return SandboxAccount(clock=ManualClock(), scenario=scenario, seed=7)


def test_sandbox_logs_into_the_google_sheets_fake_through_the_address_override(
    tmp_path: Path, secret_store: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the fake Google served with demo data, and the connect form saved in Settings
    fake = demo_fake(clock=lambda: datetime.now(UTC))
    spreadsheet = f"https://docs.google.com/spreadsheets/d/{fake.book.spreadsheet_id}/edit"
    settings = AppSettings()
    settings.crm.settings["sheets"] = {"spreadsheet": spreadsheet, "client_id": CLIENT_ID}
    with LoopbackServer(fake.handler) as server, httpx.Client(timeout=5) as http:
        monkeypatch.setenv(ENV_BASE_URL, server.base_url)
        # and a browser sign-in whose tokens went to the keyring with the client secret
        tokens = sign_in({**settings.crm.settings["sheets"], "client_secret": CLIENT_SECRET}, http,
                         open_url=play_browser(http), timeout=10)
        secret_store.set("sheets:client_secret", CLIENT_SECRET)  # type: ignore[attr-defined]
        secret_store.set("sheets:tokens", tokens["tokens"])  # type: ignore[attr-defined]
        # When the sandbox starts with LOGDESK_SANDBOX_CRM=sheets
        monkeypatch.setenv(SANDBOX_CRM_ENV, "sheets")
        ctx = sandbox_context(tmp_path, secret_store, settings, account=_account())  # type: ignore[arg-type]
        try:
            # Then it logs into that spreadsheet, with the demo people and the sheet's dispositions
            assert isinstance(ctx.adapter, SheetsAdapter)
            assert ctx.adapter.verify() == "Spreadsheet 'Team calls' (tabs Contacts, Calls)"
            assert [c.name for c in ctx.adapter.find_contact("+14155550132")] == ["Alice Moreno"]
            assert [o.id for o in ctx.adapter.dispositions()] == DEMO_DISPOSITIONS
        finally:
            ctx.close()
    assert (tmp_path / "engine-sheets.sqlite3").exists()
