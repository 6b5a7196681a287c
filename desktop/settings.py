# SPDX-License-Identifier: MIT
"""User options, saved as JSON under the platformdirs config directory. Never secrets.

UI state (window geometry, column widths) lives in QSettings instead; this file is what the user
chose on purpose.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from adapters.notes.models import NoteSettings
from desktop import paths

log = logging.getLogger(__name__)

SETTINGS_FILE = "settings.json"


class RingCentralSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    server: str = "https://platform.ringcentral.com"
    client_id: str = ""
    auth_mode: Literal["pkce", "jwt"] = "pkce"
    #: The loopback port the OAuth redirect comes back to (must match the app's registration).
    redirect_port: int = Field(default=53682, ge=1024, le=65535)


class CrmSettings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    adapter_id: str = "local"
    #: Non-secret connect-form values per adapter id (a domain, a region, a client id).
    settings: dict[str, dict[str, str]] = Field(default_factory=dict)


class AppSettings(BaseModel):
    """Everything the user can set. Unknown keys in the file are ignored (newer versions)."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    ringcentral: RingCentralSettings = Field(default_factory=RingCentralSettings)
    crm: CrmSettings = Field(default_factory=CrmSettings)
    auto_log: bool = False
    #: Wait until every expected artifact is ready (or given up), then create the log once.
    all_at_once: bool = False
    allow_extension_logging: bool = False
    #: Open the log form when a call ends (live calls; App Connect's "open log page after call").
    open_log_on_call_end: bool = True
    #: Closing the window keeps Logdesk running in the tray (where the desktop has one); Quit quits.
    close_to_tray: bool = True
    #: Open the matched contact in the CRM: "off", on "ring" or on "answer".
    call_pop: Literal["off", "ring", "answer"] = "off"
    #: With several matches, call-pop opens "none", "all" of them, or lets the agent "ask" (pick one).
    call_pop_multiple: Literal["none", "all", "ask"] = "none"
    poll_interval_seconds: int = Field(default=30, ge=5, le=3600)
    give_up_after_hours: float = Field(default=24.0, gt=0, le=24 * 14)
    #: Region for numbers written without a country code (ISO 3166 alpha-2).
    default_region: str = "US"
    #: Extra search formats for CRMs that match stored text, ``#`` standing for a digit.
    phone_patterns: list[str] = Field(default_factory=list)
    #: What goes into the CRM note (the note engine's toggles, date format and time zone).
    notes: NoteSettings = Field(default_factory=NoteSettings)

    def save(self, path: Path | None = None) -> Path:
        """Writes atomically (temp file + rename), so a crash never leaves half a file."""
        target = path or default_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        text = self.model_dump_json(indent=2)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".settings-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target


def default_path() -> Path:
    return paths.config_dir() / SETTINGS_FILE


def load_settings(path: Path | None = None) -> tuple[AppSettings, str | None]:
    """Reads the settings file.

    Returns:
        The settings, and a message for the user when the file could not be used: a corrupt or
        unreadable file is moved aside with a timestamp and the app starts on defaults.
    """
    source = path or default_path()
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        return AppSettings(), None
    except OSError as exc:
        return AppSettings(), f"Could not read your settings ({exc.strerror}); using defaults for now."
    if not text.strip():
        return AppSettings(), None
    try:
        return AppSettings.model_validate(json.loads(text)), None
    except (json.JSONDecodeError, PydanticValidationError) as exc:
        aside = source.with_name(f"{source.name}.corrupt-{datetime.now():%Y%m%d-%H%M%S}")
        try:
            source.replace(aside)
        except OSError:
            aside = source
        log.info("settings file unusable (%s), moved to %s", type(exc).__name__, aside)
        return AppSettings(), (
            f"Your settings file could not be read and was set aside as {aside.name}. "
            "Logdesk started with default settings."
        )
