# SPDX-License-Identifier: MIT
"""Values as text: durations, dates, transcripts, AI notes, links, in each log format.

Everything that came from outside (the agent, a CRM, RingCentral, the AI) goes through
:func:`text` before it reaches an HTML body, so no value can open a tag or an attribute.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from adapters.base import LogFormat
from adapters.notes.models import AiNote, Utterance, is_anonymous_speaker

HTML: LogFormat = "text/html"
PLAIN: LogFormat = "text/plain"
MARKDOWN: LogFormat = "text/markdown"

_NEWLINES = re.compile(r"\r\n|\r|\n")
_SPACES = re.compile(r"[\r\n\t]+")


def one_line(value: str) -> str:
    """A value on a single line (scalar sections are one line each)."""
    if "\n" in value or "\r" in value or "\t" in value:
        value = _SPACES.sub(" ", value)
    return value.strip()


#: The C0 control characters except tab, line feed and carriage return. They show nothing, and
#: CRMs reject them (XML-based APIs cannot carry them at all) or mangle them, so nothing the
#: note engine writes contains one.
CONTROLS = "".join(chr(code) for code in range(32) if chr(code) not in "\t\n\r")
_CONTROL = re.compile("[" + re.escape(CONTROLS) + "]")


#: Characters looked at per stretch when checking a long value for control characters.
CONTROL_STRETCH = 65_536


def has_controls(value: str) -> bool:
    """Whether ``value`` holds one of :data:`CONTROLS`.

    A long value is searched one stretch at a time, with one ``find`` per control character (a
    ``memchr`` each) while the stretch stays in the CPU cache: on a 2 MB body that is about a
    millisecond, where a character-class search takes over ten, and on a body of wide characters
    (anything past U+00FF, such as a bullet or a curly quote) it is a third of 29 passes over all
    of it.
    """
    if len(value) < 512:
        return _CONTROL.search(value) is not None
    find = value.find
    for start in range(0, len(value), CONTROL_STRETCH):
        end = start + CONTROL_STRETCH
        for char in CONTROLS:
            if find(char, start, end) >= 0:
                return True
    return False


def strip_controls(value: str) -> tuple[str, int]:
    """``value`` without :data:`CONTROLS`, and how many were removed (a clean value as it is)."""
    if not has_controls(value):
        return value, 0
    return _CONTROL.subn("", value)


#: The characters :func:`html.escape` replaces (with ``quote=True``).
HTML_SPECIAL = "&<>\"'"


def needs_escape(value: str) -> bool:
    """Whether ``value`` holds a character HTML escapes: one ``memchr`` each, where
    :func:`html.escape` makes five passes that count character by character."""
    return any(char in value for char in HTML_SPECIAL)


def text(value: str, fmt: LogFormat) -> str:
    """``value`` made safe as text of ``fmt``: HTML-escaped (quotes too) for HTML, as is otherwise."""
    return html.escape(value, quote=True) if fmt == HTML and needs_escape(value) else value


_NOT_IN_URL = re.compile(r"[\s\x00-\x1f\x7f]")


def safe_url(value: str) -> str | None:
    """``value`` when it is an absolute http(s) URL without spaces or control characters."""
    candidate = value.strip()
    if not candidate or _NOT_IN_URL.search(candidate):
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return candidate


def link(value: str, fmt: LogFormat) -> str:
    """A link value: an anchor in HTML when it is an http(s) URL, escaped text otherwise."""
    url = safe_url(value)
    if fmt != HTML:
        return one_line(value)
    if url is None:
        return text(one_line(value), fmt)
    return f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">open</a>'


def duration(seconds: float) -> str:
    """``3725`` → ``1 hour, 2 minutes, 5 seconds``; ``0`` → ``0 seconds``."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    for amount, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second")):
        if amount:
            parts.append(f"{amount} {unit}{'' if amount == 1 else 's'}")
    return ", ".join(parts) or "0 seconds"


_TOKENS = re.compile(r"\[([^\]]*)\]|YYYY|YY|MMMM|MMM|MM|M|DD|D|dddd|ddd|HH|H|hh|h|mm|m|ss|s|A|a|Z")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def date_time(value: datetime, date_format: str, time_zone: str) -> str:
    """``value`` in ``time_zone``, written with moment.js tokens (``YYYY-MM-DD hh:mm:ss A``).

    A naive ``value`` is taken as UTC. ``[literal]`` text is copied as is.
    """
    from datetime import UTC

    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    local = aware.astimezone(ZoneInfo(time_zone))
    hour12 = local.hour % 12 or 12

    def token(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            return match.group(1)
        tok = match.group(0)
        offset = local.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset is not None else 0
        values = {
            "YYYY": f"{local.year:04d}",
            "YY": f"{local.year % 100:02d}",
            "MMMM": _MONTHS[local.month - 1],
            "MMM": _MONTHS[local.month - 1][:3],
            "MM": f"{local.month:02d}",
            "M": str(local.month),
            "DD": f"{local.day:02d}",
            "D": str(local.day),
            "dddd": _DAYS[local.weekday()],
            "ddd": _DAYS[local.weekday()][:3],
            "HH": f"{local.hour:02d}",
            "H": str(local.hour),
            "hh": f"{hour12:02d}",
            "h": str(hour12),
            "mm": f"{local.minute:02d}",
            "m": str(local.minute),
            "ss": f"{local.second:02d}",
            "s": str(local.second),
            "A": "AM" if local.hour < 12 else "PM",
            "a": "am" if local.hour < 12 else "pm",
            "Z": f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}",
        }
        return values[tok]

    return _TOKENS.sub(token, date_format)


_TWO_DIGITS = tuple(f"{i:02d}" for i in range(100))


def transcript_lines(utterances: Sequence[Utterance], *, timestamps: bool = True, bullet: str = "") -> list[str]:
    """Readable transcript lines: one per turn, consecutive utterances of a speaker merged.

    Speakers without a name become "Speaker 1", "Speaker 2"… in order of first appearance.
    ``bullet`` starts every line (Markdown lists). Runs once per utterance of a two-hour call,
    hence the plain loop, the clock prefix kept per minute and one string made per turn.
    """
    names: dict[str | None, str] = {}
    anonymous = 0
    lines: list[str] = []
    append = lines.append
    digits = _TWO_DIGITS
    spaces = _SPACES
    minute_seen = -1
    minute_prefix = ""
    current: str | None = None
    # The current turn: its clock and speaker ("- [00:01:05] Jane: "), made when it starts, and
    # its words as one string, not a list: a container per turn would wake the cyclic garbage
    # collector thousands of times over every live object of a long call.
    head = ""
    said = ""
    for utterance in utterances:
        words = utterance.text
        if "\n" in words or "\r" in words or "\t" in words:
            words = spaces.sub(" ", words)
        words = words.strip()
        if not words:
            continue
        raw_speaker = utterance.speaker
        name = names.get(raw_speaker)
        if name is None:
            if is_anonymous_speaker(raw_speaker):
                key = (raw_speaker or "").strip() or None
                name = names.get(key) if key != raw_speaker else None
                if name is None:
                    anonymous += 1
                    name = f"Speaker {anonymous}"
                    names[key] = name
            else:
                name = one_line(raw_speaker or "")
            names[raw_speaker] = name
        if name == current:
            said += " " + words
            continue
        if current is not None:
            append(head + said)
        current, said = name, words
        start = utterance.start
        if timestamps and start is not None:
            total = int(start) if start > 0 else 0
            minute = total // 60
            if minute != minute_seen:
                minute_seen = minute
                hours, minutes = divmod(minute, 60)
                minute_prefix = f"{bullet}[{digits[hours] if hours < 100 else hours}:{digits[minutes]}:"
            head = f"{minute_prefix}{digits[total % 60]}] {name}: "
        else:
            head = f"{bullet}{name}: "
    if current is not None:
        append(head + said)
    return lines


PartStyle = Literal["text", "bullets", "facts"]


def ai_note_parts(note: AiNote) -> list[tuple[str | None, list[str], PartStyle]]:
    """The recap as (heading, lines, style) parts, in reading order.

    Styles: "text" lines as they are, "bullets" a list, "facts" short ``Name: value`` lines.
    """
    parts: list[tuple[str | None, list[str], PartStyle]] = []
    structured = note.model_copy(update={"text": None})
    if note.summary:
        parts.append(("Summary", [ln for ln in _NEWLINES.split(note.summary.strip()) if ln.strip()], "text"))
    for heading, items in (
        ("Key points", note.bulleted_summary),
        ("Highlights", note.highlights),
        ("Next steps", note.next_steps),
        ("Decisions", note.decisions),
    ):
        cleaned = [one_line(i) for i in items if i.strip()]
        if cleaned:
            parts.append((heading, cleaned, "bullets"))
    scores = []
    if note.score:
        scores.append(f"Call score: {one_line(note.score)}")
    if note.sentiment:
        scores.append(f"Sentiment: {one_line(note.sentiment)}")
    if scores:
        parts.append((None, scores, "facts"))
    if note.text and note.text.strip():
        lines = [ln.rstrip() for ln in _NEWLINES.split(note.text.strip())]
        parts.append(("Notes" if not structured.is_empty() else None, lines, "text"))
    return parts
