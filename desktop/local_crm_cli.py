# SPDX-License-Identifier: MIT
"""``logdesk local-crm``: look after the Local CRM from the command line.

- ``logdesk local-crm export FILE [--contacts]``: the call logs (or the contacts) as CSV.
- ``logdesk local-crm dispositions [--set LABEL ...]``: show or replace the disposition list the
  log page offers.
- ``logdesk local-crm contacts``: list the contacts.
- ``logdesk local-crm add-contact NAME [PHONE] [--extension EXT] [--company NAME]``.

Every command works on the Local CRM the app uses (``local-crm.sqlite3`` in the data folder);
``--sandbox`` (before or after ``local-crm``) picks the sandbox's, ``--db PATH`` any other file.
``contacts`` and ``export`` never start a database where there is none: they say so. Safe to run
while the app is open: the database is shared in WAL mode.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adapters.base import AdapterError
from adapters.crm.local import LocalCrm
from desktop import paths
from desktop.cli import WhereError, add_where_options, chosen_database
from desktop.settings import load_settings

FILE_NAME = "local-crm.sqlite3"


def _app_file() -> Path:
    return paths.data_dir() / FILE_NAME


def _sandbox_file() -> Path:
    return paths.data_dir() / "sandbox" / FILE_NAME


def database_path(args: argparse.Namespace) -> Path:
    """The file the command works on: ``--db``, the sandbox's, or the app's.

    Raises:
        WhereError: both ``--sandbox`` and ``--db`` were given.
    """
    return chosen_database(args, app=_app_file(), sandbox=_sandbox_file())


def _sandbox_hint(path: Path) -> str | None:
    """Where the sandbox's contacts are, when ``path`` is the app's file and the sandbox has one."""
    if path == _app_file() and _sandbox_file().exists():
        return f"The sandbox's Local CRM is {_sandbox_file()}: add --sandbox to read it."
    return None


def _run(args: argparse.Namespace) -> int:
    try:
        path = database_path(args)
    except WhereError as exc:
        print(f"logdesk local-crm: {exc}", file=sys.stderr)
        return 2
    if not args.creates and not path.exists():
        print(f"logdesk local-crm: There is no Local CRM at {path}.", file=sys.stderr)
        hint = _sandbox_hint(path)
        if hint:
            print(hint, file=sys.stderr)
        return 1
    try:
        settings, _ = load_settings()
        crm = LocalCrm.open(path, region=settings.default_region)
    except AdapterError as exc:
        print(f"logdesk local-crm: {exc}", file=sys.stderr)
        return 1
    args.database = path
    try:
        return int(args.action(crm, args))
    except AdapterError as exc:
        print(f"logdesk local-crm: {exc}", file=sys.stderr)
        return 2
    finally:
        crm.close()


def _export(crm: LocalCrm, args: argparse.Namespace) -> int:
    what = "contacts" if args.contacts else "call_logs"
    try:
        count = crm.export_csv(Path(args.file), what=what)
    except OSError as exc:
        print(f"logdesk local-crm: cannot write {args.file}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"Wrote {count} {'contacts' if args.contacts else 'call logs'} to {args.file}")
    return 0


def _dispositions(crm: LocalCrm, args: argparse.Namespace) -> int:
    options = crm.set_dispositions(args.set) if args.set is not None else crm.dispositions()
    for option in options:
        print(f"{option.id:<24} {option.label}")
    return 0


def _contacts(crm: LocalCrm, args: argparse.Namespace) -> int:
    contacts = crm.contacts()
    if not contacts:
        print(f"No contacts in the Local CRM at {args.database}.")
        hint = _sandbox_hint(args.database)
        if hint:
            print(hint)
        return 0
    print(f"{len(contacts)} contact{'s' if len(contacts) != 1 else ''} in the Local CRM at {args.database}:")
    for contact in contacts:
        kind = "internal" if contact.is_internal else ""
        print(f"{contact.id:>6}  {contact.name:<28} {contact.phone or '':<20} {contact.company or '':<24} {kind}")
    return 0


def _add_contact(crm: LocalCrm, args: argparse.Namespace) -> int:
    contact = crm.add_contact(args.name, args.phone, extension=args.extension, company=args.company)
    print(f"Added {contact.name} (id {contact.id})")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds ``local-crm`` and its actions to the ``logdesk`` command line."""
    parser = subparsers.add_parser(
        "local-crm",
        help="export, dispositions and contacts of the Local CRM",
        description="Works on the Local CRM the app uses (local-crm.sqlite3 in the data folder); --sandbox, "
        "before or after local-crm, on the sandbox's, --db on any other file. Safe while the app runs.",
    )
    add_where_options(parser, what="Local CRM database")
    actions = parser.add_subparsers(dest="local_crm_action", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text)
        add_where_options(sub, what="Local CRM database")
        return sub

    export = action("export", "write the call logs (or contacts) as CSV")
    export.add_argument("file", help="the CSV file to write")
    export.add_argument("--contacts", action="store_true", help="export the contacts instead of the call logs")
    export.set_defaults(run=_run, action=_export, creates=False)

    dispositions = action("dispositions", "show or replace the disposition list")
    dispositions.add_argument("--set", nargs="*", metavar="LABEL", help="the new list, in order")
    dispositions.set_defaults(run=_run, action=_dispositions, creates=True)

    contacts = action("contacts", "list the contacts")
    contacts.set_defaults(run=_run, action=_contacts, creates=False)

    add = action("add-contact", "add a contact (or a colleague with --extension)")
    add.add_argument("name")
    add.add_argument("phone", nargs="?", help="stored as written, found in any notation")
    add.add_argument("--extension", help="a colleague's extension number")
    add.add_argument("--company")
    add.set_defaults(run=_run, action=_add_contact, creates=True)
