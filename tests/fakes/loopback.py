# SPDX-License-Identifier: MIT
"""Serve an httpx-style request handler on a real loopback port, and route several fake hosts.

The Zoho and Clio fakes are written once as ``handler(request: httpx.Request) -> httpx.Response``
so tests use them in-process through ``httpx.MockTransport``; :class:`LoopbackServer` puts the
same handler behind ``http.server`` on ``127.0.0.1`` for tests that need a real socket (the
browser redirect of a PKCE sign-in, a timeout on a real connection).

A handler that raises :class:`HoldConnection` or an ``httpx.TimeoutException`` (what it raises
in-process) simulates a hung server: the request is held open until the client gives up or the
server stops, without any sleep.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


class HoldConnection(Exception):
    """Raised by a handler: keep the connection open and answer nothing (a hung server)."""


class LoopbackServer:
    """``handler`` served on ``http://127.0.0.1:<port>`` in a background thread (``port`` 0: a free one).

    Use as a context manager; :attr:`base_url` is valid inside the ``with`` block. ``port`` 0 (the
    default) takes any free port.
    """

    def __init__(self, handler: Handler, *, port: int = 0) -> None:
        self._handler = handler
        self._stopping = threading.Event()
        outer = self

        class _Request(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes: without this, Nagle's algorithm and the
            # client's delayed ACK add ~40 ms to every keep-alive request.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                content = self.rfile.read(length) if length else b""
                headers = [(k, v) for k, v in self.headers.items() if k.lower() != "host"]
                request = httpx.Request(self.command, outer.base_url + self.path, headers=headers, content=content)
                try:
                    response = outer._handler(request)
                except (HoldConnection, httpx.TimeoutException):
                    outer._stopping.wait(30)
                    self.close_connection = True
                    return
                body = response.read()
                self.send_response(response.status_code)
                for key, value in response.headers.multi_items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Request)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-crm-loopback", daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class HostRouter:
    """One httpx handler that dispatches on the request's host: several fake hosts in one transport."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self._routes = routes

    def __call__(self, request: httpx.Request) -> httpx.Response:
        handler = self._routes.get(request.url.host)
        if handler is None:
            raise httpx.ConnectError(f"no fake server for host {request.url.host}", request=request)
        return handler(request)
