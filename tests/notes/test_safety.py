# SPDX-License-Identifier: MIT
"""HTML escaping, links, replacement templates, field limits, linear-time patterns."""

from __future__ import annotations

import re
import time

import pytest

from adapters.base import FieldLimits
from adapters.notes import AiNote, NoteContent, NoteSettings, Utterance, apply, compose, extract_agent_note

S = NoteSettings(session_id=True, contact_number=True, rc_user=True, rc_number=True)
EVIL = '<script>alert(1)</script><img src=x onerror="alert(2)"> \' " & $1 $& \\1 \\g<0>'
TAG = re.compile(r"<(/?)([a-zA-Z]+)([^>]*)>")
ENGINE_TAGS = {"b", "br", "div", "a"}


def _evil_content() -> NoteContent:
    return NoteContent(
        note=EVIL, subject=EVIL, contact_number=EVIL, result=EVIL, session_id=EVIL, rc_user_name=EVIL,
        rc_number=EVIL, recording_link="javascript:alert(1)", voicemail_link='https://e.com/"><script>x</script>',
        ai_note=AiNote(summary=EVIL, next_steps=[EVIL], score=EVIL, text=EVIL),
        transcript=[Utterance(speaker=EVIL, start=1, text=EVIL)], journey=[EVIL],
    )


def test_html_escapes_every_outside_value() -> None:
    body = compose(_evil_content(), S, "text/html")
    assert "<script" not in body and "<img" not in body and "onerror=\"" not in body
    for match in TAG.finditer(body):
        assert match.group(2) in ENGINE_TAGS
        if match.group(2) == "a" and not match.group(1):
            assert match.group(3).startswith(' href="https://e.com/&quot;&gt;&lt;script&gt;x&lt;/script&gt;"')


def test_only_http_links_become_anchors() -> None:
    body = compose(NoteContent(recording_link="javascript:alert(1)", voicemail_link="data:text/html,x"), S,
                   "text/html")
    assert "<a" not in body
    assert "<b>Call recording link</b>: javascript:alert(1)<br>" in body


def test_replacement_templates_come_out_literally_in_every_format() -> None:
    for fmt in ("text/plain", "text/markdown", "text/html"):
        body = compose(NoteContent(note="old", duration_pending=True), S, fmt)  # type: ignore[arg-type]
        new, _ = apply(body, NoteContent(note="$1 $& \\1 \\g<0> $$", result="$1 $& \\1 $$"), S, fmt)  # type: ignore[arg-type]
        assert extract_agent_note(new, fmt) == "$1 $& \\1 \\g<0> $$"  # type: ignore[arg-type]
        assert "$1 $& \\1 $$" in new.replace("&amp;", "&")


def _long_transcript(n: int, word: str = "word") -> list[Utterance]:
    return [Utterance(speaker=f"S{i % 2}", start=i, text=f"{word} {i} & more") for i in range(n)]


@pytest.mark.parametrize("fmt", ["text/plain", "text/markdown", "text/html"])
@pytest.mark.parametrize("unit", ["chars", "bytes"])
def test_field_limit_shortens_the_transcript_with_a_visible_marker(fmt: str, unit: str) -> None:
    limit = FieldLimits(body=2000, body_unit=unit)  # type: ignore[arg-type]
    content = NoteContent(note="Keep me whole " * 20, ai_note=AiNote(summary="Short recap"),
                          transcript=_long_transcript(500, "héllo😀"))
    body = compose(content, NoteSettings(), fmt, limit=limit)  # type: ignore[arg-type]
    size = len(body.encode()) if unit == "bytes" else len(body)
    assert size <= 2000
    assert re.search(r"\[… \d+ more characters not shown\]", body)
    assert extract_agent_note(body, fmt) == "Keep me whole " * 20  # type: ignore[arg-type]
    assert "Short recap" in body
    if fmt == "text/html":
        assert re.search(r"&(?!amp;|lt;|gt;|quot;|#x27;)", body) is None
        assert body.count("<") == body.count(">")


def test_limit_shortens_the_ai_note_after_the_transcript() -> None:
    content = NoteContent(note="n", ai_note=AiNote(text="recap line\n" * 200), transcript=_long_transcript(200))
    body, report = apply("", content, NoteSettings(), "text/plain", limit=FieldLimits(body=600))
    assert len(body) <= 600
    assert [s.section for s in report.shortened] == ["transcript", "ai_note"]
    assert not report.over_limit


def test_agent_note_is_never_shortened_even_over_the_limit() -> None:
    note = "x" * 1000
    body, report = apply("", NoteContent(note=note, transcript="t " * 100), NoteSettings(), "text/plain",
                         limit=FieldLimits(body=500))
    assert extract_agent_note(body, "text/plain") == note
    assert report.over_limit


def test_shortened_transcript_is_stable_under_repeated_updates() -> None:
    limit = FieldLimits(body=1500)
    content = NoteContent(transcript=_long_transcript(300), duration=5)
    body, _ = apply(compose(NoteContent(transcript_pending=True), NoteSettings(), "text/html"), content,
                    NoteSettings(), "text/html", limit=limit)
    again, report = apply(body, content, NoteSettings(), "text/html", limit=limit)
    assert again == body
    assert "transcript" in report.unchanged


def test_reshortening_counts_all_removed_characters() -> None:
    content = NoteContent(note="n", transcript="line\n" * 400)
    body = compose(content, NoteSettings(), "text/plain", limit=FieldLimits(body=1000))
    first = int(re.search(r"\[… (\d+) more", body).group(1))  # type: ignore[union-attr]
    edited, _ = apply(body, NoteContent(note="n" * 200), NoteSettings(), "text/plain", limit=FieldLimits(body=1000))
    second = int(re.search(r"\[… (\d+) more", edited).group(1))  # type: ignore[union-attr]
    assert len(edited) <= 1000 and second > first


EVIL_UNITS = ["- ", "<b>", "\n#", "- Note: ", "**", "<div><b>AI Note</b><br>", "&", "- AI Note:\n", "### AI Note\n",
              "<b>Agent notes</b>", "## Agent notes\n", "<li><b>Result</b>: <a ", "- Duration: x\n",
              "<div><b>Transcript</b><br>" + "/" * 40, "- Transcript:\n" + "-" * 40 + "\n", "</di", "\n--- EN"]


@pytest.mark.parametrize("fmt", ["text/plain", "text/markdown", "text/html"])
@pytest.mark.parametrize("unit", EVIL_UNITS)
def test_adversarial_bodies_parse_in_linear_time(fmt: str, unit: str) -> None:
    evil = unit * (300_000 // len(unit))
    start = time.process_time()
    apply(evil, NoteContent(duration=5, note="n", ai_note=AiNote(text="a")), NoteSettings(), fmt)  # type: ignore[arg-type]
    extract_agent_note(evil, fmt)  # type: ignore[arg-type]
    # Not a speed target (see bench/): a quadratic scan of 300 kB takes minutes, a linear one
    # a fraction of a second even on a loaded machine.
    assert time.process_time() - start < 20
