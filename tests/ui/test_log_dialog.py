# SPDX-License-Identifier: MIT
"""The "+" dialog against the sandbox and the Local CRM: matches, subject, drafts, fields, failures."""

from __future__ import annotations

from itertools import combinations

from PySide6.QtCore import QEvent, QPoint, QRect, Qt, QThreadPool
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QWidget

from desktop.ui.call_table_model import LogStatus
from desktop.ui.log_dialog import CREATE_NEW, SEARCH, LogDialog
from desktop.ui.resources import app_stylesheet
from desktop.workers import bind_pool
from tests.ui.conftest import place


def _arrived(main, account, kind: str, phone: str | None):  # type: ignore[no-untyped-def]
    place(account, kind, phone, duration=None if kind == "missed" else 120)
    account.advance(30)
    main.poller.poll_now()
    item = main.window.proxy.item_at(0)
    assert item is not None
    return item


def test_several_matches_show_a_picker_and_a_notice(qtbot, main, account, app_context) -> None:
    # Given two CRM contacts share the caller's number
    app_context.adapter.add_contact("Ben Okafor Jr", "+12125550147")
    item = _arrived(main, account, "inbound", "+12125550147")
    # When the agent opens "+"
    dialog = main.open_log(item)
    # Then both are offered, with a notice, and the subject follows the choice
    names = [dialog.contact_combo.itemText(i) for i in range(dialog.contact_combo.count())]
    assert any(n.startswith("Ben Okafor —") for n in names) and any(n.startswith("Ben Okafor Jr") for n in names)
    assert dialog.notice.isVisible() and "2 contacts match" in dialog.notice.label.text()
    dialog.contact_combo.setCurrentIndex(1)
    assert dialog.subject.text() == f"Inbound call from {dialog.selected_contact().name}"


def test_subject_follows_contact_until_the_agent_edits_it(qtbot, main, account, app_context) -> None:
    app_context.adapter.add_contact("Ben Okafor Jr", "+12125550147")
    dialog = main.open_log(_arrived(main, account, "inbound", "+12125550147"))
    # When the agent types their own subject
    dialog.subject.clear()
    qtbot.keyClicks(dialog.subject, "Renewal follow-up")
    # Then switching the contact leaves it alone
    dialog.contact_combo.setCurrentIndex(1)
    assert dialog.subject.text() == "Renewal follow-up"


def test_no_match_creates_a_contact_and_logs_against_it(qtbot, main, account, app_context) -> None:
    # Given a caller nobody knows
    item = _arrived(main, account, "inbound", "+19175550171")
    dialog = main.open_log(item)
    assert "No contact found" in dialog.notice.label.text()
    # When the agent chooses "Create new contact", types a name and saves
    dialog.contact_combo.setCurrentIndex(dialog.contact_combo.findData(CREATE_NEW))
    assert dialog.new_name.isVisible()
    qtbot.keyClicks(dialog.new_name, "Rosa Diaz")
    assert dialog.subject.text() == "Inbound call from Rosa Diaz"
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    # Then the contact exists in the CRM and the log is filed under it
    created = [c for c in app_context.adapter.contacts() if c.name == "Rosa Diaz"]
    assert len(created) == 1
    logs = app_context.adapter.call_logs()
    assert len(logs) == 1 and logs[0].contact_id == created[0].id
    assert main.model.item(item.call_id).status is LogStatus.LOGGED


def test_search_by_name_adds_the_contact_found(qtbot, main, account, app_context) -> None:
    dialog = main.open_log(_arrived(main, account, "inbound", "+19175550171"))
    dialog.contact_combo.setCurrentIndex(dialog.contact_combo.findData(SEARCH))
    qtbot.keyClicks(dialog.search_box, "Elena")
    qtbot.mouseClick(dialog.search_button, Qt.MouseButton.LeftButton)
    assert dialog.selected_contact() is not None and dialog.selected_contact().name == "Elena Petrova"
    assert dialog.subject.text() == "Inbound call from Elena Petrova"


def test_enter_in_the_contact_search_searches_and_does_not_save(qtbot, main, account, app_context) -> None:
    # Given a caller nobody knows, and the agent searching the CRM by name
    item = _arrived(main, account, "inbound", "+19175550171")
    dialog = main.open_log(item)
    started: list[str] = []
    dialog.save_started.connect(started.append)
    dialog.contact_combo.setCurrentIndex(dialog.contact_combo.findData(SEARCH))
    qtbot.keyClicks(dialog.search_box, "Elena")
    # When they press Enter in the search box
    qtbot.keyClick(dialog.search_box, Qt.Key.Key_Return)
    # Then the contact found is chosen, and nothing is saved: the dialog waits for Save
    assert dialog.selected_contact() is not None and dialog.selected_contact().name == "Elena Petrova"
    assert dialog.isVisible() and started == [] and not dialog.error.isVisible()
    assert app_context.adapter.call_logs() == []
    assert main.model.item(item.call_id).status is LogStatus.UNLOGGED
    # And the keypad's Enter on a name nobody has only says so
    dialog.contact_combo.setCurrentIndex(dialog.contact_combo.findData(SEARCH))
    dialog.search_box.clear()
    qtbot.keyClicks(dialog.search_box, "Nobody Atall")
    qtbot.keyClick(dialog.search_box, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    assert "No contact named “Nobody Atall”" in dialog.notice.label.text()
    assert dialog.isVisible() and started == [] and app_context.adapter.call_logs() == []
    # And Save logs it against the contact the search found
    dialog.contact_combo.setCurrentIndex(dialog.contact_combo.findText("Elena Petrova", Qt.MatchFlag.MatchStartsWith))
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert started == [item.call_id]
    assert [log.contact_name for log in app_context.adapter.call_logs()] == ["Elena Petrova"]


def _overlapping(dialog: LogDialog) -> list[tuple[str, str]]:
    """Rows of the dialog drawn over one another, or out of its bounds."""
    rows: dict[str, QWidget | None] = {
        "notice": dialog.notice, "contact": dialog.contact_combo, "new contact": dialog.new_name,
        "subject": dialog.subject, "note": dialog.note, "fields": dialog.fields, "save": dialog.save_button,
    }
    rects = {name: QRect(w.mapTo(dialog, QPoint(0, 0)), w.size()) for name, w in rows.items()
             if w is not None and w.isVisible()}
    out = [(a, b) for a, b in combinations(rects, 2) if rects[a].intersects(rects[b])]
    return out + [(name, "edge") for name, rect in rects.items() if not dialog.rect().contains(rect)]


def test_the_no_contact_banner_never_covers_the_note(qtbot, main, account, app_context) -> None:
    # Given the app's style, and a caller nobody knows: the banner's text takes two lines
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    style = app.styleSheet()
    app.setStyleSheet(app_stylesheet())
    pool = QThreadPool()
    try:
        item = _arrived(main, account, "inbound", "+19175550171")
        # When the dialog opens and its contacts load off the GUI thread, as in the app
        dialog = LogDialog(item, main.ports, submit=bind_pool(pool), parent=main.window)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda: dialog.fields is not None and dialog.fields.isVisible() and dialog.notice.isVisible())
        QApplication.sendPostedEvents(dialog, QEvent.Type.LayoutRequest)
        # Then the banner, the contact, the subject, the note and the fields each have their own place
        assert "No contact found" in dialog.notice.label.text()
        assert dialog.notice.label.height() > dialog.notice.label.fontMetrics().lineSpacing() * 3 // 2
        assert _overlapping(dialog) == []
        # And still when the agent makes the dialog as small as it goes
        dialog.resize(dialog.width(), 1)
        qtbot.waitUntil(lambda: dialog.height() == dialog.minimumHeight())
        QApplication.sendPostedEvents(dialog, QEvent.Type.LayoutRequest)
        assert _overlapping(dialog) == []
        assert dialog.note.height() >= dialog.note.minimumHeight()
    finally:
        pool.waitForDone()
        app.setStyleSheet(style)


def test_draft_survives_closing_the_dialog(qtbot, main, account, app_context) -> None:
    # Given the agent typed a note and closed the dialog without saving
    item = _arrived(main, account, "inbound", "+12125550147")
    dialog = main.open_log(item)
    qtbot.keyClicks(dialog.note, "Half-written note")
    dialog.fields.input("case_number").setText("SUP-77")
    qtbot.waitUntil(dialog.draft_settled)
    dialog.close()
    # When they open it again (a fresh dialog, as after a restart)
    again = LogDialog(item, main.ports, submit=main._submit)
    qtbot.addWidget(again)
    # Then everything is back
    assert again.note.toPlainText() == "Half-written note"
    assert again.fields.values()["case_number"] == "SUP-77"
    assert again.draft_label.text() == "Draft restored"


def test_pattern_validation_is_inline_and_blocks_saving(qtbot, main, account, app_context) -> None:
    dialog = main.open_log(_arrived(main, account, "inbound", "+12125550147"))
    case = dialog.fields.input("case_number")
    assert isinstance(case, QLineEdit)
    case.setText("not a case")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    error = dialog.findChild(type(dialog.draft_label), "error_case_number")
    assert error is not None and error.isVisible() and error.text().startswith("Wrong format")
    assert app_context.adapter.call_logs() == []
    assert dialog.isVisible()


def test_a_wrong_format_message_goes_as_soon_as_the_field_is_fixed(qtbot, main, account, app_context) -> None:
    # Given a caller nobody knows, and Save refused: no name for the new contact, a case number
    # in the wrong format
    dialog = main.open_log(_arrived(main, account, "inbound", "+19175550171"))
    assert dialog.contact_combo.currentData() == CREATE_NEW
    case = dialog.fields.input("case_number")
    assert isinstance(case, QLineEdit)
    qtbot.keyClicks(case, "not a case")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    field_error = dialog.findChild(type(dialog.draft_label), "error_case_number")
    assert dialog.error.isVisible() and "Wrong format" in dialog.error.label.text()
    assert "Enter a name for the new contact" in dialog.error.label.text() and field_error.isVisible()
    # When the agent types the name
    qtbot.keyClicks(dialog.new_name, "Rosa Diaz")
    # Then only the format is still asked for
    assert dialog.error.isVisible() and dialog.error.label.text().startswith("Wrong format")
    # When they correct the case number
    case.clear()
    qtbot.keyClicks(case, "SUP-1234")
    # Then no message is left, next to the field or below the form, and Save logs it
    assert not dialog.error.isVisible() and not field_error.isVisible()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert [log.contact_name for log in app_context.adapter.call_logs()] == ["Rosa Diaz"]


def test_choose_a_contact_goes_as_soon_as_one_is_chosen(qtbot, main, account, app_context) -> None:
    # Given the look-up failed, so no contact is chosen, and Save asked for one
    item = _arrived(main, account, "inbound", "+12125550147")
    engine = app_context.engine
    engine.budgets.crm.block(engine.clock.now(), 60)
    dialog = main.open_log(item)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.error.isVisible() and dialog.error.label.text() == "Choose a contact."
    # When the agent turns to the search (the CRM answers again), the message says what is left
    account.advance(61)
    dialog.contact_combo.setCurrentIndex(dialog.contact_combo.findData(SEARCH))
    assert dialog.error.isVisible() and "search, then pick one" in dialog.error.label.text()
    # When the search finds the contact
    qtbot.keyClicks(dialog.search_box, "Ben")
    qtbot.keyClick(dialog.search_box, Qt.Key.Key_Return)
    # Then the message is gone at once
    assert dialog.selected_contact() is not None and dialog.selected_contact().name.startswith("Ben")
    assert not dialog.error.isVisible()


def test_selection_fields_offer_none_and_use_per_direction_defaults(qtbot, main, account) -> None:
    inbound = main.open_log(_arrived(main, account, "inbound", "+12125550147"))
    combo = inbound.fields.input("disposition")
    assert isinstance(combo, QComboBox)
    assert combo.itemText(0) == "None" and combo.currentData() == "connected"
    outbound = main.open_log(_arrived(main, account, "outbound", "+13035550164"))
    assert outbound.fields.input("disposition").currentData() is None


def test_failed_save_keeps_the_content_and_retry_succeeds(qtbot, main, account, app_context, caplog) -> None:
    # Given the contact the agent picked was deleted in the CRM meanwhile
    item = _arrived(main, account, "inbound", "+12125550147")
    dialog = main.open_log(item)
    qtbot.keyClicks(dialog.note, "Important details")
    crm = app_context.adapter
    contact_id = dialog.selected_contact().id
    with crm._write() as db:  # a person deletes the contact in the CRM
        db.execute("DELETE FROM contacts WHERE id = ?", (int(contact_id),))
    # When the agent saves
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    # Then the CRM's message shows with Retry, and nothing typed is lost
    assert dialog.isVisible()
    assert dialog.error.isVisible() and "no longer in the Local CRM" in dialog.error.label.text()
    assert dialog.error.action.isVisible() and dialog.error.action.text() == "Retry"
    assert dialog.note.toPlainText() == "Important details"
    # When the contact is back and the agent presses Retry
    restored = crm.add_contact("Ben Okafor", "+12125550147")
    dialog.contact_combo.setItemData(0, restored.id)
    dialog._matches[0] = restored
    qtbot.mouseClick(dialog.error.action, Qt.MouseButton.LeftButton)
    # Then it is logged
    assert not dialog.isVisible()
    assert crm.call_logs()[0].contact_id == restored.id


def test_save_while_the_crm_is_rate_limited_queues_the_log_and_sends_it_later(
    qtbot, main, account, app_context
) -> None:
    # Given the dialog is open, and then the CRM asks us to wait a minute
    item = _arrived(main, account, "inbound", "+12125550147")
    dialog = main.open_log(item)
    qtbot.keyClicks(dialog.note, "Queued note")
    engine = app_context.engine
    engine.budgets.crm.block(engine.clock.now(), 60)
    # When the agent saves
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    # Then the dialog closes, the agent is told it will be sent, and the row says so
    assert not dialog.isVisible()
    assert "sent as soon as it can" in main.window.flash_label.text()
    assert main.model.item(item.call_id).status is LogStatus.SAVING
    assert "CRM rate limit" in main.window.rate_label.text()
    assert app_context.adapter.call_logs() == []
    # When the wait is over and the poller runs
    account.advance(61)
    main.poller.poll_now()
    # Then the log is in the CRM
    assert "Queued note" in app_context.adapter.call_logs()[0].body
    assert main.model.item(item.call_id).status is LogStatus.LOGGED


def test_failed_lookup_does_not_default_to_a_new_contact_and_can_be_retried(
    qtbot, main, account, app_context
) -> None:
    # Given the CRM refuses look-ups for a minute
    item = _arrived(main, account, "inbound", "+12125550147")
    engine = app_context.engine
    engine.budgets.crm.block(engine.clock.now(), 60)
    dialog = main.open_log(item)
    # Then the agent is told, nothing is chosen for them, and Save asks for a contact
    assert "Could not look up contacts" in dialog.notice.label.text()
    assert dialog.contact_combo.currentData() is None
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.error.isVisible() and "Choose a contact" in dialog.error.label.text()
    # When the wait is over and they look up again
    account.advance(61)
    qtbot.mouseClick(dialog.notice.action, Qt.MouseButton.LeftButton)
    # Then the caller's contact is found and chosen
    assert dialog.selected_contact() is not None and dialog.selected_contact().name == "Ben Okafor"
    assert not dialog.notice.isVisible()


def test_a_full_disk_keeps_the_note_says_so_and_saves_once_there_is_room(
    qtbot, main, account, app_context, monkeypatch
) -> None:
    from desktop.ui import dialog_parts

    monkeypatch.setattr(dialog_parts, "DISK_RETRY_MS", 50)
    # Given a caller nobody knows, and the agent creating the contact as they log the call
    item = _arrived(main, account, "inbound", "+19175550171")
    dialog = main.open_log(item)
    dialog.contact_combo.setCurrentIndex(dialog.contact_combo.findData(CREATE_NEW))
    qtbot.keyClicks(dialog.new_name, "Rosa Diaz")
    details = "Account history: " + "x" * 60_000 + "\n"  # pasted in: the log needs pages of its own
    dialog.note.setPlainText(details)
    dialog.note.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(dialog.note, "Wants the $1 plan <b>today</b>")
    qtbot.waitUntil(dialog.draft_settled)
    # And the disk full: no free page left in the database and it may not grow (SQLite's own
    # max_page_count limit, which fails a write with SQLITE_FULL as a full disk does)
    store = app_context.engine.store
    store._conn.execute("VACUUM")
    pages = store._query("PRAGMA page_count")[0][0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")
    # When the agent saves
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    # Then the dialog stays open with everything typed, says the disk is full, and waits
    assert dialog.isVisible()
    assert dialog.error.label.text().startswith("The disk is full: ")
    assert "free some space and it is saved" in dialog.error.label.text()
    assert dialog.save_button.text() == "Waiting for disk space…" and not dialog.save_button.isEnabled()
    assert dialog.note.toPlainText() == details + "Wants the $1 plan <b>today</b>"
    assert app_context.engine.status().queued == 0
    # And the contact it created is the one the retry logs against
    assert dialog.selected_contact() is not None and dialog.selected_contact().name == "Rosa Diaz"
    # When space is freed, it is saved by itself: one contact, one log, the note as typed
    store._conn.execute(f"PRAGMA max_page_count = {pages * 1000}")
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    crm = app_context.adapter
    [log] = crm.call_logs()
    assert "Wants the $1 plan <b>today</b>" in log.body
    assert sum(1 for c in crm.contacts() if c.name == "Rosa Diaz") == 1
