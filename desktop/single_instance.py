# SPDX-License-Identifier: MIT
"""One Logdesk per user and data directory.

The first process listens on a local socket (a Unix socket, or a named pipe on Windows) whose name
is derived from the data directory; a second launch connects, hands over its arguments and exits
0, and the first brings its window to the front. A socket left behind by a process that died is
found stale (nobody answers) and taken over.

This only keeps agents from opening two windows by accident. Two processes on one data directory
can still happen (a stale lock, another machine user, a copy started with a different Qt): the
outbox claims its work through an OS file lock as well (``desktop.engine.claim``), so a CRM write is
never sent by both.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

CONNECT_MS = 500
HANDOVER_MS = 2000


def server_name(data_dir: Path) -> str:
    """A per-user, per-data-directory socket name (short: Unix socket paths are limited)."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]
    return f"logdesk-{digest}"


def hand_over(name: str, args: list[str]) -> bool | None:
    """Sends ``args`` to a running instance.

    Returns:
        True when it took them; None when something listens but did not answer in time (busy:
        still a running instance); False when nothing listens (no instance, or a stale socket).
    """
    socket = QLocalSocket()
    socket.setServerName(name)  # (connectToServer(name) can resolve to the open-mode overload)
    socket.connectToServer()
    if not socket.waitForConnected(CONNECT_MS):
        return False
    socket.write(json.dumps({"args": args}).encode() + b"\n")
    socket.flush()
    answered = socket.waitForBytesWritten(HANDOVER_MS) and socket.waitForReadyRead(HANDOVER_MS)
    socket.disconnectFromServer()
    return True if answered else None


class SingleInstance(QObject):
    """The first instance's listener.

    Args:
        name: from :func:`server_name`.

    Signals:
        activated(list): a second launch handed over its arguments (GUI thread).
    """

    activated = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        # No socket options: with them Qt creates the socket elsewhere and renames it into place,
        # silently replacing the running instance's socket instead of failing with "in use".
        self._server = QLocalServer(self)
        self._server.newConnection.connect(self._on_new_connection)

    def listen(self, args: list[str]) -> bool:
        """Starts listening; False when another instance runs (it got ``args`` and comes to the
        front). A socket left by a dead process is removed first."""
        if self._server.listen(self.name):
            return True
        if hand_over(self.name, args) is not False:  # someone listens: really running
            return False
        QLocalServer.removeServer(self.name)  # nobody listens: a socket left by a dead process
        return self._server.listen(self.name)

    def close(self) -> None:
        self._server.close()

    def _on_new_connection(self) -> None:
        while (socket := self._server.nextPendingConnection()) is not None:
            socket.readyRead.connect(lambda s=socket: self._on_ready_read(s))
            socket.disconnected.connect(socket.deleteLater)
            self._on_ready_read(socket)  # the line may have arrived with the connection

    def _on_ready_read(self, socket: QLocalSocket) -> None:
        if socket.property("handled") or not socket.canReadLine():
            return
        socket.setProperty("handled", True)
        line = bytes(socket.readLine().data()).decode("utf-8", "replace")
        try:
            args = [str(a) for a in json.loads(line).get("args", [])]
        except (ValueError, AttributeError):
            args = []
        socket.write(b"ok\n")
        socket.flush()
        log.info("a second launch handed over %d argument(s)", len(args))
        self.activated.emit(args)
