# SPDX-License-Identifier: MIT
"""One-shot failures for fake CRM servers built on ``httpx.MockTransport``.

A fake server's request handler asks :meth:`FaultInjector.take` first; when a failure is queued
it gets the response to send instead (or the timeout is raised), otherwise ``None`` and the
handler answers normally. This is how a :class:`~adapters.testing.ContractHarness` implements
``inject_failure``.

Threading: a lock guards the queue, so a handler serving worker threads can share one injector.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

import httpx

from adapters.testing.harness import FailureKind

#: Builds the vendor's error envelope for a status (the fake server's own error format).
ErrorEnvelope = Callable[[int], Any]

#: A 2xx body that claims to be JSON and is not (a truncated document, as proxies produce).
MALFORMED_BODY = '{"data": [{"id": "1", "subject": '


def _generic_envelope(status: int) -> dict[str, Any]:
    return {"message": f"Injected failure {status}", "status": status}


class FaultInjector:
    """A queue of failures; each queued failure is used by exactly one request.

    Args:
        envelope: makes the vendor's error body for a status.
    """

    def __init__(self, envelope: ErrorEnvelope = _generic_envelope) -> None:
        self._envelope = envelope
        self._queue: deque[tuple[FailureKind, float | None, Any]] = deque()
        self._lock = threading.Lock()

    def inject(self, kind: FailureKind, *, retry_after: float | None = None, body: Any = None) -> None:
        """Queues a failure for the next request (see ``ContractHarness.inject_failure``)."""
        if isinstance(kind, bool) or not (kind in ("timeout", "malformed") or isinstance(kind, int)):
            raise ValueError(f"unknown failure kind {kind!r}")
        with self._lock:
            self._queue.append((kind, retry_after, body))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def take(self, request: httpx.Request) -> httpx.Response | None:
        """The failure for this request, if one is queued.

        Raises:
            httpx.ReadTimeout: when the queued failure is a timeout.
        """
        with self._lock:
            if not self._queue:
                return None
            kind, retry_after, body = self._queue.popleft()
        if kind == "timeout":
            raise httpx.ReadTimeout("injected timeout", request=request)
        if kind == "malformed":
            if body is None:
                return httpx.Response(200, text=MALFORMED_BODY, headers={"Content-Type": "application/json"})
            return _response(200, body, None)
        assert isinstance(kind, int)
        return _response(kind, self._envelope(kind) if body is None else body, retry_after)


def _response(status: int, body: Any, retry_after: float | None) -> httpx.Response:
    headers: dict[str, str] = {}
    if retry_after is not None:
        headers["Retry-After"] = str(int(retry_after)) if float(retry_after).is_integer() else str(retry_after)
    if isinstance(body, str | bytes):
        return httpx.Response(status, content=body if isinstance(body, bytes) else body.encode(), headers=headers)
    headers["Content-Type"] = "application/json"
    return httpx.Response(status, content=json.dumps(body).encode(), headers=headers)
