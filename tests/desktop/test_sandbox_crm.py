# SPDX-License-Identifier: MIT
"""The developer option that points the sandbox at a connected CRM, here HubSpot's and
Pipedrive's fakes served on loopback."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from adapters.crm.hubspot import HubSpotAdapter
from adapters.crm.local import LocalCrm
from adapters.crm.pipedrive import PipedriveAdapter
from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, preset
from desktop.app import SANDBOX_CRM_ENV, sandbox_context
from desktop.settings import AppSettings
from tests.fakes import hubspot as hubspot_fake
from tests.fakes import pipedrive as pipedrive_fake


def _account() -> SandboxAccount:
    scenario = preset("happy", demo=True)
    scenario = replace(scenario, history=0, delays=replace(scenario.delays, call_interval=None))
    return SandboxAccount(clock=ManualClock(), scenario=scenario, seed=7)


def test_sandbox_uses_the_local_crm_by_default(tmp_path: Path, secret_store: object,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SANDBOX_CRM_ENV, raising=False)
    ctx = sandbox_context(tmp_path, secret_store, AppSettings(), account=_account())  # type: ignore[arg-type]
    try:
        assert isinstance(ctx.adapter, LocalCrm)
    finally:
        ctx.close()


def test_sandbox_logs_into_hubspots_fake_when_asked(tmp_path: Path, secret_store: object,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fake = hubspot_fake.HubSpotFake()
    fake.add_contact("Ana", "Diaz", phone="+14155550123")
    secret_store.set("hubspot:token", hubspot_fake.DEFAULT_TOKEN)  # type: ignore[attr-defined]
    settings = AppSettings()
    with fake.serve() as base_url:
        monkeypatch.setenv(SANDBOX_CRM_ENV, "hubspot")
        monkeypatch.setenv("LOGDESK_HUBSPOT_URL", base_url)
        ctx = sandbox_context(tmp_path, secret_store, settings, account=_account())  # type: ignore[arg-type]
        try:
            assert isinstance(ctx.adapter, HubSpotAdapter)
            assert ctx.adapter.verify() == "HubSpot portal 24681357"
            assert [c.name for c in ctx.adapter.find_contact("+14155550123")] == ["Ana Diaz"]
        finally:
            ctx.close()
    assert (tmp_path / "engine-hubspot.sqlite3").exists()


def test_sandbox_logs_into_pipedrives_fake_with_the_saved_connect_form(
    tmp_path: Path, secret_store: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = pipedrive_fake.PipedriveFake()
    secret_store.set("pipedrive:api_token", pipedrive_fake.DEFAULT_TOKEN)  # type: ignore[attr-defined]
    settings = AppSettings()
    settings.crm.settings["pipedrive"] = {"company_domain": "acme", "activity_type": "meeting"}
    with fake.serve() as base_url:
        monkeypatch.setenv(SANDBOX_CRM_ENV, "pipedrive")
        monkeypatch.setenv("LOGDESK_PIPEDRIVE_URL", base_url)
        ctx = sandbox_context(tmp_path, secret_store, settings, account=_account())  # type: ignore[arg-type]
        try:
            assert isinstance(ctx.adapter, PipedriveAdapter)
            assert ctx.adapter.verify().startswith("Avery Agent")
            assert ctx.adapter.activity_type() == "meeting"
        finally:
            ctx.close()


# --- the agent's flow through the widgets, logging into each fake ---------------------------


def _flow_account() -> SandboxAccount:
    scenario = preset("happy", demo=True)
    scenario = replace(scenario, history=0, recorded_share=1.0, delays=replace(scenario.delays, call_interval=None))
    return SandboxAccount(clock=ManualClock(), scenario=scenario, seed=7)


@pytest.mark.parametrize("crm_id", ["hubspot", "pipedrive"])
def test_plus_logs_into_the_crm_and_the_poller_completes_it_keeping_a_persons_edit(
    qtbot, tmp_path: Path, secret_store: object, monkeypatch: pytest.MonkeyPatch, crm_id: str  # type: ignore[no-untyped-def]
) -> None:
    from PySide6.QtCore import Qt

    from adapters.ringcentral.sandbox.data import Person
    from desktop.app import build_main_window
    from desktop.ui.log_dialog import LogDialog
    from desktop.workers import run_now

    phone = "+12125550147"
    settings = AppSettings()
    if crm_id == "hubspot":
        fake: object = hubspot_fake.HubSpotFake()
        fake.add_contact("Ben", "Okafor", phone="(212) 555-0147")  # type: ignore[attr-defined]
        secret_store.set("hubspot:token", hubspot_fake.DEFAULT_TOKEN)  # type: ignore[attr-defined]
        env = "LOGDESK_HUBSPOT_URL"
    else:
        fake = pipedrive_fake.PipedriveFake()
        pid = fake.add_person("Ben Okafor", ["(212) 555-0147"])  # type: ignore[attr-defined]
        deal = fake.add_deal("Clinic renewal", pid)  # type: ignore[attr-defined]
        secret_store.set("pipedrive:api_token", pipedrive_fake.DEFAULT_TOKEN)  # type: ignore[attr-defined]
        settings.crm.settings["pipedrive"] = {"company_domain": "acme"}
        env = "LOGDESK_PIPEDRIVE_URL"
    account = _flow_account()
    with fake.serve() as base_url:  # type: ignore[attr-defined]
        monkeypatch.setenv(SANDBOX_CRM_ENV, crm_id)
        monkeypatch.setenv(env, base_url)
        ctx = sandbox_context(tmp_path, secret_store, settings, account=account)  # type: ignore[arg-type]
        main = build_main_window(ctx, submit=run_now, open_url=lambda url: None, start=False)
        qtbot.addWidget(main.window)
        main.window.show()
        main.start()
        try:
            # Given a call from Ben that just ended
            account.place_call("inbound", recorded=True, duration=95, remote=Person(name=None, phone_number=phone))
            account.advance(30)
            main.poller.poll_now()
            item = main.window.proxy.item_at(0)
            assert item is not None
            # When the agent presses "+", picks an outcome or the deal, types a note and saves
            dialogs: list[object] = []
            main.dialog_opened.connect(dialogs.append)
            main.window.select_call(item.call_id)
            qtbot.keyClick(main.window.table, Qt.Key.Key_Return)
            dialog = dialogs[-1]
            assert isinstance(dialog, LogDialog)
            assert dialog.selected_contact() is not None and dialog.selected_contact().name == "Ben Okafor"
            assert dialog.fields is not None
            if crm_id == "hubspot":
                dialog.fields.set_values({"outcome": hubspot_fake.CUSTOM_OUTCOME[0]})  # the portal's own
            else:
                dialog.fields.set_values({"related": f"deal:{deal}"})
            qtbot.keyClicks(dialog.note, "Wants the renewal quote by Friday.")
            qtbot.waitUntil(dialog.draft_settled)
            qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
            # Then the CRM holds the log with the agent's note and choice
            if crm_id == "hubspot":
                [(log_id, record)] = fake.calls.items()  # type: ignore[attr-defined]
                assert record["properties"]["hs_call_disposition"] == hubspot_fake.CUSTOM_OUTCOME[0]

                def body() -> str:
                    return str(fake.calls[log_id]["properties"]["hs_call_body"])  # type: ignore[attr-defined]

                fake.edit_call(log_id, body=body() + "<p>Typed in HubSpot</p>")  # type: ignore[attr-defined]
            else:
                [(log_id, record)] = fake.activities.items()  # type: ignore[attr-defined]
                assert record["deal_id"] == deal

                def body() -> str:
                    return str(fake.activities[log_id]["note"])  # type: ignore[attr-defined]

                fake.edit_activity(log_id, note=body() + "<p>Typed in Pipedrive</p>")  # type: ignore[attr-defined]
            assert "Wants the renewal quote by Friday." in body()
            # When the recording and the AI note arrive and the poller runs
            for _ in range(6):
                account.advance(30)
                main.poller.poll_now()
            # Then the note has them, and the person's edit in the CRM is still there
            final = body()
            assert "Wants the renewal quote by Friday." in final
            assert "Typed in" in final
            assert "being processed" not in final and "(pending)" not in final
            if crm_id == "hubspot":
                assert fake.calls[log_id]["properties"]["hs_call_recording_url"].startswith("https://")  # type: ignore[attr-defined]
        finally:
            main.poller.stop()
            ctx.close()
