# SPDX-License-Identifier: MIT
"""Secrets live in the OS keyring (service ``logdesk``), or in memory for this session only.

Threading contract: keyring calls may block on a D-Bus prompt; call a store from the GUI thread
at start-up and when the settings dialog saves, then pass the values into jobs.

Keys are namespaced ``"<owner>:<field>"``, e.g. ``"ringcentral:refresh_token"`` or
``"hubspot:token"``. Values never go to the settings file, SQLite, logs or CRM notes.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

import keyring
import keyring.backend
import keyring.errors

log = logging.getLogger(__name__)

SERVICE = "logdesk"


class SecretStoreUnavailable(Exception):
    """The keyring cannot be used right now (no backend, locked, D-Bus gone, access denied)."""


class SecretStore(Protocol):
    #: True when secrets survive a restart (a real keyring).
    is_persistent: bool
    #: Human-readable description of where secrets go, for the settings page.
    backend_name: str

    def get(self, key: str) -> str | None:
        """The secret, or None when it was never set. Raises SecretStoreUnavailable if unreadable."""
        ...

    def set(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None:
        """Removes the secret; deleting one that is not there is not an error."""
        ...

    def values(self) -> list[str]:
        """Every secret value this process has read or written (for log redaction)."""
        ...


class _Seen:
    """Remembers the secret values that passed through a store, so logs can redact them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, str] = {}

    def remember(self, key: str, value: str | None) -> None:
        with self._lock:
            if value:
                self._values[key] = value
            else:
                self._values.pop(key, None)

    def values(self) -> list[str]:
        with self._lock:
            return list(self._values.values())


class MemorySecretStore:
    """Secrets for this session only: used in tests and when no keyring is usable."""

    is_persistent = False
    backend_name = "memory (this session only)"

    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._seen = _Seen()

    def get(self, key: str) -> str | None:
        value = self._data.get(key)
        self._seen.remember(key, value)
        return value

    def set(self, key: str, value: str) -> None:
        self._data[key] = value
        self._seen.remember(key, value)

    def delete(self, key: str) -> None:
        self._data.pop(key, None)

    def values(self) -> list[str]:
        return self._seen.values()


class SessionSecretStore:
    """Another store, plus secrets kept for this session only (the sandbox's developer CRM asks
    for a token the store lacks): :meth:`keep_for_session` holds a value in memory, where it
    shadows the store's and is never written anywhere; ``set`` and ``delete`` go to the store.

    Args:
        base: the store everything else goes to (the keyring, or memory without one).
    """

    def __init__(self, base: SecretStore) -> None:
        self.base = base
        self.is_persistent = base.is_persistent
        self.backend_name = base.backend_name
        self._session: dict[str, str] = {}
        self._seen = _Seen()

    def keep_for_session(self, key: str, value: str) -> None:
        """Holds ``value`` under ``key`` until the app quits; the base store never sees it."""
        self._session[key] = value
        self._seen.remember(key, value)

    def held_for_session(self, key: str) -> bool:
        return key in self._session

    def get(self, key: str) -> str | None:
        if key in self._session:
            return self._session[key]
        return self.base.get(key)

    def set(self, key: str, value: str) -> None:
        self.base.set(key, value)
        self._session.pop(key, None)

    def delete(self, key: str) -> None:
        self._session.pop(key, None)
        self._seen.remember(key, None)
        self.base.delete(key)

    def values(self) -> list[str]:
        return [*self.base.values(), *self._seen.values()]


class KeyringSecretStore:
    """The OS keyring through the ``keyring`` package, every failure mapped to one exception."""

    is_persistent = True

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None, service: str = SERVICE):
        self._backend = backend or keyring.get_keyring()
        self._service = service
        self._seen = _Seen()
        self.backend_name = _describe(self._backend)

    def get(self, key: str) -> str | None:
        try:
            value = self._backend.get_password(self._service, key)
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(_explain(exc)) from exc
        except Exception as exc:  # D-Bus and backend-specific failures
            raise SecretStoreUnavailable(_explain(exc)) from exc
        self._seen.remember(key, value)
        return value

    def set(self, key: str, value: str) -> None:
        try:
            self._backend.set_password(self._service, key, value)
        except keyring.errors.PasswordSetError as exc:
            raise SecretStoreUnavailable(_explain(exc)) from exc
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(_explain(exc)) from exc
        except Exception as exc:
            raise SecretStoreUnavailable(_explain(exc)) from exc
        self._seen.remember(key, value)

    def delete(self, key: str) -> None:
        try:
            self._backend.delete_password(self._service, key)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            raise SecretStoreUnavailable(_explain(exc)) from exc
        except Exception as exc:
            raise SecretStoreUnavailable(_explain(exc)) from exc
        self._seen.remember(key, None)

    def values(self) -> list[str]:
        return self._seen.values()


def _describe(backend: keyring.backend.KeyringBackend) -> str:
    name = getattr(backend, "name", None) or type(backend).__name__
    return f"OS keyring ({name})"


def _explain(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if "locked" in lowered or isinstance(exc, keyring.errors.KeyringLocked):
        return f"The keyring is locked: unlock it and try again. ({text})"
    return f"The keyring cannot be used: {text}"


def usable_backend(backend: keyring.backend.KeyringBackend) -> bool:
    """Whether ``backend`` is a real, recommended keyring (not the fail/null/plaintext ones)."""
    module = type(backend).__module__
    if module.startswith(("keyring.backends.fail", "keyring.backends.null")):
        return False
    if module.startswith("keyrings.alt"):  # plaintext or weakly encrypted files
        return False
    try:
        priority = float(backend.priority)
    except Exception:
        return False
    return priority >= 1


def open_secret_store() -> tuple[SecretStore, str | None]:
    """The store to use at start-up, and a warning for the user when it is not persistent."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:
        log.info("no keyring backend: %s", exc)
        return MemorySecretStore(), "No system keyring is available: credentials are kept for this session only."
    if not usable_backend(backend):
        return MemorySecretStore(), "No system keyring is available: credentials are kept for this session only."
    return KeyringSecretStore(backend), None
