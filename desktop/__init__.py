# SPDX-License-Identifier: MIT
"""Logdesk, the application: engine (Qt-free), UI (Qt) and the composition root."""

APP_NAME = "Logdesk"
APP_ID = "logdesk"
