# SPDX-License-Identifier: MIT
"""Bad days, one service at a time: RingCentral or the CRM answers garbage, 401, 429 with Retry-After,
or nothing at all (a timeout, a refused connection). The status says in plain words which service
and what to do, nothing the agent typed is lost, and the engine recovers by itself where a retry
makes sense. The RingCentral side is the sandbox's fault injection behind the real client; the CRM
side is the Acme adapter against its fake server and ``FaultInjector``."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from adapters.base import Connection
from adapters.crm.local import LocalCrm
from adapters.notes.models import NoteSettings
from adapters.ringcentral.sandbox import PLATFORM_BASE, ManualClock, SandboxAccount, connect, preset
from adapters.ringcentral.sandbox.data import Person
from adapters.template.acme import AcmeAdapter
from adapters.template.acme_fake import BASE_URL, TEST_TOKEN, FakeAcmeServer
from desktop.engine.models import Draft, LogStatus
from desktop.engine.ports import SecondsClock
from desktop.engine.service import Engine
from desktop.engine.store import Store

PHONE = "+12125550147"
TYPED = "Wants the renewal quote by Friday."


class RefusingTransport(httpx.BaseTransport):
    """Delegates to ``inner``, but refuses the next ``refuse`` connections as a closed port would."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.refuse = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.refuse > 0:
            self.refuse -= 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return self.inner.handle_request(request)


def assert_plain_words(message: str | None, service: str, *hints: str) -> None:
    """A sentence for a person: names the service, says what happens or what to do, no Python in it."""
    assert message, "the status shows no message"
    for python in ("Traceback", "Error(", "Exception", "<class", "httpx.", "json.decoder", "object at 0x"):
        assert python not in message, message
    assert service in message, message
    for hint in hints:
        assert hint in message, message


def _quiet_account() -> SandboxAccount:
    """The sandbox with no history and no calls of its own: only the calls a test places."""
    scenario = preset("happy", demo=True)
    scenario = replace(scenario, history=0, recorded_share=1.0, delays=replace(scenario.delays, call_interval=None))
    return SandboxAccount(clock=ManualClock(), scenario=scenario, seed=7)


def _advance(account: SandboxAccount, engine: Engine, clock: SecondsClock, minutes: float) -> None:
    """Runs the poller as the app would (jumping to the next thing due) for ``minutes`` of simulated time."""
    end = clock.now() + timedelta(minutes=minutes)
    while clock.now() < end:
        due = engine.tick()
        step = (due - clock.now()).total_seconds() if due else 30.0
        account.advance(min(max(step, 0.5), 60.0))


# --- the CRM ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "hints", "recovers_within"),
    [
        ("malformed", ("not JSON",), 5),
        (401, ("Reconnect Acme CRM in Settings",), 6),  # retried every 5 minutes: works once reconnected
        (429, ("slow down",), 1),
        ("timeout", ("did not answer", "retry"), 5),
        ("refused", ("retry",), 5),
    ],
)
def test_crm_bad_answer_is_explained_keeps_the_log_and_sends_it_later(
    tmp_path: Path, fault: int | str, hints: tuple[str, ...], recovers_within: float
) -> None:
    # Given a call that just ended, and a CRM that fails the first write
    account = _quiet_account()
    clock = SecondsClock(account.clock)
    server = FakeAcmeServer(token=TEST_TOKEN)
    transport = RefusingTransport(server.transport())
    crm = AcmeAdapter(Connection(settings={"api_base_url": BASE_URL}, secrets={"api_token": TEST_TOKEN}),
                      client=httpx.Client(transport=transport, timeout=5.0))
    contact_id = server.add_contact("Ben Okafor", PHONE)
    rc = connect(account)
    engine = Engine(Store(tmp_path / "engine.sqlite3"), crm, rc, NoteSettings(), extension_id=rc.extension_id(),
                    clock=clock, auto_log=False)
    account.place_call("inbound", recorded=True, remote=Person(name=None, phone_number=PHONE))
    account.advance(60)
    engine.sync()
    [row] = engine.calls(limit=5)
    if fault == "refused":
        transport.refuse = 1
    else:
        server.faults.inject(fault, retry_after=12 if fault == 429 else None)  # type: ignore[arg-type]

    # When the agent logs the call with a note
    engine.log_call(row.call_id, Draft(contact_id=contact_id, contact_name="Ben Okafor", note=TYPED))
    engine.run_outbox()

    # Then the status explains it in plain words, and the note waits in the outbox
    status = engine.status()
    assert_plain_words(status.last_error, "Acme CRM", *hints)
    assert status.queued == 1 and status.failed == 0
    assert status.needs_reconnect is (fault == 401)
    draft = engine.draft(row.call_id)
    assert draft is not None and draft.note == TYPED
    assert server.activities == {}
    if fault == 429:
        # Retry-After is honoured: nothing is sent for 12 s
        assert status.rate_limited_until["crm"] == clock.now() + timedelta(seconds=12)
        sent = len(server.requests)
        engine.tick()
        account.advance(11)
        engine.tick()
        assert len(server.requests) == sent

    # When time passes and the CRM answers again
    _advance(account, engine, clock, recovers_within)

    # Then the log is in the CRM with what the agent typed, and the status is clear again
    [activity] = server.activities.values()
    assert TYPED in activity["note"]
    assert engine.calls(limit=5)[0].status is not LogStatus.FAILED
    status = engine.status()
    assert status.queued == 0 and status.failed == 0 and not status.needs_reconnect and not status.offline
    assert status.last_error is None
    rc.close()


# --- RingCentral --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "hints", "offline"),
    [
        ("not-json", ("not JSON",), True),
        ("token-invalid", ("Reconnect RingCentral in Settings",), False),
        ("other-limit", ("Waiting for RingCentral's rate limit (5 s)",), False),
        ("timeout", ("did not answer", "retry"), True),
        ("refused", ("retry",), True),
    ],
)
def test_ringcentral_bad_answer_is_explained_keeps_drafts_and_syncs_again(
    tmp_path: Path, fault: str, hints: tuple[str, ...], offline: bool
) -> None:
    # Given an agent halfway through a note on a call, with the CRM fine
    account = _quiet_account()
    clock = SecondsClock(account.clock)
    transport = RefusingTransport(account.transport())
    rc = connect(account, http=httpx.Client(transport=transport, timeout=5.0), server_url=PLATFORM_BASE)
    crm = LocalCrm.open(tmp_path / "crm.sqlite3", clock=clock.now)
    engine = Engine(Store(tmp_path / "engine.sqlite3"), crm, rc, NoteSettings(), extension_id=rc.extension_id(),
                    clock=clock, auto_log=False)
    account.place_call("inbound", recorded=True, remote=Person(name=None, phone_number=PHONE))
    account.advance(60)
    engine.sync()
    [row] = engine.calls(limit=5)
    engine.save_draft(row.call_id, Draft(note=TYPED))
    before = engine.status().last_sync_at

    # When the next call-log sync gets a bad answer (every retry inside the client too)
    account.place_call("outbound", remote=Person(name=None, phone_number="+13125550198"))
    account.advance(60)
    if fault == "refused":
        transport.refuse = 6
    else:
        # The client refreshes the token and asks once more after a 401: both get it.
        account.inject(fault, path_contains="call-log", times=2 if fault == "token-invalid" else 6)
    engine.sync()

    # Then the status explains it in plain words, and the draft is untouched
    status = engine.status()
    assert_plain_words(status.last_error, "RingCentral", *hints)
    assert status.offline is offline
    assert status.offline_services == (("RingCentral",) if offline else ())
    assert status.last_sync_at == before
    draft = engine.draft(row.call_id)
    assert draft is not None and draft.note == TYPED
    if fault == "other-limit":
        assert status.rate_limited_until["rc-heavy"] == clock.now() + timedelta(seconds=5)

    # When RingCentral answers again and the poller runs
    _advance(account, engine, clock, 10)

    # Then the new call is there, the draft still is, and the status is clear
    assert len(engine.calls(limit=5)) == 2
    draft = engine.draft(row.call_id)
    assert draft is not None and draft.note == TYPED
    status = engine.status()
    assert status.last_error is None and not status.offline and status.last_sync_at != before
    rc.close()
