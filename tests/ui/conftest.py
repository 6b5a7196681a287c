# SPDX-License-Identifier: MIT
"""The app built from injected parts: the sandbox on a manual clock, the Local CRM in a temp dir,
the memory secret store, and a synchronous ``submit`` so GUI flow tests are deterministic."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, preset
from desktop.settings import AppSettings


@pytest.fixture
def account() -> SandboxAccount:
    """A simulated RingCentral account with no history and the demo's compressed delays."""
    scenario = preset("happy", demo=True)
    from dataclasses import replace

    scenario = replace(scenario, history=0, recorded_share=1.0, delays=replace(scenario.delays, call_interval=None))
    return SandboxAccount(clock=ManualClock(), scenario=scenario, seed=7)


@pytest.fixture
def app_context(tmp_path: Path, account: SandboxAccount, secret_store) -> Iterator[object]:  # type: ignore[no-untyped-def]
    from desktop.app import sandbox_context

    ctx = sandbox_context(tmp_path / "sandbox", secret_store, AppSettings(), account=account)
    yield ctx
    ctx.close()


@pytest.fixture
def main(qtbot, app_context):  # type: ignore[no-untyped-def]
    """The main window's controller over the sandbox, started (first page loaded, one poll run)."""
    from desktop.app import build_main_window
    from desktop.workers import run_now

    opened: list[str] = []
    controller = build_main_window(app_context, submit=run_now, open_url=opened.append, start=False)
    controller.opened_urls = opened
    qtbot.addWidget(controller.window)
    controller.window.show()
    controller.start()
    yield controller
    controller.poller.stop()
