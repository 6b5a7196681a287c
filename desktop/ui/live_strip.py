# SPDX-License-Identifier: MIT
"""The live-call strip above the calls table: who is on the line, for how long, and a note pad.

The strip shows one call at a time (the newest live one; a selector appears when several are
live, e.g. call waiting). It renders :class:`LiveView` values the controller gives it and turns the
agent's actions into signals; it does no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from PySide6.QtCore import Qt, QTimer, Signal, SignalInstance
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.ui.resources import icon

_STATE_WORDS = {
    "ringing": "Ringing",
    "connected": "On call",
    "on_hold": "On hold",
    "parked": "Parked",
    "voicemail": "Leaving a voicemail",
    "ended": "Ended",
}


@dataclass(frozen=True)
class LiveView:
    """One live call as the strip shows it."""

    call_id: str
    direction: str
    number: str
    name: str
    state: str
    rang_at: datetime
    answered_at: datetime | None = None
    held_since: datetime | None = None
    ended_at: datetime | None = None
    recording: bool = False
    queue_name: str | None = None
    #: "Logged", "Logging…", or "" when the call is not logged yet.
    log_state: str = ""
    transferred: bool = False
    #: The contact matched at ring time: a name, "2 contacts", "No contact", or "" while looking.
    contact: str = ""
    can_open_contact: bool = False

    @property
    def is_live(self) -> bool:
        return self.state != "ended"


def elapsed_text(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) for the timer."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class LiveCallStrip(QFrame):
    """The strip. Hidden while no call is shown.

    Args:
        clock: the current time, aware (the timer counts from the events' times).

    Signals:
        note_edited(str, str): the agent changed the note pad (call id, the whole text).
        log_requested(str): "Log now" (call id).
        open_contact_requested(str): "Open contact" (call id).
        dismissed(str): "Done" on an ended call (call id).
        current_changed(str): the agent picked another live call in the selector (call id).
    """

    note_edited = Signal(str, str)
    log_requested = Signal(str)
    open_contact_requested = Signal(str)
    dismissed = Signal(str)
    current_changed = Signal(str)

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC), parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("LiveStrip")
        self._clock = clock
        self._view: LiveView | None = None
        self._loading_note = False
        self.setAccessibleName("Current call")

        root = QVBoxLayout(self)
        root.setContentsMargins(12, 10, 12, 10)
        root.setSpacing(6)
        top = QHBoxLayout()
        top.setSpacing(8)
        self.direction_icon = QLabel()
        self.direction_icon.setFixedSize(18, 18)
        top.addWidget(self.direction_icon)
        self.title = QLabel("")
        self.title.setObjectName("LiveTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top.addWidget(self.title, 1)
        self.selector = QComboBox()
        self.selector.setAccessibleName("Live calls")
        self.selector.hide()
        self.selector.activated.connect(self._on_selector_activated)
        top.addWidget(self.selector)
        self.open_contact_button = QPushButton("Open contact")
        self.open_contact_button.setToolTip("Open the matched contact in the CRM")
        self.open_contact_button.clicked.connect(lambda: self._emit(self.open_contact_requested))
        top.addWidget(self.open_contact_button)
        self.log_button = QPushButton(icon("plus"), "Log now")
        self.log_button.setProperty("primary", True)
        self.log_button.setToolTip("Open the log form for this call now (your note comes along)")
        self.log_button.clicked.connect(lambda: self._emit(self.log_requested))
        top.addWidget(self.log_button)
        self.done_button = QPushButton("Done")
        self.done_button.setToolTip("Close the strip (the note stays with the call)")
        self.done_button.clicked.connect(lambda: self._emit(self.dismissed))
        top.addWidget(self.done_button)
        root.addLayout(top)

        status = QHBoxLayout()
        status.setSpacing(10)
        self.state_label = QLabel("")
        self.state_label.setObjectName("LiveState")
        self.state_label.setAccessibleName("Call state")
        status.addWidget(self.state_label)
        self.recording_label = QLabel("● Recording")
        self.recording_label.setObjectName("LiveRecording")
        status.addWidget(self.recording_label)
        self.detail_label = QLabel("")
        self.detail_label.setProperty("role", "muted")
        status.addWidget(self.detail_label, 1)
        root.addLayout(status)

        self.note = QPlainTextEdit()
        self.note.setObjectName("LiveNote")
        self.note.setPlaceholderText("Notes for this call — saved as you type, and they become the note of its log")
        self.note.setAccessibleName("Call notes")
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 16)
        self.note.textChanged.connect(self._on_note_changed)
        root.addWidget(self.note)

        self._timer = QTimer(self)
        self._timer.setObjectName("live-strip-timer")
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.refresh_timer)
        self.hide()

    # --- what is shown -------------------------------------------------------------------------

    @property
    def call_id(self) -> str | None:
        return self._view.call_id if self._view else None

    @property
    def view(self) -> LiveView | None:
        return self._view

    def show_call(self, view: LiveView, *, others: list[LiveView] | None = None) -> None:
        """Shows ``view`` (``others``: further live calls for the selector)."""
        switching = self._view is None or self._view.call_id != view.call_id
        self._view = view
        inbound = view.direction == "Inbound"
        self.direction_icon.setPixmap(icon("inbound" if inbound else "outbound").pixmap(18, 18))
        who = view.contact if view.contact and view.contact not in ("No contact", "Colleague") else view.name
        parts = [("Call from " if inbound else "Call to ") + (who or view.number or "an unknown number")]
        if who and view.number and who != view.number:
            parts.append(view.number)
        self.title.setText("   ".join(parts))
        self.setAccessibleDescription(self.title.text())
        self.recording_label.setVisible(view.recording and view.is_live)
        details = []
        if view.queue_name:
            details.append(f"{view.queue_name} queue")
        if view.contact == "No contact" or view.contact.endswith("contacts"):
            details.append(view.contact)
        elif view.contact == "Colleague":
            details.append("internal call")
        if view.transferred:
            details.append("transferred")
        if view.log_state:
            details.append(view.log_state)
        self.detail_label.setText(" · ".join(details))
        self.open_contact_button.setVisible(view.can_open_contact)
        self.log_button.setVisible(not view.log_state)
        self.done_button.setVisible(not view.is_live)
        choices = [view, *(others or [])]
        self.selector.blockSignals(True)
        self.selector.clear()
        for choice in choices:
            self.selector.addItem(choice.contact or choice.name or choice.number, choice.call_id)
        self.selector.setVisible(len(choices) > 1)
        self.selector.blockSignals(False)
        if switching:
            self.note.setReadOnly(False)
            self.note.setToolTip("")
        self.refresh_timer()
        if view.is_live:
            self._timer.start()
        else:
            self._timer.stop()
        self.show()

    def set_note(self, text: str) -> None:
        """Loads the call's saved note without reporting it as an edit."""
        if self.note.toPlainText() == text:
            return
        self._loading_note = True
        try:
            self.note.setPlainText(text)
            self.note.moveCursor(self.note.textCursor().MoveOperation.End)
        finally:
            self._loading_note = False

    def hand_over_note(self, where: str) -> None:
        """The note is being edited elsewhere (the log form): the pad stops taking keystrokes."""
        self.note.setReadOnly(True)
        self.note.setToolTip(f"Your note continues in {where}.")

    def clear(self) -> None:
        self._view = None
        self._timer.stop()
        self._loading_note = True
        self.note.clear()
        self._loading_note = False
        self.hide()

    def refresh_timer(self) -> None:
        view = self._view
        if view is None:
            return
        now = self._clock()
        if view.state == "on_hold" and view.held_since is not None:
            text = f"On hold {elapsed_text((now - view.held_since).total_seconds())}"
            if view.answered_at is not None:
                text += f" · call {elapsed_text((now - view.answered_at).total_seconds())}"
        elif view.state == "connected" and view.answered_at is not None:
            text = f"On call {elapsed_text((now - view.answered_at).total_seconds())}"
        elif view.state == "ended":
            end = view.ended_at or now
            if view.answered_at is not None:
                text = f"Ended · talked {elapsed_text((end - view.answered_at).total_seconds())}"
            else:
                text = "Ended · not answered"
        else:
            words = _STATE_WORDS.get(view.state, view.state.title())
            text = f"{words} {elapsed_text((now - view.rang_at).total_seconds())}"
        self.state_label.setText(text)

    # --- signals --------------------------------------------------------------------------------

    def _emit(self, signal: SignalInstance) -> None:
        if self._view is not None:
            signal.emit(self._view.call_id)

    def _on_note_changed(self) -> None:
        if self._loading_note or self._view is None or self.note.isReadOnly():
            return
        self.note_edited.emit(self._view.call_id, self.note.toPlainText())

    def _on_selector_activated(self, index: int) -> None:
        call_id = self.selector.itemData(index)
        if isinstance(call_id, str) and call_id != self.call_id:
            self.current_changed.emit(call_id)
