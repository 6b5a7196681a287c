# SPDX-License-Identifier: MIT
"""The Qt binding keeps Python's reference counts right: a binding that returns ``None`` from void
methods without a reference makes the interpreter abort after a few thousand calls
("Fatal Python error: none_dealloc"), at quit or in the middle of an agent's day."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel


def test_void_qt_calls_do_not_drop_references_to_none(qtbot) -> None:  # type: ignore[no-untyped-def]
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for n in range(500):
        label.setText(str(n))  # a void C++ method: Python gets None back
        label.update()
    # Allow for unrelated objects coming and going meanwhile; a leak shows as thousands.
    assert sys.getrefcount(None) > before - 200
