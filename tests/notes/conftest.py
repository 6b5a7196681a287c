# SPDX-License-Identifier: MIT
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.models import Call
from adapters.notes import NoteContent, NoteSettings

FORMATS = ("text/plain", "text/html", "text/markdown")


def raw_call(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": "VgLcd1KWffJVzUA",
        "sessionId": "1039811321016",
        "telephonySessionId": "s-a0d178729c49dz1876d9b9d11z19269ec0000",
        "startTime": "2026-04-10T23:58:47.594Z",
        "duration": 194,
        "type": "Voice",
        "direction": "Inbound",
        "action": "Phone Call",
        "result": "Accepted",
        "to": {"phoneNumber": "+16505550101", "extensionNumber": "101", "extensionId": "400200000001",
               "name": "Dana Agent"},
        "from": {"phoneNumber": "+14155555908", "name": "Jane Smith", "location": "San Francisco (South), CA"},
        "recording": {
            "uri": "https://platform.ringcentral.com/restapi/v1.0/account/400100000001/recording/1662272004",
            "id": "1662272004",
            "type": "Automatic",
            "contentUri": "https://media.ringcentral.com/restapi/v1.0/account/400100000001/recording/1662272004/content",
        },
        "transport": "PSTN",
    }
    raw.update(overrides)
    return raw


@pytest.fixture
def call() -> Call:
    return Call.model_validate(raw_call())


@pytest.fixture
def settings() -> NoteSettings:
    return NoteSettings()


def full_content() -> NoteContent:
    """Every section known, as App Connect's verified example (§2.9 A) has it."""
    return NoteContent(
        note="Test note",
        subject="Test subject",
        contact_number="+1234567890",
        direction="Inbound",
        start_time=datetime(2023, 1, 1, 12, 0, tzinfo=UTC),
        duration=90,
        result="Answered",
        recording_link="https://example.com/recording.mp3",
        ai_note=None,
        transcript="Call transcript",
        session_id="session123",
    )
