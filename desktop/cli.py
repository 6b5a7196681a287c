# SPDX-License-Identifier: MIT
"""Command line: ``logdesk`` launches the app; subcommands run headless tools.

Each tool module exposes ``register(subparsers)``, adding its parser with ``set_defaults(run=fn)``
where ``fn(args) -> int``. Modules are listed explicitly and imported only when a subcommand runs,
so launching the app stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: subcommand name → module exposing ``register(subparsers)``.
SUBCOMMANDS: dict[str, str] = {
    "adapter": "adapters.template.cli",
    "local-crm": "desktop.local_crm_cli",
    "note": "adapters.notes.cli",
    "outbox": "desktop.engine.cli",
    "sandbox": "adapters.ringcentral.sandbox.cli",
}


def build_parser(with_subcommands: bool) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="logdesk", description="Log and disposition your calls into your CRM."
    )
    parser.add_argument(
        "--sandbox",
        action="store_true",
        help="run on a simulated RingCentral account and the Local CRM with demo data",
    )
    parser.add_argument("--version", action="version", version="%(prog)s 0.1.0")
    if with_subcommands and SUBCOMMANDS:
        sub = parser.add_subparsers(dest="command", metavar="COMMAND")
        for module_name in SUBCOMMANDS.values():
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
    from desktop.app import run_app  # Qt is imported only when the window is wanted

    return run_app(sandbox=args.sandbox)
