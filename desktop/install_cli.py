# SPDX-License-Identifier: MIT
"""``logdesk install-desktop`` and ``logdesk uninstall-desktop``.

- ``logdesk install-desktop``: the applications-menu entry and its icon (Linux and the BSDs),
  starting the ``logdesk`` this command ran from; ``--autostart`` also starts Logdesk at login
  (Linux autostart, the Windows Run key, a macOS LaunchAgent), ``--no-autostart`` stops that.
- ``logdesk uninstall-desktop``: removes all of it (settings, calls and credentials stay).

See :mod:`desktop.install` for the files and keys.
"""

from __future__ import annotations

import argparse
import sys

from desktop import install


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    add = sub.add_parser(
        "install-desktop",
        help="add Logdesk to the applications menu (and optionally start it at login)",
        description="Adds the applications-menu entry and icon for this installation of Logdesk.",
    )
    login = add.add_mutually_exclusive_group()
    login.add_argument("--autostart", dest="autostart", action="store_true", default=None,
                       help="also start Logdesk when you log in")
    login.add_argument("--no-autostart", dest="autostart", action="store_false",
                       help="do not start Logdesk at login (removes the entry if there is one)")
    add.set_defaults(run=run_install)
    remove = sub.add_parser(
        "uninstall-desktop",
        help="remove the applications-menu entry, the icon and start at login",
        description="Removes what install-desktop added. Settings, calls and credentials stay.",
    )
    remove.set_defaults(run=run_uninstall)


def run_install(args: argparse.Namespace) -> int:
    entry = install.menu_entry()
    if entry is not None:
        command = install.launcher_command()
        written = entry.install(command)
        print(f"Added {entry.entry} (starts {' '.join(command)})")
        print(f"Icon: {len(written) - 1} files under {entry.icon_theme}")
    else:
        print("No applications-menu entry is made on this system; use --autostart to start Logdesk at login.")
    if args.autostart is not None:
        item = install.set_start_at_login(args.autostart)
        if item is None:
            print("logdesk install-desktop: this system has no start-at-login entry Logdesk knows", file=sys.stderr)
            return 1
        print(f"Starts at login: {item.where}" if args.autostart else f"Does not start at login ({item.where})")
    return 0


def run_uninstall(args: argparse.Namespace) -> int:
    removed = []
    entry = install.menu_entry()
    if entry is not None:
        removed += [str(p) for p in entry.uninstall()]
    item = install.login_item()
    if item is not None and item.disable():
        removed.append(item.where)
    for what in removed:
        print(f"Removed {what}")
    if not removed:
        print("Nothing to remove: Logdesk was not installed on the desktop.")
    return 0
