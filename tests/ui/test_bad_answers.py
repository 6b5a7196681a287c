# SPDX-License-Identifier: MIT
"""The main window on a bad day: RingCentral answers garbage, 401, 429 or nothing while the agent
is typing a log. The status bar says so in plain words, the open dialog keeps the note, and the
window returns to normal by itself once RingCentral answers again."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.ui.conftest import place

TYPED = "Wants the renewal quote by Friday."


@pytest.mark.parametrize(
    ("fault", "times", "says", "offline"),
    [
        ("not-json", 6, "RingCentral sent a response that is not JSON", True),
        ("token-invalid", 2, "Reconnect RingCentral in Settings", False),
        ("other-limit", 1, "Waiting for RingCentral's rate limit (5 s)", False),
        ("timeout", 6, "RingCentral did not answer in time; will retry", True),
    ],
)
def test_ringcentral_bad_answer_shows_a_plain_message_keeps_the_note_and_clears_itself(
    qtbot, main, account, app_context, fault: str, times: int, says: str, offline: bool
) -> None:
    window = main.window
    # Given the agent is typing a note for a call that just ended
    place(account, "inbound", "+12125550147", duration=120)
    account.advance(30)
    main.poller.poll_now()
    item = window.proxy.item_at(0)
    assert item is not None
    dialog = main.open_log(item)
    qtbot.keyClicks(dialog.note, TYPED)
    qtbot.waitUntil(dialog.draft_settled)

    # When RingCentral answers the next call-log sync badly (the client's own retries too)
    place(account, "outbound", "+13125550198", duration=60)
    account.advance(30)
    account.inject(fault, path_contains="call-log", times=times)
    main.poller.poll_now()

    # Then the status bar says what happened in plain words, naming RingCentral
    assert window.error_button.isVisible()
    assert says[:80] in window.error_button.text()
    assert "Traceback" not in window.error_button.text() and "Error(" not in window.error_button.text()
    assert window.offline_banner.isVisible() is offline
    if offline:  # the banner names the service that cannot be reached, and says the note is kept
        assert "Offline: RingCentral cannot be reached" in window.offline_banner.label.text()
        assert "Logs you save are kept" in window.offline_banner.label.text()
    if fault == "other-limit":
        assert "RingCentral rate limit: resuming in 5 s" in window.rate_label.text()
    # And the agent's note is still in the dialog and in the saved draft
    assert dialog.isVisible() and dialog.note.toPlainText() == TYPED
    draft = app_context.engine.draft(item.call_id)
    assert draft is not None and draft.note == TYPED

    # When time passes and RingCentral answers again
    for _ in range(12):
        if window.model.rowCount() == 2 and not window.error_button.isVisible():
            break
        account.advance(60)
        main.poller.poll_now()

    # Then the new call is listed, the message and banner are gone, and the note can still be saved
    assert window.model.rowCount() == 2
    assert not window.error_button.isVisible() and not window.offline_banner.isVisible()
    assert window.rate_label.text() == ""
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    [log] = app_context.adapter.call_logs()
    assert TYPED in log.body


def test_a_crm_rate_limit_names_the_crm_in_the_status_bar(qtbot, main, app_context) -> None:
    # When the CRM asks for a minute's pause
    engine = app_context.engine
    engine.budgets.crm.block(engine.clock.now(), 60)
    main.poller.poll_now()
    # Then the status bar names the CRM the agent connected, and how long the wait is
    assert "Local CRM rate limit: resuming in 60 s" in main.window.rate_label.text()
