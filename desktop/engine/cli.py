# SPDX-License-Identifier: MIT
"""``logdesk outbox``: what the engine still has to send, and why something stopped.

- ``logdesk outbox`` (or ``logdesk outbox list``): counts, then every queued and failed CRM write
  with its last error.
- ``logdesk outbox retry ID``: puts a failed write back in the queue (after fixing the cause,
  e.g. a field the CRM rejected); the app sends it on its next poll.

Works on the app's engine database (``engine.sqlite3`` in the data folder); ``--sandbox``, before
or after ``outbox``, on the sandbox's, ``--db PATH`` on another. Safe while the app runs (WAL).
Reads no secrets and talks to no server.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from desktop import paths
from desktop.cli import WhereError, add_where_options, chosen_database
from desktop.engine.store import ItemState, Store

FILE_NAME = "engine.sqlite3"

DESCRIPTION = (
    "Without an ACTION, lists the queued and failed CRM writes (as 'list' does), each with the CRM's "
    "last message. Works on the app's engine database (engine.sqlite3 in the data folder); --sandbox, "
    "before or after outbox, on the sandbox's, --db on another. Safe while the app runs."
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("outbox", help="show or retry the CRM writes the engine has queued",
                                   description=DESCRIPTION)
    add_where_options(parser, what="engine database")
    sub = parser.add_subparsers(dest="outbox_command", metavar="[ACTION]")
    listing = sub.add_parser("list", help="list the queued and failed writes with the CRM's last message")
    add_where_options(listing, what="engine database")
    retry = sub.add_parser("retry", help="put a failed write back in the queue")
    retry.add_argument("item", type=int, help="the item number shown by 'logdesk outbox'")
    add_where_options(retry, what="engine database")
    parser.set_defaults(run=run)


def _sandbox_file() -> Path:
    """The sandbox engine's database (its own per developer CRM, as the app names it)."""
    from desktop.app import sandbox_database_name

    return paths.data_dir() / "sandbox" / sandbox_database_name()


def run(args: argparse.Namespace) -> int:
    app_file = paths.data_dir() / FILE_NAME
    try:
        path = chosen_database(args, app=app_file, sandbox=_sandbox_file())
    except WhereError as exc:
        print(f"logdesk outbox: {exc}", file=sys.stderr)
        return 2
    if not path.exists():
        print(f"No engine database at {path}.", file=sys.stderr)
        if path == app_file and _sandbox_file().exists():
            print(f"The sandbox's is {_sandbox_file()}: add --sandbox to read it.", file=sys.stderr)
        return 1
    store = Store(path)
    try:
        if getattr(args, "outbox_command", None) == "retry":
            if store.requeue(args.item, datetime.now(UTC)):
                print(f"Item {args.item} is queued again.")
                return 0
            print(f"Item {args.item} is not a failed write.", file=sys.stderr)
            return 1
        queued = store.items(state=ItemState.QUEUED)
        failed = store.items(state=ItemState.FAILED)
        print(f"{len(queued)} queued, {len(failed)} failed")
        for item in [*queued, *failed]:
            when = item.next_attempt.astimezone().strftime("%Y-%m-%d %H:%M:%S")
            line = f"#{item.id:<6} {item.state:<7} {item.intent:<9} call {item.call_id}  attempts {item.attempts}"
            if item.state == ItemState.QUEUED:
                line += f"  next {when}"
            print(line)
            if item.last_error:
                print(f"         {item.last_error}")
        return 0
    finally:
        store.close()
