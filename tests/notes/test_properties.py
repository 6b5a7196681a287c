# SPDX-License-Identifier: MIT
"""Property tests: the agent's words survive, apply is idempotent, HTML carries only our tags."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.notes import AiNote, NoteContent, NoteSettings, Utterance, apply, compose, extract_agent_note
from adapters.notes.engine import parse

FORMATS = st.sampled_from(["text/plain", "text/html", "text/markdown"])
SETTINGS = NoteSettings(session_id=True, contact_number=True, rc_user=True, rc_number=True)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# C0 control characters other than tab, LF and CR: never written, the rest of the text kept.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def visible(text: str) -> str:
    return CONTROL.sub("", text)


# Anything a person can type (control characters too), lines that look like labels and markers included.
TRICKY = st.sampled_from(["- Summary: x", "- Pricing: $5", "Duration: ask later", "## Call details",
                          "\\## Call details",
                          "--- END", "<b>Call details</b>", "- AI Note:", "### Transcript", "**Duration**: 1",
                          "\\- Duration: 2", "$1 $& \\1 \\g<0>", "<script>x</script>", "&amp;", "<br>", "- Note: n"])
NOTE_TEXT = st.lists(st.one_of(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r")),
                               TRICKY), max_size=6).map("\n".join)
# What an agent types into the CRM body between the app's sections: a line of prose.
AGENT_LINE = st.text(st.characters(whitelist_categories=("L", "N", "Zs"), whitelist_characters=".,!?$()'\""),
                     max_size=30).map(lambda s: "Agent " + s.strip())

UTTERANCES = st.lists(
    st.builds(Utterance, speaker=st.one_of(st.none(), st.sampled_from(["Jane", "p-x-1", "<b>Bob</b>"])),
              start=st.floats(0, 10_000), text=st.text(min_size=1, max_size=40)),
    max_size=8,
)
CHANGES = st.sampled_from([
    NoteContent(duration=275),
    NoteContent(duration=280, duration_pending=True),
    NoteContent(recording_link="https://example.com/rec/1"),
    NoteContent(voicemail_link="https://example.com/vm/1"),
    NoteContent(ai_note=AiNote(summary="Recap", next_steps=["Call back"])),
    NoteContent(transcript=[Utterance(speaker="Jane", start=1, text="Hi"), Utterance(speaker="Dana", start=2,
                                                                                      text="Hello")]),
    NoteContent(result="Accepted", subject="Inbound call"),
    NoteContent(journey=["Received call at IVR", "Transferred to Bob"]),
    NoteContent(session_id="S1", contact_number="+1 415", rc_user_name="Dana", rc_number="+1650 ext 101"),
])
PENDING = NoteContent(note="First note", subject="Inbound call", duration=270, duration_pending=True,
                      result="Accepted", recording_pending=True, ai_note_pending=True, transcript_pending=True)


@PROPERTY
@given(note=NOTE_TEXT, fmt=FORMATS)
def test_compose_then_extract_returns_the_agent_note(note: str, fmt: str) -> None:
    body = compose(PENDING.model_copy(update={"note": note}), SETTINGS, fmt)  # type: ignore[arg-type]
    assert extract_agent_note(body, fmt) == visible(note)  # type: ignore[arg-type]
    assert CONTROL.search(body) is None


def _with_agent_lines(body: str, fmt: str, lines: list[str]) -> tuple[str, list[str]]:
    """``body`` with agent text inserted before the note and after app sections (not the note)."""
    found = parse(body, fmt)  # type: ignore[arg-type]
    ends = sorted(f.end for key, f in found.items() if key != "note")
    newline = "" if fmt == "text/html" else "\n"
    points = [0] + [end + (1 if newline and end < len(body) else 0) for end in ends]
    chunks: list[str] = []
    out, last = [], 0
    for point, line in zip(points, lines, strict=False):
        chunk = line + ("<br>" if fmt == "text/html" else "\n")
        if newline and point == len(body) and not body.endswith("\n"):
            chunk = "\n" + chunk
        out += [body[last:point], chunk]
        chunks.append(chunk)
        last = point
    out.append(body[last:])
    return "".join(out), chunks


def _in_order(body: str, chunks: list[str]) -> bool:
    pos = 0
    for chunk in chunks:
        at = body.find(chunk, pos)
        if at < 0:
            return False
        pos = at + len(chunk)
    return True


@PROPERTY
@given(fmt=FORMATS, agent_lines=st.lists(AGENT_LINE, min_size=1, max_size=6), changes=st.lists(CHANGES, max_size=5),
       notes=st.lists(st.one_of(st.none(), NOTE_TEXT), min_size=5, max_size=5))
def test_agent_edits_outside_the_app_sections_survive_every_update(
    fmt: str, agent_lines: list[str], changes: list[NoteContent], notes: list[str | None]
) -> None:
    body, chunks = _with_agent_lines(compose(PENDING, SETTINGS, fmt), fmt, agent_lines)  # type: ignore[arg-type]
    for change, note in zip(changes, notes, strict=False):
        change = change.model_copy(update={"note": note})
        body, _ = apply(body, change, SETTINGS, fmt)  # type: ignore[arg-type]
        assert _in_order(body, chunks), body
        again, report = apply(body, change, SETTINGS, fmt)  # type: ignore[arg-type]
        assert again == body
        assert not report.changed
        if note is not None:
            assert extract_agent_note(body, fmt) == visible(note)  # type: ignore[arg-type]


@PROPERTY
@given(fmt=FORMATS, first=CHANGES, second=CHANGES, note=NOTE_TEXT)
def test_apply_is_idempotent_on_app_connect_like_and_empty_bodies(
    fmt: str, first: NoteContent, second: NoteContent, note: str
) -> None:
    for start in ("", "typed first", compose(NoteContent(note=note), SETTINGS, fmt)):  # type: ignore[arg-type]
        body, _ = apply(start, first, SETTINGS, fmt)  # type: ignore[arg-type]
        body, _ = apply(body, second, SETTINGS, fmt)  # type: ignore[arg-type]
        assert apply(body, second, SETTINGS, fmt)[0] == body  # type: ignore[arg-type]
        assert apply(body, first, SETTINGS, fmt)[0] == body  # type: ignore[arg-type]
        assert body.count("\n\n\n") == start.count("\n\n\n")


TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9]*)([^>]*)>")
ANCHOR = re.compile(r' href="https?://[^"<>]*" target="_blank" rel="noopener noreferrer"')
ANY = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
LINKS = st.one_of(ANY, st.builds(lambda s: "https://e.com/" + s, ANY), st.just('https://e.com/"onmouseover="x'))


@PROPERTY
@given(note=ANY, subject=ANY, result=ANY, contact=ANY, recording=LINKS, voicemail=LINKS, summary=ANY,
       steps=st.lists(ANY, max_size=3), score=ANY, text=ANY, utterances=UTTERANCES, journey=st.lists(ANY, max_size=3))
def test_html_of_random_input_has_no_tag_the_engine_did_not_write(
    note: str, subject: str, result: str, contact: str, recording: str, voicemail: str, summary: str,
    steps: list[str], score: str, text: str, utterances: list[Utterance], journey: list[str]
) -> None:
    content = NoteContent(note=note, subject=subject, result=result, contact_number=contact, session_id=subject,
                          rc_user_name=contact, rc_number=result, recording_link=recording, voicemail_link=voicemail,
                          ai_note=AiNote(summary=summary, next_steps=steps, score=score, text=text),
                          transcript=utterances, journey=journey)
    composed = compose(content, SETTINGS, "text/html")
    applied, _ = apply("<p>typed</p>", content, SETTINGS, "text/html")
    for body in (composed, applied.replace("<p>typed</p>", "", 1)):
        assert CONTROL.search(body) is None
        for match in TAG.finditer(body):
            closing, name, attributes = match.groups()
            assert name in {"b", "br", "div", "a"}, match.group(0)
            if name == "a" and not closing:
                assert ANCHOR.fullmatch(attributes), match.group(0)
            elif name != "a" or closing:
                assert attributes == "", match.group(0)


@PROPERTY
@given(fmt=FORMATS, note=NOTE_TEXT, limit=st.integers(200, 3000), unit=st.sampled_from(["chars", "bytes"]),
       utterances=st.lists(st.builds(Utterance, speaker=st.sampled_from(["Jane", "Dana"]), start=st.floats(0, 9000),
                                     text=st.text(min_size=1, max_size=80)), min_size=1, max_size=60))
def test_field_limit_is_met_or_reported_and_the_note_is_never_cut(
    fmt: str, note: str, limit: int, unit: str, utterances: list[Utterance]
) -> None:
    from adapters.base import FieldLimits

    limits = FieldLimits(body=limit, body_unit=unit)  # type: ignore[arg-type]
    content = PENDING.model_copy(update={"note": note, "transcript": utterances, "transcript_pending": False,
                                         "ai_note": AiNote(summary="Recap " * 30), "ai_note_pending": False})
    body, report = apply("", content, SETTINGS, fmt, limit=limits)  # type: ignore[arg-type]
    size = len(body.encode()) if unit == "bytes" else len(body)
    assert size <= limit or report.over_limit
    assert extract_agent_note(body, fmt) == visible(note)  # type: ignore[arg-type]
    if fmt == "text/html":
        assert all(m.group(2) in {"b", "br", "div", "a"} for m in TAG.finditer(body))
    again, _ = apply(body, content, SETTINGS, fmt, limit=limits)  # type: ignore[arg-type]
    assert again == body


@PROPERTY
@given(fmt=st.sampled_from(["text/plain", "text/markdown"]), agent_lines=st.lists(AGENT_LINE, min_size=1, max_size=4),
       change=CHANGES, crlf=st.lists(st.booleans(), min_size=1, max_size=40))
def test_line_breaks_of_a_body_with_both_crlf_and_lf_stay_as_they_were(
    fmt: str, agent_lines: list[str], change: NoteContent, crlf: list[bool]
) -> None:
    lf_body, chunks = _with_agent_lines(compose(PENDING, SETTINGS, fmt), fmt, agent_lines)  # type: ignore[arg-type]
    typed = {chunk.strip("\n") for chunk in chunks}
    lines = lf_body.split("\n")
    breaks = ["\r\n" if crlf[i % len(crlf)] else "\n" for i in range(len(lines) - 1)] + [""]
    body = "".join(line + brk for line, brk in zip(lines, breaks, strict=True))
    new, _ = apply(body, change, SETTINGS, fmt)  # type: ignore[arg-type]
    # The same body as for LF line breaks, every agent line with the line break it had, no lone CR.
    assert new.replace("\r\n", "\n") == apply(lf_body, change, SETTINGS, fmt)[0]  # type: ignore[arg-type]
    assert _in_order(new, [line + brk for line, brk in zip(lines, breaks, strict=True) if line in typed and brk])
    assert "\r" not in new.replace("\r\n", "")
    if change.ai_note is None and change.transcript is None:
        # Nothing is rewritten across lines: every CRLF is still there.
        assert new.count("\r\n") >= body.count("\r\n")
    assert apply(new, change, SETTINGS, fmt)[0] == new  # type: ignore[arg-type]
