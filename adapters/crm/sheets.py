# SPDX-License-Identifier: MIT
"""Google Sheets (API v4): one row per call in a spreadsheet a small team shares.

**Connecting.** Google's OAuth 2.0 for installed apps (:func:`sign_in`): authorization code with
PKCE (S256) in the system browser, redirected to ``http://127.0.0.1:<any free port>/`` — Google
accepts any loopback port for a desktop client, as RFC 8252 §7.3 asks. The user brings a Google
Cloud OAuth client of type *Desktop app* (client id and its client secret, which Google issues to
desktop clients but "assumes not to be confidential"; both are sent to the token endpoint, and the
secret is kept in the keyring). Tokens go to the keyring only (``{"tokens": ...}``); the access
token (about an hour) is refreshed ahead of expiry and once more when Sheets refuses it (401);
``invalid_grant`` (revoked, expired, or a Testing-mode project's 7-day refresh token) asks to
"Reconnect Google Sheets in Settings". Google does not rotate refresh tokens.

**Scope: ``https://www.googleapis.com/auth/spreadsheets``**, on purpose. ``drive.file`` is narrower
and non-sensitive, but it only reaches the files the user created with this app or opened with it
through the Google Picker or Drive's "Open with"; a spreadsheet named by its URL or id — the team's
existing sheet, shared by a colleague — answers 404 "Requested entity was not found" under
``drive.file``. Logdesk takes the spreadsheet as a URL or id, so the narrowest scope that works is
``spreadsheets`` (read and write every spreadsheet the account can open; a *sensitive* scope, so a
published Cloud project needs Google's verification, and a project left in Testing gets refresh
tokens that die after 7 days). No Drive, profile or e-mail scope is asked for: ``verify()`` reads
the spreadsheet's own metadata.

**The spreadsheet.** Two tabs (names configurable, ``Contacts`` and ``Calls`` by default):

- ``Contacts`` — a header row, then one person per row. Columns are found by their header, in any
  order, case-insensitively: ``Name`` (required), every column whose header contains ``Phone`` or
  ``Mobile`` (at least one), ``Company`` and ``ID`` (optional). A phone cell may hold several
  numbers separated by ``/``, ``,``, ``;`` or new lines; each is read with :mod:`adapters.phone`
  in the user's region and compared in E.164. A contact's id is its ``ID`` cell, else
  ``"<Name> <E.164>"`` (stable when rows are sorted).
- ``Calls`` — Logdesk's, with these fixed columns (Logdesk writes the header into an empty tab;
  more columns to the right of ``N`` are left alone):

  ==  ==================  ================================================================
  A   Session ID          RingCentral's session id (with B, the row's key)
  B   Extension           the agent's extension number (two agents logging one call: two rows)
  C   Start time (UTC)    ``2026-03-14T09:26:53Z``
  D   Direction           ``Inbound`` / ``Outbound``
  E   Number              the other party's number (E.164) or extension
  F   Contact             the contact's name
  G   Contact ID          the contact's id (above)
  H   Duration (s)        whole seconds, a number (empty until known)
  I   Result              RingCentral's result (``Accepted``, ``Missed``, ...)
  J   Subject             the log's subject
  K   Note                the note the engine composes (plain text)
  L   Recording           the recording link
  M   AI note             the AI note section of the note, copied on every write of the note
  N   Disposition         the log page's ``disposition`` field
  ==  ==================  ================================================================

**Writing.** Every write uses ``valueInputOption=RAW``: text is stored as it is, so a note or a
name starting with ``=``, ``+``, ``-`` or ``@`` never becomes a formula, and ``+14155550123``
stays text. A cell holds at most 50,000 characters (the manifest's limit, so the note engine
shortens the note to fit; anything longer is refused here, never cut). A call is created with
``values.append`` (``insertDataOption=INSERT_ROWS``) on ``Calls!A:N``. It is read back by its
session id — the row whose A and B cells match, found by reading A:B — never by a remembered row
number, and updated with ``values.update`` on that row's exact range ``A<r>:N<r>``, found again
right before the write, so rows a person inserted, deleted or sorted meanwhile never shift what is
written. Cells an update does not change are sent as ``null`` (Sheets skips them), so a person's
edit of the subject survives a note update.

**Versions.** Sheets has no ETag or precondition for values. A row's version is a digest of its
cells A–N; an update with ``expected_version`` reads the row right before the write and raises
:class:`ConflictError` when the digest moved. What is left: a person's edit, or a row inserted
above, landing in the one round trip between that read and the write.

**Dispositions.** The page field ``disposition`` offers the data-validation list of the Calls
tab's ``Disposition`` column (``ONE_OF_LIST``, or ``ONE_OF_RANGE`` read from its range) when the
sheet has one, else :data:`DEFAULT_DISPOSITIONS`; read once per adapter (:meth:`page_fields`).

**Quotas and errors.** Sheets allows 60 read and 60 write requests per minute per user (300 per
project) and answers 429 ``RESOURCE_EXHAUSTED`` past them, without ``Retry-After``. The adapter
counts its own requests in two one-minute windows (pauses up to 2 s are waited out, longer ones
raise :class:`RateLimited` without sending) and answers a 429 with Google's truncated exponential
backoff: ``min(2^n + random ≤ 1 s, 64 s)`` for the n-th 429 in a row (a ``Retry-After``, when
sent, wins), during which nothing is sent. Google's error body ``{"error": {code, message,
status, details}}`` keeps its words (``"STATUS: message"``); 401 is renewed once, then asks to
reconnect; 403 says the account cannot open (or edit) the spreadsheet, or that the Sheets
permission was not granted; 404 names the spreadsheet address to check; "Unable to parse range"
names the missing tab.

Developer option: ``LOGDESK_SHEETS_URL`` (or the connection setting ``api_base_url``) points the
OAuth endpoints (``/o/oauth2/v2/auth``, ``/token``, ``/revoke``) and the API (``/v4/...``) at one
other host, e.g. ``python -m tests.fakes.sheets`` on loopback (see :mod:`adapters.api_override`).

Threading contract: one worker thread at a time per instance (see :mod:`adapters.base`); the token
manager and the throttle inside are thread-safe. Nothing here touches Qt.
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from adapters import oauth
from adapters.api_override import api_base_override
from adapters.base import (
    AdapterError,
    AuthError,
    AuthField,
    AuthKind,
    AuthSpec,
    Capabilities,
    ConflictError,
    Connection,
    FieldLimits,
    MalformedResponse,
    Manifest,
    NotFound,
    OAuthSpec,
    PageField,
    PageFieldKind,
    PermissionDenied,
    RateLimited,
    SecretsSaver,
    ValidationError,
    phone_settings,
)
from adapters.http import json_body
from adapters.models import Call, CallLogRef, Contact, FieldValue, LogEntry, LogUpdate, Option, StoredCallLog
from adapters.notes import is_placeholder
from adapters.notes.engine import parse as parse_note
from adapters.oauth_session import OAuthSession
from adapters.phone import to_e164
from adapters.throttle import Throttle, ThrottleTimeout
from adapters.vendor_shape import vendor_shape

NAME = "Google Sheets"
ENV_BASE_URL = "LOGDESK_SHEETS_URL"
AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL)
REVOKE_URL = "https://oauth2.googleapis.com/revoke"
API_URL = "https://sheets.googleapis.com"
#: The one scope asked for (see the module docstring for why not ``drive.file``).
SCOPE = "https://www.googleapis.com/auth/spreadsheets"

#: The most characters one cell holds.
CELL_CHARS = 50_000
#: Sheets' per-user quotas: read and write requests per minute.
REQUESTS_PER_MINUTE = 60
#: Google's usual cap on an exponential backoff, in seconds.
MAX_BACKOFF = 64.0

CALL_COLUMNS: tuple[str, ...] = (
    "Session ID",
    "Extension",
    "Start time (UTC)",
    "Direction",
    "Number",
    "Contact",
    "Contact ID",
    "Duration (s)",
    "Result",
    "Subject",
    "Note",
    "Recording",
    "AI note",
    "Disposition",
)
(
    _SESSION,
    _EXTENSION,
    _START,
    _DIRECTION,
    _NUMBER,
    _CONTACT,
    _CONTACT_ID,
    _DURATION,
    _RESULT,
    _SUBJECT,
    _NOTE,
    _RECORDING,
    _AI_NOTE,
    _DISPOSITION,
) = range(len(CALL_COLUMNS))

#: The disposition list offered when the Calls tab's Disposition column has no validation list.
DEFAULT_DISPOSITIONS: tuple[str, ...] = ("Connected", "Left voicemail", "No answer", "Call back", "Wrong number")

_ID_IN_URL = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")
_BARE_ID = re.compile(r"^[A-Za-z0-9_-]{20,}$")
_PLAIN_TAB = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PHONE_SPLIT = re.compile(r"[/,;\n]")

MANIFEST = Manifest(
    id="sheets",
    name=NAME,
    log_format="text/plain",
    auth=AuthSpec(
        kind=AuthKind.OAUTH_PKCE,
        fields=[
            AuthField(
                key="spreadsheet",
                label="Spreadsheet",
                placeholder="https://docs.google.com/spreadsheets/d/…/edit",
                help="The spreadsheet's address as your browser shows it (or its ID). It needs a Contacts tab "
                "(Name, Phone) and a Calls tab (empty: Logdesk writes its header).",
            ),
            AuthField(
                key="client_id",
                label="Client ID",
                help="Google Cloud console → APIs & Services → Credentials: an OAuth client ID of type "
                "'Desktop app', in a project with the Google Sheets API enabled.",
            ),
            AuthField(
                key="client_secret",
                label="Client secret",
                secret=True,
                help="The secret Google shows with that desktop client ID (kept in the system keyring).",
            ),
            AuthField(key="contacts_tab", label="Contacts tab", required=False, default="Contacts"),
            AuthField(key="calls_tab", label="Calls tab", required=False, default="Calls"),
        ],
        oauth=OAuthSpec(
            authorize_url=AUTHORIZE_URL,
            token_url=TOKEN_URL,
            revoke_url=REVOKE_URL,
            scopes=[SCOPE],
            needs_client_secret=True,
        ),
    ),
    page_fields=[
        PageField(
            id="disposition",
            label="Disposition",
            kind=PageFieldKind.SELECTION,
            options=[Option(id=v, label=v) for v in DEFAULT_DISPOSITIONS],
            help="The Calls tab's Disposition column: its data-validation list when it has one.",
        )
    ],
    limits=FieldLimits(subject_chars=CELL_CHARS, body=CELL_CHARS, body_unit="chars"),
    capabilities=Capabilities(find_by_session_id=True, versioned_writes=True, update_reads_first=True),
)


# --- settings ---------------------------------------------------------------------------------


def spreadsheet_id(text: str) -> str:
    """The spreadsheet id in a Google Sheets address (``…/spreadsheets/d/<id>/edit``) or the id itself.

    Raises:
        ValidationError: the text is neither (``field="spreadsheet"``).
    """
    value = text.strip()
    if not value:
        raise ValidationError("Enter the spreadsheet's address in Settings.", field="spreadsheet")
    match = _ID_IN_URL.search(value)
    if match is not None and match.group(1) != "e":
        return match.group(1)
    if match is not None:
        raise ValidationError(
            "That is the address of a copy published to the web, not of the spreadsheet. Open the spreadsheet "
            "and copy the address from the browser's address bar.",
            field="spreadsheet",
        )
    if _BARE_ID.match(value):
        return value
    raise ValidationError(
        f"{value!r} is not a Google Sheets address. Paste the spreadsheet's address from the browser's address "
        "bar (https://docs.google.com/spreadsheets/d/…/edit).",
        field="spreadsheet",
    )


def quote_tab(title: str) -> str:
    """A tab name in A1 notation: plain, or in single quotes with ``'`` doubled."""
    if _PLAIN_TAB.match(title) and not re.match(r"^[A-Za-z]{1,3}\d+$", title):
        return title
    return "'" + title.replace("'", "''") + "'"


def column_letter(index: int) -> str:
    """0 → ``A``, 25 → ``Z``, 26 → ``AA``."""
    letters, n = "", index + 1
    while n > 0:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_LAST = column_letter(len(CALL_COLUMNS) - 1)


def _hosts(settings: Mapping[str, str]) -> tuple[str, str, str, str]:
    """(authorize, token, revoke, API) URLs: Google's, or all under the developer override."""
    base = api_base_override(settings, ENV_BASE_URL)
    if base:
        return f"{base}/o/oauth2/v2/auth", f"{base}/token", f"{base}/revoke", base
    return AUTHORIZE_URL, TOKEN_URL, REVOKE_URL, API_URL


def oauth_endpoints(settings: Mapping[str, str], secrets: Mapping[str, str] | None = None) -> oauth.OAuthEndpoints:
    """The user's desktop OAuth client at Google (id and secret sent in the form body).

    Raises:
        AuthError: no client id or secret entered, or an unsafe API address override.
    """
    values = {**settings, **(secrets or {})}
    client_id = values.get("client_id", "").strip()
    if not client_id:
        raise AuthError("Enter the client ID of your Google Cloud desktop OAuth client in Settings before connecting.")
    client_secret = values.get("client_secret", "").strip()
    if not client_secret:
        raise AuthError("Enter the client secret of your Google Cloud desktop OAuth client in Settings.")
    authorize, token, revoke, _ = _hosts(settings)
    return oauth.OAuthEndpoints(
        authorize_url=authorize,
        token_url=token,
        revoke_url=revoke,
        client_id=client_id,
        client_secret=client_secret,
        secret_in_body=True,
        scopes=(SCOPE,),
    )


def sign_in(
    settings: Mapping[str, str],
    http: httpx.Client,
    *,
    open_url: Callable[[str], None],
    port: int | None = None,
    timeout: float = 300.0,
    clock: Callable[[], float] = time.time,
    on_receiver: Callable[[oauth.LoopbackReceiver], None] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Signs in through the system browser; returns the secrets to keep (``{"tokens": ...}``).

    Blocks until the user finishes: call it on a worker thread.

    Args:
        settings: ``client_id`` (and ``client_secret``, or in ``secrets``).
        http: used for the code exchange.
        open_url: opens Google's consent page in the system browser.
        port: the loopback port to listen on; ``None`` or ``0`` takes any free one (Google accepts
            any port on a desktop client's loopback redirect).
        timeout: seconds the user has to finish in the browser.
        clock: UNIX seconds, for token expiry.
        on_receiver: receives the redirect listener, so the UI can offer Cancel.
        secrets: ``client_secret`` from the keyring; wins over the same key in ``settings``.

    Raises:
        AuthError: declined, timed out, wrong client, or Google refused the code.
        PermissionDenied: the user left the Sheets permission unticked on Google's consent page.
    """
    endpoints = oauth_endpoints(settings, secrets)
    tokens = oauth.sign_in(
        endpoints,
        http,
        open_url=open_url,
        port=port or 0,
        path="/",
        timeout=timeout,
        clock=clock,
        vendor=NAME,
        on_receiver=on_receiver,
    )
    if tokens.scope is not None and SCOPE not in tokens.scope.split():
        # Granular consent: the user may untick a permission. Give back what was granted.
        oauth.revoke_token(endpoints, http, tokens.refresh_token or tokens.access_token, vendor=NAME)
        raise PermissionDenied(
            f"{NAME} was connected without access to spreadsheets. Sign in again and tick \"See, edit, create and "
            "delete all your Google Sheets spreadsheets\"."
        )
    if not tokens.refresh_token:
        raise AuthError(f"Google granted no refresh token. Sign in to {NAME} again.")
    return tokens.to_secrets()


# --- Google's errors --------------------------------------------------------------------------


def google_error_parser(raw_body: Any) -> tuple[str | None, str | None]:
    """``("STATUS (REASON): message", field)`` from Google's error body
    ``{"error": {"code", "message", "status", "details"}}``."""
    if not isinstance(raw_body, dict):
        return None, None
    raw_error = raw_body.get("error")
    if isinstance(raw_error, str):  # the token endpoint's {"error", "error_description"}
        detail = raw_body.get("error_description")
        return (f"{raw_error}: {detail}" if isinstance(detail, str) else raw_error), None
    if not isinstance(raw_error, dict):
        return None, None
    message = raw_error.get("message") if isinstance(raw_error.get("message"), str) else None
    status = raw_error.get("status") if isinstance(raw_error.get("status"), str) else None
    reason: str | None = None
    field: str | None = None
    details = raw_error.get("details")
    for raw_detail in details if isinstance(details, list) else []:
        if not isinstance(raw_detail, dict):
            continue
        if isinstance(raw_detail.get("reason"), str):
            reason = raw_detail["reason"]
        violations = raw_detail.get("fieldViolations")
        if isinstance(violations, list) and violations and isinstance(violations[0], dict):
            found = violations[0].get("field")
            field = found if isinstance(found, str) and found else field
    head = f"{status} ({reason})" if status and reason else status
    return (f"{head}: {message}" if head and message else (message or head)), field


def _reason_is(exc: AdapterError, *reasons: str) -> bool:
    return any(r in (exc.vendor_message or "") for r in reasons)


def _cell_size_error(what: str, value: str) -> ValidationError:
    return ValidationError(
        f"The {what} has {len(value):,} characters; a {NAME} cell holds at most {CELL_CHARS:,}.", field=what
    )


# --- the row's key and version ----------------------------------------------------------------


@dataclass(frozen=True)
class _Key:
    """What identifies a call's row: its session id and the agent's extension."""

    session_id: str
    extension: str

    @property
    def log_id(self) -> str:
        return f"{self.session_id}/{self.extension}" if self.extension else self.session_id

    @classmethod
    def of_log(cls, log_id: str) -> _Key:
        session_id, _, extension = log_id.partition("/")
        return cls(session_id, extension)

    @classmethod
    def of_call(cls, call: Call) -> _Key:
        return cls(call.session_id, call.local.extension_number or "")

    @classmethod
    def of_row(cls, cells: Sequence[str]) -> _Key:
        return cls(_cell(cells, _SESSION).strip(), _cell(cells, _EXTENSION).strip())


def _cell(cells: Sequence[str], index: int) -> str:
    return cells[index] if index < len(cells) else ""


def version_of(cells: Sequence[str]) -> str:
    """A digest of the row's cells A–N as Sheets shows them (formatted)."""
    text = "\x1f".join(_cell(cells, i) for i in range(len(CALL_COLUMNS)))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def ai_note_of(body: str) -> str:
    """The AI note section of a note (the note engine's plain-text format), ``""`` when absent or pending."""
    found = parse_note(body, "text/plain").get("ai_note")
    if found is None:
        return ""
    value = body[found.vstart : found.vend].strip()
    return "" if is_placeholder(value) else value


def _duration(text: str) -> int | None:
    cleaned = text.strip().replace(",", "")
    if not cleaned:
        return None
    try:
        return round(float(cleaned))
    except ValueError:
        return None


class SheetsAdapter:
    """One spreadsheet reached through one Google account.

    Args:
        connection: ``settings`` with ``spreadsheet`` (address or id), ``client_id``, optionally
            ``contacts_tab``/``calls_tab`` and ``phone_region``; ``secrets`` with ``client_secret``
            and ``tokens`` as written by :func:`sign_in`.
        client: the HTTP client (tests inject one over the fake).
        save_secrets: persists a renewed pair (``{"tokens": ...}``) before it is used.
        clock: UNIX seconds (token expiry, the quota windows, backoff pauses).
        sleep: waits out short pauses (``time.sleep``; tests move their fake clock).
        jitter: a random fraction in [0, 1) for the backoff's random milliseconds.

    Threading contract: see the module docstring.
    """

    manifest: ClassVar[Manifest] = MANIFEST

    def __init__(
        self,
        connection: Connection,
        *,
        client: httpx.Client | None = None,
        save_secrets: SecretsSaver | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self._settings = dict(connection.settings)
        self._secrets = {k: v for k, v in connection.secrets.items() if k != "tokens"}
        self._clock = clock or time.time
        self._region, _ = phone_settings(self._settings)
        self._contacts_tab = (self._settings.get("contacts_tab") or "").strip() or "Contacts"
        self._calls_tab = (self._settings.get("calls_tab") or "").strip() or "Calls"
        self._config_error: AdapterError | None = None
        self._sheet_id = ""
        self._api = API_URL
        try:
            self._sheet_id = spreadsheet_id(self._settings.get("spreadsheet", ""))
            self._api = _hosts(self._settings)[3]
        except AdapterError as exc:  # reported by every request, so the app still starts
            self._config_error = exc
        self._oauth = OAuthSession(
            NAME,
            connection.secrets,
            endpoints=self._endpoints,
            client=client,
            save_secrets=save_secrets,
            clock=self._clock,
            revocable=lambda tokens: tokens.refresh_token,  # revoking it ends the whole grant
        )
        self._throttle = Throttle(clock=self._clock, sleep=sleep, max_wait=2.0)
        self._throttle.limit("read", REQUESTS_PER_MINUTE, 60.0)
        self._throttle.limit("write", REQUESTS_PER_MINUTE, 60.0)
        self._jitter = jitter or random.random
        self._rate_limited_in_a_row = 0
        self._header_checked = False
        self._dispositions: list[Option] | None = None

    # --- auth -------------------------------------------------------------------------------

    def _endpoints(self) -> oauth.OAuthEndpoints:
        return oauth_endpoints(self._settings, self._secrets)

    def sign_out(self) -> None:
        """Revokes the grant at Google (best effort) and forgets the tokens."""
        self._oauth.sign_out()

    # --- requests ---------------------------------------------------------------------------

    def _backoff(self) -> float:
        """Google's truncated exponential backoff: ``min(2^n + random ms ≤ 1 s, 64 s)``."""
        seconds = min(2.0**self._rate_limited_in_a_row + self._jitter(), MAX_BACKOFF)
        self._rate_limited_in_a_row += 1
        return seconds

    def _remap(self, exc: AdapterError, tab: str | None, *, write: bool) -> AdapterError:
        kw: dict[str, Any] = {"vendor_message": exc.vendor_message, "status": exc.status}
        message = exc.vendor_message or ""
        if exc.status == 400 and "Unable to parse range" in message:
            name = tab or self._calls_tab
            return ValidationError(
                f"The spreadsheet has no tab named {name!r}. Add a tab with that name, or enter the tab's name in "
                f"Settings → {NAME}.",
                field="calls_tab" if name == self._calls_tab else "contacts_tab",
                **kw,
            )
        if exc.status == 403 and _reason_is(exc, "RATE_LIMIT_EXCEEDED", "rateLimitExceeded"):
            return RateLimited(f"{NAME} asks to slow down.", **kw)
        if exc.status == 403 and _reason_is(exc, "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "insufficient authentication"):
            return PermissionDenied(
                f"{NAME} was connected without access to spreadsheets. Reconnect {NAME} in Settings and tick \"See, "
                "edit, create and delete all your Google Sheets spreadsheets\".",
                **kw,
            )
        if exc.status == 403:
            verb = "edit" if write else "open"
            return PermissionDenied(
                f"The signed-in Google account cannot {verb} this spreadsheet. Ask its owner to share it with that "
                f"account as an editor, or reconnect {NAME} with an account that can.",
                **kw,
            )
        if exc.status == 404:
            return NotFound(
                f"{NAME} found no spreadsheet {self._sheet_id!r}. Check the spreadsheet address in Settings (and that "
                "the signed-in account can open it).",
                **kw,
            )
        return exc

    def _request(
        self, method: str, path: str, *, tab: str | None = None, write: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """One request to the Sheets API, counted against the read or write quota."""
        if self._config_error is not None:
            raise self._config_error
        kind = "write" if write else "read"
        try:
            self._throttle.acquire(kind)
        except ThrottleTimeout as exc:
            raise RateLimited(
                f"{NAME} allows {REQUESTS_PER_MINUTE} {kind} requests a minute; waiting {exc.seconds:.0f} s.",
                retry_after=exc.seconds,
            ) from None
        try:
            response = self._oauth.send(
                method,
                self._api + path,
                parse=google_error_parser,
                remap=lambda exc: self._remap(exc, tab, write=write),
                **kwargs,
            )
        except RateLimited as exc:
            wait = exc.retry_after if exc.retry_after is not None else self._backoff()
            self._throttle.block_for(wait)
            raise RateLimited(
                f"{NAME} asks to slow down (its per-minute quota); trying again in {wait:.0f} s.",
                retry_after=wait,
                vendor_message=exc.vendor_message,
                status=exc.status,
            ) from None
        self._rate_limited_in_a_row = 0
        return response

    def _values_path(self, a1_range: str, verb: str = "") -> str:
        return f"/v4/spreadsheets/{self._sheet_id}/values/{quote(a1_range, safe='')}{verb}"

    def _calls_range(self, cells: str) -> str:
        return f"{quote_tab(self._calls_tab)}!{cells}"

    def _rows(self, raw_body: Any) -> list[list[str]]:
        """The ``values`` of a ValueRange read as FORMATTED_VALUE: rows of text cells.

        Raises:
            MalformedResponse: not a ValueRange, or a cell that is not text.
        """
        if not isinstance(raw_body, dict) or not isinstance(raw_body.get("range", ""), str):
            raise MalformedResponse(f"{NAME} sent a value range in an unexpected shape.")
        raw_rows = raw_body.get("values", [])
        if not isinstance(raw_rows, list) or not all(isinstance(r, list) for r in raw_rows):
            raise MalformedResponse(f"{NAME} sent cell values in an unexpected shape.")
        for raw_row in raw_rows:
            for value in raw_row:
                if not isinstance(value, str):
                    shown = f"{type(value).__name__} {value!r}"[:200]
                    raise MalformedResponse(f"{NAME} sent a cell that is not text.", vendor_message=shown)
        return [list(r) for r in raw_rows]

    def _get_values(self, a1_range: str, *, tab: str) -> list[list[str]]:
        response = self._request(
            "GET", self._values_path(a1_range), tab=tab, params={"valueRenderOption": "FORMATTED_VALUE"}
        )
        return self._rows(json_body(response, crm=NAME))

    def _written_row(self, raw_update: Any) -> list[str]:
        """The row as Sheets holds it after a write (``updatedData`` of an UpdateValuesResponse)."""
        if not isinstance(raw_update, dict) or not isinstance(raw_update.get("updatedRange"), str):
            raise MalformedResponse(f"{NAME} confirmed a write in an unexpected shape.")
        rows = self._rows(raw_update.get("updatedData"))
        return rows[0] if rows else []

    # --- rows of the Calls tab --------------------------------------------------------------

    def _ensure_header(self) -> None:
        """The Calls tab's header: written into an empty tab, checked otherwise (once per adapter)."""
        if self._header_checked:
            return
        rows = self._get_values(self._calls_range("1:1"), tab=self._calls_tab)
        header = [h.strip() for h in rows[0]] if rows else []
        if not any(header):
            response = self._request(
                "PUT",
                self._values_path(self._calls_range(f"A1:{_LAST}1")),
                tab=self._calls_tab,
                write=True,
                params={"valueInputOption": "RAW"},
                json={"values": [list(CALL_COLUMNS)]},
            )
            if not isinstance(json_body(response, crm=NAME), dict):
                raise MalformedResponse(f"{NAME} confirmed a write in an unexpected shape.")
        else:
            for index, expected in enumerate(CALL_COLUMNS):
                found = header[index] if index < len(header) else ""
                if found.casefold() != expected.casefold():
                    raise ValidationError(
                        f"The {self._calls_tab} tab's first row is not Logdesk's header: column "
                        f"{column_letter(index)} holds {found!r} where {expected!r} belongs. Use an empty tab (Logdesk "
                        "writes the header) or restore the header row.",
                        field="calls_tab",
                    )
        self._header_checked = True

    def _find_row(self, key: _Key) -> int | None:
        """The 1-based row whose Session ID and Extension cells are ``key`` (read now, never cached)."""
        for index, cells in enumerate(self._get_values(self._calls_range("A2:B"), tab=self._calls_tab)):
            if _Key.of_row(cells) == key:
                return index + 2
        return None

    def _row_cells(self, row: int) -> list[str]:
        rows = self._get_values(self._calls_range(f"A{row}:{_LAST}{row}"), tab=self._calls_tab)
        return rows[0] if rows else []

    def _read_row(self, key: _Key) -> tuple[int, list[str]]:
        """The call's row number and cells, read now.

        Raises:
            NotFound: no row has this call's session id (deleted in the sheet).
            ConflictError: rows kept moving between finding the row and reading it.
        """
        for _ in range(3):
            row = self._find_row(key)
            if row is None:
                raise NotFound(
                    f"The {self._calls_tab} tab has no row for this call (session {key.session_id}); it may have "
                    "been deleted in the spreadsheet."
                )
            cells = self._row_cells(row)
            if _Key.of_row(cells) == key:
                return row, cells
            # Someone inserted, deleted or sorted rows between the two reads: look again.
        raise ConflictError(
            f"Rows of the {self._calls_tab} tab kept moving while the call was read; it will be read again.", status=409
        )

    def _stored(self, key: _Key, ref: CallLogRef, cells: Sequence[str]) -> StoredCallLog:
        contact_id = _cell(cells, _CONTACT_ID) or None
        return StoredCallLog(
            ref=CallLogRef(
                adapter_id=MANIFEST.id,
                log_id=key.log_id,
                contact_id=contact_id or ref.contact_id,
                version=version_of(cells),
            ),
            subject=_cell(cells, _SUBJECT),
            body=_cell(cells, _NOTE),
            dispositions={"disposition": _cell(cells, _DISPOSITION) or None},
            contact_id=contact_id,
            contact_name=_cell(cells, _CONTACT) or None,
            duration_seconds=_duration(_cell(cells, _DURATION)),
            recording_url=_cell(cells, _RECORDING) or None,
        )

    # --- CrmAdapter -------------------------------------------------------------------------

    @vendor_shape(NAME)
    def verify(self) -> str:
        """Reads the spreadsheet's title and tabs: checks access, the address and both tabs."""
        response = self._request(
            "GET",
            f"/v4/spreadsheets/{self._sheet_id}",
            params={"fields": "properties.title,sheets.properties.title"},
        )
        raw_body = json_body(response, crm=NAME)
        title = raw_body["properties"]["title"]
        tabs = [raw_sheet["properties"]["title"] for raw_sheet in raw_body.get("sheets", [])]
        if not isinstance(title, str) or not all(isinstance(t, str) for t in tabs):
            raise MalformedResponse(f"{NAME} sent the spreadsheet's properties in an unexpected shape.")
        missing = [t for t in (self._contacts_tab, self._calls_tab) if t not in tabs]
        if missing:
            names = " and ".join(repr(t) for t in missing)
            raise ValidationError(
                f"The spreadsheet {title!r} has no tab named {names}. Add it (Contacts: a header row with Name and "
                "Phone; Calls: empty), or enter the tabs' names in Settings.",
                field="calls_tab" if self._calls_tab in missing else "contacts_tab",
            )
        return f"Spreadsheet {title!r} (tabs {self._contacts_tab}, {self._calls_tab})"

    def dispositions(self) -> list[Option]:
        """The Disposition column's data-validation list, else :data:`DEFAULT_DISPOSITIONS` (cached)."""
        if self._dispositions is None:
            cell = self._calls_range(f"{column_letter(_DISPOSITION)}2")
            response = self._request(
                "GET",
                f"/v4/spreadsheets/{self._sheet_id}",
                tab=self._calls_tab,
                params={"ranges": cell, "fields": "sheets(data(rowData(values(dataValidation))))"},
            )
            rule = _validation_rule(json_body(response, crm=NAME))
            values: list[str] = []
            condition = rule.get("condition") if rule else None
            if isinstance(condition, dict):
                raw_values = condition.get("values") or []
                entered = [v.get("userEnteredValue") for v in raw_values if isinstance(v, dict)]
                texts = [v for v in entered if isinstance(v, str) and v.strip()]
                if condition.get("type") == "ONE_OF_LIST":
                    values = texts
                elif condition.get("type") == "ONE_OF_RANGE" and texts:
                    source = texts[0].lstrip("=")
                    values = [c for row in self._get_values(source, tab=source.partition("!")[0]) for c in row]
            values = list(dict.fromkeys(v.strip() for v in values if v.strip()))
            self._dispositions = [Option(id=v, label=v) for v in (values or DEFAULT_DISPOSITIONS)]
        return list(self._dispositions)

    @vendor_shape(NAME)
    def page_fields(self) -> list[PageField]:
        """The log page's fields: ``disposition`` with the sheet's own list (one cached read)."""
        fields = [f.model_copy(deep=True) for f in self.manifest.page_fields]
        for f in fields:
            if f.id == "disposition":
                f.options = self.dispositions()
        return fields

    @vendor_shape(NAME)
    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        if is_extension:
            return []  # the Contacts tab has no colleagues' extensions
        wanted = to_e164(phone, self._region)
        if wanted is None:
            return []
        rows = self._get_values(quote_tab(self._contacts_tab), tab=self._contacts_tab)
        header = [h.strip().casefold() for h in rows[0]] if rows else []
        if "name" not in header or not any("phone" in h or "mobile" in h for h in header):
            raise ValidationError(
                f"The {self._contacts_tab} tab's first row must name its columns: Name and Phone (also Mobile, "
                "Company, ID).",
                field="contacts_tab",
            )
        name_col = header.index("name")
        phone_cols = [i for i, h in enumerate(header) if "phone" in h or "mobile" in h]
        id_col = header.index("id") if "id" in header else None
        company_col = header.index("company") if "company" in header else None
        found: dict[str, Contact] = {}
        for cells in rows[1:]:
            name = _cell(cells, name_col).strip()
            matched = next(
                (
                    number.strip()
                    for col in phone_cols
                    for number in _PHONE_SPLIT.split(_cell(cells, col))
                    if number.strip() and to_e164(number, self._region) == wanted
                ),
                None,
            )
            if matched is None:
                continue
            contact_id = (_cell(cells, id_col).strip() if id_col is not None else "") or f"{name} <{wanted}>"
            if contact_id not in found:
                found[contact_id] = Contact(
                    id=contact_id,
                    name=name or "(no name)",
                    phone=matched,
                    company=(_cell(cells, company_col).strip() or None) if company_col is not None else None,
                )
        return list(found.values())

    @vendor_shape(NAME)
    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        if len(entry.subject) > CELL_CHARS:
            raise _cell_size_error("subject", entry.subject)
        if len(entry.body) > CELL_CHARS:
            raise _cell_size_error("body", entry.body)
        self._ensure_header()
        key = _Key.of_call(call)
        duration = entry.duration_seconds if entry.duration_seconds is not None else call.duration
        disposition = entry.dispositions.get("disposition")
        cells: list[Any] = [
            key.session_id,
            key.extension,
            call.start_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            call.direction.value,
            call.remote.phone_number or call.remote.extension_number or "",
            contact.name,
            contact.id,
            duration if duration is not None else "",
            call.result or "",
            entry.subject,
            entry.body,
            entry.recording_url or "",
            ai_note_of(entry.body),
            disposition if isinstance(disposition, str) else "",
        ]
        response = self._request(
            "POST",
            self._values_path(self._calls_range(f"A:{_LAST}"), ":append"),
            tab=self._calls_tab,
            write=True,
            params={
                "valueInputOption": "RAW",
                "insertDataOption": "INSERT_ROWS",
                "includeValuesInResponse": "true",
                "responseValueRenderOption": "FORMATTED_VALUE",
            },
            json={"values": [cells]},
        )
        raw_body = json_body(response, crm=NAME)
        if not isinstance(raw_body, dict):
            raise MalformedResponse(f"{NAME} confirmed the new row in an unexpected shape.")
        stored = self._written_row(raw_body.get("updates"))
        if _Key.of_row(stored) != key:
            raise MalformedResponse(f"{NAME} confirmed a row that is not the call's.")
        return CallLogRef(adapter_id=MANIFEST.id, log_id=key.log_id, contact_id=contact.id, version=version_of(stored))

    @vendor_shape(NAME)
    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        key = _Key.of_log(ref.log_id)
        _, cells = self._read_row(key)
        return self._stored(key, ref, cells)

    @vendor_shape(NAME)
    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        """Writes only the cells ``change`` sets, into the call's row as found right now.

        The row is found by session id and read immediately before the write; with
        ``expected_version`` a row whose cells changed since is refused with :class:`ConflictError`.
        """
        if change.subject is not None and len(change.subject) > CELL_CHARS:
            raise _cell_size_error("subject", change.subject)
        if change.body is not None and len(change.body) > CELL_CHARS:
            raise _cell_size_error("body", change.body)
        key = _Key.of_log(ref.log_id)
        row, cells = self._read_row(key)
        if expected_version is not None and version_of(cells) != expected_version:
            raise ConflictError(
                f"The call's row was changed in {NAME} since it was read; it will be read again before saving.",
                status=409,
            )
        new: list[Any] = [None] * len(CALL_COLUMNS)  # null: Sheets leaves the cell as it is
        if change.subject is not None:
            new[_SUBJECT] = change.subject
        if change.body is not None:
            new[_NOTE] = change.body
            new[_AI_NOTE] = ai_note_of(change.body)
        if change.duration_seconds is not None:
            new[_DURATION] = change.duration_seconds
        if change.recording_url is not None:
            new[_RECORDING] = change.recording_url
        if change.dispositions is not None and "disposition" in change.dispositions:
            value = change.dispositions["disposition"]
            new[_DISPOSITION] = value if isinstance(value, str) else ""
        if all(v is None for v in new):
            return self._stored(key, ref, cells)
        response = self._request(
            "PUT",
            self._values_path(self._calls_range(f"A{row}:{_LAST}{row}")),
            tab=self._calls_tab,
            write=True,
            params={
                "valueInputOption": "RAW",
                "includeValuesInResponse": "true",
                "responseValueRenderOption": "FORMATTED_VALUE",
            },
            json={"values": [new]},
        )
        stored = self._written_row(json_body(response, crm=NAME))
        return self._stored(key, ref, stored)

    @vendor_shape(NAME)
    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        self.update_call_log(ref, LogUpdate(dispositions=dict(values)))

    @vendor_shape(NAME)
    def find_call_log(self, call: Call) -> CallLogRef | None:
        key = _Key.of_call(call)
        try:
            _, cells = self._read_row(key)
        except NotFound:
            return None
        return CallLogRef(
            adapter_id=MANIFEST.id,
            log_id=key.log_id,
            contact_id=_cell(cells, _CONTACT_ID) or None,
            version=version_of(cells),
        )

    def close(self) -> None:
        self._oauth.close()


def _validation_rule(raw_body: Any) -> dict[str, Any] | None:
    """The ``dataValidation`` of the one cell a ``spreadsheets.get`` with grid data asked for."""
    if not isinstance(raw_body, dict):
        raise MalformedResponse(f"{NAME} sent the spreadsheet in an unexpected shape.")
    for raw_sheet in raw_body.get("sheets") or []:
        for raw_data in raw_sheet.get("data") or []:
            for raw_row in raw_data.get("rowData") or []:
                for raw_cell in raw_row.get("values") or []:
                    rule = raw_cell.get("dataValidation")
                    if isinstance(rule, dict):
                        return rule
    return None
