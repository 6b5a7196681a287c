# SPDX-License-Identifier: MIT
"""Icons and the stylesheet, loaded from the ``resources`` package (never by ``__file__`` paths).

Threading contract: GUI thread only (QIcon).
"""

from __future__ import annotations

from contextlib import ExitStack
from functools import cache
from importlib.resources import as_file

from PySide6.QtGui import QIcon

from desktop.ui.palette import stylesheet
from resources import read_text, resource

_files = ExitStack()


@cache
def icon(name: str) -> QIcon:
    """The SVG icon ``resources/icons/<name>.svg``; a null icon if there is no such file."""
    node = resource("icons", f"{name}.svg")
    if not node.is_file():
        return QIcon()
    path = _files.enter_context(as_file(node))
    return QIcon(str(path))


@cache
def app_stylesheet() -> str:
    icons = _files.enter_context(as_file(resource("icons")))
    return stylesheet(read_text("styles", "app.qss"), str(icons).replace("\\", "/"))
