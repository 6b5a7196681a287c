# SPDX-License-Identifier: MIT
"""The Local CRM: contacts and call logs in a SQLite file on this computer.

It is the embedded default: what the sandbox logs into, and what a user without a CRM keeps. It
behaves like a real CRM where it matters to the engine: contacts are found by any notation of
their number (and colleagues by extension), every write bumps a record version so a concurrent
edit is detected (:class:`~adapters.base.ConflictError`), field limits and disposition values are
enforced, and "a person edits the record" (:meth:`LocalCrm.person_edits`) is an operation of its
own for tests and demos.

The file lives where the app says: ``Connection.settings["path"]`` (the app passes
``paths.data_dir() / "local-crm.sqlite3"``); ``":memory:"`` keeps everything in memory.
``Connection.settings["phone_region"]`` is the default region for numbers without a country code.

Threading: one instance may be used from several threads. It holds one SQLite connection
(``check_same_thread=False``) behind a lock, in WAL mode with a busy timeout, so another
instance or process on the same file (the CLI export, a test playing the person) can read and
write concurrently.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, TextIO

import httpx

from adapters import phone as phones
from adapters.base import (
    SETTING_REGION,
    AdapterError,
    AuthSpec,
    Capabilities,
    Connection,
    FieldLimits,
    Manifest,
    NotFound,
    PageField,
    PageFieldKind,
    SecretsSaver,
    TransientError,
    ValidationError,
)
from adapters.base import ConflictError as ConflictError
from adapters.models import (
    Call,
    CallLogRef,
    Contact,
    FieldValue,
    LogEntry,
    LogUpdate,
    Option,
    StoredCallLog,
)

ADAPTER_ID = "local"
CRM_NAME = "Local CRM"

#: The dispositions a new Local CRM offers; :meth:`LocalCrm.set_dispositions` changes them.
DEFAULT_DISPOSITIONS: tuple[Option, ...] = (
    Option(id="connected", label="Connected"),
    Option(id="left_voicemail", label="Left voicemail"),
    Option(id="no_answer", label="No answer"),
    Option(id="callback_requested", label="Callback requested"),
    Option(id="wrong_number", label="Wrong number"),
)

_DISPOSITION_FIELD = "disposition"
_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    phone TEXT,
    phone_e164 TEXT,
    phone_digits TEXT,
    extension TEXT,
    company TEXT,
    is_internal INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_by_e164 ON contacts (phone_e164);
CREATE INDEX IF NOT EXISTS contacts_by_digits ON contacts (phone_digits);
CREATE INDEX IF NOT EXISTS contacts_by_extension ON contacts (extension);
CREATE TABLE IF NOT EXISTS dispositions (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS call_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    contact_id INTEGER REFERENCES contacts (id),
    session_id TEXT NOT NULL,
    call_id TEXT,
    telephony_session_id TEXT,
    direction TEXT,
    phone TEXT,
    start_time TEXT,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    dispositions TEXT NOT NULL DEFAULT '{}',
    duration_seconds INTEGER,
    recording_url TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL,
    modified_by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS call_logs_by_session ON call_logs (session_id);
"""

#: Spreadsheet programs run cells starting with these as formulas; exports neutralise them.
_FORMULA_START = ("=", "@", "\t", "\r")
_NUMBER_LIKE = re.compile(r"^[+-]?[\d\s().\-]*$")


def _now() -> datetime:
    return datetime.now(UTC)


class LocalCrm:
    """The Local CRM adapter (see the module docstring).

    Args:
        connection: ``settings["path"]`` is the SQLite file (created if missing, parent
            directories included); ``settings["phone_region"]`` the default phone region (``US``).
        client: unused (no HTTP); accepted so every adapter is built the same way.
        save_secrets: unused (no credentials).
        clock: returns the current time (UTC); tests inject a fixed one.
        busy_timeout: seconds to wait for another connection's write lock before giving up with
            :class:`~adapters.base.TransientError`.

    Raises:
        ValidationError: when ``settings["path"]`` is missing.
        AdapterError: when the file cannot be opened as a database.
    """

    manifest: ClassVar[Manifest] = Manifest(
        id=ADAPTER_ID,
        name=CRM_NAME,
        log_format="text/plain",
        auth=AuthSpec(),
        page_fields=[
            PageField(
                id=_DISPOSITION_FIELD,
                label="Call result",
                kind=PageFieldKind.SELECTION,
                options=list(DEFAULT_DISPOSITIONS),
                defaults={"Inbound": "connected"},
            ),
            PageField(id="follow_up", label="Follow up needed", kind=PageFieldKind.CHECKBOX, defaults={"*": False}),
            PageField(
                id="case_number",
                label="Case number",
                kind=PageFieldKind.TEXT,
                pattern=r"[A-Z]{2,5}-\d{1,8}",
                help="Letters, a dash and digits, e.g. SUP-1234",
            ),
            PageField(
                id="stored_locally",
                label="Call logs are kept on this computer, in the Local CRM.",
                kind=PageFieldKind.NOTICE,
            ),
        ],
        limits=FieldLimits(subject_chars=255, body=65_535, body_unit="chars"),
        capabilities=Capabilities(
            extension_logging=True,
            find_by_session_id=True,
            create_contact=True,
            versioned_writes=True,
            artifact_fields=("duration", "recording"),
        ),
    )

    def __init__(
        self,
        connection: Connection,
        *,
        client: httpx.Client | None = None,
        save_secrets: SecretsSaver | None = None,
        clock: Callable[[], datetime] = _now,
        busy_timeout: float = 10.0,
    ) -> None:
        path = connection.settings.get("path", "").strip()
        if not path:
            raise ValidationError("The Local CRM needs a database file path.", field="path")
        self.path = path
        self.region = connection.settings.get(SETTING_REGION) or "US"
        self._clock = clock
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, timeout=busy_timeout, check_same_thread=False, isolation_level=None)
            self._conn = conn
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            if path != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; safe in WAL mode
            with self._read() as db:
                db.executescript(_SCHEMA)  # idempotent DDL
            with self._write() as db:
                db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (str(_SCHEMA_VERSION),)
                )
                if db.execute("SELECT COUNT(*) FROM dispositions").fetchone()[0] == 0 and not self._meta(
                    db, "dispositions_set"
                ):
                    self._store_dispositions(db, DEFAULT_DISPOSITIONS)
        except sqlite3.Error as exc:
            self.close()
            raise AdapterError(f"The Local CRM database {path} cannot be opened.", vendor_message=str(exc)) from exc

    @classmethod
    def open(
        cls, path: str | Path, *, region: str = "US", clock: Callable[[], datetime] = _now, busy_timeout: float = 10.0
    ) -> LocalCrm:
        """Shorthand for ``LocalCrm(Connection(settings={"path": str(path), "phone_region": region}))``."""
        connection = Connection(settings={"path": str(path), SETTING_REGION: region})
        return cls(connection, clock=clock, busy_timeout=busy_timeout)

    # --- plumbing -----------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise AdapterError("The Local CRM is closed.")
            try:
                yield self._conn
            except sqlite3.OperationalError as exc:
                raise TransientError("The Local CRM database is busy; will retry.", vendor_message=str(exc)) from exc
            except sqlite3.Error as exc:
                raise AdapterError("The Local CRM database failed.", vendor_message=str(exc)) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``): committed on success, rolled back otherwise."""
        with self._read() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @staticmethod
    def _meta(db: sqlite3.Connection, key: str) -> str | None:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def _stamp(self) -> str:
        return self._clock().astimezone(UTC).isoformat(timespec="microseconds")

    # --- contacts -----------------------------------------------------------------------------

    def add_contact(
        self,
        name: str,
        phone: str | None = None,
        *,
        extension: str | None = None,
        company: str | None = None,
        is_internal: bool | None = None,
    ) -> Contact:
        """Stores a contact with ``phone`` exactly as given; colleagues get an ``extension``.

        Raises:
            ValidationError: for an empty name, or neither a phone nor an extension.
        """
        if not name.strip():
            raise ValidationError("A contact needs a name.", field="name")
        if not (phone or "").strip() and not (extension or "").strip():
            raise ValidationError("A contact needs a phone number or an extension.", field="phone")
        e164 = phones.to_e164(phone, self.region) if phone else None
        digits = phones.digits_only(phone) if phone else None
        internal = extension is not None if is_internal is None else is_internal
        with self._write() as db:
            cur = db.execute(
                "INSERT INTO contacts (name, phone, phone_e164, phone_digits, extension, company, is_internal,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (name.strip(), phone, e164, digits or None, extension, company, int(internal), self._stamp()),
            )
            row = db.execute("SELECT * FROM contacts WHERE id = ?", (cur.lastrowid,)).fetchone()
        return self._contact(row)

    def contacts(self) -> list[Contact]:
        """Every contact, oldest first."""
        with self._read() as db:
            return [self._contact(r) for r in db.execute("SELECT * FROM contacts ORDER BY id")]

    def seed_demo(self, source: str | Path | None = None) -> int:
        """Adds the demo people when the CRM has no contacts yet; returns how many were added.

        Args:
            source: a JSON file; by default the sandbox's ``resources/sandbox/contacts.json``.
                Its ``contacts`` list holds people with ``name`` (or ``firstName``/``lastName``),
                ``phoneNumber`` (E.164) and, when the CRM stores it differently, ``crmPhone``
                (stored as written), and ``company``; its ``colleagues`` list holds internal users
                with ``extensionNumber``. A bare list is read as ``contacts``.
        """
        if source is None:
            raw_text = resources.files("resources").joinpath("sandbox", "contacts.json").read_text(encoding="utf-8")
        else:
            raw_text = Path(source).read_text(encoding="utf-8")
        raw_doc: Any = json.loads(raw_text)
        if isinstance(raw_doc, list):
            raw_doc = {"contacts": raw_doc}
        if not isinstance(raw_doc, dict):
            raise ValidationError("The demo contacts file holds no contacts.", field="contacts")
        raw_people = [p for key in ("contacts", "colleagues") for p in raw_doc.get(key) or [] if isinstance(p, dict)]
        with self._read() as db:
            if db.execute("SELECT COUNT(*) FROM contacts").fetchone()[0]:
                return 0
        added = 0
        for raw_person in raw_people:
            name = raw_person.get("name") or " ".join(
                str(raw_person[k]) for k in ("firstName", "lastName") if raw_person.get(k)
            )
            phone = raw_person.get("crmPhone") or raw_person.get("phone") or raw_person.get("phoneNumber")
            extension = raw_person.get("extensionNumber") or raw_person.get("extension")
            if not name or not (phone or extension):
                continue
            self.add_contact(
                str(name),
                str(phone) if phone else None,
                extension=str(extension) if extension else None,
                company=str(raw_person["company"]) if raw_person.get("company") else None,
            )
            added += 1
        return added

    def _contact(self, row: sqlite3.Row) -> Contact:
        internal = bool(row["is_internal"])
        return Contact(
            id=str(row["id"]),
            name=row["name"],
            phone=row["phone"] or (row["extension"] if internal else None),
            type="Internal user" if internal else "Contact",
            company=row["company"],
            created_at=datetime.fromisoformat(row["created_at"]),
            is_internal=internal,
        )

    # --- dispositions -------------------------------------------------------------------------

    def dispositions(self) -> list[Option]:
        """The dispositions the log page offers now, in order."""
        with self._read() as db:
            return [
                Option(id=r["id"], label=r["label"]) for r in db.execute("SELECT * FROM dispositions ORDER BY position")
            ]

    def set_dispositions(self, options: Sequence[Option | str]) -> list[Option]:
        """Replaces the disposition list. Strings become options with a slug id.

        Logs keep the values they were saved with, even ones no longer offered.

        Raises:
            ValidationError: for an empty label or two options with one id.
        """
        normalised: list[Option] = []
        for item in options:
            option = item if isinstance(item, Option) else Option(id=_slug(item), label=item.strip())
            if not option.label.strip() or not option.id:
                raise ValidationError("A disposition needs a label.", field=_DISPOSITION_FIELD)
            if any(o.id == option.id for o in normalised):
                raise ValidationError(f"The disposition {option.label!r} is listed twice.", field=_DISPOSITION_FIELD)
            normalised.append(option)
        with self._write() as db:
            self._store_dispositions(db, normalised)
        return normalised

    @staticmethod
    def _store_dispositions(db: sqlite3.Connection, options: Sequence[Option]) -> None:
        db.execute("DELETE FROM dispositions")
        db.executemany(
            "INSERT INTO dispositions (id, label, position) VALUES (?, ?, ?)",
            [(o.id, o.label, i) for i, o in enumerate(options)],
        )
        db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('dispositions_set', '1')")

    def page_fields(self) -> list[PageField]:
        """The manifest's page fields with the current disposition list (what the log page shows)."""
        options = self.dispositions()
        ids = {o.id for o in options}
        fields: list[PageField] = []
        for field in self.manifest.page_fields:
            if field.id == _DISPOSITION_FIELD:
                defaults = {k: v for k, v in field.defaults.items() if v is None or v in ids}
                field = field.model_copy(update={"options": options, "defaults": defaults})
            fields.append(field)
        return fields

    def _check_values(self, values: Mapping[str, FieldValue]) -> None:
        fields = {f.id: f for f in self.page_fields()}
        for key, value in values.items():
            field = fields.get(key)
            if field is None or field.kind is PageFieldKind.NOTICE:
                raise ValidationError(f"The Local CRM has no field {key!r}.", field=key)
            if value is None:
                continue
            if field.kind is PageFieldKind.SELECTION:
                if not isinstance(value, str) or value not in {o.id for o in field.options}:
                    raise ValidationError(f"{value!r} is not a choice of {field.label}.", field=key)
            elif field.kind is PageFieldKind.CHECKBOX:
                if not isinstance(value, bool):
                    raise ValidationError(f"{field.label} must be ticked or not.", field=key)
            elif not isinstance(value, str) or (field.pattern and re.fullmatch(field.pattern, value) is None):
                hint = f" ({field.help})" if field.help else ""
                raise ValidationError(f"{value!r} is not a valid {field.label}{hint}.", field=key)

    def _check_limits(self, subject: str | None, body: str | None) -> None:
        limits = self.manifest.limits
        if subject is not None and limits.subject_chars is not None and len(subject) > limits.subject_chars:
            raise ValidationError(
                f"The subject is longer than the Local CRM's {limits.subject_chars} characters.", field="subject"
            )
        if body is not None and limits.body is not None and len(body) > limits.body:
            raise ValidationError(f"The note is longer than the Local CRM's {limits.body} characters.", field="body")

    # --- the adapter contract -----------------------------------------------------------------

    def verify(self) -> str:
        with self._read() as db:
            count = db.execute("SELECT COUNT(*) FROM contacts").fetchone()[0]
        return f"{CRM_NAME} ({count} contacts, {self.path})"

    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        if is_extension:
            digits = phones.digits_only(phone)
            if not digits:
                return []
            query, args = "SELECT * FROM contacts WHERE extension = ? ORDER BY id", (digits,)
        else:
            e164 = phones.to_e164(phone, self.region)
            if e164 is not None:
                query, args = "SELECT * FROM contacts WHERE phone_e164 = ? ORDER BY id", (e164,)
            else:
                digits = phones.digits_only(phone)
                if not digits:
                    return []
                query, args = (
                    "SELECT * FROM contacts WHERE phone_e164 IS NULL AND phone_digits = ? ORDER BY id",
                    (digits,),
                )
        with self._read() as db:
            return [self._contact(r) for r in db.execute(query, args)]

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        self._check_limits(entry.subject, entry.body)
        self._check_values(entry.dispositions)
        remote = call.remote
        stamp = self._stamp()
        with self._write() as db:
            known = (
                contact.id.isdigit()
                and db.execute("SELECT 1 FROM contacts WHERE id = ?", (int(contact.id),)).fetchone()
            )
            if not known:
                raise ValidationError(f"{contact.name} is no longer in the {CRM_NAME}.", field="contact")
            cur = db.execute(
                "INSERT INTO call_logs (contact_id, session_id, call_id, telephony_session_id, direction, phone,"
                " start_time, subject, body, dispositions, duration_seconds, recording_url, version, created_at,"
                " modified_at, modified_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, 'logdesk')",
                (
                    int(contact.id),
                    call.session_id,
                    call.id,
                    call.telephony_session_id,
                    call.direction.value,
                    remote.phone_number or remote.extension_number,
                    call.start_time.astimezone(UTC).isoformat(),
                    entry.subject,
                    entry.body,
                    json.dumps(entry.dispositions),
                    entry.duration_seconds,
                    entry.recording_url,
                    stamp,
                    stamp,
                ),
            )
            log_id = cur.lastrowid
        return CallLogRef(adapter_id=ADAPTER_ID, log_id=str(log_id), contact_id=contact.id, version="1")

    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        with self._read() as db:
            return self._stored(self._row(db, ref.log_id))

    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        self._check_limits(change.subject, change.body)
        if change.dispositions is not None:
            self._check_values(change.dispositions)
        with self._write() as db:
            row = self._row(db, ref.log_id)
            if expected_version is not None and str(row["version"]) != expected_version:
                raise ConflictError(
                    f"The call log changed in the {CRM_NAME} since it was read.",
                    vendor_message=f"version {row['version']}, expected {expected_version}",
                )
            updates: dict[str, Any] = {}
            if change.subject is not None:
                updates["subject"] = change.subject
            if change.body is not None:
                updates["body"] = change.body
            if change.dispositions is not None:
                updates["dispositions"] = json.dumps({**json.loads(row["dispositions"]), **change.dispositions})
            if change.duration_seconds is not None:
                updates["duration_seconds"] = change.duration_seconds
            if change.recording_url is not None:
                updates["recording_url"] = change.recording_url
            if updates:
                self._apply(db, row["id"], updates, by="logdesk")
            return self._stored(self._row(db, ref.log_id))

    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        self._check_values(values)
        with self._write() as db:
            row = self._row(db, ref.log_id)
            merged = {**json.loads(row["dispositions"]), **values}
            self._apply(db, row["id"], {"dispositions": json.dumps(merged)}, by="logdesk")

    def find_call_log(self, call: Call) -> CallLogRef | None:
        with self._read() as db:
            row = db.execute(
                "SELECT id, contact_id, version FROM call_logs WHERE session_id = ? ORDER BY id DESC LIMIT 1",
                (call.session_id,),
            ).fetchone()
        if row is None:
            return None
        contact_id = str(row["contact_id"]) if row["contact_id"] is not None else None
        return CallLogRef(
            adapter_id=ADAPTER_ID, log_id=str(row["id"]), contact_id=contact_id, version=str(row["version"])
        )

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # --- records as a person sees them --------------------------------------------------------

    def person_edits(
        self,
        log_id: str,
        *,
        subject: str | None = None,
        body: str | Callable[[str], str] | None = None,
        dispositions: Mapping[str, FieldValue] | None = None,
    ) -> StoredCallLog:
        """A person edits the log in the CRM (the demo's "someone changed it" and the tests' edit).

        Bumps the version like any write, so an engine holding the old version gets a conflict.
        No limits or value checks: a person can type anything the CRM's own screen allows.

        Args:
            log_id: the log to edit.
            subject: the new subject.
            body: the new note, or a function from the stored note to the new one.
            dispositions: values to merge into the stored ones.
        """
        with self._write() as db:
            row = self._row(db, log_id)
            updates: dict[str, Any] = {}
            if subject is not None:
                updates["subject"] = subject
            if body is not None:
                updates["body"] = body(row["body"]) if callable(body) else body
            if dispositions is not None:
                updates["dispositions"] = json.dumps({**json.loads(row["dispositions"]), **dispositions})
            if updates:
                self._apply(db, row["id"], updates, by="person")
            return self._stored(self._row(db, log_id))

    def raw_log(self, log_id: str) -> dict[str, Any]:
        """The stored row as a dict (``dispositions`` decoded), bypassing the contract methods."""
        with self._read() as db:
            row = self._row(db, log_id)
        raw = dict(row)
        raw["dispositions"] = json.loads(row["dispositions"])
        return raw

    def call_logs(self) -> list[StoredCallLog]:
        """Every call log, newest first."""
        with self._read() as db:
            rows = db.execute(
                "SELECT l.*, c.name AS contact_name FROM call_logs l LEFT JOIN contacts c ON c.id = l.contact_id"
                " ORDER BY l.id DESC"
            ).fetchall()
        return [self._stored(r) for r in rows]

    def export_csv(self, target: str | Path | TextIO, *, what: str = "call_logs") -> int:
        """Writes ``call_logs`` or ``contacts`` as CSV (UTF-8, header row); returns the row count.

        Cells a spreadsheet would run as a formula are prefixed with ``'``; phone numbers such
        as ``+14155550123`` are left as they are.
        """
        if what == "contacts":
            header = ["id", "name", "phone", "extension", "company", "internal", "created_at"]
            with self._read() as db:
                rows = [
                    [
                        r["id"],
                        r["name"],
                        r["phone"],
                        r["extension"],
                        r["company"],
                        bool(r["is_internal"]),
                        r["created_at"],
                    ]
                    for r in db.execute("SELECT * FROM contacts ORDER BY id")
                ]
        elif what == "call_logs":
            field_ids = [f.id for f in self.manifest.page_fields if f.kind is not PageFieldKind.NOTICE]
            header = [
                "log_id",
                "created_at",
                "modified_at",
                "direction",
                "phone",
                "contact_id",
                "contact_name",
                "subject",
                "note",
                *field_ids,
                "duration_seconds",
                "recording_url",
                "session_id",
                "version",
            ]
            with self._read() as db:
                raw_rows = db.execute(
                    "SELECT l.*, c.name AS contact_name FROM call_logs l LEFT JOIN contacts c ON c.id = l.contact_id"
                    " ORDER BY l.id"
                ).fetchall()
            rows = []
            for r in raw_rows:
                values = json.loads(r["dispositions"])
                rows.append(
                    [
                        r["id"],
                        r["created_at"],
                        r["modified_at"],
                        r["direction"],
                        r["phone"],
                        r["contact_id"],
                        r["contact_name"],
                        r["subject"],
                        r["body"],
                        *(values.get(f) for f in field_ids),
                        r["duration_seconds"],
                        r["recording_url"],
                        r["session_id"],
                        r["version"],
                    ]
                )
        else:
            raise ValueError(f"cannot export {what!r}: choose 'call_logs' or 'contacts'")
        if isinstance(target, str | Path):
            with open(target, "w", encoding="utf-8", newline="") as fh:
                _write_csv(fh, header, rows)
        else:
            _write_csv(target, header, rows)
        return len(rows)

    # --- rows ---------------------------------------------------------------------------------

    def _row(self, db: sqlite3.Connection, log_id: str) -> sqlite3.Row:
        row: sqlite3.Row | None = None
        if log_id.isdigit():
            row = db.execute(
                "SELECT l.*, c.name AS contact_name FROM call_logs l LEFT JOIN contacts c ON c.id = l.contact_id"
                " WHERE l.id = ?",
                (int(log_id),),
            ).fetchone()
        if row is None:
            raise NotFound(f"The call log {log_id} is not in the {CRM_NAME}.")
        return row

    def _apply(self, db: sqlite3.Connection, row_id: int, updates: dict[str, Any], *, by: str) -> None:
        columns = ", ".join(f"{name} = ?" for name in updates)
        db.execute(
            f"UPDATE call_logs SET {columns}, version = version + 1, modified_at = ?, modified_by = ? WHERE id = ?",  # noqa: S608 (column names are ours)
            (*updates.values(), self._stamp(), by, row_id),
        )

    def _stored(self, row: sqlite3.Row) -> StoredCallLog:
        contact_id = str(row["contact_id"]) if row["contact_id"] is not None else None
        return StoredCallLog(
            ref=CallLogRef(
                adapter_id=ADAPTER_ID, log_id=str(row["id"]), contact_id=contact_id, version=str(row["version"])
            ),
            subject=row["subject"],
            body=row["body"],
            dispositions=json.loads(row["dispositions"]),
            contact_id=contact_id,
            contact_name=row["contact_name"],
            duration_seconds=row["duration_seconds"],
            recording_url=row["recording_url"],
            modified_at=datetime.fromisoformat(row["modified_at"]),
        )


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")


def _safe_cell(value: object) -> object:
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_FORMULA_START) or (value[0] in "+-" and _NUMBER_LIKE.match(value) is None):
        return "'" + value
    return value


def _write_csv(fh: TextIO | io.StringIO, header: list[str], rows: list[list[Any]]) -> None:
    writer = csv.writer(fh)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_safe_cell(v) for v in row])
