# SPDX-License-Identifier: MIT
"""Settings saved while the app runs: what applies at once (auto-log, note contents, the poll
interval, a CRM connection that passed Test connection), and a banner naming exactly what waits
for a restart."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtWidgets import QApplication, QCheckBox

from adapters.crm.hubspot import HubSpotAdapter
from adapters.crm.local import LocalCrm
from desktop.settings import AppSettings
from desktop.ui.call_table_model import LogStatus
from desktop.ui.log_dialog import LogDialog
from desktop.ui.settings_dialog import SettingsDialog
from tests.fakes import hubspot as hubspot_fake
from tests.ui.conftest import place

BEN = "+12125550147"


def _open_settings(qtbot, main, tab: str) -> SettingsDialog:  # type: ignore[no-untyped-def]
    """Settings as the agent opens it (the Settings button), on the tab named ``tab``."""
    opened: list[Any] = []
    main.dialog_opened.connect(opened.append)
    qtbot.mouseClick(main.window.settings_button, Qt.MouseButton.LeftButton)
    dialog = opened[-1]
    assert isinstance(dialog, SettingsDialog)
    qtbot.addWidget(dialog)
    index = next(i for i in range(dialog.tabs.count()) if dialog.tabs.tabText(i) == tab)
    qtbot.mouseClick(dialog.tabs.tabBar(), Qt.MouseButton.LeftButton, pos=dialog.tabs.tabBar().tabRect(index).center())
    assert dialog.tabs.currentIndex() == index
    qtbot.waitUntil(dialog.tabs.currentWidget().isVisible)
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    return dialog


def _click(qtbot, box: QCheckBox) -> None:  # type: ignore[no-untyped-def]
    """Clicks a check box on its label (a box may be wider than its text; beyond it is no click)."""
    was = box.isChecked()
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(box.sizeHint().width() // 2, box.height() // 2))
    assert box.isChecked() is not was


def _save(qtbot, dialog: SettingsDialog) -> None:  # type: ignore[no-untyped-def]
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def _restart_banner(main) -> str | None:  # type: ignore[no-untyped-def]
    """The restart banner's text, or None when it is not shown."""
    banner = main.settings_applier.banner
    return str(banner.label.text()) if banner is not None and banner.isVisible() else None


# --- the sandbox -------------------------------------------------------------------------------


@pytest.fixture
def sandbox_main(qtbot, main, app_context, tmp_path):  # type: ignore[no-untyped-def]
    app_context.settings_path = tmp_path / "settings.json"
    return main


def test_turning_on_auto_log_needs_no_restart_and_logs_the_next_call(
    qtbot, sandbox_main, account, app_context
) -> None:
    main = sandbox_main
    # When the agent turns on auto-log and saves
    dialog = _open_settings(qtbot, main, "Logging")
    _click(qtbot, dialog.auto_log)
    _save(qtbot, dialog)
    # Then no restart is asked for (it used to name the CRM connection)
    assert _restart_banner(main) is None
    # And the next call from a known contact is logged without the agent
    place(account, "inbound", BEN, duration=120)
    account.advance(30)
    main.poller.poll_now()
    [log] = app_context.adapter.call_logs()
    assert log.contact_name == "Ben Okafor"
    assert main.model.item(main.window.proxy.item_at(0).call_id).status is not LogStatus.UNLOGGED


def test_note_contents_apply_to_the_next_log(qtbot, sandbox_main, account, app_context) -> None:
    main = sandbox_main
    # When the agent leaves the duration out of notes and puts the session id in
    dialog = _open_settings(qtbot, main, "Note contents")
    _click(qtbot, dialog.note_toggles["duration"])
    _click(qtbot, dialog.note_toggles["session_id"])
    _save(qtbot, dialog)

    assert _restart_banner(main) is None
    # Then the next call logged has a note written that way
    place(account, "inbound", BEN, duration=120)
    account.advance(30)
    main.poller.poll_now()
    log_dialog = main.open_log(main.window.proxy.item_at(0))
    assert isinstance(log_dialog, LogDialog)
    qtbot.mouseClick(log_dialog.save_button, Qt.MouseButton.LeftButton)
    [log] = app_context.adapter.call_logs()
    assert "- Session Id:" in log.body and "- Duration:" not in log.body


def test_the_waiting_mode_is_named_alone_and_the_banner_goes_when_it_is_set_back(
    qtbot, sandbox_main
) -> None:
    main = sandbox_main
    # When the agent changes the waiting mode (and nothing else that needs a restart)
    dialog = _open_settings(qtbot, main, "Logging")
    _click(qtbot, dialog.all_at_once)
    _save(qtbot, dialog)
    # Then the banner names it, and only it
    assert _restart_banner(main) == (
        "Restart Logdesk to apply the waiting mode (log once when everything is ready). "
        "Everything else is already in use."
    )
    # When they change auto-log too: still the waiting mode only, in the same banner
    dialog = _open_settings(qtbot, main, "Logging")
    _click(qtbot, dialog.auto_log)
    _save(qtbot, dialog)
    assert "the waiting mode" in (_restart_banner(main) or "") and "CRM" not in (_restart_banner(main) or "")
    # When they set the waiting mode back as the app started with it
    dialog = _open_settings(qtbot, main, "Logging")
    _click(qtbot, dialog.all_at_once)
    _save(qtbot, dialog)
    # Then nothing waits for a restart
    assert _restart_banner(main) is None


def test_on_the_sandbox_a_crm_connection_is_kept_for_the_real_account(
    qtbot, sandbox_main, app_context, monkeypatch
) -> None:
    main = sandbox_main
    with hubspot_fake.HubSpotFake().serve() as base_url:
        monkeypatch.setenv("LOGDESK_HUBSPOT_URL", base_url)
        dialog = _open_settings(qtbot, main, "CRM")
        dialog.crm_picker.setCurrentIndex(dialog.crm_picker.findData("hubspot"))
        qtbot.keyClicks(dialog.crm_inputs["token"], hubspot_fake.DEFAULT_TOKEN)
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
        assert dialog.test_result.text().startswith("✓ Connected")
        _save(qtbot, dialog)
    # The sandbox does not log its demo calls into the agent's CRM, and says where it is used
    assert isinstance(app_context.adapter, LocalCrm)
    assert "your CRM connection is used once Logdesk runs on your RingCentral account" in (
        _restart_banner(main) or "")


# --- the agent's own account (the sandbox's calls, as if they came from RingCentral) ------------


@pytest.fixture
def own_account(qtbot, tmp_path: Path, account, secret_store) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """The main window on a context that is not the sandbox's: the poll interval and the CRM
    connection are the agent's (the calls still come from the simulated account)."""
    from desktop.app import build_main_window, sandbox_context
    from desktop.workers import run_now

    settings = AppSettings()
    ctx = sandbox_context(tmp_path / "data", secret_store, settings, account=account)
    ctx = dataclasses.replace(ctx, sandbox=None, settings_path=tmp_path / "settings.json")
    main = build_main_window(ctx, submit=run_now, open_url=lambda url: None, start=False)
    qtbot.addWidget(main.window)
    main.window.show()
    main.start()
    try:
        yield main, ctx
    finally:
        main.poller.stop()
        ctx.close()


def test_the_poll_interval_applies_without_a_restart(qtbot, own_account, account) -> None:
    main, _ctx = own_account
    assert main.poller.interval_ms == 30_000
    # When the agent asks for the call log every two minutes
    dialog = _open_settings(qtbot, main, "Logging")
    dialog.poll_interval.selectAll()
    qtbot.keyClicks(dialog.poll_interval, "120")
    _save(qtbot, dialog)
    assert main.poller.interval_ms == 120_000 and _restart_banner(main) is None
    # Then a call that ended is not read a minute later, but two minutes after the last read
    place(account, "inbound", BEN, duration=90, ended_ago=5)
    account.advance(60)
    main.poller.poll_now()
    assert main.window.proxy.rowCount() == 0
    account.advance(61)
    main.poller.poll_now()
    assert main.window.proxy.rowCount() == 1


@pytest.fixture
def hubspot(monkeypatch) -> Iterator[hubspot_fake.HubSpotFake]:  # type: ignore[no-untyped-def]
    fake = hubspot_fake.HubSpotFake()
    fake.add_contact("Ben", "Okafor", phone="(212) 555-0147")
    with fake.serve() as base_url:
        monkeypatch.setenv("LOGDESK_HUBSPOT_URL", base_url)
        yield fake


def _choose_hubspot(qtbot, main) -> SettingsDialog:  # type: ignore[no-untyped-def]
    dialog = _open_settings(qtbot, main, "CRM")
    dialog.crm_picker.setCurrentIndex(dialog.crm_picker.findData("hubspot"))
    qtbot.keyClicks(dialog.crm_inputs["token"], hubspot_fake.DEFAULT_TOKEN)
    return dialog


def test_a_crm_connection_that_passed_its_test_is_used_at_once(
    qtbot, own_account, account, hubspot, secret_store
) -> None:
    main, ctx = own_account
    # When the agent connects HubSpot, tests the connection and saves
    dialog = _choose_hubspot(qtbot, main)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert dialog.test_result.text().startswith("✓ Connected")
    _save(qtbot, dialog)
    # Then nothing waits for a restart: the app logs into HubSpot from now on
    assert _restart_banner(main) is None
    assert isinstance(ctx.adapter, HubSpotAdapter) and ctx.engine.adapter.manifest.id == "hubspot"
    assert "HubSpot" in main.window.connection_label.text()
    assert secret_store.get("hubspot:token") == hubspot_fake.DEFAULT_TOKEN
    # And the next call is matched in HubSpot and logged there with "+"
    place(account, "inbound", BEN, duration=95)
    account.advance(30)
    main.poller.poll_now()
    log_dialog = main.open_log(main.window.proxy.item_at(0))
    assert log_dialog.save_button.text() == "Save to HubSpot"
    assert log_dialog.selected_contact() is not None and log_dialog.selected_contact().name == "Ben Okafor"
    qtbot.mouseClick(log_dialog.save_button, Qt.MouseButton.LeftButton)
    assert len(hubspot.calls) == 1


def test_an_untested_crm_connection_waits_for_a_restart_until_it_passes_its_test(
    qtbot, own_account, hubspot
) -> None:
    main, ctx = own_account
    # When the agent saves HubSpot without testing it
    _save(qtbot, _choose_hubspot(qtbot, main))
    # Then the app keeps its CRM, and the banner names the CRM connection and says how to use it now
    assert isinstance(ctx.adapter, LocalCrm)
    banner = _restart_banner(main) or ""
    assert banner.startswith("Restart Logdesk to apply the CRM connection.")
    assert "passes Test connection" in banner and "waiting mode" not in banner and "RingCentral" not in banner
    # When they open Settings again, test it (the token is in the keyring now) and save
    dialog = _open_settings(qtbot, main, "CRM")
    assert dialog.current_adapter_id() == "hubspot"
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    _save(qtbot, dialog)
    # Then it is in use and the banner is gone
    assert isinstance(ctx.adapter, HubSpotAdapter) and _restart_banner(main) is None


def test_a_crm_form_changed_after_its_test_is_not_used_untested(qtbot, own_account, hubspot) -> None:
    main, ctx = own_account
    dialog = _choose_hubspot(qtbot, main)
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert dialog.test_result.text().startswith("✓ Connected")
    # When the agent changes the form after the test and saves
    qtbot.keyClicks(dialog.crm_inputs["owner_email"], "avery@example.com")
    _save(qtbot, dialog)
    # Then what was saved was never tested: it waits for a restart (or a test)
    assert isinstance(ctx.adapter, LocalCrm)
    assert (_restart_banner(main) or "").startswith("Restart Logdesk to apply the CRM connection.")
