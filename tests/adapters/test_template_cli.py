# SPDX-License-Identifier: MIT
"""``logdesk adapter new`` makes a package that installs, registers and passes the contract suite."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from adapters import registry
from adapters.template.cli import generate
from desktop.cli import main


def test_new_writes_a_package_with_an_entry_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adapter", "new", "widget_crm", "--display-name", "Widget CRM", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "logdesk-widget-crm"
    assert f"Created {root}" in capsys.readouterr().out
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert 'widget_crm = "logdesk_widget_crm.adapter:WidgetCrmAdapter"' in pyproject
    adapter_source = (root / "logdesk_widget_crm" / "adapter.py").read_text(encoding="utf-8")
    assert 'id="widget_crm"' in adapter_source and 'CRM = "Widget CRM"' in adapter_source
    for path in root.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "acme" not in text.lower(), f"{path} still mentions the template's names"
        compile(text, str(path), "exec")


_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("name", "display_name"),
    [("widget_crm", "Widget CRM"), ("x" + "y" * 30, "A display name of exactly forty letters!")],
)
def test_generated_code_passes_logdesks_own_ruff_rules(tmp_path: Path, name: str, display_name: str) -> None:
    # Given a package generated with a short and with the longest id and display name
    root = generate(name, tmp_path, display_name=display_name)
    # Then its ruff settings are Logdesk's own rules
    ours = tomllib.loads((_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]
    theirs = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["ruff"]
    assert theirs["line-length"] == ours["line-length"]
    assert theirs["target-version"] == ours["target-version"]
    assert theirs["lint"]["select"] == ours["lint"]["select"]
    assert theirs["lint"]["ignore"] == ours["lint"]["ignore"]
    assert theirs["lint"]["per-file-ignores"]["tests/**"] == ours["lint"]["per-file-ignores"]["tests/**"]
    # And ruff, run in the package as its author would, finds nothing
    run = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        capture_output=True, text=True, timeout=60, check=False, cwd=root,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def test_generated_package_has_a_gitignore_for_builds_caches_environments_and_secrets(tmp_path: Path) -> None:
    root = generate("widget", tmp_path)
    ignored = (root / ".gitignore").read_text(encoding="utf-8").splitlines()
    for entry in ("__pycache__/", "*.egg-info/", "build/", "dist/", ".venv/", ".pytest_cache/", ".ruff_cache/", ".env"):
        assert entry in ignored
    assert not any(line.strip() in ("*.py", "tests/", "logdesk_widget/") for line in ignored)


@pytest.mark.parametrize("display_name", ["x" * 41, 'My "CRM"', "Back\\slash", "   "])
def test_new_refuses_a_display_name_that_would_break_the_code(tmp_path: Path, display_name: str) -> None:
    with pytest.raises(ValueError, match="display name"):
        generate("widget", tmp_path, display_name=display_name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["Acme", "1crm", "a", "my-crm", "x" * 40])
def test_new_refuses_an_invalid_id(tmp_path: Path, name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adapter", "new", name, "--dir", str(tmp_path)]) == 2
    assert "not a valid adapter id" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_new_does_not_overwrite_an_existing_folder(tmp_path: Path) -> None:
    generate("widget", tmp_path)
    marker = tmp_path / "logdesk-widget" / "logdesk_widget" / "adapter.py"
    marker.write_text("# my work\n", encoding="utf-8")
    with pytest.raises(ValueError, match="already exists"):
        generate("widget", tmp_path)
    assert marker.read_text(encoding="utf-8") == "# my work\n"


def test_list_shows_builtin_adapters(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["adapter", "list"]) == 0
    out = capsys.readouterr().out
    assert "local" in out and "Local CRM" in out


@pytest.mark.slow
def test_generated_package_installs_registers_and_passes_the_contract_suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a generated adapter package, built and installed by pip (offline) into a target dir
    root = generate("gadget", tmp_path / "src", display_name="Gadget CRM")
    site = tmp_path / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
         "--target", str(site), str(root)],
        capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr
    # Then the registry finds it through its entry point
    monkeypatch.syspath_prepend(str(site))
    found = registry.discover()
    assert found.get("gadget").name == "Gadget CRM"
    assert found.get("gadget").source == "plugin"
    # And its own tests, run against the installed package, pass the whole contract suite
    # This checkout's Logdesk (not whichever one the environment has installed) runs the suite.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(Path(__file__).resolve().parents[2])])}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(root / "tests")],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "failed" not in run.stdout
