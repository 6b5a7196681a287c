# SPDX-License-Identifier: MIT
from __future__ import annotations

import json
from pathlib import Path

from desktop import paths
from desktop.settings import AppSettings, default_path, load_settings


def test_missing_file_gives_defaults_without_a_message() -> None:
    settings, message = load_settings()
    assert settings == AppSettings()
    assert message is None


def test_settings_live_under_the_isolated_config_dir(isolated_dirs: Path) -> None:
    assert default_path().is_relative_to(isolated_dirs)
    assert paths.data_dir().is_relative_to(isolated_dirs)
    assert paths.log_dir().is_relative_to(isolated_dirs)


def test_saved_settings_load_back() -> None:
    settings = AppSettings(auto_log=True, poll_interval_seconds=45, default_region="GB")
    settings.crm.adapter_id = "hubspot"
    settings.save()
    loaded, message = load_settings()
    assert message is None
    assert loaded.auto_log is True and loaded.poll_interval_seconds == 45
    assert loaded.crm.adapter_id == "hubspot" and loaded.default_region == "GB"


def test_corrupt_file_is_moved_aside_and_defaults_are_used() -> None:
    path = default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    settings, message = load_settings()
    assert settings == AppSettings()
    assert message is not None and "set aside" in message
    assert not path.exists()
    aside = list(path.parent.glob("settings.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == "{not json"


def test_invalid_values_count_as_corrupt() -> None:
    path = default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"poll_interval_seconds": -3}))
    settings, message = load_settings()
    assert settings.poll_interval_seconds == AppSettings().poll_interval_seconds
    assert message is not None


def test_unknown_keys_from_a_newer_version_are_ignored() -> None:
    path = default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"auto_log": True, "future_option": 1}))
    settings, message = load_settings()
    assert settings.auto_log is True and message is None


def test_the_settings_model_has_no_secret_fields() -> None:
    def names(model: type) -> set[str]:
        out: set[str] = set()
        for name, field in model.model_fields.items():  # type: ignore[attr-defined]
            out.add(name)
            ann = field.annotation
            if isinstance(ann, type) and hasattr(ann, "model_fields"):
                out |= names(ann)
        return out

    forbidden = ("token", "secret", "password", "api_key")
    assert not [n for n in names(AppSettings) if any(f in n for f in forbidden)]
