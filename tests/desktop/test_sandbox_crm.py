# SPDX-License-Identifier: MIT
"""The developer option that points the sandbox at a connected CRM, here HubSpot's and
Pipedrive's fakes served on loopback."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from adapters.hubspot import HubSpotAdapter
from adapters.local import LocalCrm
from adapters.pipedrive import PipedriveAdapter
from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, preset
from desktop.app import SANDBOX_CRM_ENV, sandbox_context
from desktop.settings import AppSettings
from tests.fakes import hubspot as hubspot_fake
from tests.fakes import pipedrive as pipedrive_fake


def _account() -> SandboxAccount:
    scenario = preset("happy", demo=True)
    scenario = replace(scenario, history=0, delays=replace(scenario.delays, call_interval=None))
    return SandboxAccount(clock=ManualClock(), scenario=scenario, seed=7)


def test_sandbox_uses_the_local_crm_by_default(tmp_path: Path, secret_store: object,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SANDBOX_CRM_ENV, raising=False)
    ctx = sandbox_context(tmp_path, secret_store, AppSettings(), account=_account())  # type: ignore[arg-type]
    try:
        assert isinstance(ctx.adapter, LocalCrm)
    finally:
        ctx.close()


def test_sandbox_logs_into_hubspots_fake_when_asked(tmp_path: Path, secret_store: object,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    fake = hubspot_fake.HubSpotFake()
    fake.add_contact("Ana", "Diaz", phone="+14155550123")
    secret_store.set("hubspot:token", hubspot_fake.DEFAULT_TOKEN)  # type: ignore[attr-defined]
    settings = AppSettings()
    with fake.serve() as base_url:
        monkeypatch.setenv(SANDBOX_CRM_ENV, "hubspot")
        monkeypatch.setenv("LOGDESK_HUBSPOT_URL", base_url)
        ctx = sandbox_context(tmp_path, secret_store, settings, account=_account())  # type: ignore[arg-type]
        try:
            assert isinstance(ctx.adapter, HubSpotAdapter)
            assert ctx.adapter.verify() == "HubSpot portal 24681357"
            assert [c.name for c in ctx.adapter.find_contact("+14155550123")] == ["Ana Diaz"]
        finally:
            ctx.close()
    assert (tmp_path / "engine-hubspot.sqlite3").exists()


def test_sandbox_logs_into_pipedrives_fake_with_the_saved_connect_form(
    tmp_path: Path, secret_store: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = pipedrive_fake.PipedriveFake()
    secret_store.set("pipedrive:api_token", pipedrive_fake.DEFAULT_TOKEN)  # type: ignore[attr-defined]
    settings = AppSettings()
    settings.crm.settings["pipedrive"] = {"company_domain": "acme", "activity_type": "meeting"}
    with fake.serve() as base_url:
        monkeypatch.setenv(SANDBOX_CRM_ENV, "pipedrive")
        monkeypatch.setenv("LOGDESK_PIPEDRIVE_URL", base_url)
        ctx = sandbox_context(tmp_path, secret_store, settings, account=_account())  # type: ignore[arg-type]
        try:
            assert isinstance(ctx.adapter, PipedriveAdapter)
            assert ctx.adapter.verify().startswith("Avery Agent")
            assert ctx.adapter.activity_type() == "meeting"
        finally:
            ctx.close()
