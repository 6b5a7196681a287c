# SPDX-License-Identifier: MIT
"""The note engine: compose call logs, substitute into existing ones, never clobber the agent.

Public API::

    compose(content, settings, fmt, *, limit=None) -> str
    apply(body, change, settings, fmt, *, limit=None, overwrite=()) -> (str, ApplyReport)
    extract_agent_note(body, fmt) -> str
    replace_agent_note(body, note, fmt) -> str

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
    "utterances_from_insights",
]
