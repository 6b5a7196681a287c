# SPDX-License-Identifier: MIT
"""Compose a note, substitute into an existing body, read and replace the agent's note.

A body is the agent's note followed by the app's sections. Everything the parser does not
recognise as a section belongs to whoever wrote it and is copied through byte for byte.

Section layout per format (labels follow App Connect's, so bodies it wrote are read too)::

    text/plain     - Note: …          - Duration: …          - AI Note:\\n…\\n--- END
    text/markdown  ## Agent notes …   - **Duration**: …      ### AI Note\\n…\\n\\n[//]: # (end: AI Note)
    text/html      <b>Agent notes</b><br>…<br><br><b>Call details</b><br>
                   <b>Duration</b>: …<br>                    <div><b>AI Note</b><br>…</div>

The parser makes one forward pass over the body: it looks for label starts with ``str.find``
and jumps over each block (AI note, transcript) to its end marker, so a two-hour transcript is
crossed once, not once per label.

Threading: every function here is pure and may run on any thread.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

from adapters.base import FieldLimits, LogFormat
from adapters.models import Direction
from adapters.notes import render
from adapters.notes.models import ApplyReport, NoteContent, NoteSettings, Shortened, Skipped
from adapters.notes.render import HTML, MARKDOWN, PLAIN

Kind = Literal["note", "scalar", "link", "block"]


@dataclass(frozen=True)
class Spec:
    key: str
    kind: Kind
    label: str
    html_label: str = ""
    aliases: tuple[str, ...] = ()
    end: str = "--- END"
    #: Sections App Connect writes and Logdesk only recognises (never writes).
    ours: bool = True


SPECS: tuple[Spec, ...] = (
    Spec("note", "note", "Note", "Agent notes", aliases=("Agent notes",)),
    Spec("session_id", "scalar", "Session Id"),
    Spec("rc_user", "scalar", "RingCentral user name"),
    Spec("rc_number", "scalar", "RingCentral number and extension"),
    Spec("subject", "scalar", "Summary"),
    Spec(
        "contact_number",
        "scalar",
        "Contact Number",
        "Caller phone number",
        aliases=("Caller phone number", "Recipient phone number"),
    ),
    Spec("date_time", "scalar", "Date/Time", "Date/time"),
    Spec("duration", "scalar", "Duration"),
    Spec("result", "scalar", "Result"),
    Spec("recording", "link", "Call recording link"),
    Spec("voicemail", "link", "Voicemail recording link"),
    Spec("ai_note", "block", "AI Note"),
    Spec("transcript", "block", "Transcript"),
    Spec("ace_transcript", "block", "ACE transcript", ours=False),
    Spec("ace_summary", "block", "ACE summary", ours=False),
    Spec("call_score", "scalar", "Call score", ours=False),
    Spec("ace_bulleted_summary", "block", "ACE bulleted summary", ours=False),
    Spec("ace_link", "link", "ACE recording link", ours=False),
    Spec("journey", "block", "Call journey", end="--- JOURNEY END"),
)
ORDER = {spec.key: index for index, spec in enumerate(SPECS)}
BY_KEY = {spec.key: spec for spec in SPECS}

#: Section key → the NoteSettings toggle that governs it.
TOGGLES = {
    "note": "note",
    "session_id": "session_id",
    "rc_user": "rc_user",
    "rc_number": "rc_number",
    "subject": "subject",
    "contact_number": "contact_number",
    "date_time": "date_time",
    "duration": "duration",
    "result": "result",
    "recording": "recording",
    "voicemail": "recording",
    "ai_note": "ai_note",
    "transcript": "transcript",
    "journey": "journey",
}

PLACEHOLDERS = {
    "duration": "(pending)",
    "recording": "<recording being processed by RingCentral>",
    "voicemail": "<voicemail being processed by RingCentral>",
    "ai_note": "<AI note being prepared by RingCentral>",
    "transcript": "<transcript being prepared by RingCentral>",
}


def _labels(specs: tuple[Spec, ...], *, html_names: bool) -> dict[str, Spec]:
    table: dict[str, Spec] = {}
    for spec in specs:
        names = (spec.label, spec.html_label, *spec.aliases) if html_names else (spec.label, *spec.aliases)
        for name in names:
            if name:
                table[name.lower()] = spec
    return table


_PLAIN_LABELS = _labels(SPECS, html_names=False)
_SCALAR_LABELS = {k: s for k, s in _labels(SPECS, html_names=True).items() if s.kind in ("scalar", "link")}
_BLOCK_LABELS = {k: s for k, s in _labels(SPECS, html_names=True).items() if s.kind == "block"}
_HTML_LABELS = _labels(SPECS, html_names=True)


def _alternation(names: Collection[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


_P_LABEL = re.compile(r"- (" + _alternation(_PLAIN_LABELS) + r"):", re.IGNORECASE)
_M_SCALAR = re.compile(r"(?:- )?\*\*(" + _alternation(_SCALAR_LABELS) + r")\*\*:", re.IGNORECASE)
_M_HEADING = re.compile(r"(#{1,3}) +([^\n]*?)[ \t]*$", re.MULTILINE)
_H_LABEL = re.compile(r"<b>\s*(" + _alternation([*_HTML_LABELS, "call details"]) + r")\s*</b>", re.IGNORECASE)
_H_VALUE = re.compile(r"[^<\r\n]*")
_H_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_H_SPACE = re.compile(r"[ \t]*")
_TAG = re.compile(r"<[^<>]*>")
_HREF = re.compile(r"""<a\b[^<>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)

# Escapes keep text that looks like structure from being read as structure. Each adds one
# backslash to a line that (after any backslashes) starts like a label, and reading removes one.
_P_NOTE_ESC = re.compile(r"^(\\*- (?:" + _alternation(_PLAIN_LABELS) + r"):)", re.IGNORECASE | re.MULTILINE)
_P_NOTE_UNESC = re.compile(r"^\\(\\*- (?:" + _alternation(_PLAIN_LABELS) + r"):)", re.IGNORECASE | re.MULTILINE)
_M_NOTE_ESC = re.compile(r"^(\\*## Call details[ \t]*)$", re.MULTILINE)
_M_NOTE_UNESC = re.compile(r"^\\(\\*## Call details[ \t]*)$", re.MULTILINE)
_P_BLOCK_ESC = re.compile(r"^(\\*--- (?:JOURNEY )?END[ \t]*)$", re.MULTILINE)
_M_BLOCK_ESC = re.compile(
    r"^(\\*(?:#{1,3} |(?:- )?\*\*(?:" + _alternation(_SCALAR_LABELS) + r")\*\*:|\[//\]:))",
    re.IGNORECASE | re.MULTILINE,
)
_PLACEHOLDER = re.compile(
    r"(?:pending|in progress|\(pending(?:\.\.\.|…)?\)|[^\n]{0,200}\(pending\)"
    r"|<[^<>\n]{1,80} being (?:processed|prepared) by RingCentral>)",
    re.IGNORECASE,
)
_MARKER = re.compile(r"\[… (\d+) more characters not shown\]$")


def _escape_lines(pattern: re.Pattern[str], value: str) -> str:
    return pattern.sub(lambda m: "\\" + m.group(1), value)


def _unescape_lines(pattern: re.Pattern[str], value: str) -> str:
    return pattern.sub(lambda m: m.group(1), value)


# --- parsing -----------------------------------------------------------------------------------


@dataclass
class Found:
    """A recognised section: its span and the span of its value inside ``body``."""

    spec: Spec
    start: int
    end: int
    vstart: int
    vend: int
    #: HTML only: "li" for ``<li><b>X</b>: v</li>``, "br" for ``<b>X</b>: v<br>``.
    style: str = ""
    #: The label is followed by no space (a CRM trimmed it): a written value needs one.
    needs_space: bool = False


@dataclass
class Parsed:
    found: dict[str, Found] = field(default_factory=dict)

    def add(self, section: Found) -> None:
        # The first occurrence is the section; later copies are somebody's text.
        self.found.setdefault(section.spec.key, section)


def _eol(body: str, pos: int) -> int:
    end = body.find("\n", pos)
    return len(body) if end < 0 else end


def _before_cr(body: str, end: int) -> int:
    """``end`` (a line's end, at its ``\\n``) moved before the ``\\r`` of a CRLF, so spans never
    take half of a line break: the body's line breaks stay as they are, CRLF or LF."""
    return end - 1 if end > 0 and body[end - 1] == "\r" else end


def _strip_breaks(body: str, start: int, end: int, times: int) -> int:
    """``end`` moved back over up to ``times`` line breaks (LF or CRLF), not before ``start``."""
    for _ in range(times):
        if end > start and body[end - 1] == "\n":
            end = _before_cr(body, end - 1) if end - 1 > start else end - 1
        else:
            break
    return end


def _trim_back(body: str, start: int, end: int) -> int:
    while end > start and body[end - 1] in " \t\r\n":
        end -= 1
    return end


def _find_line(finds: _Finds, line: str, pos: int) -> int:
    """Start of the first line at or after ``pos`` that reads ``line`` (trailing blanks allowed)."""
    body = finds.body
    needle = "\n" + line
    while True:
        at = finds.find(needle, pos)
        if at < 0:
            return -1
        start = at + 1
        after = _eol(body, start)
        if not body[start + len(line) : after].strip():
            return start
        pos = after


def _md_end(spec: Spec) -> str:
    """The line that ends a block in Markdown: a link reference definition, which no renderer shows
    (see docs/note-format.md). Written after a blank line, since a definition cannot interrupt a
    paragraph or a list."""
    return f"[//]: # (end: {spec.label})"


#: Block end markers searched across whole transcripts, and the index of a character in each
#: that is rare in speech (so a single-character search skips most of the text).
_RARE = {"</div>": 1, "\n--- END": 1, "\n--- JOURNEY END": 1} | {
    "\n" + _md_end(spec): len("\n[//]: ") for spec in SPECS if spec.kind == "block" and spec.ours
}


class _Finds:
    """``str.find`` for forward scans, remembering each needle's last answer.

    A scan only moves forward, so a needle's next hit stays valid until the scan passes it, and
    a needle that was not found stays not found: each needle costs one pass over the body in
    total, even when a body repeats a broken section thousands of times. A search that starts a
    little before the last one (two readers of one needle) looks only at the stretch in between.
    """

    def __init__(self, body: str) -> None:
        self.body = body
        self.memo: dict[str, tuple[int, int]] = {}

    def find(self, needle: str, pos: int) -> int:
        memo = self.memo.get(needle)
        rare = None
        if memo is not None:
            since, hit = memo
            if since <= pos and (hit < 0 or hit >= pos):
                return hit
            rare = _RARE.get(needle)
            if rare is None and pos < since and (hit < 0 or hit >= since):
                early = self.body.find(needle, pos, since + len(needle) - 1)
                hit = early if early >= 0 else hit
                self.memo[needle] = (pos, hit)
                return hit
        rare = _RARE.get(needle) if rare is None else rare
        hit = self.body.find(needle, pos) if rare is None else self._find_by_char(needle, rare, pos)
        self.memo[needle] = (pos, hit)
        return hit

    def _find_by_char(self, needle: str, offset: int, pos: int) -> int:
        # One character is found by memchr, many times faster than a substring search over a
        # long transcript; the few hits are then checked in full.
        # The character's own answers are shared (``#`` ends Markdown blocks and starts headings).
        body, char = self.body, needle[offset]
        k = self.find(char, pos + offset)
        while k >= 0:
            if body.startswith(needle, k - offset):
                return k - offset
            k = self.find(char, k + 1)
        return -1


class _LineStarts:
    """Next line start at or after a position whose text begins with one of ``prefixes``.

    Remembers each prefix's next hit, so a forward scan costs one pass per prefix in total.
    """

    def __init__(self, body: str, prefixes: tuple[str, ...]) -> None:
        self.body = body
        self.needles = ["\n" + p for p in prefixes]
        self.prefixes = prefixes
        self.cache = [-2] * len(prefixes)

    def next(self, pos: int) -> int:
        body = self.body
        if (pos == 0 or (pos <= len(body) and body[pos - 1] == "\n")) and body.startswith(self.prefixes, pos):
            return pos
        best = -1
        for i, needle in enumerate(self.needles):
            hit = self.cache[i]
            if hit != -1 and hit + 1 < pos:
                hit = body.find(needle, max(pos - 1, 0))
                self.cache[i] = hit
            if hit >= 0 and (best < 0 or hit + 1 < best):
                best = hit + 1
        return best


def _parse_plain(body: str) -> Parsed:
    parsed = Parsed()
    note: Found | None = None
    n = len(body)
    starts = _LineStarts(body, ("- ",))
    finds = _Finds(body)
    pos = 0

    def close_note(at: int) -> None:
        nonlocal note
        if note is not None:
            note.end = note.vend = max(note.vstart, _before_cr(body, at - 1))
            parsed.add(note)
            note = None

    while True:
        p = starts.next(pos)
        if p < 0:
            break
        match = _P_LABEL.match(body, p)
        if match is None:
            pos = p + 1
            continue
        spec = _PLAIN_LABELS[match.group(1).lower()]
        eol = _eol(body, match.end())
        if spec.kind == "note":
            if not parsed.found and note is None:
                space = body.startswith(" ", match.end())
                vstart = match.end() + (1 if space else 0)
                note = Found(spec, p, -1, vstart, -1, needs_space=not space)
            pos = eol
            continue
        if spec.kind == "block":
            if body[match.end() : eol].strip():
                pos = eol
                continue
            end_line = _find_line(finds, spec.end, eol)
            if end_line < 0:
                pos = eol
                continue
            close_note(p)
            vstart = min(eol + 1, end_line - 1) if end_line - 1 > eol else eol
            vend = max(vstart, _before_cr(body, end_line - 1))
            span_end = _before_cr(body, _eol(body, end_line))
            parsed.add(Found(spec, p, span_end, vstart, vend))
            pos = span_end
            continue
        close_note(p)
        space = body.startswith(" ", match.end())
        vstart, end = match.end() + (1 if space else 0), _before_cr(body, eol)
        parsed.add(Found(spec, p, max(vstart, end), vstart, max(vstart, end), needs_space=not space))
        pos = eol
    if note is not None:
        end = _strip_breaks(body, note.vstart, n, 1)
        note.end = note.vend = max(note.vstart, end)
        parsed.add(note)
    return parsed


class _MarkdownStarts:
    """Next line start that begins with ``#``, ``**`` or ``- **``.

    Looks for the single characters ``#`` and ``*`` (a ``memchr`` each, fast because they are
    rare in prose and transcripts) and checks the line around each hit.
    """

    def __init__(self, finds: _Finds) -> None:
        self.finds = finds
        self.body = finds.body

    def next(self, pos: int) -> int:
        body, finds = self.body, self.finds
        while True:
            hash_at, star_at = finds.find("#", pos), finds.find("*", pos)
            if hash_at < 0 and star_at < 0:
                return -1
            k = hash_at if star_at < 0 or (0 <= hash_at < star_at) else star_at
            if k == hash_at:
                if k == 0 or body[k - 1] == "\n":
                    return k
            elif body.startswith("**", k):
                if k == 0 or body[k - 1] == "\n":
                    return k
                if k - 2 >= pos and body[k - 2 : k] == "- " and (k == 2 or body[k - 3] == "\n"):
                    return k - 2
            pos = k + 1


def _parse_markdown(body: str) -> Parsed:
    parsed = Parsed()
    n = len(body)
    finds = _Finds(body)
    starts = _MarkdownStarts(finds)
    open_note: Found | None = None
    open_block: Found | None = None
    note_seen = False
    pos = 0

    def close(at: int) -> None:
        nonlocal open_note, open_block
        if open_block is not None:
            end = _trim_back(body, open_block.vstart, at)
            # A block without its end marker (written before markers, or by App Connect) runs to
            # the next section; one still holding its one-line placeholder ends with that line,
            # so whatever the agent typed under it stays theirs.
            first_end = _before_cr(body, _eol(body, open_block.vstart))
            if first_end < end and is_placeholder(body[open_block.vstart : min(first_end, open_block.vstart + 400)]):
                end = first_end
            open_block.vend = end
            open_block.end = max(end, open_block.vstart - 1 if open_block.vstart > open_block.start else end)
            parsed.add(open_block)
            open_block = None
        if open_note is not None:
            end = _strip_breaks(body, open_note.vstart, at, 1)
            open_note.end = open_note.vend = max(open_note.vstart, end)
            parsed.add(open_note)
            open_note = None

    def ends_a_block(at: int) -> bool:
        """Whether the line at ``at`` (one :class:`_MarkdownStarts` found) starts a section."""
        eol = _eol(body, at)
        if body.startswith("#", at):
            return _M_HEADING.match(body, at, eol) is not None
        return _M_SCALAR.match(body, at, eol) is not None

    def marked_end(spec: Spec, eol: int) -> int:
        """Start of the block's end marker line when it comes before the next section, else -1."""
        marker = _find_line(finds, _md_end(spec), eol) if spec.ours else -1
        if marker < 0:
            return -1
        following = starts.next(eol)
        while 0 <= following < marker and not ends_a_block(following):
            following = starts.next(_eol(body, following))
        return marker if following < 0 or following > marker else -1

    while True:
        p = starts.next(pos)
        if p < 0:
            break
        eol = _eol(body, p)
        if body.startswith("#", p):
            heading = _M_HEADING.match(body, p, eol)
            if heading is None:
                pos = eol
                continue
            level, title = len(heading.group(1)), heading.group(2).strip().lower()
            if level == 2 and title == "agent notes" and not parsed.found and not note_seen and open_block is None:
                close(p)
                note_seen = True
                vstart = min(eol + 1, n)
                details = _find_line(finds, "## Call details", eol)
                if details >= 0:
                    vend = _strip_breaks(body, vstart, max(details, vstart), 2)
                    span_end = _before_cr(body, _eol(body, details))
                    parsed.add(Found(BY_KEY["note"], p, span_end, vstart, max(vstart, vend)))
                    pos = span_end
                    continue
                open_note = Found(BY_KEY["note"], p, -1, vstart, -1)
                pos = eol
                continue
            close(p)
            spec = _BLOCK_LABELS.get(title) if level == 3 else None
            if spec is not None:
                vstart = min(eol + 1, n)
                marker = marked_end(spec, eol)
                if marker >= 0:
                    span_end = _before_cr(body, _eol(body, marker))
                    parsed.add(Found(spec, p, span_end, vstart, max(vstart, _trim_back(body, vstart, marker))))
                    pos = span_end
                    continue
                open_block = Found(spec, p, eol, vstart, -1)
            pos = eol
            continue
        match = _M_SCALAR.match(body, p, eol)
        if match is None:
            pos = eol
            continue
        close(p)
        spec = _SCALAR_LABELS[match.group(1).lower()]
        space = body.startswith(" ", match.end())
        vstart, end = match.end() + (1 if space else 0), _before_cr(body, eol)
        parsed.add(Found(spec, p, max(vstart, end), vstart, max(vstart, end), needs_space=not space))
        pos = eol
    close(n)
    return parsed


def _parse_html(body: str) -> Parsed:
    parsed = Parsed()
    n = len(body)
    open_note: Found | None = None
    note_seen = False
    finds = _Finds(body)
    pos = 0

    def strip_brs(start: int, end: int, times: int) -> int:
        for _ in range(times):
            cut = body.rfind("<", start, end)
            if cut < 0 or not _H_BR.fullmatch(body, cut, end):
                break
            end = cut
        return end

    def close_note(at: int) -> None:
        nonlocal open_note
        if open_note is not None:
            open_note.vend = strip_brs(open_note.vstart, max(open_note.vstart, at), 2)
            open_note.end = open_note.vend
            parsed.add(open_note)
            open_note = None

    while True:
        i = finds.find("<b>", pos)
        if i < 0:
            break
        match = _H_LABEL.match(body, i)
        if match is None:
            pos = i + 3
            continue
        name = match.group(1).lower()
        after = match.end()
        if name == "call details":
            pos = after
            continue
        spec = _HTML_LABELS[name]
        if spec.kind == "note":
            if name != "agent notes" or parsed.found or note_seen:
                pos = after
                continue
            note_seen = True
            br = _H_BR.match(body, after)
            vstart = br.end() if br else after
            details = finds.find("<b>Call details</b>", vstart)
            if details >= 0:
                vend = strip_brs(vstart, details, 2)
                span_end = details + len("<b>Call details</b>")
                parsed.add(Found(spec, i, span_end, vstart, vend))
                pos = span_end
            else:
                open_note = Found(spec, i, -1, vstart, -1)
                pos = vstart
            continue
        if spec.kind == "block":
            if body[max(0, i - 5) : i].lower() != "<div>":
                pos = after
                continue
            br = _H_BR.match(body, after)
            vstart = br.end() if br else after
            close_at = finds.find("</div>", vstart)
            if close_at < 0:
                pos = after
                continue
            close_note(i - 5)
            parsed.add(Found(spec, i - 5, close_at + 6, vstart, close_at))
            pos = close_at + 6
            continue
        colon = _span_end(_H_SPACE, body, after)
        if not body.startswith(":", colon):
            pos = after
            continue
        vstart = _span_end(_H_SPACE, body, colon + 1)
        if body[vstart : vstart + 2].lower() == "<a":
            anchor_end = finds.find("</a>", vstart)
            vend = anchor_end + 4 if anchor_end >= 0 else _span_end(_H_VALUE, body, vstart)
        else:
            vend = _span_end(_H_VALUE, body, vstart)
        li = body[max(0, i - 4) : i].lower() == "<li>"
        start = i - 4 if li else i
        if li and body[vend : vend + 5].lower() == "</li>":
            end, style = vend + 5, "li"
        else:
            br = _H_BR.match(body, vend)
            end, style = (br.end(), "br") if br else (vend, "br")
        close_note(start)
        parsed.add(Found(spec, start, end, vstart, vend, style=style, needs_space=vstart == colon + 1))
        pos = end
    if open_note is not None:
        close_note(n)
    return parsed


def _span_end(pattern: re.Pattern[str], body: str, pos: int) -> int:
    """End of ``pattern`` (which can match empty) at ``pos``."""
    match = pattern.match(body, pos)
    return match.end() if match is not None else pos


def parse(body: str, fmt: LogFormat) -> dict[str, Found]:
    """The app's sections found in ``body``, by key (the first occurrence of each)."""
    if fmt == HTML:
        return _parse_html(body).found
    if fmt == MARKDOWN:
        return _parse_markdown(body).found
    return _parse_plain(body).found


# --- rendering ---------------------------------------------------------------------------------


def _label(spec: Spec, fmt: LogFormat, content: NoteContent | None = None) -> str:
    if fmt != HTML:
        return spec.label
    if spec.key == "contact_number" and content is not None and content.direction is Direction.OUTBOUND:
        return "Recipient phone number"
    return spec.html_label or spec.label


_BLOCK_ESC_START = {PLAIN: ("\\", "--- "), MARKDOWN: ("\\", "#", "**", "- **", "[//]:")}


def _may_need_escapes(text: str, fmt: LogFormat) -> bool:
    """Whether a line of ``text`` may need an escape: every such line holds a ``\\``, or the ``#``,
    ``*`` or ``/`` of Markdown structure, or a plain-text end marker's ``--- `` (each looked for
    with one ``memchr``, so a transcript without them is not looked at line by line)."""
    if fmt == MARKDOWN:
        return any(char in text for char in "\\#*/")
    return "\\" in text or ("-" in text and "--- " in text)


def _block_text(lines: list[str], fmt: LogFormat) -> str:
    """Lines of a block's content, escaped so no line reads as the block's end."""
    text = "\n".join(lines)
    if fmt == HTML:
        # Lines hold no line break (each is one turn, one leg, one line of text).
        return html.escape(text, quote=True).replace("\n", "<br>") if render.needs_escape(text) else "<br>".join(lines)
    if not _may_need_escapes(text, fmt):
        return text
    pattern = _P_BLOCK_ESC if fmt == PLAIN else _M_BLOCK_ESC
    starts = _BLOCK_ESC_START[fmt]
    return "\n".join(
        _escape_lines(pattern, line) if line.startswith(starts) else line for line in lines
    )


def _ai_note_text(content: NoteContent, fmt: LogFormat) -> str | None:
    note = content.ai_note
    if note is None or note.is_empty():
        return None
    out: list[str] = []
    for heading, lines, style in render.ai_note_parts(note):
        bulleted = style == "bullets"
        if fmt == HTML:
            if heading:
                out.append(f"<b>{render.text(heading, fmt)}</b>")
            out.extend(("• " if bulleted else "") + render.text(line, fmt) for line in lines)
            continue
        if heading:
            out.append(f"#### {heading}" if fmt == MARKDOWN else f"{heading}:")
        body = [("- " if bulleted or (fmt == MARKDOWN and style == "facts") else "") + line for line in lines]
        out.append(_block_text(body, fmt))
    return "<br>".join(out) if fmt == HTML else "\n".join(out)


def _transcript_text(content: NoteContent, settings: NoteSettings, fmt: LogFormat) -> str | None:
    value = content.transcript
    if value is None:
        return None
    if isinstance(value, str):
        lines = [line.rstrip() for line in re.split(r"\r\n|\r|\n", value.strip())]
        lines = [line for line in lines if line]
    else:
        lines = render.transcript_lines(value, timestamps=settings.transcript_timestamps,
                                        bullet="- " if fmt == MARKDOWN else "")
        if not lines:
            return None
        return _block_text(lines, fmt)
    if not lines:
        return None
    if fmt == MARKDOWN:
        lines = ["- " + line for line in lines]
    return _block_text(lines, fmt)


def _scalar(value: str | None, fmt: LogFormat) -> str | None:
    if value is None:
        return None
    line = render.one_line(value)
    return render.text(line, fmt) if line else None


def section_values(
    content: NoteContent, settings: NoteSettings, fmt: LogFormat, stripped: dict[str, int] | None = None
) -> dict[str, tuple[str, bool]]:
    """Each section ``content`` carries, as (value text in ``fmt``, is a placeholder).

    Sections turned off in ``settings`` are left out; so is the agent note (see :func:`note_value`).
    Control characters are removed from the values (counted by key in ``stripped``); a value
    that held nothing else is left out.
    """
    out: dict[str, tuple[str, bool]] = {}

    def put(key: str, value: str | None, placeholder: bool = False) -> None:
        if value is not None and getattr(settings, TOGGLES[key]):
            value, removed = render.strip_controls(value)
            if removed:
                if stripped is not None:
                    stripped[key] = stripped.get(key, 0) + removed
                if not value.strip():
                    return
            out[key] = (value, placeholder)

    def pending(key: str) -> str:
        return render.text(PLACEHOLDERS[key], fmt)

    put("session_id", _scalar(content.session_id, fmt))
    put("rc_user", _scalar(content.rc_user_name, fmt))
    put("rc_number", _scalar(content.rc_number, fmt))
    put("subject", _scalar(content.subject, fmt))
    put("contact_number", _scalar(content.contact_number, fmt))
    if content.start_time is not None:
        put("date_time", render.text(render.date_time(content.start_time, settings.date_format,
                                                      settings.time_zone), fmt))
    if content.duration_pending:
        provisional = f"{render.duration(content.duration)} " if content.duration is not None else ""
        put("duration", provisional + pending("duration"), True)
    elif content.duration is not None:
        put("duration", render.duration(content.duration))
    else:
        put("duration", _scalar(content.duration_text, fmt))
    put("result", _scalar(content.result, fmt))
    for key, value, is_pending in (
        ("recording", content.recording_link, content.recording_pending),
        ("voicemail", content.voicemail_link, content.voicemail_pending),
    ):
        if value is not None and value.strip():
            put(key, render.link(value, fmt))
        elif is_pending:
            put(key, pending(key), True)
    ai = _ai_note_text(content, fmt)
    if ai is not None:
        put("ai_note", ai)
    elif content.ai_note_pending:
        put("ai_note", pending("ai_note"), True)
    transcript = _transcript_text(content, settings, fmt)
    if transcript is not None:
        put("transcript", transcript)
    elif content.transcript_pending:
        put("transcript", pending("transcript"), True)
    if content.journey:
        put("journey", _block_text([render.one_line(j) for j in content.journey if j.strip()], fmt))
    return out


def _carried(content: NoteContent) -> list[str]:
    """The section keys ``content`` has a value or a placeholder for (the note aside)."""
    present = {
        "session_id": content.session_id,
        "rc_user": content.rc_user_name,
        "rc_number": content.rc_number,
        "subject": content.subject,
        "contact_number": content.contact_number,
        "date_time": content.start_time,
        "duration": content.duration is not None or content.duration_pending or content.duration_text or None,
        "result": content.result,
        "recording": content.recording_link or content.recording_pending or None,
        "voicemail": content.voicemail_link or content.voicemail_pending or None,
        "ai_note": content.ai_note or content.ai_note_pending or None,
        "transcript": content.transcript or content.transcript_pending or None,
        "journey": content.journey,
    }
    return [key for key, value in present.items() if value is not None and value != ""]


def _clean(value: str, key: str, stripped: dict[str, int]) -> str:
    """``value`` without control characters, counting them under ``key``."""
    value, removed = render.strip_controls(value)
    if removed:
        stripped[key] = stripped.get(key, 0) + removed
    return value


def note_value(note: str, fmt: LogFormat) -> str:
    """The agent's note as it is written inside its section (escaped so it reads back exactly)."""
    note = note.replace("\r\n", "\n").replace("\r", "\n")
    if fmt == HTML:
        return html.escape(note, quote=True).replace("\n", "<br>")
    if fmt == MARKDOWN:
        return _escape_lines(_M_NOTE_ESC, note)
    return _escape_lines(_P_NOTE_ESC, note)


def _note_section(value: str, fmt: LogFormat) -> str:
    if fmt == HTML:
        return f"<b>Agent notes</b><br>{value}<br><br><b>Call details</b>"
    if fmt == MARKDOWN:
        return f"## Agent notes\n{value}\n\n## Call details"
    return f"- Note: {value}"


def _section(spec: Spec, value: str, fmt: LogFormat, content: NoteContent | None, style: str = "br") -> str:
    label = _label(spec, fmt, content)
    if spec.kind == "block":
        if fmt == HTML:
            return f"<div><b>{label}</b><br>{value}</div>"
        if fmt == MARKDOWN:
            return f"### {label}\n{value}\n\n{_md_end(spec)}"
        return f"- {label}:\n{value}\n{spec.end}"
    if fmt == HTML:
        return f"<li><b>{label}</b>: {value}</li>" if style == "li" else f"<b>{label}</b>: {value}<br>"
    if fmt == MARKDOWN:
        return f"- **{label}**: {value}"
    return f"- {label}: {value}"


def _join(sections: list[tuple[Spec, str]], fmt: LogFormat, *, lead: bool | Literal["note"]) -> str:
    """Sections written one after another, as :func:`compose` lays them out."""
    if fmt == HTML:
        return "".join(text for _, text in sections)
    out: list[str] = []
    for index, (spec, text) in enumerate(sections):
        if index or lead:
            # A blank line before each block, except right after a plain-text note, whose end
            # is the next section's line.
            blank = spec.kind == "block" and not (index == 0 and lead == "note" and fmt == PLAIN)
            out.append("\n\n" if blank else "\n")
        out.append(text)
    return "".join(out)


# --- compose -----------------------------------------------------------------------------------


def compose(
    content: NoteContent,
    settings: NoteSettings,
    fmt: LogFormat,
    *,
    limit: FieldLimits | None = None,
    report: ApplyReport | None = None,
) -> str:
    """A new note: the agent's note first, then each enabled section that has a value.

    Values not known yet but expected (``*_pending``) are written as placeholders that
    :func:`apply` later replaces. Control characters (C0 except tab, LF and CR) are left out.

    Args:
        content: what to write.
        settings: which sections, and how dates look.
        fmt: the adapter's log format.
        limit: the CRM's field limit; the transcript, then the AI note, are shortened to fit.
        report: when given, told what was shortened and which control characters were removed.

    Returns:
        The body, ending with a newline in text/plain and text/markdown.
    """
    report = ApplyReport() if report is None else report
    stripped = report.stripped_controls
    note = _clean(content.note, "note", stripped) if content.note is not None and settings.note else ""
    values = section_values(content, settings, fmt, stripped)
    parts: list[tuple[Spec, str]] = [
        (spec, _section(spec, values[spec.key][0], fmt, content)) for spec in SPECS if spec.key in values
    ]
    if fmt == HTML:
        head = _note_section(note_value(note, fmt), fmt) + "<br>" if note else ""
        body = head + _join(parts, fmt, lead=False)
    else:
        head = _note_section(note_value(note, fmt), fmt) if note else ""
        body = head + _join(parts, fmt, lead="note" if head else False)
        body = body + "\n" if body else body
    return _fit(body, fmt, limit, report)


# --- apply -------------------------------------------------------------------------------------


def _comparable(region: str, fmt: LogFormat) -> str:
    if fmt != HTML:
        return region.strip()
    href = _HREF.search(region)
    if href is not None:
        return html.unescape(href.group(1) if href.group(1) is not None else href.group(2)).strip()
    return html.unescape(_TAG.sub("", _H_BR.sub("\n", region))).strip()


def is_placeholder(value: str) -> bool:
    """Whether ``value`` (decoded text) is a placeholder a final value may replace."""
    value = value.strip()
    return len(value) <= 300 and _PLACEHOLDER.fullmatch(value) is not None


def _line_break(fmt: LogFormat) -> str:
    return "<br>" if fmt == HTML else "\n"


def _shortened_prefix(region: str, fmt: LogFormat) -> str | None:
    marker = _MARKER.search(region, max(0, len(region) - 64))
    if marker is None:
        return None
    head = region[: marker.start()]
    brk = _line_break(fmt)
    return head[: -len(brk)] if head.endswith(brk) else head


def apply(
    body: str,
    change: NoteContent,
    settings: NoteSettings,
    fmt: LogFormat,
    *,
    limit: FieldLimits | None = None,
    overwrite: Collection[str] = (),
    written: str | None = None,
) -> tuple[str, ApplyReport]:
    """Substitutes ``change`` into an existing ``body``.

    Per section that ``change`` carries: a placeholder is replaced by the value; a section not
    in the body is inserted after the nearest section that precedes it in the canonical order;
    a value that differs from what the app would write (the agent edited it in the CRM) is left
    alone and reported, unless its key is in ``overwrite`` (what the agent changed in the app's
    own editor). The agent note in ``change`` always replaces the body's agent note. Text that
    is not one of the app's sections is never changed, and applying the same change twice gives
    the same body.

    Args:
        body: the body as the CRM holds it now.
        change: what became known; ``None`` fields are not part of the change.
        settings: which sections the user wants.
        fmt: the adapter's log format.
        limit: the CRM's field limit.
        overwrite: section keys the caller may overwrite even when they were edited.
        written: the body as the app last wrote it, when the caller kept it. With it, a section
            the app wrote that is gone from ``body`` was removed by the agent (left out, not
            appended again), and a value still exactly as the app wrote it may be updated.

    Returns:
        The new body and a report of what was replaced, appended, left alone and why. Control
        characters (C0 except tab, LF and CR) in ``body`` or in the change are left out of the new
        body and counted in ``stripped_controls``. A body that is exactly ``written`` is not
        searched for them: the app's own output holds none, and the search is the dearest part
        of a later update on a long body.
    """
    report = ApplyReport()
    as_written = written is not None and body == written
    if not as_written:
        body = _clean(body, "body", report.stripped_controls)
    if _crlf(body):
        lf_body = body.replace("\r\n", "\n")
        lf_written = lf_body if as_written else None if written is None else written.replace("\r\n", "\n")
        new_body = _apply(lf_body, change, settings, fmt, overwrite, lf_written, report, as_written)
        return _fit(new_body.replace("\n", "\r\n"), fmt, limit, report), report
    new_body = _apply(body, change, settings, fmt, overwrite, written, report, as_written)
    return _fit(new_body, fmt, limit, report), report


def _apply(
    body: str,
    change: NoteContent,
    settings: NoteSettings,
    fmt: LogFormat,
    overwrite: Collection[str],
    written: str | None,
    report: ApplyReport,
    as_written: bool,
) -> str:
    """:func:`apply` on a body without control characters, before the field limit."""
    found = parse(body, fmt)
    known: dict[str, Found] | None = found if as_written else None if written is not None else {}

    def written_sections() -> dict[str, Found]:
        """The sections of ``written``, parsed the first time a decision needs them."""
        nonlocal known
        if known is None:
            known = parse(written or "", fmt)
        return known

    edits: list[tuple[int, int, int, str]] = []
    tail: list[tuple[Spec, str]] = []

    if change.note is not None:
        if not settings.note:
            report.skipped.append(Skipped(section="note", reason="turned off in the note settings"))
        else:
            value = note_value(_clean(change.note, "note", report.stripped_controls), fmt)
            note = found.get("note")
            if note is None:
                edits.append((0, 0, -1, _prepend_note(body, value, fmt)))
                report.appended.append("note")
            elif _lf(body[note.vstart : note.vend]) == value:
                report.unchanged.append("note")
            else:
                text = " " + value if note.needs_space and value else value
                edits.append((note.vstart, note.vend, 0, text))
                report.replaced.append("note")

    values = section_values(change, settings, fmt, report.stripped_controls)
    for key in _carried(change):
        if not getattr(settings, TOGGLES[key]):
            report.skipped.append(Skipped(section=key, reason="turned off in the note settings"))
    for spec in SPECS:
        if spec.key not in values:
            continue
        value, placeholder = values[spec.key]
        existing = found.get(spec.key)
        if existing is None:
            if written is not None and spec.key in written_sections():
                report.skipped.append(Skipped(section=spec.key, reason="removed in the CRM"))
                continue
            _insert(spec, value, body, found, fmt, change, edits, tail)
            report.appended.append(spec.key)
            continue
        region = _lf(body[existing.vstart : existing.vend])
        if region == value or (spec.kind == "block" and _shortened_prefix(region, fmt) is not None
                               and value.startswith(_shortened_prefix(region, fmt) or "\0")):
            report.unchanged.append(spec.key)
            continue
        decoded = _comparable(region, fmt) if len(region) <= 4096 else None
        replace = spec.key in overwrite or bool(decoded and is_placeholder(decoded))
        if not replace and written is not None and not (
            placeholder and decoded is not None and not is_placeholder(decoded)
        ):
            # Still exactly as the app wrote it: the app's to update.
            prior = written_sections().get(spec.key)
            replace = prior is not None and _lf(written[prior.vstart : prior.vend]) == region
        if replace:
            if spec.kind == "block":
                edits.append((existing.start, existing.end, 0, _section(spec, value, fmt, change)))
            else:
                edits.append((existing.vstart, existing.vend, 0, " " + value if existing.needs_space else value))
            report.replaced.append(spec.key)
        elif decoded is not None and decoded == _comparable(value, fmt):
            report.unchanged.append(spec.key)
        elif decoded == "":
            report.skipped.append(Skipped(section=spec.key, reason="removed in the CRM"))
        elif placeholder:
            report.skipped.append(Skipped(section=spec.key, reason="already has a final value"))
        else:
            report.skipped.append(Skipped(section=spec.key, reason="edited in the CRM"))

    if tail:
        text = _join(tail, fmt, lead=False)
        if fmt != HTML:
            brk = "\r\n" if body.endswith("\r\n") else "\n"
            if body:
                lead = "" if body.endswith("\n") else brk
                text = lead + (brk if tail[0][0].kind == "block" else "") + text
            text += brk
        edits.append((len(body), len(body), len(SPECS), text))

    return _splice(body, edits)


def _prepend_note(body: str, value: str, fmt: LogFormat) -> str:
    if fmt == HTML:
        if body.startswith("<b>Call details</b>"):
            return f"<b>Agent notes</b><br>{value}<br><br>"
        return _note_section(value, fmt) + "<br>"
    if fmt == MARKDOWN:
        if body.startswith("## Call details"):
            return f"## Agent notes\n{value}\n\n"
        return _note_section(value, fmt) + "\n"
    return f"- Note: {value}\n"


def _insert(
    spec: Spec,
    value: str,
    body: str,
    found: dict[str, Found],
    fmt: LogFormat,
    content: NoteContent,
    edits: list[tuple[int, int, int, str]],
    tail: list[tuple[Spec, str]],
) -> None:
    rank = ORDER[spec.key]
    before = [f for f in found.values() if ORDER[f.spec.key] < rank]
    after = [f for f in found.values() if ORDER[f.spec.key] > rank]
    if before:
        anchor = max(before, key=lambda f: ORDER[f.spec.key])
        pos = anchor.end
        if fmt == HTML:
            style = "li" if anchor.style == "li" and spec.kind != "block" else "br"
            if anchor.spec.key == "note":
                br = _H_BR.match(body, pos)
                pos = br.end() if br else pos
            elif anchor.style == "li" and spec.kind == "block" and body[pos : pos + 5].lower() == "</ul>":
                pos += 5
            edits.append((pos, pos, rank, _section(spec, value, fmt, content, style)))
        else:
            blank = spec.kind == "block" and not (fmt == PLAIN and anchor.spec.key == "note")
            brk = _break_at(body, pos)
            edits.append((pos, pos, rank, (brk + brk if blank else brk) + _section(spec, value, fmt, content)))
        return
    if after:
        anchor = min(after, key=lambda f: ORDER[f.spec.key])
        if fmt == HTML:
            style = "li" if anchor.style == "li" and spec.kind != "block" else "br"
            edits.append((anchor.start, anchor.start, rank, _section(spec, value, fmt, content, style)))
        else:
            brk = "\r\n" if body[max(0, anchor.start - 2) : anchor.start] == "\r\n" else "\n"
            sep = brk + brk if anchor.spec.kind == "block" else brk
            edits.append((anchor.start, anchor.start, rank, _section(spec, value, fmt, content) + sep))
        return
    tail.append((spec, _section(spec, value, fmt, content)))


def _lf(text: str) -> str:
    """``text`` with CRLF line breaks read as LF (a value the CRM stored with CRLF is the same value)."""
    return text.replace("\r\n", "\n") if "\r" in text else text


def _break_at(body: str, pos: int) -> str:
    """The line break at ``pos`` (``\\r\\n`` or ``\\n``): new text next to a line takes its break."""
    return "\r\n" if body.startswith("\r\n", pos) else "\n"


def _crlf(body: str) -> bool:
    """Whether every line break in ``body`` is CRLF (a CRM stored it that way): such bodies are
    handled with LF and given back with CRLF, which round-trips exactly."""
    # "\r" alone is a memchr; most bodies have none and cost nothing more.
    return "\r" in body and "\r\n" in body and body.count("\n") == body.count("\r\n")


def _splice(body: str, edits: list[tuple[int, int, int, str]]) -> str:
    """``body`` with each (start, end, rank, text) edit applied; edits never overlap."""
    if not edits:
        return body
    edits.sort(key=lambda e: (e[0], e[1], e[2]))
    pieces: list[str] = []
    pos = 0
    for start, end, _, text in edits:
        pieces.append(body[pos:start])
        pieces.append(text)
        pos = max(pos, end)
    if pos * 2 > len(body):
        pieces.append(body[pos:])
        return "".join(pieces)
    # Edits usually sit in a short head before a long transcript: replacing that head (found at
    # once, at 0) copies the tail a single time, where slicing it off and joining copies it twice.
    return body.replace(body[:pos], "".join(pieces), 1) if pos else "".join(pieces) + body


# --- the agent note ----------------------------------------------------------------------------


def extract_agent_note(body: str, fmt: LogFormat) -> str:
    """The agent's note as they typed it, or ``""`` when the body has none."""
    if _crlf(body):
        body = body.replace("\r\n", "\n")
    note = parse(body, fmt).get("note")
    if note is None:
        return ""
    value = _lf(body[note.vstart : note.vend])
    if fmt == HTML:
        value = _TAG.sub("", _H_BR.sub("\n", value))
        return html.unescape(value)
    if fmt == MARKDOWN:
        return _unescape_lines(_M_NOTE_UNESC, value)
    return _unescape_lines(_P_NOTE_UNESC, value)


def replace_agent_note(body: str, note: str, fmt: LogFormat) -> str:
    """``body`` with its agent note replaced by ``note`` (added first when it has none).

    Control characters (C0 except tab, LF and CR) are left out of the result.
    """
    body, note = render.strip_controls(body)[0], render.strip_controls(note)[0]
    if _crlf(body):
        return replace_agent_note(body.replace("\r\n", "\n"), note, fmt).replace("\n", "\r\n")
    value = note_value(note, fmt)
    found = parse(body, fmt).get("note")
    if found is None:
        return _prepend_note(body, value, fmt) + body
    text = " " + value if found.needs_space and value else value
    return body[: found.vstart] + text + body[found.vend :]


# --- field limits ------------------------------------------------------------------------------


def _size(value: str, unit: str) -> int:
    return len(value.encode("utf-8")) if unit == "bytes" else len(value)


def _prefix_within(value: str, budget: int, unit: str) -> str:
    if budget <= 0:
        return ""
    if unit == "bytes":
        return value.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return value[:budget]


def _safe_cut(keep: str, fmt: LogFormat) -> str:
    """``keep`` cut back to a line end, else to outside any tag or entity."""
    brk = _line_break(fmt)
    at = keep.rfind(brk)
    if at > 0:
        return keep[:at]
    if fmt == HTML:
        lt = keep.rfind("<")
        if lt > keep.rfind(">"):
            keep = keep[:lt]
        amp = keep.rfind("&")
        if amp > keep.rfind(";"):
            keep = keep[:amp]
    return keep


def _shorten(region: str, over: int, unit: str, fmt: LogFormat) -> tuple[str, int]:
    brk = _line_break(fmt)
    previously = 0
    marker = _MARKER.search(region, max(0, len(region) - 64))
    if marker is not None:
        previously = int(marker.group(1))
        region = region[: marker.start()]
        if region.endswith(brk):
            region = region[: -len(brk)]
    room = _size(region, unit) - over - len(brk) - len("[… 0000000000 more characters not shown]") * (
        3 if unit == "bytes" else 1
    )
    keep = _safe_cut(_prefix_within(region, room, unit), fmt)
    removed = len(region) - len(keep) + previously
    text = f"[… {removed} more characters not shown]"
    return (keep + brk + text if keep else text), removed


def _fit(body: str, fmt: LogFormat, limit: FieldLimits | None, report: ApplyReport) -> str:
    if limit is None or limit.body is None:
        return body
    size = _size(body, limit.body_unit)
    for key in ("transcript", "ai_note"):
        if size <= limit.body:
            return body
        section = parse(body, fmt).get(key)
        if section is None or section.vend <= section.vstart:
            continue
        region = body[section.vstart : section.vend]
        new_region, removed = _shorten(region, size - limit.body, limit.body_unit, fmt)
        body = body[: section.vstart] + new_region + body[section.vend :]
        size = _size(body, limit.body_unit)
        report.shortened.append(Shortened(section=key, removed_chars=removed))
    report.over_limit = size > limit.body
    return body
