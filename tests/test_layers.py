# SPDX-License-Identifier: MIT
"""The layer rule: nothing under adapters/ or desktop/engine/ imports PySide6."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_BLOCKER = r"""
import importlib, importlib.abc, pkgutil, sys

class BlockQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "PySide6" or name.startswith("PySide6."):
            raise ImportError(f"layer rule: {name} imported from a Qt-free package")
        return None

sys.meta_path.insert(0, BlockQt())
failures = []
for top in ("adapters", "desktop.engine"):
    pkg = importlib.import_module(top)
    names = [top] + [m.name for m in pkgutil.walk_packages(pkg.__path__, top + ".")]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            if "layer rule" in str(exc):
                failures.append(f"{name}: {exc}")
        except Exception:
            pass  # not this test's business; the module's own tests cover it
print("\n".join(failures))
sys.exit(1 if failures else 0)
"""


def test_adapters_and_engine_import_without_pyside6() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _BLOCKER], cwd=ROOT, capture_output=True, text=True, timeout=90, check=False
    )
    assert result.returncode == 0, f"Qt imported in a Qt-free layer:\n{result.stdout}{result.stderr}"


def test_every_qt_free_module_is_checked() -> None:
    import adapters

    names = [m.name for m in pkgutil.walk_packages(adapters.__path__, "adapters.")]
    assert "adapters.base" in names and "adapters.models" in names
    vendors = ("local", "hubspot", "pipedrive", "salesforce", "zoho", "clio")
    assert {f"adapters.crm.{vendor}" for vendor in vendors} <= set(names)
