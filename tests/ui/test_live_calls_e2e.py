# SPDX-License-Identifier: MIT
"""Live calls end to end: the sandbox rings calls and pushes their events over a real loopback
WebSocket; the push client, the engine, the strip and the log form do the rest, as in the app.

The sandbox runs on a manual clock (``advance`` moves the call along); everything between the
gateway and the widgets runs for real, on its own threads, so tests wait on conditions.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from PySide6.QtCore import Qt

from adapters.ringcentral.events import PushState
from adapters.ringcentral.sandbox.data import Person
from desktop.app import start_push
from desktop.engine.lifecycle import SETTLE
from desktop.ui.log_dialog import LogDialog

ALICE = "+14155550132"  # a demo contact of the Local CRM


@pytest.fixture
def push(qtbot, main, app_context, account):  # type: ignore[no-untyped-def]
    bridge = start_push(app_context, main, rng=__import__("random").Random(1))
    assert bridge is not None
    qtbot.waitUntil(lambda: bridge.status.state is PushState.LIVE, timeout=10_000)
    yield bridge
    bridge.close()
    account.close()


def _ring(account: Any, *, phone: str = ALICE, duration: int = 90, ring_seconds: float = 5, **kw: Any) -> Any:
    return account.ring_call("inbound", duration=duration, remote=Person(name=None, phone_number=phone),
                             ring_seconds=ring_seconds, recorded=False, **kw)


def test_a_ringing_call_shows_in_the_strip_with_its_contact_and_the_status_says_live(  # type: ignore[no-untyped-def]
    qtbot, main, push, account
) -> None:
    # Given live call events on
    qtbot.waitUntil(lambda: main.window.push_label.text() == "● Live call events")
    # When a known contact calls
    call = _ring(account)
    # Then the strip names them while it rings, and the call is a row already
    strip = main.window.live_strip
    qtbot.waitUntil(lambda: strip.call_id == call.telephony_session_id and "Alice Moreno" in strip.title.text())
    assert strip.state_label.text().startswith("Ringing")
    assert main.model.item(call.telephony_session_id) is not None
    account.advance(6)
    qtbot.waitUntil(lambda: strip.state_label.text().startswith("On call"))


def test_notes_typed_while_talking_reach_the_crm_and_the_record_joins_the_row(
    qtbot, main, push, account, app_context
) -> None:  # type: ignore[no-untyped-def]
    # Given a connected call
    call = _ring(account)
    strip = main.window.live_strip
    account.advance(6)
    qtbot.waitUntil(lambda: strip.state_label.text().startswith("On call"))
    # When the agent types while talking, and the caller hangs up
    qtbot.keyClicks(strip.note, "Billing question; send the $1 plan <Friday>")
    qtbot.waitUntil(lambda: (d := app_context.engine.draft(call.telephony_session_id)) is not None
                    and d.note.endswith("<Friday>"))
    with qtbot.waitSignal(main.dialog_opened, timeout=10_000) as opened:
        account.advance(90)
    dialog = opened.args[0]
    assert isinstance(dialog, LogDialog)
    # Then the log form has the note; saving logs it with the final duration
    qtbot.waitUntil(lambda: dialog.note.toPlainText().endswith("<Friday>") and dialog.save_button.isEnabled())
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    app_context.engine.run_outbox()
    logs = app_context.adapter.call_logs()
    assert len(logs) == 1 and "send the $1 plan <Friday>" in logs[0].body and "1 minute, 30 seconds" in logs[0].body
    # And when the call-log record arrives, it is the same row and the same log
    account.advance(60)
    main.poller.poll_now()
    qtbot.waitUntil(lambda: app_context.engine.store.call(call.telephony_session_id) is not None
                    and app_context.engine.store.awaited_records() == 0)
    assert [r.call_id for r in app_context.engine.calls()].count(call.telephony_session_id) == 1
    assert len(app_context.engine.calls()) == 1 and len(app_context.adapter.call_logs()) == 1


def test_auto_log_creates_at_connect_with_duration_pending_then_finalises(  # type: ignore[no-untyped-def]
    qtbot, main, push, account, app_context
) -> None:
    app_context.engine.config.auto_log = True
    call = _ring(account, duration=125)
    account.advance(6)
    tsid = call.telephony_session_id
    qtbot.waitUntil(lambda: any(i.intent == "auto" for i in app_context.engine.store.items(call_id=tsid)))
    app_context.engine.run_outbox()
    app_context.engine.run_outbox()
    logs = app_context.adapter.call_logs()
    assert len(logs) == 1 and "(pending)" in logs[0].body
    account.advance(125)
    qtbot.waitUntil(lambda: (r := app_context.engine.store.call(tsid)) is not None and r.duration == 125)
    # The account records its calls: the final duration waits a little for a recording on its way
    app_context.engine.run_outbox()
    assert "(pending)" in app_context.adapter.call_logs()[0].body
    account.advance(SETTLE.total_seconds())
    app_context.engine.run_outbox()
    body = app_context.adapter.call_logs()[0].body
    assert "(pending)" not in body and "2 minutes, 5 seconds" in body


def test_a_socket_dropped_mid_call_recovers_and_replays_what_was_missed(  # type: ignore[no-untyped-def]
    qtbot, main, push, account, app_context
) -> None:
    call = _ring(account, duration=40)
    strip = main.window.live_strip
    qtbot.waitUntil(lambda: strip.call_id == call.telephony_session_id)
    # When the network drops and the call goes on (answered, then ended) meanwhile
    assert account.drop_ws_connections() == 1
    account.advance(6)
    account.advance(40)
    # Then the client recovers its session and the missed events are replayed
    qtbot.waitUntil(lambda: push.events.stats["recovered"] == 1, timeout=15_000)
    qtbot.waitUntil(lambda: strip.view is not None and strip.view.state == "ended")
    row = app_context.engine.store.call(call.telephony_session_id)
    assert row is not None and row.duration == 40


def test_a_refused_recovery_subscribes_again_and_catches_up_without_a_second_row(
    qtbot, main, push, account, app_context
) -> None:  # type: ignore[no-untyped-def]
    call = _ring(account, duration=30)
    qtbot.waitUntil(lambda: main.model.item(call.telephony_session_id) is not None)
    # When the connection drops, the call ends while it is down, and recovery is refused
    account.inject_ws_fault("recovery-refused")
    account.drop_ws_connections()
    account.advance(6)
    account.advance(30)
    account.advance(40)  # the call-log record is there now
    # Then the client subscribes again, the engine reads the call log, and the call is one row
    qtbot.waitUntil(lambda: push.events.stats["resubscribed"] == 1, timeout=15_000)
    qtbot.waitUntil(lambda: app_context.engine.store.awaited_records() == 0
                    and (r := app_context.engine.store.call(call.telephony_session_id)) is not None
                    and r.result != "In Progress", timeout=15_000)
    ids = [r.call_id for r in app_context.engine.calls()]
    assert ids == [call.telephony_session_id]


def test_no_websocket_permission_says_so_and_calls_still_come_from_the_call_log(  # type: ignore[no-untyped-def]
    qtbot, main, account, app_context
) -> None:
    account.inject_ws_fault("wstoken-forbidden", times=5)
    bridge = start_push(app_context, main)
    assert bridge is not None
    try:
        qtbot.waitUntil(lambda: "live call events unavailable" in main.window.push_label.text(), timeout=10_000)
        assert bridge.status.state is PushState.UNAVAILABLE
        assert "WebSocket permission" in main.window.push_label.toolTip()
        # The call shows up once it is in the call log, as before push
        call = account.place_call("inbound")
        account.advance(60)  # the next poll is due
        main.poller.poll_now()
        qtbot.waitUntil(lambda: main.model.item(call.id) is not None)
    finally:
        bridge.close()
        account.close()


def test_a_rate_limited_wstoken_waits_and_the_status_says_it_is_connecting(  # type: ignore[no-untyped-def]
    qtbot, main, account, app_context
) -> None:
    account.inject_ws_fault("wstoken-rate-limited")
    bridge = start_push(app_context, main)
    assert bridge is not None
    try:
        qtbot.waitUntil(lambda: "Connecting live call events" in main.window.push_label.text(), timeout=10_000)
        assert bridge.status.state is PushState.RECONNECTING and (bridge.status.retry_in or 0) >= 30
    finally:
        bridge.close()
        account.close()


def test_garbage_frames_and_someone_elses_events_change_nothing(  # type: ignore[no-untyped-def]
    qtbot, main, push, account, app_context, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="adapters.ringcentral.events")
    before = len(app_context.engine.calls())
    account.send_ws_garbage()
    account.emit_foreign_event()
    call = _ring(account)
    qtbot.waitUntil(lambda: main.model.item(call.telephony_session_id) is not None)
    assert push.status.state is PushState.LIVE
    assert len(app_context.engine.calls()) == before + 1  # only the agent's own call became a row
    assert push.events.stats["garbage"] >= 1
    assert "ignored a malformed frame" in caplog.text
