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
