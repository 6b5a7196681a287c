# SPDX-License-Identifier: MIT
"""``logdesk local-crm``: export, dispositions and contacts from the command line."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from adapters.crm.local import LocalCrm
from adapters.models import LogEntry
from adapters.testing.calls import inbound_call
from desktop import paths
from desktop.cli import main


def _app_crm() -> LocalCrm:
    return LocalCrm.open(paths.data_dir() / "local-crm.sqlite3")


def test_export_writes_the_apps_call_logs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    crm = _app_crm()
    contact = crm.add_contact("Ada Lovelace", "(415) 555-0123")
    crm.create_call_log(inbound_call("+14155550123"), contact, LogEntry(subject="Quote", body="Wants a quote"))
    crm.close()
    target = tmp_path / "logs.csv"
    assert main(["local-crm", "export", str(target)]) == 0
    assert "Wrote 1 call logs" in capsys.readouterr().out
    with target.open(encoding="utf-8", newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert (row["subject"], row["contact_name"], row["note"]) == ("Quote", "Ada Lovelace", "Wants a quote")


def test_dispositions_can_be_listed_and_replaced(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local-crm", "dispositions"]) == 0
    assert "Left voicemail" in capsys.readouterr().out
    assert main(["local-crm", "dispositions", "--set", "Sale made", "No sale"]) == 0
    assert capsys.readouterr().out.split() == ["sale_made", "Sale", "made", "no_sale", "No", "sale"]
    crm = _app_crm()
    try:
        assert [o.label for o in crm.dispositions()] == ["Sale made", "No sale"]
    finally:
        crm.close()


def test_contacts_are_added_and_listed_in_the_sandbox_database(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local-crm", "add-contact", "Sam Colleague", "--extension", "102", "--sandbox"]) == 0
    assert main(["local-crm", "add-contact", "Ada", "415.555.0123", "--company", "Engines", "--sandbox"]) == 0
    capsys.readouterr()
    assert main(["local-crm", "contacts", "--sandbox"]) == 0
    out = capsys.readouterr().out
    assert "Sam Colleague" in out and "internal" in out and "415.555.0123" in out
    assert not (paths.data_dir() / "local-crm.sqlite3").exists(), "the app's own database was not touched"
    crm = LocalCrm.open(paths.data_dir() / "sandbox" / "local-crm.sqlite3")
    try:
        assert [c.name for c in crm.find_contact("+14155550123")] == ["Ada"]
    finally:
        crm.close()


def test_a_refused_value_is_a_message_not_a_traceback(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = tmp_path / "crm.sqlite3"
    assert main(["local-crm", "add-contact", "Nobody", "--db", str(db)]) == 2
    assert "needs a phone number or an extension" in capsys.readouterr().err
    assert main(["local-crm", "dispositions", "--set", "Same", "same", "--db", str(db)]) == 2
    assert "listed twice" in capsys.readouterr().err


def test_an_unwritable_export_target_is_reported(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["local-crm", "export", str(tmp_path / "missing" / "dir" / "x.csv")]) == 1
    assert "cannot write" in capsys.readouterr().err
