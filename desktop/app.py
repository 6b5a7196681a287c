# SPDX-License-Identifier: MIT
"""Composition root: the only place that chooses concrete classes and wires them to Qt."""

from __future__ import annotations

import logging
import sys

from desktop.logs import setup_logging
from desktop.secrets import open_secret_store
from desktop.settings import load_settings

log = logging.getLogger(__name__)


def run_app(*, sandbox: bool = False) -> int:
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow

    secrets, secrets_warning = open_secret_store()
    setup_logging(secrets.values)
    settings, settings_warning = load_settings()
    app = QApplication.instance() or QApplication(sys.argv)
    window = QMainWindow()
    window.setWindowTitle("Logdesk" + (" — sandbox" if sandbox else ""))
    notes = [m for m in (secrets_warning, settings_warning) if m]
    label = QLabel(
        "Logdesk — log and disposition your calls into your CRM.\n\n" + "\n".join(notes)
    )
    label.setMargin(24)
    window.setCentralWidget(label)
    window.resize(900, 600)
    window.show()
    log.info("started (sandbox=%s, crm=%s)", sandbox, settings.crm.adapter_id)
    return app.exec()
