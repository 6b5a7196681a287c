# SPDX-License-Identifier: MIT
"""compose(): every section in every format, placeholders, settings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.models import Call
from adapters.notes import AiNote, NoteContent, NoteSettings, Utterance, compose, extract_agent_note
from tests.notes.conftest import FORMATS, full_content, raw_call

ALL_ON = NoteSettings(session_id=True, contact_number=True, rc_user=True, rc_number=True, time_zone="Asia/Kolkata")


def test_plain_text_note_has_every_section_in_order() -> None:
    content = full_content().model_copy(update={"rc_user_name": "Dana Agent", "rc_number": "+16505550101 ext 101",
                                                "voicemail_link": "https://example.com/vm.mp3",
                                                "ai_note": AiNote(text="AI generated note"),
                                                "journey": ["Received call at IVR", "Transferred to Bob, ext 101"]})
    assert compose(content, ALL_ON, "text/plain") == (
        "- Note: Test note\n"
        "- Session Id: session123\n"
        "- RingCentral user name: Dana Agent\n"
        "- RingCentral number and extension: +16505550101 ext 101\n"
        "- Summary: Test subject\n"
        "- Contact Number: +1234567890\n"
        "- Date/Time: 2023-01-01 05:30:00 PM\n"
        "- Duration: 1 minute, 30 seconds\n"
        "- Result: Answered\n"
        "- Call recording link: https://example.com/recording.mp3\n"
        "- Voicemail recording link: https://example.com/vm.mp3\n"
        "\n- AI Note:\nAI generated note\n--- END\n"
        "\n- Transcript:\nCall transcript\n--- END\n"
        "\n- Call journey:\nReceived call at IVR\nTransferred to Bob, ext 101\n--- JOURNEY END\n"
    )


def test_html_note_has_every_section_in_order() -> None:
    content = full_content().model_copy(update={"ai_note": AiNote(text="AI generated note")})
    assert compose(content, ALL_ON, "text/html") == (
        "<b>Agent notes</b><br>Test note<br><br><b>Call details</b><br>"
        "<b>Session Id</b>: session123<br>"
        "<b>Summary</b>: Test subject<br>"
        "<b>Caller phone number</b>: +1234567890<br>"
        "<b>Date/time</b>: 2023-01-01 05:30:00 PM<br>"
        "<b>Duration</b>: 1 minute, 30 seconds<br>"
        "<b>Result</b>: Answered<br>"
        '<b>Call recording link</b>: <a href="https://example.com/recording.mp3" target="_blank" '
        'rel="noopener noreferrer">open</a><br>'
        "<div><b>AI Note</b><br>AI generated note</div>"
        "<div><b>Transcript</b><br>Call transcript</div>"
    )


def test_markdown_note_has_every_section_in_order() -> None:
    content = full_content().model_copy(update={"ai_note": AiNote(text="AI generated note")})
    assert compose(content, ALL_ON, "text/markdown") == (
        "## Agent notes\nTest note\n\n## Call details\n"
        "- **Session Id**: session123\n"
        "- **Summary**: Test subject\n"
        "- **Contact Number**: +1234567890\n"
        "- **Date/Time**: 2023-01-01 05:30:00 PM\n"
        "- **Duration**: 1 minute, 30 seconds\n"
        "- **Result**: Answered\n"
        "- **Call recording link**: https://example.com/recording.mp3\n"
        "\n### AI Note\nAI generated note\n\n[//]: # (end: AI Note)\n"
        "\n### Transcript\n- Call transcript\n\n[//]: # (end: Transcript)\n"
    )


def test_outbound_html_labels_the_contact_as_recipient() -> None:
    content = NoteContent(contact_number="+222", direction="Outbound")
    assert compose(content, NoteSettings(contact_number=True), "text/html") == (
        "<b>Recipient phone number</b>: +222<br>"
    )


def test_default_settings_leave_out_session_contact_and_ringcentral_identity() -> None:
    content = full_content().model_copy(update={"rc_user_name": "Dana", "rc_number": "+1650"})
    body = compose(content, NoteSettings(), "text/plain")
    for absent in ("Session Id", "Contact Number", "RingCentral user name", "RingCentral number"):
        assert absent not in body
    for present in ("- Note: ", "- Summary: ", "- Date/Time: ", "- Duration: ", "- Result: ", "- Call recording link:"):
        assert present in body


@pytest.mark.parametrize("fmt", FORMATS)
def test_turned_off_sections_are_not_written(fmt: str) -> None:
    off = NoteSettings(note=False, subject=False, date_time=False, duration=False, result=False, recording=False,
                       ai_note=False, transcript=False)
    content = full_content().model_copy(update={"ai_note": AiNote(text="x")})
    assert compose(content, off, fmt) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("text/plain", "- Duration: 4 minutes, 30 seconds (pending)\n"
                       "- Call recording link: <recording being processed by RingCentral>\n"
                       "\n- AI Note:\n<AI note being prepared by RingCentral>\n--- END\n"
                       "\n- Transcript:\n<transcript being prepared by RingCentral>\n--- END\n"),
        ("text/markdown", "- **Duration**: 4 minutes, 30 seconds (pending)\n"
                          "- **Call recording link**: <recording being processed by RingCentral>\n"
                          "\n### AI Note\n<AI note being prepared by RingCentral>\n\n[//]: # (end: AI Note)\n"
                          "\n### Transcript\n<transcript being prepared by RingCentral>\n"
                          "\n[//]: # (end: Transcript)\n"),
        ("text/html", "<b>Duration</b>: 4 minutes, 30 seconds (pending)<br>"
                      "<b>Call recording link</b>: &lt;recording being processed by RingCentral&gt;<br>"
                      "<div><b>AI Note</b><br>&lt;AI note being prepared by RingCentral&gt;</div>"
                      "<div><b>Transcript</b><br>&lt;transcript being prepared by RingCentral&gt;</div>"),
    ],
)
def test_unknown_values_become_placeholders(fmt: str, expected: str) -> None:
    content = NoteContent(duration=270, duration_pending=True, recording_pending=True, ai_note_pending=True,
                          transcript_pending=True)
    assert compose(content, NoteSettings(), fmt) == expected  # type: ignore[arg-type]


def test_pending_duration_without_a_provisional_value() -> None:
    assert compose(NoteContent(duration_pending=True), NoteSettings(), "text/plain") == "- Duration: (pending)\n"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 seconds"), (1, "1 second"), (61, "1 minute, 1 second"), (90, "1 minute, 30 seconds"),
     (120, "2 minutes"), (3600, "1 hour"), (3725, "1 hour, 2 minutes, 5 seconds"), (7200, "2 hours")],
)
def test_duration_is_written_in_words(seconds: int, text: str) -> None:
    assert compose(NoteContent(duration=seconds), NoteSettings(), "text/plain") == f"- Duration: {text}\n"


@pytest.mark.parametrize(
    ("zone", "fmt", "expected"),
    [
        ("Asia/Kolkata", "YYYY-MM-DD hh:mm:ss A", "2023-01-01 05:30:00 PM"),
        ("America/New_York", "YYYY-MM-DD hh:mm:ss A", "2023-01-01 07:00:00 AM"),
        ("UTC", "DD/MM/YYYY HH:mm", "01/01/2023 12:00"),
        ("Europe/Berlin", "ddd, D MMM YYYY [at] H:mm Z", "Sun, 1 Jan 2023 at 13:00 +01:00"),
    ],
)
def test_start_time_in_the_agents_time_zone_and_format(zone: str, fmt: str, expected: str) -> None:
    content = NoteContent(start_time=datetime(2023, 1, 1, 12, 0, tzinfo=UTC))
    body = compose(content, NoteSettings(time_zone=zone, date_format=fmt), "text/plain")
    assert body == f"- Date/Time: {expected}\n"


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        NoteSettings(time_zone="Mars/Olympus")


def test_transcript_merges_turns_and_names_unknown_speakers() -> None:
    content = NoteContent(transcript=[
        Utterance(speaker="Jane Smith", start=1.2, end=2, text="Hello,"),
        Utterance(speaker="Jane Smith", start=2.5, end=4, text="is this support?"),
        Utterance(speaker="p-abc-2", start=65.0, end=70, text="Yes.\nHow can I help?"),
        Utterance(speaker=None, start=3700, end=3710, text="Bye"),
        Utterance(speaker="p-abc-2", start=3711, end=3712, text="Bye now"),
    ])
    assert compose(content, NoteSettings(), "text/plain") == (
        "- Transcript:\n"
        "[00:00:01] Jane Smith: Hello, is this support?\n"
        "[00:01:05] Speaker 1: Yes. How can I help?\n"
        "[01:01:40] Speaker 2: Bye\n"
        "[01:01:51] Speaker 1: Bye now\n"
        "--- END\n"
    )


def test_transcript_timestamps_can_be_turned_off() -> None:
    content = NoteContent(transcript=[Utterance(speaker="Jane", start=1, text="Hi")])
    assert compose(content, NoteSettings(transcript_timestamps=False), "text/markdown") == (
        "### Transcript\n- Jane: Hi\n\n[//]: # (end: Transcript)\n"
    )


AI = AiNote(summary="Customer wants the premium plan.", bulleted_summary=["Asked about pricing"],
            highlights=["Budget approved"], next_steps=["Send a quote"], decisions=["Go with premium"], score="8")


def test_ai_note_as_headed_sections_in_plain_text() -> None:
    assert compose(NoteContent(ai_note=AI), NoteSettings(), "text/plain") == (
        "- AI Note:\nSummary:\nCustomer wants the premium plan.\nKey points:\n- Asked about pricing\n"
        "Highlights:\n- Budget approved\nNext steps:\n- Send a quote\nDecisions:\n- Go with premium\n"
        "Call score: 8\n--- END\n"
    )


def test_ai_note_as_headed_sections_in_markdown() -> None:
    assert compose(NoteContent(ai_note=AI), NoteSettings(), "text/markdown") == (
        "### AI Note\n#### Summary\nCustomer wants the premium plan.\n#### Key points\n- Asked about pricing\n"
        "#### Highlights\n- Budget approved\n#### Next steps\n- Send a quote\n#### Decisions\n- Go with premium\n"
        "- Call score: 8\n\n[//]: # (end: AI Note)\n"
    )


def test_ai_note_as_headed_sections_in_html() -> None:
    assert compose(NoteContent(ai_note=AI), NoteSettings(), "text/html") == (
        "<div><b>AI Note</b><br><b>Summary</b><br>Customer wants the premium plan.<br><b>Key points</b><br>"
        "• Asked about pricing<br><b>Highlights</b><br>• Budget approved<br><b>Next steps</b><br>• Send a quote<br>"
        "<b>Decisions</b><br>• Go with premium<br>Call score: 8</div>"
    )


def test_from_call_builds_content_from_a_ringcentral_record(call: Call) -> None:
    content = NoteContent.from_call(call, note="hi", expect_ai=True)
    assert content.subject == "Inbound call from Jane Smith"
    assert content.contact_number == "+14155555908"
    assert content.duration == 194 and not content.duration_pending
    assert content.recording_link == (
        "https://ringcentral.github.io/ringcentral-media-reader/?media="
        "https%3A%2F%2Fmedia.ringcentral.com%2Frestapi%2Fv1.0%2Faccount%2F400100000001%2Frecording%2F1662272004%2Fcontent"
    )
    assert content.ai_note_pending and content.transcript_pending
    assert content.rc_user_name == "Dana Agent" and content.rc_number == "+16505550101 ext 101"
    assert content.session_id == "1039811321016"


def test_from_call_without_recording_writes_a_placeholder_when_one_is_expected() -> None:
    call = Call.model_validate(raw_call(recording=None, result="In Progress"))
    content = NoteContent.from_call(call, expect_recording=True)
    body = compose(content, NoteSettings(), "text/plain")
    assert "- Call recording link: <recording being processed by RingCentral>\n" in body
    assert "- Duration: 3 minutes, 14 seconds (pending)\n" in body


def test_from_call_writes_the_journey_of_a_transferred_call() -> None:
    legs = [
        {"direction": "Inbound", "to": {"name": "Main IVR", "phoneNumber": "+15550000004"}, "duration": 3},
        {"direction": "Outbound", "legType": "PstnToSip", "to": {"name": "Sales Queue", "extensionNumber": "500"},
         "duration": 1},
        {"direction": "Inbound", "to": {"name": "Bob", "extensionNumber": "101"}, "duration": 0},
    ]
    content = NoteContent.from_call(Call.model_validate(raw_call(legs=legs)))
    assert content.journey == [
        "Received call at Main IVR, +15550000004",
        "Transferred to Sales Queue, ext 500, duration: 1 second",
        "Transferred to Bob, ext 101, duration: 0 seconds",
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_compose_then_extract_returns_the_agent_note(fmt: str) -> None:
    note = "Line one\n- Pricing: $5\nDuration: ask later\n- Duration: 5 min\n## Call details\n<b>x</b> &amp;\n"
    body = compose(full_content().model_copy(update={"note": note}), NoteSettings(), fmt)  # type: ignore[arg-type]
    assert extract_agent_note(body, fmt) == note  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("text/markdown",
         "- **RingCentral user name**: Dana Agent\n- **RingCentral number and extension**: +16505550101 ext 101\n"
         "- **Voicemail recording link**: https://example.com/vm.mp3\n"
         "\n### Call journey\nReceived call at IVR\nTransferred to Bob, ext 101\n\n[//]: # (end: Call journey)\n"),
        ("text/html",
         "<b>RingCentral user name</b>: Dana Agent<br><b>RingCentral number and extension</b>: +16505550101 ext 101<br>"
         '<b>Voicemail recording link</b>: <a href="https://example.com/vm.mp3" target="_blank" '
         'rel="noopener noreferrer">open</a><br>'
         "<div><b>Call journey</b><br>Received call at IVR<br>Transferred to Bob, ext 101</div>"),
    ],
)
def test_identity_voicemail_and_journey_sections(fmt: str, expected: str) -> None:
    content = NoteContent(rc_user_name="Dana Agent", rc_number="+16505550101 ext 101",
                          voicemail_link="https://example.com/vm.mp3",
                          journey=["Received call at IVR", "Transferred to Bob, ext 101"])
    assert compose(content, ALL_ON, fmt) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", FORMATS)
def test_voicemail_placeholder_is_replaced_by_the_link(fmt: str) -> None:
    from adapters.notes import apply

    body = compose(NoteContent(voicemail_pending=True), NoteSettings(), fmt)  # type: ignore[arg-type]
    assert "voicemail being processed by RingCentral" in body
    new, report = apply(body, NoteContent(voicemail_link="https://example.com/vm.mp3"), NoteSettings(), fmt)  # type: ignore[arg-type]
    assert report.replaced == ["voicemail"] and "https://example.com/vm.mp3" in new
