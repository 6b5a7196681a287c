# SPDX-License-Identifier: MIT
"""A fake Google Sheets API v4 and Google's OAuth 2.0 endpoints for installed apps, validating like
Google.

Served in-process as an httpx handler (``httpx.MockTransport(fake.handler)``, or behind
:class:`tests.fakes.loopback.HostRouter` under Google's real host names) or on a loopback port
(:class:`tests.fakes.loopback.LoopbackServer`, ``python -m tests.fakes.sheets --port N`` with demo
data). Requests are routed by path, so one fake can stand for all three hosts:

- ``GET /o/oauth2/v2/auth`` — accounts.google.com's authorization page (answers at once with the
  302 back to the app's loopback redirect: the user "approves");
- ``POST /token``, ``POST /revoke`` — oauth2.googleapis.com;
- ``/v4/spreadsheets/...`` — sheets.googleapis.com.

Sources for each rule are cited where the rule is enforced. The main ones:

[OAUTH]  https://developers.google.com/identity/protocols/oauth2/native-app ("OAuth 2.0 for iOS &
         Desktop Apps": loopback redirect ``http://127.0.0.1:<port>``, PKCE, the client secret of a
         desktop client "is assumed not to be confidential"; token and refresh parameters).
[RFC8252] RFC 8252 §7.3: the server must accept any port on a loopback redirect URI.
[DISC]   Google's discovery document for Sheets v4 (``sheets.v4.json`` in
         googleapis/google-api-python-client, ``googleapiclient/discovery_cache/documents``):
         methods, their query parameters, request bodies, scopes, and the system parameters.
[SYSP]   https://cloud.google.com/apis/docs/system-parameters (``fields``, ``prettyPrint``, ...).
[LIMITS] https://developers.google.com/sheets/api/limits (60 read and 60 write requests per minute
         per user per project, 300 per project; a 429 past them; refilled every minute).
[SCOPES] https://developers.google.com/workspace/sheets/api/scopes (``spreadsheets`` is sensitive,
         ``drive.file`` only reaches "the specific Google Drive files you use with this app").
[ERRORS] Google's JSON error model ``{"error": {"code", "message", "status", "details"}}``, as
         /work/shared/reference/crm-apis-bullhorn-insightly-sheets.md §4.5 collects it (the 429 body
         from r-lib/gargle's recorded answers; "Unable to parse range: X" and "'valueInputOption' is
         required but not specified" as Google's client libraries report them, e.g.
         googleapis/google-api-dotnet-client#1287 and googleworkspace/php-samples#14).
[CELL]   50,000 characters in one cell; the error text comes from third parties only (reference §4.3).

Stricter than Google on purpose (so that drift fails a test): a field mask may only name fields
this fake models; the ``range`` of a written ``ValueRange`` must equal the URL's; code challenges
must be S256. Formulas are stored but never evaluated (their formatted value is ``#NAME?``).

Test controls: :meth:`add_contact`, :meth:`set_validation`, :meth:`person_edits_cell`,
:meth:`person_edits_call`, :meth:`person_inserts_rows`, :meth:`person_sorts_rows`,
:meth:`person_deletes_row`, :meth:`issue_tokens`, :meth:`revoke_grant`, :meth:`inject_failure`,
:meth:`delay_next`, :attr:`requests`, :attr:`now`, :meth:`rows`.

Threading: one lock around each request; the loopback server calls :meth:`handler` from its threads.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import httpx

from tests.fakes.oauth_grants import AuthCode, Grant, GrantStore
from tests.fakes.vendor_base import BodyShape, InjectedApiFaults, undeclared_field, wait_for_interrupt

AUTHORIZE_PATH = "/o/oauth2/v2/auth"
TOKEN_PATH = "/token"
REVOKE_PATH = "/revoke"
API_PREFIX = "/v4/spreadsheets"

SCOPE_SPREADSHEETS = "https://www.googleapis.com/auth/spreadsheets"
SCOPE_SPREADSHEETS_READONLY = "https://www.googleapis.com/auth/spreadsheets.readonly"
SCOPE_DRIVE = "https://www.googleapis.com/auth/drive"
SCOPE_DRIVE_READONLY = "https://www.googleapis.com/auth/drive.readonly"
SCOPE_DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"
#: Every scope Sheets v4 declares [DISC auth.oauth2.scopes].
KNOWN_SCOPES = frozenset(
    {SCOPE_SPREADSHEETS, SCOPE_SPREADSHEETS_READONLY, SCOPE_DRIVE, SCOPE_DRIVE_READONLY, SCOPE_DRIVE_FILE}
)

CLIENT_ID = "1234567890-desktop.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-desktop-client-secret"
DEFAULT_SPREADSHEET_ID = "1FakeSheetForLogdeskCallsAbCdEfGhIjKlMnOpQr"
USER = "dana@example.test"

#: [CELL] The most characters one cell holds.
CELL_LIMIT = 50_000
#: [LIMITS] Requests per minute, per user per project and per project, for reads and for writes.
QUOTA_PER_USER = 60
QUOTA_PER_PROJECT = 300
ACCESS_SECONDS = 3599

#: [DISC "parameters"] / [SYSP]: accepted by every method.
SYSTEM_PARAMS = frozenset(
    {"$.xgafv", "access_token", "alt", "callback", "fields", "key", "oauth_token", "prettyPrint", "quotaUser",
     "uploadType", "upload_protocol"}
)
#: [DISC] the query parameters each method this fake serves declares (besides its path parameters).
SPREADSHEETS_GET_PARAMS = frozenset({"includeGridData", "ranges"})
VALUES_GET_PARAMS = frozenset({"dateTimeRenderOption", "majorDimension", "valueRenderOption"})
VALUES_UPDATE_PARAMS = frozenset(
    {"valueInputOption", "includeValuesInResponse", "responseDateTimeRenderOption", "responseValueRenderOption"}
)
VALUES_APPEND_PARAMS = VALUES_UPDATE_PARAMS | {"insertDataOption"}
#: [DISC schemas.ValueRange] the body of values.update and values.append.
VALUE_RANGE: BodyShape = {"range": None, "majorDimension": None, "values": None}
#: [DISC] enums of the parameters above.
ENUMS: dict[str, tuple[str, ...]] = {
    "valueInputOption": ("RAW", "USER_ENTERED"),
    "insertDataOption": ("OVERWRITE", "INSERT_ROWS"),
    "valueRenderOption": ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"),
    "responseValueRenderOption": ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"),
    "dateTimeRenderOption": ("SERIAL_NUMBER", "FORMATTED_STRING"),
    "responseDateTimeRenderOption": ("SERIAL_NUMBER", "FORMATTED_STRING"),
    "majorDimension": ("ROWS", "COLUMNS"),
}
#: The fields of a Spreadsheet resource this fake models; a field mask naming another is refused.
MODELLED_FIELDS = frozenset(
    {"spreadsheetId", "spreadsheetUrl", "properties", "title", "locale", "timeZone", "sheets", "sheetId", "index",
     "sheetType", "gridProperties", "rowCount", "columnCount", "data", "startRow", "startColumn", "rowData",
     "values", "userEnteredValue", "formattedValue", "dataValidation", "condition", "type", "strict",
     "showCustomUi", "inputMessage", "stringValue", "numberValue", "boolValue", "formulaValue"}
)

_SIMPLE_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_REF = re.compile(r"^([A-Za-z]{0,3})(\d*)$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


@dataclass(frozen=True)
class Formula:
    """A cell a formula was entered into (USER_ENTERED text starting with ``=``)."""

    text: str


Cell = str | int | float | bool | Formula | None


@dataclass
class Sheet:
    """One tab: its rows (zero-based lists, ``None`` for an empty cell) and column validations."""

    title: str
    sheet_id: int
    rows: list[list[Cell]] = field(default_factory=list)
    row_count: int = 1000
    column_count: int = 26
    #: 0-based column → DataValidationRule, applied to every row below the header.
    validations: dict[int, dict[str, Any]] = field(default_factory=dict)

    def cell(self, row: int, col: int) -> Cell:
        """The value at 0-based ``row``/``col``."""
        if row < len(self.rows) and col < len(self.rows[row]):
            return self.rows[row][col]
        return None

    def put(self, row: int, col: int, value: Cell) -> None:
        while len(self.rows) <= row:
            self.rows.append([])
        line = self.rows[row]
        while len(line) <= col:
            line.append(None)
        line[col] = value
        self.row_count = max(self.row_count, len(self.rows))


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    #: user → "writer" or "reader" (how the file is shared).
    access: dict[str, str]
    #: Whether the user created or opened the file with this app (all ``drive.file`` reaches) [SCOPES].
    opened_with_app: bool = False

    def sheet(self, title: str) -> Sheet | None:
        return next((s for s in self.sheets if s.title == title), None)


@dataclass(frozen=True)
class GridRange:
    """A parsed A1 range: 1-based bounds, ``None`` for an open end."""

    sheet: Sheet
    row1: int
    col1: int
    row2: int | None
    col2: int | None


class A1Error(ValueError):
    """Not a range of this spreadsheet."""


def column_letters(index: int) -> str:
    """1 → ``A``, 27 → ``AA``."""
    letters = ""
    while index > 0:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    """``A`` → 1, ``AA`` → 27."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index


def quote_title(title: str) -> str:
    """A sheet title as A1 notation writes it: quoted (with ``''`` for ``'``) unless plain."""
    if _SIMPLE_TITLE.match(title) and not re.match(r"^[A-Za-z]{1,3}\d+$", title):
        return title
    return "'" + title.replace("'", "''") + "'"


def _split_title(text: str) -> tuple[str | None, str | None]:
    """``'My tab'!A1:B2`` → (``My tab``, ``A1:B2``); quotes escape ``'`` as ``''``."""
    if text.startswith("'"):
        title, i = "", 1
        while i < len(text):
            if text[i] == "'" and text[i + 1 : i + 2] == "'":
                title, i = title + "'", i + 2
            elif text[i] == "'":
                break
            else:
                title, i = title + text[i], i + 1
        else:
            raise A1Error(text)
        rest = text[i + 1 :]
        if rest == "":
            return title, None
        if not rest.startswith("!"):
            raise A1Error(text)
        return title, rest[1:]
    if "!" in text:
        title, _, ref = text.partition("!")
        # Unquoted titles must be plain: "Unable to parse range: Sheet 1" [ERRORS].
        if not _SIMPLE_TITLE.match(title):
            raise A1Error(text)
        return title, ref
    if _SIMPLE_TITLE.match(text) and not re.match(r"^[A-Za-z]{1,3}\d*(:[A-Za-z]{0,3}\d*)?$", text):
        return text, None
    return None, text


def parse_a1(text: str, book: Spreadsheet) -> GridRange:
    """A range in A1 notation on ``book``: ``Tab``, ``'Tab name'!A1:N1``, ``Tab!A:B``, ``Tab!1:1``,
    ``Tab!A2:B`` (open below), ``Tab!C5``, or a reference without a tab (the first tab).

    Raises:
        A1Error: unknown tab, or not A1 notation.
    """
    title, ref = _split_title(text.strip())
    sheet = book.sheet(title) if title is not None else (book.sheets[0] if book.sheets else None)
    if sheet is None:
        raise A1Error(text)
    if ref is None:
        return GridRange(sheet, 1, 1, None, None)
    parts = ref.split(":")
    if len(parts) > 2:
        raise A1Error(text)
    cells = []
    for part in parts:
        match = _CELL_REF.match(part)
        if match is None or not (match.group(1) or match.group(2)):
            raise A1Error(text)
        cells.append((column_index(match.group(1)) if match.group(1) else None,
                      int(match.group(2)) if match.group(2) else None))
    (c1, r1) = cells[0]
    if len(cells) == 1:
        if c1 is None or r1 is None:
            raise A1Error(text)
        return GridRange(sheet, r1, c1, r1, c1)
    (c2, r2) = cells[1]
    if (c1 is None) != (c2 is None):
        raise A1Error(text)
    if r1 is None and r2 is not None:
        raise A1Error(text)
    if (r1 is not None and r1 < 1) or (r2 is not None and r2 < (r1 or 1)) or (c2 is not None and c2 < (c1 or 1)):
        raise A1Error(text)
    return GridRange(sheet, r1 or 1, c1 or 1, r2, c2)


def a1_text(grid: GridRange, *, rows: int | None = None, cols: int | None = None) -> str:
    """The range as Google writes it in answers: open ends closed at the grid's size (or at
    ``rows``/``cols`` when given)."""
    sheet = grid.sheet
    row2 = grid.row2 if grid.row2 is not None else (rows if rows is not None else sheet.row_count)
    col2 = grid.col2 if grid.col2 is not None else (cols if cols is not None else sheet.column_count)
    start = f"{column_letters(grid.col1)}{grid.row1}"
    end = f"{column_letters(col2)}{row2}"
    return f"{quote_title(sheet.title)}!{start}" + (f":{end}" if end != start else "")


def google_error(status: int, message: str, code: str, details: list[dict[str, Any]] | None = None) -> httpx.Response:
    """Google's JSON error body [ERRORS]."""
    body: dict[str, Any] = {"error": {"code": status, "message": message, "status": code}}
    if details:
        body["error"]["details"] = details
    return httpx.Response(status, json=body)


def _bad_request(message: str, field_name: str | None = None) -> httpx.Response:
    details = None
    if field_name is not None:
        details = [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": field_name, "description": message}]}]
    return google_error(400, message, "INVALID_ARGUMENT", details)


def rate_limited_body(kind: str) -> dict[str, Any]:
    """The 429 Google sends past a per-minute quota [LIMITS]; the body as gargle recorded it
    [ERRORS]. Google documents no ``Retry-After`` for it, and none is sent."""
    metric = "Read requests" if kind == "read" else "Write requests"
    limit = "ReadRequestsPerMinutePerUser" if kind == "read" else "WriteRequestsPerMinutePerUser"
    return {
        "error": {
            "code": 429,
            "message": (
                f"Quota exceeded for quota metric '{metric}' and limit '{metric} per minute per user' of service "
                "'sheets.googleapis.com' for consumer 'project_number:1234567890'."
            ),
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "RATE_LIMIT_EXCEEDED",
                    "domain": "googleapis.com",
                    "metadata": {
                        "service": "sheets.googleapis.com",
                        "quota_metric": f"sheets.googleapis.com/{kind}_requests",
                        "quota_limit": limit,
                        "quota_limit_value": str(QUOTA_PER_USER),
                        "consumer": "projects/1234567890",
                    },
                }
            ],
        }
    }


def error_envelope(status: int) -> dict[str, Any]:
    """Google's error body for a status (what an injected failure answers) [ERRORS]."""
    if status == 429:
        return rate_limited_body("read")
    code, message = {
        400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
        401: ("UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                                 "login cookie or other valid authentication credential."),
        403: ("PERMISSION_DENIED", "The caller does not have permission"),
        404: ("NOT_FOUND", "Requested entity was not found."),
        409: ("ABORTED", "The operation was aborted."),
        412: ("FAILED_PRECONDITION", "Precondition check failed."),
        422: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
        503: ("UNAVAILABLE", "The service is currently unavailable."),
    }.get(status, ("INTERNAL", "Internal error encountered."))
    return {"error": {"code": status, "message": message, "status": code}}


def formatted(value: Cell) -> str:
    """A cell's FORMATTED_VALUE: always text (numbers in the default automatic format)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Formula):
        return "#NAME?"
    return "" if value is None else str(value)


def rendered(value: Cell, option: str) -> Any:
    """A cell as ``valueRenderOption`` asks [DISC enumDescriptions]."""
    if option == "FORMATTED_VALUE":
        return formatted(value)
    if isinstance(value, Formula):
        return value.text if option == "FORMULA" else "#NAME?"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "" if value is None else value


def user_entered(value: str) -> Cell:
    """How the Sheets UI parses typed text (USER_ENTERED) [DISC ValueInputOption]: ``=`` starts a
    formula, numbers become numbers (``+14155550123`` loses its ``+``), ``TRUE``/``FALSE`` become
    booleans, a leading ``'`` keeps the rest as text."""
    if value.startswith("'"):
        return value[1:]
    if value.startswith("="):
        return Formula(value)
    if _NUMBER.match(value.strip()):
        number = float(value)
        return int(number) if number.is_integer() and "." not in value and "e" not in value.lower() else number
    if value.upper() in ("TRUE", "FALSE"):
        return value.upper() == "TRUE"
    return value


def parse_field_mask(mask: str) -> dict[str, Any]:
    """``a.b,c(d,e(f))`` → ``{"a": {"b": {}}, "c": {"d": {}, "e": {"f": {}}}}``; ``{}`` means all.

    Raises:
        ValueError: unbalanced parentheses or an empty name.
    """
    tree: dict[str, Any] = {}
    pos = 0

    def items(end: str | None) -> dict[str, Any]:
        nonlocal pos
        out: dict[str, Any] = {}
        while pos < len(mask):
            start = pos
            while pos < len(mask) and mask[pos] not in ",()":
                pos += 1
            path = mask[start:pos].strip()
            if not path or any(not p for p in path.split(".")):
                raise ValueError(mask)
            node = out
            for name in path.split(".")[:-1]:
                node = node.setdefault(name, {})
            leaf = node.setdefault(path.split(".")[-1], {})
            if pos < len(mask) and mask[pos] == "(":
                pos += 1
                leaf.update(items(")"))
            if pos < len(mask) and mask[pos] == ",":
                pos += 1
                continue
            if pos < len(mask) and mask[pos] == ")":
                if end != ")":
                    raise ValueError(mask)
                pos += 1
                return out
        if end is not None:
            raise ValueError(mask)
        return out

    tree = items(None)
    return tree


def mask_names(tree: dict[str, Any]) -> Iterable[str]:
    for name, sub in tree.items():
        yield name
        yield from mask_names(sub)


def apply_mask(value: Any, tree: dict[str, Any]) -> Any:
    if not tree:
        return value
    if isinstance(value, list):
        return [apply_mask(v, tree) for v in value]
    if isinstance(value, dict):
        return {k: apply_mask(value[k], sub) for k, sub in tree.items() if k in value}
    return value


class SheetsFake(InjectedApiFaults):
    """Google Sheets with one spreadsheet (more with :meth:`add_spreadsheet`) shared with :data:`USER`.

    Args:
        spreadsheet_id: the id of the default spreadsheet.
        title: its title.
        tabs: its tabs, in order.
        contacts_header: the header row written into a ``Contacts`` tab, if there is one.
        start: the fake's clock at creation; with ``clock`` the fake follows that clock instead
            (``RealClock`` for a served fake), still moved by :meth:`advance`.
        quota_per_user: reads (and writes) allowed per user per minute; ``None`` disables quotas.
    """

    def __init__(
        self,
        *,
        spreadsheet_id: str = DEFAULT_SPREADSHEET_ID,
        title: str = "Team calls",
        tabs: tuple[str, ...] = ("Contacts", "Calls"),
        contacts_header: tuple[str, ...] = ("ID", "Name", "Phone", "Company"),
        start: datetime | None = None,
        clock: Callable[[], datetime] | None = None,
        quota_per_user: int | None = QUOTA_PER_USER,
    ) -> None:
        self._lock = threading.RLock()
        self._base = start or datetime(2026, 9, 30, 14, 0, tzinfo=UTC)
        self._clock = clock
        self._offset = timedelta(0)
        self.requests: list[httpx.Request] = []
        self.clients: dict[str, str] = {CLIENT_ID: CLIENT_SECRET}
        self.grants = GrantStore(lambda: self.now)
        self.deny_next_authorize = False
        #: Scopes the user leaves unticked on the consent screen (granular consent).
        self.unticked_scopes: set[str] = set()
        self.quota_per_user = quota_per_user
        self.quota_used: dict[tuple[str, str, int], int] = {}
        self.books: dict[str, Spreadsheet] = {}
        self._sheet_ids = itertools.count(0)
        self._contact_ids = itertools.count(1)
        book = self.add_spreadsheet(spreadsheet_id, title, tabs)
        contacts = book.sheet("Contacts")
        if contacts is not None and contacts_header:
            contacts.rows.append(list(contacts_header))
        self._init_faults(error_envelope)

    # --- the clock --------------------------------------------------------------------------

    @property
    def now(self) -> datetime:  # type: ignore[override]
        base = self._clock() if self._clock is not None else self._base
        return base + self._offset

    @now.setter
    def now(self, value: datetime) -> None:
        self._offset += value - self.now

    # --- test controls ----------------------------------------------------------------------

    @property
    def book(self) -> Spreadsheet:
        """The default spreadsheet (the first added)."""
        return next(iter(self.books.values()))

    def add_spreadsheet(
        self,
        spreadsheet_id: str,
        title: str,
        tabs: tuple[str, ...] = ("Contacts", "Calls"),
        *,
        access: dict[str, str] | None = None,
        opened_with_app: bool = False,
    ) -> Spreadsheet:
        with self._lock:
            book = Spreadsheet(
                spreadsheet_id,
                title,
                [Sheet(t, next(self._sheet_ids) * 1000 + 7) for t in tabs],
                dict(access if access is not None else {USER: "writer"}),
                opened_with_app,
            )
            self.books[spreadsheet_id] = book
            return book

    def tab(self, title: str = "Calls") -> Sheet:
        sheet = self.book.sheet(title)
        assert sheet is not None, title
        return sheet

    def rows(self, title: str = "Calls") -> list[dict[str, str]]:
        """The data rows of a tab as ``{header: formatted value}`` (for assertions)."""
        with self._lock:
            sheet = self.tab(title)
            if not sheet.rows:
                return []
            header = [formatted(v) for v in sheet.rows[0]]
            return [
                {name: formatted(sheet.cell(r, c)) for c, name in enumerate(header)}
                for r in range(1, len(sheet.rows))
            ]

    def row_number(self, session_id: str, title: str = "Calls") -> int:
        """The 1-based row whose first cell is ``session_id``."""
        with self._lock:
            sheet = self.tab(title)
            return next(r + 1 for r in range(1, len(sheet.rows)) if formatted(sheet.cell(r, 0)) == session_id)

    def rows_raw(self, row: int, title: str = "Calls") -> list[Cell]:
        """The cells of a 1-based row as stored (strings, numbers, :class:`Formula`...)."""
        with self._lock:
            sheet = self.tab(title)
            return list(sheet.rows[row - 1]) if row - 1 < len(sheet.rows) else []

    def add_contact(self, name: str, phone: str, *, company: str | None = None, title: str = "Contacts") -> str:
        """A person adds a row to the Contacts tab, the phone typed as given (kept as text)."""
        with self._lock:
            sheet = self.tab(title)
            header = [formatted(v) for v in sheet.rows[0]]
            contact_id = f"C-{next(self._contact_ids):03d}"
            values = {"ID": contact_id, "Name": name, "Phone": phone, "Company": company}
            sheet.rows.append([values.get(h) for h in header])
            return contact_id

    def set_validation(
        self, column: str, values: list[str], *, title: str = "Calls", kind: str = "ONE_OF_LIST"
    ) -> None:
        """A data-validation rule on a column, from row 2 down (Data → Data validation)."""
        with self._lock:
            rule = {
                "condition": {"type": kind, "values": [{"userEnteredValue": v} for v in values]},
                "strict": True,
                "showCustomUi": True,
            }
            self.tab(title).validations[column_index(column) - 1] = rule

    def person_edits_cell(self, row: int, column: str, value: Cell, *, title: str = "Calls") -> None:
        """Someone types into a cell (1-based row, column letter)."""
        with self._lock:
            self.tab(title).put(row - 1, column_index(column) - 1, value)

    def person_edits_call(
        self, session_id: str, *, subject: str | None = None, note: Callable[[str], str] | str | None = None
    ) -> None:
        """Someone edits a call's Subject (J) and Note (K) cells."""
        with self._lock:
            row = self.row_number(session_id)
            sheet = self.tab()
            if subject is not None:
                sheet.put(row - 1, 9, subject)
            if note is not None:
                old = formatted(sheet.cell(row - 1, 10))
                sheet.put(row - 1, 10, note(old) if callable(note) else note)

    def person_inserts_rows(self, before_row: int, rows: list[list[Cell]], *, title: str = "Calls") -> None:
        """Someone inserts rows above ``before_row`` (1-based): every row from there moves down."""
        with self._lock:
            sheet = self.tab(title)
            while len(sheet.rows) < before_row - 1:
                sheet.rows.append([])
            sheet.rows[before_row - 1 : before_row - 1] = [list(r) for r in rows]

    def person_sorts_rows(self, column: str, *, descending: bool = False, title: str = "Calls") -> None:
        """Someone sorts the data rows (below the header) by a column."""
        with self._lock:
            sheet = self.tab(title)
            col = column_index(column) - 1
            body = sorted(sheet.rows[1:], key=lambda r: formatted(r[col] if col < len(r) else None),
                          reverse=descending)
            sheet.rows[1:] = body

    def person_deletes_row(self, row: int, *, title: str = "Calls") -> None:
        with self._lock:
            del self.tab(title).rows[row - 1]

    def share(self, user: str, role: str | None, *, spreadsheet_id: str | None = None) -> None:
        """The owner shares the file with ``user`` as ``writer``/``reader``, or stops sharing (``None``)."""
        with self._lock:
            book = self.books[spreadsheet_id or self.book.spreadsheet_id]
            if role is None:
                book.access.pop(user, None)
            else:
                book.access[user] = role

    def issue_tokens(self, *, scopes: tuple[str, ...] = (SCOPE_SPREADSHEETS,), user: str = USER) -> dict[str, Any]:
        """A token response as if the user had signed in (for tests that are not about sign-in)."""
        with self._lock:
            refresh = f"1//{secrets.token_urlsafe(32)}"
            grant = self.grants.add_grant(refresh, Grant(CLIENT_ID, scopes, user, refresh))
            return {**self._access_for(grant), "refresh_token": refresh}

    def revoke_grant(self) -> None:
        """The user removed the app at myaccount.google.com: no token works any more."""
        with self._lock:
            self.grants.revoke_all()

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith(API_PREFIX)]

    # --- dispatch ---------------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self._lock:
            self.requests.append(request)
            path = request.url.path
            if path == AUTHORIZE_PATH and request.method == "GET":
                return self._authorize(dict(request.url.params))
            if path == TOKEN_PATH and request.method == "POST":
                return self._token(request)
            if path == REVOKE_PATH and request.method == "POST":
                return self._revoke(request)
            if path.startswith(API_PREFIX + "/"):
                injected = self._injected_answer(request, self._api)
                if injected is not None:
                    return injected
                return self._api(request)
            return _not_found_page()

    # --- OAuth [OAUTH] ----------------------------------------------------------------------

    def _authorize(self, q: dict[str, str]) -> httpx.Response:
        client_id = q.get("client_id", "")
        redirect_uri = q.get("redirect_uri", "")
        if client_id not in self.clients:
            return _error_page(401, "invalid_client", "The OAuth client was not found.")
        target = urlsplit(redirect_uri)
        # A desktop client redirects to the loopback address, on any port [OAUTH][RFC8252].
        if target.scheme != "http" or target.hostname not in ("127.0.0.1", "::1", "localhost") or not target.port:
            return _error_page(400, "invalid_request", "redirect_uri must be a loopback address for a desktop app.")
        state = q.get("state", "")

        def back(params: dict[str, str]) -> httpx.Response:
            kept = {**params, "state": state} if state else params
            return httpx.Response(302, headers={"Location": f"{redirect_uri}?{urlencode(kept)}"})

        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type"})
        scopes = tuple(s for s in q.get("scope", "").split(" ") if s)
        if not scopes:
            return _error_page(400, "invalid_request", "Missing required parameter: scope")
        if any(s not in KNOWN_SCOPES for s in scopes):
            return _error_page(400, "invalid_scope", "Some requested scopes were invalid.")
        if not q.get("code_challenge") or q.get("code_challenge_method") != "S256":
            return _error_page(400, "invalid_request", "code_challenge_method must be S256 (this fake's rule).")
        if self.deny_next_authorize:
            self.deny_next_authorize = False
            return back({"error": "access_denied"})
        granted = tuple(s for s in scopes if s not in self.unticked_scopes)
        code = self.grants.add_code(
            f"4/0{secrets.token_urlsafe(40)}",
            AuthCode(client_id, redirect_uri, q["code_challenge"], self.now + timedelta(minutes=10), granted, USER),
        )
        return back({"code": code, "scope": " ".join(granted)})

    def _form(self, request: httpx.Request) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}

    def _client(self, request: httpx.Request, form: dict[str, str]) -> tuple[str, str] | httpx.Response:
        """The client id and secret, from the body or HTTP Basic (Google takes both)."""
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            client_id, secret = client_id or user, password
        if client_id not in self.clients:
            return _oauth_error(401, "invalid_client", "The OAuth client was not found.")
        if secret is None:
            return _oauth_error(400, "invalid_request", "client_secret is missing.")
        if secret != self.clients[client_id]:
            return _oauth_error(401, "invalid_client", "Unauthorized")
        return client_id, secret

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = self._form(request)
        client = self._client(request, form)
        if isinstance(client, httpx.Response):
            return client
        client_id = client[0]
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            redeemed = self.grants.redeem_code(
                form.get("code", ""),
                client_id=client_id,
                redirect_uri=form.get("redirect_uri"),
                verifier=form.get("code_verifier", ""),
            )
            if redeemed == "redirect_mismatch":
                return _oauth_error(400, "redirect_uri_mismatch", "Bad Request")
            if redeemed == "pkce_failed":
                return _oauth_error(400, "invalid_grant", "Invalid code verifier.")
            if isinstance(redeemed, str):
                return _oauth_error(400, "invalid_grant", "Malformed auth code.")
            refresh = f"1//{secrets.token_urlsafe(32)}"
            grant = self.grants.add_grant(refresh, Grant(client_id, redeemed.scopes, redeemed.user_id, refresh))
            # An installed app gets a refresh token with the first exchange [OAUTH].
            return httpx.Response(200, json={**self._access_for(grant), "refresh_token": refresh})
        if grant_type == "refresh_token":
            held = self.grants.by_refresh(form.get("refresh_token", ""), client_id)
            if held is None:
                return _oauth_error(400, "invalid_grant", "Token has been expired or revoked.")
            # Google does not rotate the refresh token: the answer carries none [OAUTH].
            return httpx.Response(200, json=self._access_for(held))
        return _oauth_error(400, "unsupported_grant_type", "Invalid grant_type: " + str(grant_type))

    def _access_for(self, grant: Grant) -> dict[str, Any]:
        token = self.grants.issue_access(
            grant, f"ya29.{secrets.token_urlsafe(48)}", self.now + timedelta(seconds=ACCESS_SECONDS)
        )
        return {"access_token": token, "expires_in": ACCESS_SECONDS, "scope": " ".join(grant.scopes),
                "token_type": "Bearer"}

    def _revoke(self, request: httpx.Request) -> httpx.Response:
        token = self._form(request).get("token") or request.url.params.get("token", "")
        grant = self.grants.by_refresh(token)
        found = self.grants.find_access(token)
        if grant is None and found is not None and not found[0].revoked:
            grant = found[0]
        if grant is None:
            return _oauth_error(400, "invalid_token", "Token expired or revoked")
        self.grants.revoke(grant)
        return httpx.Response(200, json={})

    # --- the Sheets API ---------------------------------------------------------------------

    def _authenticate(self, request: httpx.Request) -> Grant | httpx.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        found = self.grants.find_access(token) if scheme == "Bearer" and token else None
        if found is None or found[0].revoked or found[1] <= self.now:
            return google_error(401, error_envelope(401)["error"]["message"], "UNAUTHENTICATED")
        return found[0]

    def _reach(self, grant: Grant, book_id: str, *, write: bool) -> Spreadsheet | httpx.Response:
        """The spreadsheet if this grant may read (or write) it [SCOPES][DISC methods.*.scopes]."""
        scopes = set(grant.scopes)
        book = self.books.get(book_id)
        everything = {SCOPE_SPREADSHEETS, SCOPE_DRIVE} if write else {
            SCOPE_SPREADSHEETS, SCOPE_DRIVE, SCOPE_SPREADSHEETS_READONLY, SCOPE_DRIVE_READONLY}
        if not scopes & everything and SCOPE_DRIVE_FILE not in scopes:
            return google_error(403, "Request had insufficient authentication scopes.", "PERMISSION_DENIED", [{
                "@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                "domain": "googleapis.com", "metadata": {"service": "sheets.googleapis.com"}}])
        # drive.file alone reaches only the files the user created or opened with this app [SCOPES];
        # another file is not found, as if it did not exist.
        if book is None or (not scopes & everything and not book.opened_with_app):
            return google_error(404, "Requested entity was not found.", "NOT_FOUND")
        role = book.access.get(grant.user_id)
        if role is None or (write and role != "writer"):
            return google_error(403, "The caller does not have permission", "PERMISSION_DENIED")
        return book

    def _spend_quota(self, user: str, kind: str) -> httpx.Response | None:
        """[LIMITS] per-minute quotas, refilled every minute."""
        if self.quota_per_user is None:
            return None
        minute = int(self.now.timestamp() // 60)
        used = self.quota_used.get((user, kind, minute), 0)
        project = sum(n for (_, k, m), n in self.quota_used.items() if k == kind and m == minute)
        if used >= self.quota_per_user or project >= QUOTA_PER_PROJECT:
            return httpx.Response(429, json=rate_limited_body(kind))
        self.quota_used[(user, kind, minute)] = used + 1
        return None

    def _api(self, request: httpx.Request) -> httpx.Response:
        grant = self._authenticate(request)
        if isinstance(grant, httpx.Response):
            return grant
        raw_path = request.url.raw_path.decode("ascii").split("?", 1)[0]
        rest = raw_path[len(API_PREFIX) + 1 :]
        book_id, _, tail = rest.partition("/")
        book_id = unquote(book_id)
        method = request.method
        if tail == "" and method == "GET":
            route, declared, write = "get", SPREADSHEETS_GET_PARAMS, False
        elif tail.startswith("values/"):
            encoded = tail[len("values/") :]
            verb = ""
            # The custom verb follows the range after a ':' [DISC flatPath]; clients encode the
            # range's own colons, the API's examples do not, so only a known verb counts as one.
            if encoded.rpartition(":")[2] in ("append", "clear"):
                encoded, _, verb = encoded.rpartition(":")
            if "/" in encoded:
                return _not_found_page()
            if method == "GET" and not verb:
                route, declared, write = "values.get", VALUES_GET_PARAMS, False
            elif method == "PUT" and not verb:
                route, declared, write = "values.update", VALUES_UPDATE_PARAMS, True
            elif method == "POST" and verb == "append":
                route, declared, write = "values.append", VALUES_APPEND_PARAMS, True
            else:
                return _not_found_page()
        else:
            return _not_found_page()
        q = request.url.params
        for name in q:
            if name not in declared and name not in SYSTEM_PARAMS:
                # Google's answer to an undeclared query parameter [ERRORS].
                message = (f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query parameter. '
                           f"Field '{name}' could not be found in request message.")
                return _bad_request(message, name)
        for name, allowed in ENUMS.items():
            if name in q and q[name] not in allowed:
                return _bad_request(f"Invalid value at '{_snake(name)}' ({name}), \"{q[name]}\"", name)
        quota = self._spend_quota(grant.user_id, "write" if write else "read")
        if quota is not None:
            return quota
        book = self._reach(grant, book_id, write=write)
        if isinstance(book, httpx.Response):
            return book
        if route == "get":
            return self._get_spreadsheet(book, q)
        range_text = unquote(encoded)
        try:
            grid = parse_a1(range_text, book)
        except A1Error:
            return _bad_request(f"Unable to parse range: {range_text}")
        if route == "values.get":
            return self._values_get(book, grid, q)
        body = _json_body(request)
        if isinstance(body, httpx.Response):
            return body
        if route == "values.update":
            return self._values_update(book, grid, range_text, q, body)
        return self._values_append(book, grid, range_text, q, body)

    # spreadsheets.get [DISC resources.spreadsheets.methods.get]

    def _get_spreadsheet(self, book: Spreadsheet, q: httpx.QueryParams) -> httpx.Response:
        ranges = q.get_list("ranges")
        grids: list[GridRange] = []
        for text in ranges:
            try:
                grids.append(parse_a1(text, book))
            except A1Error:
                return _bad_request(f"Unable to parse range: {text}")
        mask_text = q.get("fields")
        tree: dict[str, Any] = {}
        if mask_text:
            try:
                tree = parse_field_mask(mask_text)
            except ValueError:
                return _bad_request(f"Invalid field selection {mask_text}", "fields")
            unknown = next((n for n in mask_names(tree) if n not in MODELLED_FIELDS), None)
            if unknown is not None:
                return _bad_request(f"Invalid field selection {unknown}", "fields")
        # "If a field mask is set, the includeGridData parameter is ignored" [DISC get.description].
        with_grid = "data" in tree.get("sheets", {}) if mask_text else q.get("includeGridData") == "true"
        sheets_out = []
        for index, sheet in enumerate(book.sheets):
            mine = [g for g in grids if g.sheet is sheet]
            if grids and not mine:
                continue
            entry: dict[str, Any] = {
                "properties": {
                    "sheetId": sheet.sheet_id,
                    "title": sheet.title,
                    "index": index,
                    "sheetType": "GRID",
                    "gridProperties": {"rowCount": sheet.row_count, "columnCount": sheet.column_count},
                }
            }
            if with_grid:
                entry["data"] = [self._grid_data(g) for g in (mine or [GridRange(sheet, 1, 1, None, None)])]
            sheets_out.append(entry)
        full = {
            "spreadsheetId": book.spreadsheet_id,
            "properties": {"title": book.title, "locale": "en_US", "timeZone": "America/Los_Angeles"},
            "sheets": sheets_out,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit",
        }
        return httpx.Response(200, json=apply_mask(full, tree) if tree else full)

    def _grid_data(self, grid: GridRange) -> dict[str, Any]:
        sheet = grid.sheet
        last_row = grid.row2 if grid.row2 is not None else max(len(sheet.rows), 1)
        last_col = grid.col2 if grid.col2 is not None else sheet.column_count
        row_data = []
        for r in range(grid.row1 - 1, last_row):
            values = []
            for c in range(grid.col1 - 1, last_col):
                cell: dict[str, Any] = {}
                value = sheet.cell(r, c)
                if value is not None:
                    cell["userEnteredValue"] = _extended_value(value)
                    cell["formattedValue"] = formatted(value)
                rule = sheet.validations.get(c) if r >= 1 else None
                if rule is not None:
                    cell["dataValidation"] = json.loads(json.dumps(rule))
                values.append(cell)
            while values and not values[-1]:
                values.pop()
            row_data.append({"values": values} if values else {})
        data: dict[str, Any] = {"rowData": row_data}
        if grid.row1 > 1:
            data["startRow"] = grid.row1 - 1
        if grid.col1 > 1:
            data["startColumn"] = grid.col1 - 1
        return data

    # values.get [DISC resources.spreadsheets.resources.values.methods.get]

    def _values_get(self, book: Spreadsheet, grid: GridRange, q: httpx.QueryParams) -> httpx.Response:
        option = q.get("valueRenderOption", "FORMATTED_VALUE")
        sheet = grid.sheet
        last_row = min(grid.row2 if grid.row2 is not None else sheet.row_count, len(sheet.rows))
        last_col = grid.col2 if grid.col2 is not None else sheet.column_count
        rows: list[list[Any]] = []
        for r in range(grid.row1 - 1, last_row):
            cells = [sheet.cell(r, c) for c in range(grid.col1 - 1, last_col)]
            while cells and cells[-1] in (None, ""):
                cells.pop()
            rows.append([rendered(v, option) for v in cells])
        # "For output, empty trailing rows and columns will not be included" [DISC ValueRange.values].
        while rows and not rows[-1]:
            rows.pop()
        major = q.get("majorDimension", "ROWS")
        answer: dict[str, Any] = {"range": a1_text(grid), "majorDimension": major}
        if rows:
            if major == "COLUMNS":
                width = max(len(r) for r in rows)
                rows = [[r[c] if c < len(r) else "" for r in rows] for c in range(width)]
            answer["values"] = rows
        return httpx.Response(200, json=answer)

    # writes: values.update / values.append

    def _checked_values(
        self, body: Any, grid: GridRange, range_text: str, q: httpx.QueryParams
    ) -> list[list[Cell | str]] | httpx.Response:
        """The rows of a ValueRange body, validated like Google does."""
        if "valueInputOption" not in q:
            return _bad_request("'valueInputOption' is required but not specified")
        extra = undeclared_field(body, VALUE_RANGE)
        if extra is not None:
            return _bad_request(f'Invalid JSON payload received. Unknown name "{extra}": Cannot find field.', extra)
        if not isinstance(body, dict):
            return _bad_request("Invalid JSON payload received. Expected an object.")
        if "range" in body and body["range"] != range_text:
            # Stricter than Google, which compares the parsed ranges.
            return _bad_request(f"Requested range [{body['range']}] does not match the range in the URL [{range_text}]")
        raw_values = body.get("values", [])
        if not isinstance(raw_values, list) or not all(isinstance(r, list) for r in raw_values):
            return _bad_request("Invalid values: expected a list of lists.", "values")
        if body.get("majorDimension", "ROWS") not in ("ROWS", "COLUMNS"):
            return _bad_request(f"Invalid value at 'data.major_dimension', \"{body.get('majorDimension')}\"")
        rows: list[list[Any]] = raw_values
        if body.get("majorDimension") == "COLUMNS":
            width = max((len(c) for c in rows), default=0)
            rows = [[c[r] if r < len(c) else None for c in rows] for r in range(width)]
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                # "supported value types are: bool, string, and double. Null values will be skipped"
                # [DISC ValueRange.values].
                if value is not None and not isinstance(value, str | int | float | bool):
                    return _bad_request(f"Invalid values[{r}][{c}]: {type(value).__name__}_value", f"values[{r}][{c}]")
                if isinstance(value, str) and len(value) > CELL_LIMIT:
                    return _bad_request(
                        f"Your input contains more than the maximum of {CELL_LIMIT} characters in a single cell."
                    )
        return rows

    def _write(self, sheet: Sheet, top: int, left: int, rows: list[list[Any]], option: str) -> int:
        written = 0
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue  # null values are skipped: the cell keeps what it holds [DISC]
                stored: Cell = user_entered(value) if option == "USER_ENTERED" and isinstance(value, str) else value
                sheet.put(top + r - 1, left + c - 1, stored)
                written += 1
        return written

    def _update_answer(
        self, book: Spreadsheet, sheet: Sheet, top: int, left: int, rows: list[list[Any]], written: int,
        q: httpx.QueryParams, *, requested: GridRange | None = None,
    ) -> dict[str, Any]:
        """[DISC schemas.UpdateValuesResponse]."""
        width = max((len(r) for r in rows), default=0)
        done = GridRange(sheet, top, left, top + len(rows) - 1, left + max(width, 1) - 1)
        answer: dict[str, Any] = {
            "spreadsheetId": book.spreadsheet_id,
            "updatedRange": a1_text(done),
            "updatedRows": sum(1 for r in rows if any(v is not None for v in r)),
            "updatedColumns": sum(1 for c in range(width) if any(c < len(r) and r[c] is not None for r in rows)),
            "updatedCells": written,
        }
        if q.get("includeValuesInResponse") == "true":
            shown = requested if requested is not None else done
            option = q.get("responseValueRenderOption", "FORMATTED_VALUE")
            data = json.loads(self._values_get(book, shown, httpx.QueryParams({"valueRenderOption": option})).content)
            answer["updatedData"] = data
        return answer

    def _values_update(
        self, book: Spreadsheet, grid: GridRange, range_text: str, q: httpx.QueryParams, body: Any
    ) -> httpx.Response:
        rows = self._checked_values(body, grid, range_text, q)
        if isinstance(rows, httpx.Response):
            return rows
        height = len(rows)
        width = max((len(r) for r in rows), default=0)
        if grid.row2 is not None and height > grid.row2 - grid.row1 + 1:
            return _bad_request(f"Requested writing within range [{range_text}], but tried writing to row "
                                f"[{grid.row1 + height - 1}]")
        if grid.col2 is not None and width > grid.col2 - grid.col1 + 1:
            return _bad_request(f"Requested writing within range [{range_text}], but tried writing to column "
                                f"[{column_letters(grid.col1 + width - 1)}]")
        if grid.row1 + height - 1 > grid.sheet.row_count:
            return _bad_request(f"Range ({a1_text(grid)}) exceeds grid limits. Max rows: {grid.sheet.row_count}, "
                                f"max columns: {grid.sheet.column_count}")
        written = self._write(grid.sheet, grid.row1, grid.col1, rows, q["valueInputOption"])
        return httpx.Response(200, json=self._update_answer(book, grid.sheet, grid.row1, grid.col1, rows, written, q,
                                                            requested=grid))

    def _values_append(
        self, book: Spreadsheet, grid: GridRange, range_text: str, q: httpx.QueryParams, body: Any
    ) -> httpx.Response:
        rows = self._checked_values(body, grid, range_text, q)
        if isinstance(rows, httpx.Response):
            return rows
        sheet = grid.sheet
        last_col = grid.col2 if grid.col2 is not None else sheet.column_count

        def filled(r: int) -> bool:
            return any(sheet.cell(r, c) not in (None, "") for c in range(grid.col1 - 1, last_col))

        # "The input range is used to search for existing data and find a 'table' within that
        # range. Values will be appended to the next row of the table" [DISC append.description]:
        # the table is the first run of filled rows from the top of the range.
        limit = min(grid.row2 if grid.row2 is not None else len(sheet.rows), len(sheet.rows))
        first = next((r for r in range(grid.row1 - 1, limit) if filled(r)), None)
        table_range = None
        if first is None:
            at = grid.row1 - 1
        else:
            end = first
            while end + 1 < len(sheet.rows) and filled(end + 1):
                end += 1
            at = end + 1
            table_range = a1_text(GridRange(sheet, first + 1, grid.col1, end + 1, last_col))
        if q.get("insertDataOption", "OVERWRITE") == "INSERT_ROWS" and at < len(sheet.rows):
            # "Rows are inserted for the new data" [DISC insertDataOption]: rows below move down.
            sheet.rows[at:at] = [[] for _ in rows]
        written = self._write(sheet, at + 1, grid.col1, rows, q["valueInputOption"])
        answer: dict[str, Any] = {
            "spreadsheetId": book.spreadsheet_id,
            "updates": self._update_answer(book, sheet, at + 1, grid.col1, rows, written, q),
        }
        if table_range is not None:
            answer["tableRange"] = table_range
        return httpx.Response(200, json=answer)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _extended_value(value: Cell) -> dict[str, Any]:
    if isinstance(value, Formula):
        return {"formulaValue": value.text}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        return {"numberValue": value}
    return {"stringValue": value}


def _json_body(request: httpx.Request) -> Any:
    try:
        return json.loads(request.content or b"{}")
    except ValueError:
        return _bad_request("Invalid JSON payload received. Unexpected token.")


def _oauth_error(status: int, code: str, description: str) -> httpx.Response:
    """The token endpoint's error body: ``{"error", "error_description"}`` (RFC 6749 §5.2) [OAUTH]."""
    return httpx.Response(status, json={"error": code, "error_description": description})


def _error_page(status: int, code: str, text: str) -> httpx.Response:
    """Google shows an error page instead of redirecting for a bad client or redirect URI."""
    page = f"<html><body><h1>Access blocked: Error {status}: {code}</h1><p>{text}</p></body></html>"
    return httpx.Response(status, text=page, headers={"Content-Type": "text/html; charset=utf-8"})


def _not_found_page() -> httpx.Response:
    page = "<html><body><p><b>404.</b> That’s an error.</p><p>The requested URL was not found on this server.</p>"
    return httpx.Response(404, text=page, headers={"Content-Type": "text/html; charset=utf-8"})


#: The Calls tab's header row as Logdesk writes it (for the demo spreadsheet).
DEMO_CALLS_HEADER = ("Session ID", "Extension", "Start time (UTC)", "Direction", "Number", "Contact", "Contact ID",
                     "Duration (s)", "Result", "Subject", "Note", "Recording", "AI note", "Disposition")
DEMO_DISPOSITIONS = ["Sale", "Quote sent", "Call back", "Not interested", "Wrong number"]


def demo_fake(*, clock: Callable[[], datetime] | None = None) -> SheetsFake:
    """A fake with the sandbox's demo people in Contacts and a Calls tab with a disposition list."""
    from tests.fakes.vendor_base import sandbox_demo_contacts

    fake = SheetsFake(clock=clock, quota_per_user=None)
    for person in sandbox_demo_contacts():
        name = " ".join(str(person.get(k) or "") for k in ("firstName", "lastName")).strip() or "Demo person"
        fake.add_contact(name, str(person.get("crmPhone") or person["phoneNumber"]), company=person.get("company"))
    fake.tab("Calls").rows.append(list(DEMO_CALLS_HEADER))
    fake.set_validation("N", DEMO_DISPOSITIONS)
    return fake


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.fakes.sheets --port N``: Google's OAuth and the Sheets API with demo data
    on 127.0.0.1 until Ctrl-C."""
    import argparse

    from tests.fakes.loopback import LoopbackServer

    parser = argparse.ArgumentParser(description="Serve a fake Google Sheets (OAuth + API v4) on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0, help="the port to listen on (0: any free port)")
    args = parser.parse_args(argv)
    fake = demo_fake(clock=lambda: datetime.now(UTC))
    with LoopbackServer(fake.handler, port=args.port) as server:
        print(f"fake Google Sheets on {server.base_url}")
        print(f"spreadsheet: https://docs.google.com/spreadsheets/d/{fake.book.spreadsheet_id}/edit")
        print(f"OAuth client ID: {CLIENT_ID}")
        print(f"OAuth client secret: {CLIENT_SECRET}")
        print(f"point Logdesk at it with: LOGDESK_SHEETS_URL={server.base_url}")
        wait_for_interrupt()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
