# SPDX-License-Identifier: MIT
"""Which process sends CRM writes: an OS file lock next to the engine's database.

One Logdesk per user is the rule (the desktop app hands a second launch over to the first), but
two processes on one data directory can still happen: a second copy started another way, the
command-line tools, a stale hand-over. The outbox therefore claims the right to send through an
exclusive lock on ``<database>.outbox.lock`` before it takes an item, and keeps it while it
works. The operating system drops the lock when its process dies (a kill included), so a claim is
never left behind, and there is no lease to tune.

POSIX uses ``fcntl.flock``, Windows ``msvcrt.locking`` on the file's first byte.

Threading contract: thread-safe and re-entrant within a process (the outbox's own lock already
serialises its threads; this counts nested claims).
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from types import TracebackType

if sys.platform == "win32":  # pragma: no cover - exercised on Windows
    import msvcrt
else:
    import fcntl


class SendClaim:
    """The exclusive right to send this database's CRM writes.

    Args:
        path: the lock file (created if missing).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._depth = 0

    def acquire(self) -> bool:
        """Takes the claim without waiting; False when another process holds it."""
        with self._lock:
            if self._depth:
                self._depth += 1
                return True
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                if sys.platform == "win32":  # pragma: no cover
                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                else:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            self._fd = fd
            self._depth = 1
            return True

    def release(self) -> None:
        with self._lock:
            if not self._depth:
                return
            self._depth -= 1
            if self._depth or self._fd is None:
                return
            fd, self._fd = self._fd, None
            try:
                if sys.platform == "win32":  # pragma: no cover
                    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
                else:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
