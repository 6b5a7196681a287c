# SPDX-License-Identifier: MIT
"""What a note carries, how it is configured, and what an update reports.

``None`` in a :class:`NoteContent` means "not known / not part of this change". A value that is
expected but not known yet is flagged with the ``*_pending`` booleans: the composer then writes a
placeholder that a later :func:`adapters.notes.apply` finds and replaces. A pending flag together
with a value (a provisional duration) writes the value marked as pending.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from adapters.models import Call, Contact, Direction, Party

#: Where a user opens a recording: RingCentral's Media Reader signs the user in and plays
#: ``contentUri`` with their own token, so no token ever lands in a CRM note.
MEDIA_READER = "https://ringcentral.github.io/ringcentral-media-reader/?media="


def _normalise_newlines(value: str | None) -> str | None:
    if value is None:
        return None
    return value.replace("\r\n", "\n").replace("\r", "\n")


class NoteSettings(BaseModel):
    """Which sections a note holds, and how dates are shown.

    ``date_format`` uses moment.js tokens (``YYYY-MM-DD hh:mm:ss A``), the same notation App
    Connect users already configured; ``time_zone`` is an IANA name.
    """

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    note: bool = True
    subject: bool = True
    date_time: bool = True
    duration: bool = True
    result: bool = True
    recording: bool = True
    ai_note: bool = True
    transcript: bool = True
    journey: bool = True
    session_id: bool = False
    contact_number: bool = False
    rc_user: bool = False
    rc_number: bool = False
    #: Prefix transcript lines with ``[hh:mm:ss]``.
    transcript_timestamps: bool = True
    date_format: str = "YYYY-MM-DD hh:mm:ss A"
    time_zone: str = "UTC"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("date_format")
    @classmethod
    def _non_empty_format(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the date format is empty")
        return value


class Utterance(BaseModel):
    """One stretch of speech in a diarized transcript. Times are seconds from the start."""

    speaker: str | None = None
    start: float | None = None
    end: float | None = None
    text: str


class AiNote(BaseModel):
    """A call recap. ``text`` holds a recap that arrived as free text; the rest are structured."""

    title: str | None = None
    summary: str | None = None
    bulleted_summary: list[str] = Field(default_factory=list)
    highlights: list[str] = Field(default_factory=list)
    next_steps: list[str] = Field(default_factory=list)
    decisions: list[str] = Field(default_factory=list)
    score: str | None = None
    sentiment: str | None = None
    text: str | None = None

    def is_empty(self) -> bool:
        return not (
            self.summary
            or self.bulleted_summary
            or self.highlights
            or self.next_steps
            or self.decisions
            or self.score
            or self.sentiment
            or self.text
        )


class NoteContent(BaseModel):
    """Everything a note can say about one call. ``None``: unknown, or not part of this change.

    Pending flags: ``duration_pending`` (``duration`` may hold a provisional value),
    ``recording_pending``, ``voicemail_pending``, ``ai_note_pending`` and ``transcript_pending``
    write a placeholder when the value itself is ``None``.

    ``duration_text`` is written in the duration section when there is no duration to write and
    none is pending (``"Not available (…)"`` once the caller stopped waiting); it replaces the
    placeholder like a value does, and a later ``duration`` replaces it where it is still as written.
    """

    model_config = ConfigDict(extra="forbid")

    note: str | None = None
    subject: str | None = None
    contact_number: str | None = None
    direction: Direction | None = None
    start_time: datetime | None = None
    duration: float | None = None
    duration_pending: bool = False
    #: Words for the duration section when no duration is known or pending (see the class docstring).
    duration_text: str | None = None
    result: str | None = None
    recording_link: str | None = None
    recording_pending: bool = False
    voicemail_link: str | None = None
    voicemail_pending: bool = False
    ai_note: AiNote | None = None
    ai_note_pending: bool = False
    transcript: list[Utterance] | str | None = None
    transcript_pending: bool = False
    #: The call journey, one line per leg (see :func:`journey_lines`).
    journey: list[str] | None = None
    session_id: str | None = None
    rc_user_name: str | None = None
    rc_number: str | None = None

    @field_validator("note", "subject")
    @classmethod
    def _newlines(cls, value: str | None) -> str | None:
        return _normalise_newlines(value)

    @classmethod
    def from_call(
        cls,
        call: Call,
        *,
        note: str | None = None,
        subject: str | None = None,
        contact: Contact | None = None,
        recording_link: str | None = None,
        voicemail_link: str | None = None,
        ai_note: AiNote | str | None = None,
        transcript: Sequence[Utterance] | str | None = None,
        expect_recording: bool = False,
        expect_ai: bool = False,
    ) -> NoteContent:
        """Content for a RingCentral call-log record (Detailed view).

        Args:
            call: the record.
            note: what the agent typed.
            subject: the log's subject; a default like "Inbound call from Jane Smith" otherwise.
            contact: the CRM contact the call is logged against (its name and number).
            recording_link: the link to write; derived from ``call.recording`` when omitted.
            voicemail_link: the voicemail's link, if the call went to voicemail.
            ai_note: the recap, if RingCentral has it.
            transcript: the transcript, if RingCentral has it.
            expect_recording: a recording is coming though the record has none yet.
            expect_ai: an AI note and a transcript are coming.
        """
        remote = call.remote
        local = call.local
        if recording_link is None and call.recording is not None:
            recording_link = recording_link_for(call)
        who = (contact.name if contact else None) or remote.name or _party_number(remote) or "unknown number"
        if subject is None:
            word = "from" if call.direction is Direction.INBOUND else "to"
            subject = f"{call.direction.value} call {word} {who}"
        in_progress = (call.result or "").lower() == "in progress"
        duration_known = call.duration is not None and not in_progress
        ai: AiNote | None = AiNote(text=ai_note) if isinstance(ai_note, str) else ai_note
        rc_number = local.phone_number
        if local.extension_number:
            rc_number = f"{rc_number} ext {local.extension_number}" if rc_number else f"ext {local.extension_number}"
        return cls(
            note=note,
            subject=subject,
            contact_number=(contact.phone if contact and contact.phone else None) or _party_number(remote),
            direction=call.direction,
            start_time=call.start_time,
            duration=call.duration,
            duration_pending=not duration_known,
            result=call.result,
            recording_link=recording_link,
            recording_pending=recording_link is None and expect_recording,
            voicemail_link=voicemail_link,
            ai_note=ai,
            ai_note_pending=ai is None and expect_ai,
            transcript=list(transcript)
            if isinstance(transcript, Sequence) and not isinstance(transcript, str)
            else transcript,
            transcript_pending=transcript is None and expect_ai,
            journey=journey_lines(call) or None,
            session_id=call.session_id,
            rc_user_name=local.name,
            rc_number=rc_number,
        )


def _party_number(party: Party) -> str | None:
    return party.phone_number or (f"ext {party.extension_number}" if party.extension_number else None)


def _party_text(party: Party | None) -> str:
    if party is None:
        return ""
    parts = [p for p in (party.name, party.phone_number) if p]
    if party.extension_number:
        parts.append(f"ext {party.extension_number}")
    return ", ".join(parts)


def journey_lines(call: Call) -> list[str]:
    """The call's path through transfers and queues, one line per leg; empty for a single leg."""
    if len(call.legs) < 2:
        return []
    lines: list[str] = []
    for index, leg in enumerate(call.legs):
        direction = leg.direction or call.direction
        if index == 0:
            if direction is Direction.OUTBOUND:
                lines.append(f"Made call from {_party_text(leg.from_) or 'unknown'}")
            else:
                lines.append(f"Received call at {_party_text(leg.to) or 'unknown'}")
            continue
        party = leg.to if direction is Direction.INBOUND or leg.leg_type == "PstnToSip" else leg.from_
        line = f"Transferred to {_party_text(party) or 'unknown'}"
        if leg.duration is not None:
            line += f", duration: {leg.duration} second{'' if leg.duration == 1 else 's'}"
        lines.append(line)
    return lines


def recording_link_for(call: Call) -> str | None:
    """The link an agent opens to hear the call's recording, or None when there is none.

    It is RingCentral's Media Reader around the recording's ``contentUri``: the reader asks the
    user to sign in and never needs a token in the link. The explicit ``:443`` port some records
    carry is dropped, because the reader only accepts ``https://media.ringcentral.com/`` URLs.
    """
    recording = call.recording
    if recording is None or not recording.content_uri:
        return None
    parts = urlsplit(recording.content_uri)
    netloc = parts.netloc[:-4] if parts.netloc.endswith(":443") and parts.scheme == "https" else parts.netloc
    content_uri = urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return MEDIA_READER + quote(content_uri, safe="")


# --- RingSense insights ---------------------------------------------------------------------


def _insight(raw_insights: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    wanted = name.lower()
    for key, value in raw_insights.items():
        if isinstance(key, str) and key.lower() == wanted and isinstance(value, list):
            return [item for item in value if isinstance(item, Mapping)]
    return []


def _values(raw_insights: Mapping[str, Any], name: str) -> list[str]:
    out: list[str] = []
    for item in _insight(raw_insights, name):
        value = item.get("value")
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip()
            if text:
                out.append(text)
    return out


def _speakers(raw: Mapping[str, Any], call: Call | None) -> dict[str, str]:
    by_extension: dict[str, str] = {}
    if call is not None:
        for party in (call.from_, call.to):
            label = party.name or party.phone_number or party.extension_number
            if party.extension_id and label:
                by_extension[str(party.extension_id)] = label
    names: dict[str, str] = {}
    raw_info = raw.get("speakerInfo")
    if isinstance(raw_info, list):
        for item in raw_info:
            if not isinstance(item, Mapping):
                continue
            sid, name, ext = item.get("speakerId"), item.get("name"), item.get("extensionId")
            if not isinstance(sid, str):
                continue
            if isinstance(name, str) and name.strip():
                names[sid] = name.strip()
            elif isinstance(ext, str | int) and str(ext) in by_extension:
                names[sid] = by_extension[str(ext)]
    return names


def ai_note_from_insights(raw: Mapping[str, Any]) -> AiNote:
    """An :class:`AiNote` from a RingSense ``RecordingInsights`` object (every key optional).

    Insight names are matched case-insensitively (the docs spell ``HighLights`` both ways);
    ``AIScore`` may be a string or a number.
    """
    raw_insights = raw.get("insights")
    if not isinstance(raw_insights, Mapping):
        raw_insights = {}
    title = raw.get("title")
    summary = _values(raw_insights, "Summary")
    bullets: list[str] = []
    for item in _insight(raw_insights, "BulletedSummary"):
        value = item.get("value")
        if isinstance(value, str) and value.strip():
            section = item.get("section")
            prefix = f"{section.strip()}: " if isinstance(section, str) and section.strip() else ""
            bullets.append(prefix + value.strip())
    notes = _values(raw_insights, "CallNotes")
    score = _values(raw_insights, "AIScore")
    sentiment = _values(raw_insights, "Sentiment")
    return AiNote(
        title=title.strip() if isinstance(title, str) and title.strip() else None,
        summary="\n".join(summary) or None,
        bulleted_summary=bullets,
        highlights=_values(raw_insights, "Highlights"),
        next_steps=_values(raw_insights, "NextSteps"),
        decisions=_values(raw_insights, "Decisions"),
        score=score[0] if score else None,
        sentiment=sentiment[0] if sentiment else None,
        text="\n".join(notes) or None,
    )


def utterances_from_insights(raw: Mapping[str, Any], call: Call | None = None) -> list[Utterance]:
    """The diarized transcript of a RingSense ``RecordingInsights`` object.

    Speakers are named from ``speakerInfo``, else from the call's party with the same extension
    id; a speaker still without a name keeps its raw id and is shown as "Speaker N" when
    rendered. Entries without text are dropped.
    """
    raw_insights = raw.get("insights")
    if not isinstance(raw_insights, Mapping):
        return []
    names = _speakers(raw, call)
    out: list[Utterance] = []
    for item in _insight(raw_insights, "Transcript"):
        text = item.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        sid = item.get("speakerId")
        start, end = item.get("start"), item.get("end")
        out.append(
            Utterance(
                speaker=names.get(sid, sid) if isinstance(sid, str) else None,
                start=float(start) if isinstance(start, int | float) and not isinstance(start, bool) else None,
                end=float(end) if isinstance(end, int | float) and not isinstance(end, bool) else None,
                text=text,
            )
        )
    return out


_PARTY_ID = re.compile(r"^p-.+-\d+$")


def is_anonymous_speaker(speaker: str | None) -> bool:
    """Whether ``speaker`` is a raw party id (``p-…-1``) rather than a name."""
    return speaker is None or not speaker.strip() or bool(_PARTY_ID.match(speaker))


# --- the update report ---------------------------------------------------------------------


class Skipped(BaseModel):
    section: str
    reason: str


class Shortened(BaseModel):
    section: str
    removed_chars: int


class ApplyReport(BaseModel):
    """What :func:`adapters.notes.apply` did, section by section (JSON-serialisable)."""

    replaced: list[str] = Field(default_factory=list)
    appended: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    shortened: list[Shortened] = Field(default_factory=list)
    #: Set when the body is still over the field limit after shortening what may be shortened.
    over_limit: bool = False
    #: Control characters removed (C0 except tab, LF and CR), by where they were: ``body`` for the
    #: body given, a section key (``note``, ``subject``, ``transcript``…) for a value of the change.
    stripped_controls: dict[str, int] = Field(default_factory=dict)

    @property
    def changed(self) -> bool:
        """Whether the body given back differs from the body given."""
        return bool(self.replaced or self.appended or self.shortened or "body" in self.stripped_controls)
