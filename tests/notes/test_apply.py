# SPDX-License-Identifier: MIT
"""apply(): substitution into existing bodies, ours and App Connect's."""

from __future__ import annotations

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
)
from adapters.notes.engine import parse
from tests.notes.conftest import FORMATS

PENDING = NoteContent(note="Wants a quote", subject="Inbound call from Jane", duration=270, duration_pending=True,
                      result="Accepted", recording_pending=True, ai_note_pending=True, transcript_pending=True)
FINAL = NoteContent(duration=275, recording_link="https://example.com/rec/1",
                    ai_note=AiNote(summary="Quote requested."),
                    transcript=[Utterance(speaker="Jane", start=1, end=2, text="Hi")])
S = NoteSettings()


@pytest.mark.parametrize("fmt", FORMATS)
def test_placeholders_are_replaced_by_final_values(fmt: str) -> None:
    body = compose(PENDING, S, fmt)  # type: ignore[arg-type]
    new, report = apply(body, FINAL, S, fmt)  # type: ignore[arg-type]
    assert report.replaced == ["duration", "recording", "ai_note", "transcript"]
    assert not report.appended and not report.skipped
    assert new == compose(PENDING.model_copy(update={
        "duration": 275, "duration_pending": False, "recording_link": "https://example.com/rec/1",
        "recording_pending": False, "ai_note": FINAL.ai_note, "ai_note_pending": False,
        "transcript": FINAL.transcript, "transcript_pending": False}), S, fmt)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", FORMATS)
def test_applying_the_same_change_twice_gives_the_same_body(fmt: str) -> None:
    body = compose(PENDING, S, fmt)  # type: ignore[arg-type]
    once, _ = apply(body, FINAL, S, fmt)  # type: ignore[arg-type]
    twice, report = apply(once, FINAL, S, fmt)  # type: ignore[arg-type]
    assert twice == once
    assert report.unchanged == ["duration", "recording", "ai_note", "transcript"]
    assert not report.changed


def test_plain_text_value_edited_in_the_crm_is_left_alone_and_reported() -> None:
    body = compose(PENDING, S, "text/plain").replace("4 minutes, 30 seconds (pending)", "about five minutes")
    new, report = apply(body, FINAL, S, "text/plain")
    assert "- Duration: about five minutes\n" in new
    assert [(s.section, s.reason) for s in report.skipped] == [("duration", "edited in the CRM")]


def test_value_deleted_in_the_crm_is_left_alone_and_reported() -> None:
    body = compose(PENDING, S, "text/html").replace("&lt;recording being processed by RingCentral&gt;", "")
    new, report = apply(body, FINAL, S, "text/html")
    assert "<b>Call recording link</b>: <br>" in new
    assert ("recording", "removed in the CRM") in [(s.section, s.reason) for s in report.skipped]


def test_pending_value_never_replaces_a_final_one() -> None:
    body = compose(NoteContent(duration=275), S, "text/plain")
    new, report = apply(body, NoteContent(duration=270, duration_pending=True), S, "text/plain")
    assert new == body
    assert [(s.section, s.reason) for s in report.skipped] == [("duration", "already has a final value")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_section_never_written_is_inserted_in_its_place(fmt: str) -> None:
    body = compose(NoteContent(note="n", subject="S", duration=5, transcript="T"), S, fmt)  # type: ignore[arg-type]
    new, report = apply(body, NoteContent(result="Accepted", ai_note=AiNote(text="A")), S, fmt)  # type: ignore[arg-type]
    assert report.appended == ["result", "ai_note"]
    expected = compose(NoteContent(note="n", subject="S", duration=5, result="Accepted", ai_note=AiNote(text="A"),
                                   transcript="T"), S, fmt)  # type: ignore[arg-type]
    assert new == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_sections_are_appended_to_a_body_without_any(fmt: str) -> None:
    new, report = apply("Typed in the CRM", NoteContent(duration=5, ai_note=AiNote(text="A")), S, fmt)  # type: ignore[arg-type]
    assert new.startswith("Typed in the CRM")
    assert report.appended == ["duration", "ai_note"]
    again, _ = apply(new, NoteContent(duration=5, ai_note=AiNote(text="A")), S, fmt)  # type: ignore[arg-type]
    assert again == new


def test_plain_text_append_keeps_one_line_break() -> None:
    new, _ = apply("Typed in the CRM\n", NoteContent(duration=5, ai_note=AiNote(text="A")), S, "text/plain")
    assert new == "Typed in the CRM\n- Duration: 5 seconds\n\n- AI Note:\nA\n--- END\n"


@pytest.mark.parametrize("fmt", FORMATS)
def test_agent_note_edit_replaces_only_the_note(fmt: str) -> None:
    body = compose(PENDING, S, fmt)  # type: ignore[arg-type]
    new, report = apply(body, NoteContent(note="Quote sent\n- Pricing: $5"), S, fmt)  # type: ignore[arg-type]
    assert report.replaced == ["note"]
    assert extract_agent_note(new, fmt) == "Quote sent\n- Pricing: $5"  # type: ignore[arg-type]
    assert new == compose(PENDING.model_copy(update={"note": "Quote sent\n- Pricing: $5"}), S, fmt)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", FORMATS)
def test_replace_agent_note_adds_a_note_to_a_body_without_one(fmt: str) -> None:
    body = compose(NoteContent(subject="S", duration=5), S, fmt)  # type: ignore[arg-type]
    new = replace_agent_note(body, "Called back", fmt)  # type: ignore[arg-type]
    assert extract_agent_note(new, fmt) == "Called back"  # type: ignore[arg-type]
    assert new == compose(NoteContent(note="Called back", subject="S", duration=5), S, fmt)  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", FORMATS)
def test_repeated_updates_never_grow_blank_lines(fmt: str) -> None:
    body = compose(PENDING, S, fmt)  # type: ignore[arg-type]
    for round_ in range(5):
        change = FINAL.model_copy(update={"note": f"edit {round_}"})
        body, _ = apply(body, change, S, fmt)  # type: ignore[arg-type]
    assert "\n\n\n" not in body
    assert body == compose(PENDING.model_copy(update={
        "note": "edit 4", "duration": 275, "duration_pending": False, "recording_link": "https://example.com/rec/1",
        "recording_pending": False, "ai_note": FINAL.ai_note, "ai_note_pending": False,
        "transcript": FINAL.transcript, "transcript_pending": False}), S, fmt)  # type: ignore[arg-type]


def test_overwrite_replaces_a_value_the_agent_chose_in_the_app() -> None:
    body = compose(NoteContent(subject="Old subject"), S, "text/plain")
    new, report = apply(body, NoteContent(subject="New subject"), S, "text/plain", overwrite={"subject"})
    assert new == "- Summary: New subject\n"
    assert report.replaced == ["subject"]


def test_turned_off_section_in_a_change_is_reported() -> None:
    new, report = apply("", NoteContent(session_id="S1"), S, "text/plain")
    assert new == ""
    assert [(s.section, s.reason) for s in report.skipped] == [("session_id", "turned off in the note settings")]


def test_label_trimmed_by_the_crm_is_still_found() -> None:
    body = "- Note:\n- Duration:\n"
    new, _report = apply(body, NoteContent(note="hi"), S, "text/plain")
    assert new == "- Note: hi\n- Duration:\n"
    assert extract_agent_note(new, "text/plain") == "hi"


@pytest.mark.parametrize("fmt", FORMATS)
def test_section_the_agent_removed_is_not_written_again_when_the_written_body_is_known(fmt: str) -> None:
    written = compose(PENDING, S, fmt)  # type: ignore[arg-type]
    found = parse(written, fmt)  # type: ignore[arg-type]
    duration = found["duration"]
    edited = written[: duration.start] + written[duration.end :]
    new, report = apply(edited, FINAL, S, fmt, written=written)  # type: ignore[arg-type]
    assert ("duration", "removed in the CRM") in [(s.section, s.reason) for s in report.skipped]
    assert "4 minutes, 35 seconds" not in new and "Duration" not in new.replace("Duration</b>", "")
    assert report.replaced == ["recording", "ai_note", "transcript"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_value_still_as_the_app_wrote_it_is_updated_when_the_written_body_is_known(fmt: str) -> None:
    written, _ = apply(compose(PENDING, S, fmt), FINAL, S, fmt)  # type: ignore[arg-type]
    second = NoteContent(ai_note=AiNote(summary="A better recap."), subject="Renewal call")
    new, report = apply(written, second, S, fmt, written=written)  # type: ignore[arg-type]
    assert report.replaced == ["subject", "ai_note"]
    assert "A better recap." in new and "Renewal call" in new
    # Without knowing what was written, the same values count as the agent's edits.
    _, blind = apply(written, second, S, fmt)  # type: ignore[arg-type]
    assert [s.reason for s in blind.skipped] == ["edited in the CRM", "edited in the CRM"]


def test_value_the_agent_changed_after_the_app_wrote_it_is_kept_even_when_known() -> None:
    written = compose(NoteContent(subject="Inbound call"), S, "text/plain")
    body = written.replace("Inbound call", "Renewal (agent)")
    new, report = apply(body, NoteContent(subject="Renewal call"), S, "text/plain", written=written)
    assert new == body
    assert [(s.section, s.reason) for s in report.skipped] == [("subject", "edited in the CRM")]


@pytest.mark.parametrize("fmt", ["text/plain", "text/markdown"])
def test_body_stored_with_crlf_line_breaks_keeps_them(fmt: str) -> None:
    body = compose(PENDING, S, fmt).replace("\n", "\r\n")  # type: ignore[arg-type]
    new, report = apply(body, FINAL.model_copy(update={"voicemail_link": "https://e.com/vm"}), S, fmt)  # type: ignore[arg-type]
    assert "\n" not in new.replace("\r\n", "")
    assert report.replaced == ["duration", "recording", "ai_note", "transcript"]
    assert extract_agent_note(new, fmt) == "Wants a quote"  # type: ignore[arg-type]
    assert extract_agent_note(replace_agent_note(new, "a\nb", fmt), fmt) == "a\nb"  # type: ignore[arg-type]


def test_result_written_while_the_call_was_in_progress_is_replaced() -> None:
    body = compose(NoteContent(result="In Progress", duration_pending=True), S, "text/plain")
    new, report = apply(body, NoteContent(result="Accepted", duration=61), S, "text/plain")
    assert new == "- Duration: 1 minute, 1 second\n- Result: Accepted\n"
    assert report.replaced == ["duration", "result"]


def test_plain_body_with_both_crlf_and_lf_keeps_every_line_break_where_it_was() -> None:
    body = "- Note: Wants a quote\r\n- Duration: (pending)\r\nTyped in the CRM\n- Result: Accepted\r\n"
    new, report = apply(body, NoteContent(duration=61, recording_link="https://e.com/r"), S, "text/plain")
    assert new == ("- Note: Wants a quote\r\n- Duration: 1 minute, 1 second\r\nTyped in the CRM\n"
                   "- Result: Accepted\r\n- Call recording link: https://e.com/r\r\n")
    assert report.replaced == ["duration"] and report.appended == ["recording"]


def test_markdown_body_with_both_crlf_and_lf_keeps_every_line_break_where_it_was() -> None:
    body = ("## Agent notes\r\nWants\r\na quote\r\n\r\n## Call details\n- **Duration**: (pending)\r\n"
            "- **Result**: Accepted\n")
    assert extract_agent_note(body, "text/markdown") == "Wants\na quote"
    new, report = apply(body, NoteContent(note="Wants\na quote", duration=61, result="Accepted"), S, "text/markdown")
    assert new == body.replace("(pending)", "1 minute, 1 second")
    assert report.unchanged == ["note", "result"] and report.replaced == ["duration"]


def test_a_body_that_differs_from_the_written_one_is_searched_for_control_characters() -> None:
    written = compose(NoteContent(note="Typed", duration_pending=True), S, "text/plain")
    body = written.replace("Typed", "Typ\x00ed")
    new, report = apply(body, NoteContent(duration=61), S, "text/plain", written=written)
    assert new == compose(NoteContent(note="Typed", duration=61), S, "text/plain")
    assert report.stripped_controls == {"body": 1}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_body_exactly_as_written_is_updated_as_without_the_written_body(fmt: str) -> None:
    written = compose(PENDING, S, fmt).replace("\n", "\r\n")  # type: ignore[arg-type]
    with_written, report = apply(written, FINAL, S, fmt, written=written[:1] + written[1:])  # type: ignore[arg-type]
    assert (with_written, report) == apply(written, FINAL, S, fmt)  # type: ignore[arg-type]
