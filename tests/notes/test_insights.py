# SPDX-License-Identifier: MIT
"""RingSense insights JSON → AiNote and utterances."""

from __future__ import annotations

from typing import Any

from adapters.models import Call
from adapters.notes import NoteContent, NoteSettings, ai_note_from_insights, compose, utterances_from_insights
from tests.notes.conftest import raw_call

RAW_INSIGHTS: dict[str, Any] = {
    "title": "Call from John Smith to Tracy Debolah",
    "rsRecordUri": "https://ringsense.ringcentral.com/calls/2e67979e-ff82-4171-ae30-20c0c1f19b27",
    "domain": "pbx",
    "sourceSessionId": "s-a0e7b361acc0az191bec7e275z7cae070000",
    "sourceRecordId": "2728084995017",
    "speakerInfo": [
        {"speakerId": "p-a0e7-1", "name": "John Smith", "accountId": "809646016", "extensionId": "62288329016"},
        {"speakerId": "p-a0e7-2", "name": None, "accountId": None, "extensionId": None},
        {"speakerId": "p-a0e7-3", "extensionId": "400200000001"},
    ],
    "insights": {
        "Transcript": [
            {"speakerId": "p-a0e7-1", "start": 2.2, "end": 14.52, "text": "Okay, I record this meeting."},
            {"speakerId": "p-a0e7-1", "start": 36.6, "end": 40.44, "text": "And I have some action items."},
            {"speakerId": "p-a0e7-2", "start": 41.0, "end": 42.0, "text": "Sure."},
            {"speakerId": "p-a0e7-3", "start": 65.0, "end": 66.0, "text": "Thanks."},
            {"speakerId": "p-a0e7-2", "start": 70, "end": 71, "text": "  "},
        ],
        "Summary": [{"start": 0, "end": 1, "value": "The call is about the project timeline."}],
        "HighLights": [{"speakerId": "p-a0e7-2", "start": 56.04, "end": 64.92, "value": "Deadline is Friday"}],
        "NextSteps": [{"speakerId": "p-a0e7-1", "value": "Complete the test."}],
        "BulletedSummary": [{"value": "Agent confirmed recording", "section": "Opening"}, {"value": "No section"}],
        "AIScore": [{"value": 8}],
        "Sentiment": [{"value": "Positive"}],
        "CallNotes": [{"value": "Call notes.\nAgent expressed frustration"}],
        "Unknown": "ignored",
    },
}


def test_ai_note_from_insights_reads_every_kind() -> None:
    note = ai_note_from_insights(RAW_INSIGHTS)
    assert note.summary == "The call is about the project timeline."
    assert note.highlights == ["Deadline is Friday"]
    assert note.next_steps == ["Complete the test."]
    assert note.bulleted_summary == ["Opening: Agent confirmed recording", "No section"]
    assert note.score == "8" and note.sentiment == "Positive"
    assert note.text == "Call notes.\nAgent expressed frustration"


def test_ai_note_from_insights_tolerates_missing_and_malformed_parts() -> None:
    assert ai_note_from_insights({}).is_empty()
    odd = ai_note_from_insights({"insights": {"Summary": "not a list", "AIScore": [{"value": True}, "x"]}})
    assert odd.is_empty()


def test_utterances_are_named_from_speaker_info_and_the_calls_parties() -> None:
    call = Call.model_validate(raw_call())
    utterances = utterances_from_insights(RAW_INSIGHTS, call)
    assert [(u.speaker, u.start, u.text) for u in utterances] == [
        ("John Smith", 2.2, "Okay, I record this meeting."),
        ("John Smith", 36.6, "And I have some action items."),
        ("p-a0e7-2", 41.0, "Sure."),
        ("Dana Agent", 65.0, "Thanks."),
    ]
    body = compose(NoteContent(transcript=utterances), NoteSettings(), "text/plain")
    assert body == (
        "- Transcript:\n"
        "[00:00:02] John Smith: Okay, I record this meeting. And I have some action items.\n"
        "[00:00:41] Speaker 1: Sure.\n"
        "[00:01:05] Dana Agent: Thanks.\n"
        "--- END\n"
    )


def test_utterances_from_insights_without_transcript_is_empty() -> None:
    assert utterances_from_insights({"insights": {}}) == []
    assert utterances_from_insights({}) == []
