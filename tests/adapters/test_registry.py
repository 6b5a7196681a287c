# SPDX-License-Identifier: MIT
"""The adapter registry: built-ins by dotted path, third parties by real entry-point discovery."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from adapters import registry
from adapters.base import AdapterError, Connection, ValidationError
from adapters.crm.local import LocalCrm

_PLUGIN_SOURCE = """
from typing import ClassVar
from adapters.base import Manifest

class {cls}:
    manifest: ClassVar[Manifest] = Manifest(id="{adapter_id}", name="{name}")

    def __init__(self, connection, *, client=None, save_secrets=None):
        self.connection = connection

    def verify(self): return "{name} user"
    def find_contact(self, phone, *, is_extension=False): return []
    def create_call_log(self, call, contact, entry): raise NotImplementedError
    def get_call_log(self, ref): raise NotImplementedError
    def update_call_log(self, ref, change, *, expected_version=None): raise NotImplementedError
    def upsert_disposition(self, ref, values): raise NotImplementedError
    def find_call_log(self, call): return None
    def close(self): pass
"""


def _install_dist_info(root: Path, dist: str, entries: dict[str, str], modules: dict[str, str]) -> None:
    """Lays out an installed distribution the way pip does: modules plus a ``.dist-info``."""
    for name, source in modules.items():
        (root / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n", encoding="utf-8")
    lines = "\n".join(f"{k} = {v}" for k, v in entries.items())
    (info / "entry_points.txt").write_text(f"[{registry.ENTRY_POINT_GROUP}]\n{lines}\n", encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh site-packages-like directory on sys.path; its modules are unloaded afterwards."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)
    yield root
    for name in set(sys.modules) - before:
        if name.startswith("plug_"):
            del sys.modules[name]


def _unique(prefix: str) -> str:
    return f"plug_{prefix}_{uuid.uuid4().hex[:8]}"


def test_local_crm_is_a_builtin_adapter() -> None:
    found = registry.discover(include_plugins=False)
    info = found.get("local")
    assert info.adapter_class is LocalCrm
    assert (info.source, info.name) == ("builtin", "Local CRM")
    assert found.problems == []


def test_every_builtin_line_names_a_loadable_adapter() -> None:
    found = registry.discover(include_plugins=False)
    assert sorted(found.adapters) == sorted(registry.BUILTIN_ADAPTERS)


def test_create_builds_a_working_adapter(tmp_path: Path) -> None:
    found = registry.discover(include_plugins=False)
    adapter = found.create("local", Connection(settings={"path": str(tmp_path / "crm.sqlite3")}))
    try:
        assert adapter.find_contact("+14155550123") == []
    finally:
        adapter.close()


def test_missing_builtin_module_is_reported_not_fatal(caplog: pytest.LogCaptureFixture) -> None:
    found = registry.discover(
        builtins={"ghost": "adapters.no_such_crm:GhostAdapter", "local": "adapters.crm.local:LocalCrm"},
        include_plugins=False,
    )
    assert "local" in found and "ghost" not in found
    [problem] = found.problems
    assert problem.id == "ghost" and "ModuleNotFoundError" in problem.message
    assert "ghost" in caplog.text
    with pytest.raises(KeyError, match="ModuleNotFoundError"):
        found.get("ghost")


def test_builtin_registered_under_another_id_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    found = registry.discover(builtins={"hubspot": "adapters.crm.local:LocalCrm"}, include_plugins=False)
    assert "hubspot" not in found
    assert "manifest id is 'local'" in found.problems[0].message


def test_third_party_adapter_from_an_installed_distribution_is_discovered(site: Path) -> None:
    module = _unique("acme")
    _install_dist_info(
        site,
        "logdesk_acme",
        {"acme": f"{module}:AcmeAdapter"},
        {module: _PLUGIN_SOURCE.format(cls="AcmeAdapter", adapter_id="acme", name="Acme CRM")},
    )
    found = registry.discover()
    info = found.get("acme")
    assert info.source == "plugin"
    assert info.name == "Acme CRM"
    assert "logdesk_acme" in info.origin
    assert found.create("acme", Connection()).verify() == "Acme CRM user"
    assert next(iter(found.adapters)) == "local", "built-ins are listed first"


def test_broken_third_party_adapters_are_reported_and_the_rest_load(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good, crashing, no_manifest = _unique("good"), _unique("crash"), _unique("bare")
    _install_dist_info(
        site,
        "logdesk_mixed",
        {
            "good": f"{good}:GoodAdapter",
            "crashing": f"{crashing}:Adapter",
            "bare": f"{no_manifest}:Adapter",
            "missing": f"{_unique('absent')}:Adapter",
            "misnamed": f"{good}:GoodAdapter",
        },
        {
            good: _PLUGIN_SOURCE.format(cls="GoodAdapter", adapter_id="good", name="Good CRM"),
            crashing: "raise RuntimeError('vendor SDK not installed')\n",
            no_manifest: "class Adapter:\n    pass\n",
        },
    )
    found = registry.discover()
    assert "good" in found and "local" in found
    problems = {p.id: p.message for p in found.problems}
    assert "vendor SDK not installed" in problems["crashing"]
    assert "no 'manifest'" in problems["bare"]
    assert "ModuleNotFoundError" in problems["missing"]
    assert "registered as 'misnamed'" in problems["misnamed"]
    assert "crashing" in caplog.text


def test_third_party_cannot_replace_a_builtin(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    module = _unique("impostor")
    _install_dist_info(
        site,
        "logdesk_impostor",
        {"local": f"{module}:Impostor"},
        {module: _PLUGIN_SOURCE.format(cls="Impostor", adapter_id="local", name="Impostor")},
    )
    found = registry.discover()
    assert found.get("local").adapter_class is LocalCrm
    assert "already taken" in found.problems[0].message


@pytest.mark.slow
def test_distribution_built_and_installed_by_pip_shows_up(tmp_path: Path, site: Path) -> None:
    # Given a real project with an entry point, built and installed by pip into a target dir
    module = _unique("pipcrm")
    project = tmp_path / "logdesk-pipcrm"
    (project / module).mkdir(parents=True)
    (project / module / "__init__.py").write_text(
        _PLUGIN_SOURCE.format(cls="PipAdapter", adapter_id="pipcrm", name="Pip CRM"), encoding="utf-8"
    )
    (project / "pyproject.toml").write_text(
        textwrap.dedent(f"""
            [build-system]
            requires = ["setuptools"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "logdesk-pipcrm"
            version = "1.0"

            [project.entry-points."logdesk.adapters"]
            pipcrm = "{module}:PipAdapter"

            [tool.setuptools]
            packages = ["{module}"]
        """),
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--no-build-isolation",
         "--target", str(site), str(project)],
        capture_output=True, text=True, timeout=240, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # When the registry looks for adapters
    found = registry.discover()
    # Then the installed adapter is there
    assert found.get("pipcrm").origin.endswith("(logdesk-pipcrm)")
    assert found.create("pipcrm", Connection()).verify() == "Pip CRM user"


def test_a_plugin_whose_constructor_crashes_is_an_adapter_error(site: Path, caplog: pytest.LogCaptureFixture) -> None:
    module = _unique("fragile")
    source = _PLUGIN_SOURCE.format(cls="Fragile", adapter_id="fragile", name="Fragile CRM").replace(
        "self.connection = connection", "raise TypeError('unexpected keyword in vendor SDK')"
    )
    _install_dist_info(site, "logdesk_fragile", {"fragile": f"{module}:Fragile"}, {module: source})
    found = registry.discover()
    with pytest.raises(AdapterError, match="Fragile CRM adapter failed to start") as caught:
        found.create("fragile", Connection())
    assert "unexpected keyword" in str(caught.value.vendor_message)
    assert "fragile" in caplog.text


def test_an_adapter_refusing_its_connection_keeps_its_own_error(tmp_path: Path) -> None:
    found = registry.discover(include_plugins=False)
    with pytest.raises(ValidationError) as caught:
        found.create("local", Connection())
    assert caught.value.field == "path"
