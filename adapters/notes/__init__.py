# SPDX-License-Identifier: MIT
"""The note engine: compose call logs, substitute into existing ones, never clobber the agent.

Public API::

    compose(content, settings, fmt, *, limit=None, report=None) -> str
    apply(body, change, settings, fmt, *, limit=None, overwrite=(), written=None) -> (str, ApplyReport)
    extract_agent_note(body, fmt) -> str
    replace_agent_note(body, note, fmt) -> str
    strip_controls(text) -> (str, int)

``fmt`` is :data:`adapters.base.LogFormat`. Everything here is pure and thread-safe.
"""

from __future__ import annotations

from adapters.notes.engine import apply, compose, extract_agent_note, is_placeholder, replace_agent_note
from adapters.notes.models import (
    AiNote,
    ApplyReport,
    NoteContent,
    NoteSettings,
    Shortened,
    Skipped,
    Utterance,
    ai_note_from_insights,
    journey_lines,
    recording_link_for,
    utterances_from_insights,
)
from adapters.notes.render import strip_controls

__all__ = [
    "AiNote",
    "ApplyReport",
    "NoteContent",
    "NoteSettings",
    "Shortened",
    "Skipped",
    "Utterance",
    "ai_note_from_insights",
    "apply",
    "compose",
    "extract_agent_note",
    "is_placeholder",
    "journey_lines",
    "recording_link_for",
    "replace_agent_note",
    "strip_controls",
    "utterances_from_insights",
]
