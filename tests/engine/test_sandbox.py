# SPDX-License-Identifier: MIT
"""The engine against the real RingCentral client talking to the simulated account (in-process
transport) and the Local CRM: calls are auto-logged and completed end to end."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from adapters.crm.local import LocalCrm
from adapters.notes.models import NoteSettings
from adapters.ringcentral.sandbox import SandboxAccount, connect
from desktop.engine.models import CallFilter, LogStatus
from desktop.engine.ports import SecondsClock
from desktop.engine.scheduler import RateSpec
from desktop.engine.service import Engine
from desktop.engine.store import Store


@pytest.mark.parametrize("scenario", ["happy", "server-errors", "rate-limited", "no-ringsense", "malformed"])
def test_sandbox_calls_are_auto_logged_and_completed_through_the_real_client(tmp_path: Path, scenario: str) -> None:
    # Given the simulated account with its history, the real client and the demo CRM
    account = SandboxAccount(scenario=scenario, seed=4)
    client = connect(account)
    clock = SecondsClock(account.clock)
    crm = LocalCrm.open(tmp_path / "crm.sqlite3", clock=clock.now)
    crm.seed_demo()
    engine = Engine(Store(tmp_path / "engine.sqlite3"), crm, client, NoteSettings(),
                    extension_id=client.extension_id(), clock=clock, auto_log=True)
    for kind in ("inbound", "outbound", "inbound"):
        account.place_call(kind, recorded=True)

    # When the poller runs for a few simulated hours
    end = clock.now() + timedelta(hours=3)
    while clock.now() < end:
        due = engine.tick()
        step = (due - clock.now()).total_seconds() if due else 30.0
        account.advance(min(max(step, 0.5), 60.0))

    # Then every call with exactly one matching contact is logged once and complete
    rows = engine.calls(limit=100)
    assert len(rows) >= 3
    logged = [r for r in rows if r.crm_log_id]
    assert len(logged) >= 3, [r.unlogged_reason for r in rows]
    assert all(r.status is LogStatus.COMPLETE for r in logged), [(r.status, r.pending) for r in logged]
    sessions = [crm.raw_log(log.ref.log_id)["session_id"] for log in crm.call_logs()]
    assert len(sessions) == len(set(sessions)) == len(logged)
    for log in crm.call_logs():
        assert "(pending)" not in log.body and "being processed" not in log.body
    # Calls left unlogged say why
    for row in engine.calls(CallFilter.UNLOGGED, limit=100):
        assert row.unlogged_reason
    if scenario == "happy":
        assert engine.budgets.rc_heavy.rate_limited == 0 and engine.budgets.rc_light.rate_limited == 0
    if scenario == "rate-limited":
        # The account's tighter plan is learned from RingCentral's headers.
        assert engine.budgets.rc_heavy.spec == RateSpec(4, 60.0)
    client.close()
    crm.close()
    engine.close()
