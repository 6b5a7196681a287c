# SPDX-License-Identifier: MIT
"""The vendor adapters live in adapters/crm/; the old paths (adapters/<vendor>.py) of those that
existed before the move are shims.

A shim warns with ``DeprecationWarning`` when imported, pointing at the importing line, and gives
the very objects of the moved module, so plug-ins and scripts written against the old paths keep
working unchanged.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import adapters
from adapters.registry import BUILTIN_ADAPTERS

ROOT = Path(__file__).resolve().parents[2]
VENDORS = ["local", "hubspot", "pipedrive", "salesforce", "zoho", "clio"]


def _public_definitions(module: ModuleType) -> set[str]:
    """The public names a module's source defines at the top level, and the ones it re-exports
    explicitly (``from x import Name as Name``); not the names it merely imports, nor its logger."""
    names: set[str] = set()
    for node in ast.parse(inspect.getsource(module)).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.name for alias in node.names if alias.asname == alias.name)
    return {name for name in names if not name.startswith("_") and name != "log"}


@pytest.fixture
def fresh_import() -> Iterator[None]:
    """Forget the shims before and after, so each import runs the shim (and warns) again."""

    def forget() -> None:
        for vendor in VENDORS:
            sys.modules.pop(f"adapters.{vendor}", None)
            if isinstance(getattr(adapters, vendor, None), ModuleType):
                delattr(adapters, vendor)

    forget()
    yield
    forget()


def test_every_builtin_adapter_lives_in_adapters_crm() -> None:
    # Adapters added after the move (Google Sheets, ...) have no old path, hence no shim.
    assert set(VENDORS) <= set(BUILTIN_ADAPTERS)
    for adapter_id, target in BUILTIN_ADAPTERS.items():
        assert target.partition(":")[0] == f"adapters.crm.{adapter_id}"


@pytest.mark.parametrize("vendor", VENDORS)
def test_old_path_warns_and_gives_the_moved_modules_objects(vendor: str, fresh_import: None) -> None:
    old_name, new_name = f"adapters.{vendor}", f"adapters.crm.{vendor}"
    new = importlib.import_module(new_name)

    with pytest.warns(DeprecationWarning, match=rf"{old_name} is deprecated: import from {new_name}"):
        old = importlib.import_module(old_name)

    class_name = BUILTIN_ADAPTERS[vendor].partition(":")[2]
    assert getattr(old, class_name) is getattr(new, class_name)
    # Star imports give every public name the moved module defines (and at least its own __all__)...
    assert _public_definitions(new) <= set(old.__all__)
    assert set(getattr(new, "__all__", ())) <= set(old.__all__)
    for name in old.__all__:
        assert getattr(old, name) is getattr(new, name), name
    # ...and any other attribute, private helpers included, is the moved module's own object.
    for name, value in vars(new).items():
        if not name.startswith("__"):
            assert getattr(old, name) is value, name


def test_the_warning_points_at_the_importing_line(tmp_path: Path) -> None:
    # Checked in a plain interpreter: under pytest, the frame that runs the shim is pytest's
    # assertion-rewriting import hook, not the test.
    script = tmp_path / "old_script.py"
    script.write_text("".join(f"import adapters.{vendor}\n" for vendor in VENDORS), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-W", "always::DeprecationWarning", str(script)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    for line, vendor in enumerate(VENDORS, start=1):
        assert f"old_script.py:{line}: DeprecationWarning: adapters.{vendor} is deprecated" in result.stderr


def test_star_import_from_old_path(fresh_import: None) -> None:
    from adapters.crm.local import DEFAULT_DISPOSITIONS, LocalCrm

    namespace: dict[str, object] = {}
    with pytest.warns(DeprecationWarning, match="adapters.local is deprecated"):
        exec("from adapters.local import *", namespace)  # noqa: S102
    assert namespace["LocalCrm"] is LocalCrm
    assert namespace["DEFAULT_DISPOSITIONS"] is DEFAULT_DISPOSITIONS
