# SPDX-License-Identifier: MIT
"""Settings: RingCentral, the CRM connection (a form generated from the adapter's manifest), what
goes into the note (with a live preview in the CRM's format) and logging behaviour.

Secrets typed here go to the secret store on Save (on the GUI thread), never to the settings file.
"Test connection" and sign-ins run on a pool thread with the values read here. A browser sign-in
(RingCentral's or a CRM's) can be cancelled while it waits for the browser (its button turns into
"Cancel sign-in"), and closing the dialog cancels it, so the redirect port is released at once.

Threading contract: GUI thread only.
"""

from __future__ import annotations

import logging
import threading
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import available_timezones

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from adapters.base import AuthField, AuthKind, Connection, Manifest
from adapters.models import Call
from adapters.notes.models import AiNote, NoteContent, NoteSettings
from adapters.oauth import LoopbackReceiver, SignInCancelled
from desktop.settings import AppSettings
from desktop.ui.page_fields_form import form_label
from desktop.ui.resources import icon
from desktop.ui.widgets import Banner
from desktop.workers import Submit

log = logging.getLogger(__name__)

DATE_FORMATS = [
    ("YYYY-MM-DD hh:mm:ss A", "2026-04-10 03:05:09 PM"),
    ("YYYY-MM-DD HH:mm:ss", "2026-04-10 15:05:09"),
    ("MM/DD/YYYY hh:mm:ss A", "04/10/2026 03:05:09 PM"),
    ("MM/DD/YYYY HH:mm:ss", "04/10/2026 15:05:09"),
    ("DD/MM/YYYY hh:mm:ss A", "10/04/2026 03:05:09 PM"),
    ("DD/MM/YYYY HH:mm:ss", "10/04/2026 15:05:09"),
]

NOTE_TOGGLES = [
    ("note", "Agent-entered notes"),
    ("subject", "Call subject"),
    ("contact_number", "Contact's phone number"),
    ("date_time", "Date and time"),
    ("duration", "Call duration"),
    ("result", "Call result"),
    ("recording", "Link to the recording"),
    ("ai_note", "AI note (smart summary)"),
    ("transcript", "Call transcript"),
    ("journey", "Call journey"),
    ("session_id", "Call session id"),
    ("rc_user", "RingCentral user name"),
    ("rc_number", "RingCentral phone number"),
]


def _open_in_browser(url: str) -> None:
    """Opens the sign-in page (called from the sign-in job: the stdlib opener, not Qt)."""
    webbrowser.open(url)


def secret_key(adapter_id: str, field: str) -> str:
    return f"{adapter_id}:{field}"


def _reason(exc: Exception) -> str:
    """What a failed sign-in or connection test says: the error's message, else the error's text."""
    return str(getattr(exc, "message", None) or exc)


_Layout = TypeVar("_Layout", QHBoxLayout, QVBoxLayout)
_T = TypeVar("_T")


def _beside(widget: QWidget, extra: QWidget) -> None:
    """Puts ``extra`` just right of ``widget``, where ``widget`` sits in its layout."""
    parent = widget.parentWidget()
    layout = parent.layout() if parent is not None else None
    if layout is None:
        return
    row = QWidget(parent)
    line = QHBoxLayout(row)
    line.setContentsMargins(0, 0, 0, 0)
    line.setSpacing(6)
    layout.replaceWidget(widget, row)
    line.addWidget(widget, 1)
    line.addWidget(extra)


def _page(layout: _Layout, *, spacing: int) -> tuple[QWidget, _Layout]:
    """A settings tab: a page holding ``layout`` with the tabs' margins."""
    page = QWidget()
    page.setLayout(layout)
    layout.setContentsMargins(16, 16, 16, 16)
    layout.setSpacing(spacing)
    return page, layout


@dataclass(frozen=True)
class SavedChanges:
    """What a save did besides writing the settings file (the composition root decides from it
    what applies at once and what waits for a restart).

    Attributes:
        crm_credentials: new CRM secrets (typed, or a browser sign-in) went to the secret store.
        crm_tested: "Test connection" succeeded with exactly the CRM, values and secrets saved.
        ringcentral_credentials: a RingCentral sign-in, JWT or client secret went to the store.
    """

    crm_credentials: bool = False
    crm_tested: bool = False
    ringcentral_credentials: bool = False


class SignInWait:
    """A browser sign-in in progress, so the GUI thread can end its wait for the redirect.

    Threading contract: :meth:`attach` and :meth:`open` run on the sign-in job's thread,
    :meth:`cancel` on the GUI thread; all are thread-safe. Cancelling before the redirect listener
    is bound cancels it as soon as it is, and the browser is then not opened.

    Args:
        open_url: opens the authorize page (the system browser).
    """

    def __init__(self, open_url: Callable[[str], None]) -> None:
        self._open_url = open_url
        self._lock = threading.Lock()
        self._receiver: LoopbackReceiver | None = None
        self.cancelled = False

    def attach(self, receiver: LoopbackReceiver) -> None:
        """Keeps the redirect listener (the adapter's ``on_receiver``)."""
        with self._lock:
            self._receiver = receiver
            cancelled = self.cancelled
        if cancelled:
            receiver.cancel()

    def open(self, url: str) -> None:
        """Opens the authorize page unless the sign-in was already cancelled."""
        if not self.cancelled:
            self._open_url(url)

    def cancel(self) -> None:
        """Ends the wait: the sign-in fails with ``SignInCancelled``."""
        with self._lock:
            self.cancelled = True
            receiver = self._receiver
        if receiver is not None:
            receiver.cancel()


class SignInButton:
    """The button that starts one kind of browser sign-in and, while it waits, cancels it.

    While a sign-in runs the button reads "Cancel sign-in"; pressing it (or closing the dialog)
    calls :meth:`cancel`, which leaves the button disabled until the sign-in's job has reported.

    Threading contract: GUI thread only; the :class:`SignInWait` from :meth:`start` is what the
    sign-in job's thread uses.

    Args:
        button: the button.
        idle_text: the button's label when no sign-in runs (asked each time: it may name the chosen CRM).
    """

    def __init__(self, button: QPushButton, idle_text: Callable[[], str]) -> None:
        self.button = button
        self._idle_text = idle_text
        self.wait: SignInWait | None = None

    def start(self, open_url: Callable[[str], None]) -> SignInWait:
        """A new sign-in owns the button, which now offers to cancel it."""
        wait = SignInWait(open_url)
        self.wait = wait
        self.button.setEnabled(True)
        self.button.setText("Cancel sign-in")
        return wait

    def cancel(self) -> bool:
        """Cancels the running sign-in; False when none runs."""
        if self.wait is None:
            return False
        self.wait.cancel()
        self.button.setEnabled(False)
        return True

    def finish(self, wait: SignInWait) -> bool:
        """Puts the button back after ``wait``'s job reported; False when a newer sign-in owns it."""
        if self.wait is not wait:
            return False
        self.wait = None
        self.button.setEnabled(True)
        self.button.setText(self._idle_text())
        return True


class SettingsDialog(QDialog):
    """The settings window.

    Args:
        ctx: the :class:`~desktop.app.AppContext` (settings, secrets, adapter, sandbox flag).
        submit: runs connection tests and sign-ins off the GUI thread.
        open_url: opens a browser sign-in page (RingCentral's or a CRM's); called on the sign-in
            job's thread, so it must not touch Qt (the system browser through :mod:`webbrowser` by
            default).
        crm_redirect_port: the loopback port a CRM's browser sign-in listens on (None: the one its
            adapter documents for the vendor's app registration; tests use a free one).

    Signals:
        settings_saved(object, object): the saved :class:`AppSettings`, and the
            :class:`SavedChanges` (new credentials, a tested CRM connection).
    """

    settings_saved = Signal(object, object)

    def __init__(
        self,
        ctx: Any,
        *,
        submit: Submit,
        open_url: Callable[[str], None] | None = None,
        crm_redirect_port: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("SettingsDialog")
        self.setWindowTitle("Settings")
        self.setMinimumSize(760, 560)
        self._ctx = ctx
        self._submit = submit
        self._open_url = open_url
        self._crm_redirect_port = crm_redirect_port
        self.settings: AppSettings = ctx.settings.model_copy(deep=True)
        self._secrets = ctx.secrets
        self._pending_rc_tokens: str | None = None
        root = QVBoxLayout(self)
        root.setContentsMargins(20, 18, 20, 16)
        root.setSpacing(12)
        title = QLabel("Settings")
        title.setObjectName("DialogTitle")
        root.addWidget(title)
        if not self._secrets.is_persistent:
            self.keyring_banner = Banner(
                "warning",
                "No system keyring is available: credentials you enter are kept for this session only "
                "and will be asked again next launch. They are never written to a file.",
                closable=False,
            )
            root.addWidget(self.keyring_banner)
        self.tabs = QTabWidget()
        self.tabs.setUsesScrollButtons(False)
        self.tabs.tabBar().setExpanding(False)
        self.tabs.addTab(self._ringcentral_page(), "RingCentral")
        self.tabs.addTab(self._crm_page(), "CRM")
        self.tabs.addTab(self._note_page(), "Note contents")
        self.tabs.addTab(self._logging_page(), "Logging")
        root.addWidget(self.tabs, 1)
        buttons = QHBoxLayout()
        self.status = QLabel("")
        self.status.setProperty("role", "muted")
        buttons.addWidget(self.status, 1)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons.addWidget(cancel)
        self.save_button = QPushButton("Save")
        self.save_button.setObjectName("SaveButton")
        self.save_button.setProperty("primary", True)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.on_save_clicked)
        self._lock_labels: list[QLabel] = []
        buttons.addWidget(self.save_button)
        root.addLayout(buttons)
        self.update_preview()
        self._show_policy_locks()

    # --- managed settings -----------------------------------------------------------------------

    def _policy_widgets(self) -> dict[str, QWidget]:
        """The control of each setting a policy may lock, by its dotted path (``desktop.policy``)."""
        widgets: dict[str, QWidget] = {
            "auto_log": self.auto_log,
            "all_at_once": self.all_at_once,
            "allow_extension_logging": self.allow_extension,
            "open_log_on_call_end": self.open_log_on_end,
            "close_to_tray": self.close_to_tray,
            "poll_interval_seconds": self.poll_interval,
            "notes.date_format": self.date_format,
            "notes.time_zone": self.time_zone,
            "crm.adapter_id": self.crm_picker,
        }
        widgets.update({f"notes.{key}": box for key, box in self.note_toggles.items()})
        adapter_id = self.current_adapter_id()
        widgets.update({f"crm.settings.{adapter_id}.{key}": edit for key, edit in self.crm_inputs.items()})
        return widgets

    def _show_policy_locks(self) -> None:
        """Each setting the administrator locked: disabled, with a lock and the reason beside it."""
        policy = getattr(self._ctx, "policy", None)
        if policy is None or not policy.locked or not hasattr(self, "note_toggles"):
            return
        for key, widget in self._policy_widgets().items():
            why = policy.why_locked(key)
            if why is None or widget.property("locked_by_policy"):
                continue
            widget.setEnabled(False)
            widget.setProperty("locked_by_policy", True)
            widget.setToolTip(why)
            widget.setAccessibleDescription(why)
            if isinstance(widget, QCheckBox):
                widget.setIcon(icon("lock"))
                widget.setText(f"{widget.text()} (set by your administrator)")
            else:
                lock = QLabel()
                lock.setPixmap(icon("lock").pixmap(14, 14))
                lock.setToolTip(why)
                lock.setAccessibleName("Locked by your administrator")
                parent = widget.parentWidget()
                layout = parent.layout() if parent is not None else None
                label = layout.labelForField(widget) if isinstance(layout, QFormLayout) else None
                if label is not None:
                    label.setToolTip(why)
                lock.setObjectName(f"lock_{key}")
                self._lock_labels.append(lock)
                _beside(widget, lock)

    # --- RingCentral ----------------------------------------------------------------------------

    def _ringcentral_page(self) -> QWidget:
        page, layout = _page(QVBoxLayout(), spacing=10)
        rc = self.settings.ringcentral
        if self._ctx.is_sandbox:
            layout.addWidget(Banner(
                "info",
                "You are on the sandbox: a simulated RingCentral account with demo calls. Sign in below to "
                "use your own account from the next start (run without --sandbox).",
                closable=False,
            ))
        form = QFormLayout()
        form.setHorizontalSpacing(14)
        self.rc_server = QLineEdit(rc.server)
        form.addRow(form_label("Server"), self.rc_server)
        self.rc_client_id = QLineEdit(rc.client_id)
        self.rc_client_id.setPlaceholderText("Your RingCentral app's client id")
        form.addRow(form_label("Client id"), self.rc_client_id)
        self.rc_mode = QComboBox()
        self.rc_mode.addItem("Sign in with the browser (recommended)", "pkce")
        self.rc_mode.addItem("JWT (administrators)", "jwt")
        self.rc_mode.setCurrentIndex(0 if rc.auth_mode == "pkce" else 1)
        self.rc_mode.currentIndexChanged.connect(self._on_rc_mode_changed)
        form.addRow(form_label("Sign-in"), self.rc_mode)
        self.rc_jwt = QLineEdit()
        self.rc_jwt.setEchoMode(QLineEdit.EchoMode.Password)
        self.rc_jwt.setPlaceholderText("JWT credential (stored in the keyring)")
        self.rc_secret = QLineEdit()
        self.rc_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.rc_secret.setPlaceholderText("Client secret (stored in the keyring)")
        self.rc_jwt_label = form_label("JWT")
        self.rc_secret_label = form_label("Client secret")
        form.addRow(self.rc_jwt_label, self.rc_jwt)
        form.addRow(self.rc_secret_label, self.rc_secret)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.rc_connect = QPushButton("Connect RingCentral")
        self.rc_connect.setProperty("primary", True)
        self.rc_connect.clicked.connect(self.on_rc_connect_clicked)
        self._rc_sign_in = SignInButton(self.rc_connect, lambda: "Connect RingCentral")
        row.addWidget(self.rc_connect)
        self.rc_state = QLabel(self._rc_state_text())
        self.rc_state.setProperty("role", "muted")
        self.rc_state.setWordWrap(True)
        row.addWidget(self.rc_state, 1)
        layout.addLayout(row)
        layout.addStretch(1)
        self._on_rc_mode_changed()
        return page

    def _rc_state_text(self) -> str:
        try:
            has_token = bool(self._secrets.get("ringcentral:tokens"))
        except Exception as exc:
            return f"The keyring cannot be read: {exc}"
        return "Signed in (your session is in the keyring)." if has_token else "Not connected."

    def _on_rc_mode_changed(self) -> None:
        jwt = self.rc_mode.currentData() == "jwt"
        for widget in (self.rc_jwt, self.rc_secret, self.rc_jwt_label, self.rc_secret_label):
            widget.setVisible(jwt)

    def cancel_rc_sign_in(self) -> None:
        """Ends a RingCentral browser sign-in that is waiting for the browser (its job then reports it)."""
        self._rc_sign_in.cancel()

    def on_rc_connect_clicked(self) -> None:
        if self._rc_sign_in.cancel():
            return
        server = self.rc_server.text().strip()
        client_id = self.rc_client_id.text().strip()
        if not client_id:
            self.rc_state.setText("Enter your app's client id first.")
            return
        mode = self.rc_mode.currentData()
        jwt, secret = self.rc_jwt.text().strip(), self.rc_secret.text().strip()
        port = self.settings.ringcentral.redirect_port

        def signed_in(sign: Callable[[Any], Any]) -> str:
            from adapters.ringcentral.auth import RingCentralAuth

            saved: list[Any] = []
            auth = RingCentralAuth(server, client_id, None, save=saved.append, client_secret=secret or None)
            try:
                tokens = sign(auth)
            finally:
                auth.close()
            return str(tokens.model_dump_json())

        if mode == "jwt":
            self.rc_connect.setEnabled(False)
            self.rc_state.setText("Signing in…")
            self._submit(
                lambda: signed_in(lambda auth: auth.sign_in_jwt(jwt)),
                on_result=self._on_rc_signed_in,
                on_error=self._on_rc_sign_in_error,
            )
            return
        self.rc_state.setText("Finish signing in in your browser…")
        self._run_sign_in(
            self._rc_sign_in,
            lambda wait: signed_in(lambda auth: auth.sign_in_browser(wait.open, port=port, on_receiver=wait.attach)),
            on_result=self._on_rc_signed_in,
            on_error=self._on_rc_sign_in_error,
        )

    def _on_rc_signed_in(self, tokens_json: str) -> None:
        if not shiboken6.isValid(self):
            return
        self._pending_rc_tokens = tokens_json
        self.rc_connect.setEnabled(True)
        self.rc_state.setText("Signed in. Save to keep this session.")

    def _on_rc_sign_in_error(self, exc: Exception) -> None:
        if not shiboken6.isValid(self):
            return
        self.rc_connect.setEnabled(True)
        if isinstance(exc, SignInCancelled):
            self.rc_state.setText(_reason(exc))
        else:
            self.rc_state.setText(f"Sign-in failed: {_reason(exc)}")

    # --- CRM ------------------------------------------------------------------------------------

    def _crm_page(self) -> QWidget:
        page, layout = _page(QVBoxLayout(), spacing=10)
        self.crm_form_layout = QFormLayout()
        self.crm_form_layout.setHorizontalSpacing(14)
        self.crm_form_layout.setVerticalSpacing(8)
        self.crm_picker = QComboBox()
        self._manifests: dict[str, Manifest] = {}
        self._adapter_classes: dict[str, Any] = {}
        try:
            for info in self._ctx.adapter_registry():
                self._manifests[info.id] = info.manifest
                self._adapter_classes[info.id] = info.adapter_class
        except Exception as exc:
            log.info("adapter discovery failed: %s", exc)
        current = self._ctx.adapter.manifest
        self._manifests.setdefault(current.id, current)
        self._adapter_classes.setdefault(current.id, type(self._ctx.adapter))
        for adapter_id, manifest in self._manifests.items():
            self.crm_picker.addItem(manifest.name, adapter_id)
        self.crm_picker.setCurrentIndex(max(0, self.crm_picker.findData(self.settings.crm.adapter_id)))
        self.crm_picker.currentIndexChanged.connect(self._build_crm_form)
        self.crm_form_layout.addRow(form_label("CRM"), self.crm_picker)
        layout.addLayout(self.crm_form_layout)
        row = QHBoxLayout()
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setObjectName("CrmSignIn")
        self.sign_in_button.setProperty("primary", True)
        self.sign_in_button.clicked.connect(self.on_crm_sign_in_clicked)
        self._crm_sign_in = SignInButton(
            self.sign_in_button, lambda: f"Sign in to {self._manifests[self.current_adapter_id()].name}"
        )
        row.addWidget(self.sign_in_button)
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("TestConnection")
        self.test_button.clicked.connect(self.on_test_clicked)
        row.addWidget(self.test_button)
        self.test_result = QLabel("")
        self.test_result.setObjectName("TestResult")
        self.test_result.setWordWrap(True)
        row.addWidget(self.test_result, 1)
        layout.addLayout(row)
        layout.addStretch(1)
        self.crm_inputs: dict[str, QLineEdit] = {}
        self._pending_crm_secrets: dict[str, dict[str, str]] = {}
        #: Bumped by every change to the CRM form; a test that succeeded holds the number it saw.
        self._crm_form_version = 0
        self._crm_tested_version: int | None = None
        self._build_crm_form()
        return page

    def current_adapter_id(self) -> str:
        return str(self.crm_picker.currentData())

    def _on_crm_form_edited(self) -> None:
        """The CRM form changed: a test passed before no longer speaks for it."""
        self._crm_form_version += 1

    def crm_tested(self) -> bool:
        """Whether "Test connection" succeeded with the CRM form exactly as it is now."""
        return self._crm_tested_version == self._crm_form_version

    def _build_crm_form(self) -> None:
        self.cancel_crm_sign_in()
        self._on_crm_form_edited()
        form = self.crm_form_layout
        while form.rowCount() > 1:
            form.removeRow(1)
        adapter_id = self.current_adapter_id()
        manifest = self._manifests[adapter_id]
        self.crm_inputs = {}
        saved = self.settings.crm.settings.get(adapter_id, {})
        for field in manifest.auth.fields:
            edit = QLineEdit()
            edit.setObjectName(f"auth_{field.key}")
            edit.setPlaceholderText(field.placeholder)
            if field.secret:
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                has = bool(self._stored_secret(adapter_id, field))
                edit.setPlaceholderText("•••••••• (saved in the keyring)" if has else field.placeholder or "Secret")
            else:
                edit.setText(saved.get(field.key, field.default))
            edit.textChanged.connect(self._on_crm_form_edited)
            self.crm_inputs[field.key] = edit
            holder = QWidget()
            column = QVBoxLayout(holder)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(2)
            column.addWidget(edit)
            if field.help:
                help_label = QLabel(field.help)
                help_label.setProperty("role", "muted")
                help_label.setWordWrap(True)
                column.addWidget(help_label)
            form.addRow(form_label(field.label + (" *" if field.required else "")), holder)
        oauth = manifest.auth.kind is AuthKind.OAUTH_PKCE
        self.sign_in_button.setVisible(oauth)
        self.sign_in_button.setText(f"Sign in to {manifest.name}")
        if oauth:
            signed = self._pending_crm_secrets.get(adapter_id) or self._stored_tokens(adapter_id)
            note = QLabel(
                "Signed in (the session is in the keyring)." if signed
                else f"Sign in opens {manifest.name} in your browser; Logdesk never sees your password."
            )
            note.setProperty("role", "muted")
            note.setWordWrap(True)
            form.addRow(form_label(""), note)
        if not manifest.auth.fields and manifest.auth.kind is AuthKind.NONE:
            note = QLabel(f"{manifest.name} needs no credentials.")
            note.setProperty("role", "muted")
            form.addRow(form_label(""), note)
        self.test_result.setText("")
        if hasattr(self, "preview"):
            self.update_preview()
        self._show_policy_locks()  # this CRM's managed connection settings

    def _stored_tokens(self, adapter_id: str) -> str | None:
        try:
            value: str | None = self._secrets.get(secret_key(adapter_id, "tokens"))
        except Exception:
            return None
        return value

    def cancel_crm_sign_in(self) -> None:
        """Ends a CRM browser sign-in that is waiting for the browser (its job then reports it)."""
        self._crm_sign_in.cancel()

    def done(self, result: int) -> None:
        """Closing the dialog (Save, Cancel, the window's close button) cancels pending sign-ins."""
        self.cancel_rc_sign_in()
        self.cancel_crm_sign_in()
        super().done(result)

    def _run_sign_in(
        self,
        button: SignInButton,
        job: Callable[[SignInWait], _T],
        *,
        on_result: Callable[[_T], None],
        on_error: Callable[[Exception], None],
    ) -> None:
        """Runs a browser sign-in ``job`` on the pool while ``button`` offers to cancel it.

        ``job`` gets the :class:`SignInWait` to pass on as ``open_url=wait.open`` and
        ``on_receiver=wait.attach``. The callbacks run on the GUI thread, only while the dialog
        exists and this is still the button's sign-in; ``on_result`` is skipped when the sign-in
        was cancelled, whatever the browser did meanwhile.
        """
        wait = button.start(self._open_url or _open_in_browser)

        def done(result: _T) -> None:
            if shiboken6.isValid(self) and button.finish(wait) and not wait.cancelled:
                on_result(result)

        def failed(exc: Exception) -> None:
            if shiboken6.isValid(self) and button.finish(wait):
                on_error(exc)

        self._submit(lambda: job(wait), on_result=done, on_error=failed)

    def on_crm_sign_in_clicked(self) -> None:
        import sys

        if self._crm_sign_in.cancel():
            return
        filled = self._filled_crm_form()
        if filled is None:
            return
        adapter_id, manifest, plain, typed = filled
        module = sys.modules.get(self._adapter_classes[adapter_id].__module__)
        sign_in = getattr(module, "sign_in", None)
        if not callable(sign_in):
            self.test_result.setText(f"{manifest.name} has no browser sign-in.")
            return
        secrets = {**self._stored_secrets(adapter_id), **typed}
        port = self._crm_redirect_port
        self.test_result.setStyleSheet("")
        self.test_result.setText(f"Finish signing in to {manifest.name} in your browser…")

        def run(wait: SignInWait) -> dict[str, str]:
            import httpx

            with httpx.Client(timeout=httpx.Timeout(20.0, connect=10.0)) as http:
                settings = {**plain, **secrets}
                result = sign_in(settings, http, open_url=wait.open, on_receiver=wait.attach, port=port)
            return dict(result)

        def signed_in(new: dict[str, str]) -> None:
            self._pending_crm_secrets[adapter_id] = new
            self._on_crm_form_edited()
            self._show_outcome(True, "Signed in. Save to keep this connection.")

        self._run_sign_in(self._crm_sign_in, run, on_result=signed_in, on_error=self._on_test_error)

    def _filled_crm_form(self) -> tuple[str, Manifest, dict[str, str], dict[str, str]] | None:
        """The chosen CRM, its manifest, the form's values and the secrets typed now; ``None`` (and
        a message naming the empty fields) when a required field is empty."""
        adapter_id = self.current_adapter_id()
        plain, typed, missing = self.crm_values()
        if missing:
            self.test_result.setText("Fill in: " + ", ".join(missing))
            return None
        return adapter_id, self._manifests[adapter_id], plain, typed

    def _stored_secrets(self, adapter_id: str) -> dict[str, str]:
        """The connect form's secrets the store already holds for ``adapter_id``."""
        fields = self._manifests[adapter_id].auth.fields
        return {f.key: v for f in fields if f.secret and (v := self._stored_secret(adapter_id, f))}

    def crm_values(self) -> tuple[dict[str, str], dict[str, str], list[str]]:
        """The form's non-secret values, the secrets typed now, and what is missing."""
        adapter_id = self.current_adapter_id()
        manifest = self._manifests[adapter_id]
        plain: dict[str, str] = {}
        secret: dict[str, str] = {}
        missing = []
        for field in manifest.auth.fields:
            value = self.crm_inputs[field.key].text().strip()
            if field.secret:
                if value:
                    secret[field.key] = value
                elif field.required and not self._stored_secret(adapter_id, field):
                    missing.append(field.label)
            else:
                plain[field.key] = value
                if field.required and not value:
                    missing.append(field.label)
        return plain, secret, missing

    def _stored_secret(self, adapter_id: str, field: AuthField) -> str | None:
        try:
            value: str | None = self._secrets.get(secret_key(adapter_id, field.key))
        except Exception:
            return None
        return value

    def on_test_clicked(self) -> None:
        filled = self._filled_crm_form()
        if filled is None:
            return
        adapter_id, _manifest, plain, typed = filled
        secrets = self._stored_secrets(adapter_id)
        tokens = self._stored_tokens(adapter_id)
        if tokens:
            secrets["tokens"] = tokens
        secrets.update(typed)
        secrets.update(self._pending_crm_secrets.get(adapter_id, {}))
        if adapter_id == self._ctx.adapter.manifest.id and adapter_id == "local":
            plain.setdefault("path", getattr(self._ctx.adapter, "path", ""))
        adapter_class = self._adapter_classes[adapter_id]
        version = self._crm_form_version
        self.test_button.setEnabled(False)
        self.test_result.setText("Testing…")
        pending = self._pending_crm_secrets.get(adapter_id)
        store = self._secrets

        def keep(new: Mapping[str, str]) -> None:
            # A pair the test renewed (Bullhorn's refresh tokens are single-use) goes where the
            # pair came from: the sign-in not saved yet, or the keyring.
            if pending is not None:
                pending.update(new)
                return
            for key, value in dict(new).items():
                store.set(secret_key(adapter_id, key), value)

        def test() -> str:
            adapter = adapter_class(Connection(settings=plain, secrets=secrets), save_secrets=keep)
            try:
                return str(adapter.verify())
            finally:
                adapter.close()

        self._submit(test, on_result=lambda who: self._on_test_result(who, version), on_error=self._on_test_error)

    def _on_test_result(self, who: str, version: int | None = None) -> None:
        if not shiboken6.isValid(self):
            return
        self.test_button.setEnabled(True)
        self._crm_tested_version = version
        self._show_outcome(True, f"Connected: {who}")

    def _on_test_error(self, exc: Exception) -> None:
        if not shiboken6.isValid(self):
            return
        self.test_button.setEnabled(True)
        self._show_outcome(False, _reason(exc))

    def _show_outcome(self, ok: bool, text: str) -> None:
        """A connection test's or sign-in's outcome beside the buttons: ✓ in green, ✗ in red."""
        self.test_result.setStyleSheet("color: #166534;" if ok else "color: #b91c1c;")
        self.test_result.setText(f"{'✓' if ok else '✗'} {text}")

    # --- note contents --------------------------------------------------------------------------

    def _note_page(self) -> QWidget:
        page, layout = _page(QHBoxLayout(), spacing=16)
        left = QVBoxLayout()
        left.setSpacing(6)
        notes = self.settings.notes
        grid = QGridLayout()
        grid.setVerticalSpacing(6)
        self.note_toggles: dict[str, QCheckBox] = {}
        for n, (key, label) in enumerate(NOTE_TOGGLES):
            box = QCheckBox(label)
            box.setObjectName(f"note_{key}")
            box.setChecked(bool(getattr(notes, key)))
            box.toggled.connect(self.update_preview)
            self.note_toggles[key] = box
            grid.addWidget(box, n, 0)
        left.addLayout(grid)
        form = QFormLayout()
        form.setHorizontalSpacing(10)
        self.date_format = QComboBox()
        for fmt, example in DATE_FORMATS:
            self.date_format.addItem(example, fmt)
        index = self.date_format.findData(notes.date_format)
        if index < 0:
            self.date_format.addItem(notes.date_format, notes.date_format)
            index = self.date_format.count() - 1
        self.date_format.setCurrentIndex(index)
        self.date_format.currentIndexChanged.connect(self.update_preview)
        form.addRow("Date format", self.date_format)
        self.time_zone = QComboBox()
        self.time_zone.setEditable(True)
        zones = sorted(available_timezones())
        self.time_zone.addItems(zones)
        self.time_zone.setCurrentText(notes.time_zone)
        self.time_zone.currentTextChanged.connect(self.update_preview)
        form.addRow("Time zone", self.time_zone)
        left.addLayout(form)
        left.addStretch(1)
        layout.addLayout(left)
        right = QVBoxLayout()
        self.preview_title = QLabel("Preview")
        self.preview_title.setProperty("role", "section")
        right.addWidget(self.preview_title)
        self.preview = QTextBrowser()
        self.preview.setObjectName("NotePreview")
        self.preview.setOpenLinks(False)
        right.addWidget(self.preview, 1)
        self.preview_error = QLabel("")
        self.preview_error.setProperty("role", "error")
        right.addWidget(self.preview_error)
        layout.addLayout(right, 1)
        return page

    def note_settings(self) -> NoteSettings | str:
        """The note settings chosen, or a message saying what is wrong with them."""
        values: dict[str, Any] = {key: box.isChecked() for key, box in self.note_toggles.items()}
        values["date_format"] = self.date_format.currentData() or self.date_format.currentText()
        values["time_zone"] = self.time_zone.currentText().strip()
        try:
            return self.settings.notes.model_copy(update={}).model_validate(
                {**self.settings.notes.model_dump(), **values}
            )
        except Exception as exc:
            return f"Time zone: {values['time_zone']!r} is not a known time zone." if "zone" in str(exc) else str(exc)

    def update_preview(self) -> None:
        if not hasattr(self, "preview"):
            return
        chosen = self.note_settings()
        if isinstance(chosen, str):
            self.preview_error.setText(chosen)
            return
        self.preview_error.setText("")
        manifest = self._manifests.get(self.current_adapter_id(), self._ctx.adapter.manifest)
        fmt = manifest.log_format
        self.preview_title.setText(f"Preview — {manifest.name} ({fmt})")
        try:
            from adapters import notes as note_engine

            body = note_engine.compose(sample_content(), chosen, fmt)
        except Exception as exc:
            self.preview.setPlainText(f"(The preview is not available: {exc})")
            return
        if fmt == "text/html":
            self.preview.setHtml(body)
        elif fmt == "text/markdown":
            self.preview.setMarkdown(body)
        else:
            self.preview.setPlainText(body)
        self.preview_body = body

    # --- logging --------------------------------------------------------------------------------

    def _logging_page(self) -> QWidget:
        page, layout = _page(QVBoxLayout(), spacing=10)
        s = self.settings
        self.auto_log = QCheckBox("Log calls automatically when exactly one contact matches")
        self.auto_log.setChecked(s.auto_log)
        layout.addWidget(self.auto_log)
        self.all_at_once = QCheckBox("Wait until the recording and AI note are ready, then log once")
        self.all_at_once.setChecked(s.all_at_once)
        layout.addWidget(self.all_at_once)
        self.allow_extension = QCheckBox("Allow extension number logging (internal calls)")
        self.allow_extension.setChecked(s.allow_extension_logging)
        can = self._ctx.adapter.manifest.capabilities.extension_logging
        self.allow_extension.setEnabled(can)
        if not can:
            self.allow_extension.setToolTip(f"{self._ctx.adapter.manifest.name} cannot log internal calls")
        layout.addWidget(self.allow_extension)
        live_title = QLabel("During a call")
        live_title.setProperty("role", "section")
        layout.addWidget(live_title)
        self.open_log_on_end = QCheckBox("Open the log form when a call ends (with the notes typed during the call)")
        self.open_log_on_end.setChecked(s.open_log_on_call_end)
        layout.addWidget(self.open_log_on_end)
        self.close_to_tray = QCheckBox("Keep Logdesk running in the tray when its window is closed")
        self.close_to_tray.setChecked(s.close_to_tray)
        layout.addWidget(self.close_to_tray)
        form = QFormLayout()
        self.call_pop = QComboBox()
        for value, text in (("off", "Off"), ("ring", "When the call rings"), ("answer", "When I answer")):
            self.call_pop.addItem(text, value)
        self.call_pop.setCurrentIndex(max(0, self.call_pop.findData(s.call_pop)))
        self.call_pop.setAccessibleName("Open the caller's contact in the CRM")
        form.addRow(form_label("Open the caller's contact in the CRM"), self.call_pop)
        self.call_pop_multiple = QComboBox()
        for value, text in (("none", "Open none"), ("all", "Open all of them"), ("ask", "Let me pick one")):
            self.call_pop_multiple.addItem(text, value)
        self.call_pop_multiple.setCurrentIndex(max(0, self.call_pop_multiple.findData(s.call_pop_multiple)))
        self.call_pop_multiple.setAccessibleName("When several contacts match")
        form.addRow(form_label("When several contacts match"), self.call_pop_multiple)
        self.call_pop.currentIndexChanged.connect(
            lambda _i: self.call_pop_multiple.setEnabled(self.call_pop.currentData() != "off"))
        self.call_pop_multiple.setEnabled(s.call_pop != "off")
        self.poll_interval = QSpinBox()
        self.poll_interval.setRange(5, 3600)
        self.poll_interval.setSuffix(" s")
        self.poll_interval.setValue(s.poll_interval_seconds)
        form.addRow(form_label("Check for calls every"), self.poll_interval)
        layout.addLayout(form)
        hint = QLabel("The waiting mode applies from the next start; everything else at once.")
        hint.setProperty("role", "muted")
        layout.addWidget(hint)
        layout.addStretch(1)
        return page

    # --- saving ---------------------------------------------------------------------------------

    def on_save_clicked(self) -> None:
        chosen = self.note_settings()
        if isinstance(chosen, str):
            self.tabs.setCurrentIndex(2)
            self.status.setText(chosen)
            return
        adapter_id = self.current_adapter_id()
        plain, typed, _missing = self.crm_values()
        pending_crm = self._pending_crm_secrets.get(adapter_id, {})
        changes = SavedChanges(
            crm_credentials=bool(typed or pending_crm),
            crm_tested=self.crm_tested(),
            ringcentral_credentials=bool(
                self._pending_rc_tokens or self.rc_jwt.text().strip() or self.rc_secret.text().strip()
            ),
        )
        s = self.settings
        s.ringcentral = s.ringcentral.model_copy(update={
            "server": self.rc_server.text().strip() or s.ringcentral.server,
            "client_id": self.rc_client_id.text().strip(),
            "auth_mode": self.rc_mode.currentData(),
        })
        crm_settings = dict(s.crm.settings)
        crm_settings[adapter_id] = plain
        s.crm = s.crm.model_copy(update={"adapter_id": adapter_id, "settings": crm_settings})
        s.notes = chosen
        s.auto_log = self.auto_log.isChecked()
        s.all_at_once = self.all_at_once.isChecked()
        s.allow_extension_logging = self.allow_extension.isChecked()
        s.open_log_on_call_end = self.open_log_on_end.isChecked()
        s.close_to_tray = self.close_to_tray.isChecked()
        s.call_pop = self.call_pop.currentData()
        s.call_pop_multiple = self.call_pop_multiple.currentData()
        s.poll_interval_seconds = self.poll_interval.value()
        try:
            for key, value in {**typed, **pending_crm}.items():
                self._secrets.set(secret_key(adapter_id, key), value)
            if self.rc_jwt.text().strip():
                self._secrets.set("ringcentral:jwt", self.rc_jwt.text().strip())
            if self.rc_secret.text().strip():
                self._secrets.set("ringcentral:client_secret", self.rc_secret.text().strip())
            if self._pending_rc_tokens:
                self._secrets.set("ringcentral:tokens", self._pending_rc_tokens)
        except Exception as exc:
            self.status.setText(f"Credentials not saved: {exc}")
            return
        policy = getattr(self._ctx, "policy", None)
        if policy is not None:  # what the administrator locked is what is saved
            s = self.settings = policy.apply(s, first_start=False)
        try:
            s.save(self._ctx.settings_path)
        except OSError as exc:
            self.status.setText(f"Settings not saved: {exc.strerror or exc}")
            return
        self._apply_live(s)
        self.settings_saved.emit(s, changes)
        self.accept()

    def _apply_live(self, s: AppSettings) -> None:
        """Changes the running engine where that is safe: note contents, extension logging and
        auto-log; the live-call options are read from ``ctx.settings`` each time."""
        ctx = self._ctx
        ctx.settings = s
        lifecycle = getattr(ctx.engine, "lifecycle", None)
        if lifecycle is not None and hasattr(lifecycle, "settings"):
            lifecycle.settings = s.notes
        config = getattr(ctx.engine, "config", None)
        if config is not None and hasattr(config, "allow_extension_logging"):
            config.allow_extension_logging = s.allow_extension_logging
        if config is not None and hasattr(config, "auto_log"):
            config.auto_log = s.auto_log


def sample_content() -> NoteContent:
    """A made-up call for the preview (times fixed so the preview is stable)."""
    raw_call = {
        "id": "preview",
        "sessionId": "4082301942008",
        "startTime": "2026-04-10T15:05:09Z",
        "duration": 272,
        "direction": "Inbound",
        "result": "Accepted",
        "from": {"phoneNumber": "+12125550147", "name": "Ben Okafor"},
        "to": {"phoneNumber": "+16505550100", "extensionNumber": "101", "name": "Sam Agent"},
    }
    call = Call.model_validate(raw_call)
    content = NoteContent.from_call(
        call,
        note="Asked about the renewal quote; send the revised PDF by Friday.",
        ai_note=AiNote(summary="Customer wants the renewal quote revised for 40 seats.",
                       next_steps=["Send the revised quote by Friday"]),
        transcript="Agent: Thanks for calling, how can I help?\nBen: I'm calling about the renewal quote.",
        expect_recording=True,
    )
    return content


