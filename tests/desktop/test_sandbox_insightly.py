# SPDX-License-Identifier: MIT
"""``LOGDESK_SANDBOX_CRM=insightly``: the sandbox logs into Insightly's fake, served on loopback and
reached through ``LOGDESK_INSIGHTLY_URL``, with the API key from the secret store."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

import adapters.crm.insightly as insightly_module
from adapters.crm.insightly import InsightlyAdapter
from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, preset
from desktop.app import SANDBOX_CRM_ENV, missing_sandbox_secrets, sandbox_context
from desktop.settings import AppSettings
from tests.fakes.insightly import DEFAULT_API_KEY, InsightlyFake, demo
from tests.fakes.loopback import LoopbackServer


@pytest.fixture(autouse=True)
def no_per_second_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter built by the app keeps under Insightly's 10 requests a second on the wall clock;
    the fakes here are given no such limit either, so the tests need not spend seconds waiting."""
    monkeypatch.setattr(insightly_module, "REQUESTS_PER_SECOND", 10_000)


def _account(*, recorded: float = 0.8) -> SandboxAccount:
    scenario = preset("happy", demo=True)
    delays = replace(scenario.delays, call_interval=None)
    scenario = replace(scenario, history=0, recorded_share=recorded, delays=delays)
    return SandboxAccount(clock=ManualClock(), scenario=scenario, seed=7)


def test_the_sandbox_asks_for_the_api_key_when_none_is_stored(secret_store: object,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    manifest, missing = missing_sandbox_secrets("insightly", secret_store)  # type: ignore[arg-type]
    assert manifest.name == "Insightly" and [f.key for f in missing] == ["api_key"]


def test_the_sandbox_logs_into_insightlys_fake_with_the_demo_people(
    tmp_path: Path, secret_store: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = demo()
    fake.per_second = 10_000
    secret_store.set("insightly:api_key", DEFAULT_API_KEY)  # type: ignore[attr-defined]
    with LoopbackServer(fake.handler) as server:
        monkeypatch.setenv(SANDBOX_CRM_ENV, "insightly")
        monkeypatch.setenv("LOGDESK_INSIGHTLY_URL", server.base_url)
        ctx = sandbox_context(tmp_path, secret_store, AppSettings(), account=_account())  # type: ignore[arg-type]
        try:
            assert isinstance(ctx.adapter, InsightlyAdapter)
            assert ctx.adapter.verify() == "Avery Agent <avery@agency.example>"
            # Alice is stored as "(415) 555-0132": found from the E.164 number the sandbox calls from
            [alice] = ctx.adapter.find_contact("+14155550132")
            assert (alice.name, alice.type) == ("Alice Moreno", "Contact")
            assert [o.label for o in alice.options["opportunity"]] == ["Harbor Logistics: renewal"]
        finally:
            ctx.close()
    assert (tmp_path / "engine-insightly.sqlite3").exists()


def test_plus_logs_an_event_and_the_poller_completes_it_keeping_a_persons_edit(
    qtbot, tmp_path: Path, secret_store: object, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    from PySide6.QtCore import Qt

    from adapters.ringcentral.sandbox.data import Person
    from desktop.app import build_main_window
    from desktop.ui.log_dialog import LogDialog
    from desktop.workers import run_now

    fake = InsightlyFake(real_clock=True, per_second=10_000)
    ben = fake.add_contact("Ben", "Okafor", phone="(212) 555-0147")
    opportunity = fake.add_opportunity("Clinic renewal", contact=ben)
    secret_store.set("insightly:api_key", DEFAULT_API_KEY)  # type: ignore[attr-defined]
    settings = AppSettings()
    settings.crm.settings["insightly"] = {"api_url": "na1"}
    account = _account(recorded=1.0)
    with LoopbackServer(fake.handler) as server:
        monkeypatch.setenv(SANDBOX_CRM_ENV, "insightly")
        monkeypatch.setenv("LOGDESK_INSIGHTLY_URL", server.base_url)
        ctx = sandbox_context(tmp_path, secret_store, settings, account=account)  # type: ignore[arg-type]
        main = build_main_window(ctx, submit=run_now, open_url=lambda url: None, start=False)
        qtbot.addWidget(main.window)
        main.window.show()
        main.start()
        try:
            # Given a call from Ben that just ended
            account.place_call("inbound", recorded=True, duration=95,
                               remote=Person(name=None, phone_number="+12125550147"))
            account.advance(30)
            main.poller.poll_now()
            item = main.window.proxy.item_at(0)
            assert item is not None
            # When the agent presses "+", picks a call result and the opportunity, types a note and saves
            dialogs: list[object] = []
            main.dialog_opened.connect(dialogs.append)
            main.window.select_call(item.call_id)
            qtbot.keyClick(main.window.table, Qt.Key.Key_Return)
            dialog = dialogs[-1]
            assert isinstance(dialog, LogDialog)
            assert dialog.selected_contact() is not None and dialog.selected_contact().name == "Ben Okafor"
            assert dialog.fields is not None
            dialog.fields.set_values({"call_result": "Left voicemail", "opportunity": str(opportunity)})
            qtbot.keyClicks(dialog.note, "Wants the renewal quote by Friday.")
            qtbot.waitUntil(dialog.draft_settled)
            qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
            # Then Insightly holds an Event linked to Ben and the opportunity, with the choice and the note
            [(event_id, event)] = fake.events.items()
            assert [(x["LINK_OBJECT_NAME"], x["LINK_OBJECT_ID"]) for x in event["LINKS"]] == [
                ("Contact", ben), ("Opportunity", opportunity)]
            assert fake.custom_value(event_id, "Call_Result__c") == "Left voicemail"
            assert "Wants the renewal quote by Friday." in event["DETAILS"]
            fake.person_edits(event_id, details=event["DETAILS"] + "\nTyped in Insightly\n")
            # When the recording and the AI note arrive and the poller runs
            for _ in range(6):
                account.advance(30)
                main.poller.poll_now()
            # Then the note has them, and the person's edit in Insightly is still there
            final = fake.events[event_id]["DETAILS"]
            assert "Wants the renewal quote by Friday." in final and "Typed in Insightly" in final
            assert "being processed" not in final and "(pending)" not in final
        finally:
            main.poller.stop()
            ctx.close()
