# SPDX-License-Identifier: MIT
"""``logdesk note compose|apply``: JSON in, note out, report as JSON."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from adapters.notes.cli import input_schema
from desktop.cli import main
from tests.notes.conftest import raw_call
from tests.notes.test_insights import RAW_INSIGHTS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "note-format.md"


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str],
         data: dict[str, Any] | str | bytes) -> tuple[int, str, str]:
    """``logdesk note ARGS`` with ``data`` as the bytes on standard input."""
    raw = data if isinstance(data, bytes) else (data if isinstance(data, str) else json.dumps(data)).encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"))
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
    assert schema in DOCS.read_text(encoding="utf-8"), "regenerate with: logdesk note schema"


def test_compose_help_shows_the_json_it_expects_and_where_its_schema_is(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the agent asks how to use compose
    with pytest.raises(SystemExit) as shown:
        main(["note", "compose", "--help"])
    assert shown.value.code == 0
    shown_help = capsys.readouterr().out
    # Then it names where the full schema is
    assert "logdesk note schema" in shown_help and "docs/note-format.md" in shown_help
    # And the example it shows is an input compose takes as it is
    example = json.loads(shown_help[shown_help.index("\n{\n"): shown_help.index("\n}\n") + 2])
    assert set(example) >= {"call", "note"}
    code, body, err = _run(monkeypatch, capsys, ["compose"], example)
    assert (code, err) == (0, "")
    assert body.startswith(f"- Note: {example['note']}\n") and "- Duration:" in body


def test_note_schema_prints_the_input_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["note", "schema"]) == 0
    assert json.loads(capsys.readouterr().out) == input_schema()


def _run_bytes(monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes], args: list[str],
               data: bytes) -> tuple[int, bytes, str]:
    """``logdesk note ARGS`` with ``data`` on standard input; standard output as bytes."""
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    code = main(["note", *args])
    out, err = capsysbinary.readouterr()
    return code, out, err.decode()


def _json(**fields: Any) -> bytes:
    return json.dumps({"call": raw_call(), **fields}).encode()


def test_invalid_utf8_on_standard_input_is_an_error_naming_it_and_the_byte_offset(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = _json(note="cafe").replace(b"cafe", b"caf\xe9")
    code, out, err = _run(monkeypatch, capsys, ["compose"], data)
    assert (code, out) == (2, "")
    at = data.index(b"\xe9")
    assert err == (f"logdesk note: standard input is not valid UTF-8: byte 0xe9 at byte offset {at}"
                   " (invalid continuation byte)\n")


@pytest.mark.parametrize("escape", ["\\ud800", "\\udc00", "\\uDBFF\\n", "\\ud800\\u0041"])
def test_lone_surrogate_escape_on_standard_input_is_an_error_naming_it_and_the_byte_offset(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], escape: str) -> None:
    data = _json(note="é ok").replace(b'\\u00e9 ok"', f'\\u00e9 {escape}"'.encode())
    code, out, err = _run(monkeypatch, capsys, ["compose"], data)
    assert (code, out) == (2, "")
    at = data.index(escape[:6].encode())
    assert err.startswith(f"logdesk note: standard input has {escape[:6]} at byte offset {at}: half of a UTF-16")


@pytest.mark.parametrize(("escape", "text"), [("\\ud83d\\ude00", "😀"), ("\\\\ud800", "\\ud800")])
def test_surrogate_pairs_and_escaped_backslashes_on_standard_input_are_text(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], escape: str, text: str) -> None:
    data = _json(note="x").replace(b'"note": "x"', f'"note": "{escape}"'.encode())
    code, out, err = _run(monkeypatch, capsys, ["compose"], data)
    assert (code, err) == (0, "")
    assert out.startswith(f"- Note: {text}\n")


def test_byte_order_mark_before_the_json_is_allowed(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(monkeypatch, capsys, ["compose"], b"\xef\xbb\xbf" + _json(note="hi"))
    assert (code, err) == (0, "") and out.startswith("- Note: hi\n")


@pytest.mark.parametrize("option", ["--body", "--written"])
def test_invalid_utf8_in_a_body_file_is_an_error_naming_the_file_and_the_byte_offset(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], option: str) -> None:
    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_bytes(b"- Duration: (pending)\n")
    bad.write_bytes(b"- Note: na\xc3\xafve \xc3\n- Duration: (pending)\n")
    files = {"--body": good, "--written": good, option: bad}
    args = ["apply", "--body", str(files["--body"]), "--written", str(files["--written"])]
    code, out, err = _run(monkeypatch, capsys, args, _json())
    assert (code, out) == (2, "")
    assert err == (f"logdesk note: {option} {bad} is not valid UTF-8: byte 0xc3 at byte offset 15"
                   " (invalid continuation byte)\n")


def test_missing_body_file_is_an_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(monkeypatch, capsys, ["apply", "--body", str(tmp_path / "none.txt")], _json())
    assert code == 2 and err.startswith(f"logdesk note: cannot read --body {tmp_path / 'none.txt'}: ")


@pytest.mark.parametrize("fmt", ["text/plain", "text/markdown"])
@pytest.mark.parametrize("breaks", ["crlf", "mixed"])
def test_body_line_breaks_come_back_byte_for_byte(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes], fmt: str,
        breaks: str) -> None:
    from adapters.notes import NoteSettings, apply

    _, composed, _ = _run_bytes(monkeypatch, capsysbinary, ["compose", "--format", fmt],
                                _json(call=raw_call(recording=None), note="Wants\na quote", expectRecording=True))
    lines = (composed.decode() + "Typed in the CRM\n").split("\n")
    body = "".join(line + ("\r\n" if breaks == "crlf" or i % 2 else "\n")
                   for i, line in enumerate(lines[:-1]))
    body_file = tmp_path / "body"
    body_file.write_bytes(body.encode())
    change = _json(recordingLink="https://e.com/r", note="Wants\na quote")
    code, out, err = _run_bytes(monkeypatch, capsysbinary, ["apply", "--format", fmt, "--body", str(body_file)],
                                change)
    assert (code, err) == (0, "")
    content = json.loads(change)
    from adapters.notes.cli import NoteInput

    expected, _ = apply(body, NoteInput.model_validate(content).content(update=True), NoteSettings(), fmt)  # type: ignore[arg-type]
    assert out == expected.encode()
    assert b"https://e.com/r" in out
    typed = body[body.index("Typed in the CRM") :]
    assert out.endswith(typed.encode()) and out.count(b"\r\n") >= body.count("\r\n")
    if breaks == "crlf":
        assert b"\n" not in out.replace(b"\r\n", b"")


def test_written_file_keeps_a_section_the_agent_removed_out(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a note written with a recording placeholder, and the agent deleted that line in the CRM
    _, written, _ = _run(monkeypatch, capsys, ["compose"], _json(call=raw_call(recording=None), note="n",
                                                                 expectRecording=True))
    assert "- Call recording link: <recording being processed by RingCentral>\n" in written
    body = written.replace("- Call recording link: <recording being processed by RingCentral>\n", "")
    (tmp_path / "written").write_text(written, encoding="utf-8")
    (tmp_path / "body").write_text(body, encoding="utf-8")
    later = _json(recordingLink="https://e.com/r")
    # When the recording arrives, without and with the written body
    code, blind, _ = _run(monkeypatch, capsys, ["apply", "--body", str(tmp_path / "body")], later)
    assert code == 0 and "- Call recording link: https://e.com/r" in blind
    report = tmp_path / "report.json"
    code, out, err = _run(monkeypatch, capsys, ["apply", "--body", str(tmp_path / "body"), "--written",
                                                str(tmp_path / "written"), "--report", str(report)], later)
    # Then with it the section stays out
    assert (code, err, out) == (0, "", body)
    assert {"section": "recording", "reason": "removed in the CRM"} in json.loads(report.read_text())["skipped"]


def test_apply_help_describes_the_written_file(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["note", "apply", "--help"])
    assert exited.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "--written FILE" in help_text and "is not added again" in help_text


@pytest.mark.parametrize("action", ["compose", "apply"])
def test_control_characters_are_left_out_and_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes],
        action: str) -> None:
    (tmp_path / "body").write_bytes(b"- Note: old\x00\n- Duration: (pending)\x1b\n")
    args = ["--report", str(tmp_path / "report.json")]
    if action == "apply":
        args += ["--body", str(tmp_path / "body")]
    code, out, err = _run_bytes(monkeypatch, capsysbinary, [action, *args],
                                _json(note="Quote\u0000 sent", subject="Re\u000bnewal"))
    assert code == 0
    assert re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", out) is None
    assert b"- Note: Quote sent\n" in out
    stripped = {"note": 1, "subject": 1} if action == "compose" else {"body": 2, "note": 1, "subject": 1}
    assert json.loads((tmp_path / "report.json").read_text())["stripped_controls"] == stripped
    total = sum(stripped.values())
    assert err == (f"logdesk note: left out {total} control characters that a CRM would reject or mangle, from: "
                   + ", ".join(f"{key} ({n})" for key, n in stripped.items()) + "\n")


CLI_ERRORS = {
    "invalid UTF-8 on standard input": ("stdin", b"caf\xe9",
                                        "standard input is not valid UTF-8: byte 0xe9 at byte offset"),
    "lone surrogate on standard input": ("stdin", b"\\ud800", "standard input has \\ud800 at byte offset"),
    "invalid UTF-8 in the body file": ("body", b"caf\xe9", "is not valid UTF-8: byte 0xe9 at byte offset 3"),
}


@pytest.mark.parametrize("case", list(CLI_ERRORS))
def test_the_logdesk_command_reports_bad_input_bytes_without_a_traceback(tmp_path: Path, case: str) -> None:
    where, bad, message = CLI_ERRORS[case]
    stdin = _json(note="cafe")
    body = b"cafe\n"
    if where == "stdin":
        stdin = stdin.replace(b"cafe", bad)
    else:
        body = body.replace(b"cafe", bad)
    (tmp_path / "body").write_bytes(body)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "desktop", "note", "apply", "--body", str(tmp_path / "body")],
                          input=stdin, capture_output=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                          timeout=60, check=False)
    assert done.returncode == 2
    assert done.stdout == b""
    assert message.encode() in done.stderr
    assert b"Traceback" not in done.stderr


def test_the_logdesk_command_gives_a_crlf_body_back_byte_for_byte(tmp_path: Path) -> None:
    body = b"- Note: n\r\n- Duration: (pending)\r\nTyped\n- Result: Accepted\r\n"
    (tmp_path / "body").write_bytes(body)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "desktop", "note", "apply", "--body", str(tmp_path / "body")],
                          input=_json(), capture_output=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                          timeout=60, check=False)
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.startswith(b"- Note: n\r\n")
    assert b"- Duration: 3 minutes, 14 seconds\r\nTyped\n- Result: Accepted\r\n" in done.stdout
