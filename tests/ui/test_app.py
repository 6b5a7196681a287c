# SPDX-License-Identifier: MIT
"""The composition root: the window from injected parts, and a shutdown that loses nothing."""

from __future__ import annotations

from pathlib import Path

from desktop.app import _shutdown, build_main_window, sandbox_context
from desktop.engine.models import Draft
from desktop.settings import AppSettings
from desktop.workers import bind_pool, make_pool, run_now
from tests.ui.conftest import place


def test_closing_with_a_write_queued_keeps_it_in_the_outbox(qtbot, tmp_path: Path, account, secret_store) -> None:
    # Given the app on the sandbox, and a log the agent saved that has not reached the CRM yet
    ctx = sandbox_context(tmp_path, secret_store, AppSettings(), account=account)
    pool = make_pool("io", 2)
    controller = build_main_window(ctx, submit=run_now, start=False)
    qtbot.addWidget(controller.window)
    place(account, "inbound", "+12125550147", duration=80)
    account.advance(30)
    ctx.engine.sync()
    row = ctx.engine.calls()[0]
    contact = ctx.engine.match_contacts(row.call_id)[0]
    ctx.engine.log_call(row.call_id, Draft(contact_id=contact.id, contact_name=contact.name, subject="s", note="kept"))
    # When the app shuts down
    _shutdown({"ctx": ctx, "controller": controller, "pools": [pool]})
    # Then after a restart the write is still queued, and it goes out
    again = sandbox_context(tmp_path, secret_store, AppSettings(), account=account)
    try:
        assert again.engine.status().queued == 1
        again.engine.run_outbox()
        logs = again.adapter.call_logs()
        assert len(logs) == 1 and "kept" in logs[0].body
    finally:
        again.close()


def test_window_built_with_a_real_pool_loads_stored_calls(qtbot, tmp_path: Path, account, secret_store) -> None:
    # Given calls already stored from an earlier session
    ctx = sandbox_context(tmp_path, secret_store, AppSettings(), account=account)
    place(account, "outbound", "+13035550164", duration=40)
    account.advance(30)
    ctx.engine.sync()
    pool = make_pool("io", 2)
    try:
        # When the window starts on a real thread pool
        controller = build_main_window(ctx, submit=bind_pool(pool), start=False)
        qtbot.addWidget(controller.window)
        with qtbot.waitSignal(controller.rows_loaded, timeout=10_000):
            controller.start()
        # Then the stored call is in the table, and the poller runs on the pool
        assert controller.model.rowCount() == 1
        qtbot.waitUntil(lambda: controller.window.sync_label.text().startswith("● Synced"), timeout=10_000)
    finally:
        controller.poller.stop()
        pool.waitForDone()
        ctx.close()


def test_first_run_notes_use_the_computer_s_time_zone(monkeypatch) -> None:
    from desktop.app import with_local_defaults

    monkeypatch.setenv("TZ", "America/Chicago")
    assert with_local_defaults(AppSettings()).notes.time_zone == "America/Chicago"
    # A time zone the user chose is left alone
    chosen = AppSettings.model_validate({"notes": {"time_zone": "Asia/Tokyo"}})
    assert with_local_defaults(chosen).notes.time_zone == "Asia/Tokyo"


def test_without_a_ringcentral_session_the_app_falls_back_to_the_sandbox(secret_store) -> None:
    from desktop.app import _ringcentral_connected

    settings = AppSettings()
    assert not _ringcentral_connected(settings, secret_store)
    settings.ringcentral = settings.ringcentral.model_copy(update={"client_id": "my-app"})
    assert not _ringcentral_connected(settings, secret_store)
    secret_store.set("ringcentral:tokens", '{"access_token": "a", "refresh_token": "r"}')
    assert _ringcentral_connected(settings, secret_store)


def test_settings_that_need_a_restart_say_so() -> None:
    from desktop.app import restart_needed

    before = AppSettings()
    assert restart_needed(before, before.model_copy(update={"poll_interval_seconds": 60}), is_sandbox=False) is None
    switched = before.model_copy(update={"crm": before.crm.model_copy(update={"adapter_id": "hubspot"})})
    assert "the CRM connection" in (restart_needed(before, switched, is_sandbox=False) or "")
    # A save writes the chosen CRM's (empty) form: that alone is no change of connection
    saved = before.model_copy(deep=True)
    saved.crm.settings["local"] = {}
    saved.auto_log = True
    assert restart_needed(before, saved, is_sandbox=False) is None
    # Each thing that needs a restart is named, and only it
    waiting = before.model_copy(update={"all_at_once": True})
    assert restart_needed(before, waiting, is_sandbox=False) == (
        "Restart Logdesk to apply the waiting mode (log once when everything is ready). "
        "Everything else is already in use."
    )
    assert restart_needed(before, before, is_sandbox=False, new_rc_session=True) == (
        "Restart Logdesk to apply the RingCentral connection. Everything else is already in use."
    )
    both = restart_needed(before, waiting, is_sandbox=False, crm_changed=True) or ""
    assert both.startswith("Restart Logdesk to apply the CRM connection and the waiting mode")
    # On the sandbox, a RingCentral sign-in is used once Logdesk runs without it
    assert "without --sandbox" in (restart_needed(before, before, is_sandbox=True, new_rc_session=True) or "")


_ENTRY = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from desktop.app import run_app
from desktop.ui.main_window import MainWindow

def check():
    app = QApplication.instance()
    for w in app.topLevelWidgets():
        if isinstance(w, MainWindow) and w.calls_installed and w.model.rowCount() > 0:
            print(f"rows {w.model.rowCount()} title {w.windowTitle()}", flush=True)
            w.close()  # the last window: the app quits and shuts down

def painted():
    print("painted", flush=True)
    timer = QTimer(QApplication.instance())
    timer.timeout.connect(check)
    timer.start(100)

sys.exit(run_app(sandbox=True, on_first_paint=painted))
"""


def test_logdesk_sandbox_starts_shows_calls_and_shuts_down(tmp_path: Path) -> None:
    """The real entry point (``logdesk --sandbox``), in its own process: window first, then the
    sandbox's calls; closing the window ends the process cleanly."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run(
        [sys.executable, "-c", _ENTRY], cwd=root, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0] == "painted"
    rows_line = next(line for line in lines if line.startswith("rows "))
    assert int(rows_line.split()[1]) > 0 and rows_line.endswith("title Logdesk — sandbox")


def test_a_connected_ringcentral_account_runs_the_production_wiring(secret_store, account) -> None:
    """Not the sandbox shortcut: the client built from settings + keyring, the adapter from the registry."""
    import time

    import httpx

    from adapters.ringcentral.sandbox import DESKTOP_CLIENT_ID, SandboxAccount, connect
    from desktop.app import _production_context, _ringcentral_connected

    # The production engine runs on the system clock, so this account does too.
    account = SandboxAccount(clock=time.time, scenario=account.scenario, seed=5)
    server = account.serve()
    http = httpx.Client(timeout=10)
    try:
        # Given the agent signed in earlier (the session is in the secret store)
        connect(account, server_url=server.url, http=http,
                save=lambda tokens: secret_store.set("ringcentral:tokens", tokens.model_dump_json()))
        settings = AppSettings(default_region="GB", phone_patterns=["(###) ###-####", "###.###.####"],
                               poll_interval_seconds=90)
        settings.ringcentral = settings.ringcentral.model_copy(
            update={"server": server.url, "client_id": DESKTOP_CLIENT_ID}
        )
        assert _ringcentral_connected(settings, secret_store)
        # When the app builds its production context and syncs
        ctx = _production_context(secret_store, settings, [])
        try:
            place(account, "inbound", "+12125550147", duration=90, ended_ago=60)
            ctx.engine.sync()
            # Then the call is there and can be matched in the (empty, real) Local CRM
            rows = ctx.engine.calls()
            assert [r.remote_number for r in rows] == ["+12125550147"]
            assert ctx.engine.match_contacts(rows[0].call_id) == []
            assert not ctx.is_sandbox
            # And the adapter was given the agent's phone region and search patterns
            assert ctx.connection_settings["phone_region"] == "GB"
            assert ctx.connection_settings["phone_patterns"] == "(###) ###-####\n###.###.####"
            # And the engine reads the call log at the agent's poll interval
            assert ctx.engine.plan.sync_every.total_seconds() == 90
        finally:
            ctx.close()
    finally:
        http.close()
        server.close()


class _LockedStore:
    """A secret store whose keyring is locked: every read fails."""

    is_persistent = True
    backend_name = "locked test keyring"

    def get(self, key: str) -> str | None:
        from desktop.secrets import SecretStoreUnavailable

        raise SecretStoreUnavailable("The keyring is locked: unlock it and try again.")

    def set(self, key: str, value: str) -> None:
        raise AssertionError("nothing may be written to a locked keyring")

    def delete(self, key: str) -> None:
        raise AssertionError("nothing may be deleted from a locked keyring")

    def values(self) -> list[str]:
        return []


def test_a_locked_keyring_starts_the_sandbox_and_says_to_unlock() -> None:
    from desktop.app import startup_mode

    settings = AppSettings()
    settings.ringcentral = settings.ringcentral.model_copy(update={"client_id": "app-123"})
    sandbox, message = startup_mode(settings, _LockedStore(), sandbox=False)
    assert sandbox is True
    assert message is not None and "locked" in message and "restart Logdesk after unlocking" in message


def test_no_ringcentral_session_starts_the_sandbox_and_says_how_to_connect(secret_store) -> None:
    from desktop.app import startup_mode

    settings = AppSettings()
    settings.ringcentral = settings.ringcentral.model_copy(update={"client_id": "app-123"})
    sandbox, message = startup_mode(settings, secret_store, sandbox=False)
    assert sandbox is True and message is not None and "Settings → RingCentral" in message
    secret_store.set("ringcentral:tokens", "{}")
    assert startup_mode(settings, secret_store, sandbox=False) == (False, None)


def test_damaged_database_files_are_set_aside_and_the_window_says_which_and_works(
    qtbot, tmp_path: Path, account, secret_store, caplog
) -> None:
    from desktop.ui.widgets import Banner

    # Given the engine's database and the Local CRM's file both damaged on disk
    (tmp_path / "engine.sqlite3").write_bytes(b"\x00garbage" * 512)
    (tmp_path / "local-crm.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    # When Logdesk starts on them
    ctx = sandbox_context(tmp_path, secret_store, AppSettings(), account=account)
    controller = build_main_window(ctx, submit=run_now, start=False)
    qtbot.addWidget(controller.window)
    try:
        # Then the window names each file, what was wrong and where it was set aside
        texts = [b.label.text() for b in controller.window.findChildren(Banner)]
        assert any(t.startswith("engine.sqlite3 is damaged") and "set aside as engine.sqlite3.corrupt-" in t
                   for t in texts), texts
        assert any(t.startswith("The Local CRM file local-crm.sqlite3 is damaged") for t in texts), texts
        assert sorted(p.name.split(".corrupt-")[0] for p in tmp_path.glob("*.corrupt-*")) == [
            "engine.sqlite3", "local-crm.sqlite3"]
        # And the app works on the new files: a call comes in, is stored and logged
        place(account, "inbound", "+12125550147", duration=80)
        account.advance(30)
        ctx.engine.sync()
        row = ctx.engine.calls()[0]
        contact = ctx.engine.match_contacts(row.call_id)[0]
        ctx.engine.log_call(row.call_id, Draft(contact_id=contact.id, contact_name=contact.name, subject="s",
                                               note="after the repair"))
        ctx.engine.run_outbox()
        assert "after the repair" in ctx.adapter.call_logs()[0].body
        assert "set aside" in caplog.text
    finally:
        ctx.close()
