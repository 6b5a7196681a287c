# SPDX-License-Identifier: MIT
"""The editor: loads through get_call_log, saves through update_call_log, handles CRM-side edits."""

from __future__ import annotations

from PySide6.QtCore import Qt

from desktop.engine.models import Draft
from desktop.ui.edit_dialog import EditDialog
from tests.ui.conftest import place


def _logged(main, account, app_context, note: str = "First note"):  # type: ignore[no-untyped-def]
    place(account, "inbound", "+12125550147", duration=200)
    account.advance(30)
    main.poller.poll_now()
    item = main.window.proxy.item_at(0)
    contact = app_context.engine.match_contacts(item.call_id)[0]
    draft = Draft(contact_id=contact.id, contact_name=contact.name, subject="Inbound call from Ben Okafor", note=note)
    assert main.ports.log(item.call_id, draft, None).logged
    main.poller.poll_now()
    return main.model.item(item.call_id)


def test_editor_changes_only_what_the_agent_changed(qtbot, main, account, app_context) -> None:
    item = _logged(main, account, app_context)
    crm = app_context.adapter
    before = crm.call_logs()[0]
    editor = main.open_edit(item)
    assert isinstance(editor, EditDialog)
    assert editor.fields.values()["disposition"] == before.dispositions.get("disposition")
    # When only the subject changes
    editor.subject.setText("Renewal call with Ben")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    # Then the CRM has the new subject and the very same body
    after = crm.call_logs()[0]
    assert after.subject == "Renewal call with Ben"
    assert after.body == before.body


def test_enter_a_subject_goes_as_soon_as_one_is_typed(qtbot, main, account, app_context) -> None:
    # Given the agent emptied the subject and pressed Update
    editor = main.open_edit(_logged(main, account, app_context))
    editor.subject.selectAll()
    qtbot.keyClick(editor.subject, Qt.Key.Key_Delete)
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert editor.error.isVisible() and editor.error.label.text() == "Enter a subject."
    # When they type one
    qtbot.keyClicks(editor.subject, "Renewal")
    # Then the message is gone at once, and Update sends it
    assert not editor.error.isVisible()
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert app_context.adapter.call_logs()[0].subject == "Renewal"


def test_crm_side_edit_is_reported_and_apply_mine_keeps_the_person_s_other_text(
    qtbot, main, account, app_context, caplog
) -> None:
    # Given the editor is open and someone edits the note in the CRM meanwhile
    item = _logged(main, account, app_context)
    crm = app_context.adapter
    editor = main.open_edit(item)
    log_id = crm.call_logs()[0].ref.log_id
    crm.person_edits(log_id, body=lambda body: body.replace("First note", "First note (checked by Sam)"))
    # When the agent saves their own change
    editor.note.setPlainText("First note, and the quote is sent")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    # Then the dialog says so and offers both ways out
    assert editor.isVisible() and editor.conflict.isVisible()
    assert "changed in Local CRM" in editor.conflict.label.text()
    # When they apply just their change
    qtbot.mouseClick(editor.apply_mine, Qt.MouseButton.LeftButton)
    # Then their note is in the CRM and the dialog closes
    assert not editor.isVisible()
    assert "First note, and the quote is sent" in crm.call_logs()[0].body


def test_reload_after_a_crm_side_edit_shows_the_current_record(qtbot, main, account, app_context, caplog) -> None:
    item = _logged(main, account, app_context)
    crm = app_context.adapter
    editor = main.open_edit(item)
    crm.person_edits(crm.call_logs()[0].ref.log_id, subject="Edited in the CRM")
    editor.subject.setText("Mine")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert editor.conflict.isVisible()
    qtbot.mouseClick(editor.conflict.action, Qt.MouseButton.LeftButton)
    assert editor.subject.text() == "Edited in the CRM"
    assert not editor.conflict.isVisible()


def test_cancel_with_typed_changes_asks_before_dropping_them(qtbot, main, account, app_context) -> None:
    item = _logged(main, account, app_context)
    editor = main.open_edit(item)
    editor.note.setPlainText("Something I typed")
    # When the agent presses Cancel
    qtbot.mouseClick(editor.cancel_button, Qt.MouseButton.LeftButton)
    # Then the editor stays open and asks
    assert editor.isVisible() and editor.discard.isVisible()
    # When they confirm, it closes and the CRM is untouched
    qtbot.mouseClick(editor.discard.action, Qt.MouseButton.LeftButton)
    assert not editor.isVisible()
    assert "Something I typed" not in app_context.adapter.call_logs()[0].body


def test_an_edit_not_sent_before_a_crash_comes_back(qtbot, main, account, app_context) -> None:
    # Given the agent typed in the editor, and the app died before they pressed Update
    item = _logged(main, account, app_context)
    editor = main.open_edit(item)
    editor.note.setPlainText("First note, plus what I typed before the crash")
    qtbot.waitUntil(editor.draft_settled)
    editor.hide()  # gone without Cancel or Update, as in a crash
    # When they open the editor again
    again = EditDialog(main.model.item(item.call_id), main.ports, submit=main._submit)
    qtbot.addWidget(again)
    # Then their text is back, and they are told
    assert again.note.toPlainText() == "First note, plus what I typed before the crash"
    assert not again.restored.isHidden()
    # When they send it, it reaches the CRM and the draft is gone
    qtbot.mouseClick(again.save_button, Qt.MouseButton.LeftButton)
    assert "what I typed before the crash" in app_context.adapter.call_logs()[0].body
    third = EditDialog(main.model.item(item.call_id), main.ports, submit=main._submit)
    qtbot.addWidget(third)
    assert third.restored.isHidden() and not third.has_changes()
