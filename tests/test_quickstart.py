# SPDX-License-Identifier: MIT
"""The quick start's check before a window opens: a system library Qt's X11 plugin needs is
missing → one exact install line, not Qt's "could not load the Qt platform plugin xcb"."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _quickstart() -> ModuleType:
    spec = importlib.util.spec_from_file_location("quickstart", ROOT / "scripts" / "quickstart.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_hidden_library_is_named_with_the_debian_package_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("gcc") is None or shutil.which("ldd") is None:
        pytest.skip("needs gcc and ldd to build a plugin stand-in")
    qs = _quickstart()
    # Libraries no system has (the real xcb ones may be installed here), in the package table
    hidden = ("liblogdesk-cursor.so.0", "liblogdesk-icccm.so.4")
    monkeypatch.setitem(qs.XCB_LIBRARY_PACKAGES, hidden[0], "liblogdesk-cursor0")
    monkeypatch.setitem(qs.XCB_LIBRARY_PACKAGES, hidden[1], "liblogdesk-icccm4")
    # Given a plugin built against two libraries, which are then hidden
    for soname in hidden:
        (tmp_path / "stub.c").write_text("int stub_symbol(void) { return 0; }\n")
        subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", str(tmp_path / soname),
                        str(tmp_path / "stub.c")], check=True)
    (tmp_path / "plugin.c").write_text("int plugin_symbol(void) { return 1; }\n")
    plugin = tmp_path / "libqxcb.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(plugin), str(tmp_path / "plugin.c"), f"-L{tmp_path}",
                    "-Wl,--no-as-needed", f"-l:{hidden[0]}", f"-l:{hidden[1]}"], check=True)
    for soname in hidden:
        (tmp_path / soname).unlink()
    # When the quick start checks it
    missing = qs.missing_for_display([plugin])
    # Then it names the libraries and one exact install line
    assert missing == list(hidden)
    assert qs.apt_line(missing) == "sudo apt-get install liblogdesk-cursor0 liblogdesk-icccm4"


def test_an_unknown_library_is_named_too() -> None:
    qs = _quickstart()
    assert qs.missing_libraries("\tlibfoo.so.9 => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == ["libfoo.so.9"]
    line = qs.apt_line(["libxcb-cursor.so.0", "libfoo.so.9"])
    assert line == "sudo apt-get install libxcb-cursor0  (and the packages that provide libfoo.so.9)"
    assert qs.apt_line(["libfoo.so.9"]) == "install the packages that provide libfoo.so.9"


def test_the_installed_plugin_has_what_it_needs_on_this_machine() -> None:
    qs = _quickstart()
    files = qs.xcb_plugin_files()
    if not files:
        pytest.skip("the quick start's .venv is not set up here")
    assert qs.missing_for_display(files) == []
