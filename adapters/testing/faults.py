# SPDX-License-Identifier: MIT
"""One-shot failures for fake CRM servers built on ``httpx.MockTransport``.

A fake server's request handler asks :meth:`FaultInjector.take` first, passing the function that
answers the request normally; when a failure is queued it gets the response to send instead (or
the timeout is raised), otherwise ``None`` and the handler answers normally. This is how a
:class:`~adapters.testing.ContractHarness` implements ``inject_failure``.

A ``"wrong_shape"`` failure is the fake's own answer made into valid JSON of the wrong shape
(:func:`wrong_shape`): what a vendor sends when its API drifts from its documentation. It applies
to the next successful answer that has a JSON body (a ``204 No Content`` passes unchanged). An adapter
must report it as :class:`~adapters.base.MalformedResponse`, never let a ``pydantic``,
``KeyError`` or ``TypeError`` escape.

Threading: a lock guards the queue, so a handler serving worker threads can share one injector.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, cast

import httpx

from adapters.testing.harness import FailureKind

#: Builds the vendor's error envelope for a status (the fake server's own error format).
ErrorEnvelope = Callable[[int], Any]

#: A 2xx body that claims to be JSON and is not (a truncated document, as proxies produce).
MALFORMED_BODY = '{"data": [{"id": "1", "subject": '


#: Reshapes a decoded JSON answer (``"wrong_shape"``): returns the JSON to send instead.
Reshape = Callable[[Any], Any]

#: The fake's normal answer to a request (its handler without the fault check).
Answer = Callable[[httpx.Request], httpx.Response]


def swap_types(raw: Any) -> Any:
    """The same JSON with every value of the wrong type: text becomes a number, a number becomes
    text (``194`` → ``"194"``), ``true``/``false`` become ``"yes"``/``"no"``; keys, lists, nesting
    and ``null`` stay. Ids, names, subjects and notes all arrive as numbers, so no adapter can read
    the answer as its API documents it."""
    if isinstance(raw, dict):
        return {key: swap_types(value) for key, value in raw.items()}
    if isinstance(raw, list):
        return [swap_types(item) for item in raw]
    if isinstance(raw, bool):
        return "yes" if raw else "no"
    if isinstance(raw, int | float):
        return str(raw)
    if isinstance(raw, str):
        return len(raw) + 1
    return raw


def wrong_shape(response: httpx.Response, reshape: Reshape | None = None) -> httpx.Response:
    """``response`` with its JSON body reshaped by ``reshape`` (by default :func:`swap_types`);
    status and headers stay. A response without a JSON body is returned as it is."""
    response.read()
    try:
        raw_body = json.loads(response.content)
    except ValueError:
        return response
    headers = {k: v for k, v in response.headers.items() if k.lower() not in ("content-length", "content-encoding")}
    reshaped = (reshape or swap_types)(raw_body)
    return httpx.Response(response.status_code, content=json.dumps(reshaped).encode(), headers=headers)


def has_json_body(response: httpx.Response) -> bool:
    """Whether ``response`` is a success with a JSON body (one that :func:`wrong_shape` can reshape)."""
    response.read()
    if not response.is_success or not response.content:
        return False
    try:
        json.loads(response.content)
    except ValueError:
        return False
    return True


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
        if isinstance(kind, bool) or not (kind in ("timeout", "malformed", "wrong_shape") or isinstance(kind, int)):
            raise ValueError(f"unknown failure kind {kind!r}")
        with self._lock:
            self._queue.append((kind, retry_after, body))

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def take(self, request: httpx.Request, answer: Answer | None = None) -> httpx.Response | None:
        """The failure for this request, if one is queued.

        Args:
            request: the request the fake is answering.
            answer: the fake's normal answer to a request; a ``"wrong_shape"`` failure reshapes it.

        Raises:
            httpx.ReadTimeout: when the queued failure is a timeout.
            TypeError: a ``"wrong_shape"`` failure is queued and ``answer`` was not given.
        """
        with self._lock:
            if not self._queue:
                return None
            kind, retry_after, body = self._queue.popleft()
        if kind == "wrong_shape":
            if answer is None:
                raise TypeError("a wrong_shape failure needs the fake's answer: call faults.take(request, answer)")
            response = answer(request)
            if not has_json_body(response):  # nothing to reshape (a 204, an error): the next answer then
                with self._lock:
                    self._queue.appendleft((kind, retry_after, body))
                return response
            return wrong_shape(response, cast("Reshape | None", body))
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
