# SPDX-License-Identifier: MIT
"""Control characters (C0 except tab, LF and CR) never reach a CRM; the text around them does."""

from __future__ import annotations

import re

import pytest

from adapters.notes import (
    AiNote,
    NoteContent,
    NoteSettings,
    Utterance,
    apply,
    compose,
    extract_agent_note,
    replace_agent_note,
    strip_controls,
)
from adapters.notes.models import ApplyReport
from tests.notes.conftest import FORMATS

S = NoteSettings()
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _content() -> NoteContent:
    return NoteContent(
        note="Quote\x00 sent\x1b[0m\ttoday", subject="Renewal\x0b call", result="Acc\x07epted", duration=90,
        ai_note=AiNote(summary="Wants\x0c a quote"), transcript=[Utterance(speaker="Ja\x01ne", start=1, text="Hi\x00")],
        journey=["Received\x02 call", "Transferred to Bob"],
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_composed_note_leaves_out_control_characters_and_keeps_the_visible_text(fmt: str) -> None:
    report = ApplyReport()
    body = compose(_content(), S, fmt, report=report)  # type: ignore[arg-type]
    assert CONTROL.search(body) is None
    assert extract_agent_note(body, fmt) == "Quote sent[0m\ttoday"  # type: ignore[arg-type]
    for visible in ("Renewal call", "Accepted", "Wants a quote", "Jane", "Hi", "Received call"):
        assert visible in body
    assert report.stripped_controls == {"note": 2, "subject": 1, "result": 1, "ai_note": 1, "transcript": 2,
                                        "journey": 1}


@pytest.mark.parametrize("fmt", FORMATS)
def test_controls_in_the_crm_body_are_removed_and_reported(fmt: str) -> None:
    body = compose(NoteContent(note="Typed", duration_pending=True), S, fmt)  # type: ignore[arg-type]
    dirty = body.replace("Typed", "Ty\x00ped\x1f")
    new, report = apply(dirty, NoteContent(duration=61), S, fmt)  # type: ignore[arg-type]
    assert new == compose(NoteContent(note="Typed", duration=61), S, fmt)  # type: ignore[arg-type]
    assert report.stripped_controls == {"body": 2}
    assert report.replaced == ["duration"]


def test_a_body_whose_only_fault_is_a_control_character_counts_as_changed() -> None:
    body = compose(NoteContent(note="Typed", duration=61), S, "text/plain")
    new, report = apply(body.replace("Typed", "Typed\x00"), NoteContent(duration=61), S, "text/plain")
    assert new == body
    assert report.unchanged == ["duration"]
    assert report.changed


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_change_with_control_characters_applied_twice_gives_the_same_body(fmt: str) -> None:
    body = compose(NoteContent(note="n", duration_pending=True, ai_note_pending=True), S, fmt)  # type: ignore[arg-type]
    once, first = apply(body, _content(), S, fmt)  # type: ignore[arg-type]
    twice, second = apply(once, _content(), S, fmt)  # type: ignore[arg-type]
    assert CONTROL.search(once) is None
    assert twice == once
    assert not second.changed
    assert second.stripped_controls == first.stripped_controls
    assert "body" not in second.stripped_controls


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_value_made_only_of_control_characters_is_not_written(fmt: str) -> None:
    report = ApplyReport()
    body = compose(NoteContent(note="\x00", subject="\x01\x02", duration=5), S, fmt, report=report)  # type: ignore[arg-type]
    assert body == compose(NoteContent(duration=5), S, fmt)  # type: ignore[arg-type]
    assert report.stripped_controls == {"note": 1, "subject": 2}


def test_tab_line_feed_and_carriage_return_are_kept() -> None:
    assert strip_controls("a\tb\nc\r\nd") == ("a\tb\nc\r\nd", 0)
    body = compose(NoteContent(note="a\tb\nc"), S, "text/plain")
    assert extract_agent_note(body, "text/plain") == "a\tb\nc"


@pytest.mark.parametrize("size", [10, 5000])
def test_strip_controls_counts_what_it_removes_in_short_and_long_text(size: int) -> None:
    text = "x" * size + "".join(chr(c) for c in range(32)) + "\x7f"
    cleaned, removed = strip_controls(text)
    assert cleaned == "x" * size + "\t\n\r\x7f"
    assert removed == 29


@pytest.mark.parametrize("fmt", FORMATS)
def test_replacing_the_agent_note_leaves_out_control_characters(fmt: str) -> None:
    body = compose(NoteContent(note="old", duration=5), S, fmt).replace("old", "o\x00ld")  # type: ignore[arg-type]
    new = replace_agent_note(body, "ne\x0bw", fmt)  # type: ignore[arg-type]
    assert new == compose(NoteContent(note="new", duration=5), S, fmt)  # type: ignore[arg-type]


@pytest.mark.parametrize("at", [0, 65_535, 65_536, 65_537, 200_000 - 1])
@pytest.mark.parametrize("wide", ["", "•"])
def test_a_control_character_anywhere_in_a_long_body_is_found(at: int, wide: str) -> None:
    body = list(("x" * 199_999) + (wide or "y"))
    body[at] = "\x00" if at % 2 else "\x1f"
    cleaned, removed = strip_controls("".join(body))
    assert removed == 1 and len(cleaned) == 199_999
