# SPDX-License-Identifier: MIT
"""The sandbox's WebSocket gateway: RingCentral's push protocol (:mod:`~.push`) on a real socket.

:class:`WebSocketGateway` listens on ``ws://127.0.0.1:<port>/ws`` (port 0: a free one) with
``websockets.sync.server``. The account starts it the first time it issues a wstoken, so clients
that reach the account in-process and clients on :class:`~.server.SandboxServer` sockets get the
same gateway; ``account.close()`` (and ``SandboxServer.close()``) stops it and joins its threads.

Threads: the listener (``sandbox-ws``); per connection the library's handler thread, which reads
frames and hands them to the account, and a writer (``sandbox-ws-writer-<n>``) that sends what
the account queued, in order, whenever the connection's ``wake`` event is set, so no socket I/O
happens under the account lock; and a ticker (``sandbox-ws-ticker``) that lets the account
deliver due events and enforce timeouts every ``tick_interval`` seconds (with a real clock this is
what makes calls ring on time; with a manual clock ``advance()`` does it at once).

Upgrades to another path get HTTP 404; while a ``connection-refused`` fault is pending the
upgrade gets HTTP 503 (the client sees a failed handshake). The server pings every 20 s and
expects the pong within 10 s [D heart-beats.md]; pings are not activity for the idle timeout.

This module builds only on :mod:`~.push` (the connection state and the :class:`PushApp` protocol
the account implements), so the account can import it without a cycle.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Mapping
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection, serve

from adapters.ringcentral.sandbox.push import Outgoing, PushConnection

log = logging.getLogger(__name__)

#: The gateway's path; the wstoken's ``uri`` points here.
WS_PATH = "/ws"


class PushApp(Protocol):
    """What the gateway needs from the account; every method is thread-safe (the account lock)."""

    def ws_admit(self) -> bool:
        """``False``: refuse this upgrade (HTTP 503)."""
        ...

    def ws_open(self, query: Mapping[str, str]) -> PushConnection:
        """A connection opened with this query string."""
        ...

    def ws_receive(self, conn: PushConnection, text: str | bytes) -> None: ...

    def ws_next(self, conn: PushConnection) -> Outgoing | None:
        """What to do next on the socket, or ``None`` for nothing now."""
        ...

    def ws_unsent(self, conn: PushConnection, out: Outgoing) -> None:
        """A send failed (the socket is gone)."""
        ...

    def ws_closed(self, conn: PushConnection) -> None:
        """The socket is closed."""
        ...

    def ws_tick(self) -> None:
        """Deliver what is due; enforce timeouts."""
        ...


class WebSocketGateway:
    """A loopback WebSocket server speaking the account's push protocol.

    Args:
        app: the account.
        host: a loopback address.
        port: ``0`` picks a free one.
        tick_interval: seconds between the ticker's calls to ``app.ws_tick()``.

    Attributes:
        url: ``ws://<host>:<port>/ws``.
    """

    def __init__(self, app: PushApp, *, host: str = "127.0.0.1", port: int = 0, tick_interval: float = 0.05):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the sandbox listens on loopback only")
        self._app = app
        self._tick_interval = tick_interval
        self._stop = threading.Event()
        self._server = serve(
            self._handle,
            host,
            port,
            process_request=self._process_request,
            compression=None,
            ping_interval=20,
            ping_timeout=10,
            close_timeout=2,
            logger=log,
        )
        bound = self._server.socket.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        self.url = f"ws://{shown}:{bound}{WS_PATH}"
        self._serving = threading.Thread(target=self._server.serve_forever, name="sandbox-ws", daemon=True)
        self._ticker = threading.Thread(target=self._tick_loop, name="sandbox-ws-ticker", daemon=True)
        self._serving.start()
        self._ticker.start()
        self._closed = False

    def close(self) -> None:
        """Stops the ticker and the listener, closes every connection and joins every thread."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._ticker.join(timeout=5)
        self._server.shutdown()
        self._serving.join(timeout=5)

    def _tick_loop(self) -> None:
        while not self._stop.wait(self._tick_interval):
            self._app.ws_tick()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if urlsplit(request.path).path != WS_PATH:
            return connection.respond(404, "Not Found\n")
        if not self._app.ws_admit():
            return connection.respond(503, "Service Unavailable\n")
        return None

    def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        query = dict(parse_qsl(urlsplit(request.path).query, keep_blank_values=True)) if request else {}
        conn = self._app.ws_open(query)
        writer = threading.Thread(
            target=self._write_loop, args=(ws, conn), name=f"sandbox-ws-writer-{conn.number}", daemon=True
        )
        writer.start()
        try:
            while True:
                try:
                    text = ws.recv()
                except ConnectionClosed:
                    break
                self._app.ws_receive(conn, text)
        finally:
            self._app.ws_closed(conn)
            writer.join()

    def _write_loop(self, ws: ServerConnection, conn: PushConnection) -> None:
        while True:
            conn.wake.wait()
            conn.wake.clear()
            while (out := self._app.ws_next(conn)) is not None:
                if out.action == "send":
                    try:
                        ws.send(out.text)
                    except (ConnectionClosed, OSError):
                        self._app.ws_unsent(conn, out)
                        break
                elif out.action == "close":
                    ws.close(out.code, out.reason)
                elif out.action == "abort":
                    _cut(ws)
            if conn.ended:
                return


def _cut(ws: ServerConnection) -> None:
    """Ends the TCP connection without a WebSocket close frame (a network drop)."""
    try:
        ws.socket.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
