# SPDX-License-Identifier: MIT
"""The main window's layout: header, banners, filters and search, the calls table, the status bar.

Behaviour lives in :mod:`desktop.ui.main_controller`; this module only builds widgets and turns
clicks and shortcuts into signals.

Threading contract: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPushButton,
    QSizePolicy,
    QStatusBar,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from typing_extensions import override

from desktop.ui.call_table_model import CallFilter, CallFilterProxy, CallItem, CallTableModel, RowAction
from desktop.ui.delegates import ActionDelegate, ContactDelegate, StatusDelegate
from desktop.ui.resources import icon


class Banner(QFrame):
    """A one-line coloured message with an optional action button and a close button.

    Signals:
        action_clicked(): the action button was pressed.
    """

    action_clicked = Signal()

    def __init__(self, kind: str, text: str = "", action: str | None = None, closable: bool = True) -> None:
        super().__init__()
        self.setProperty("banner", kind)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.setSpacing(10)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label, 1)
        self.action = QPushButton(action or "")
        self.action.setVisible(bool(action))
        self.action.clicked.connect(self.action_clicked)
        layout.addWidget(self.action)
        if closable:
            close = QToolButton()
            close.setText("✕")
            close.setAutoRaise(True)
            close.setToolTip("Dismiss")
            close.clicked.connect(self.hide)
            layout.addWidget(close)

    def set_kind(self, kind: str) -> None:
        self.setProperty("banner", kind)
        self.style().unpolish(self)
        self.style().polish(self)

    def set_text(self, text: str) -> None:
        self.label.setText(text)


class CallsTableView(QTableView):
    """The calls table. Enter logs (or edits) the current call.

    Signals:
        activated_call(str): Enter or double-click on a row; the call id.
    """

    activated_call = Signal(str)

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
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(40)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setHighlightSections(False)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.doubleClicked.connect(self._on_double_clicked)

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
    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            item = self.current_item()
            if item is not None:
                self.activated_call.emit(item.call_id)
                return
        super().keyPressEvent(event)


class MainWindow(QMainWindow):
    """Recent calls, filters, search, row actions, banners and the status bar.

    Signals:
        row_action(str, str): a call id and a :class:`RowAction` value (log, edit, open, copy).
        refresh_requested(): the agent pressed Refresh (F5).
        load_older_requested(): "Load older calls".
        next_unlogged_requested(): jump to the next unlogged call (Ctrl+J).
        settings_requested(): the Settings button.
        error_details_requested(): the last-error link in the status bar.
        closing(): the window is closing (the app shuts down cleanly).
    """

    row_action = Signal(str, str)
    refresh_requested = Signal()
    load_older_requested = Signal()
    next_unlogged_requested = Signal()
    settings_requested = Signal()
    error_details_requested = Signal()
    closing = Signal()

    def __init__(self, model: CallTableModel, proxy: CallFilterProxy, *, sandbox: bool = False) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.setWindowTitle("Logdesk — sandbox" if sandbox else "Logdesk")
        self.setWindowIcon(icon("logdesk"))
        self.model = model
        self.proxy = proxy
        model.set_icons({"inbound": icon("inbound"), "outbound": icon("outbound"), "missed": icon("missed")})

        central = QWidget()
        root = QVBoxLayout(central)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)
        root.addWidget(self._build_header(sandbox))

        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(16, 12, 16, 12)
        body_layout.setSpacing(10)
        self.banners = QVBoxLayout()
        self.banners.setSpacing(6)
        body_layout.addLayout(self.banners)
        self.offline_banner = Banner("error", "", action="Retry now", closable=False)
        self.offline_banner.action_clicked.connect(self.refresh_requested)
        self.offline_banner.hide()
        self.banners.addWidget(self.offline_banner)
        body_layout.addLayout(self._build_filter_row())

        self.table = CallsTableView()
        self.table.setModel(proxy)
        self.table.setAlternatingRowColors(False)
        self.table.setItemDelegateForColumn(CallTableModel.COL_CONTACT, ContactDelegate(self.table))
        self.table.setItemDelegateForColumn(CallTableModel.COL_STATUS, StatusDelegate(self.table))
        self.action_delegate = ActionDelegate(self.table)
        self.action_delegate.action_requested.connect(self.row_action)
        self.table.setItemDelegateForColumn(CallTableModel.COL_ACTION, self.action_delegate)
        self.table.configure_columns()
        self.table.horizontalHeader().setSortIndicator(CallTableModel.COL_TIME, Qt.SortOrder.DescendingOrder)
        self.table.activated_call.connect(self._on_activated_call)
        self.table.customContextMenuRequested.connect(self._on_context_menu)
        body_layout.addWidget(self.table, 1)

        self.empty_label = QLabel("")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setProperty("role", "muted")
        self.empty_label.hide()
        body_layout.addWidget(self.empty_label)

        footer = QHBoxLayout()
        self.count_label = QLabel("")
        self.count_label.setProperty("role", "muted")
        footer.addWidget(self.count_label)
        footer.addStretch(1)
        self.load_older_button = QPushButton("Load older calls")
        self.load_older_button.clicked.connect(self.load_older_requested)
        footer.addWidget(self.load_older_button)
        body_layout.addLayout(footer)
        root.addWidget(body, 1)
        self.setCentralWidget(central)
        self._build_status_bar()
        self._build_actions()
        self.resize(1120, 680)

    # --- construction ---------------------------------------------------------------------------

    def _build_header(self, sandbox: bool) -> QWidget:
        header = QFrame()
        header.setObjectName("HeaderBar")
        layout = QHBoxLayout(header)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(10)
        logo = QLabel()
        logo.setPixmap(icon("logdesk").pixmap(28, 28))
        layout.addWidget(logo)
        title = QLabel("Logdesk")
        title.setObjectName("AppTitle")
        layout.addWidget(title)
        if sandbox:
            chip = QLabel("SANDBOX")
            chip.setObjectName("SandboxChip")
            chip.setToolTip("A simulated RingCentral account and the Local CRM with demo contacts")
            layout.addWidget(chip)
        layout.addStretch(1)
        self.connection_label = QLabel("")
        self.connection_label.setObjectName("Subtle")
        layout.addWidget(self.connection_label)
        self.settings_button = QPushButton(icon("settings"), "Settings")
        self.settings_button.setToolTip("Settings (Ctrl+,)")
        self.settings_button.clicked.connect(self.settings_requested)
        layout.addWidget(self.settings_button)
        return header

    def _build_filter_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        bar = QWidget()
        bar.setObjectName("FilterBar")
        bar_layout = QHBoxLayout(bar)
        bar_layout.setContentsMargins(0, 0, 0, 0)
        bar_layout.setSpacing(6)
        self.filter_group = QButtonGroup(self)
        self.filter_group.setExclusive(True)
        self.filter_buttons: dict[CallFilter, QPushButton] = {}
        for which in CallFilter:
            button = QPushButton(which.value)
            button.setCheckable(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setProperty("filter", which.value)
            button.clicked.connect(lambda _=False, w=which: self._on_filter_clicked(w))
            self.filter_group.addButton(button)
            self.filter_buttons[which] = button
            bar_layout.addWidget(button)
        self.filter_buttons[CallFilter.ALL].setChecked(True)
        row.addWidget(bar)
        row.addStretch(1)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("SearchBox")
        self.search_box.setPlaceholderText("Search name or number  (Ctrl+F)")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.addAction(icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.search_box.textChanged.connect(self.proxy.set_search)
        self.search_box.textChanged.connect(lambda _: self.update_counts())
        row.addWidget(self.search_box)
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.setToolTip("Fetch new calls now (F5)")
        self.refresh_button.clicked.connect(self.refresh_requested)
        row.addWidget(self.refresh_button)
        return row

    def _build_status_bar(self) -> None:
        bar = QStatusBar()
        bar.setSizeGripEnabled(False)
        self.sync_label = QLabel("Starting…")
        self.sync_label.setObjectName("SyncState")
        bar.addWidget(self.sync_label)
        self.pending_label = QLabel("")
        self.pending_label.setObjectName("PendingState")
        bar.addWidget(self.pending_label)
        self.rate_label = QLabel("")
        self.rate_label.setObjectName("RateLimitState")
        bar.addWidget(self.rate_label)
        self.error_button = QToolButton()
        self.error_button.setObjectName("LastError")
        self.error_button.setToolTip("Show details")
        self.error_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.error_button.clicked.connect(self.error_details_requested)
        self.error_button.hide()
        bar.addPermanentWidget(self.error_button)
        self.setStatusBar(bar)

    def _build_actions(self) -> None:
        def add(text: str, keys: list[QKeySequence | str], slot: object) -> QAction:
            action = QAction(text, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
            return action

        self.act_log = add("Log call", ["Ctrl+L"], lambda: self._on_selected(RowAction.LOG))
        self.act_edit = add("Edit log", ["Ctrl+E"], lambda: self._on_selected(RowAction.EDIT))
        self.act_open = add("Open in CRM", ["Ctrl+O"], lambda: self._on_selected(RowAction.OPEN))
        self.act_copy = add("Copy number", ["Ctrl+Shift+C"], lambda: self._on_selected(RowAction.COPY))
        add("Search", [QKeySequence.StandardKey.Find], self.focus_search)
        add("Refresh", [QKeySequence.StandardKey.Refresh, "Ctrl+R"], self.refresh_requested.emit)
        add("Next unlogged call", ["Ctrl+J"], self.next_unlogged_requested.emit)
        add("Settings", ["Ctrl+,"], self.settings_requested.emit)

    # --- behaviour that is purely about widgets -------------------------------------------------

    def focus_search(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def set_filter(self, which: CallFilter) -> None:
        self.filter_buttons[which].setChecked(True)
        self._on_filter_clicked(which)

    def _on_filter_clicked(self, which: CallFilter) -> None:
        selected = self.table.current_item()
        self.proxy.set_filter(which)
        if selected is not None:
            self.select_call(selected.call_id)
        self.update_counts()

    def select_call(self, call_id: str) -> bool:
        row = self.proxy.proxy_row_of(call_id)
        if row is None:
            return False
        index = self.proxy.index(row, CallTableModel.COL_CONTACT)
        self.table.setCurrentIndex(index)
        self.table.selectRow(row)
        self.table.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
        return True

    def _on_selected(self, action: RowAction) -> None:
        item = self.table.current_item()
        if item is not None:
            self.row_action.emit(item.call_id, action.value)

    def _on_activated_call(self, call_id: str) -> None:
        item = self.model.item(call_id)
        if item is not None:
            from desktop.ui.call_table_model import primary_action

            self.row_action.emit(call_id, primary_action(item).value)

    def _on_context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        value = index.data(CallTableModel.CallRole) if index.isValid() else None
        if not isinstance(value, CallItem):
            return
        self.table.selectRow(index.row())
        menu = self.build_row_menu(value)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def build_row_menu(self, item: CallItem) -> QMenu:
        menu = QMenu(self)
        logged = item.crm_log_id is not None
        entries = [
            (RowAction.LOG, icon("plus-dark"), "Log call…\tCtrl+L", not logged),
            (RowAction.EDIT, icon("edit"), "Edit log…\tCtrl+E", logged),
            (RowAction.OPEN, icon("open"), "Open in CRM\tCtrl+O", logged),
            (RowAction.COPY, icon("copy"), "Copy number\tCtrl+Shift+C", bool(item.phone)),
        ]
        for action, ico, text, enabled in entries:
            act = menu.addAction(ico, text)
            act.setEnabled(enabled)
            act.triggered.connect(lambda _=False, a=action: self.row_action.emit(item.call_id, a.value))
        return menu

    def update_counts(self) -> None:
        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        unlogged = sum(1 for i in self.model.items() if i.status.value in ("Unlogged", "Failed"))
        self.filter_buttons[CallFilter.UNLOGGED].setText(f"Unlogged  {unlogged}" if unlogged else "Unlogged")
        if total == 0:
            self.count_label.setText("No calls yet")
        elif shown == total:
            self.count_label.setText(f"{total} calls")
        else:
            self.count_label.setText(f"Showing {shown} of {total} calls")
        self.empty_label.setVisible(total > 0 and shown == 0)
        self.empty_label.setText("No calls match this filter." if total else "")

    def add_banner(self, kind: str, text: str, action: str | None = None) -> Banner:
        banner = Banner(kind, text, action)
        self.banners.addWidget(banner)
        return banner

    def set_connection_text(self, text: str) -> None:
        self.connection_label.setText(text)

    def set_last_error(self, text: str | None) -> None:
        if not text:
            self.error_button.hide()
            return
        short = text if len(text) < 90 else text[:87] + "…"
        self.error_button.setText(f"⚠ {short}")
        self.error_button.show()

    @staticmethod
    def copy_to_clipboard(text: str) -> None:
        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(text)

    @override
    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing.emit()
        super().closeEvent(event)


def _expanding() -> QSizePolicy:
    return QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
