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
    _app_crm().close()
    assert main(["local-crm", "export", str(tmp_path / "missing" / "dir" / "x.csv")]) == 1
    assert "cannot write" in capsys.readouterr().err


def test_contacts_of_an_empty_local_crm_name_the_file_and_say_it_is_empty(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the app's own Local CRM exists with no contacts, and the sandbox's has some
    _app_crm().close()
    assert main(["local-crm", "add-contact", "Ada", "415.555.0123", "--sandbox"]) == 0
    capsys.readouterr()
    # When the agent lists the contacts without --sandbox
    code = main(["local-crm", "contacts"])
    out, err = capsys.readouterr()
    # Then they are told which file was read, that it holds no contacts, and where the sandbox's are
    app_file = paths.data_dir() / "local-crm.sqlite3"
    assert code == 0 and err == ""
    assert f"No contacts in the Local CRM at {app_file}." in out
    assert "--sandbox" in out and str(paths.data_dir() / "sandbox" / "local-crm.sqlite3") in out


def test_a_listing_names_the_file_it_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["local-crm", "add-contact", "Ada", "415.555.0123", "--sandbox"]) == 0
    capsys.readouterr()
    assert main(["local-crm", "contacts", "--sandbox"]) == 0
    first, *rows = capsys.readouterr().out.splitlines()
    assert first == f"1 contact in the Local CRM at {paths.data_dir() / 'sandbox' / 'local-crm.sqlite3'}:"
    assert len(rows) == 1 and "Ada" in rows[0]


def test_reading_a_local_crm_that_does_not_exist_says_so_and_creates_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    for action in (["contacts"], ["export", str(tmp_path / "out.csv")]):
        assert main(["local-crm", *action, "--db", str(missing)]) == 1
        assert f"There is no Local CRM at {missing}" in capsys.readouterr().err
    assert not missing.exists() and not (tmp_path / "out.csv").exists()
    # While adding a contact starts one there
    assert main(["local-crm", "add-contact", "Ada", "415.555.0123", "--db", str(missing)]) == 0
    assert missing.exists()


@pytest.mark.parametrize(
    "argv",
    [
        ["--sandbox", "local-crm", "contacts"],
        ["local-crm", "--sandbox", "contacts"],
        ["local-crm", "contacts", "--sandbox"],
    ],
    ids=["before the subcommand", "between", "after the action"],
)
def test_sandbox_works_the_same_before_or_after_the_subcommand(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the sandbox's Local CRM has a contact and the app's has none
    assert main(["local-crm", "add-contact", "Ada", "415.555.0123", "--sandbox"]) == 0
    _app_crm().close()
    capsys.readouterr()
    # When the agent puts --sandbox anywhere
    assert main(argv) == 0
    # Then the sandbox's contacts are listed
    out = capsys.readouterr().out
    assert "Ada" in out and str(paths.data_dir() / "sandbox" / "local-crm.sqlite3") in out


def test_sandbox_and_db_together_are_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["--sandbox", "local-crm", "contacts", "--db", str(tmp_path / "x.sqlite3")]) == 2
    assert "--sandbox or --db" in capsys.readouterr().err
    assert not (tmp_path / "x.sqlite3").exists()
