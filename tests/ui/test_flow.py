# SPDX-License-Identifier: MIT
"""The agent's day, driven through the widgets: sandbox calls → "+" → Local CRM → poller → editor."""

from __future__ import annotations

from PySide6.QtCore import Qt

from adapters.ringcentral.sandbox.data import Person
from desktop.ui.call_table_model import CallTableModel, LogStatus
from desktop.ui.edit_dialog import EditDialog
from desktop.ui.log_dialog import LogDialog


def _arrive(main, account, **kw):  # type: ignore[no-untyped-def]
    """Places a call that just ended and polls until it is in the table."""
    before = main.model.rowCount()
    call = account.place_call("inbound", recorded=True, **kw)
    account.advance(30)
    main.poller.poll_now()
    assert main.model.rowCount() == before + 1
    return call


def test_log_a_call_with_plus_then_poller_completes_it_then_edit(qtbot, main, account, app_context) -> None:
    crm = app_context.adapter
    window = main.window
    # Given a call that just ended shows up unlogged
    _arrive(main, account, duration=95, remote=Person(name=None, phone_number="+12125550147"))
    item = window.proxy.item_at(0)
    assert item is not None and item.status is LogStatus.UNLOGGED
    assert window.proxy.index(0, CallTableModel.COL_STATUS).data() == "Unlogged"

    # When the agent selects it and presses Enter ("+")
    dialogs: list[object] = []
    main.dialog_opened.connect(dialogs.append)
    window.select_call(item.call_id)
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    dialog = dialogs[-1]
    assert isinstance(dialog, LogDialog)
    # Then the matched contact is chosen and the subject follows it
    contact = dialog.selected_contact()
    assert contact is not None
    assert dialog.subject.text() == f"Inbound call from {contact.name}"

    # When they type a note, pick a result and save
    qtbot.keyClicks(dialog.note, "Wants the renewal quote by Friday.")
    qtbot.waitUntil(dialog.draft_settled)
    assert app_context.engine.draft(item.call_id).note == "Wants the renewal quote by Friday."
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    # Then the CRM has the log, and the row says Logged with what is still pending
    logs = crm.call_logs()
    assert len(logs) == 1
    assert "Wants the renewal quote by Friday." in logs[0].body
    assert logs[0].subject == f"Inbound call from {contact.name}"
    qtbot.waitUntil(lambda: main.model.item(item.call_id).status is LogStatus.LOGGED)
    assert "recording" in main.model.item(item.call_id).pending

    # When the recording and the AI note arrive and the poller runs
    for _ in range(6):
        account.advance(30)
        main.poller.poll_now()
    # Then the CRM note has them, the agent's text is untouched, nothing is pending any more
    body = crm.call_logs()[0].body
    assert "Wants the renewal quote by Friday." in body
    assert "being processed" not in body and "(pending)" not in body
    assert main.model.item(item.call_id).pending == ()

    # When the agent edits the log
    window.select_call(item.call_id)
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    editor = dialogs[-1]
    assert isinstance(editor, EditDialog)
    # Then subject and note load from the CRM, the contact is read-only
    assert editor.subject.text() == f"Inbound call from {contact.name}"
    assert editor.note.toPlainText() == "Wants the renewal quote by Friday."
    assert editor.contact.isReadOnly() and editor.contact.text() == contact.name
    editor.note.setPlainText("Wants the renewal quote by Friday. Sent it.")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    # Then the update reaches the CRM, and the rest of the note (recording, AI note) is kept
    updated = crm.call_logs()[0].body
    assert "Wants the renewal quote by Friday. Sent it." in updated
    assert updated.replace("Wants the renewal quote by Friday. Sent it.", "") == body.replace(
        "Wants the renewal quote by Friday.", ""
    )

