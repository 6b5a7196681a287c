# SPDX-License-Identifier: MIT
"""The live-call strip as the agent uses it: a call rings and the strip names the caller; notes
typed while talking are saved with every keystroke; when the call ends the log form opens with
them; with auto-log the CRM has the log from the moment of connect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from PySide6.QtCore import Qt

from desktop.engine.lifecycle import SETTLE
from desktop.engine.models import LiveChange
from desktop.ui.live_strip import elapsed_text
from desktop.ui.log_dialog import LogDialog
from tests.live_events import LiveScript

ALICE = "+14155550132"  # a demo contact of the Local CRM


def _script(app_context: Any, n: int = 1, caller: str = ALICE) -> LiveScript:
    return LiveScript(extension_id=app_context.engine.config.extension_id, tsid=f"s-live{n:04d}z0000",
                      session_id=f"77000000{n:02d}", caller=caller)


def _feed(main: Any, app_context: Any, script: LiveScript, code: str, after: float, **kw: Any) -> LiveChange:
    at = app_context.clock() + timedelta(seconds=after)
    change = app_context.engine.live_event(script.event(code, at, **kw))
    assert change is not None
    main.live.on_live_changed(change)
    return change


def test_a_ringing_call_shows_the_strip_with_the_matched_contact(  # type: ignore[no-untyped-def]
    qtbot, main, app_context
) -> None:
    # Given the main window
    strip = main.window.live_strip
    assert strip.isHidden()
    # When a call from a known contact rings
    script = _script(app_context)
    _feed(main, app_context, script, "Setup", 0)
    # Then the strip shows who it is, and the row is in the table at once
    assert strip.isVisible()
    qtbot.waitUntil(lambda: "Alice Moreno" in strip.title.text())
    assert "Ringing" in strip.state_label.text()
    assert "+1 415-555-0132" in strip.title.text()
    qtbot.waitUntil(lambda: main.model.item(script.tsid).contact_name == "Alice Moreno")
    _feed(main, app_context, script, "Answered", 4)
    assert strip.state_label.text().startswith("On call")
    assert main.model.item(script.tsid).contact_name == "Alice Moreno"  # later events keep the name
    _feed(main, app_context, script, "Hold", 30)
    assert strip.state_label.text().startswith("On hold")


def test_notes_typed_during_the_call_open_in_the_log_form_when_it_ends(  # type: ignore[no-untyped-def]
    qtbot, main, app_context
) -> None:
    # Given a connected call
    strip = main.window.live_strip
    script = _script(app_context)
    _feed(main, app_context, script, "Setup", 0)
    _feed(main, app_context, script, "Answered", 5)
    # When the agent types while talking
    strip.note.setFocus()
    qtbot.keyClicks(strip.note, "Wants the $1 plan <b>")
    qtbot.waitUntil(lambda: (app_context.engine.draft(script.tsid) or None) is not None
                    and app_context.engine.draft(script.tsid).note == "Wants the $1 plan <b>")
    # And the call ends
    with qtbot.waitSignal(main.dialog_opened, timeout=5000) as opened:
        _feed(main, app_context, script, "Disconnected", 125)
    dialog = opened.args[0]
    assert isinstance(dialog, LogDialog)
    qtbot.waitUntil(lambda: dialog.note.toPlainText() == "Wants the $1 plan <b>")
    assert strip.note.isReadOnly()  # the form has the note now
    # Then saving logs the call with the note and its final duration
    qtbot.waitUntil(lambda: dialog.save_button.isEnabled())
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    app_context.engine.run_outbox()
    logs = app_context.adapter.call_logs()
    assert len(logs) == 1
    assert "Wants the $1 plan <b>" in logs[0].body and "2 minutes, 5 seconds" in logs[0].body


def test_with_auto_log_the_crm_has_the_log_at_connect_and_the_note_after_hang_up(  # type: ignore[no-untyped-def]
    qtbot, main, app_context, account
) -> None:
    app_context.engine.config.auto_log = True
    strip = main.window.live_strip
    script = _script(app_context)
    _feed(main, app_context, script, "Setup", 0)
    change = _feed(main, app_context, script, "Answered", 3)
    assert change.auto_log_queued
    app_context.engine.run_outbox()
    app_context.engine.run_outbox()
    logs = app_context.adapter.call_logs()
    assert len(logs) == 1 and "(pending)" in logs[0].body
    qtbot.keyClicks(strip.note, "Callback Friday")
    qtbot.waitUntil(lambda: app_context.engine.draft(script.tsid) is not None)
    _feed(main, app_context, script, "Disconnected", 63)
    # No form opens for a logged call; Done sends the note to the log
    assert strip.done_button.isVisible()
    qtbot.mouseClick(strip.done_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Callback Friday" in app_context.adapter.call_logs()[0].body or _drain(app_context))
    # The account records its calls: the final duration waits a little for a recording on its way
    account.advance(SETTLE.total_seconds())
    qtbot.waitUntil(lambda: not app_context.engine.store.count_items("queued") or _drain(app_context))
    _drain(app_context)
    body = app_context.adapter.call_logs()[0].body
    assert "Callback Friday" in body and "(pending)" not in body and "1 minute, 3 seconds" in body
    assert strip.isHidden()


def _drain(app_context: Any) -> bool:
    app_context.engine.run_outbox()
    return not app_context.engine.store.count_items("queued")


def test_a_second_call_takes_the_strip_and_the_first_stays_in_the_selector(  # type: ignore[no-untyped-def]
    qtbot, main, app_context
) -> None:
    strip = main.window.live_strip
    first = _script(app_context, 1)
    _feed(main, app_context, first, "Setup", 0)
    _feed(main, app_context, first, "Answered", 2)
    _feed(main, app_context, first, "Hold", 20)
    second = _script(app_context, 2, caller="+12125550147")
    _feed(main, app_context, second, "Setup", 21)
    assert strip.call_id == second.tsid
    assert strip.selector.isVisible() and strip.selector.count() == 2
    strip.selector.activated.emit(1)
    assert strip.call_id == first.tsid


def test_the_timer_reads_minutes_and_seconds() -> None:
    assert elapsed_text(0) == "0:00" and elapsed_text(65) == "1:05" and elapsed_text(3725) == "1:02:05"
