# SPDX-License-Identifier: MIT
"""Blocks (AI note, transcript, journey) end where the engine can find them: what the agent types
under a block stays theirs, and the block itself can still be updated."""

from __future__ import annotations

import pytest

from adapters.notes import AiNote, NoteContent, NoteSettings, Utterance, apply, compose
from adapters.notes.engine import parse
from tests.notes.conftest import FORMATS

S = NoteSettings()
FILLED = NoteContent(note="Wants a quote", duration=275, ai_note=AiNote(summary="Quote requested."),
                     transcript=[Utterance(speaker="Jane", start=1, text="Hi")], journey=["Received call at IVR",
                                                                                        "Transferred to Bob"])
REVISED = NoteContent(ai_note=AiNote(summary="Quote requested for 12 seats."),
                      transcript=[Utterance(speaker="Jane", start=1, text="Hi"), Utterance(speaker="Dana", start=2,
                                                                                            text="Hello")])
PENDING = NoteContent(note="Wants a quote", duration=270, duration_pending=True, ai_note_pending=True,
                      transcript_pending=True)
FINAL = NoteContent(duration=275, ai_note=AiNote(summary="Quote requested."),
                    transcript=[Utterance(speaker="Jane", start=1, text="Hi")])


def _typed_under(body: str, fmt: str, keys: tuple[str, ...]) -> tuple[str, list[str]]:
    """``body`` with a line the agent typed right under each block in ``keys``."""
    found = parse(body, fmt)  # type: ignore[arg-type]
    lines = []
    for key in sorted(keys, key=lambda k: found[k].end, reverse=True):
        line = f"Typed under the {key}"
        lines.append(line)
        end = found[key].end
        body = body[:end] + (f"{line}<br>" if fmt == "text/html" else f"\n{line}") + body[end:]
    return body, lines


@pytest.mark.parametrize("fmt", FORMATS)
def test_text_typed_under_filled_blocks_survives_while_the_blocks_are_updated(fmt: str) -> None:
    # Given a note with an AI note and a transcript, and the agent typed a line under each in the CRM
    written = compose(FILLED, S, fmt)  # type: ignore[arg-type]
    body, lines = _typed_under(written, fmt, ("ai_note", "transcript", "journey"))
    # When RingCentral revises both
    new, report = apply(body, REVISED, S, fmt, written=written)  # type: ignore[arg-type]
    # Then both blocks are updated and each typed line is still right under its block
    assert report.replaced == ["ai_note", "transcript"] and not report.skipped
    revised = FILLED.model_copy(update={"ai_note": REVISED.ai_note, "transcript": REVISED.transcript})
    expected, _ = _typed_under(compose(revised, S, fmt), fmt, ("ai_note", "transcript", "journey"))  # type: ignore[arg-type]
    assert new == expected
    assert all(line in new for line in lines)
    assert apply(new, REVISED, S, fmt, written=written)[0] == new  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", FORMATS)
def test_text_typed_under_placeholder_blocks_survives_when_the_values_arrive(fmt: str) -> None:
    body, _ = _typed_under(compose(PENDING, S, fmt), fmt, ("ai_note", "transcript"))  # type: ignore[arg-type]
    new, report = apply(body, FINAL, S, fmt)  # type: ignore[arg-type]
    assert report.replaced == ["duration", "ai_note", "transcript"]
    expected, _ = _typed_under(compose(FILLED.model_copy(update={"journey": None}), S, fmt), fmt,  # type: ignore[arg-type]
                               ("ai_note", "transcript"))
    assert new == expected


def test_markdown_blocks_end_with_a_reference_definition_after_a_blank_line() -> None:
    body = compose(NoteContent(ai_note=AiNote(text="Recap"), transcript="Jane: Hi"), S, "text/markdown")
    assert body == ("### AI Note\nRecap\n\n[//]: # (end: AI Note)\n\n"
                    "### Transcript\n- Jane: Hi\n\n[//]: # (end: Transcript)\n")


def test_markdown_block_written_before_end_markers_still_runs_to_the_next_section() -> None:
    # A body from before end markers: the typed line reads as part of the AI note, as it always did.
    body = "### AI Note\nRecap\nTyped under it\n### Transcript\n<transcript being prepared by RingCentral>\n"
    new, report = apply(body, NoteContent(ai_note=AiNote(text="New recap"), transcript="Jane: Hi"), S,
                        "text/markdown")
    assert [(s.section, s.reason) for s in report.skipped] == [("ai_note", "edited in the CRM")]
    assert new == ("### AI Note\nRecap\nTyped under it\n### Transcript\n- Jane: Hi\n\n"
                   "[//]: # (end: Transcript)\n")


def test_markdown_end_marker_after_another_section_does_not_end_the_block() -> None:
    # The marker belongs to the block only when no section comes between them.
    body = ("### AI Note\n<AI note being prepared by RingCentral>\nTyped\n- **Duration**: 5 seconds\n"
            "[//]: # (end: AI Note)\n")
    new, report = apply(body, NoteContent(ai_note=AiNote(text="Recap")), S, "text/markdown")
    assert report.replaced == ["ai_note"]
    assert new == ("### AI Note\nRecap\n\n[//]: # (end: AI Note)\nTyped\n- **Duration**: 5 seconds\n"
                   "[//]: # (end: AI Note)\n")


@pytest.mark.parametrize("line", ["[//]: # (end: Transcript)", "[//]: # (end: AI Note)", "\\[//]: # (end: Transcript)"])
def test_a_transcript_line_that_reads_like_an_end_marker_does_not_end_the_block(line: str) -> None:
    content = NoteContent(transcript=f"{line}\nstill the transcript", ai_note=AiNote(text=line))
    body = compose(content, S, "text/markdown")
    found = parse(body, "text/markdown")
    assert body[found["transcript"].vstart : found["transcript"].vend].endswith("still the transcript")
    assert body.count("\n[//]: # (end: ") == 2
    again, report = apply(body, content, S, "text/markdown")
    assert again == body and report.unchanged == ["ai_note", "transcript"]


def test_markdown_end_markers_in_a_crlf_body_are_found() -> None:
    written = compose(FILLED, S, "text/markdown")
    body, _ = _typed_under(written, "text/markdown", ("ai_note", "transcript"))
    new, report = apply(body.replace("\n", "\r\n"), REVISED, S, "text/markdown", written=written.replace("\n", "\r\n"))
    assert report.replaced == ["ai_note", "transcript"]
    assert "[//]: # (end: AI Note)\r\nTyped under the ai_note\r\n" in new
