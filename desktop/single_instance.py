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

import json
import logging
import os
import sys
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

# QtNetwork is imported when a socket is needed: a start with no other instance running asks
# only the quick question below before its first paint, and listens after it.
if TYPE_CHECKING:
    from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

CONNECT_MS = 500
HANDOVER_MS = 2000


def server_name(data_dir: Path) -> str:
    """A per-user, per-data-directory socket name (short: Unix socket paths are limited)."""
    path = str(data_dir.resolve()).encode()
    digest = (zlib.crc32(path) << 32) | zlib.crc32(path[::-1])
    return f"logdesk-{digest:016x}"


def _socket_path(name: str) -> str | None:
    """Where QLocalServer puts ``name`` on a Unix system (its temporary directory), else None."""
    if sys.platform == "win32":
        return None
    # QDir::tempPath() on Unix: $TMPDIR, else /tmp. Only read here, to find the socket Qt made.
    return os.path.join(os.path.normpath(os.environ.get("TMPDIR") or "/tmp"), name)  # noqa: S108


def _accepts(path: str) -> bool:
    """Whether something accepts a connection on the Unix socket ``path``."""
    import _socket  # the C module: ``socket`` builds enums worth milliseconds at start-up

    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    sock.settimeout(CONNECT_MS / 1000)
    try:
        sock.connect(path)
    except OSError:
        return False
    finally:
        sock.close()
    return True


def hand_over(name: str, args: list[str]) -> bool | None:
    """Sends ``args`` to a running instance.

    Returns:
        True when it took them; None when something listens but did not answer in time (busy:
        still a running instance); False when nothing listens (no instance, or a stale socket).
    """
    from PySide6.QtNetwork import QLocalSocket

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
        listening(): :meth:`listen` started listening.
    """

    activated = Signal(list)
    listening = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server: QLocalServer | None = None

    def running_elsewhere(self, args: list[str]) -> bool:
        """Whether another instance runs (it got ``args`` and comes to the front): the quick
        question asked before the window is made. On a Unix system nothing Qt is loaded unless
        something accepts on the socket; elsewhere this asks by connecting through Qt."""
        path = _socket_path(self.name)
        if path is not None and not _accepts(path):
            return False
        return hand_over(self.name, args) is not False  # someone listens: really running

    def listen(self, args: list[str]) -> bool:
        """Starts listening; False when another instance runs (it got ``args`` and comes to the
        front: two started at once, and the other listened first). A socket left by a dead
        process is removed first."""
        from PySide6.QtNetwork import QLocalServer

        if self._server is None:
            # No socket options: with them Qt creates the socket elsewhere and renames it into place,
            # silently replacing the running instance's socket instead of failing with "in use".
            self._server = QLocalServer(self)
            self._server.newConnection.connect(self._on_new_connection)
        if not self._server.listen(self.name):
            if hand_over(self.name, args) is not False:  # someone listens: really running
                return False
            QLocalServer.removeServer(self.name)  # nobody listens: a socket left by a dead process
            if not self._server.listen(self.name):
                # Not another instance: this one runs unguarded (the outbox's claim still keeps
                # two processes from sending the same write).
                log.warning("cannot listen on %s (%s): a second launch will not find this one",
                            self.name, self._server.errorString())
                return True
        self.listening.emit()
        return True

    def is_listening(self) -> bool:
        return self._server is not None and self._server.isListening()

    def close(self) -> None:
        if self._server is not None:
            self._server.close()

    def _on_new_connection(self) -> None:
        assert self._server is not None
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
