# SPDX-License-Identifier: MIT
"""``logdesk install-desktop`` / ``uninstall-desktop``: the menu entry, the icon, start at login.

XDG_DATA_HOME and XDG_CONFIG_HOME point into a temp dir (the autouse ``isolated_dirs``). Entries
are checked with ``desktop-file-validate`` where it is installed (CI requires it) and always
against the Desktop Entry spec's rules below.
"""

from __future__ import annotations

import os
import plistlib
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from desktop import install
from desktop.cli import main as cli_main

# --- the Desktop Entry spec's rules (what desktop-file-validate checks that matters here) --------

_KEY = re.compile(r"^[A-Za-z0-9-]+(\[[^\]]+\])?$")
_STANDARD_KEYS = {
    "Type", "Version", "Name", "GenericName", "NoDisplay", "Comment", "Icon", "Hidden", "OnlyShowIn",
    "NotShowIn", "DBusActivatable", "TryExec", "Exec", "Path", "Terminal", "Actions", "MimeType", "Categories",
    "Implements", "Keywords", "StartupNotify", "StartupWMClass", "URL", "PrefersNonDefaultGPU",
    "SingleMainWindow",
}
_BOOLEANS = {"NoDisplay", "Hidden", "DBusActivatable", "Terminal", "StartupNotify", "PrefersNonDefaultGPU"}
_LISTS = {"OnlyShowIn", "NotShowIn", "Actions", "MimeType", "Categories", "Implements", "Keywords"}
_MAIN_CATEGORIES = {"AudioVideo", "Audio", "Video", "Development", "Education", "Game", "Graphics", "Network",
                    "Office", "Science", "Settings", "System", "Utility"}


def spec_problems(text: str) -> list[str]:
    """What in ``text`` breaks the Desktop Entry Specification (1.4) for an application."""
    problems = []
    lines = [raw for raw in text.splitlines() if raw.strip() and not raw.lstrip().startswith("#")]
    if not lines or lines[0] != "[Desktop Entry]":
        problems.append("the first group must be [Desktop Entry]")
    group, keys = None, {}
    for raw in lines:
        if raw.startswith("["):
            group = raw
            continue
        key, sep, value = raw.partition("=")
        key = key.rstrip()
        if not sep or not _KEY.match(key):
            problems.append(f"not a key=value line: {raw!r}")
            continue
        if group != "[Desktop Entry]":
            continue
        if key in keys:
            problems.append(f"duplicate key {key}")
        keys[key] = value.lstrip()
        base = key.split("[")[0]
        if base not in _STANDARD_KEYS and not base.startswith("X-"):
            problems.append(f"unknown key {key} (extensions start with X-)")
        if base in _BOOLEANS and keys[key] not in ("true", "false"):
            problems.append(f"{key} must be true or false")
        if base in _LISTS and not keys[key].endswith(";"):
            problems.append(f"{key} is a list and must end with ';'")
    for required in ("Type", "Name"):
        if required not in keys:
            problems.append(f"required key {required} missing")
    if keys.get("Type") != "Application":
        problems.append("Type must be Application")
    if "Exec" not in keys and keys.get("DBusActivatable") != "true":
        problems.append("an application needs Exec")
    if keys.get("Version", "1.0") not in ("1.0", "1.1", "1.2", "1.3", "1.4", "1.5"):
        problems.append("unknown Version")
    icon = keys.get("Icon", "")
    if icon and not os.path.isabs(icon) and Path(icon).suffix in (".png", ".svg", ".xpm"):
        problems.append("an Icon name has no extension")
    mains = [c for c in keys.get("Categories", "").split(";") if c in _MAIN_CATEGORIES]
    if len(mains) != 1:
        problems.append(f"exactly one main category expected, got {mains}")
    if "Exec" in keys:
        try:
            install.parse_exec(keys["Exec"])
        except ValueError as exc:
            problems.append(str(exc))
    return problems


def assert_valid_entry(path: Path) -> None:
    assert spec_problems(path.read_text(encoding="utf-8")) == []
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        if os.environ.get("LOGDESK_REQUIRE_DESKTOP_FILE_VALIDATE"):
            pytest.fail("desktop-file-validate is required here (apt-get install desktop-file-utils)")
        return
    done = subprocess.run([validator, str(path)], capture_output=True, text=True, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "", done.stdout + done.stderr


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_spec_check_finds_a_broken_entry() -> None:
    broken = "[Desktop Entry]\nType=Application\nExec=\"/opt/log desk\nIcon=logdesk.png\nOpen=yes\nTerminal=no\n"
    problems = spec_problems(broken)
    assert "required key Name missing" in problems
    assert "an Icon name has no extension" in problems
    assert "unknown key Open (extensions start with X-)" in problems
    assert "Terminal must be true or false" in problems
    assert any("unterminated quote" in p for p in problems)


# --- install-desktop ------------------------------------------------------------------------------


def test_install_desktop_adds_a_valid_menu_entry_that_starts_the_installed_logdesk(
    isolated_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the installed logdesk is asked to install itself on the desktop
    assert cli_main(["install-desktop"]) == 0
    # Then the menu entry is under XDG_DATA_HOME and follows the spec
    entry = isolated_dirs / "data" / "applications" / "logdesk.desktop"
    assert_valid_entry(entry)
    keys = install.read_entry(entry)
    assert keys["Name"] == "Logdesk" and keys["Icon"] == "logdesk" and keys["Terminal"] == "false"
    # And its Exec line is this installation's logdesk script, which runs
    argv = install.parse_exec(keys["Exec"])
    assert argv == [str(Path(sys.executable).parent / "logdesk")]
    assert keys["TryExec"] == argv[0]
    done = subprocess.run([*argv, "--version"], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "logdesk 0.1.0"
    assert str(entry) in capsys.readouterr().out
    # And nothing starts at login unless asked
    assert not (isolated_dirs / "config" / "autostart" / "logdesk.desktop").exists()


def test_install_desktop_puts_the_icon_in_the_hicolor_theme(isolated_dirs: Path) -> None:
    from resources import resource

    assert cli_main(["install-desktop"]) == 0
    hicolor = isolated_dirs / "data" / "icons" / "hicolor"
    svg = hicolor / "scalable" / "apps" / "logdesk.svg"
    assert svg.read_bytes() == resource("icons", "logdesk.svg").read_bytes()
    # The Icon Theme spec: every theme has 48x48; the others are there for crisp small sizes
    for size in install.PNG_SIZES:
        data = (hicolor / f"{size}x{size}" / "apps" / "logdesk.png").read_bytes()
        assert png_size(data) == (size, size)
    # The 48 px icon is the logo, not an empty square: its centre is opaque and the corner clear
    from PySide6.QtGui import QImage

    image = QImage()
    assert image.loadFromData((hicolor / "48x48" / "apps" / "logdesk.png").read_bytes())
    assert image.pixelColor(24, 24).alpha() == 255
    assert image.pixelColor(0, 0).alpha() == 0


def test_autostart_entry_is_written_with_the_same_command_and_removed_on_request(isolated_dirs: Path) -> None:
    autostart = isolated_dirs / "config" / "autostart" / "logdesk.desktop"
    # When start at login is asked for
    assert cli_main(["install-desktop", "--autostart"]) == 0
    # Then the autostart entry is valid, enabled and starts the same logdesk as the menu
    assert_valid_entry(autostart)
    keys = install.read_entry(autostart)
    menu = install.read_entry(isolated_dirs / "data" / "applications" / "logdesk.desktop")
    assert install.parse_exec(keys["Exec"]) == install.parse_exec(menu["Exec"])
    assert keys["X-GNOME-Autostart-enabled"] == "true"
    assert install.XdgAutostart().enabled()
    # When it is turned off again
    assert cli_main(["install-desktop", "--no-autostart"]) == 0
    # Then the autostart entry is gone and the menu entry stays
    assert not autostart.exists()
    assert not install.XdgAutostart().enabled()
    assert (isolated_dirs / "data" / "applications" / "logdesk.desktop").is_file()


def test_an_autostart_entry_switched_off_in_the_desktop_settings_reads_as_off(isolated_dirs: Path) -> None:
    item = install.XdgAutostart()
    item.enable(["/opt/logdesk/logdesk"])
    text = item.path.read_text(encoding="utf-8").replace("X-GNOME-Autostart-enabled=true", "Hidden=true")
    item.path.write_text(text, encoding="utf-8")
    assert not item.enabled()


def test_uninstall_desktop_removes_the_entry_the_icons_and_the_autostart(
    isolated_dirs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["install-desktop", "--autostart"]) == 0
    written = [p for p in (isolated_dirs / "data").rglob("*") if p.is_file()]
    assert len(written) == 1 + 1 + len(install.PNG_SIZES)
    capsys.readouterr()
    # When uninstalled
    assert cli_main(["uninstall-desktop"]) == 0
    # Then every file it wrote is gone
    assert [p for p in (isolated_dirs / "data").rglob("*") if p.is_file()] == []
    assert not (isolated_dirs / "config" / "autostart" / "logdesk.desktop").exists()
    out = capsys.readouterr().out
    assert out.count("Removed ") == len(written) + 1
    # And a second uninstall has nothing to do
    assert cli_main(["uninstall-desktop"]) == 0
    assert "Nothing to remove" in capsys.readouterr().out


def test_install_desktop_quotes_a_command_in_a_path_with_spaces_and_signs(isolated_dirs: Path) -> None:
    argv = ['/home/agent/My Apps/log"desk $HOME/100%\\bin/logdesk', "--sandbox"]
    entry = install.MenuEntry()
    entry.install(argv)
    assert_valid_entry(entry.entry)
    assert entry.command() == argv


@given(st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")), min_size=1))
def test_exec_values_read_back_as_the_same_command(argv: list[str]) -> None:
    assert install.parse_exec(install.exec_value(argv)) == argv


def test_exec_field_codes_are_dropped_when_read() -> None:
    assert install.parse_exec("logdesk %U --x") == ["logdesk", "--x"]


# --- other systems: the Windows Run key and the macOS LaunchAgent -----------------------------------


class FakeRegistry:
    """The part of ``winreg`` the Run key uses, over a dict of (key path, value name) → data."""

    HKEY_CURRENT_USER = "HKCU"
    KEY_QUERY_VALUE, KEY_SET_VALUE, REG_SZ = 1, 2, 1

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], tuple[object, int]] = {}

    class _Key:
        def __init__(self, path: str) -> None:
            self.path = path

        def __enter__(self) -> FakeRegistry._Key:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    def CreateKeyEx(self, root: str, sub: str, reserved: int, access: int) -> FakeRegistry._Key:
        return self._Key(f"{root}\\{sub}")

    def QueryValueEx(self, key: FakeRegistry._Key, name: str) -> tuple[object, int]:
        try:
            return self.values[(key.path, name)]
        except KeyError:
            raise FileNotFoundError(name) from None

    def SetValueEx(self, key: FakeRegistry._Key, name: str, reserved: int, kind: int, data: object) -> None:
        self.values[(key.path, name)] = (data, kind)

    def DeleteValue(self, key: FakeRegistry._Key, name: str) -> None:
        if self.values.pop((key.path, name), None) is None:
            raise FileNotFoundError(name)


def test_windows_start_at_login_is_a_run_key_value_with_the_quoted_command() -> None:
    registry = FakeRegistry()
    item = install.WindowsRunKey(registry)
    assert not item.enabled()
    item.enable([r"C:\Users\Ann Lee\pipx\venvs\logdesk\Scripts\pythonw.exe", "-m", "desktop"])
    run = "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run"
    assert registry.values[(run, "Logdesk")] == (
        r'"C:\Users\Ann Lee\pipx\venvs\logdesk\Scripts\pythonw.exe" -m desktop', registry.REG_SZ
    )
    assert item.enabled()
    assert item.disable() and not item.enabled()
    assert not item.disable()


def test_macos_start_at_login_is_a_launch_agent_that_runs_at_load(tmp_path: Path) -> None:
    item = install.LaunchAgent(home=tmp_path)
    item.enable(["/Applications/Logdesk.app/Contents/MacOS/Logdesk"])
    agent = plistlib.loads((tmp_path / "Library" / "LaunchAgents" / "org.logdesk.Logdesk.plist").read_bytes())
    assert agent["Label"] == "org.logdesk.Logdesk"
    assert agent["ProgramArguments"] == ["/Applications/Logdesk.app/Contents/MacOS/Logdesk"]
    assert agent["RunAtLoad"] is True and agent["LimitLoadToSessionType"] == "Aqua"
    assert item.enabled() and item.disable() and not item.enabled()


def test_only_freedesktop_systems_get_a_menu_entry_and_each_system_its_login_item() -> None:
    assert isinstance(install.menu_entry("linux"), install.MenuEntry)
    assert install.menu_entry("win32") is None and install.menu_entry("darwin") is None
    assert isinstance(install.login_item("linux"), install.XdgAutostart)
    assert isinstance(install.login_item("darwin"), install.LaunchAgent)
    assert install.login_item("emscripten") is None
