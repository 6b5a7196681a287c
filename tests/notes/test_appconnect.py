# SPDX-License-Identifier: MIT
"""Bodies written by App Connect (its verified outputs) are recognised; its quirks are not copied."""

from __future__ import annotations

import pytest

from adapters.notes import AiNote, NoteContent, NoteSettings, apply, extract_agent_note, replace_agent_note

S = NoteSettings()

AC_PLAIN = (
    "- Note: Test note\n- Session Id: session123\n- Summary: Test subject\n- Contact Number: +1234567890\n"
    "- Date/Time: 2023-01-01 05:30:00 PM\n- Duration: 1 minute, 30 seconds\n- Result: Answered\n"
    "- Call recording link: https://example.com/recording.mp3\n\n- AI Note:\nAI generated note\n--- END\n\n"
    "- Transcript:\nCall transcript\n--- END\n"
)
AC_HTML = (
    "<b>Agent notes</b><br>Test note<br><br><b>Call details</b><br><li><b>Session Id</b>: session123</li>"
    "<li><b>Summary</b>: Test subject</li><li><b>Caller phone number</b>: +1234567890</li>"
    "<li><b>Date/time</b>: 2023-01-01 05:30:00 PM</li><li><b>Duration</b>: 1 minute, 30 seconds</li>"
    "<li><b>Result</b>: Answered</li><li><b>Call recording link</b>: <a target=\"_blank\" "
    "href=\"https://example.com/recording.mp3\">open</a></li><div><b>AI Note</b><br>AI generated note</div><br>"
    "<div><b>Transcript</b><br>Call transcript</div><br>"
)
AC_MARKDOWN = (
    "## Agent notes\nTest note\n\n## Call details\n**Session Id**: session123\n**Summary**: Test subject\n"
    "**Contact Number**: +1234567890\n**Date/Time**: 2023-01-01 05:30:00 PM\n**Duration**: 1 minute, 30 seconds\n"
    "**Result**: Answered\n**Call recording link**: https://example.com/recording.mp3\n### AI Note\n"
    "AI generated note\n### Transcript\nCall transcript\n"
)

# App Connect (B): created while duration and recording were pending, plain text.
AC_PLAIN_CREATED = (
    "- Note: first note\n- Session Id: S1\n- RingCentral user name: Agent Smith\n"
    "- RingCentral number and extension: +16505550100 \n- Summary: Outbound Call to Jane\n"
    "- Contact Number: +14155550199\n- Date/Time: 2024-03-01 10:04:05 AM\n- Duration: pending\n"
    "- Result: Call connected\n"
)
AC_HTML_CREATED = (
    "<b>Agent notes</b><br>first note<br><br><b>Call details</b><br><li><b>Summary</b>: Outbound Call to Jane</li>"
    "<li><b>Duration</b>: pending</li><li><b>Result</b>: Call connected</li>"
    "<li><b>Call recording link</b>: (pending...)</li>"
)
AC_MARKDOWN_CREATED = (
    "## Agent notes\nfirst note\n\n## Call details\n**Summary**: Outbound Call to Jane\n**Duration**: pending\n"
    "**Result**: Call connected\n**Call recording link**: (pending...)\n"
)

UPDATE = NoteContent(duration=125, recording_link="https://media.ringcentral.com/rec/1",
                     ai_note=AiNote(text="AI line1\nAI line2"), transcript="A: hi\nB: hello")


@pytest.mark.parametrize(("fmt", "body"), [("text/plain", AC_PLAIN), ("text/html", AC_HTML),
                                           ("text/markdown", AC_MARKDOWN)])
def test_app_connect_body_sections_are_recognised_in_every_format(fmt: str, body: str) -> None:
    assert extract_agent_note(body, fmt) == "Test note"  # type: ignore[arg-type]
    change = NoteContent(subject="Test subject", duration=90, result="Answered",
                         recording_link="https://example.com/recording.mp3")
    new, report = apply(body, change, S, fmt)  # type: ignore[arg-type]
    assert new == body
    assert report.unchanged == ["subject", "duration", "result", "recording"]
    assert not report.appended


def test_app_connect_plain_body_edited_by_hand_then_updated_keeps_the_edit() -> None:
    # Given the agent edited the note and added a line of their own in the CRM
    body = AC_PLAIN_CREATED.replace("first note\n", "first note\n- Pricing: $5\n") + "Called back at 3pm\n"
    # When the recording, final duration, AI note and transcript arrive
    new, report = apply(body, UPDATE, S, "text/plain")
    # Then
    assert new == (
        "- Note: first note\n- Pricing: $5\n- Session Id: S1\n- RingCentral user name: Agent Smith\n"
        "- RingCentral number and extension: +16505550100 \n- Summary: Outbound Call to Jane\n"
        "- Contact Number: +14155550199\n- Date/Time: 2024-03-01 10:04:05 AM\n- Duration: 2 minutes, 5 seconds\n"
        "- Result: Call connected\n- Call recording link: https://media.ringcentral.com/rec/1\n"
        "\n- AI Note:\nAI line1\nAI line2\n--- END\n\n- Transcript:\nA: hi\nB: hello\n--- END\n"
        "Called back at 3pm\n"
    )
    assert report.replaced == ["duration"]
    assert report.appended == ["recording", "ai_note", "transcript"]
    assert extract_agent_note(new, "text/plain") == "first note\n- Pricing: $5"
    again, _ = apply(new, UPDATE, S, "text/plain")
    assert again == new


def test_app_connect_html_body_edited_by_hand_then_updated_keeps_the_edit() -> None:
    body = AC_HTML_CREATED.replace("first note", "first note<br>Asked for <i>pricing</i>")
    new, report = apply(body, UPDATE, S, "text/html")
    assert new == (
        "<b>Agent notes</b><br>first note<br>Asked for <i>pricing</i><br><br><b>Call details</b><br>"
        "<li><b>Summary</b>: Outbound Call to Jane</li><li><b>Duration</b>: 2 minutes, 5 seconds</li>"
        "<li><b>Result</b>: Call connected</li><li><b>Call recording link</b>: <a href=\"https://media.ringcentral.com"
        "/rec/1\" target=\"_blank\" rel=\"noopener noreferrer\">open</a></li>"
        "<div><b>AI Note</b><br>AI line1<br>AI line2</div><div><b>Transcript</b><br>A: hi<br>B: hello</div>"
    )
    assert report.replaced == ["duration", "recording"]
    assert new.count("Call recording link") == 1
    assert extract_agent_note(new, "text/html") == "first note\nAsked for pricing"
    assert apply(new, UPDATE, S, "text/html")[0] == new


def test_app_connect_markdown_body_edited_by_hand_then_updated_keeps_the_edit() -> None:
    body = AC_MARKDOWN_CREATED.replace("first note", "first note\n**Budget**: 5k")
    new, report = apply(body, UPDATE, S, "text/markdown")
    assert new == (
        "## Agent notes\nfirst note\n**Budget**: 5k\n\n## Call details\n**Summary**: Outbound Call to Jane\n"
        "**Duration**: 2 minutes, 5 seconds\n**Result**: Call connected\n"
        "**Call recording link**: https://media.ringcentral.com/rec/1\n"
        "\n### AI Note\nAI line1\nAI line2\n\n[//]: # (end: AI Note)\n"
        "\n### Transcript\n- A: hi\n- B: hello\n\n[//]: # (end: Transcript)\n"
    )
    assert report.replaced == ["duration", "recording"]
    assert apply(new, UPDATE, S, "text/markdown")[0] == new


def test_app_connect_blocks_are_replaced_in_place_not_duplicated() -> None:
    body = "- Note: x\n- AI Note:\n<AI note being prepared by RingCentral>\n--- END\n\nMy own line\n"
    new, _report = apply(body, NoteContent(ai_note=AiNote(text="Recap")), S, "text/plain")
    assert new == "- Note: x\n- AI Note:\nRecap\n--- END\n\nMy own line\n"
    assert new.count("- AI Note:") == 1


def test_html_block_with_raw_newlines_is_recognised() -> None:
    body = "<div><b>AI Note</b><br>(pending...)\nstill</div><br>"
    new, report = apply(body, NoteContent(ai_note=AiNote(text="Recap")), S, "text/html")
    assert new.count("AI Note") == 1
    assert [(s.section, s.reason) for s in report.skipped] == [("ai_note", "edited in the CRM")]


def test_dollar_signs_in_a_note_come_out_literally() -> None:
    body = "- Note: old\n- Duration: 30 seconds\n"
    new, _ = apply(body, NoteContent(note="Price $100 and $& x $1 \\1 \\g<0>"), S, "text/plain")
    assert new == "- Note: Price $100 and $& x $1 \\1 \\g<0>\n- Duration: 30 seconds\n"


def test_hyphenated_values_are_replaced_without_duplicating_the_line() -> None:
    body = "- Duration: pending\n- Result: Call-connected\n- Contact Number: +1-415-555-0199\n"
    new, report = apply(body, NoteContent(duration=5, result="Call-connected"), S, "text/plain")
    assert new == "- Duration: 5 seconds\n- Result: Call-connected\n- Contact Number: +1-415-555-0199\n"
    assert report.unchanged == ["result"]


def test_blank_lines_after_a_replaced_value_are_kept() -> None:
    body = "- Summary: x\n- Call recording link: (pending...)\n\n\n- AI Note:\nold\n--- END\n"
    new, _ = apply(body, NoteContent(recording_link="https://e.com/r"), S, "text/plain")
    assert new == "- Summary: x\n- Call recording link: https://e.com/r\n\n\n- AI Note:\nold\n--- END\n"


def test_markdown_block_replaced_in_an_app_connect_body_gets_its_end_marker_and_no_blank_line_after() -> None:
    body = "### AI Note\n(pending...)\n### Transcript\nold\n"
    new, _ = apply(body, NoteContent(ai_note=AiNote(text="new")), S, "text/markdown")
    assert new == "### AI Note\nnew\n\n[//]: # (end: AI Note)\n### Transcript\nold\n"


def test_app_connect_note_label_lines_stay_in_the_note() -> None:
    body = "- Note: line1\n- Pricing: $5\nline3\n- Session Id: S1\n"
    assert extract_agent_note(body, "text/plain") == "line1\n- Pricing: $5\nline3"
    assert replace_agent_note(body, "new", "text/plain") == "- Note: new\n- Session Id: S1\n"


def test_app_connect_html_note_with_raw_newlines_is_read() -> None:
    body = "<b>Agent notes</b><br>edited note\nsecond line<br><br><b>Call details</b><br><li><b>Result</b>: X</li>"
    assert extract_agent_note(body, "text/html") == "edited note\nsecond line"


def test_agent_notes_label_alias_in_plain_text() -> None:
    assert extract_agent_note("- Agent notes: hello\n- Summary: s\n", "text/plain") == "hello"


def test_the_agent_note_can_be_cleared() -> None:
    new, report = apply(AC_PLAIN_CREATED, NoteContent(note=""), S, "text/plain")
    assert new.startswith("- Note: \n- Session Id: S1\n")
    assert extract_agent_note(new, "text/plain") == ""
    assert report.replaced == ["note"]


def test_item_is_inserted_inside_a_list_a_crm_normalised() -> None:
    body = "<ul><li><b>Duration</b>: 30 seconds</li></ul>"
    new, _ = apply(body, NoteContent(recording_link="https://e.com/r", ai_note=AiNote(text="A")), S, "text/html")
    assert new == (
        '<ul><li><b>Duration</b>: 30 seconds</li><li><b>Call recording link</b>: <a href="https://e.com/r" '
        'target="_blank" rel="noopener noreferrer">open</a></li></ul><div><b>AI Note</b><br>A</div>'
    )


def test_br_tags_normalised_by_a_crm_are_read() -> None:
    body = "<b>Agent notes</b><br />Hi<br/><br/><b>Call details</b><br /><b>Duration</b>: pending<br />"
    new, report = apply(body, NoteContent(duration=5), S, "text/html")
    assert new == body.replace("pending", "5 seconds")
    assert report.replaced == ["duration"]
    assert extract_agent_note(body, "text/html") == "Hi"


def test_ringcentral_number_uses_the_agents_own_extension() -> None:
    from adapters.models import Call
    from tests.notes.conftest import raw_call

    call = Call.model_validate(raw_call(direction="Outbound", **{
        "from": {"phoneNumber": "+16505550100", "extensionNumber": "101", "name": "Agent Smith"},
        "to": {"phoneNumber": "+14155550199", "extensionNumber": "555", "name": "Jane"}}))
    content = NoteContent.from_call(call)
    assert (content.rc_user_name, content.rc_number) == ("Agent Smith", "+16505550100 ext 101")
