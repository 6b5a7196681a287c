# SPDX-License-Identifier: MIT
"""A backlog of calls logged into the Zoho and Clio fakes: requests (Zoho credits) per call,
429s, and how long Clio's 50-requests-a-minute budget makes a backlog take.

Each call goes through the adapter alone: find the contact, create the log, then two batches of
read → substitute → write (with the version read, so Zoho re-reads before its PUT and Clio sends
If-Match); the engine's own lifecycle per CRM is measured by ``python -m bench lifecycle``. When
the adapter raises ``RateLimited`` the driver waits ``retry_after`` on the fake clock and repeats,
as the outbox does; a 429 *answered by the fake* means the adapter overran the vendor, which
should never happen.

Run: ``.venv/bin/python -m bench zoho_clio``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

from adapters import oauth
from adapters.base import Connection, RateLimited
from adapters.crm.clio import ClioAdapter
from adapters.crm.zoho import ZohoAdapter
from adapters.models import LogEntry, LogUpdate
from adapters.testing import calls
from bench import Result, at_most
from tests.fakes.clio import ClioFake
from tests.fakes.zoho import ZohoFake

CALLS = 60
T = TypeVar("T")


def _numbers() -> list[str]:
    return [f"+1415555{1000 + i:04d}" for i in range(CALLS)]


def _patiently(fn: Callable[[], T], advance: Callable[[float], None]) -> T:
    """Repeats ``fn`` after each ``RateLimited``, waiting its ``retry_after`` on the fake clock."""
    while True:
        try:
            return fn()
        except RateLimited as exc:
            advance(exc.retry_after or 1.0)


def _drive(adapter: Any, requests: Callable[[], int], advance: Callable[[float], None]) -> tuple[float, float]:
    """(API requests to find one contact, API requests to log one call), averaged."""
    found = logged = 0
    for number in _numbers():
        before = requests()
        contact = _patiently(lambda n=number: adapter.find_contact(n)[0], advance)  # type: ignore[misc]
        found += requests() - before
        before = requests()
        call = calls.inbound_call(number, duration=None)
        entry = LogEntry(subject="Inbound call", body="Note\n- Call duration: (pending)\n")
        ref = _patiently(lambda c=call, k=contact, e=entry: adapter.create_call_log(c, k, e), advance)  # type: ignore[misc]
        for final in ("3 min 14 sec", "3 min 14 sec (final)"):
            stored = _patiently(lambda r=ref: adapter.get_call_log(r), advance)  # type: ignore[misc]
            change = LogUpdate(body=stored.body.replace("(pending)", final), duration_seconds=194)
            _patiently(
                lambda r=ref, s=stored, c=change: adapter.update_call_log(r, c, expected_version=s.version),  # type: ignore[misc]
                advance,
            )
        logged += requests() - before
    return found / CALLS, logged / CALLS


def _zoho() -> list[Result]:
    fake = ZohoFake()
    for i, number in enumerate(_numbers()):
        cid = fake.add_contact(f"Person{i} Test", number)
        fake.add_deal(f"Deal {i}", cid)
    tokens = oauth.TokenSet.from_response(fake.issue_tokens(), now=fake.now.timestamp())
    client = httpx.Client(transport=httpx.MockTransport(fake.handler))
    adapter = ZohoAdapter(
        Connection(
            settings={"client_id": "1000.DESKTOPCLIENT", "accounts_url": fake.accounts_url}, secrets=tokens.to_secrets()
        ),
        client=client,
        clock=lambda: fake.now.timestamp(),
        sleep=fake.advance,
    )
    wall = time.perf_counter()
    try:
        adapter.verify()
        found, logged = _drive(adapter, lambda: len(fake.api_requests()), fake.advance)
    finally:
        client.close()
    wall = time.perf_counter() - wall
    return [
        at_most("zoho: credits to log one call (create + 2 batches)", logged, "requests", 7),
        Result("zoho: credits to find one contact (Contacts + Leads, deals)", found, "requests"),
        Result("zoho: calls a day on the Free edition's 5,000 credits", 5000 / (found + logged), "calls"),
        Result("zoho: adapter + fake CPU time per call", wall / CALLS * 1000, "ms"),
    ]


def _clio() -> list[Result]:
    fake = ClioFake(rate_limit=50)
    for i, number in enumerate(_numbers()):
        cid = fake.add_contact(f"Person{i} Test", f"({number[2:5]}) {number[5:8]}-{number[8:]}")
        fake.add_matter(cid, f"Matter {i}")
    tokens = oauth.TokenSet.from_response(fake.issue_tokens(), now=fake.now.timestamp())
    client = httpx.Client(transport=httpx.MockTransport(fake.handler))
    adapter = ClioAdapter(
        Connection(
            settings={"base_url": fake.base_url},
            secrets={"client_id": "clio-app-id", "client_secret": "clio-app-secret", **tokens.to_secrets()},
        ),
        client=client,
        clock=lambda: fake.now.timestamp(),
        sleep=fake.sleep,
    )
    start, wall = fake.now, time.perf_counter()
    try:
        adapter.verify()
        found, logged = _drive(adapter, lambda: len(fake.api_requests()), fake.advance)
    finally:
        client.close()
    wall = time.perf_counter() - wall
    minutes = (fake.now - start).total_seconds() / 60
    return [
        at_most("clio: requests to log one call (create + time entry + 2 batches)", logged, "requests", 12),
        Result("clio: requests to find one contact (formatted queries + matters)", found, "requests"),
        at_most(f"clio: 429s answered while logging {CALLS} calls back to back", fake.rate_refusals, "responses", 0),
        Result(f"clio: simulated minutes for {CALLS} calls at 50 requests/min", minutes, "min"),
        Result("clio: adapter + fake CPU time per call", wall / CALLS * 1000, "ms"),
    ]


def run() -> list[Result]:
    return _zoho() + _clio()
