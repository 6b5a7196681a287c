# SPDX-License-Identifier: MIT
"""The calls table view: row selection, Enter to log, columns sized for the agent's day.

Imported after the window's first paint (see :meth:`MainWindow.install_calls`).

Threading contract: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from desktop.ui.call_table_model import CallItem, CallTableModel
from desktop.ui.overrides import override


class CallsTableView(QTableView):
    """The calls table. Enter logs (or edits) the current call.

    Signals:
        activated_call(str): Enter or double-click on a row; the call id.
        first_painted(): the rows have been painted for the first time (start-up continues then).
    """

    activated_call = Signal(str)
    first_painted = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("CallsTable")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setSortingEnabled(True)
        self.setMouseTracking(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(40)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setHighlightSections(False)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.doubleClicked.connect(self._on_double_clicked)
        self._painted = False

    def configure_columns(self) -> None:
        header = self.horizontalHeader()
        widths = {
            CallTableModel.COL_DIRECTION: 40,
            CallTableModel.COL_TIME: 130,
            CallTableModel.COL_DURATION: 80,
            CallTableModel.COL_RESULT: 140,
            CallTableModel.COL_STATUS: 260,
            CallTableModel.COL_ACTION: 96,
        }
        for col, width in widths.items():
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            self.setColumnWidth(col, width)
        header.setSectionResizeMode(CallTableModel.COL_CONTACT, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(CallTableModel.COL_ACTION, QHeaderView.ResizeMode.Fixed)
        header.setMinimumSectionSize(40)

    def current_item(self) -> CallItem | None:
        index = self.currentIndex()
        if not index.isValid() or not self.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        value = index.data(CallTableModel.CallRole)
        return value if isinstance(value, CallItem) else None

    def _on_double_clicked(self, index: QModelIndex) -> None:
        value = index.data(CallTableModel.CallRole)
        if isinstance(value, CallItem) and index.column() != CallTableModel.COL_ACTION:
            self.activated_call.emit(value.call_id)

    @override
    def reset(self) -> None:
        # A search or filter resets the proxy: lay the rows out now rather than on the next turn of
        # the event loop, whose new scroll range would repaint the viewport a second time.
        super().reset()
        self.executeDelayedItemsLayout()

    @override
    def paintEvent(self, event: QPaintEvent) -> None:
        # Rather than an event filter: one that sees every event has PySide build the Python
        # types of all of them, which costs more at start-up than painting the rows.
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.first_painted.emit()

    @override
    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            item = self.current_item()
            if item is not None:
                self.activated_call.emit(item.call_id)
                return
        super().keyPressEvent(event)
