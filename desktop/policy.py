# SPDX-License-Identifier: MIT
"""Settings an administrator manages: a policy file that sets defaults and can lock settings.

Where: ``/etc/logdesk/policy.json`` on Linux and other Unix systems; ``LOGDESK_POLICY_FILE``
names another file on any system. The documented places on Windows
(``HKLM\\Software\\Policies\\Logdesk``, a ``Policy`` string value holding the same JSON) and macOS
(managed preferences of ``com.logdesk.Logdesk``, key ``Policy``) are not read yet: there,
``LOGDESK_POLICY_FILE`` points at the file. See README's "Managed settings".

The file::

    {
      "settings": {
        "auto_log": {"value": true, "locked": true},
        "poll_interval_seconds": {"value": 60},
        "notes.time_zone": {"value": "America/Chicago", "locked": true},
        "crm.adapter_id": {"value": "hubspot", "locked": true},
        "crm.settings.hubspot.portal_id": {"value": "4431", "locked": true}
      }
    }

Each key is a setting's dotted path (:data:`MANAGED`). A value without ``locked`` is a default: it
is used on a seat's first start (no settings file yet) and the agent may change it. A locked value
always wins, at every start and every save, and Settings shows it with a lock and why.

A policy with any error (not JSON, an unknown key, a secret, a value of the wrong type or out of
range) is reported in words and ignored as a whole — never half applied, never a crash.

Qt-free.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from adapters.base import Manifest
from desktop.settings import AppSettings

POLICY_ENV = "LOGDESK_POLICY_FILE"
DEFAULT_POLICY_PATH = Path("/etc/logdesk/policy.json")

#: The settings a policy may manage, as patterns of dotted paths (``*`` is one path segment).
MANAGED = (
    "auto_log",
    "all_at_once",
    "allow_extension_logging",
    "open_log_on_call_end",
    "close_to_tray",
    "poll_interval_seconds",
    "give_up_after_hours",
    "default_region",
    "phone_patterns",
    "notes.*",
    "crm.adapter_id",
    "crm.settings.*.*",
)


def _pattern(glob: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(glob).replace(r"\*", "[^.]+") + "$")


_MANAGED = [_pattern(p) for p in MANAGED]


@dataclass(frozen=True)
class Policy:
    """An administrator's policy as read (empty when there is none, or it was ignored).

    Attributes:
        path: the file it came from.
        defaults: dotted path → value, for a first start.
        locked: dotted path → value, always.
    """

    path: Path | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    locked: Mapping[str, Any] = field(default_factory=dict)

    def is_locked(self, key: str) -> bool:
        return key in self.locked

    def why_locked(self, key: str) -> str | None:
        """The words beside a locked setting, or None."""
        if key not in self.locked:
            return None
        return f"Set by your administrator (policy file {self.path}); it cannot be changed here."

    def apply(self, settings: AppSettings, *, first_start: bool) -> AppSettings:
        """``settings`` with the locked values (and on a first start the defaults) put in."""
        values = {**(self.defaults if first_start else {}), **self.locked}
        if not values:
            return settings
        return _with_values(settings, values)


def policy_path() -> Path | None:
    """The policy file for this system, or None where policies come from elsewhere."""
    named = os.environ.get(POLICY_ENV, "").strip()
    if named:
        return Path(named)
    return DEFAULT_POLICY_PATH if sys.platform != "win32" and sys.platform != "darwin" else None


def load_policy(
    path: Path | None = None, *, manifests: Mapping[str, Manifest] | None = None
) -> tuple[Policy, str | None]:
    """Reads the policy file.

    Args:
        path: the file (:func:`policy_path` by default).
        manifests: the CRM adapters' manifests by id: a ``crm.settings.<id>.<key>`` must be one of
            that adapter's connection fields and not a secret (settings are never secrets).

    Returns:
        The policy (empty when there is none or it was ignored), and the words for the agent when
        it was ignored.
    """
    path = path or policy_path()
    if path is None:
        return Policy(), None
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Policy(), None
    except (OSError, UnicodeDecodeError) as exc:
        return Policy(), _ignored(path, f"it cannot be read ({getattr(exc, 'strerror', None) or exc})")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Policy(), _ignored(path, f"it is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    entries = data.get("settings") if isinstance(data, dict) else None
    if not isinstance(entries, dict):
        return Policy(), _ignored(path, 'it needs a "settings" object of setting → {"value": …, "locked": …}')
    defaults: dict[str, Any] = {}
    locked: dict[str, Any] = {}
    for key, entry in entries.items():
        if not any(p.match(key) for p in _MANAGED) or not _is_setting(key):
            return Policy(), _ignored(path, f'"{key}" is not a setting a policy can manage')
        if key.startswith("crm.settings.") and manifests is not None:
            problem = _connection_problem(key, manifests)
            if problem:
                return Policy(), _ignored(path, problem)
        if not isinstance(entry, dict) or "value" not in entry or set(entry) - {"value", "locked"}:
            return Policy(), _ignored(path, f'"{key}" must be {{"value": …}} or {{"value": …, "locked": true}}')
        if not isinstance(entry.get("locked", False), bool):
            return Policy(), _ignored(path, f'"{key}": "locked" must be true or false')
        (locked if entry.get("locked") else defaults)[key] = entry["value"]
    try:  # every value as the settings would hold it, all at once
        _with_values(AppSettings(), {**defaults, **locked})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return Policy(), _ignored(path, f'"{where}": {first["msg"]}')
    return Policy(path, defaults, locked), None


def _is_setting(key: str) -> bool:
    """Whether ``key`` names a field of the settings (the CRM's connection settings are free-form)."""
    parts = key.split(".")
    if parts[:2] == ["crm", "settings"]:
        return True
    model: type[BaseModel] | None = AppSettings
    for part in parts:
        found = model.model_fields.get(part) if model is not None else None
        if found is None:
            return False
        annotation = found.annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return model is None  # a value, not a whole group


def _connection_problem(key: str, manifests: Mapping[str, Manifest]) -> str | None:
    _, _, adapter_id, name = key.split(".", 3)
    manifest = manifests.get(adapter_id)
    if manifest is None:
        return f'"{key}" names a CRM Logdesk does not have ({adapter_id})'
    fields = {f.key: f for f in manifest.auth.fields}
    if name not in fields:
        return f'"{key}" is not one of {manifest.name}\'s connection settings ({", ".join(sorted(fields)) or "none"})'
    if fields[name].secret:
        return f'"{key}" is a secret: secrets belong in the keyring, not in a policy'
    return None


def _ignored(path: Path, why: str) -> str:
    return f"The administrator's policy file {path} was ignored because {why}. Ask your administrator to fix it."


def _with_values(settings: AppSettings, values: Mapping[str, Any]) -> AppSettings:
    """``settings`` with each dotted path set to its value, validated as a whole."""
    data = settings.model_dump(mode="json")
    for key, value in values.items():
        *parents, leaf = key.split(".")
        node = data
        for part in parents:
            child = node.get(part)
            if not isinstance(child, dict):
                child = node[part] = {}
            node = child
        node[leaf] = value
    return AppSettings.model_validate(data)
