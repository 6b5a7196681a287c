# SPDX-License-Identifier: MIT
"""The main window over the sandbox: filters, search, row actions, keyboard, status, shutdown."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication

from desktop.ui.call_table_model import CallFilter, CallTableModel, LogStatus, RowAction


def _ids(window) -> list[str]:  # type: ignore[no-untyped-def]
    return [i.call_id for i in window.proxy.visible_items()]


def test_filter_buttons_and_search_narrow_the_list(qtbot, main, busy_day) -> None:
    window = main.window
    assert window.proxy.rowCount() == 6
    # When the agent clicks "Unlogged"
    qtbot.mouseClick(window.filter_buttons[CallFilter.UNLOGGED], Qt.MouseButton.LeftButton)
    # Then only calls still to log remain, and the button counts them
    assert {i.status for i in window.proxy.visible_items()} == {LogStatus.UNLOGGED}
    assert window.filter_buttons[CallFilter.UNLOGGED].text() == "Unlogged  4"
    qtbot.mouseClick(window.filter_buttons[CallFilter.MISSED], Qt.MouseButton.LeftButton)
    assert [i.result for i in window.proxy.visible_items()] == ["Missed"]
    qtbot.mouseClick(window.filter_buttons[CallFilter.ALL], Qt.MouseButton.LeftButton)
    # When they type part of a name, then part of a number
    qtbot.keyClicks(window.search_box, "okafor")
    assert [i.contact_name for i in window.proxy.visible_items()] == ["Ben Okafor"]
    window.search_box.clear()
    qtbot.keyClicks(window.search_box, "303 555")
    assert [i.phone for i in window.proxy.visible_items()] == ["+1 303-555-0164"]
    assert window.count_label.text() == "Showing 1 of 6 calls"


def test_ctrl_j_walks_through_unlogged_calls(qtbot, main, busy_day) -> None:
    window = main.window
    seen = []
    for _ in range(5):
        window.next_unlogged_requested.emit()
        seen.append(window.table.current_item())
    assert all(i is not None and i.status is LogStatus.UNLOGGED for i in seen)
    assert len({i.call_id for i in seen[:4]}) == 4 and seen[4].call_id == seen[0].call_id


def test_copy_number_and_open_in_crm(qtbot, main, busy_day, app_context) -> None:
    window = main.window
    logged = next(i for i in window.model.items() if i.status is LogStatus.LOGGED)
    window.row_action.emit(logged.call_id, RowAction.COPY.value)
    assert QGuiApplication.clipboard().text() == logged.phone
    # The Local CRM has no web page: the agent is told instead of a dead link
    window.row_action.emit(logged.call_id, RowAction.OPEN.value)
    assert main.opened_urls == []
    assert "no web page" in window.error_button.text()


def test_open_in_crm_fills_the_manifest_template(main, busy_day, monkeypatch) -> None:
    from adapters.base import UrlTemplates

    manifest = main.ports.manifest.model_copy(
        update={"urls": UrlTemplates(open_log="https://crm.example/logs/{log_id}?c={contact_id}")}
    )
    monkeypatch.setattr(main.ports, "manifest", manifest)
    logged = next(i for i in main.model.items() if i.status is LogStatus.LOGGED)
    main.window.row_action.emit(logged.call_id, RowAction.OPEN.value)
    assert main.opened_urls == [f"https://crm.example/logs/{logged.crm_log_id}?c={logged.contact_id}"]


def test_poll_updates_rows_in_place_keeping_the_selection(qtbot, main, busy_day, account) -> None:
    window = main.window
    pending = next(i for i in window.model.items() if i.pending)
    window.select_call(pending.call_id)
    # When the recording and AI note arrive and a new call comes in
    from tests.ui.conftest import place

    for _ in range(4):
        account.advance(30)
        main.poller.poll_now()
    place(account, "inbound", "+13125550198", duration=50)
    account.advance(30)
    main.poller.poll_now()
    # Then the same call is still selected, complete now, and the new call is on top
    current = window.table.current_item()
    assert current is not None and current.call_id == pending.call_id and current.pending == ()
    assert window.proxy.item_at(0).phone == "+1 312-555-0198"
    assert window.proxy.index(0, CallTableModel.COL_STATUS).data() == "Unlogged"


def test_status_bar_shows_sync_state_and_pending_work(main, busy_day) -> None:
    window = main.window
    assert window.sync_label.text().startswith("● Synced")
    assert "waiting for recording / AI note" in window.pending_label.text()


def test_offline_shows_a_banner_and_keeps_saved_work(qtbot, main, busy_day, account, caplog) -> None:
    # Given RingCentral stops answering
    account.inject("server-error", times=50)
    account.advance(60)
    main.poller.poll_now()
    # Then the window says so plainly
    assert main.window.offline_banner.isVisible()
    assert "Offline" in main.window.sync_label.text()


def test_every_stored_call_is_listed_and_rows_are_read_as_they_scroll_into_view(qtbot, main, app_context) -> None:
    from datetime import UTC, datetime, timedelta

    from adapters.testing.calls import inbound_call

    # Given 300 calls stored in earlier sessions, a minute apart, with nothing read yet
    first = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    calls = [inbound_call(f"+1415555{n:04d}", caller_name=f"Caller {n}", start_time=first + timedelta(minutes=n))
             for n in range(300)]
    app_context.engine.store.upsert_calls(calls, "ext-1", first)
    read: list[str] = []
    reader = main._read_calls
    main.model.set_reader(lambda ids: (read.extend(ids), reader(ids))[1])
    window = main.window
    window.resize(900, 500)
    # When the window lists the stored calls again (as at start-up)
    main.start()
    # Then all 300 are in the table and counted, the newest on top
    assert window.model.rowCount() == 300 and window.count_label.text() == "300 calls"
    assert window.filter_buttons[CallFilter.UNLOGGED].text() == "Unlogged  300"
    assert window.proxy.item_at(0).contact_name == "Caller 299"
    # And scrolling to the bottom reads one page there, where the oldest call is
    read.clear()
    window.table.scrollToBottom()
    window.table.viewport().repaint()
    bottom = window.table.indexAt(QPoint(1, window.table.viewport().height() - 5))
    assert bottom.data(CallTableModel.CallRole).contact_name == "Caller 0"
    assert 0 < len(read) <= 150
    # And search covers every call, read or not
    qtbot.keyClicks(window.search_box, "caller 1")
    assert window.count_label.text() == "Showing 111 of 300 calls"
    assert window.proxy.item_at(window.proxy.rowCount() - 1).contact_name == "Caller 1"


def test_window_geometry_and_columns_survive_a_restart(qtbot, main, busy_day) -> None:
    from desktop.app import make_window

    window = main.window
    window.resize(760, 450)
    window.table.setColumnWidth(CallTableModel.COL_TIME, 201)
    window.save_ui_state()
    again = make_window(sandbox=True)
    qtbot.addWidget(again)
    again.restore_ui_state()
    assert again.table.columnWidth(CallTableModel.COL_TIME) == 201
    assert again.size().width() == 760


def test_a_call_that_just_ended_asks_to_be_logged_and_the_notice_opens_the_dialog(
    qtbot, main, busy_day, account
) -> None:
    from desktop.ui.log_dialog import LogDialog
    from tests.ui.conftest import place

    # When a call with a known contact ends
    place(account, "inbound", "+13035550164", duration=75)
    account.advance(30)
    main.poller.poll_now()
    # Then the agent is asked about it by name
    assert "Log your call with Elena Petrova?" in main.window.flash_label.text()
    # When they click the notification
    dialogs: list[object] = []
    main.dialog_opened.connect(dialogs.append)
    main.on_tray_message_clicked()
    # Then the log dialog opens on that call
    assert isinstance(dialogs[-1], LogDialog) and dialogs[-1].item.phone == "+1 303-555-0164"


def test_clicking_a_rows_plus_button_opens_the_log_dialog(qtbot, main, busy_day) -> None:
    from desktop.ui.log_dialog import LogDialog

    window = main.window
    window.resize(1180, 640)
    row = next(r for r in range(window.proxy.rowCount()) if window.proxy.item_at(r).status is LogStatus.UNLOGGED)
    rect = window.table.visualRect(window.proxy.index(row, CallTableModel.COL_ACTION))
    dialogs: list[object] = []
    main.dialog_opened.connect(dialogs.append)
    # When the agent clicks the "+ Log" button painted at the right of the row
    button = QPoint(rect.right() - 30, rect.center().y())
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=button)
    # Then the log dialog opens for that call
    assert len(dialogs) == 1 and isinstance(dialogs[0], LogDialog)
    assert dialogs[0].item.call_id == window.proxy.item_at(row).call_id


def test_last_error_in_the_status_bar_opens_its_details(qtbot, main, busy_day) -> None:
    from PySide6.QtWidgets import QMessageBox

    main._show_error("HubSpot said: property 'hs_call_disposition' is read-only")
    window = main.window
    assert window.error_button.isVisible()
    qtbot.mouseClick(window.error_button, Qt.MouseButton.LeftButton)
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and "read-only" in boxes[0].text()
    assert "Nothing you typed is lost" in boxes[0].informativeText()
    boxes[0].close()


def test_new_calls_arriving_on_top_do_not_move_the_rows_being_read(qtbot, main, busy_day, account) -> None:
    from tests.ui.conftest import place

    window = main.window
    window.resize(900, 330)  # a short window: the list scrolls
    for n in range(8):
        place(account, "inbound", None, duration=30 + n)
        account.advance(40)
    main.poller.poll_now()
    table = window.table
    table.verticalScrollBar().setValue(table.verticalScrollBar().maximum())
    top_before = table.indexAt(QPoint(1, 1)).data(CallTableModel.CallRole).call_id
    # When another call arrives
    place(account, "outbound", "+13035550164", duration=61)
    account.advance(30)
    main.poller.poll_now()
    # Then the row at the top of the view is the same one
    assert table.indexAt(QPoint(1, 1)).data(CallTableModel.CallRole).call_id == top_before


def test_keyboard_first_newest_call_selected_and_escape_clears_search(qtbot, main, busy_day) -> None:
    window = main.window
    # A call is selected as soon as calls load (and stays selected as new ones arrive on top)
    assert window.table.current_item() is not None
    # Escape in the search box clears it and goes back to the list
    window.search_box.setFocus()
    qtbot.keyClicks(window.search_box, "okafor")
    assert window.proxy.rowCount() == 1
    qtbot.keyClick(window.search_box, Qt.Key.Key_Escape)
    assert window.search_box.text() == "" and window.proxy.rowCount() == 6


def test_idle_timer_tick_leaves_the_table_untouched(qtbot, main, busy_day) -> None:
    # Given the table after a poll, and nothing new in RingCentral or the CRM
    model = main.window.model
    main.poller.poll_now()
    touched: list[str] = []
    model.modelReset.connect(lambda: touched.append("reset"))
    model.dataChanged.connect(lambda *a: touched.append("changed"))
    model.rowsInserted.connect(lambda *a: touched.append("inserted"))
    fetched: list[object] = []
    main.poller.calls_fetched.connect(fetched.append)
    # When the timer ticks
    main.poller._timer.timeout.emit()
    # Then the rows were not handed to the GUI again and the table was neither reset nor repainted
    assert fetched == [] and touched == []
    assert main.poller.state == "idle"
