# SPDX-License-Identifier: MIT
"""A backlog of calls logged into the HubSpot, Pipedrive, Bullhorn, Insightly and Google Sheets
fakes: requests per call, 429s, pace.

Each call goes through the adapter alone: find the contact, create the log, then two batches of
read → substitute → write (a note written twice; the engine's own lifecycle, which holds the note
of these CRMs for one read and one write, is measured per CRM by ``python -m bench lifecycle``).
The fakes enforce the vendors' rate limits on a shared fake clock, so the simulated time shows how
fast the adapters' limiters let a backlog drain, and the 429 count shows whether they ever overrun
the vendor. Bullhorn (1,500 requests a minute), Insightly (10 a second) and Sheets (60 reads and
60 writes a minute per user) run on their harnesses from ``tests/adapters/crm``; every 429 the
fake answers is counted, including those the adapter waits out itself.

Run: ``.venv/bin/python -m bench crm_backlog``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx

from adapters.base import Connection, RateLimited
from adapters.crm.hubspot import API_BASE, HubSpotAdapter
from adapters.crm.pipedrive import PipedriveAdapter
from adapters.models import LogEntry, LogUpdate
from adapters.testing import calls
from bench import Result, at_most
from tests.fakes import hubspot as hubspot_fake
from tests.fakes import pipedrive as pipedrive_fake

CALLS = 100


def _numbers() -> list[str]:
    return [f"+1415555{1000 + i:04d}" for i in range(CALLS)]


def _drive(
    adapter: Any, fake: Any, numbers: list[str], wait: Callable[[float], None] | None = None
) -> tuple[int, int, int, float, float]:
    """(requests for logging, requests for finding, rate-limit refusals, simulated seconds, wall seconds).

    With ``wait``, a ``RateLimited`` is honoured as the engine honours it — ``retry_after`` passes on
    the fake's clock, then the same step again — instead of dropping the call.
    """
    rate_limited = 0
    log_requests = 0
    find_requests = 0
    sim_start, wall_start = fake.clock.time(), time.perf_counter()

    def step(fn: Callable[[], Any]) -> Any:
        nonlocal rate_limited
        for _ in range(20):
            try:
                return fn()
            except RateLimited as exc:
                rate_limited += 1
                if wait is None:
                    raise
                wait(exc.retry_after or 1.0)
        raise RuntimeError("still rate limited after 20 waits")

    for number in numbers:
        before = len(fake.requests)
        try:
            contact = step(partial(adapter.find_contact, number))[0]
        except RateLimited:
            continue
        find_requests += len(fake.requests) - before
        before = len(fake.requests)
        call = calls.inbound_call(number, duration=None)
        try:
            entry = LogEntry(subject="Inbound call", body="<p>(pending)</p>")
            ref = step(partial(adapter.create_call_log, call, contact, entry))
            for final in ("3 min 14 sec", "done"):
                stored = step(partial(adapter.get_call_log, ref))
                update = LogUpdate(body=stored.body.replace("(pending)", final), duration_seconds=194)
                step(partial(adapter.update_call_log, ref, update))
        except RateLimited:
            pass
        log_requests += len(fake.requests) - before
    return log_requests, find_requests, rate_limited, fake.clock.time() - sim_start, time.perf_counter() - wall_start


def _hubspot() -> list[Result]:
    fake = hubspot_fake.HubSpotFake()
    numbers = _numbers()
    for i, number in enumerate(numbers):
        fake.add_contact(f"Person{i}", "Test", phone=number)
    client = fake.client(API_BASE)
    adapter = HubSpotAdapter(Connection(secrets={"token": hubspot_fake.DEFAULT_TOKEN}), client=client,
                             clock=fake.clock.monotonic, sleep=fake.clock.sleep)
    try:
        adapter.verify()
        logged, found, limited, simulated, wall = _drive(adapter, fake, numbers)
    finally:
        client.close()
    return [
        at_most("hubspot: requests to log one call (create + 2 batches)", logged / CALLS, "requests", 5),
        Result("hubspot: requests to find one contact", found / CALLS, "requests"),
        at_most(f"hubspot: 429s while logging {CALLS} calls back to back", limited, "responses", 0),
        Result(f"hubspot: simulated time for {CALLS} calls", simulated, "s"),
        Result("hubspot: adapter + fake CPU time per call", wall / CALLS * 1000, "ms"),
    ]


def _pipedrive() -> list[Result]:
    fake = pipedrive_fake.PipedriveFake()
    numbers = _numbers()
    for i, number in enumerate(numbers):
        pid = fake.add_person(f"Person{i} Test", [number])
        fake.add_deal(f"Deal {i}", pid)
    client = fake.client("https://acme.pipedrive.com")
    adapter = PipedriveAdapter(
        Connection(secrets={"api_token": pipedrive_fake.DEFAULT_TOKEN}, settings={"company_domain": "acme"}),
        client=client, clock=fake.clock.monotonic, sleep=fake.clock.sleep,
    )
    try:
        adapter.verify()
        logged, found, limited, simulated, wall = _drive(adapter, fake, numbers)
    finally:
        client.close()
    return [
        at_most("pipedrive: requests to log one call (create + 2 batches)", logged / CALLS, "requests", 5),
        Result("pipedrive: requests to find one contact (with deals and leads)", found / CALLS, "requests"),
        at_most(f"pipedrive: 429s while logging {CALLS} calls back to back", limited, "responses", 0),
        Result(f"pipedrive: simulated time for {CALLS} calls", simulated, "s"),
        Result("pipedrive: adapter + fake CPU time per call", wall / CALLS * 1000, "ms"),
    ]


def _count_429s(fake: Any) -> list[int]:
    """Wraps the fake's handler before a client is built on it; the list holds the 429 count."""
    handler: Callable[[httpx.Request], httpx.Response] = fake.handler
    seen = [0]

    def counting(request: httpx.Request) -> httpx.Response:
        response = handler(request)
        seen[0] += response.status_code == 429
        return response

    fake.handler = counting
    return seen


def _on_harness(
    name: str, label: str, harness: Any, clock: Callable[[], float], answered_429: list[int],
    *, log_target: int | None = 7,
) -> list[Result]:
    numbers = _numbers()
    for i, number in enumerate(numbers):
        harness.add_contact(f"Person{i} Test", number)

    class _Clocked:
        def __init__(self) -> None:
            self.requests = harness.fake.requests
            self.clock = self

        def time(self) -> float:
            return clock()

    try:
        harness.adapter.verify()
        # A wait for the adapter's own pacing passes on the fake's clock, as the engine waits it out.
        logged, found, limited, simulated, wall = _drive(harness.adapter, _Clocked(), numbers,
                                                         wait=harness.fake.advance)
    finally:
        harness.close()
    per_log = f"{name}: requests to log one call (create + 2 batches)"
    return [
        at_most(per_log, logged / CALLS, "requests", log_target) if log_target is not None
        else Result(per_log + ", direct adapter calls", logged / CALLS, "requests"),
        Result(f"{name}: requests to find one contact{label}", found / CALLS, "requests"),
        at_most(f"{name}: 429s answered while logging {CALLS} calls back to back", answered_429[0], "responses", 0),
        Result(f"{name}: waits for the adapter's own pacing", limited, "waits"),
        Result(f"{name}: simulated time for {CALLS} calls", simulated, "s"),
        Result(f"{name}: adapter + fake CPU time per call", wall / CALLS * 1000, "ms"),
    ]


def _bullhorn() -> list[Result]:
    from tests.adapters.crm.test_bullhorn import BullhornHarness
    from tests.fakes.bullhorn import BullhornFake

    fake = BullhornFake()
    seen = _count_429s(fake)
    harness = BullhornHarness(fake)
    return _on_harness("bullhorn", " (with open jobs)", harness, harness.clock, seen)


def _insightly() -> list[Result]:
    from tests.adapters.crm.test_insightly import InsightlyHarness
    from tests.fakes.insightly import InsightlyFake

    fake = InsightlyFake()
    seen = _count_429s(fake)
    harness = InsightlyHarness(fake)
    return _on_harness("insightly", " (contacts and leads, each notation)", harness, fake.clock, seen)


def _sheets() -> list[Result]:
    from tests.adapters.crm.test_sheets import SheetsHarness
    from tests.fakes.sheets import SheetsFake

    fake = SheetsFake()
    seen = _count_429s(fake)
    harness = SheetsHarness(fake)
    # Here each get and update finds the call's row again by its session id (a read each): the
    # engine's lifecycle batches them (``bench lifecycle``: 4 requests), so this row only informs.
    return _on_harness("sheets", " (the Contacts tab)", harness, harness.clock, seen, log_target=None)


def run() -> list[Result]:
    return _hubspot() + _pipedrive() + _bullhorn() + _insightly() + _sheets()
