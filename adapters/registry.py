# SPDX-License-Identifier: MIT
"""Which CRM adapters exist: the built-in ones, plus third-party ones from installed packages.

Built-ins are listed explicitly in :data:`BUILTIN_ADAPTERS`, one line each, as
``"id": "module:Class"`` and imported lazily, so one missing or broken module does not stop the
app. Third-party adapters are installed distributions that declare an entry point in the
``logdesk.adapters`` group::

    [project.entry-points."logdesk.adapters"]
    acme = "logdesk_acme.adapter:AcmeAdapter"

The entry-point name is the adapter id and must equal ``manifest.id``. A broken third-party
adapter (import error, no manifest, wrong id, a duplicate id) is reported in
:attr:`Registry.problems` and logged; it is never fatal. A built-in wins over a third-party
adapter with the same id.

Threading: :func:`discover` imports modules; call it once at start-up (GUI thread or a worker)
and share the resulting :class:`Registry`, which is read-only afterwards.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal

import httpx

from adapters.base import AdapterError, Connection, CrmAdapter, Manifest, SecretsSaver

log = logging.getLogger(__name__)

#: The entry-point group third-party adapter packages register under.
ENTRY_POINT_GROUP = "logdesk.adapters"

#: Built-in adapters: id → "module:Class". One line per adapter; keep "local" first.
BUILTIN_ADAPTERS: dict[str, str] = {
    "local": "adapters.crm.local:LocalCrm",
    "zoho": "adapters.crm.zoho:ZohoAdapter",
    "clio": "adapters.crm.clio:ClioAdapter",
    "hubspot": "adapters.crm.hubspot:HubSpotAdapter",
    "pipedrive": "adapters.crm.pipedrive:PipedriveAdapter",
    "salesforce": "adapters.crm.salesforce:SalesforceAdapter",
    "sheets": "adapters.crm.sheets:SheetsAdapter",
    "insightly": "adapters.crm.insightly:InsightlyAdapter",
    "bullhorn": "adapters.crm.bullhorn:BullhornAdapter",
}


@dataclass(frozen=True)
class AdapterInfo:
    """One adapter that loaded.

    Attributes:
        id: the manifest id (``"hubspot"``).
        manifest: the adapter's manifest.
        adapter_class: build an instance with ``adapter_class(connection, client=..., save_secrets=...)``.
        source: ``"builtin"`` or ``"plugin"``.
        origin: the ``module:Class`` path, and for plugins the distribution that provides it.
    """

    id: str
    manifest: Manifest
    adapter_class: type[Any]
    source: Literal["builtin", "plugin"]
    origin: str

    @property
    def name(self) -> str:
        return self.manifest.name


@dataclass(frozen=True)
class AdapterProblem:
    """An adapter that could not be loaded, and why, in plain words."""

    id: str
    origin: str
    message: str


@dataclass
class Registry:
    """The adapters found by :func:`discover`, in display order (built-ins first)."""

    adapters: dict[str, AdapterInfo] = field(default_factory=dict)
    problems: list[AdapterProblem] = field(default_factory=list)

    def __contains__(self, adapter_id: object) -> bool:
        return adapter_id in self.adapters

    def __iter__(self) -> Iterator[AdapterInfo]:
        return iter(self.adapters.values())

    def get(self, adapter_id: str) -> AdapterInfo:
        """The adapter with this id.

        Raises:
            KeyError: when no adapter has that id (the message says if it failed to load).
        """
        try:
            return self.adapters[adapter_id]
        except KeyError:
            for problem in self.problems:
                if problem.id == adapter_id:
                    raise KeyError(f"{adapter_id}: {problem.message}") from None
            raise KeyError(adapter_id) from None

    def create(
        self,
        adapter_id: str,
        connection: Connection,
        *,
        client: httpx.Client | None = None,
        save_secrets: SecretsSaver | None = None,
    ) -> CrmAdapter:
        """Builds an adapter instance for one CRM account.

        Raises:
            KeyError: no adapter has that id.
            AdapterError: the adapter refused the connection (e.g. ``AuthError`` for a missing
                token), or its constructor failed in any other way (a bug in a plug-in): reported,
                never a crash.
        """
        info = self.get(adapter_id)
        try:
            adapter: CrmAdapter = info.adapter_class(connection, client=client, save_secrets=save_secrets)
        except AdapterError:
            raise
        except Exception as exc:  # third-party code: anything can happen
            log.warning("CRM adapter %r from %s failed to start: %s", adapter_id, info.origin, _describe(exc))
            raise AdapterError(f"The {info.name} adapter failed to start.", vendor_message=_describe(exc)) from exc
        return adapter


def load_object(path: str) -> Any:
    """Imports ``"package.module:Attr"`` (or ``"package.module.Attr"``) and returns the attribute."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"{path!r} is not of the form 'module:Class'")
    obj: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def _check_adapter_class(obj: Any, expected_id: str) -> Manifest:
    """The class's manifest, or ``ValueError`` saying what is wrong with it."""
    if not isinstance(obj, type):
        raise ValueError(f"it is a {type(obj).__name__}, not an adapter class")
    manifest = getattr(obj, "manifest", None)
    if not isinstance(manifest, Manifest):
        raise ValueError("its class has no 'manifest' (an adapters.base.Manifest)")
    if manifest.id != expected_id:
        raise ValueError(f"its manifest id is {manifest.id!r}, but it is registered as {expected_id!r}")
    missing = [
        name
        for name in ("find_contact", "create_call_log", "get_call_log", "update_call_log", "find_call_log", "close")
        if not callable(getattr(obj, name, None))
    ]
    if missing:
        raise ValueError(f"it lacks {', '.join(missing)}")
    return manifest


def _plugin_entry_points() -> Iterable[EntryPoint]:
    return entry_points(group=ENTRY_POINT_GROUP)


def discover(
    *,
    builtins: Mapping[str, str] | None = None,
    include_plugins: bool = True,
) -> Registry:
    """Loads the built-in adapters and the installed third-party ones.

    Args:
        builtins: id → ``module:Class``; :data:`BUILTIN_ADAPTERS` by default.
        include_plugins: also load the ``logdesk.adapters`` entry points.

    Returns:
        The registry. Adapters that failed to load are in ``problems`` (and logged as warnings).
    """
    registry = Registry()

    def report(adapter_id: str, origin: str, message: str) -> None:
        registry.problems.append(AdapterProblem(adapter_id, origin, message))
        log.warning("CRM adapter %r from %s is unavailable: %s", adapter_id, origin, message)

    for adapter_id, path in (BUILTIN_ADAPTERS if builtins is None else builtins).items():
        try:
            adapter_class = load_object(path)
            manifest = _check_adapter_class(adapter_class, adapter_id)
        except Exception as exc:  # a broken module must not stop the app
            report(adapter_id, path, _describe(exc))
            continue
        registry.adapters[adapter_id] = AdapterInfo(adapter_id, manifest, adapter_class, "builtin", path)

    if include_plugins:
        for ep in _plugin_entry_points():
            dist = ep.dist.name if ep.dist is not None else "an unknown distribution"
            origin = f"{ep.value} ({dist})"
            if ep.name in registry.adapters:
                report(ep.name, origin, f"the id {ep.name!r} is already taken by {registry.adapters[ep.name].origin}")
                continue
            try:
                adapter_class = ep.load()
                manifest = _check_adapter_class(adapter_class, ep.name)
            except Exception as exc:  # third-party code: anything can happen on import
                report(ep.name, origin, _describe(exc))
                continue
            registry.adapters[ep.name] = AdapterInfo(ep.name, manifest, adapter_class, "plugin", origin)
    return registry


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
