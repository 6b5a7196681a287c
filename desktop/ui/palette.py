# SPDX-License-Identifier: MIT
"""Colour roles, in one place. The stylesheet (resources/styles/app.qss) uses ``@name`` tokens
that :func:`stylesheet` replaces with these values; delegates paint badges with them directly."""

from __future__ import annotations

from dataclasses import dataclass

COLORS: dict[str, str] = {
    "window": "#f4f6f9",
    "surface": "#ffffff",
    "surface_alt": "#f9fafb",
    "border": "#dfe3e8",
    "border_strong": "#c5ccd6",
    "text": "#1f2933",
    "muted": "#66717f",
    "accent": "#2563eb",
    "accent_hover": "#1d4ed8",
    "accent_soft": "#e8effd",
    "selection": "#dbe7fd",
    "danger": "#b91c1c",
    "danger_soft": "#fdecec",
    "warning": "#92400e",
    "warning_soft": "#fef3c7",
    "success": "#166534",
    "success_soft": "#dcfce7",
}


@dataclass(frozen=True)
class BadgeStyle:
    foreground: str
    background: str


BADGES: dict[str, BadgeStyle] = {
    "Unlogged": BadgeStyle("#9a3412", "#ffedd5"),
    "Saving…": BadgeStyle("#1e40af", "#dbeafe"),
    "Logged": BadgeStyle("#166534", "#dcfce7"),
    "Failed": BadgeStyle("#b91c1c", "#fee2e2"),
    "Preparing…": BadgeStyle("#4b5563", "#eceff3"),
    "pending": BadgeStyle("#6d28d9", "#ede9fe"),
}


def stylesheet(template: str, icon_dir: str = "") -> str:
    """``template`` with every ``@name`` token replaced by its colour (longest names first), and
    ``@icons/`` by the directory holding the SVG icons."""
    template = template.replace("@icons/", icon_dir.rstrip("/") + "/")
    for name in sorted(COLORS, key=len, reverse=True):
        template = template.replace(f"@{name}", COLORS[name])
    return template
