# SPDX-License-Identifier: MIT
"""``logdesk note``: compose a note, or apply a change to an existing body, from JSON.

    logdesk note compose --format text/html [--report report.json] < content.json
    logdesk note apply --format text/html --body body.html [--written written.html]
                       [--report report.json] < change.json
    logdesk note schema

The input is one JSON object, :class:`NoteInput`; ``logdesk note schema`` prints its JSON schema
(also in docs/note-format.md) and ``--help`` shows an example (:data:`EXAMPLE_INPUT`). Standard
input, ``--body`` and ``--written`` are read as bytes and must be UTF-8; the note is written to
standard output as UTF-8 bytes, so the body's line breaks (CRLF, LF or both) come back as they were.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from pydantic.alias_generators import to_camel

from adapters.base import FieldLimits, LogFormat
from adapters.models import Call, Contact
from adapters.notes.engine import apply, compose
from adapters.notes.models import (
    AiNote,
    ApplyReport,
    NoteContent,
    NoteSettings,
    Utterance,
    ai_note_from_insights,
    utterances_from_insights,
)

FORMATS: tuple[str, ...] = get_args(LogFormat)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class ContactInput(_Strict):
    """The CRM contact the call is logged against."""

    name: str = ""
    phone_number: str | None = None


class LimitInput(_Strict):
    """The CRM's field limit for the note body."""

    body: int = Field(gt=0)
    body_unit: str = Field(default="chars", pattern="^(chars|bytes)$")


class SettingsInput(NoteSettings):
    """The note settings; unknown keys are an error here."""

    model_config = ConfigDict(extra="forbid")


class NoteInput(_Strict):
    """What ``logdesk note`` reads from standard input."""

    call: dict[str, Any] = Field(description="A RingCentral call-log record, Detailed view, as the API returns it.")
    note: str | None = Field(default=None, description="The agent's note.")
    subject: str | None = Field(default=None, description="The log subject; a default is derived when omitted.")
    contact: ContactInput | None = None
    recording_link: str | None = Field(default=None, description="Overrides the link derived from `call.recording`.")
    voicemail_link: str | None = None
    ai_note: str | dict[str, Any] | None = Field(
        default=None, description="Free text, or a RingSense insights object (`RecordingInsights`)."
    )
    transcript: str | list[Utterance] | None = Field(
        default=None, description="Free text, or utterances `{speaker, start, end, text}` (seconds)."
    )
    expect_recording: bool = Field(default=False, description="Write a recording placeholder if no link is known.")
    expect_ai: bool = Field(default=False, description="Write AI note and transcript placeholders if not known.")
    settings: SettingsInput | None = None
    limit: int | LimitInput | None = Field(default=None, description="Characters, or `{body, bodyUnit}`.")

    def content(self, *, update: bool = False) -> NoteContent:
        """The note content; for an update, a subject is part of it only when the input gave one."""
        call = Call.model_validate(self.call)
        contact = None
        if self.contact is not None:
            contact = Contact(id="", name=self.contact.name, phone=self.contact.phone_number)
        ai: AiNote | str | None = None
        transcript: list[Utterance] | str | None = self.transcript
        if isinstance(self.ai_note, Mapping):
            ai = ai_note_from_insights(self.ai_note)
            if transcript is None:
                transcript = utterances_from_insights(self.ai_note, call) or None
        else:
            ai = self.ai_note
        content = NoteContent.from_call(
            call,
            note=self.note,
            subject=self.subject,
            contact=contact,
            recording_link=self.recording_link,
            voicemail_link=self.voicemail_link,
            ai_note=ai,
            transcript=transcript,
            expect_recording=self.expect_recording,
            expect_ai=self.expect_ai,
        )
        if update and self.subject is None:
            content.subject = None
        return content

    def field_limits(self) -> FieldLimits | None:
        if self.limit is None:
            return None
        if isinstance(self.limit, int):
            return FieldLimits(body=self.limit)
        return FieldLimits(body=self.limit.body, body_unit="bytes" if self.limit.body_unit == "bytes" else "chars")

    def note_settings(self) -> NoteSettings:
        return NoteSettings.model_validate(self.settings.model_dump()) if self.settings else NoteSettings()


#: The smallest useful input, shown by ``logdesk note compose --help``: a call-log record with the
#: fields a note needs, and the agent's note.
EXAMPLE_INPUT: dict[str, Any] = {
    "call": {
        "id": "Y3s1Qx2LbXkMzUA",
        "sessionId": "1039811321016",
        "startTime": "2026-04-10T15:05:09.000Z",
        "duration": 272,
        "direction": "Inbound",
        "result": "Accepted",
        "from": {"phoneNumber": "+12125550147", "name": "Ben Okafor"},
        "to": {"phoneNumber": "+16505550100", "extensionNumber": "101"},
    },
    "note": "Wants the renewal quote revised for 40 seats.",
    "contact": {"name": "Ben Okafor", "phoneNumber": "+12125550147"},
    "settings": {"time_zone": "America/New_York"},
}


def _help(what: str) -> str:
    """The description ``--help`` shows for compose or apply: the input, by example."""
    after = textwrap.fill(
        "'call' is a RingCentral call-log record (Detailed view) as the API returns it; the other keys are"
        " optional. Every key, with its type: 'logdesk note schema' prints the JSON schema;"
        " docs/note-format.md describes it and the note format.",
        width=79,
    )
    return f"{what}\n\nStandard input is one JSON object (UTF-8), for example:\n\n" + (
        json.dumps(EXAMPLE_INPUT, indent=2) + "\n\n" + after
    )


def input_schema() -> dict[str, Any]:
    """The JSON schema of the input object (documented in docs/note-format.md)."""
    return NoteInput.model_json_schema(by_alias=True)


class InputError(Exception):
    """The input JSON is not a valid :class:`NoteInput`; the message names the key."""


def _describe(exc: PydanticValidationError, prefix: tuple[str, ...] = ()) -> str:
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in (*prefix, *error["loc"])) or "input"
        if error["type"] == "extra_forbidden":
            lines.append(f"unknown key {where!r}")
        else:
            lines.append(f"{where}: {error['msg']}")
    return "; ".join(lines)


def decode_utf8(data: bytes, what: str) -> str:
    """``data`` as UTF-8 text; an :class:`InputError` naming ``what`` and the byte offset if it is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{what} is not valid UTF-8: byte 0x{data[exc.start]:02x} at byte offset {exc.start} ({exc.reason})"
        ) from None


_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _lone_surrogate(text: str) -> int | None:
    """Where in ``text`` (valid JSON) a ``\\uD800``–``\\uDFFF`` escape is not half of a pair.

    Such an escape decodes to a lone surrogate, which no UTF-8 output can carry. Backslashes in
    valid JSON only start escapes inside strings, so reading escape by escape stays in step.
    """
    if _SURROGATE_ESCAPE.search(text) is None:
        return None
    high: int | None = None
    high_end = -1
    for match in _ESCAPE.finditer(text):
        unit = int(match.group(1), 16) if match.group(1) else -1
        if high is not None:
            if 0xDC00 <= unit <= 0xDFFF and match.start() == high_end:
                high = None
                continue
            return high
        if 0xD800 <= unit <= 0xDBFF:
            high, high_end = match.start(), match.end()
        elif 0xDC00 <= unit <= 0xDFFF:
            return match.start()
    return high


def read_input(data: bytes) -> NoteInput:
    """The :class:`NoteInput` in ``data`` (standard input: UTF-8 JSON, a leading BOM allowed)."""
    text = decode_utf8(data, "standard input")
    bom = 3 if text.startswith("\ufeff") else 0
    text = text[1:] if bom else text
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"the input is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from exc
    lone = _lone_surrogate(text)
    if lone is not None:
        offset = bom + len(text[:lone].encode("utf-8"))
        raise InputError(
            f"standard input has {text[lone : lone + 6]} at byte offset {offset}: half of a UTF-16 surrogate pair"
            " without its other half, which is not a character"
        )
    if not isinstance(raw, dict):
        raise InputError("the input must be one JSON object")
    try:
        parsed = NoteInput.model_validate(raw)
    except PydanticValidationError as exc:
        raise InputError(_describe(exc)) from exc
    try:
        Call.model_validate(parsed.call)
    except PydanticValidationError as exc:
        raise InputError(_describe(exc, ("call",))) from exc
    return parsed


def _read_file(path: str, option: str) -> str:
    """The text of ``path`` exactly as stored (UTF-8; no line-break translation)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {option} {path}: {exc.strerror}") from None
    return decode_utf8(data, f"{option} {path}")


def _stripped_note(report: ApplyReport) -> str | None:
    if not report.stripped_controls:
        return None
    total = sum(report.stripped_controls.values())
    where = ", ".join(f"{key} ({count})" for key, count in report.stripped_controls.items())
    noun = "character" if total == 1 else "characters"
    return f"left out {total} control {noun} that a CRM would reject or mangle, from: {where}"


def _run(args: argparse.Namespace) -> int:
    body, written = "", None
    try:
        data = read_input(sys.stdin.buffer.read())
        content = data.content(update=args.action == "apply")
        settings = data.note_settings()
        limit = data.field_limits()
        if args.action == "apply":
            body = _read_file(args.body, "--body")
            written = _read_file(args.written, "--written") if args.written else None
    except InputError as exc:
        print(f"logdesk note: {exc}", file=sys.stderr)
        return 2
    if args.action == "compose":
        report = ApplyReport()
        new_body = compose(content, settings, args.format, limit=limit, report=report)
    else:
        new_body, report = apply(body, content, settings, args.format, limit=limit, written=written)
    if args.report:
        try:
            Path(args.report).write_text(report.model_dump_json(indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            print(f"logdesk note: cannot write --report {args.report}: {exc.strerror}", file=sys.stderr)
            return 2
    note = _stripped_note(report)
    if note is not None:
        print(f"logdesk note: {note}", file=sys.stderr)
    sys.stdout.flush()
    sys.stdout.buffer.write(new_body.encode("utf-8"))
    sys.stdout.buffer.flush()
    return 0


def _schema(_args: argparse.Namespace) -> int:
    print(json.dumps(input_schema(), indent=2, sort_keys=True))
    return 0


def register(subparsers: Any) -> None:
    """Adds ``note compose``, ``note apply`` and ``note schema`` to the ``logdesk`` command line."""
    parser = subparsers.add_parser("note", help="compose a CRM note or update one, from JSON on stdin")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    raw = argparse.RawDescriptionHelpFormatter
    compose_parser = actions.add_parser(
        "compose", help="print a new note for the call on stdin", formatter_class=raw,
        description=_help("Prints a new note for the call on standard input."),
    )
    apply_parser = actions.add_parser(
        "apply", help="print BODY with the change on stdin substituted in", formatter_class=raw,
        description=_help("Prints the body in --body with the change on standard input substituted in."),
    )
    schema_parser = actions.add_parser("schema", help="print the JSON schema of the input compose and apply read")
    schema_parser.set_defaults(run=_schema)
    for sub in (compose_parser, apply_parser):
        sub.add_argument("--format", choices=FORMATS, default="text/plain", help="the CRM's log format")
        sub.set_defaults(run=_run)
    apply_parser.add_argument(
        "--body", required=True, help="file holding the body as the CRM has it (UTF-8; line breaks kept as they are)"
    )
    apply_parser.add_argument(
        "--written",
        metavar="FILE",
        help="file holding the body as it was last written (the output of the compose or apply that wrote it): "
        "a section in it that is gone from --body was removed by the agent and is not added again, and a "
        "value still as written there may be updated (UTF-8)",
    )
    apply_parser.add_argument(
        "--report", help="write what was replaced, appended, skipped and left out here, as JSON"
    )
    compose_parser.add_argument("--report", help="write what was shortened and left out here, as JSON")


if __name__ == "__main__":  # ``python -m adapters.notes.cli --schema``: the same as ``logdesk note schema``
    if sys.argv[1:] == ["--schema"]:
        _schema(argparse.Namespace())
    else:
        print("usage: python -m adapters.notes.cli --schema", file=sys.stderr)
        sys.exit(2)
