# SPDX-License-Identifier: MIT
"""``scripts/bundle.py`` and the bundle's benchmark rows, without building (CI builds and checks
the bundle itself in a later step of ``.ci/run``: ``python3 scripts/bundle.py --check``)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from adapters.registry import BUILTIN_ADAPTERS
from bench import bench_bundle
from desktop.cli import SUBCOMMANDS


def test_the_bundle_holds_every_module_imported_by_name_and_no_test_helper() -> None:
    script = bench_bundle._bundle_script()
    modules = set(script.app_modules())
    # The registry imports the built-in adapters by name, the command line its subcommands
    assert {target.split(":")[0] for target in BUILTIN_ADAPTERS.values()} <= modules
    assert set(SUBCOMMANDS.values()) <= modules
    assert {"desktop.startup_check", "desktop.install", "desktop.ui.tray", "desktop.engine.listing"} <= modules
    # The contract suite ships for third-party adapters' tests: it imports pytest, not for the app
    assert not {m for m in modules if m.startswith(("adapters.testing", "adapters.pytest_plugin"))}
    assert "adapters.template.acme_harness" not in modules


def test_without_a_built_bundle_the_rows_say_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    script = bench_bundle._bundle_script()
    monkeypatch.setattr(script, "DIST", tmp_path / "dist")
    monkeypatch.setattr(bench_bundle, "_bundle_script", lambda: script)
    rows = bench_bundle.run()
    assert len(rows) == 3
    assert all("not built: python3 scripts/bundle.py" in r.name for r in rows)
    assert all(math.isnan(r.figure) and r.passed is None for r in rows)


def test_a_bundle_over_the_size_target_fails_its_row(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    script = bench_bundle._bundle_script()
    folder = tmp_path / "dist" / "logdesk"
    folder.mkdir(parents=True)
    with open(folder / "libbig.so", "wb") as fh:  # sparse: 201 MB on paper, nothing on the disk
        fh.truncate(201 * 1000 * 1000)
    monkeypatch.setattr(script, "DIST", tmp_path / "dist")
    monkeypatch.setattr(script, "ROOT", tmp_path)
    monkeypatch.setattr(bench_bundle, "ROOT", tmp_path)
    size, download = bench_bundle.bench_size(script)
    assert size.figure == pytest.approx(201, abs=0.01) and size.passed is False
    assert 0 < download.figure < 1  # zeros compress
