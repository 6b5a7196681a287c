# SPDX-License-Identifier: MIT
"""Two ways to reach a :class:`~.account.SandboxAccount`: an httpx transport and loopback sockets.

- :class:`SandboxTransport` answers requests in-process (fast unit tests, the desktop demo).
  Requests to the media host name go to the media routes, everything else to the platform routes.
- :class:`SandboxServer` listens on two real sockets on 127.0.0.1, one for the platform API and one
  for the media host, so URLs differ as they do in production (``platform.ringcentral.com`` and
  ``media.ringcentral.com``).

The account's WebSocket gateway (push events, :mod:`~.websocket`) listens on its own loopback
port, started by the account with the first wstoken whichever way that request came in;
:meth:`SandboxServer.close` stops it too.

Both honour the account's transport faults: ``timeout`` (no answer: the transport raises
``httpx.ReadTimeout``; the socket holds the connection for ``account.hang_seconds`` then drops it)
and ``truncated`` (the body stops short of its ``Content-Length``).

This module builds only on :mod:`~.wire`: it takes any :class:`~.wire.SandboxApp` (the account is
one), so the account can import it without a cycle.

Threading contract: the server answers each connection on its own thread; the account is
thread-safe.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from adapters.ringcentral.sandbox.wire import SandboxApp, SandboxRequest, SandboxResponse

#: Host names the in-process transport answers for.
PLATFORM_BASE = "http://platform.sandbox.invalid"
MEDIA_BASE = "http://media.sandbox.invalid"


class _CutStream(httpx.SyncByteStream):
    """A body that ends early, as when the connection drops mid-response."""

    def __init__(self, head: bytes) -> None:
        self._head = head

    def __iter__(self) -> Iterator[bytes]:
        yield self._head
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


class SandboxTransport(httpx.BaseTransport):
    """An httpx transport that hands every request to the account, with no sockets.

    Args:
        account: the simulated account.
        platform_base: the platform URL clients use (``RingCentralClient(server_url=...)``).
        media_base: the media host; ``contentUri`` values point here.
    """

    def __init__(self, account: SandboxApp, *, platform_base: str = PLATFORM_BASE, media_base: str = MEDIA_BASE):
        self.account = account
        self.platform_base = platform_base.rstrip("/")
        self.media_base = media_base.rstrip("/")
        self._media_host = urlsplit(self.media_base).netloc

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = "media" if request.url.netloc.decode("ascii") == self._media_host else "platform"
        sandbox_request = SandboxRequest(
            method=request.method,
            host=host,
            path=request.url.path,
            query=list(request.url.params.multi_items()),
            headers=dict(request.headers),
            body=request.read(),
            platform_base=self.platform_base,
            media_base=self.media_base,
        )
        response = self.account.handle(sandbox_request)
        if response.fault == "timeout":
            raise httpx.ReadTimeout("the sandbox did not answer (simulated timeout)", request=request)
        if response.fault == "truncated":
            headers = {**response.headers, "Content-Length": str(len(response.body) + 100)}
            return httpx.Response(response.status, headers=headers, stream=_CutStream(response.body), request=request)
        return httpx.Response(response.status, headers=response.headers, content=response.body, request=request)


class _Listener(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class SandboxServer:
    """The account on two loopback sockets: :attr:`url` (platform) and :attr:`media_url`.

    Args:
        account: the simulated account.
        host: a loopback address.
        port: the platform port; ``0`` picks a free one.
        media_port: the media port; ``0`` picks a free one.

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, account: SandboxApp, *, host: str = "127.0.0.1", port: int = 0, media_port: int = 0):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox listens on loopback only")
        self.account = account
        self._stopping = threading.Event()
        self._platform = _Listener((host, port), self._handler("platform"))
        try:
            self._media = _Listener((host, media_port), self._handler("media"))
        except OSError:
            self._platform.server_close()
            raise
        self.url = f"http://{host}:{self._platform.server_address[1]}"
        self.media_url = f"http://{host}:{self._media.server_address[1]}"
        self._threads = [
            threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{n}", daemon=True)
            for s, n in ((self._platform, "platform"), (self._media, "media"))
        ]
        for thread in self._threads:
            thread.start()
        self._closed = False

    def close(self) -> None:
        """Stops both listeners and the account's WebSocket gateway. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._stopping.set()
        for server in (self._platform, self._media):
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self.account.close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _handler(self, host_kind: str) -> type[http.server.BaseHTTPRequestHandler]:
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            server_version = "RingCentralSandbox/1"
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = SandboxRequest(
                    method=self.command,
                    host=host_kind,
                    path=parts.path,
                    query=parse_qsl(parts.query, keep_blank_values=True),
                    headers={k: v for k, v in self.headers.items()},
                    body=body,
                    platform_base=outer.url,
                    media_base=outer.media_url,
                )
                response = outer.account.handle(request)
                self._write(response)

            def _write(self, response: SandboxResponse) -> None:
                if response.fault == "timeout":
                    outer._stopping.wait(outer.account.hang_seconds)
                    self.close_connection = True
                    return
                self.send_response(response.status)
                declared = len(response.body) + (100 if response.fault == "truncated" else 0)
                headers = {**response.headers, "Content-Length": str(declared)}
                if response.fault == "truncated":
                    headers["Connection"] = "close"
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(response.body)
                if response.fault == "truncated":
                    self.wfile.flush()
                    self.close_connection = True

            do_GET = _serve
            do_POST = _serve
            do_PUT = _serve
            do_DELETE = _serve
            do_PATCH = _serve

            def log_message(self, format: str, *args: Any) -> None:
                # Query strings can carry codes and tokens: never log request lines.
                return

        return Handler
