# SPDX-License-Identifier: MIT
"""The calls table model and its filter/sort proxy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt

from desktop.ui.call_table_model import (
    CallFilter,
    CallFilterProxy,
    CallItem,
    CallTableModel,
    LogStatus,
    format_duration,
)

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def item(n: int, **kw: object) -> CallItem:
    base: dict[str, object] = {
        "call_id": f"c{n}",
        "direction": "Inbound",
        "start_time": NOW - timedelta(minutes=10 * n),
        "phone": f"+1650555{n:04d}",
        "contact_name": f"Contact {n}",
        "duration_seconds": 60 + n,
        "result": "Call connected",
    }
    base.update(kw)
    return CallItem(**base)  # type: ignore[arg-type]


@pytest.fixture
def model() -> CallTableModel:
    m = CallTableModel(clock=lambda: NOW)
    m.set_rows([item(n) for n in range(5)])
    return m


@pytest.fixture
def proxy(model: CallTableModel) -> CallFilterProxy:
    p = CallFilterProxy()
    p.setSourceModel(model)
    return p


def test_set_rows_populates_model(model: CallTableModel) -> None:
    assert model.rowCount() == 5 and model.columnCount() == 7
    assert model.data(model.index(0, CallTableModel.COL_CONTACT)) == "Contact 0"
    assert model.data(model.index(2, CallTableModel.COL_DURATION)) == "1:02"
    assert model.data(model.index(0, CallTableModel.COL_STATUS)) == "Unlogged"
    assert model.data(model.index(0, CallTableModel.COL_TIME), CallTableModel.SortRole) == NOW


def test_invalid_index_and_unsupported_role_return_none(model: CallTableModel) -> None:
    assert model.data(QModelIndex()) is None
    assert model.data(model.index(0, 0), Qt.ItemDataRole.UserRole + 77) is None
    assert model.rowCount(model.index(0, 0)) == 0


def test_model_passes_qabstractitemmodeltester(qtmodeltester, model: CallTableModel) -> None:
    qtmodeltester.check(model)  # Qt's own QAbstractItemModelTester
    qtmodeltester.check(model, force_py=True)


def test_proxy_passes_qabstractitemmodeltester_while_filtering(qtmodeltester, proxy: CallFilterProxy) -> None:
    qtmodeltester.check(proxy)
    qtmodeltester.check(proxy, force_py=True)
    proxy.set_search("contact 3")
    proxy.set_filter(CallFilter.UNLOGGED)
    proxy.sort(CallTableModel.COL_DURATION, Qt.SortOrder.AscendingOrder)
    assert proxy.rowCount() == 1


def test_search_matches_name_and_number_digits(proxy: CallFilterProxy) -> None:
    proxy.set_search("contact 2")
    assert [i.call_id for i in proxy.visible_items()] == ["c2"]
    proxy.set_search("(650) 555-0004")
    assert [i.call_id for i in proxy.visible_items()] == ["c4"]
    proxy.set_search("")
    assert proxy.rowCount() == 5


def test_filters_select_by_log_state_and_missed(model: CallTableModel, proxy: CallFilterProxy) -> None:
    # Given a logged call with a pending recording, a failed one and a missed one
    model.upsert(
        [
            item(1, status=LogStatus.LOGGED, pending=("recording",)),
            item(2, status=LogStatus.LOGGED),
            item(3, status=LogStatus.FAILED),
            item(4, result="Missed", duration_seconds=0),
        ]
    )
    ids = lambda: sorted(i.call_id for i in proxy.visible_items())  # noqa: E731
    # Then each filter shows what its name says
    proxy.set_filter(CallFilter.LOGGED)
    assert ids() == ["c1", "c2"]
    proxy.set_filter(CallFilter.PENDING)
    assert ids() == ["c1"]
    proxy.set_filter(CallFilter.UNLOGGED)
    assert ids() == ["c0", "c3", "c4"]
    proxy.set_filter(CallFilter.MISSED)
    assert ids() == ["c4"]
    assert model.data(model.index(1, CallTableModel.COL_STATUS)) == "Logged · pending recording"


def test_update_in_place_keeps_selection(qtmodeltester, model: CallTableModel, proxy: CallFilterProxy) -> None:
    # Given Qt's model tester watching the proxy, and the third visible row selected
    qtmodeltester.check(proxy)
    selection = QItemSelectionModel(proxy)
    selection.setCurrentIndex(
        proxy.index(2, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    )
    # When the poller changes that call and a new call arrives on top
    with_changes = item(2, status=LogStatus.LOGGED)
    newest = item(-1, call_id="new")
    model.upsert([with_changes, newest])
    # Then the same call is still selected, now one row lower, with its new status
    current = selection.currentIndex()
    assert current.data(CallTableModel.CallRole).call_id == "c2"
    assert current.row() == 3
    assert proxy.index(3, CallTableModel.COL_STATUS).data() == "Logged"
    assert proxy.index(0, CallTableModel.COL_CONTACT).data() == "Contact -1"


def test_row_leaving_the_filter_disappears_without_losing_other_selection(
    model: CallTableModel, proxy: CallFilterProxy
) -> None:
    proxy.set_filter(CallFilter.UNLOGGED)
    selection = QItemSelectionModel(proxy)
    selection.setCurrentIndex(proxy.index(3, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    model.update_call("c1", status=LogStatus.LOGGED)
    assert [i.call_id for i in proxy.visible_items()] == ["c0", "c2", "c3", "c4"]
    assert selection.currentIndex().data(CallTableModel.CallRole).call_id == "c3"


def test_older_calls_append_at_the_bottom(model: CallTableModel, proxy: CallFilterProxy) -> None:
    model.upsert([item(50), item(51)])
    assert [i.call_id for i in proxy.visible_items()][-2:] == ["c50", "c51"]


def test_format_duration() -> None:
    assert format_duration(None) == "—"
    assert format_duration(65) == "1:05"
    assert format_duration(3725) == "1:02:05"


def test_a_poll_changing_many_rows_re_sorts_once(model: CallTableModel, proxy: CallFilterProxy) -> None:
    # Given the list sorted by log status
    proxy.sort(CallTableModel.COL_STATUS, Qt.SortOrder.AscendingOrder)
    layouts: list[int] = []
    proxy.layoutChanged.connect(lambda *args: layouts.append(1))
    # When one poll changes three rows
    model.upsert([item(n, status=LogStatus.LOGGED) for n in (0, 2, 4)])
    # Then the proxy re-sorted once, and the logged calls sort after the unlogged ones
    assert layouts == [1]
    assert [i.call_id for i in proxy.visible_items()] == ["c1", "c3", "c0", "c2", "c4"]


def _listed(n: int) -> tuple[str, str]:
    from desktop.engine.listing import ts

    return f"c{n}", ts(NOW - timedelta(minutes=10 * n))


def test_rows_not_read_yet_are_searched_filtered_and_sorted_from_the_listing(proxy: CallFilterProxy) -> None:
    from desktop.engine import listing
    from desktop.engine.listing import CallIndex, search_key

    model = proxy.sourceModel()
    read: list[str] = []
    model.set_reader(lambda ids: (read.extend(ids), [item(int(i[1:])) for i in ids])[1])
    # Given six calls listed, none read: c1 logged with a recording to come, c2 a missed call
    ids, starts = zip(*(_listed(n) for n in range(6)), strict=True)
    model.set_calls(ids, starts, keep_read=False)
    logged = listing.STATE_LOGGED | 1 << listing.PENDING_SHIFT
    states = bytes([0, logged, listing.MISSED, 0, 0, listing.STATE_FAILED])
    names = [f"Contact {n}" for n in range(6)]
    numbers = [f"+1650555{n:04d}" for n in range(6)]
    model.set_index(CallIndex(list(ids), [search_key(a, b) for a, b in zip(names, numbers, strict=True)], names,
                              numbers, [60 + n for n in range(6)], ["Call connected"] * 6, states))
    shown = lambda: [proxy.mapToSource(proxy.index(r, 0)).row() for r in range(proxy.rowCount())]  # noqa: E731
    # Then the filters, the search and a sort by duration work without reading a row
    proxy.set_filter(CallFilter.PENDING)
    assert shown() == [1]
    proxy.set_filter(CallFilter.MISSED)
    assert shown() == [2]
    proxy.set_filter(CallFilter.UNLOGGED)
    assert shown() == [0, 2, 3, 4, 5]
    proxy.set_filter(CallFilter.ALL)
    proxy.set_search("(650) 555-0004")
    assert shown() == [4]
    proxy.set_search("")
    proxy.sort(CallTableModel.COL_DURATION, Qt.SortOrder.AscendingOrder)
    assert shown() == [0, 1, 2, 3, 4, 5]
    assert read == []
    # When a row is shown, a page of rows around it is read in one go, in the order shown
    assert proxy.index(3, CallTableModel.COL_CONTACT).data() == "Contact 3"
    assert read == ["c0", "c1", "c2", "c3", "c4", "c5"]


def test_a_row_read_later_keeps_the_selection_and_a_poll_of_it_changes_it_in_place(
    qtmodeltester, proxy: CallFilterProxy
) -> None:
    model = proxy.sourceModel()
    model.set_reader(lambda ids: [item(int(i[1:])) for i in ids])
    ids, starts = zip(*(_listed(n) for n in range(5)), strict=True)
    model.set_calls(ids, starts, keep_read=False)
    qtmodeltester.check(proxy)
    selection = QItemSelectionModel(proxy)
    selection.setCurrentIndex(proxy.index(2, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    model.upsert([item(2, status=LogStatus.LOGGED), item(-1, call_id="new")])
    assert selection.currentIndex().data(CallTableModel.CallRole).call_id == "c2"
    assert proxy.index(selection.currentIndex().row(), CallTableModel.COL_STATUS).data() == "Logged"
    assert proxy.item_at(0).call_id == "new"


def test_north_american_numbers_are_shown_as_phonenumbers_writes_them() -> None:
    import phonenumbers

    from desktop.ui.call_table_model import display_number

    numbers = [f"+1{area}{exchange:03d}{line:04d}" for area in range(200, 1000)
               for exchange, line in ((0, 0), (555, 123), (999, 9999))]
    numbers += ["+10125550001", "+11125550001", "+1212555000", "+121255500011", "+442079460000", "2125550001"]
    for number in numbers:
        parsed = phonenumbers.parse(number, None if number.startswith("+") else "US")
        expected = (phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
                    if phonenumbers.is_possible_number(parsed) else number)
        assert display_number(number) == expected, number
