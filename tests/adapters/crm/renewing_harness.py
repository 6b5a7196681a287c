# SPDX-License-Identifier: MIT
"""What the contract harnesses of the Zoho and Clio adapters share: the fake's clock, failures
that survive the adapter's one token renewal, and closing."""

from __future__ import annotations

from typing import Any

import httpx

from adapters.testing import ContractHarness
from adapters.testing.harness import FailureKind


class RenewingHarness(ContractHarness):
    """A harness over a fake with its own ``now`` (a ``datetime``) and ``inject_failure``.

    ``inject_failure(401)`` makes the fake refuse the token twice in a row: these adapters renew a
    refused token once by design, so a single 401 is the renewable case, tested on its own.

    Subclasses set ``fake``, ``adapter`` and ``client`` in ``__init__``.
    """

    fake: Any
    adapter: Any
    client: httpx.Client

    def clock(self) -> float:
        return float(self.fake.now.timestamp())

    def inject_failure(self, kind: FailureKind, *, retry_after: float | None = None, body: Any = None) -> None:
        self.fake.inject_failure(kind, retry_after=retry_after, body=body)
        if kind == 401:
            self.fake.inject_failure(kind, retry_after=retry_after, body=body)

    def close(self) -> None:
        self.adapter.close()
        self.client.close()
