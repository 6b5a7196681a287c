# SPDX-License-Identifier: MIT
"""Composition root: the only place that chooses concrete classes and wires them to Qt.

Start-up order (:func:`run_app`) is chosen so that the first frame already shows the calls:

1. Qt, the style sheet and the window with its calls table (Qt-side modules only);
2. the newest stored calls, a screenful read straight from SQLite by
   :mod:`desktop.engine.listing` (no engine, no pydantic) from the database this start will
   most likely use (:func:`calls_database`), the newest selected;
3. show: the first paint is the table with those rows;
4. after the first paint: the keyring, the settings and the log file, the engine and the CRM
   adapter (the context), then the controller, which lists every stored call (ids and start
   times, on the io pool) and starts the poller, then reads the columns search, filters and
   sorting need; live call events (push), the tray icon and, on a first run, the offer to add
   Logdesk to the applications menu follow. Each call's row is read when it is first shown.

Tests and benchmarks build the window from injected parts with :func:`build_main_window`
(an :class:`AppContext` holding the engine, the CRM adapter and the secret store).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from adapters.base import CrmAdapter
    from adapters.registry import Registry
    from desktop.engine.service import Engine
    from desktop.poller import PollResult
    from desktop.push import PushBridge
    from desktop.secrets import SecretStore, SessionSecretStore
    from desktop.settings import AppSettings
    from desktop.ui.live_controller import LiveController
    from desktop.ui.main_controller import MainController
    from desktop.ui.main_window import MainWindow
    from desktop.workers import Submit

log = logging.getLogger(__name__)

#: In the sandbox, calls arrive every minute or so: poll often so the demo feels alive.
SANDBOX_POLL_SECONDS = 5
#: The engine's database under the data folder (the sandbox's is in ``sandbox/``).
ENGINE_DATABASE = "engine.sqlite3"


@dataclass
class AppContext:
    """Everything the window needs, chosen by the composition root (or a test).

    Attributes:
        engine: the lifecycle engine (Qt-free).
        adapter: the CRM adapter the engine writes to.
        settings: the user's options.
        secrets: where credentials live.
        sandbox: the simulated account, when running on the sandbox (kept alive here).
        warnings: messages for banners (no keyring, a settings file set aside, ...).
        settings_path: where the settings are saved (None: the default location).
        policy: the administrator's policy file as read (None: none).
        registry: the CRM adapters found (``adapters.registry.Registry``); see :meth:`adapter_registry`.
        push_source: the RingCentral client, for live call events over a WebSocket (None: poll).
    """

    engine: Engine
    adapter: CrmAdapter
    settings: AppSettings
    secrets: SecretStore
    sandbox: Any = None
    warnings: list[str] = field(default_factory=list)
    settings_path: Path | None = None
    #: The administrator's policy (``desktop.policy.Policy``): what Settings shows locked.
    policy: Any = None
    connection_settings: dict[str, str] = field(default_factory=dict)
    source_name: str = "RingCentral"
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    on_close: list[Callable[[], None]] = field(default_factory=list)
    registry: Any = None
    #: Issues WebSocket tokens for live call events (the RingCentral client); None: polling only.
    push_source: Any = None

    @property
    def is_sandbox(self) -> bool:
        return self.sandbox is not None

    def adapter_registry(self) -> Any:
        """The built-in and installed CRM adapters, discovered once per run (start-up or first use).

        Threading contract: GUI thread (Settings asks for it each time it opens).
        """
        if self.registry is None:
            from adapters.registry import discover

            self.registry = discover()
        return self.registry

    def close(self) -> None:
        for fn in self.on_close:
            try:
                fn()
            except Exception:
                log.exception("closing failed")
        self.engine.close()


class ContactNames:
    """Who each number belongs to in the CRM, for the Contact column of calls not logged yet.

    Looks up at most ``per_tick`` new numbers per poll (each is a CRM request) and remembers the
    answer: one match gives its name, several give "2 contacts", none gives nothing. The answers
    are forgotten when the engine logs into another CRM.

    Threading contract: used by the poll job only (jobs never overlap).
    """

    def __init__(self, engine: Engine, per_tick: int = 10) -> None:
        self._engine = engine
        self._per_tick = per_tick
        self._names: dict[str, str] = {}
        self._asked: object = engine.adapter

    def fill(self, rows: list[Any]) -> list[Any]:
        if self._engine.adapter is not self._asked:  # another CRM since (switched in Settings)
            self._asked = self._engine.adapter
            self._names.clear()
        budget = self._per_tick
        out = []
        for row in rows:
            number = row.remote_number
            if row.contact_name or not number:
                out.append(row)
                continue
            if number not in self._names and budget > 0:
                budget -= 1
                try:
                    found = self._engine.match_contacts(row.call_id)
                except Exception as exc:
                    log.info("contact look-up for the calls list failed: %s", exc)
                    budget = 0
                else:
                    self._names[number] = (
                        found[0].name if len(found) == 1 else f"{len(found)} contacts" if found else ""
                    )
            name = self._names.get(number)
            out.append(row.model_copy(update={"contact_name": name}) if name else row)
        return out


def poll_work(engine: Engine) -> Callable[[int], PollResult]:
    """The poller's blocking job: one engine tick, then the newest rows (``window``, 200 to 1,000),
    those still completing or failed, and the status."""
    from desktop.engine.models import CallFilter
    from desktop.poller import PollResult

    names = ContactNames(engine)
    last: list[Any] | None = None

    def work(window: int) -> PollResult:
        nonlocal last
        next_due = engine.tick()
        rows = engine.calls(limit=max(200, min(window, 1000)))
        seen = {r.call_id for r in rows}
        # Calls further down the list that are still completing (or failed) change too.
        for extra in (CallFilter.PENDING, CallFilter.FAILED):
            rows += [r for r in engine.calls(extra, limit=200) if r.call_id not in seen]
            seen.update(r.call_id for r in rows)
        rows = names.fill(rows)
        # Compared here, on the worker: an idle tick costs the GUI thread nothing.
        unchanged = rows == last
        last = rows
        return PollResult(rows=rows, status=engine.status(), next_due=next_due, unchanged=unchanged)

    return work


def make_window(*, sandbox: bool, calls: bool = True, extras: bool = True) -> MainWindow:
    """The main window; with ``calls`` its (empty) calls table too, with ``extras`` everything else
    (see :meth:`MainWindow.install_extras`). Only Qt-side modules load."""
    from desktop.ui.main_window import MainWindow

    window = MainWindow(sandbox=sandbox)
    if calls:
        install_calls(window)
        if extras:
            window.install_extras()
    return window


def install_calls(window: MainWindow) -> None:
    """Adds the calls table (model, proxy, view) to a window shell."""
    from desktop.ui.call_table_model import CallFilterProxy, CallTableModel

    model = CallTableModel()
    proxy = CallFilterProxy()
    proxy.setSourceModel(model)
    window.install_calls(model, proxy)


def build_main_window(
    ctx: AppContext,
    *,
    submit: Submit,
    submit_draft: Submit | None = None,
    window: MainWindow | None = None,
    open_url: Callable[[str], None] | None = None,
    start: bool = True,
) -> MainController:
    """Wires a main window to ``ctx``.

    Args:
        ctx: the engine, adapter, settings and secrets.
        submit: runs blocking work off the GUI thread (``bind_pool(io_pool)``).
        submit_draft: runs draft saves (their own pool); ``submit`` when omitted.
        window: an already shown window (the fast start-up path); built here when omitted.
        open_url: opens links (the system browser by default).
        start: load the stored calls and start the poller now.

    Returns:
        The controller; ``controller.window`` is the window.
    """
    from desktop.poller import CallPoller
    from desktop.ui.engine_ports import EnginePorts
    from desktop.ui.main_controller import MainController

    window = window or make_window(sandbox=ctx.is_sandbox)
    if not window.calls_installed:
        install_calls(window)
    if not window.extras_installed:
        window.install_extras()
    for message in ctx.warnings:
        window.add_banner("warning", message)
    if not ctx.secrets.is_persistent and not any("keyring" in m for m in ctx.warnings):
        window.add_banner(
            "warning", "No system keyring is available: credentials are kept for this session only."
        )
    ports = EnginePorts(ctx.engine, ctx.adapter)
    interval = SANDBOX_POLL_SECONDS if ctx.is_sandbox else ctx.settings.poll_interval_seconds
    poller = CallPoller(poll_work(ctx.engine), submit, ctx.clock, interval * 1000, parent=window)
    holder: dict[str, MainController] = {}

    def open_settings() -> None:
        from desktop.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(ctx, submit=submit, parent=window)
        dialog.settings_saved.connect(holder["c"].settings_applier.on_settings_saved)
        dialog.open()
        holder["c"].dialog_opened.emit(dialog)

    controller = MainController(
        window,
        ports,
        poller,
        submit=submit,
        submit_draft=submit_draft or submit,
        open_url=open_url,
        open_settings=open_settings,
        clock=ctx.clock,
        connection_settings=ctx.connection_settings,
    )
    holder["c"] = controller
    controller.settings_applier = SettingsApplier(ctx, controller, submit=submit)
    window.set_connection_text(connection_text(ctx))
    controller.live = wire_live_calls(ctx, controller, submit=submit, submit_draft=submit_draft or submit)
    if start:
        controller.start()
        start_push(ctx, controller)
    return controller


def wire_live_calls(ctx: AppContext, controller: MainController, *, submit: Submit,
                    submit_draft: Submit) -> LiveController:
    """The live-call strip's controller, fed by the push bridge (see :func:`start_push`)."""
    from desktop.ui.live_controller import LiveController

    controller.window.live_strip._clock = ctx.clock
    return LiveController(controller, controller.window.live_strip, settings=lambda: ctx.settings,
                          submit=submit, submit_draft=submit_draft)


def start_push(ctx: AppContext, controller: MainController, **client: Any) -> PushBridge | None:
    """Starts live call events when ``ctx`` has a source for them; the status bar says how it goes.

    Calls still live in the store (the app stopped mid-call) are shown in the strip at once.
    """
    if ctx.push_source is None:
        controller.window.set_push_status("", live=False)
        return None
    from desktop.push import PushBridge

    bridge = PushBridge(ctx.engine, ctx.push_source, parent=controller.window, **client)
    live = controller.live
    bridge.live_changed.connect(live.on_live_changed)
    bridge.caught_up.connect(controller.poller.poll_now)
    bridge.insights_arrived.connect(controller.poller.poll_now)
    bridge.status_changed.connect(lambda status: on_push_status(controller, status))
    ctx.on_close.insert(0, bridge.close)
    controller.push = bridge
    bridge.start()
    return bridge


def on_push_status(controller: MainController, status: Any) -> None:
    from adapters.ringcentral.events import PushState

    live = status.state is PushState.LIVE
    if live:
        text = "● Live call events"
    elif status.state is PushState.UNAVAILABLE:
        text = "○ Checking the call log (live call events unavailable)"
    elif status.state is PushState.CLOSED:
        text = ""
    else:
        text = "○ Connecting live call events…"
    controller.window.set_push_status(text, live=live)
    controller.window.push_label.setToolTip(status.message)
    if status.state is PushState.UNAVAILABLE:
        controller.window.flash(status.message, 8000)
    controller.poller.poll_now()


def connection_text(ctx: AppContext) -> str:
    """The status bar's word on where calls come from and go: "RingCentral  →  HubSpot"."""
    where = "RingCentral sandbox" if ctx.is_sandbox else ctx.source_name
    return f"{where}  →  {ctx.adapter.manifest.name}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def restart_needed(
    running: AppSettings,
    saved: AppSettings,
    *,
    is_sandbox: bool,
    crm_changed: bool | None = None,
    new_rc_session: bool = False,
) -> str | None:
    """What the agent must restart Logdesk for after saving settings, named exactly (``None``:
    everything saved is in use).

    Args:
        running: what the running app uses: the settings it started with, with the CRM connection
            it switched to since.
        saved: the settings just saved.
        is_sandbox: the app runs on the sandbox (which keeps its own CRM and RingCentral account).
        crm_changed: the saved CRM connection is not the one in use (``None``: compare the CRM and
            its connect-form values in ``running`` and ``saved``).
        new_rc_session: a RingCentral sign-in, JWT or client secret was saved since the start.
    """
    if crm_changed is None:
        crm_id = saved.crm.adapter_id
        crm_changed = crm_id != running.crm.adapter_id or (
            saved.crm.settings.get(crm_id, {}) != running.crm.settings.get(crm_id, {})
        )
    items: list[str] = []
    sentences: list[str] = []
    if is_sandbox:
        if new_rc_session:
            sentences.append("Restart Logdesk (without --sandbox) to use your RingCentral account.")
        if crm_changed:
            sentences.append("The sandbox keeps logging into its Local CRM; your CRM connection is used once "
                             "Logdesk runs on your RingCentral account.")
    else:
        if crm_changed:
            items.append("the CRM connection")
        if new_rc_session or saved.ringcentral != running.ringcentral:
            items.append("the RingCentral connection")
    if saved.all_at_once != running.all_at_once:
        items.append("the waiting mode (log once when everything is ready)")
    if items:
        sentences.insert(0, f"Restart Logdesk to apply {_and(items)}.")
    if crm_changed and not is_sandbox:
        sentences.append("A CRM connection that passes Test connection before you save is used at once.")
    if not sentences:
        return None
    return " ".join(sentences) + " Everything else is already in use."


def _crm_values(settings: AppSettings, registry: Any) -> tuple[str, dict[str, str]]:
    """The chosen CRM and its connect-form values, unset ones at the manifest's defaults (what
    the form shows, and what a save writes)."""
    crm_id = settings.crm.adapter_id
    saved = dict(settings.crm.settings.get(crm_id, {}))
    try:
        fields = registry.get(crm_id).manifest.auth.fields
    except KeyError:
        return crm_id, saved
    return crm_id, {f.key: saved.get(f.key, f.default) for f in fields if not f.secret}


class SettingsApplier:
    """Puts saved settings to use in the running app where that is safe, and keeps one banner
    naming exactly what waits for a restart.

    At once: note contents, auto-log and extension logging (the settings dialog sets them on the
    engine), the live-call options (read from ``ctx.settings`` each time), the poll interval (the
    poller's timer and the engine's call-log reads), and a CRM connection that passed "Test
    connection" exactly as saved (the engine switches to the new adapter). After a restart: the
    RingCentral connection, the waiting mode, a CRM connection saved untested, and on the sandbox
    (which keeps its own CRM and account) any connection.

    Threading contract: GUI thread. The CRM switch waits for the engine's CRM lock on ``submit``.

    Args:
        ctx: the running app's context (its adapter and connection are replaced by a switch).
        controller: the main window's controller.
        submit: runs the switch off the GUI thread.
    """

    def __init__(self, ctx: AppContext, controller: MainController, *, submit: Submit) -> None:
        self._ctx = ctx
        self._controller = controller
        self._submit = submit
        #: What the running app uses: the settings it started with, the CRM it switched to since.
        self.running = ctx.settings.model_copy(deep=True)
        self._crm_credentials = False
        self._rc_credentials = False
        self._switching = False
        self._switch_error: str | None = None
        self.banner: Any = None

    def on_settings_saved(self, saved: AppSettings, changes: Any) -> None:
        """The settings dialog saved ``saved`` (``changes``: its ``SavedChanges``)."""
        ctx = self._ctx
        seconds = SANDBOX_POLL_SECONDS if ctx.is_sandbox else saved.poll_interval_seconds
        self._controller.poller.set_interval(seconds * 1000)
        if not ctx.is_sandbox:
            ctx.engine.set_sync_every(timedelta(seconds=saved.poll_interval_seconds))
        self._crm_credentials = self._crm_credentials or changes.crm_credentials
        self._rc_credentials = self._rc_credentials or changes.ringcentral_credentials
        self._switch_error = None
        if not ctx.is_sandbox and changes.crm_tested and self._crm_differs(saved):
            self._switch_crm(saved)
        self._show_restart()

    def _crm_differs(self, saved: AppSettings) -> bool:
        registry = self._ctx.adapter_registry()
        return self._crm_credentials or _crm_values(saved, registry) != _crm_values(self.running, registry)

    def _switch_crm(self, saved: AppSettings) -> None:
        ctx = self._ctx
        crm_id = saved.crm.adapter_id
        try:
            adapter, connection = connect_crm(crm_id, ctx.adapter_registry(), ctx.secrets, saved)
        except Exception as exc:
            log.info("could not connect %s: %s", crm_id, exc)
            self._switch_error = f"Could not connect {crm_id}: {getattr(exc, 'message', None) or exc}."
            return
        self._switching = True
        target = saved.crm.model_copy(deep=True)
        self._submit(
            lambda: ctx.engine.use_adapter(adapter),
            on_result=lambda _none: self._on_crm_switched(adapter, connection, target),
            on_error=lambda exc: self._on_crm_switch_error(adapter, exc),
        )

    def _on_crm_switched(self, adapter: CrmAdapter, connection: Any, crm: Any) -> None:
        ctx = self._ctx
        self._switching = False
        # The adapter replaced stays open until the app closes: a job started before may use it.
        ctx.on_close.append(adapter.close)
        ctx.adapter = adapter
        ctx.connection_settings = dict(connection.settings)
        self.running.crm = crm
        self._crm_credentials = False
        self._controller.use_crm(adapter, ctx.connection_settings, connection_text(ctx))
        self._controller.window.flash(f"Calls are logged into {adapter.manifest.name} from now on.", 8000)
        self._show_restart()
        self._controller.poller.poll_now()

    def _on_crm_switch_error(self, adapter: CrmAdapter, exc: Exception) -> None:
        self._switching = False
        adapter.close()
        log.info("switching the CRM failed: %s", exc)
        self._switch_error = f"Could not switch to {adapter.manifest.name}: {getattr(exc, 'message', None) or exc}."
        self._show_restart()

    def _show_restart(self) -> None:
        """The banner naming what waits for a restart: shown, updated, or hidden."""
        saved = self._ctx.settings
        message = restart_needed(
            self.running, saved, is_sandbox=self._ctx.is_sandbox,
            crm_changed=not self._switching and self._crm_differs(saved),
            new_rc_session=self._rc_credentials,
        )
        if self._switch_error:
            message = f"{self._switch_error} {message or ''}".strip()
        window = self._controller.window
        if message is None:
            if self.banner is not None:
                self.banner.hide()
            return
        if self.banner is None:
            self.banner = window.add_banner("info", message)
        else:
            self.banner.set_text(message)
        self.banner.show()


# --- building the real context ------------------------------------------------------------------


class AccountClock:
    """The engine's clock read from a sandbox account's clock (UNIX seconds → aware datetime)."""

    def __init__(self, seconds: Callable[[], float]) -> None:
        self._seconds = seconds

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._seconds(), UTC)

    def __call__(self) -> datetime:
        return self.now()


def sandbox_context(
    data_dir: Path,
    secrets: SecretStore,
    settings: AppSettings,
    *,
    account: Any = None,
    warnings: list[str] | None = None,
    give_up_after: timedelta = timedelta(minutes=10),
    use_developer_crm: bool = True,
) -> AppContext:
    """The sandbox: a simulated RingCentral account (in-process) and the Local CRM with demo
    contacts, its files under ``data_dir``.

    Args:
        account: a ``SandboxAccount`` (tests pass one on a manual clock); by default a live demo
            account on the real clock with compressed delays (a call every 30–60 s, recording and
            AI note within two minutes).
        use_developer_crm: honour ``LOGDESK_SANDBOX_CRM`` (see :data:`SANDBOX_CRM_ENV`); False
            keeps the Local CRM (the developer declined to give the CRM's token).
    """
    import time

    from adapters.ringcentral.sandbox import SandboxAccount, connect, preset
    from desktop.engine.recovery import open_store
    from desktop.engine.service import Engine

    data_dir.mkdir(parents=True, exist_ok=True)
    if account is None:
        account = SandboxAccount(clock=time.time, scenario=preset("happy", demo=True), seed=int(time.time()))
    client = connect(account)
    extension = client.get_extension()
    clock = AccountClock(account.clock)
    file_warnings: list[str] = []
    crm = _open_local_crm(data_dir / "local-crm.sqlite3", settings.default_region, clock, file_warnings)
    crm.seed_demo()
    adapter: CrmAdapter = crm
    on_close: list[Callable[[], None]] = [client.close, crm.close]
    if hasattr(account, "close"):
        on_close.append(account.close)  # the sandbox's WebSocket gateway and its threads
    developer_crm = os.environ.get(SANDBOX_CRM_ENV, "").strip() if use_developer_crm else ""
    if developer_crm:  # developer option: the sandbox logs into a connected CRM (or its fake)
        adapter = _saved_adapter(developer_crm, secrets, settings)
        on_close.append(adapter.close)
    opened = open_store(data_dir / sandbox_database_name(use_developer_crm=use_developer_crm))
    store = opened.store
    if opened.message:
        file_warnings.append(opened.message)
    engine = Engine(
        store,
        adapter,
        client,
        settings.notes,
        extension_id=str(extension.id),
        clock=clock,
        auto_log=settings.auto_log,
        all_at_once=settings.all_at_once,
        give_up_after=give_up_after,
        allow_extension_logging=settings.allow_extension_logging,
        recordings_expected=True,
    )
    return AppContext(
        engine=engine,
        adapter=adapter,
        settings=settings,
        secrets=secrets,
        sandbox=account,
        warnings=[*(warnings or []), *file_warnings],
        source_name="RingCentral sandbox",
        clock=clock,
        on_close=on_close,
        push_source=client,
    )


#: Developer option: ``LOGDESK_SANDBOX_CRM=hubspot`` (any adapter id) makes the sandbox log into
#: that CRM, connected as saved in Settings → CRM, instead of the Local CRM. With
#: ``LOGDESK_HUBSPOT_URL``/``LOGDESK_PIPEDRIVE_URL`` naming a fake served by
#: ``python -m tests.fakes.hubspot`` (or ``pipedrive``), the whole app runs against that fake.
#: A token-based CRM whose token is not stored (no system keyring: nothing survives a restart)
#: has it asked for at start-up (:func:`prepare_sandbox_crm`) and kept in memory for the session.
#: The engine's database is ``sandbox/engine-<id>.sqlite3`` under the data folder.
SANDBOX_CRM_ENV = "LOGDESK_SANDBOX_CRM"

#: Asks the developer for a CRM's missing secret fields: ``(manifest, fields) -> values by key``,
#: or ``None`` when they decline (the sandbox then keeps the Local CRM).
AskSecrets = Callable[[Any, list[Any]], dict[str, str] | None]


def missing_sandbox_secrets(crm_id: str, secrets: SecretStore) -> tuple[Any, list[Any]]:
    """The manifest of adapter ``crm_id`` and its required secret fields with no stored value.

    Only a token-based CRM is asked for: an OAuth one needs a browser sign-in (Settings → CRM).
    """
    from adapters.base import AuthKind
    from desktop.secrets import SecretStoreUnavailable

    manifest = _developer_registry(crm_id).get(crm_id).manifest
    if manifest.auth.kind is not AuthKind.TOKEN:
        return manifest, []
    missing = []
    for f in manifest.auth.fields:
        if not (f.secret and f.required):
            continue
        try:
            value = secrets.get(f"{crm_id}:{f.key}")
        except SecretStoreUnavailable:
            value = None
        if not value:
            missing.append(f)
    return manifest, missing


def prepare_sandbox_crm(secrets: SessionSecretStore, *, ask: AskSecrets) -> tuple[bool, str | None]:
    """Before the sandbox starts: when ``LOGDESK_SANDBOX_CRM`` names a CRM whose token (any
    required secret field) is not stored, asks for it with ``ask`` and keeps the answer in
    ``secrets`` for this session only — never in the keyring, the settings or a file.

    Returns:
        Whether the sandbox should log into that CRM, and a warning for the window when it
        falls back to the Local CRM because the developer gave no token.
    """
    crm_id = os.environ.get(SANDBOX_CRM_ENV, "").strip()
    if not crm_id:
        return True, None
    try:
        manifest, missing = missing_sandbox_secrets(crm_id, secrets)
    except KeyError:
        return True, None  # an unknown id: building the sandbox says so
    if not missing:
        return True, None
    values = ask(manifest, missing)
    if values is None or not all(values.get(f.key) for f in missing):
        names = ", ".join(f.label for f in missing)
        return False, f"{SANDBOX_CRM_ENV}={crm_id}: no {names} was given, so the sandbox logs into the Local CRM."
    for f in missing:
        secrets.keep_for_session(f"{crm_id}:{f.key}", values[f.key])
    log.info("%s=%s: secrets given for this session only", SANDBOX_CRM_ENV, crm_id)
    return True, None


def ask_with_dialog(secrets: SecretStore, parent: Any = None) -> AskSecrets:
    """:data:`AskSecrets` through :class:`~desktop.ui.session_secrets_dialog.SessionSecretsDialog`
    (modal, at start-up)."""

    def ask(manifest: Any, fields: list[Any]) -> dict[str, str] | None:
        from PySide6.QtWidgets import QDialog

        from desktop.ui.session_secrets_dialog import SessionSecretsDialog

        crm_id = os.environ.get(SANDBOX_CRM_ENV, "").strip()
        dialog = SessionSecretsDialog(
            manifest.name, crm_id, fields, persistent_store=secrets.is_persistent, parent=parent
        )
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.values()
        finally:
            dialog.deleteLater()

    return ask


def _open_local_crm(path: Path, region: str, clock: Callable[[], datetime], warnings: list[str]) -> Any:
    """The Local CRM at ``path``; a damaged file is set aside (``…corrupt-<time>``) and a new one
    started, with a message for the agent in ``warnings``."""
    from adapters.base import AdapterError
    from adapters.crm.local import LocalCrm
    from desktop.engine.recovery import is_damaged, set_aside

    try:
        return LocalCrm.open(path, region=region, clock=clock)
    except AdapterError as exc:
        if not is_damaged(exc):
            raise
        why = f"The Local CRM file {path.name} is damaged ({exc.vendor_message or exc.message})."
        aside = set_aside(path, datetime.now(), why)
        warnings.append(f"{why.rstrip('.')}: it was set aside as {aside.name} and a new, empty one was started.")
        return LocalCrm.open(path, region=region, clock=clock)


def _saved_connection(crm_id: str, manifest: Any, secrets: SecretStore, settings: AppSettings) -> Any:
    """The saved connect-form values and keyring secrets for ``crm_id``, as an adapter Connection.

    Besides the manifest's own fields, every adapter gets the user's phone region and search
    patterns (``adapters.base.SETTING_REGION`` / ``SETTING_PHONE_PATTERNS``).
    """
    from adapters.base import SETTING_PHONE_PATTERNS, SETTING_REGION, Connection
    from desktop import paths

    values = dict(settings.crm.settings.get(crm_id, {}))
    values.setdefault(SETTING_REGION, settings.default_region)
    if settings.phone_patterns:
        values.setdefault(SETTING_PHONE_PATTERNS, "\n".join(settings.phone_patterns))
    if crm_id == "local":
        values.setdefault("path", str(paths.data_dir() / "local-crm.sqlite3"))
    secret_keys = [f.key for f in manifest.auth.fields if f.secret]
    if manifest.auth.kind.value == "oauth_pkce":
        secret_keys.append("tokens")  # the session a browser sign-in stored (adapters.oauth.TokenSet)
    secret_values = {key: v for key in secret_keys if (v := secrets.get(f"{crm_id}:{key}"))}
    return Connection(settings=values, secrets=secret_values)


def _developer_registry(crm_id: str) -> Registry:
    """A registry with only the adapter ``crm_id`` (a built-in) or the plug-ins."""
    from adapters.registry import BUILTIN_ADAPTERS, discover

    # Load only the adapter asked for: another one failing to import is not this option's business.
    builtin = {crm_id: BUILTIN_ADAPTERS[crm_id]} if crm_id in BUILTIN_ADAPTERS else {}
    return discover(builtins=builtin, include_plugins=not builtin)


def _saved_adapter(crm_id: str, secrets: SecretStore, settings: AppSettings) -> CrmAdapter:
    """The adapter ``crm_id`` connected as saved in Settings → CRM; a pair it renews (a rotated
    refresh token, a Bullhorn REST session) is saved back as the production context does."""
    registry = _developer_registry(crm_id)
    connection = _saved_connection(crm_id, registry.get(crm_id).manifest, secrets, settings)

    def save_secrets(new: Any) -> None:
        for key, value in dict(new).items():
            secrets.set(f"{crm_id}:{key}", value)

    return registry.create(crm_id, connection, save_secrets=save_secrets)


#: Calls read before the first paint: more than a tall window shows.
FIRST_SCREENFUL = 30


def run_app(
    *,
    sandbox: bool = False,
    on_first_paint: Callable[[], None] | None = None,
    on_started: Callable[[MainController | None], None] | None = None,
) -> int:
    """Starts the desktop app: the window with the newest stored calls first, everything else
    right after its first paint (see the module docstring).

    Args:
        on_first_paint: called once the calls table has been painted for the first time.
        on_started: called once the rest of start-up has run, with the main controller (None:
            start-up failed; the window says why).
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:  # (asking an existing one for its style's name would build QStyle's enums)
        app = QApplication(sys.argv)
        app.setStyle("Fusion")
    assert isinstance(app, QApplication)
    app.setApplicationName("Logdesk")
    app.setOrganizationName("Logdesk")
    app.setDesktopFileName("logdesk")  # Wayland's app id: the menu entry logdesk install-desktop writes
    from desktop import paths
    from desktop.single_instance import SingleInstance, server_name

    args = sys.argv[1:]
    instance = SingleInstance(server_name(paths.data_dir()), parent=app)
    if instance.running_elsewhere(args):
        return _leave_to_the_other(paths.data_dir())
    from desktop.ui.resources import app_stylesheet, icon

    app.setStyleSheet(app_stylesheet())
    window = make_window(sandbox=sandbox, extras=False)
    window.restore_ui_state()
    show_newest_calls(window, calls_database(sandbox=sandbox))
    window.single_instance = instance
    instance.activated.connect(lambda _args: bring_to_front(window))
    state: dict[str, Any] = {}
    if on_first_paint is not None:
        window.table.first_painted.connect(on_first_paint)
    window.show()

    def finish() -> None:
        if state.get("started"):
            return
        state["started"] = True
        if not instance.listen(args):  # another one started at the same moment and listened first
            state["code"] = _leave_to_the_other(paths.data_dir())
            window.close()
            return
        try:
            window.install_extras()
            app.setWindowIcon(icon("logdesk"))
            state.update(_finish_startup(app, window, sandbox=sandbox))
        except Exception as exc:
            log.exception("start-up failed")
            window.add_banner("error", f"Logdesk could not start: {exc}")
        if on_started is not None:
            on_started(state.get("controller"))

    window.table.first_painted.connect(lambda: QTimer.singleShot(0, finish))
    QTimer.singleShot(2000, finish)  # a window started minimised may not paint for a while
    code = app.exec()
    _shutdown(state)
    instance.close()
    return int(state.get("code", code))


def _leave_to_the_other(data_dir: Path) -> int:
    print("Logdesk is already running: its window comes to the front.", flush=True)
    log.info("another Logdesk runs on %s: handed over and leaving", data_dir)
    return 0


def bring_to_front(window: Any) -> None:
    """A second launch asked for the window: restore it and raise it (the tray may hide it)."""
    window.showNormal()
    window.raise_()
    window.activateWindow()


def calls_database(*, sandbox: bool) -> Path:
    """The engine database this start will most likely open: the sandbox's when asked for, or
    when there is no other yet, else the real one.

    Known before the keyring says whether RingCentral is connected, so it can be wrong (the
    keyring is locked: the app falls back to the sandbox); the table then shows the right calls
    once the engine has started.
    """
    from desktop import paths

    if not sandbox:
        real = paths.data_dir() / ENGINE_DATABASE
        if real.is_file():
            return real
    return paths.data_dir() / "sandbox" / sandbox_database_name()


def sandbox_database_name(*, use_developer_crm: bool = True) -> str:
    """The sandbox engine's file name: its own per developer CRM (see :data:`SANDBOX_CRM_ENV`)."""
    crm = os.environ.get(SANDBOX_CRM_ENV, "").strip() if use_developer_crm else ""
    return f"engine-{crm}.sqlite3" if crm else ENGINE_DATABASE


def show_newest_calls(window: MainWindow, database: Path) -> None:
    """Puts the newest stored calls in the table, read straight from ``database`` (no engine,
    no pydantic), and selects the newest: what the first frame shows."""
    import sqlite3

    from desktop.engine.listing import CallListing
    from desktop.ui.call_table_model import CallItem

    listing = CallListing.open(database)
    if listing is None:
        return
    try:
        rows = listing.newest(FIRST_SCREENFUL)
    except sqlite3.Error as exc:
        log.warning("could not read the newest calls from %s: %s", database, exc)
        return
    finally:
        listing.close()
    window.model.set_rows([CallItem.from_row(r) for r in rows])
    newest = window.proxy.item_at(0)
    if newest is not None:
        window.select_call(newest.call_id)
        window.table.setFocus()


def local_time_zone() -> str | None:
    """The computer's IANA time zone name (``TZ``, else where ``/etc/localtime`` points), if known."""
    import os
    from zoneinfo import ZoneInfo

    candidates = [os.environ.get("TZ", "").lstrip(":")]
    try:
        target = str(Path("/etc/localtime").resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    except OSError:
        pass
    for name in candidates:
        if not name:
            continue
        try:
            ZoneInfo(name)
        except Exception as exc:
            log.debug("not a usable time zone %r: %s", name, exc)
            continue
        return name
    return None


def with_local_defaults(settings: AppSettings) -> AppSettings:
    """First run: notes show times in the computer's time zone rather than UTC."""
    if "notes" in settings.model_fields_set:
        return settings
    zone = local_time_zone()
    if zone:
        settings.notes = settings.notes.model_copy(update={"time_zone": zone})
    return settings


def _finish_startup(app: QApplication, window: MainWindow, *, sandbox: bool) -> dict[str, Any]:
    from desktop import paths
    from desktop.logs import setup_logging
    from desktop.secrets import SessionSecretStore, open_secret_store
    from desktop.settings import load_settings
    from desktop.workers import bind_pool, make_pool

    base_secrets, secrets_warning = open_secret_store()
    # Secrets given at start-up for this session only stay in memory (and are redacted from logs).
    secrets = SessionSecretStore(base_secrets)
    setup_logging(secrets.values)
    from desktop.settings import default_path

    first_start = not default_path().exists()
    settings, settings_warning = load_settings()
    policy, policy_warning = managed_policy()
    settings = policy.apply(with_local_defaults(settings), first_start=first_start)
    warnings = [m for m in (secrets_warning, settings_warning, policy_warning) if m]
    io_pool = make_pool("io", 4)
    draft_pool = make_pool("draft", 1)
    from desktop.secrets import SecretStoreUnavailable

    sandbox, mode_warning = startup_mode(settings, secrets, sandbox=sandbox)
    if mode_warning:
        warnings.append(mode_warning)
    ctx = None
    if not sandbox:
        try:
            ctx = _production_context(secrets, settings, warnings)
        except SecretStoreUnavailable as exc:
            warnings.append(f"{exc} Until then you are looking at the sandbox; restart Logdesk after unlocking.")
    if ctx is None:
        use_crm, crm_warning = prepare_sandbox_crm(secrets, ask=ask_with_dialog(secrets, window))
        if crm_warning:
            warnings.append(crm_warning)
        ctx = sandbox_context(
            paths.data_dir() / "sandbox", secrets, settings, warnings=warnings, use_developer_crm=use_crm
        )
    ctx.policy = policy
    controller = build_main_window(
        ctx, submit=bind_pool(io_pool), submit_draft=bind_pool(draft_pool), window=window
    )
    tray = _make_tray(app, window, ctx)
    controller.set_tray(tray.icon if tray is not None else None)
    offer = _offer_desktop_entry(window)
    log.info("started (sandbox=%s, crm=%s)", ctx.is_sandbox, ctx.adapter.manifest.id)
    return {"ctx": ctx, "controller": controller, "pools": [io_pool, draft_pool], "tray": tray,
            "desktop_offer": offer}


def managed_policy() -> tuple[Any, str | None]:
    """The administrator's policy (:mod:`desktop.policy`) and the words when it was ignored; CRM
    connection settings in it are checked against the adapters' manifests."""
    from desktop.policy import load_policy

    policy, problem = load_policy()
    if problem is None and any(key.startswith("crm.settings.") for key in (*policy.defaults, *policy.locked)):
        from adapters.registry import discover

        policy, problem = load_policy(manifests={info.manifest.id: info.manifest for info in discover()})
    if problem:
        log.warning("%s", problem)
    return policy, problem


def _ringcentral_connected(settings: AppSettings, secrets: SecretStore) -> bool:
    """Whether a RingCentral session (or a JWT credential) is stored for the configured app.

    Raises:
        SecretStoreUnavailable: the keyring is locked or gone.
    """
    if not settings.ringcentral.client_id:
        return False
    if settings.ringcentral.auth_mode == "jwt":
        return bool(secrets.get("ringcentral:jwt"))
    return bool(secrets.get("ringcentral:tokens"))


def startup_mode(settings: AppSettings, secrets: SecretStore, *, sandbox: bool) -> tuple[bool, str | None]:
    """Whether to start on the sandbox, and what to tell the user about that choice."""
    from desktop.secrets import SecretStoreUnavailable

    if sandbox:
        return True, None
    try:
        connected = _ringcentral_connected(settings, secrets)
    except SecretStoreUnavailable as exc:
        log.info("cannot read the RingCentral session: %s", exc)
        return True, f"{exc} Until then you are looking at the sandbox; restart Logdesk after unlocking."
    if not connected:
        return True, (
            "RingCentral is not connected yet, so you are looking at the sandbox. "
            "Connect your account in Settings → RingCentral, then restart Logdesk."
        )
    return False, None


def connect_crm(crm_id: str, registry: Registry, secrets: SecretStore, settings: AppSettings) -> tuple[CrmAdapter, Any]:
    """The adapter ``crm_id`` connected as saved (the connect form's values and the keyring's
    secrets), and that connection. A pair the adapter renews (a rotated refresh token) is saved
    back to the store, from the worker thread that renewed it.

    Raises:
        KeyError: no adapter has that id.
        SecretStoreUnavailable: the keyring cannot be read.
    """

    def save_secrets(new: Any) -> None:
        for key, value in dict(new).items():
            secrets.set(f"{crm_id}:{key}", value)

    connection = _saved_connection(crm_id, registry.get(crm_id).manifest, secrets, settings)
    return registry.create(crm_id, connection, save_secrets=save_secrets), connection


def _production_context(secrets: SecretStore, settings: AppSettings, warnings: list[str]) -> AppContext:
    from adapters.registry import discover
    from adapters.ringcentral.client import RingCentralClient
    from desktop import paths
    from desktop.engine.recovery import open_store
    from desktop.engine.scheduler import PollPlan
    from desktop.engine.service import Engine

    registry = discover()
    adapter, connection = connect_crm(settings.crm.adapter_id, registry, secrets, settings)
    client = RingCentralClient.from_settings(settings.ringcentral, secrets)
    opened = open_store(paths.data_dir() / ENGINE_DATABASE)
    store = opened.store
    if opened.message:
        warnings.append(opened.message)
    engine = Engine(
        store,
        adapter,
        client,
        settings.notes,
        extension_id=client.extension_id(),
        auto_log=settings.auto_log,
        all_at_once=settings.all_at_once,
        give_up_after=timedelta(hours=settings.give_up_after_hours),
        allow_extension_logging=settings.allow_extension_logging,
        plan=PollPlan(sync_every=timedelta(seconds=settings.poll_interval_seconds)),
    )
    return AppContext(
        engine=engine, adapter=adapter, settings=settings, secrets=secrets, warnings=warnings,
        registry=registry,
        connection_settings=connection.settings, on_close=[client.close, client.auth.close, adapter.close],
        push_source=client,
    )


def _make_tray(app: QApplication, window: MainWindow, ctx: AppContext) -> Any:
    """The tray (None where the desktop has none: closing the window then quits)."""
    from desktop import install
    from desktop.ui.tray import make_tray

    def save(settings: AppSettings) -> None:
        try:
            settings.save(ctx.settings_path)
        except OSError as exc:
            window.flash(f"Settings not saved: {exc.strerror or exc}", 8000)

    return make_tray(app, window, settings=lambda: ctx.settings, save_settings=save,
                     login_item=install.login_item())


def _offer_desktop_entry(window: MainWindow) -> Any:
    """The first run's offer to add Logdesk to the applications menu (asked once; None when not
    asked)."""
    from PySide6.QtCore import QSettings

    from desktop import install
    from desktop.ui.desktop_offer import offer_desktop_entry

    return offer_desktop_entry(window, state=QSettings("Logdesk", "ui"), menu_entry=install.menu_entry(),
                               login_item=install.login_item())


def _shutdown(state: dict[str, Any]) -> None:
    """Stops what feeds the GUI (push events, the poller), waits for jobs in flight, then closes
    the engine and the clients. Queued CRM writes stay in the outbox for the next start.

    Order matters at exit: nothing may still run on another thread and report to a Qt object once
    the window and the application are being destroyed.
    """
    controller = state.get("controller")
    if controller is not None:
        if controller.push is not None:
            controller.push.close()  # joins the socket's thread; no more live_changed
        controller.poller.stop()
    for pool in state.get("pools", []):
        pool.clear()
        if not pool.waitForDone(15_000):
            log.warning("quitting with a job still running in the %s pool", pool.objectName() or "worker")
    ctx = state.get("ctx")
    if ctx is not None:
        ctx.close()
