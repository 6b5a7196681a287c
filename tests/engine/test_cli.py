# SPDX-License-Identifier: MIT
"""``logdesk outbox``: lists queued and failed CRM writes, and puts a failed one back in the queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.cli import main
from desktop.engine.models import Draft, LogStatus
from tests.engine.test_lifecycle import _RejectingCrm
from tests.engine.world import World


def test_outbox_lists_a_failed_write_with_the_crm_message_and_retry_requeues_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call()
    rc = world.rc()
    engine = world.engine(rc, adapter=_RejectingCrm(world.crm))
    engine.sync()
    call_id = engine.calls()[0].call_id
    engine.log_call(call_id, Draft(contact_id=c.id, contact_name=c.name, note="kept"))
    engine.run_outbox()
    db = str(tmp_path / "engine.sqlite3")

    assert main(["outbox", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "0 queued, 1 failed" in out
    assert "Subject may not contain '#'" in out
    item_id = engine.store.items(state="failed")[0].id

    assert main(["outbox", "--db", db, "retry", str(item_id)]) == 0
    assert engine.store.items(state="queued")[0].id == item_id
    assert engine.calls()[0].status is LogStatus.LOGGING
    engine.adapter.inner = world.crm
    engine.run_outbox()
    assert len(world.crm.call_logs()) == 1
    assert main(["outbox", "--db", db, "retry", str(item_id)]) == 1


def test_outbox_without_a_database_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outbox", "--db", str(tmp_path / "missing.sqlite3")]) == 1
    assert "No engine database" in capsys.readouterr().err


def _failed_write(folder: Path) -> tuple[str, int]:
    """An engine database in ``folder`` with one write the CRM refused; its path and the item."""
    folder.mkdir(parents=True, exist_ok=True)
    world = World(folder)
    c = world.contact("Ada", "+14155550123")
    world.add_call()
    engine = world.engine(world.rc(), adapter=_RejectingCrm(world.crm))
    engine.sync()
    engine.log_call(engine.calls()[0].call_id, Draft(contact_id=c.id, contact_name=c.name, note="kept"))
    engine.run_outbox()
    item = engine.store.items(state="failed")[0].id
    engine.close()
    world.crm.close()
    return str(folder / "engine.sqlite3"), item


def test_outbox_help_says_it_lists_and_list_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db, item = _failed_write(tmp_path)
    # The help says what the command does with no action, and offers "list"
    with pytest.raises(SystemExit) as shown:
        main(["outbox", "--help"])
    assert shown.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "Without an ACTION, lists the queued and failed CRM writes" in help_text
    assert "list " in help_text and "retry " in help_text
    # And both spellings list the failed write with the CRM's words
    assert main(["outbox", "list", "--db", db]) == 0
    listed = capsys.readouterr().out
    assert main(["outbox", "--db", db]) == 0
    assert capsys.readouterr().out == listed
    assert "0 queued, 1 failed" in listed and f"#{item}" in listed and "Subject may not contain '#'" in listed


@pytest.mark.parametrize(
    "argv",
    [["--sandbox", "outbox"], ["outbox", "--sandbox"], ["outbox", "list", "--sandbox"]],
    ids=["before the subcommand", "after it", "after the action"],
)
def test_outbox_sandbox_reads_the_sandboxs_engine_database(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop import paths

    # Given only the sandbox has run, and a write of its failed
    _, item = _failed_write(paths.data_dir() / "sandbox")
    # When the agent asks with --sandbox anywhere
    assert main(argv) == 0
    # Then the sandbox's outbox is listed
    out = capsys.readouterr().out
    assert "0 queued, 1 failed" in out and f"#{item}" in out


def test_outbox_retry_takes_the_database_after_the_action(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from desktop import paths

    _, item = _failed_write(paths.data_dir() / "sandbox")
    assert main(["outbox", "retry", str(item), "--sandbox"]) == 0
    assert f"Item {item} is queued again." in capsys.readouterr().out


def test_outbox_without_the_apps_database_points_at_the_sandboxs(capsys: pytest.CaptureFixture[str]) -> None:
    from desktop import paths

    _failed_write(paths.data_dir() / "sandbox")
    assert main(["outbox"]) == 1
    err = capsys.readouterr().err
    assert f"No engine database at {paths.data_dir() / 'engine.sqlite3'}." in err and "--sandbox" in err
