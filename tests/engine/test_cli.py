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
