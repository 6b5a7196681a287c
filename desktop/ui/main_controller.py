# SPDX-License-Identifier: MIT
"""Behaviour of the main window: loading rows, row actions, dialogs, the status bar, the tray.

Threading contract: GUI thread only. Blocking work goes through the injected ``submit``
(the io pool) and ``submit_draft`` (a separate single-thread pool, so typing is never queued
behind a slow CRM request).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QPoint, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QMessageBox, QSystemTrayIcon

from desktop.engine.listing import CallIndex, CallListing
from desktop.engine.models import CallRow, EngineStatus
from desktop.poller import CallPoller
from desktop.ui.call_table_model import (
    BIT_UNLOGGED,
    CallFilter,
    CallFilterProxy,
    CallItem,
    CallTableModel,
    LogStatus,
    RowAction,
)
from desktop.ui.edit_dialog import EditDialog
from desktop.ui.engine_ports import EnginePorts
from desktop.ui.log_dialog import LogDialog
from desktop.ui.main_window import MainWindow
from desktop.ui.resources import icon
from desktop.workers import Submit

log = logging.getLogger(__name__)

DIALOG_LINGER_MS = 60_000
#: A call that ended within this long before it appeared is "just ended" (worth a notification).
RECENT = timedelta(minutes=15)


class MainController(QObject):
    """Wires the main window to the engine.

    Args:
        window: the main window (its model and proxy are the calls table).
        ports: the engine as the dialogs use it.
        poller: the background poller (started by :meth:`start`).
        submit: runs blocking work on the io pool.
        submit_draft: runs draft saves on their own pool.
        open_url: opens a link in the system browser (injected so tests can record it).
        open_settings: shows the settings dialog.
        clock: the current time, aware.

    Signals:
        rows_loaded(int): every stored call is in the table (how many); rows are read as shown.
        calls_indexed(int): search, filters and sorting cover every stored call (how many).
        dialog_opened(QDialog): a log or edit dialog was opened (tests drive it).
        call_logged(str): a log dialog saved (the call id).
    """

    rows_loaded = Signal(int)
    calls_indexed = Signal(int)
    dialog_opened = Signal(QDialog)
    call_logged = Signal(str)

    def __init__(
        self,
        window: MainWindow,
        ports: EnginePorts,
        poller: CallPoller,
        *,
        submit: Submit,
        submit_draft: Submit,
        open_url: Callable[[str], None] | None = None,
        open_settings: Callable[[], None] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        connection_settings: dict[str, str] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.model: CallTableModel = window.model
        self.proxy: CallFilterProxy = window.proxy
        self.ports = ports
        self.poller = poller
        self._submit = submit
        self._submit_draft = submit_draft
        self._open_url = open_url or (lambda url: QDesktopServices.openUrl(QUrl(url)))
        self._open_settings = open_settings
        self._clock = clock
        self._connection_settings = connection_settings or {}
        self._dialogs: dict[tuple[str, str], QDialog] = {}
        self._loaded = False
        #: The table's own read-only connection: rows are read from it as they are shown.
        self._listing: CallListing | None = None
        self._last_error: str | None = None
        self._last_error_at: datetime | None = None
        self._notified: set[str] = set()
        self._queued: set[str] = set()
        self.tray: QSystemTrayIcon | None = None
        #: The live half (set by the composition root): the strip's controller and the push bridge.
        self.live: Any = None
        self.push: Any = None
        #: Puts saved settings to use (``desktop.app.SettingsApplier``, set by the composition root).
        self.settings_applier: Any = None
        self._tray_call: str | None = None
        self._notice_text: str | None = None

        window.row_action.connect(self.on_row_action)
        window.refresh_requested.connect(self.on_refresh_requested)
        window.next_unlogged_requested.connect(self.on_next_unlogged_requested)
        window.error_details_requested.connect(self.on_error_details_requested)
        if open_settings is not None:
            window.settings_requested.connect(open_settings)
        self._connections = [
            (poller.calls_fetched, self.on_calls_fetched),
            (poller.status_changed, self.on_status_changed),
            (poller.poll_failed, self.on_poll_failed),
            (poller.state_changed, self.on_poll_state_changed),
        ]
        for signal, slot in self._connections:
            signal.connect(slot)
        window.destroyed.connect(self._on_window_destroyed)
        window.set_connection_text(f"{ports.manifest.name}")

    def use_crm(self, adapter: Any, connection_settings: dict[str, str], connection_text: str) -> None:
        """The engine logs into ``adapter`` from now on (a CRM connection switched in Settings):
        dialogs, links and the status bar follow."""
        self.ports.use_adapter(adapter)
        self._connection_settings = dict(connection_settings)
        self.window.set_connection_text(connection_text)

    def _on_window_destroyed(self) -> None:
        for signal, slot in self._connections:
            try:
                signal.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self._connections = []
        if self._listing is not None:
            self._listing.close()
            self._listing = None

    # --- start-up -------------------------------------------------------------------------------

    def start(self) -> None:
        """Lists every stored call (off the GUI thread), then starts the poller.

        Two reads, both on the io pool: the list itself (ids and start times, one index scan), and
        then the columns search, filters and sorting need; each call's row is read from the
        database when it is shown (:meth:`CallTableModel.set_reader`).
        """
        path = self.ports.engine.store.path
        if self._listing is None:
            self._listing = CallListing.open(path)
            self.model.set_reader(self._read_calls)
        if not self._loaded:
            self.window.sync_label.setText("Loading calls…")
        self._submit(lambda: _list_calls(path), on_result=self._on_calls_listed, on_error=self._on_list_error)

    def _read_calls(self, ids: list[str]) -> list[CallItem]:
        if self._listing is None:
            return []
        return [CallItem.from_row(r) for r in self._listing.calls(ids)]

    def _on_calls_listed(self, listed: tuple[list[str], list[str]]) -> None:
        ids, starts = listed
        current = self.window.table.current_item()
        anchor = self._top_visible_call()
        self.model.set_calls(ids, starts)
        self._loaded = True
        self.window.update_counts()
        if current is not None:
            self.window.select_call(current.call_id)
        if anchor is not None:
            self._keep_at_top(anchor)
        self._select_first_if_none()
        self.rows_loaded.emit(len(ids))
        self.poller.start()
        path = self.ports.engine.store.path
        self._submit(lambda: _index_calls(path), on_result=self._on_calls_indexed, on_error=self._on_list_error)

    def _on_calls_indexed(self, index: CallIndex) -> None:
        self.model.set_index(index)
        self.window.update_counts()
        self.calls_indexed.emit(len(index))

    def _on_list_error(self, exc: Exception) -> None:
        self._show_error(f"Could not read the stored calls: {exc}")
        if not self._loaded:
            self.poller.start()  # its first rows fill the table

    def _set_rows(self, rows: Sequence[CallRow]) -> None:
        items = [CallItem.from_row(r) for r in rows]
        self.model.set_rows(items)
        self._notified.update(i.call_id for i in items)
        self._loaded = True
        self.window.update_counts()
        self._select_first_if_none()

    def _select_first_if_none(self) -> None:
        """Keyboard first: the newest call is selected, so Enter logs it straight away."""
        table = self.window.table
        if table.current_item() is None and self.proxy.rowCount():
            first = self.proxy.item_at(0)
            if first is not None:
                self.window.select_call(first.call_id)
            focused = self.window.focusWidget()
            if focused is None or focused is self.window:
                table.setFocus()

    # --- poller ---------------------------------------------------------------------------------

    def on_calls_fetched(self, rows: list[CallRow]) -> None:
        if not self._loaded:
            self._set_rows(rows)
            return
        fresh = self.upsert_items([CallItem.from_row(r) for r in rows])
        self._notify_ended(fresh)
        self._drop_stale_notice()

    def upsert_items(self, items: list[CallItem]) -> list[CallItem]:
        """Puts rows into the table in place; new ones do not move the row the agent is reading.
        Returns the items that were new."""
        fresh = [i for i in items if not self.model.is_known(i.call_id)]
        anchor = self._top_visible_call()
        self.model.upsert(items)
        if anchor is not None and fresh:
            self._keep_at_top(anchor)
        self.window.update_counts()
        self._select_first_if_none()
        return fresh

    def _drop_stale_notice(self) -> None:
        """"Log your call with …?" goes away once that call is logged."""
        if self._tray_call is None:
            return
        item = self.model.item(self._tray_call)
        if item is not None and item.status is not LogStatus.UNLOGGED and self._notice_text:
            if self.window.flash_label.text() == self._notice_text:
                self.window.flash("", 1)
            self._notice_text = None

    def _top_visible_call(self) -> str | None:
        """The call at the top of the scrolled list (None when the list is scrolled to the top)."""
        table = self.window.table
        if table.verticalScrollBar().value() == 0:
            return None
        item = table.indexAt(QPoint(1, 1)).data(CallTableModel.CallRole)
        return item.call_id if isinstance(item, CallItem) else None

    def _keep_at_top(self, call_id: str) -> None:
        """New calls arrived above: keep the rows the agent was looking at where they were."""
        from PySide6.QtWidgets import QAbstractItemView

        row = self.proxy.proxy_row_of(call_id)
        if row is not None:
            self.window.table.scrollTo(self.proxy.index(row, 0), QAbstractItemView.ScrollHint.PositionAtTop)

    def on_status_changed(self, status: EngineStatus) -> None:
        w = self.window
        now = self._clock()
        if status.offline:
            since = _local_clock(status.offline_since) if status.offline_since else ""
            w.sync_label.setText(f"● Offline{' since ' + since if since else ''} — retrying")
            w.sync_label.setStyleSheet("color: #b91c1c;")
            who = " and ".join(status.offline_services) or f"RingCentral or {self.ports.manifest.name}"
            w.offline_banner.set_text(
                f"Offline: {who} cannot be reached"
                + (f" since {since}" if since else "")
                + ". Logs you save are kept and sent as soon as the connection is back."
            )
            w.offline_banner.show()
        else:
            w.offline_banner.hide()
            w.sync_label.setStyleSheet("color: #166534;")
            when = _local_clock(status.last_sync_at) if status.last_sync_at else None
            w.sync_label.setText(f"● Synced {when}" if when else "● Connected")
        parts = []
        if status.pending_calls:
            noun = "call" if status.pending_calls == 1 else "calls"
            parts.append(f"{status.pending_calls} {noun} waiting for recording / AI note")
        if status.queued:
            parts.append(f"{status.queued} CRM write{'s' if status.queued != 1 else ''} queued")
        if status.failed:
            parts.append(f"{status.failed} failed")
        w.pending_label.setText("  ·  ".join(parts))
        waits = []
        for group, until in sorted(status.rate_limited_until.items()):
            seconds = max(0, int((until - now).total_seconds()))
            if seconds:
                waits.append(f"{_group_name(group, self.ports.manifest.name)} rate limit: resuming in {seconds} s")
        w.rate_label.setText("  ·  ".join(waits))
        if status.last_error and status.last_error != self._last_error:
            self._show_error(status.last_error)
        elif not status.last_error and not status.offline and not status.failed:
            self._last_error = None
            w.set_last_error(None)

    def on_poll_failed(self, exc: Exception) -> None:
        self._show_error(f"Refreshing failed: {getattr(exc, 'message', None) or exc}")
        self.window.sync_label.setText("● Refresh failed — retrying")

    def on_poll_state_changed(self, state: str) -> None:
        if state == "polling" and self._loaded and not self.window.offline_banner.isVisible():
            self.window.sync_label.setStyleSheet("")
            self.window.sync_label.setText("⟳ Syncing…")

    def _show_error(self, message: str) -> None:
        self._last_error = message
        self._last_error_at = self._clock()
        self.window.set_last_error(message)

    def on_error_details_requested(self) -> None:
        if not self._last_error:
            return
        when = _local_clock(self._last_error_at) if self._last_error_at else ""
        box = QMessageBox(self.window)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Last error")
        box.setText(self._last_error)
        box.setInformativeText(
            f"At {when}. Nothing you typed is lost: drafts and queued CRM writes are kept and retried."
        )
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        box.open()

    # --- row actions ----------------------------------------------------------------------------

    def on_row_action(self, call_id: str, action: str) -> None:
        item = self.model.item(call_id)
        if item is None:
            return
        which = RowAction(action)
        if which is RowAction.LOG or which is RowAction.EDIT:
            if item.crm_log_id:
                self.open_edit(item)
            else:
                self.open_log(item)
        elif which is RowAction.OPEN:
            url = self.crm_url(item)
            if url:
                self._open_url(url)
            else:
                self._show_error(f"{self.ports.manifest.name} has no web page for this log.")
        elif which is RowAction.COPY and item.phone:
            self.window.copy_to_clipboard(item.phone)
            self.window.flash(f"Copied {item.phone}", 3000)

    def crm_url(self, item: CallItem) -> str | None:
        if item.log_url:
            return item.log_url
        urls = self.ports.manifest.urls
        values = {**self._connection_settings, "log_id": item.crm_log_id or "", "contact_id": item.contact_id or ""}
        for template, needed in ((urls.open_log, item.crm_log_id), (urls.open_contact, item.contact_id)):
            if template and needed:
                try:
                    return template.format(**values)
                except (KeyError, IndexError, ValueError):
                    continue
        return None

    def _existing(self, kind: str, call_id: str) -> QDialog | None:
        dialog = self._dialogs.get((kind, call_id))
        if dialog is not None and shiboken6.isValid(dialog) and dialog.isVisible():
            dialog.raise_()
            dialog.activateWindow()
            return dialog
        return None

    def open_log(self, item: CallItem) -> LogDialog:
        existing = self._existing("log", item.call_id)
        if isinstance(existing, LogDialog):
            return existing
        dialog = LogDialog(item, self.ports, submit=self._submit, submit_draft=self._submit_draft,
                           parent=self.window)
        dialog.save_started.connect(self._on_log_save_started)
        dialog.saved.connect(self._on_log_saved)
        dialog.queued.connect(self._on_log_queued)
        dialog.rejected.connect(lambda: self._on_log_closed(item.call_id))
        self._track("log", item.call_id, dialog)
        dialog.show()
        self.dialog_opened.emit(dialog)
        return dialog

    def open_edit(self, item: CallItem) -> EditDialog:
        existing = self._existing("edit", item.call_id)
        if isinstance(existing, EditDialog):
            return existing
        dialog = EditDialog(item, self.ports, submit=self._submit, submit_draft=self._submit_draft, parent=self.window)
        dialog.saved.connect(self._on_edit_saved)
        self._track("edit", item.call_id, dialog)
        dialog.show()
        self.dialog_opened.emit(dialog)
        return dialog

    def _track(self, kind: str, call_id: str, dialog: QDialog) -> None:
        self._dialogs[(kind, call_id)] = dialog

        def finished(_result: int) -> None:
            self._dialogs.pop((kind, call_id), None)
            # Freed a while later, so a job still reporting back (a draft save) finds it; an agent
            # logs a hundred calls a day and closed dialogs must not pile up.
            QTimer.singleShot(DIALOG_LINGER_MS, dialog.deleteLater)

        dialog.finished.connect(finished)

    def _on_log_save_started(self, call_id: str) -> None:
        self.model.update_call(call_id, status=LogStatus.SAVING)

    def _reread(self, call_id: str) -> None:
        """Reads a row again now (the poller brings the newest calls, not an older one just saved)."""
        self.model.upsert(self._read_calls([call_id]))
        self.window.update_counts()

    def _on_log_saved(self, call_id: str) -> None:
        self._reread(call_id)
        self.call_logged.emit(call_id)
        if call_id not in self._queued:
            self.window.flash("Call logged", 4000)
        self._queued.discard(call_id)
        self.poller.poll_now()

    def _on_log_queued(self, call_id: str) -> None:
        self._queued.add(call_id)
        self.window.flash(
            f"Saved. {self.ports.manifest.name} cannot be reached right now; the log is sent as soon as it can.",
            8000,
        )

    def _on_log_closed(self, call_id: str) -> None:
        item = self.model.item(call_id)
        if item is not None and item.status is LogStatus.SAVING:
            self._reread(call_id)
            self.poller.poll_now()

    def _on_edit_saved(self, call_id: str) -> None:
        self._reread(call_id)
        self.window.flash("Log updated", 4000)
        self.poller.poll_now()

    # --- other actions --------------------------------------------------------------------------

    def on_refresh_requested(self) -> None:
        self.poller.poll_now()

    def on_next_unlogged_requested(self) -> None:
        """Selects the next call still to log below the current row (wrapping around)."""
        if self.proxy.filter() not in (CallFilter.ALL, CallFilter.UNLOGGED, CallFilter.MISSED):
            self.window.set_filter(CallFilter.ALL)
        if not self.proxy.rowCount():
            return
        current = self.window.table.current_item()
        after = self.proxy.proxy_row_of(current.call_id) if current is not None else None
        row = self.proxy.next_row_with(BIT_UNLOGGED, after)
        item = self.proxy.item_at(row) if row is not None else None
        if item is None:
            self.window.flash("Every call is logged", 3000)
            return
        self.window.select_call(item.call_id)

    # --- notifications --------------------------------------------------------------------------

    def set_tray(self, tray: QSystemTrayIcon | None) -> None:
        self.tray = tray
        if tray is not None:
            tray.messageClicked.connect(self.on_tray_message_clicked)
            tray.activated.connect(self._on_tray_activated)

    def _notify_ended(self, fresh: list[CallItem]) -> None:
        now = self._clock()
        candidates = [
            i for i in fresh
            if i.call_id not in self._notified
            and i.status is LogStatus.UNLOGGED
            and i.result != "In Progress"  # a live call: the strip has it, and the log form opens at its end
            and _aware(i.start_time) + timedelta(seconds=i.duration_seconds or 0) >= now - RECENT
        ]
        self._notified.update(i.call_id for i in fresh)
        if not candidates:
            return
        newest = max(candidates, key=lambda i: _aware(i.start_time))
        self.notify_call_ended(newest)

    def notify_call_ended(self, item: CallItem) -> None:
        """Shows "Log your call with Jane Smith?"; clicking it opens the log dialog."""
        self._tray_call = item.call_id
        title = "Call ended" if not item.is_missed else "Missed call"
        text = f"Log your call with {item.who}?"
        if self.tray is not None and self.tray.isVisible():
            self.tray.showMessage(title, text, icon("logdesk"), 8000)
        else:
            self._notice_text = f"{title}: {text}  (Ctrl+J selects it)"
            self.window.flash(self._notice_text, 8000)

    def on_tray_message_clicked(self) -> None:
        if self._tray_call is None:
            return
        item = self.model.item(self._tray_call)
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
        if item is not None:
            self.window.select_call(item.call_id)
            self.on_row_action(item.call_id, RowAction.LOG.value)

    def _on_tray_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.window.showNormal()
            self.window.raise_()
            self.window.activateWindow()


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _local_clock(when: datetime | None) -> str:
    if when is None:
        return ""
    return f"{_aware(when).astimezone():%H:%M}"


def _group_name(group: str, crm_name: str) -> str:
    """The service a rate-limit group belongs to, as the agent knows it (``crm_name``: e.g. "HubSpot")."""
    return {"crm": crm_name, "rc-heavy": "RingCentral", "rc-light": "RingCentral AI"}.get(group, group)


def _list_calls(path: Path) -> tuple[list[str], list[str]]:
    """Every stored call's id and start time (blocking: the io pool runs it)."""
    listing = CallListing(path)
    try:
        return listing.order()
    finally:
        listing.close()


def _index_calls(path: Path) -> CallIndex:
    """Search keys, filter and sort columns of every stored call (blocking: the io pool runs it)."""
    listing = CallListing(path)
    try:
        return listing.index()
    finally:
        listing.close()
