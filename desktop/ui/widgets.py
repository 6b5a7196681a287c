# SPDX-License-Identifier: MIT
"""Small shared widgets (light on imports: the window shell uses them before the first paint).

Threading contract: GUI thread only.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton


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
        self.closable = closable
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
