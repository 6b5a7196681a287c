# SPDX-License-Identifier: MIT
"""Command line: ``logdesk`` launches the app; subcommands run headless tools.

Each tool module exposes ``register(subparsers)``, adding its parser with ``set_defaults(run=fn)``
where ``fn(args) -> int``. Modules are listed explicitly and imported only when a subcommand runs,
so launching the app stays fast.

``--sandbox`` picks the sandbox's files for the tools that read the data folder, wherever it is
written: ``logdesk --sandbox outbox``, ``logdesk outbox --sandbox`` (see :func:`add_where_options`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

#: subcommand name → module exposing ``register(subparsers)``.
SUBCOMMANDS: dict[str, str] = {
    "adapter": "adapters.template.cli",
    "install-desktop": "desktop.install_cli",
    "local-crm": "desktop.local_crm_cli",
    "note": "adapters.notes.cli",
    "outbox": "desktop.engine.cli",
    "sandbox": "adapters.ringcentral.sandbox.cli",
    "uninstall-desktop": "desktop.install_cli",
}


def add_where_options(parser: argparse.ArgumentParser, *, what: str) -> None:
    """``--sandbox`` and ``--db PATH`` for a tool that works on one of the data folder's databases.

    Neither has a default (``argparse.SUPPRESS``): a subcommand's parser copies every attribute it
    has over the ones read before it, and a default ``False`` would undo ``logdesk --sandbox``
    written before the subcommand. :func:`chosen_database` reads them.

    Args:
        parser: the subcommand's (or its action's) parser.
        what: the database, for the help ("Local CRM database").
    """
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--sandbox", action="store_true", default=argparse.SUPPRESS,
                       help=f"the sandbox's {what} (also before the subcommand: logdesk --sandbox ...)")
    where.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=f"another {what} file")


class WhereError(Exception):
    """``--sandbox`` and ``--db`` were both given (on different sides of the subcommand)."""


def chosen_database(args: argparse.Namespace, *, app: Path, sandbox: Path) -> Path:
    """The file a tool works on: ``--db``, the sandbox's (``--sandbox``), or the app's.

    Raises:
        WhereError: both ``--sandbox`` and ``--db`` were given.
    """
    db = getattr(args, "db", None)
    if db and getattr(args, "sandbox", False):
        raise WhereError("give --sandbox or --db, not both")
    if db:
        return Path(db)
    return sandbox if getattr(args, "sandbox", False) else app


def build_parser(with_subcommands: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logdesk", description="Log and disposition your calls into your CRM."
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="run on a simulated RingCentral account and the Local CRM with demo data "
        "(before a tool's name: the tool works on the sandbox's files)",
    )
    parser.add_argument("--version", action="version", version="%(prog)s 0.1.0")
    parser.add_argument(
        "--check-start",
        action="store_true",
        help="start, check that the window paints and shows calls, then quit (for CI and benchmarks)",
    )
    if with_subcommands and SUBCOMMANDS:
        sub = parser.add_subparsers(dest="command", metavar="COMMAND")
        for module_name in dict.fromkeys(SUBCOMMANDS.values()):  # a module may register several
            importlib.import_module(module_name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    wants_tool = any(a in SUBCOMMANDS for a in args_list if not a.startswith("-"))
    parser = build_parser(with_subcommands=wants_tool or "-h" in args_list or "--help" in args_list)
    args = parser.parse_args(args_list)
    run = getattr(args, "run", None)
    if run is not None:
        return int(run(args))
    if args.check_start:
        from desktop.startup_check import run as check_start

        return check_start(sandbox=args.sandbox)
    from desktop.app import run_app  # Qt is imported only when the window is wanted

    return run_app(sandbox=args.sandbox)
