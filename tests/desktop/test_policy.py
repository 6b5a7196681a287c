# SPDX-License-Identifier: MIT
"""An administrator's policy file: defaults for a first start, locked settings that always win, and
a file with errors reported in words and ignored as a whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.registry import discover
from desktop.policy import POLICY_ENV, Policy, load_policy, policy_path
from desktop.settings import AppSettings


def _write(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"settings": settings}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def manifests() -> dict[str, Any]:
    registry = discover(include_plugins=False)
    return {info.manifest.id: info.manifest for info in registry}


def test_locked_settings_win_over_the_agent_s_and_defaults_apply_on_a_first_start_only(
    tmp_path: Path, manifests: dict[str, Any]
) -> None:
    path = _write(tmp_path, {
        "auto_log": {"value": True, "locked": True},
        "notes.time_zone": {"value": "America/Chicago", "locked": True},
        "poll_interval_seconds": {"value": 60},
        "crm.adapter_id": {"value": "hubspot", "locked": True},
    })
    policy, problem = load_policy(path, manifests=manifests)
    assert problem is None
    agent = AppSettings(auto_log=False, poll_interval_seconds=15)
    # A seat that has run before keeps the agent's poll interval, never their auto-log choice
    later = policy.apply(agent, first_start=False)
    assert later.auto_log is True and later.poll_interval_seconds == 15
    assert later.notes.time_zone == "America/Chicago" and later.crm.adapter_id == "hubspot"
    # A first start takes the defaults too
    first = policy.apply(AppSettings(), first_start=True)
    assert first.poll_interval_seconds == 60 and first.auto_log is True
    assert policy.is_locked("auto_log") and not policy.is_locked("poll_interval_seconds")
    assert policy.why_locked("auto_log") == (
        f"Set by your administrator (policy file {path}); it cannot be changed here.")
    assert policy.why_locked("poll_interval_seconds") is None


def test_a_crm_connection_setting_can_be_locked_but_never_a_secret(
    tmp_path: Path, manifests: dict[str, Any]
) -> None:
    plain = next(f for f in manifests["salesforce"].auth.fields if not f.secret)
    policy, problem = load_policy(
        _write(tmp_path, {f"crm.settings.salesforce.{plain.key}": {"value": "acme.my.salesforce.com", "locked": True}}),
        manifests=manifests,
    )
    assert problem is None
    assert policy.apply(AppSettings(), first_start=False).crm.settings["salesforce"][plain.key] == (
        "acme.my.salesforce.com")
    secret = next((a, f) for a, m in manifests.items() for f in m.auth.fields if f.secret)
    _, problem = load_policy(
        _write(tmp_path, {f"crm.settings.{secret[0]}.{secret[1].key}": {"value": "s3cret"}}), manifests=manifests
    )
    assert problem is not None and "is a secret: secrets belong in the keyring" in problem
    assert "s3cret" not in problem


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("{ not json", "is not valid JSON (line 1, column 3"),
        (json.dumps({"auto_log": True}), 'needs a "settings" object'),
        (json.dumps({"settings": {"ringcentral.client_id": {"value": "x"}}}),
         '"ringcentral.client_id" is not a setting'),
        (json.dumps({"settings": {"notes.colour": {"value": "red"}}}), '"notes.colour" is not a setting'),
        (json.dumps({"settings": {"poll_interval_seconds": {"value": "often"}}}), '"poll_interval_seconds": '),
        (json.dumps({"settings": {"poll_interval_seconds": {"value": 1}}}), "greater than or equal to 5"),
        (json.dumps({"settings": {"auto_log": True}}), '"auto_log" must be {"value": …}'),
        (json.dumps({"settings": {"auto_log": {"value": True, "locked": "yes"}}}), '"locked" must be true or false'),
        (json.dumps({"settings": {"crm.settings.nocrm.host": {"value": "x"}}}), "names a CRM Logdesk does not have"),
        (json.dumps({"settings": {"crm.settings.salesforce.colour": {"value": "x"}}}),
         "is not one of Salesforce's connection settings"),
    ],
)
def test_a_policy_with_an_error_is_ignored_as_a_whole_and_says_why(
    tmp_path: Path, manifests: dict[str, Any], content: str, words: str
) -> None:
    path = tmp_path / "policy.json"
    path.write_text(content, encoding="utf-8")
    policy, problem = load_policy(path, manifests=manifests)
    assert policy == Policy()
    assert problem is not None and problem.startswith(f"The administrator's policy file {path} was ignored because")
    assert words in problem
    assert policy.apply(AppSettings(auto_log=False), first_start=True) == AppSettings(auto_log=False)


def test_no_policy_file_is_no_policy(tmp_path: Path) -> None:
    assert load_policy(tmp_path / "absent.json") == (Policy(), None)


def test_the_policy_file_is_in_etc_unless_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(POLICY_ENV, raising=False)
    assert policy_path() == Path("/etc/logdesk/policy.json")
    monkeypatch.setenv(POLICY_ENV, str(tmp_path / "p.json"))
    assert policy_path() == tmp_path / "p.json"
