# SPDX-License-Identifier: MIT
"""The end markers of Markdown blocks are invisible where Markdown is rendered (the note preview
renders with Qt's CommonMark reader, md4c)."""

from __future__ import annotations

from PySide6.QtGui import QTextDocument

from adapters.notes import AiNote, NoteContent, NoteSettings, Utterance, compose


def test_markdown_block_end_markers_do_not_show_when_rendered(qapp) -> None:  # type: ignore[no-untyped-def]
    content = NoteContent(note="Wants a quote", ai_note=AiNote(summary="Quote requested.", next_steps=["Send it"]),
                          transcript=[Utterance(speaker="Jane", start=1, text="Hi")], journey=["Received", "Moved"])
    body = compose(content, NoteSettings(), "text/markdown") + "Typed under the journey\n"
    document = QTextDocument()
    document.setMarkdown(body)
    shown = document.toPlainText()
    assert "[//]" not in shown and "end:" not in shown
    for line in ("Quote requested.", "Send it", "[00:00:01] Jane: Hi", "Typed under the journey"):
        assert line in shown.splitlines()
