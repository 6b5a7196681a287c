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


def place(account, kind: str, phone: str | None, *, ended_ago: float = 0.0, duration: int | None = None):  # type: ignore[no-untyped-def]
    """A sandbox call with a known other party (``phone=None``: a random demo caller)."""
    from adapters.ringcentral.sandbox.data import Person

    remote = Person(name=None, phone_number=phone) if phone else None
    return account.place_call(kind, ended_ago=ended_ago, duration=duration, remote=remote)


@pytest.fixture
def busy_day(qtbot, main, account, app_context):  # type: ignore[no-untyped-def]
    """A morning of calls: some logged (one complete, one waiting for its recording), some not."""
    from desktop.engine.models import Draft

    people = ["+14155550132", "+13125550198", "+12065550121", "+13035550164", "+19175550171", "+12125550147"]
    kinds = ["inbound", "inbound", "missed", "outbound", "inbound", "inbound"]
    for n, (phone, kind) in enumerate(zip(people, kinds, strict=True)):
        if n:
            account.advance(570)  # calls ten minutes apart
        place(account, kind, phone, duration=None if kind == "missed" else 60 + 47 * n)
        account.advance(30)
        main.poller.poll_now()
    rows = {r.remote_number: r for r in app_context.engine.calls()}
    engine = app_context.engine
    for phone, note in (("+14155550132", "Confirmed the pallet pickup for Thursday."),
                        ("+12125550147", "Wants the renewal quote revised for 40 seats.")):
        row = rows[phone]
        contact = engine.match_contacts(row.call_id)[0]
        subject = f"{row.direction} call {'from' if row.direction == 'Inbound' else 'to'} {contact.name}"
        main.ports.log(row.call_id, Draft(contact_id=contact.id, contact_name=contact.name, subject=subject,
                                          note=note, dispositions={"disposition": "connected"}), None)
    main.poller.poll_now()
    return rows


def free_loopback_port() -> int:
    """A loopback port nothing listens on now: a sign-in's redirect receiver of its own, so two test
    runs on one machine never meet on a vendor's documented port."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
