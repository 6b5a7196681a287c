# SPDX-License-Identifier: MIT
"""Faults: requests answered the way a bad day answers them, injected or drawn at random.

:meth:`Faults.inject` queues faults for the next matching requests (by path substring):

- ``server-error``: 500 ``CMN-201``; ``unavailable``: 503 ``CMN-203``;
- ``timeout``: no answer (the transport raises ``httpx.ReadTimeout``; the socket server holds the
  connection for ``account.hang_seconds`` then drops it);
- ``truncated``: the connection is cut mid-body (fewer bytes than ``Content-Length``);
- ``not-json``: an HTML error page with status 200; ``cut-json``: a JSON body cut short;
- ``other-limit``: 429 ``CMN-310`` with no ``X-Rate-Limit-*`` headers;
- ``token-invalid``: 401 as if the token were revoked;
- ``no-permission``: 403 ``InsufficientPermissions`` / ``CMN-401`` (no ``ReadCallLog``).

A scenario's ``server_error_share`` also answers that share of requests outside
``/restapi/oauth`` with a 500 or 503. Faults apply only to rate-limited routes (not the control
API), after the rate limit has counted the request.

Threading contract: not locked on its own; the account calls it with its lock held.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from adapters.ringcentral.sandbox.limits import other_limit
from adapters.ringcentral.sandbox.scenario import Scenario
from adapters.ringcentral.sandbox.wire import (
    SandboxRequest,
    SandboxResponse,
    api_error,
    insufficient_permissions,
    token_invalid,
)

#: Every kind :meth:`Faults.inject` accepts.
FAULT_KINDS = frozenset(
    {
        "server-error",
        "unavailable",
        "timeout",
        "truncated",
        "not-json",
        "cut-json",
        "other-limit",
        "token-invalid",
        "no-permission",
    }
)


@dataclass
class _Fault:
    kind: str
    path_contains: str | None
    remaining: int


class Faults:
    """Injected faults waiting for their requests, and the scenario's random server errors.

    Args:
        scenario: the share of random 500/503 answers.
        rng: the account's fault generator (shared with :class:`~.limits.RateLimits`).
    """

    def __init__(self, scenario: Scenario, rng: random.Random) -> None:
        self._scenario = scenario
        self._rng = rng
        self._pending: list[_Fault] = []

    def inject(self, kind: str, *, path_contains: str | None = None, times: int = 1) -> None:
        """Makes the next ``times`` requests whose path contains ``path_contains`` fail with ``kind``.

        Raises:
            ValueError: unknown kind.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}")
        self._pending.append(_Fault(kind, path_contains, times))

    def take(self, req: SandboxRequest) -> SandboxResponse | None:
        """The faulty answer for ``req``, or ``None`` to answer it normally."""
        kind: str | None = None
        for fault in self._pending:
            if fault.remaining > 0 and (fault.path_contains is None or fault.path_contains in req.path):
                fault.remaining -= 1
                kind = fault.kind
                break
        self._pending = [f for f in self._pending if f.remaining > 0]
        share = self._scenario.server_error_share
        if kind is None and share and not req.path.startswith("/restapi/oauth") and self._rng.random() < share:
            kind = self._rng.choice(["server-error", "unavailable"])
        if kind is None:
            return None
        if kind == "server-error":
            return api_error(500, "CMN-201", "Service Temporary Unavailable")
        if kind == "unavailable":
            return api_error(503, "CMN-203", "Internal Server Error")
        if kind == "timeout":
            return SandboxResponse(504, fault="timeout")
        if kind == "truncated":
            return SandboxResponse(200, {"Content-Type": "application/json"}, b'{"records":[{"id":"', fault="truncated")
        if kind == "not-json":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return SandboxResponse(200, {"Content-Type": "text/html"}, page)
        if kind == "cut-json":
            return SandboxResponse(200, {"Content-Type": "application/json"}, b'{"uri":"x","records":[{"id":"abc","sta')
        if kind == "other-limit":
            return other_limit()
        if kind == "no-permission":
            return insufficient_permissions("ReadCallLog")
        return token_invalid("OAU-213", "Token not found")
