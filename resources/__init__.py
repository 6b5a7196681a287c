# SPDX-License-Identifier: MIT
"""Icons, stylesheets and sandbox demo data, loaded through :mod:`importlib.resources`."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable


def resource(*parts: str) -> Traversable:
    """A file shipped in this package, e.g. ``resource("styles", "app.qss")``."""
    node: Traversable = files(__name__)
    for part in parts:
        node = node / part
    return node


def read_text(*parts: str) -> str:
    return resource(*parts).read_text(encoding="utf-8")
