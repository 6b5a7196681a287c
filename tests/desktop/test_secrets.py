# SPDX-License-Identifier: MIT
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest

from desktop.secrets import (
    KeyringSecretStore,
    MemorySecretStore,
    SecretStoreUnavailable,
    open_secret_store,
    usable_backend,
)

ROOT = Path(__file__).resolve().parents[2]


class DictKeyring(keyring.backend.KeyringBackend):
    """An in-memory keyring backend with a real priority, standing in for the OS keyring."""

    priority = 5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.data.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.data[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.data:
            raise keyring.errors.PasswordDeleteError("not found")
        del self.data[(service, username)]


class LockedKeyring(DictKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("Failed to unlock the collection!")


def test_memory_store_round_trips_and_is_not_persistent() -> None:
    store = MemorySecretStore()
    assert store.get("hubspot:token") is None
    store.set("hubspot:token", "pat-na1-abc")
    assert store.get("hubspot:token") == "pat-na1-abc"
    store.delete("hubspot:token")
    store.delete("hubspot:token")  # deleting twice is fine
    assert store.get("hubspot:token") is None
    assert store.is_persistent is False


def test_keyring_store_uses_the_logdesk_service_name() -> None:
    backend = DictKeyring()
    store = KeyringSecretStore(backend)
    store.set("ringcentral:refresh_token", "r-123")
    assert backend.data == {("logdesk", "ringcentral:refresh_token"): "r-123"}
    assert store.get("ringcentral:refresh_token") == "r-123"
    assert store.get("missing") is None


def test_keyring_store_deleting_a_missing_secret_is_not_an_error() -> None:
    KeyringSecretStore(DictKeyring()).delete("nothing-here")


def test_locked_keyring_raises_one_clear_error() -> None:
    store = KeyringSecretStore(LockedKeyring())
    with pytest.raises(SecretStoreUnavailable, match="locked"):
        store.get("hubspot:token")
    with pytest.raises(SecretStoreUnavailable):
        store.set("hubspot:token", "x")


def test_store_remembers_values_for_redaction() -> None:
    store = KeyringSecretStore(DictKeyring())
    store.set("a", "secret-one")
    assert "secret-one" in store.values()


def test_fail_backend_is_not_usable_and_falls_back_to_memory() -> None:
    assert not usable_backend(keyring.backends.fail.Keyring())
    keyring.set_keyring(keyring.backends.fail.Keyring())
    store, warning = open_secret_store()
    assert isinstance(store, MemorySecretStore)
    assert warning is not None and "this session only" in warning


def test_a_recommended_backend_is_used() -> None:
    keyring.set_keyring(DictKeyring())
    store, warning = open_secret_store()
    assert isinstance(store, KeyringSecretStore) and warning is None


_CHILD = textwrap.dedent(
    """
    import keyring, sys
    from keyring.backends.SecretService import Keyring
    from desktop.secrets import KeyringSecretStore, usable_backend
    backend = Keyring()
    assert usable_backend(backend), backend
    store = KeyringSecretStore(backend)
    secret = sys.argv[1]
    store.set("test:token", secret)
    assert store.get("test:token") == secret, "read back"
    store.set("test:token", secret + "-rotated")
    assert store.get("test:token") == secret + "-rotated", "overwrite"
    store.delete("test:token")
    assert store.get("test:token") is None, "delete"
    store.delete("test:token")
    print("REAL-KEYRING-OK")
    """
)


def test_real_secret_service_round_trip(tmp_path: Path, isolated_dirs: Path) -> None:
    """Against gnome-keyring in a private D-Bus session: set, read, overwrite, delete."""
    required = os.environ.get("LOGDESK_REQUIRE_REAL_KEYRING") == "1"
    missing = [t for t in ("dbus-run-session", "gnome-keyring-daemon") if shutil.which(t) is None]
    if missing:
        reason = f"real-keyring test needs {', '.join(missing)} (apt-get install gnome-keyring dbus)"
        if required:
            pytest.fail(reason)
        pytest.skip(reason)
    secret = "sk-real-keyring-" + os.urandom(8).hex()
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS")}
    env["HOME"] = str(tmp_path)  # the throwaway keyring lives here, not in the developer's home
    env["PYTHONPATH"] = str(ROOT)
    shell = (
        "printf 'throwaway-pw' | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; "
        f'exec "{sys.executable}" "{script}" "$SECRET"'
    )
    env["SECRET"] = secret
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", shell],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert "REAL-KEYRING-OK" in result.stdout, result.stdout + result.stderr
    for root in (isolated_dirs, tmp_path / ".config"):
        for path in root.rglob("*") if root.exists() else []:
            if path.is_file() and path.stat().st_size < 5_000_000:
                assert secret.encode() not in path.read_bytes(), f"secret leaked into {path}"


def test_a_session_secret_shadows_the_store_and_never_reaches_it() -> None:
    from desktop.secrets import SessionSecretStore

    base = MemorySecretStore()
    base.set("acme:api_token", "saved")
    session = SessionSecretStore(base)
    session.keep_for_session("acme:api_token", "typed at start-up")
    assert session.get("acme:api_token") == "typed at start-up"
    assert base.get("acme:api_token") == "saved"
    assert "typed at start-up" in session.values() and "saved" in session.values()
    assert (session.is_persistent, session.backend_name) == (base.is_persistent, base.backend_name)


def test_saving_through_a_session_store_goes_to_the_store_and_replaces_the_session_value() -> None:
    from desktop.secrets import SessionSecretStore

    base = MemorySecretStore()
    session = SessionSecretStore(base)
    session.keep_for_session("acme:api_token", "for now")
    session.set("acme:api_token", "from Settings")
    assert base.get("acme:api_token") == "from Settings"
    assert session.get("acme:api_token") == "from Settings"
    session.delete("acme:api_token")
    assert session.get("acme:api_token") is None and base.get("acme:api_token") is None
