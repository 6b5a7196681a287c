# SPDX-License-Identifier: MIT
"""Shared machinery for the fake CRM servers: a fake clock, fault injection, a request log, and
two ways to serve one fake — as an ``httpx.MockTransport`` handler or on a loopback port.

A fake subclasses :class:`FakeApi` and implements :meth:`FakeApi.route` (the vendor's API) and
:meth:`FakeApi.error_response` (the vendor's error body for a status). Everything else —
injected 429/5xx/timeouts/malformed bodies/slow answers, the request log, serving — lives here.

Threading: the loopback server handles each request on its own thread; every fake guards its
state with ``self.lock`` (re-entrant), taken around the whole of :meth:`FakeApi.handle`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import httpx

from adapters.testing.faults import Answer, ErrorEnvelope, FaultInjector, has_json_body, wrong_shape

FaultKind = int | Literal["timeout", "malformed", "wrong_shape", "slow"]

#: Where every fake clock starts: a fixed instant, so timestamps in tests are reproducible.
EPOCH = datetime(2026, 9, 30, 14, 0, 0, tzinfo=UTC).timestamp()


class FakeClock:
    """Time for a fake and the adapter under test: advances only when told to (or slept on)."""

    def __init__(self, start: float = EPOCH) -> None:
        self._now = start
        self._lock = threading.Lock()

    def time(self) -> float:
        """Seconds since the Unix epoch."""
        with self._lock:
            return self._now

    def monotonic(self) -> float:
        return self.time()

    def sleep(self, seconds: float) -> None:
        """What an adapter's ``sleep`` does in tests: time passes at once."""
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += max(0.0, seconds)

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), UTC)


class RealClock(FakeClock):
    """Wall-clock time, for a fake served on a port to a running app."""

    def time(self) -> float:
        return datetime.now(UTC).timestamp()

    def advance(self, seconds: float) -> None:  # time passes by itself
        pass


@dataclass
class Fault:
    kind: FaultKind
    retry_after: float | None = None
    body: Any = None
    delay: float = 0.0
    path_prefix: str | None = None


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    json: Any


def iso(ts: float) -> str:
    """RFC 3339 UTC with milliseconds, the way HubSpot writes times."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers or {})


#: What a request body may hold, as the vendor's specification declares it: field name → ``None``
#: (any value) or the shape of the object(s) inside (applied to an object, or to each object of a list).
BodyShape = dict[str, "BodyShape | None"]


def undeclared_param(params: httpx.QueryParams, declared: frozenset[str] | set[str]) -> str | None:
    """The first query parameter of ``params`` the endpoint does not declare, if any."""
    return next((name for name in params if name not in declared), None)


def undeclared_field(value: Any, shape: BodyShape, *, at: str = "") -> str | None:
    """The dotted path of the first field of ``value`` that ``shape`` does not declare, if any.

    Values that are not objects (or lists of objects) are left to the fake's own validation.
    """
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, dict):
            continue
        for name, inner in item.items():
            path = f"{at}.{name}" if at else str(name)
            if name not in shape:
                return path
            sub = shape[name]
            if sub is not None:
                found = undeclared_field(inner, sub, at=path)
                if found is not None:
                    return found
    return None


class FakeApi:
    """Base class of a fake vendor API.

    Args:
        clock: the fake's time; share it with the adapter (``clock=fake.clock.monotonic,
            sleep=fake.clock.sleep``) so rate windows and timestamps move together.
    """

    #: Display name used in the runnable server's banner.
    name = "fake"

    def __init__(self, *, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.lock = threading.RLock()
        self.requests: list[LoggedRequest] = []
        self._faults: deque[Fault] = deque()
        self._stop_serving: threading.Event | None = None

    # --- what a subclass implements ---------------------------------------------------------

    def route(self, request: httpx.Request) -> httpx.Response:
        raise NotImplementedError

    def error_response(
        self, status: int, message: str | None = None, *, retry_after: float | None = None
    ) -> httpx.Response:
        raise NotImplementedError

    # --- fault injection --------------------------------------------------------------------

    def inject(
        self,
        kind: FaultKind,
        *,
        retry_after: float | None = None,
        body: Any = None,
        delay: float = 0.0,
        times: int = 1,
        path_prefix: str | None = None,
    ) -> None:
        """Make the next ``times`` requests (to ``path_prefix``, if given) fail with ``kind``.

        ``kind`` is an HTTP status (429 carries ``retry_after``), ``"timeout"`` (no answer),
        ``"malformed"`` (a 200 whose body is not the vendor's JSON, or ``body`` if given),
        ``"wrong_shape"`` (the fake's own answer as JSON of the wrong shape, reshaped by ``body``
        if given: see :func:`adapters.testing.faults.wrong_shape`) or ``"slow"`` (answers normally
        after ``delay`` seconds; a timeout if that exceeds the client's read timeout).
        """
        with self.lock:
            for _ in range(times):
                self._faults.append(Fault(kind, retry_after, body, delay, path_prefix))

    def _take_fault(self, path: str) -> Fault | None:
        for fault in list(self._faults):
            if fault.path_prefix is None or path.startswith(fault.path_prefix):
                self._faults.remove(fault)
                return fault
        return None

    # --- the entry point --------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request: the ``httpx.MockTransport`` handler.

        A ``"slow"`` fault on a fake with a :class:`FakeClock` moves that clock (and times out
        when the delay reaches the client's read timeout); on a :class:`RealClock` (a fake served
        to a running app) the answer really comes ``delay`` seconds late.
        """
        if isinstance(self.clock, RealClock):
            with self.lock:
                fault = self._faults[0] if self._faults and self._faults[0].kind == "slow" else None
            if fault is not None and (fault.path_prefix is None or request.url.path.startswith(fault.path_prefix)):
                with self.lock:
                    self._faults.remove(fault)
                threading.Event().wait(fault.delay)  # the server thread answers late, as a slow API would
                with self.lock:
                    return self.route(request)
        with self.lock:
            raw_json: Any = None
            if request.content:
                try:
                    raw_json = json.loads(request.content)
                except ValueError:
                    raw_json = None
            self.requests.append(
                LoggedRequest(request.method, request.url.path, dict(request.url.params), raw_json)
            )
            fault = self._take_fault(request.url.path)
            if fault is not None:
                if fault.kind == "timeout":
                    raise httpx.ReadTimeout("timed out", request=request)
                if fault.kind == "malformed":
                    if isinstance(fault.body, str):
                        return httpx.Response(200, text=fault.body, headers={"Content-Type": "application/json"})
                    if fault.body is not None:
                        return json_response(200, fault.body)
                    return httpx.Response(200, text="<html><body>Service temporarily unavailable</body></html>")
                if fault.kind == "wrong_shape":
                    answer = self.route(request)
                    if not has_json_body(answer):  # nothing to reshape: the next answer then
                        self._faults.appendleft(fault)
                        return answer
                    return wrong_shape(answer, fault.body)
                if fault.kind == "slow":
                    read_timeout = (request.extensions.get("timeout") or {}).get("read")
                    if read_timeout is not None and fault.delay >= read_timeout:
                        self.clock.advance(read_timeout)
                        raise httpx.ReadTimeout("timed out", request=request)
                    self.clock.advance(fault.delay)
                    return self.route(request)
                if isinstance(fault.kind, int):
                    if fault.body is not None:
                        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else {}
                        if isinstance(fault.body, str):
                            return httpx.Response(fault.kind, text=fault.body, headers=headers)
                        return json_response(fault.kind, fault.body, headers)
                    return self.error_response(fault.kind, retry_after=fault.retry_after)
            return self.route(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self, base_url: str = "https://fake.invalid", *, timeout: float = 20.0) -> httpx.Client:
        """An ``httpx.Client`` whose requests this fake answers in-process."""
        return httpx.Client(base_url=base_url, transport=self.transport(), timeout=timeout)

    def count(self, method: str | None = None, path_prefix: str = "") -> int:
        """How many requests matched (for "one create, one read, one write" assertions)."""
        with self.lock:
            return sum(
                1
                for r in self.requests
                if (method is None or r.method == method) and r.path.startswith(path_prefix)
            )

    # --- serving on a loopback port ---------------------------------------------------------

    @contextlib.contextmanager
    def serve(self, port: int = 0) -> Iterator[str]:
        """Serve this fake on ``127.0.0.1:port`` (0 picks a free port); yields the base URL."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                content = self.rfile.read(length) if length else b""
                url = f"http://127.0.0.1:{server.server_port}{self.path}"
                headers = [(k, v) for k, v in self.headers.items() if k.lower() != "host"]
                request = httpx.Request(self.command, url, headers=headers, content=content)
                try:
                    response = fake.handle(request)
                except httpx.TimeoutException:
                    self.close_connection = True
                    return
                response.read()
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # A client that gave up on a slow answer closed its socket: not the fake's error.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        server = Server(("127.0.0.1", port), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=f"{self.name}-fake", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


class InjectedApiFaults:
    """Fault plumbing for a fake that keeps its own clock (``now``, a ``datetime``) and answers
    through an :class:`~adapters.testing.faults.FaultInjector` instead of :meth:`FakeApi.inject`.

    The fake calls :meth:`_init_faults` with its error envelope in ``__init__``, and its handler
    returns :meth:`_injected_answer` when that is not ``None``, before answering an API request
    normally.

    Threading: call :meth:`_injected_answer` under the fake's lock.
    """

    now: datetime
    faults: FaultInjector
    _delays: list[float]

    def _init_faults(self, envelope: ErrorEnvelope) -> None:
        self.faults = FaultInjector(envelope)
        self._delays = []

    def advance(self, seconds: float) -> None:
        """Time passes on the fake's clock."""
        self.now += timedelta(seconds=seconds)

    def inject_failure(self, kind: int | str, *, retry_after: float | None = None, body: Any = None) -> None:
        """The next API request (not OAuth) fails: a status code, ``"timeout"``, ``"malformed"`` or
        ``"wrong_shape"``."""
        self.faults.inject(kind, retry_after=retry_after, body=body)  # type: ignore[arg-type]

    def delay_next(self, seconds: float) -> None:
        """The next API request is slow: the fake's clock moves on by ``seconds`` before it answers,
        and a client whose read timeout is shorter gets a timeout instead (no real waiting)."""
        self._delays.append(seconds)

    def _injected_answer(self, request: httpx.Request, answer: Answer) -> httpx.Response | None:
        """The queued failure for this API request, if any; else lets a queued delay pass.

        ``answer`` is the fake's normal answer, which a ``"wrong_shape"`` failure reshapes.

        Raises:
            httpx.ReadTimeout: for an injected timeout, or a delay as long as the read timeout.
        """
        injected = self.faults.take(request, answer)
        if injected is not None:
            return injected
        if self._delays:
            delay = self._delays.pop(0)
            read_timeout = (request.extensions.get("timeout") or {}).get("read")
            if read_timeout is not None and delay >= read_timeout:
                self.advance(read_timeout)
                raise httpx.ReadTimeout("the fake server answered too slowly", request=request)
            self.advance(delay)
        return None


def sandbox_demo_contacts() -> list[dict[str, Any]]:
    """The sandbox's demo contacts (``resources/sandbox/contacts.json``), so a fake served to the
    sandbox knows the people its simulated calls come from. ``crmPhone`` is how the CRM stores
    the number when it differs from the E.164 ``phoneNumber``."""
    from importlib import resources

    raw = json.loads(resources.files("resources").joinpath("sandbox/contacts.json").read_text("utf-8"))
    return [c for c in raw.get("contacts", []) if isinstance(c, dict) and c.get("phoneNumber")]


def run_forever(fake: FakeApi, argv: list[str] | None, *, env_var: str, describe: str) -> int:
    """``python -m tests.fakes.<crm>``: serve a fake with demo data until interrupted."""
    parser = argparse.ArgumentParser(description=f"Serve the fake {fake.name} API on loopback.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    with fake.serve(args.port) as base_url:
        print(f"fake {fake.name} listening on {base_url}")
        print(describe)
        print(f"point Logdesk at it with: {env_var}={base_url}")
        wait_for_interrupt()
    return 0


def wait_for_interrupt() -> None:
    """Block until Ctrl-C (for ``python -m tests.fakes.<crm>`` servers)."""
    stop = threading.Event()
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
