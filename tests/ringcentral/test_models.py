# SPDX-License-Identifier: MIT
"""RingCentral response models: unknown fields tolerated, missing ones named."""

from __future__ import annotations

import pytest

from adapters.base import MalformedResponse
from adapters.ringcentral.models import Extension, Insights, RecordingInfo, SyncPage, validate


def test_unknown_fields_are_tolerated() -> None:
    ext = validate(Extension, {"id": 42, "extensionNumber": "7", "brandNew": {"x": 1}}, what="the extension")
    assert ext.id == "42" and ext.extension_number == "7"


def test_missing_field_is_named() -> None:
    with pytest.raises(MalformedResponse, match="missing 'contentUri'"):
        validate(RecordingInfo, {"id": "1"}, what="recording 1")


def test_malformed_nested_field_is_named_with_its_path() -> None:
    with pytest.raises(MalformedResponse, match=r"malformed 'syncInfo.syncToken'"):
        validate(SyncPage, {"records": [], "syncInfo": {"syncType": "ISync", "syncToken": 5}}, what="a sync response")


def test_insights_keep_the_raw_json_and_accept_numeric_scores() -> None:
    raw = {
        "sourceRecordId": "9",
        "creationTime": "2026-04-10T15:30:00.000Z",
        "speakerInfo": [{"speakerId": "p-1", "name": "Dana Agent"}],
        "insights": {
            "Transcript": [{"speakerId": "p-1", "start": 0.5, "end": 2.0, "text": "Hello"}],
            "HighLights": [{"value": "x"}],
            "AIScore": [{"value": 91}],
            "FutureKind": [{"value": "y", "novel": True}],
        },
    }
    insights = validate(Insights, raw, what="insights")
    assert insights.raw == raw
    assert insights.get("aiscore")[0].value == "91"
    assert insights.get("Highlights")[0].value == "x"  # matched case-insensitively
    assert insights.speaker_name(insights.transcript[0].speaker_id) == "Dana Agent"
    assert insights.get("Summary") == []


def test_a_speaker_without_a_speaker_id_is_left_out_and_the_rest_of_the_insights_is_read() -> None:
    raw = {
        "sourceRecordId": "9",
        "speakerInfo": [
            {"name": "Someone RingSense could not place"},
            {"speakerId": "p-2", "name": "Ana Diaz"},
            "not even an object",
            {"speakerId": 3, "name": "Dana Agent"},
        ],
        "insights": {"Transcript": [{"speakerId": "p-2", "start": 0.5, "end": 2.0, "text": "Hello"}]},
    }
    insights = validate(Insights, raw, what="insights")
    assert [(s.speaker_id, s.name) for s in insights.speaker_info] == [("p-2", "Ana Diaz"), ("3", "Dana Agent")]
    assert insights.speaker_name("p-2") == "Ana Diaz"
    assert insights.transcript[0].text == "Hello"
    assert insights.raw == raw


def test_an_insight_entry_that_cannot_be_read_is_left_out_of_its_list_only() -> None:
    raw = {
        "sourceRecordId": "9",
        "insights": {
            "Transcript": [{"speakerId": "p-1", "text": {"rich": "text"}}, {"speakerId": "p-1", "text": "Hi"}],
            "Summary": "not a list",
            "NextSteps": [{"value": "Send the quote"}],
        },
    }
    insights = validate(Insights, raw, what="insights")
    assert [t.text for t in insights.transcript] == ["Hi"]
    assert insights.get("Summary") == []
    assert insights.get("NextSteps")[0].value == "Send the quote"


def test_insights_without_their_recording_id_are_still_malformed() -> None:
    with pytest.raises(MalformedResponse, match="missing 'sourceRecordId'"):
        validate(Insights, {"speakerInfo": [], "insights": {}}, what="insights")
