# SPDX-License-Identifier: MIT
"""Logging to a rotating file, with secrets redacted before anything is written."""

from __future__ import annotations

import logging
import logging.handlers
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from desktop import paths

LOG_FILE = "logdesk.log"
REDACTED = "[redacted]"

_PATTERNS = [
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*"),
    re.compile(r"(?i)((?:access_token|refresh_token|id_token|code|code_verifier|client_secret|api_token|token)=)[^&\s\"']+"),
    re.compile(r"(?i)(\"(?:access_token|refresh_token|id_token|client_secret|api_token|code_verifier)\"\s*:\s*\")[^\"]+"),
    # Bullhorn's REST session key, as a header, a JSON value or a query parameter
    re.compile(r"(?i)(\"?\b(?:BhRestToken|bh_rest_token)\"?\s*[:=]\s*\"?)[^\s\"&,}]+"),
]


class RedactingFilter(logging.Filter):
    """Removes bearer tokens, token/code query values and every secret the store currently holds.

    Args:
        secret_values: returns the secret values to hide (the secret store's ``values``).
    """

    def __init__(self, secret_values: Callable[[], Iterable[str]] = lambda: ()) -> None:
        super().__init__()
        self._secret_values = secret_values

    def redact(self, text: str) -> str:
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        for value in sorted(self._secret_values(), key=len, reverse=True):
            if len(value) >= 4 and value in text:
                text = text.replace(value, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self.redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def setup_logging(
    secret_values: Callable[[], Iterable[str]] = lambda: (),
    *,
    directory: Path | None = None,
    level: int = logging.INFO,
) -> logging.Handler:
    """Installs the rotating file handler on the root logger and returns it."""
    target = (directory or paths.log_dir()) / LOG_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(target, maxBytes=2_000_000, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"))
    handler.addFilter(RedactingFilter(secret_values))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or level, level))
    return handler
