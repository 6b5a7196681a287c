# SPDX-License-Identifier: MIT
"""Logdesk as a desktop app: the applications-menu entry, its icon, and "start at login".

- **Linux and the BSDs** (freedesktop): ``$XDG_DATA_HOME/applications/logdesk.desktop`` (a Desktop
  Entry whose ``Exec`` starts the installed ``logdesk``), the icon under the hicolor theme
  (``$XDG_DATA_HOME/icons/hicolor/scalable/apps/logdesk.svg`` plus PNGs from 16 to 256 pixels,
  48x48 being the size the Icon Theme spec requires), and for start at login the same entry in
  ``$XDG_CONFIG_HOME/autostart/`` (the Desktop Application Autostart spec).
- **Windows**: start at login is the value ``Logdesk`` under
  ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run`` (``pythonw`` rather than the console
  script, so no console window opens at login). No Start-menu entry is made here.
- **macOS**: start at login is a LaunchAgent, ``~/Library/LaunchAgents/org.logdesk.Logdesk.plist``
  (``RunAtLoad``, Aqua sessions only), loaded by launchd at the next login. No menu entry is made
  here: on macOS the bundle is the app.

What is started is the ``logdesk`` the current process was started from (:func:`launcher_command`):
the bundle's executable, the console script of the virtual environment (pipx's included), or this
interpreter with ``-m desktop``. ``logdesk install-desktop`` / ``uninstall-desktop``
(:mod:`desktop.install_cli`) and the first-run offer in the window use this module.

Threading contract: any thread; nothing here touches Qt except :func:`render_png` (a QImage, no
application needed).
"""

from __future__ import annotations

import importlib
import os
import plistlib
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from desktop import APP_ID, APP_NAME

ENTRY_FILE = f"{APP_ID}.desktop"
ICON_NAME = APP_ID
#: PNG sizes put beside the scalable icon (48 is the one every icon theme must have).
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: The Windows registry key whose values are started at login.
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
LAUNCH_AGENT_LABEL = "org.logdesk.Logdesk"

#: Characters that make an ``Exec`` argument need quoting (Desktop Entry spec, "The Exec key").
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
#: Inside a quoted ``Exec`` argument these take a backslash before them.
_ESCAPED_IN_QUOTES = set('"`$\\')


def is_freedesktop(platform: str | None = None) -> bool:
    """Whether menus and autostart follow the freedesktop specs (Linux and the BSDs)."""
    return (platform or sys.platform).startswith(("linux", "freebsd", "openbsd", "netbsd"))


# --- what to start --------------------------------------------------------------------------------


def launcher_command() -> list[str]:
    """The command that starts this installation of Logdesk, absolute.

    The bundle's own executable; else the ``logdesk`` console script installed beside this
    interpreter (a virtual environment, pipx's too) or in this interpreter's scripts directory;
    else this interpreter with ``-m desktop``.
    """
    if getattr(sys, "frozen", False):
        return [sys.executable]
    script = "logdesk.exe" if os.name == "nt" else "logdesk"
    # Not resolved: a venv's python is a symlink to the base interpreter, whose directory is not the venv's.
    beside = Path(sys.executable).parent / script
    candidates = [beside, Path(sysconfig.get_path("scripts")) / script]
    if os.name != "nt":
        candidates.append(Path(sysconfig.get_path("scripts", f"{os.name}_user")) / script)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return [str(candidate.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "desktop"]


def login_command(platform: str | None = None) -> list[str]:
    """What starts Logdesk at login: :func:`launcher_command`, except on Windows outside the
    bundle, where ``pythonw -m desktop`` runs it without a console window."""
    if (platform or sys.platform) == "win32" and not getattr(sys, "frozen", False):
        pythonw = Path(sys.executable).with_name("pythonw.exe")
        if pythonw.is_file():
            return [str(pythonw), "-m", "desktop"]
    return launcher_command()


# --- Desktop Entry values -----------------------------------------------------------------------


def escape_string(value: str) -> str:
    """A value of type string in a desktop entry (``\\s``, ``\\n``, ``\\t``, ``\\r``, ``\\\\``)."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")


def unescape_string(value: str) -> str:
    out = []
    chars = iter(value)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}.get(nxt, "\\" + nxt))
    return "".join(out)


def _exec_argument(arg: str) -> str:
    if not arg:
        return '""'
    if not any(ch in _RESERVED for ch in arg):
        quoted = arg
    else:
        quoted = '"' + "".join("\\" + ch if ch in _ESCAPED_IN_QUOTES else ch for ch in arg) + '"'
    return quoted.replace("%", "%%")  # a literal percent sign is doubled (field codes start with one)


def exec_value(argv: Sequence[str]) -> str:
    """``argv`` as the value of an ``Exec`` key: quoted per argument as the spec requires, then
    escaped as a string value."""
    return escape_string(" ".join(_exec_argument(a) for a in argv))


def parse_exec(value: str) -> list[str]:
    """The command line an ``Exec`` value stands for (field codes such as ``%U`` are dropped, as a
    launcher with no files to open drops them)."""
    line = unescape_string(value)
    args: list[str] = []
    current: list[str] = []
    in_arg = quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == "\\" and i + 1 < len(line) and line[i + 1] in _ESCAPED_IN_QUOTES:
                current.append(line[i + 1])
                i += 1
            elif ch == '"':
                quoted = False
            elif ch == "%" and line[i + 1 : i + 2] == "%":
                current.append("%")
                i += 1
            else:
                current.append(ch)
        elif ch == '"':
            quoted = in_arg = True
        elif ch == " ":
            if in_arg:
                args.append("".join(current))
                current, in_arg = [], False
        elif ch == "%" and i + 1 < len(line):
            if line[i + 1] == "%":
                current.append("%")
                in_arg = True
            i += 1
        else:
            current.append(ch)
            in_arg = True
        i += 1
    if quoted:
        raise ValueError(f"unterminated quote in Exec value: {value!r}")
    if in_arg:
        args.append("".join(current))
    return args


def desktop_entry(argv: Sequence[str], *, autostart: bool = False) -> str:
    """The Desktop Entry (spec version 1.4, the newest desktop-file-validate 0.26 knows) that
    starts ``argv``; ``autostart`` for the copy in ``autostart/``, whose on/off switch GNOME reads."""
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        f"Name={APP_NAME}",
        "GenericName=Call logging",
        "Comment=Log and disposition your RingCentral calls into your CRM",
        f"Exec={exec_value(argv)}",
        f"TryExec={escape_string(argv[0])}",
        f"Icon={ICON_NAME}",
        "Terminal=false",
        "Categories=Network;Telephony;",
        "Keywords=calls;CRM;RingCentral;log;disposition;",
        "StartupNotify=true",
        f"StartupWMClass={APP_NAME}",
    ]
    if autostart:
        lines.append("X-GNOME-Autostart-enabled=true")
    return "\n".join(lines) + "\n"


def read_entry(path: Path) -> dict[str, str]:
    """The keys of a desktop entry's ``[Desktop Entry]`` group, values as written (escaped)."""
    keys: dict[str, str] = {}
    group = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            continue
        if group == "Desktop Entry" and "=" in line:
            key, _, value = line.partition("=")
            keys[key.strip()] = value.strip()
    return keys


# --- files ---------------------------------------------------------------------------------------


def _xdg_home(var: str, default: str) -> Path:
    """An XDG base directory: the variable when it is an absolute path, else the default."""
    value = os.environ.get(var, "").strip()
    return Path(value) if value and os.path.isabs(value) else Path.home() / default


def data_home() -> Path:
    return _xdg_home("XDG_DATA_HOME", ".local/share")


def config_home() -> Path:
    return _xdg_home("XDG_CONFIG_HOME", ".config")


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _icon_svg() -> bytes:
    from resources import resource

    return resource("icons", f"{ICON_NAME}.svg").read_bytes()


def render_png(svg: bytes, size: int) -> bytes:
    """The SVG drawn on a transparent ``size`` x ``size`` PNG (Qt's renderer; no QApplication)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(QByteArray(svg))
    if not renderer.isValid():
        raise ValueError("the icon is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    painter = QPainter(image)
    try:
        renderer.render(painter)
    finally:
        painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    # The stubs type the format as bytes; PySide6 6.11 takes only str at run time.
    if not image.save(buffer, "PNG"):  # type: ignore[call-overload]
        raise ValueError("could not write the icon as PNG")
    buffer.close()
    return bytes(data.data())


class MenuEntry:
    """The applications-menu entry and its icon (freedesktop).

    Args:
        data: ``$XDG_DATA_HOME`` (:func:`data_home` when omitted).
    """

    def __init__(self, data: Path | None = None) -> None:
        self.data = data or data_home()

    @property
    def entry(self) -> Path:
        return self.data / "applications" / ENTRY_FILE

    @property
    def icon_theme(self) -> Path:
        return self.data / "icons" / "hicolor"

    def icons(self) -> list[Path]:
        """Every icon file this entry installs."""
        theme = self.icon_theme
        return [theme / "scalable" / "apps" / f"{ICON_NAME}.svg"] + [
            theme / f"{n}x{n}" / "apps" / f"{ICON_NAME}.png" for n in PNG_SIZES
        ]

    def installed(self) -> bool:
        return self.entry.is_file()

    def command(self) -> list[str] | None:
        """What the installed entry starts (None: not installed)."""
        if not self.installed():
            return None
        return parse_exec(read_entry(self.entry).get("Exec", ""))

    def install(self, argv: Sequence[str] | None = None) -> list[Path]:
        """Writes the icon and the entry (the entry last: a menu never shows it without its icon).

        Returns:
            The files written.
        """
        argv = list(argv or launcher_command())
        svg = _icon_svg()
        written = []
        for path in self.icons():
            if path.suffix == ".svg":
                _write_atomically(path, svg)
            else:
                size = int(path.parent.parent.name.split("x")[0])
                _write_atomically(path, render_png(svg, size))
            written.append(path)
        _touch(self.icon_theme)  # the Icon Theme spec: a changed mtime tells caches to look again
        _write_atomically(self.entry, desktop_entry(argv).encode("utf-8"))
        written.append(self.entry)
        return written

    def uninstall(self) -> list[Path]:
        """Removes the entry and the icon files. Returns the files that were there."""
        removed = []
        for path in [self.entry, *self.icons()]:
            if path.is_file():
                path.unlink()
                removed.append(path)
        if removed and self.icon_theme.is_dir():
            _touch(self.icon_theme)
        return removed


def _touch(directory: Path) -> None:
    try:
        os.utime(directory)
    except OSError:
        pass


# --- start at login ------------------------------------------------------------------------------


class LoginItem(Protocol):
    """Starts Logdesk when the user logs in."""

    where: str

    def enabled(self) -> bool: ...

    def enable(self, argv: Sequence[str]) -> None: ...

    def disable(self) -> bool:
        """Returns whether there was something to remove."""
        ...


class XdgAutostart:
    """``$XDG_CONFIG_HOME/autostart/logdesk.desktop`` (Desktop Application Autostart spec)."""

    def __init__(self, config: Path | None = None) -> None:
        self.path = (config or config_home()) / "autostart" / ENTRY_FILE
        self.where = str(self.path)

    def enabled(self) -> bool:
        if not self.path.is_file():
            return False
        keys = read_entry(self.path)
        return keys.get("Hidden", "false") != "true" and keys.get("X-GNOME-Autostart-enabled", "true") != "false"

    def enable(self, argv: Sequence[str]) -> None:
        _write_atomically(self.path, desktop_entry(argv, autostart=True).encode("utf-8"))

    def disable(self) -> bool:
        if self.path.is_file():
            self.path.unlink()
            return True
        return False


class WindowsRunKey:
    """The value ``Logdesk`` under ``HKCU\\...\\CurrentVersion\\Run``.

    Args:
        registry: the ``winreg`` module (imported when omitted).
    """

    VALUE = APP_NAME

    def __init__(self, registry: Any = None) -> None:
        self._reg = registry if registry is not None else importlib.import_module("winreg")
        self.where = f"HKEY_CURRENT_USER\\{RUN_KEY}\\{self.VALUE}"

    def _key(self, access: int) -> Any:
        return self._reg.CreateKeyEx(self._reg.HKEY_CURRENT_USER, RUN_KEY, 0, access)

    def command(self) -> str | None:
        try:
            with self._key(self._reg.KEY_QUERY_VALUE) as key:
                value, _kind = self._reg.QueryValueEx(key, self.VALUE)
        except FileNotFoundError:
            return None
        return str(value)

    def enabled(self) -> bool:
        return self.command() is not None

    def enable(self, argv: Sequence[str]) -> None:
        with self._key(self._reg.KEY_SET_VALUE) as key:
            self._reg.SetValueEx(key, self.VALUE, 0, self._reg.REG_SZ, subprocess.list2cmdline(list(argv)))

    def disable(self) -> bool:
        try:
            with self._key(self._reg.KEY_SET_VALUE) as key:
                self._reg.DeleteValue(key, self.VALUE)
        except FileNotFoundError:
            return False
        return True


class LaunchAgent:
    """``~/Library/LaunchAgents/org.logdesk.Logdesk.plist``, loaded by launchd at login."""

    def __init__(self, home: Path | None = None) -> None:
        self.path = (home or Path.home()) / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"
        self.where = str(self.path)

    def enabled(self) -> bool:
        return self.path.is_file()

    def enable(self, argv: Sequence[str]) -> None:
        agent = {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": list(argv),
            "RunAtLoad": True,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",
        }
        _write_atomically(self.path, plistlib.dumps(agent))

    def disable(self) -> bool:
        if self.path.is_file():
            self.path.unlink()
            return True
        return False


def login_item(platform: str | None = None) -> LoginItem | None:
    """This system's way of starting Logdesk at login (None where there is none)."""
    platform = platform or sys.platform
    if is_freedesktop(platform):
        return XdgAutostart()
    if platform == "win32":
        return WindowsRunKey()
    if platform == "darwin":
        return LaunchAgent()
    return None


def menu_entry(platform: str | None = None) -> MenuEntry | None:
    """The applications-menu entry where this module makes one (freedesktop systems)."""
    return MenuEntry() if is_freedesktop(platform) else None


def set_start_at_login(enabled: bool, platform: str | None = None) -> LoginItem | None:
    """Turns start at login on (with :func:`login_command`) or off; the item, or None if this
    system has none."""
    item = login_item(platform)
    if item is None:
        return None
    if enabled:
        item.enable(login_command(platform))
    else:
        item.disable()
    return item
