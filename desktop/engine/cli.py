# SPDX-License-Identifier: MIT
"""``logdesk outbox``: what the engine still has to send, and why something stopped.

- ``logdesk outbox``: counts, then every queued and failed CRM write with its last error.
- ``logdesk outbox retry ID``: puts a failed write back in the queue (after fixing the cause,
  e.g. a field the CRM rejected); the app sends it on its next poll.

Works on the app's engine database (``engine.sqlite3`` in the data folder); ``--db PATH`` picks
another. Safe while the app runs (WAL). Reads no secrets and talks to no server.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from desktop import paths
from desktop.engine.store import ItemState, Store

FILE_NAME = "engine.sqlite3"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("outbox", help="show or retry the CRM writes the engine has queued")
    parser.add_argument("--db", help=f"the engine database (default: {FILE_NAME} in the data folder)")
    sub = parser.add_subparsers(dest="outbox_command", metavar="ACTION")
    retry = sub.add_parser("retry", help="put a failed write back in the queue")
    retry.add_argument("item", type=int, help="the item number shown by 'logdesk outbox'")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    path = Path(args.db) if args.db else paths.data_dir() / FILE_NAME
    if not path.exists():
        print(f"No engine database at {path}.", file=sys.stderr)
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
