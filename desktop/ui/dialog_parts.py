# SPDX-License-Identifier: MIT
"""What the log dialog ("+") and the editor share: :class:`CallDialog` (one call, the engine's
port, jobs off the GUI thread, the agent's draft written as they type) and the pieces both build
alike: the header with the call summary, the busy row, the subject and note inputs, the error
banner, the primary button with its shortcuts, and the message shown for a failure.

Threading contract: GUI thread only. Port methods run on pool threads through ``submit``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import shiboken6
from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from adapters.base import Manifest
from desktop.engine.errors import StoreFull
from desktop.engine.models import Draft
from desktop.ui.call_table_model import CallItem, format_duration, format_time
from desktop.ui.overrides import override
from desktop.ui.widgets import Banner
from desktop.workers import Submit

SAVE_SHORTCUTS = ("Ctrl+Return", "Ctrl+Enter", "Ctrl+S")
#: How long a dialog waits before writing again what a full disk refused (the agent's input is kept
#: in the dialog meanwhile).
DISK_RETRY_MS = 5000


def error_message(exc: Exception) -> str:
    """What to tell the agent about ``exc``: its ``message`` (adapter and engine errors), else its text,
    else its type's name."""
    return getattr(exc, "message", None) or str(exc) or type(exc).__name__


class DraftPort(Protocol):
    """What :class:`CallDialog` asks of the engine. Every method runs on a worker thread."""

    manifest: Manifest

    def save_draft(self, call_id: str, draft: Draft) -> None: ...


class CallDialog(QDialog):
    """A dialog about one call whose input is kept as a draft while the agent types.

    Draft writes run one at a time on ``submit_draft``: a change made while a write is in flight
    marks the draft dirty, and one more write (of the content at that moment) follows when it ends.
    Subclasses say what the draft is (:meth:`_current_draft`) and call :meth:`_draft_changed` on
    every change, and :meth:`_draft_write_ended` from their write callbacks.

    Args:
        item: the call.
        port: the engine's side (``manifest``, ``save_draft`` and the subclass's own methods).
        submit: runs the dialog's blocking work off the GUI thread.
        submit_draft: runs draft writes (their own pool); ``submit`` when omitted.
        name: the dialog's object name.
        title: the window title.
        parent: the owning window.
    """

    def __init__(
        self,
        item: CallItem,
        port: DraftPort,
        *,
        submit: Submit,
        submit_draft: Submit | None,
        name: str,
        title: str,
        parent: QWidget | None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.item = item
        self._port: DraftPort = port
        self._submit = submit
        self._submit_draft = submit_draft or submit
        self._manifest = port.manifest
        self._draft_in_flight = False
        self._draft_dirty = False
        self.setWindowTitle(title)
        self.setMinimumWidth(560)

    def _current_draft(self) -> Draft:
        """What the dialog holds, as the draft to write."""
        raise NotImplementedError

    # --- height ---------------------------------------------------------------------------------

    @override
    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.LayoutRequest:  # a banner shown, its text changed, a row added
            self._fit_height()
        return handled

    @override
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit_height()

    def _fit_height(self) -> None:
        """Keeps the dialog at least as tall as its rows need at its width, wrapped text included.

        A window's minimum size is its layout's, which counts a word-wrapped label (a banner's
        text) at its one-line height; a banner that wraps then takes its lines from the rows
        below it, which overlap: the note box slid under the form's next row. The height for the
        width is what they need.
        """
        layout = self.layout()
        if layout is None:
            return
        need = max(layout.totalMinimumSize().height(), layout.totalMinimumHeightForWidth(self.width()))
        if need != self.minimumHeight():
            self.setMinimumHeight(need)

    def _draft_changed(self) -> None:
        """Writes the draft now, or once the write in flight has ended."""
        if self._draft_in_flight:
            self._draft_dirty = True
            return
        self._save_draft_now()

    def _save_draft_now(self) -> None:
        self._draft_in_flight = True
        self._draft_dirty = False
        draft = self._current_draft()
        call_id, port = self.item.call_id, self._port
        self._submit_draft(
            lambda: port.save_draft(call_id, draft),
            on_result=self._on_draft_saved,
            on_error=self._on_draft_error,
        )

    def _on_draft_saved(self, _none: object) -> None:
        self._draft_write_ended()

    def _on_draft_error(self, exc: Exception) -> None:
        if isinstance(exc, StoreFull):  # kept in the dialog, and written once there is room
            self._draft_dirty = True
            self._show_draft_problem(exc.message)
            self._draft_write_ended(retry_ms=DISK_RETRY_MS)
            return
        self._draft_write_ended()

    def _show_draft_problem(self, message: str) -> None:
        """A draft could not be written for now (subclasses show ``message``)."""

    def _draft_write_ended(self, *, retry_ms: int = 0) -> None:
        """The write in flight is over; a change made meanwhile is written now (or after ``retry_ms``)."""
        self._draft_in_flight = False
        if not self._draft_dirty or not shiboken6.isValid(self):
            return
        if retry_ms:
            QTimer.singleShot(retry_ms, self._save_draft_now)
        else:
            self._save_draft_now()

    def draft_settled(self) -> bool:
        """True when the last change has been written (tests wait on this)."""
        return not self._draft_in_flight and not self._draft_dirty


def dialog_root(dialog: QDialog, title: str) -> QVBoxLayout:
    """The dialog's column with the house margins, headed by ``title``."""
    root = QVBoxLayout(dialog)
    root.setContentsMargins(20, 18, 20, 16)
    root.setSpacing(12)
    heading = QLabel(title)
    heading.setObjectName("DialogTitle")
    root.addWidget(heading)
    return root


def call_summary(item: CallItem, *, outcome: bool) -> QLabel:
    """One line about the call: direction, when, how long, the number.

    Args:
        item: the call.
        outcome: also say "Missed call" and the call's result, and let the agent select the text
            (the log dialog); the editor shows the plain line.
    """
    kind = "Missed call" if outcome and item.is_missed else f"{item.direction} call"
    parts = [kind, format_time(item.start_time, datetime.now(UTC)), format_duration(item.duration_seconds)]
    if outcome and item.result:
        parts.append(item.result)
    if item.phone:
        parts.append(item.phone)
    summary = QLabel("  ·  ".join(parts))
    summary.setObjectName("CallSummary")
    if outcome:
        summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return summary


class BusyRow(QWidget):
    """A muted line of text beside an endless progress bar: work is running off the GUI thread."""

    def __init__(self) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel("")
        self.label.setProperty("role", "muted")
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setMaximumHeight(6)
        self.bar.setMaximumWidth(140)
        self.bar.setTextVisible(False)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)


def dialog_form() -> QFormLayout:
    """A label/input form with the house spacing; inputs take the width."""
    form = QFormLayout()
    form.setHorizontalSpacing(14)
    form.setVerticalSpacing(8)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    return form


def subject_edit(manifest: Manifest) -> QLineEdit:
    """The subject input, limited to what the CRM accepts."""
    subject = QLineEdit()
    subject.setObjectName("Subject")
    if manifest.limits.subject_chars:
        subject.setMaxLength(manifest.limits.subject_chars)
    return subject


def note_edit(placeholder: str) -> QPlainTextEdit:
    """The agent's note: several lines; Tab moves on instead of typing a tab."""
    note = QPlainTextEdit()
    note.setObjectName("Note")
    note.setPlaceholderText(placeholder)
    note.setTabChangesFocus(True)
    note.setMinimumHeight(120)
    return note


def error_banner(on_retry: Callable[[], None]) -> Banner:
    """The hidden banner a failed save shows, with Retry."""
    banner = Banner("error", "", action="Retry", closable=False)
    banner.setObjectName("SaveError")
    banner.action_clicked.connect(on_retry)
    banner.hide()
    return banner


def save_button(dialog: QDialog, text: str, tooltip: str, on_save: Callable[[], None]) -> QPushButton:
    """The dialog's primary, default button; Ctrl+Enter, Ctrl+Return and Ctrl+S press it too."""
    button = QPushButton(text)
    button.setObjectName("SaveButton")
    button.setProperty("primary", True)
    button.setDefault(True)
    button.setToolTip(tooltip)
    button.clicked.connect(on_save)
    for keys in SAVE_SHORTCUTS:
        QShortcut(QKeySequence(keys), dialog, lambda: on_save())
    return button
