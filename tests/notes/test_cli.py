# SPDX-License-Identifier: MIT
"""``logdesk note compose|apply``: JSON in, note out, report as JSON."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from adapters.notes.cli import input_schema
from desktop.cli import main
from tests.notes.conftest import raw_call
from tests.notes.test_insights import RAW_INSIGHTS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "note-format.md"


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str],
         data: dict[str, Any] | str) -> tuple[int, str, str]:
    text = data if isinstance(data, str) else json.dumps(data)
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    code = main(["note", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_compose_then_apply_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    # Given a call whose recording and AI note are not ready yet
    created = {"call": raw_call(recording=None), "note": "Wants a quote\n- Pricing: $5", "expectRecording": True,
               "expectAi": True, "contact": {"name": "Jane Smith", "phoneNumber": "+14155555908"},
               "settings": {"time_zone": "America/New_York"}}
    code, body, err = _run(monkeypatch, capsys, ["compose", "--format", "text/markdown"], created)
    assert (code, err) == (0, "")
    assert "- **Call recording link**: <recording being processed by RingCentral>\n" in body
    assert "- **Date/Time**: 2026-04-10 07:58:47 PM\n" in body
    body_file = tmp_path / "body.md"
    body_file.write_text(body + "Agent typed this in the CRM\n", encoding="utf-8")
    # When the recording and the insights arrive
    later = {"call": raw_call(), "aiNote": RAW_INSIGHTS}
    report_file = tmp_path / "report.json"
    code, new, err = _run(monkeypatch, capsys, ["apply", "--format", "text/markdown", "--body", str(body_file),
                                                "--report", str(report_file)], later)
    # Then
    assert (code, err) == (0, "")
    assert new.startswith("## Agent notes\nWants a quote\n- Pricing: $5\n\n## Call details\n")
    assert "- **Call recording link**: https://ringcentral.github.io/ringcentral-media-reader/?media=" in new
    assert "#### Summary\nThe call is about the project timeline.\n" in new
    assert "- [00:00:02] John Smith: Okay, I record this meeting. And I have some action items.\n" in new
    assert new.count("### Transcript") == 1
    assert "Agent typed this in the CRM\n" in new
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["replaced"] == ["recording", "ai_note", "transcript"]
    assert report["unchanged"] == ["duration", "result"]  # the subject is not part of an update unless given


def test_unknown_key_is_an_error_that_names_it(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(monkeypatch, capsys, ["compose"], {"call": raw_call(), "recording": "x"})
    assert code == 2 and out == ""
    assert "unknown key 'recording'" in err


def test_unknown_settings_key_is_an_error_that_names_it(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(monkeypatch, capsys, ["compose"], {"call": raw_call(), "settings": {"colour": "red"}})
    assert code == 2 and "unknown key 'settings.colour'" in err


def test_malformed_call_names_the_missing_field(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(monkeypatch, capsys, ["compose"], {"call": {"id": "x"}})
    assert code == 2 and "call.startTime: Field required" in err


def test_input_that_is_not_json_is_reported(monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(monkeypatch, capsys, ["compose"], "{nope")
    assert code == 2 and "the input is not JSON" in err


def test_limit_and_transcript_list_are_honoured(monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    transcript = [{"speaker": "Jane", "start": i, "end": i + 1, "text": f"line {i} é"} for i in range(200)]
    data = {"call": raw_call(), "transcript": transcript, "limit": {"body": 1200, "bodyUnit": "bytes"}}
    code, body, _ = _run(monkeypatch, capsys, ["compose", "--format", "text/html"], data)
    assert code == 0
    assert len(body.encode()) <= 1200
    assert "more characters not shown]" in body


def test_documented_schema_is_the_generated_one() -> None:
    schema = json.dumps(input_schema(), indent=2, sort_keys=True)
    assert schema in DOCS.read_text(encoding="utf-8"), "regenerate with: python -m adapters.notes.cli --schema"
