# SPDX-License-Identifier: MIT
"""duration_text: words in the duration section when no duration will come (e.g. "Not available")."""

from __future__ import annotations

import pytest

from adapters.notes import NoteContent, NoteSettings, apply, compose
from tests.notes.conftest import FORMATS

S = NoteSettings()
GONE = "Not available (RingCentral did not provide the final duration)"


@pytest.mark.parametrize(
    ("fmt", "line"),
    [
        ("text/plain", f"- Duration: {GONE}\n"),
        ("text/markdown", f"- **Duration**: {GONE}\n"),
        ("text/html", f"<b>Duration</b>: {GONE}<br>"),
    ],
)
def test_duration_text_is_written_in_the_duration_section(fmt: str, line: str) -> None:
    assert compose(NoteContent(duration_text=GONE), S, fmt) == line  # type: ignore[arg-type]


def test_duration_text_is_escaped_like_any_value_in_html() -> None:
    body = compose(NoteContent(duration_text="<script>x</script> $1"), S, "text/html")
    assert body == "<b>Duration</b>: &lt;script&gt;x&lt;/script&gt; $1<br>"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (NoteContent(duration_pending=True, duration_text=GONE), "- Duration: (pending)\n"),
        (NoteContent(duration=90, duration_text=GONE), "- Duration: 1 minute, 30 seconds\n"),
        (NoteContent(duration_text=GONE), f"- Duration: {GONE}\n"),
    ],
)
def test_a_duration_or_a_pending_flag_takes_precedence_over_the_text(content: NoteContent, expected: str) -> None:
    assert compose(content, S, "text/plain") == expected


def test_turned_off_duration_section_leaves_the_text_out_and_says_so() -> None:
    body, report = apply("- Note: hi\n", NoteContent(duration_text=GONE), NoteSettings(duration=False), "text/plain")
    assert body == "- Note: hi\n"
    assert [s.section for s in report.skipped] == ["duration"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("pending", [NoteContent(duration_pending=True), NoteContent(duration=270,
                                                                                      duration_pending=True)])
def test_duration_text_replaces_the_pending_placeholder_and_applying_again_changes_nothing(
    fmt: str, pending: NoteContent
) -> None:
    base = pending.model_copy(update={"note": "Call back Friday", "result": "Accepted"})
    body = compose(base, S, fmt)  # type: ignore[arg-type]
    new, report = apply(body, NoteContent(duration_text=GONE), S, fmt)  # type: ignore[arg-type]
    assert report.replaced == ["duration"]
    assert "(pending)" not in new and GONE in new
    assert new == compose(base.model_copy(update={"duration": None, "duration_pending": False,
                                                  "duration_text": GONE}), S, fmt)  # type: ignore[arg-type]
    again, report2 = apply(new, NoteContent(duration_text=GONE), S, fmt)  # type: ignore[arg-type]
    assert again == new and report2.unchanged == ["duration"]


def test_a_placeholder_the_agent_replaced_is_kept() -> None:
    body = compose(NoteContent(duration_pending=True), S, "text/plain").replace("(pending)", "about 5 minutes")
    new, report = apply(body, NoteContent(duration_text=GONE), S, "text/plain")
    assert new == body
    assert [(s.section, s.reason) for s in report.skipped] == [("duration", "edited in the CRM")]


def test_a_late_duration_replaces_the_text_only_where_it_is_still_as_written() -> None:
    written = compose(NoteContent(note="n", duration_text=GONE), S, "text/plain")
    late = NoteContent(duration=194)
    new, report = apply(written, late, S, "text/plain", written=written)
    assert "- Duration: 3 minutes, 14 seconds\n" in new and GONE not in new
    assert report.replaced == ["duration"]
    edited = written.replace(GONE, GONE + ", the line dropped")
    kept, report = apply(edited, late, S, "text/plain", written=written)
    assert kept == edited
    assert [s.section for s in report.skipped] == ["duration"]
