# SPDX-License-Identifier: MIT
"""Asks, at start-up, for the secrets a developer CRM needs in the sandbox when none are stored.

``LOGDESK_SANDBOX_CRM=<id> logdesk --sandbox`` logs the sandbox's calls into that CRM (a plug-in
and its fake, in a rehearsal). On a computer without a system keyring nothing from an earlier run
is kept, so the adapter would start without its token: this dialog asks for the manifest's
missing secret fields instead; the app keeps the answers in memory for the session only
(:class:`desktop.secrets.SessionSecretStore`).

Threading contract: GUI thread only.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QPushButton, QWidget

from adapters.base import AuthField
from desktop.ui.dialog_parts import dialog_form, dialog_root


class SessionSecretsDialog(QDialog):
    """One input per missing secret field; **Start** once every one is filled.

    Args:
        crm_name: the CRM's display name.
        crm_id: the adapter id named in ``LOGDESK_SANDBOX_CRM``.
        fields: the manifest's secret auth fields that have no stored value.
        persistent_store: whether a system keyring exists (it just holds no value for them).
    """

    def __init__(
        self,
        crm_name: str,
        crm_id: str,
        fields: Sequence[AuthField],
        *,
        persistent_store: bool,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("SessionSecretsDialog")
        self.setWindowTitle(f"Sandbox: {crm_name}")
        self.setModal(True)
        self._fields = list(fields)
        root = dialog_root(self, f"Log the sandbox's calls into {crm_name}")
        what = ", ".join(f.label for f in self._fields)
        why = (
            f"No {what} is saved for {crm_name}."
            if persistent_store
            else f"This computer has no system keyring, so the {what} from an earlier run was not kept."
        )
        self.intro = QLabel(
            f"LOGDESK_SANDBOX_CRM={crm_id} asks the sandbox to log into {crm_name}. {why} "
            "What you enter here is kept in memory until Logdesk quits: it is never written to disk."
        )
        self.intro.setWordWrap(True)
        root.addWidget(self.intro)
        form = dialog_form()
        self.inputs: dict[str, QLineEdit] = {}
        for field in self._fields:
            edit = QLineEdit()
            edit.setObjectName(f"secret_{field.key}")
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setPlaceholderText(field.placeholder or field.help)
            edit.textChanged.connect(self._update_start)
            form.addRow(field.label, edit)
            self.inputs[field.key] = edit
        root.addLayout(form)
        buttons = QDialogButtonBox()
        self.start_button: QPushButton = buttons.addButton("Start", QDialogButtonBox.ButtonRole.AcceptRole)
        self.local_button: QPushButton = buttons.addButton(
            "Use the Local CRM", QDialogButtonBox.ButtonRole.RejectRole
        )
        self.start_button.setDefault(True)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        root.addWidget(buttons)
        self._update_start()

    def _update_start(self) -> None:
        self.start_button.setEnabled(all(edit.text().strip() for edit in self.inputs.values()))

    def values(self) -> dict[str, str]:
        """The entered secrets by field key (surrounding spaces removed)."""
        return {key: edit.text().strip() for key, edit in self.inputs.items()}
