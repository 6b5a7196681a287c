# SPDX-License-Identifier: MIT
"""The guide's "test as a user" steps for a third-party adapter, run headless.

The template adapter is installed as a plug-in (a distribution with a ``logdesk.adapters`` entry
point on ``sys.path``), its fake is served on loopback, and the sandbox's developer option
(``LOGDESK_SANDBOX_CRM``) makes the simulated RingCentral account log into it. Then the seed's
steps: log a call to a known contact, check the CRM and the local database; a person edits the
log in the CRM; edit it in Logdesk (subject and note load); update and check the CRM; finally
the poller completes the note without losing the person's edit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, preset
from adapters.ringcentral.sandbox.data import Person
from adapters.template.acme import AcmeAdapter
from adapters.template.acme_fake import TEST_TOKEN, FakeAcmeServer
from desktop.app import SANDBOX_CRM_ENV, sandbox_context
from desktop.engine.models import Draft
from desktop.settings import AppSettings


@pytest.fixture
def acme_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The template adapter installed as the third-party adapter ``acme``."""
    site = tmp_path / "site"
    info = site / "logdesk_acme-0.1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: logdesk-acme\nVersion: 0.1.0\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(
        "[logdesk.adapters]\nacme = adapters.template.acme:AcmeAdapter\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(site))
    yield


def _account() -> SandboxAccount:
    scenario = preset("happy", demo=True)
    scenario = replace(scenario, history=0, recorded_share=1.0, delays=replace(scenario.delays, call_interval=None))
    return SandboxAccount(clock=ManualClock(), scenario=scenario, seed=7)


def test_log_edit_update_and_complete_a_call_in_a_third_party_crm(
    acme_plugin: None, tmp_path: Path, secret_store: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeAcmeServer()
    fake.seed_demo()
    secret_store.set("acme:api_token", TEST_TOKEN)  # type: ignore[attr-defined]
    settings = AppSettings()
    account = _account()
    with fake.serve() as url:
        settings.crm.settings["acme"] = {"api_base_url": url}
        monkeypatch.setenv(SANDBOX_CRM_ENV, "acme")
        ctx = sandbox_context(tmp_path, secret_store, settings, account=account)  # type: ignore[arg-type]
        try:
            engine = ctx.engine
            assert isinstance(ctx.adapter, AcmeAdapter)
            # 1. A call from a known contact (Ben Okafor is one of the sandbox's demo people)
            account.place_call(
                "inbound", recorded=True, duration=95, remote=Person(name=None, phone_number="+12125550147")
            )
            account.advance(30)
            engine.sync()
            [row] = engine.calls()
            # 2. "+": the contact is matched, the agent writes a note, picks an outcome and saves
            [ben] = engine.match_contacts(row.call_id)
            assert ben.name == "Ben Okafor"
            draft = Draft(
                contact_id=ben.id,
                contact_name=ben.name,
                subject="Inbound call from Ben Okafor",
                note="Wants the renewal quote by Friday.",
                dispositions={"outcome": "connected", "deal": ben.options["deal"][0].id},
            )
            engine.log_call(row.call_id, draft)
            engine.run_outbox()
            # 3. Check the CRM and the local database
            [(log_id, activity)] = fake.activities.items()
            assert activity["contact_id"] == ben.id and activity["outcome"] == "connected"
            assert "Wants the renewal quote by Friday." in activity["note"]
            link = engine.store.link_for_call(row.call_id)
            assert link is not None and (link.adapter_id, link.log_id) == ("acme", log_id)
            # A person adds a line in Acme's own screen
            fake.person_edits(log_id, note=lambda body: body + "\nTyped in Acme\n")
            # 4. Edit: the subject and the note load from the CRM
            session = engine.open_for_edit(row.call_id)
            assert session.subject == "Inbound call from Ben Okafor"
            assert session.note == "Wants the renewal quote by Friday."
            # 5. Update, and check the CRM
            assert engine.save_edit(session, "Renewal quote", "Quote sent on Tuesday.", session.dispositions)
            activity = dict(fake.activities[log_id])
            assert activity["subject"] == "Renewal quote"
            assert "Quote sent on Tuesday." in activity["note"] and "Typed in Acme" in activity["note"]
            # 6. The recording and the final details arrive: the poller completes the note
            for _ in range(6):
                account.advance(30)
                engine.tick()
            final = fake.activities[log_id]["note"]
            assert final != activity["note"], "the poller added nothing"
            assert "Quote sent on Tuesday." in final and "Typed in Acme" in final
            assert "(pending)" not in final and "being processed" not in final
        finally:
            ctx.close()
