# SPDX-License-Identifier: MIT
"""The main window's layout: header, banners, filters and search, the calls table, the status bar.

Built in steps so the window paints fast: the constructor makes the shell (header, banners) with a
few light widgets; :meth:`MainWindow.install_calls` adds what the first frame shows (filters,
search, the calls table, footer and status bar), and :meth:`MainWindow.install_extras` what can
wait until after the first paint (the live-call strip, the offline banner, shortcuts, menus). Behaviour lives in
:mod:`desktop.ui.main_controller`; this module builds widgets and turns clicks into signals.

Threading contract: GUI thread only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QMainWindow, QPushButton, QVBoxLayout, QWidget

from desktop.ui.overrides import override
from desktop.ui.resources import icon

# Nothing before the first paint touches the ``Qt`` namespace: initialising it costs more than the
# rest of the window shell (it is imported inside the methods that run afterwards).
if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QLineEdit, QMenu, QToolButton

    from desktop.ui.call_table_model import CallFilter, CallFilterProxy, CallItem, CallTableModel, RowAction
    from desktop.ui.calls_view import CallsTableView
    from desktop.ui.delegates import ActionDelegate
    from desktop.ui.widgets import Banner

__all__ = ["MainWindow"]


class MainWindow(QMainWindow):
    """Recent calls, filters, search, row actions, banners and the status bar.

    Signals:
        row_action(str, str): a call id and a :class:`RowAction` value (log, edit, open, copy).
        refresh_requested(): the agent pressed Refresh (F5).
        next_unlogged_requested(): jump to the next unlogged call (Ctrl+J).
        settings_requested(): the Settings button.
        error_details_requested(): the last-error link in the status bar.
        closing(): the window is closing (the app shuts down cleanly).
        closed_to_tray(): closing hid the window instead (see :attr:`hide_on_close`).
    """

    row_action = Signal(str, str)
    refresh_requested = Signal()
    next_unlogged_requested = Signal()
    settings_requested = Signal()
    error_details_requested = Signal()
    closing = Signal()
    closed_to_tray = Signal()

    # Set by install_calls().
    model: CallTableModel
    proxy: CallFilterProxy
    table: CallsTableView
    search_box: QLineEdit
    filter_buttons: dict[CallFilter, QPushButton]
    action_delegate: ActionDelegate
    offline_banner: Banner
    sync_label: QLabel
    pending_label: QLabel
    rate_label: QLabel
    flash_label: QLabel
    error_button: QToolButton

    def __init__(self, *, sandbox: bool = False) -> None:
        super().__init__()
        self.setObjectName("MainWindow")
        self.setWindowTitle("Logdesk — sandbox" if sandbox else "Logdesk")
        central = QWidget()
        root = QVBoxLayout(central)
        root.setContentsMargins(0, 0, 0, 0)
        root.setSpacing(0)
        root.addWidget(self._build_header(sandbox))
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(16, 12, 16, 12)
        self.body_layout.setSpacing(10)
        self.banners = QVBoxLayout()
        self.banners.setSpacing(6)
        self.body_layout.addLayout(self.banners)
        self.placeholder = QLabel("Loading your calls…")
        self.placeholder.setObjectName("Placeholder")  # centred by the style sheet
        self.body_layout.addWidget(self.placeholder, 1)
        root.addWidget(self.body, 1)
        self.setCentralWidget(central)
        self.resize(1120, 680)
        self.calls_installed = False
        #: The single-instance listener (set by the composition root; tests find it here).
        self.single_instance: Any = None
        self.extras_installed = False
        #: Asked when the window is closed: True hides it instead (the tray keeps Logdesk running).
        self.hide_on_close: Callable[[], bool] | None = None
        #: Set by :meth:`quit`: this close is for good.
        self.quitting = False

    # --- construction ---------------------------------------------------------------------------

    def _build_header(self, sandbox: bool) -> QWidget:
        header = QFrame()
        header.setObjectName("HeaderBar")
        layout = QHBoxLayout(header)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(10)
        self.logo = QLabel()
        self.logo.setFixedSize(28, 28)
        layout.addWidget(self.logo)
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
        self.settings_button = QPushButton("Settings")
        self.settings_button.setToolTip("Settings (Ctrl+,)")
        self.settings_button.clicked.connect(self.settings_requested)
        layout.addWidget(self.settings_button)
        return header

    def _build_status_bar(self) -> None:
        from PySide6.QtCore import QTimer
        from PySide6.QtWidgets import QStatusBar, QToolButton

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
        self.push_label = QLabel("")
        self.push_label.setObjectName("PushState")
        self.push_label.setAccessibleName("Live call events")
        bar.addWidget(self.push_label)
        self.flash_label = QLabel("")
        self.flash_label.setObjectName("Flash")
        bar.addWidget(self.flash_label, 1)
        self._flash_timer = QTimer(self)
        self._flash_timer.setSingleShot(True)
        self._flash_timer.timeout.connect(lambda: self.flash_label.setText(""))
        self.error_button = QToolButton()
        self.error_button.setObjectName("LastError")
        self.error_button.setToolTip("Show details")
        self.error_button.clicked.connect(self.error_details_requested)
        self.error_button.hide()
        bar.addPermanentWidget(self.error_button)
        self.setStatusBar(bar)

    def install_calls(self, model: CallTableModel, proxy: CallFilterProxy) -> None:
        """Adds what the first frame shows: the icons, the filters, the search box, the calls table,
        the footer and the status bar. :meth:`install_extras` adds the rest."""
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QButtonGroup, QLineEdit

        from desktop.ui.call_table_model import CallFilter, CallTableModel
        from desktop.ui.calls_view import CallsTableView
        from desktop.ui.delegates import ActionDelegate, ContactDelegate, StatusDelegate, TextDelegate

        self.model = model
        self.proxy = proxy
        self._build_status_bar()
        self.logo.setPixmap(icon("logdesk").pixmap(28, 28))
        self.settings_button.setIcon(icon("settings"))
        model.set_icons({"inbound": icon("inbound"), "outbound": icon("outbound"), "missed": icon("missed")})
        layout = self.body_layout
        layout.removeWidget(self.placeholder)
        self.placeholder.hide()

        row = QHBoxLayout()
        row.setSpacing(8)
        bar = QWidget()
        bar.setObjectName("FilterBar")
        bar_layout = QHBoxLayout(bar)
        bar_layout.setContentsMargins(0, 0, 0, 0)
        bar_layout.setSpacing(6)
        self.filter_group = QButtonGroup(self)
        self.filter_group.setExclusive(True)
        self.filter_buttons = {}
        for which in CallFilter:
            button = QPushButton(which.value)
            button.setCheckable(True)
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
        self._strip_at = layout.count()  # the live-call strip goes above the filters
        layout.addLayout(row)

        self.table = CallsTableView()
        self.table.setModel(proxy)
        self.table.setItemDelegate(TextDelegate(self.table))
        self.table.setItemDelegateForColumn(CallTableModel.COL_CONTACT, ContactDelegate(self.table))
        self.table.setItemDelegateForColumn(CallTableModel.COL_STATUS, StatusDelegate(self.table))
        self.action_delegate = ActionDelegate(self.table)
        self.action_delegate.action_requested.connect(self.row_action)
        self.table.setItemDelegateForColumn(CallTableModel.COL_ACTION, self.action_delegate)
        self.table.configure_columns()
        self.table.horizontalHeader().setSortIndicator(CallTableModel.COL_TIME, Qt.SortOrder.DescendingOrder)
        self.table.activated_call.connect(self._on_activated_call)
        layout.addWidget(self.table, 1)

        self.empty_label = QLabel("")
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setProperty("role", "muted")
        self.empty_label.hide()
        layout.addWidget(self.empty_label)

        footer = QHBoxLayout()
        self.count_label = QLabel("")
        self.count_label.setProperty("role", "muted")
        footer.addWidget(self.count_label)
        footer.addStretch(1)
        layout.addLayout(footer)
        self.calls_installed = True

    def install_extras(self) -> None:
        """Adds what can wait until the calls are on screen (the app does this right after the
        first paint): the live-call strip and the offline banner (both hidden until needed), the
        window icon, pointer cursors, the row menu and the keyboard shortcuts."""
        from PySide6.QtCore import Qt

        from desktop.ui.live_strip import LiveCallStrip
        from desktop.ui.widgets import Banner

        self.offline_banner = Banner("error", "", action="Retry now", closable=False)
        self.offline_banner.action_clicked.connect(self.refresh_requested)
        self.offline_banner.hide()
        self.banners.insertWidget(0, self.offline_banner)
        self.live_strip = LiveCallStrip(parent=self)
        self.body_layout.insertWidget(self._strip_at, self.live_strip)
        self.setWindowIcon(icon("logdesk"))
        for button in self.filter_buttons.values():
            button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.error_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_context_menu)
        self._build_actions()
        self.extras_installed = True

    def _build_actions(self) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QAction, QKeySequence

        from desktop.ui.call_table_model import RowAction

        def add(text: str, keys: list[Any], slot: Any) -> QAction:
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
        clear = QAction("Clear search", self.search_box)
        clear.setShortcut(QKeySequence("Escape"))
        clear.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        clear.triggered.connect(self._on_search_escape)
        self.search_box.addAction(clear)
        add("Refresh", [QKeySequence.StandardKey.Refresh, "Ctrl+R"], self.refresh_requested.emit)
        add("Next unlogged call", ["Ctrl+J"], self.next_unlogged_requested.emit)
        add("Settings", ["Ctrl+,"], self.settings_requested.emit)
        add("Quit", ["Ctrl+Q"], self.quit)  # (the platform's Quit key is not bound everywhere: Windows)

    # --- behaviour that is purely about widgets -------------------------------------------------

    def _on_search_escape(self) -> None:
        self.search_box.clear()
        self.table.setFocus()

    def focus_search(self) -> None:
        from PySide6.QtCore import Qt

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

        from PySide6.QtWidgets import QAbstractItemView

        from desktop.ui.call_table_model import CallTableModel

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
        from desktop.ui.call_table_model import primary_action

        item = self.model.item(call_id)
        if item is not None:
            self.row_action.emit(call_id, primary_action(item).value)

    def _on_context_menu(self, pos: QPoint) -> None:
        from desktop.ui.call_table_model import CallItem, CallTableModel

        index = self.table.indexAt(pos)
        value = index.data(CallTableModel.CallRole) if index.isValid() else None
        if not isinstance(value, CallItem):
            return
        self.table.selectRow(index.row())
        menu = self.build_row_menu(value)
        menu.exec(self.table.viewport().mapToGlobal(pos))

    def build_row_menu(self, item: CallItem) -> QMenu:
        from PySide6.QtWidgets import QMenu

        from desktop.ui.call_table_model import RowAction

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
        from desktop.ui.call_table_model import CallFilter

        total = self.model.rowCount()
        shown = self.proxy.rowCount()
        unlogged = self.model.unlogged_count()
        self.filter_buttons[CallFilter.UNLOGGED].setText(f"Unlogged  {unlogged}" if unlogged else "Unlogged")
        if total == 0:
            self.count_label.setText("No calls yet")
        elif shown == total:
            self.count_label.setText(f"{total:,} calls")
        else:
            self.count_label.setText(f"Showing {shown:,} of {total:,} calls")
        self.empty_label.setVisible(shown == 0)
        none_yet = "No calls yet. A call shows up here a few seconds after it ends."
        self.empty_label.setText("No calls match this filter." if total else none_yet)

    def flash(self, text: str, ms: int = 4000) -> None:
        """A short message in the status bar that leaves the sync and pending state visible."""
        self.flash_label.setText(text)
        self._flash_timer.start(ms)

    def add_banner(self, kind: str, text: str, action: str | None = None) -> Banner:
        from desktop.ui.widgets import Banner

        banner = Banner(kind, text, action)
        self.banners.addWidget(banner)
        return banner

    def set_push_status(self, text: str, *, live: bool) -> None:
        """The status bar's word on live call events (push on, or polling and why)."""
        self.push_label.setText(text)
        self.push_label.setProperty("live", live)
        self.push_label.setToolTip(
            "Calls show up as they ring." if live else "Calls show up a little after they end, from the call log."
        )
        self.push_label.style().unpolish(self.push_label)
        self.push_label.style().polish(self.push_label)

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
        from PySide6.QtGui import QGuiApplication

        clipboard = QGuiApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(text)

    def restore_ui_state(self) -> None:
        """Window geometry and column widths from QSettings (UI state, not user options)."""
        from PySide6.QtCore import QSettings

        state = QSettings("Logdesk", "ui")
        geometry = state.value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        header = state.value("main/header")
        if header is not None and self.calls_installed:
            self.table.horizontalHeader().restoreState(header)

    def save_ui_state(self) -> None:
        from PySide6.QtCore import QSettings

        state = QSettings("Logdesk", "ui")
        state.setValue("main/geometry", self.saveGeometry())
        if self.calls_installed:
            state.setValue("main/header", self.table.horizontalHeader().saveState())

    def quit(self) -> None:
        """Closes the window for good (Ctrl+Q, the tray's Quit): Logdesk quits, tray or not."""
        self.quitting = True
        self.close()

    @override
    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_ui_state()
        if not self.quitting and self.hide_on_close is not None and self.hide_on_close():
            event.ignore()
            self.hide()
            self.closed_to_tray.emit()
            return
        self.closing.emit()
        super().closeEvent(event)
