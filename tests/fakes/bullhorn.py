# SPDX-License-Identifier: MIT
"""A fake Bullhorn: data-centre discovery, the OAuth server, the REST login and the REST API
(entity, search, query, settings, ping), validating requests the way Bullhorn documents them.

Served in-process as an httpx handler (``httpx.MockTransport(fake.handler)``) or on a loopback
port (``tests.fakes.loopback.LoopbackServer(fake.handler)``, then :meth:`BullhornFake.serve_at`).
Requests are routed by host and path, as Bullhorn's hosts are separate:

===============================  ===============================================================
``GET  {public}/rest-services/loginInfo?username=``   the user's data centre: ``oauthUrl``, ``restUrl``
``GET  {oauthUrl}/authorize``                          the browser sign-in (answers with a 302)
``POST {oauthUrl}/token?grant_type=...``               codes and refresh tokens, in the query string
``POST {loginRestUrl}/login?version=&access_token=``   the REST session: ``BhRestToken`` + ``restUrl``
``{restUrl}...``                                       the API, with the ``BhRestToken`` header
===============================  ===============================================================

Every rule below names its source in brackets:

- [intro] ``bullhorn/rest-api-docs`` ``source/includes/_intro.md`` (HEAD 5fd130b): loginInfo by
  username; a wrong data centre answers 307 to the right one.
- [authz] ``_authorization.md``: no ``BhRestToken`` → 412; a bad or expired one → 401; the token
  may come as a header (``BhRestToken``/``BHRestToken``), a query parameter or a cookie.
- [login] ``_login.md``: ``access_token`` and ``version`` required, ``ttl`` (minutes) optional;
  the answer is ``{"BhRestToken", "restUrl"}``; "Invalid or expired OAuth access token."
- [ping] ``_ping.md``: ``{"sessionExpires": <epoch ms>}``.
- [entity] ``_entity.md``: GET needs ``fields`` (or ``layout``), ``id`` always comes back, an
  unknown id is 404; PUT creates (``{"changedEntityId", "changeType": "INSERT"}``), to-one
  associations as ``{"id": n}`` only, no to-many associations in a PUT, unknown fields 400,
  mandatory fields without a default 400; POST updates, read-only properties cannot be changed;
  DELETE removes a hard-deletable entity such as NoteEntity.
- [get] ``get.md``: the ``fields`` syntax (``a,b(c,d),e[3](f)``), ``fields=*`` blocked, to-one
  and to-many with no sub-fields give ``id``, to-many at the top level only, 5 items by default,
  10 at most.
- [search] ``_search.md``: Lucene ``query``, ``fields`` required for records (else ids only),
  ``count``/``start``/``sort``; a POST takes ``{"query": ...}`` in the body; searchable entities
  listed there (Candidate, ClientContact, JobOrder, Lead, Note, Placement, ...); ``_score`` on each
  record; unknown fields in ``fields`` → 404 (the page's warning).
- [query] ``_query.md``: JPQL ``where`` (compound names through to-one associations, ``AND``,
  ``true``/``false``, datetimes as UNIX milliseconds), ``fields``, ``count``, ``start``,
  ``orderBy``; unknown fields → 404.
- [settings] ``_settings.md``: ``GET settings/a,b`` answers ``{"a": ..., "b": ...}``;
  ``commentActionList`` is an array of strings. [sdk-settings] ``bullhorn/sdk-rest``
  ``Settings.java`` names ``userId``, ``corporationName``, ``corporationId`` and
  ``isNoteActionRequired``.
- [errors] ``_errors.md``: the status codes; 429 "Wait 1 second then retry request" (no
  ``Retry-After`` is documented, so none is sent).
- [note], [noteentity], [candidate], [clientcontact], [lead], [corporateuser], [joborder],
  [placement], [jobsubmission]: ``source/includes/entityref/_<name>.md``: field names, types,
  lengths, not-null and read-only flags.
- [gs] https://bullhorn.github.io/Getting-Started-with-REST: the authorize URL (``client_id``,
  ``response_type=code``, ``redirect_uri``, ``state``), the token call with its parameters in the
  query string, an access token valid for 10 minutes.
- [oauth] https://bullhorn.github.io/docs/oauth: a refresh token is spent by its first use and a
  new one comes with the new access token.
- [limits] kb.bullhorn.com "API Usage Limits": up to 1,500 requests per minute.
- [sdk] ``bullhorn/sdk-rest`` ``RestApiSession.java``: ``{oauthUrl}/authorize``,
  ``{oauthUrl}/token``, ``{restUrl}/login`` from loginInfo; ``MAX_TTL`` 2880 minutes.
- [sdk216] https://github.com/bullhorn/sdk-rest/issues/216: a refused login answers
  ``{"errorMessageKey", "errorMessage": "Invalid or expired OAuth access token.", "errorCode": 400}``.
- [sdk217] https://github.com/bullhorn/sdk-rest/issues/217: error bodies carry ``errorMessage``
  and ``errorMessageKey``.
- [T] ``api-bureau/bullhorn-api`` ``ErrorResponse.cs`` (third party): ``errorCode`` and
  ``errors[] {propertyName, severity, type, detailMessage}``.
- [V] not documented: the fake's own choice, stricter than Bullhorn may be, so that drift in the
  adapter fails a test (an undeclared query parameter or body field, an association object with a
  key besides ``id``, an ``action`` outside ``commentActionList``, a Lucene query outside a small
  subset).

Test controls: :meth:`add_candidate`, :meth:`add_contact`, :meth:`add_lead`,
:meth:`add_job_order`, :meth:`add_placement`, :meth:`add_submission`, :meth:`person_edits`,
:meth:`issue_tokens`, :meth:`inject_failure`, :meth:`delay_next`, :meth:`revoke_grants`,
:meth:`expire_sessions`, :attr:`requests`, :attr:`now`; ``python -m tests.fakes.bullhorn --port N``
serves it with the sandbox's demo people.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from tests.fakes.oauth_grants import AuthCode, Grant, GrantStore
from tests.fakes.vendor_base import InjectedApiFaults, undeclared_param, wait_for_interrupt

CLIENT_ID = "logdesk-desktop-key"
CLIENT_SECRET = "bh-client-secret-1234"
USERNAME = "alex.agent"
CORP_TOKEN = "e999"
DEFAULT_ACTIONS = ["Inbound Call", "Outbound Call", "Left Message", "Email", "Meeting", "Reference Check"]

#: [gs] "The access token is valid for 10 minutes."
ACCESS_TOKEN_SECONDS = 600
#: [sdk] MAX_TTL: the longest REST session the SDK asks for.
MAX_SESSION_MINUTES = 2880
#: [V] the session length when ``ttl`` is not given (Bullhorn does not say).
DEFAULT_SESSION_MINUTES = 60
#: [limits] up to 1,500 requests per minute.
REQUESTS_PER_MINUTE = 1500

_BULLHORN_MAX = 2147483647


# --- the entity model ([entityref] tables) ----------------------------------------------------------


@dataclass(frozen=True)
class F:
    """One field of an entity: its kind, length, target and flags as the entity reference gives them."""

    kind: str  # int | str | bool | ts | double | to_one | to_many
    length: int | None = None
    target: str | None = None  # entity name; "Person" is any of Candidate/ClientContact/Lead/CorporateUser
    read_only: bool = False
    not_null: bool = False
    default: Any = None


_PHONE = F("str", 20)
_PEOPLE = ("Candidate", "ClientContact", "Lead", "CorporateUser")

#: Fields per entity, from entityref/_<entity>.md (only the ones the adapter or the tests touch; a
#: name outside this table is "a field that does not exist" here).
SCHEMA: dict[str, dict[str, F]] = {
    # [candidate]
    "Candidate": {
        "id": F("int", read_only=True), "firstName": F("str", 50), "lastName": F("str", 50), "name": F("str", 100),
        "phone": _PHONE, "phone2": _PHONE, "phone3": _PHONE, "mobile": _PHONE, "workPhone": _PHONE,
        "fax": _PHONE, "email": F("str", 100), "status": F("str", 100), "companyName": F("str", 100),
        "isDeleted": F("bool", not_null=True), "dateAdded": F("ts", read_only=True),
        "owner": F("to_one", target="CorporateUser"), "placements": F("to_many", target="Placement"),
    },
    # [clientcontact]
    "ClientContact": {
        "id": F("int", read_only=True), "firstName": F("str", 50), "lastName": F("str", 50), "name": F("str", 100),
        "phone": _PHONE, "phone2": _PHONE, "phone3": _PHONE, "mobile": _PHONE, "fax": _PHONE,
        "email": F("str", 60), "status": F("str", 30), "isDeleted": F("bool", not_null=True),
        "dateAdded": F("ts"), "clientCorporation": F("to_one", target="ClientCorporation"),
        "owner": F("to_one", target="CorporateUser"),
    },
    # [lead]
    "Lead": {
        "id": F("int", read_only=True), "firstName": F("str", 50), "lastName": F("str", 50), "name": F("str", 100),
        "phone": _PHONE, "phone2": _PHONE, "phone3": _PHONE, "mobile": _PHONE, "fax": _PHONE,
        "email": F("str", 100), "status": F("str", 100), "companyName": F("str", 100),
        "isDeleted": F("bool", not_null=True), "dateAdded": F("ts"),
        "clientCorporation": F("to_one", target="ClientCorporation"), "owner": F("to_one", target="CorporateUser"),
    },
    # [corporateuser]
    "CorporateUser": {
        "id": F("int", read_only=True), "firstName": F("str", 50), "lastName": F("str", 50), "name": F("str", 100),
        "username": F("str", 100), "email": F("str", 100), "phone": _PHONE, "mobile": _PHONE,
        "enabled": F("bool", read_only=True), "isDeleted": F("bool"), "masterUserID": F("int", read_only=True),
        "timeZoneOffsetEST": F("int"),
    },
    "ClientCorporation": {"id": F("int", read_only=True), "name": F("str", 100), "status": F("str", 30)},
    # [joborder]
    "JobOrder": {
        "id": F("int", read_only=True), "title": F("str", 100), "status": F("str", 200), "isOpen": F("bool"),
        "isDeleted": F("bool"), "dateAdded": F("ts"), "clientContact": F("to_one", target="ClientContact"),
        "clientCorporation": F("to_one", target="ClientCorporation"), "owner": F("to_one", target="CorporateUser"),
    },
    # [placement]
    "Placement": {
        "id": F("int", read_only=True), "status": F("str", 30), "candidate": F("to_one", target="Candidate"),
        "jobOrder": F("to_one", target="JobOrder"), "dateBegin": F("ts"), "dateEnd": F("ts"),
    },
    # [jobsubmission]
    "JobSubmission": {
        "id": F("int", read_only=True), "status": F("str", 30), "candidate": F("to_one", target="Candidate"),
        "jobOrder": F("to_one", target="JobOrder"), "isDeleted": F("bool"), "dateAdded": F("ts", read_only=True),
    },
    # [note]: every field of the Note table, with its type, length and flags.
    "Note": {
        "id": F("int", read_only=True),
        "action": F("str", 30),
        "bhTimeStamp": F("str", read_only=True),
        "candidates": F("to_many", target="Candidate"),
        "clientContacts": F("to_many", target="ClientContact"),
        "commentingPerson": F("to_one", target="CorporateUser", not_null=True),
        "comments": F("str", _BULLHORN_MAX, not_null=True),
        "corporateUsers": F("to_many", target="CorporateUser"),
        "dateAdded": F("ts", not_null=True),
        "dateLastModified": F("ts", read_only=True, not_null=True),
        "entities": F("to_many", target="NoteEntity", read_only=True),
        "externalID": F("str", 100),
        "isDeleted": F("bool", not_null=True, default=False),
        "jobOrder": F("to_one", target="JobOrder"),
        "jobOrders": F("to_many", target="JobOrder", read_only=True),
        "jobShifts": F("to_many", target="JobShift", read_only=True),
        "leads": F("to_many", target="Lead", read_only=True),
        "linkedInID": F("str", 200),
        "migrateGUID": F("str", 36),
        "minutesSpent": F("int"),
        "opportunities": F("to_many", target="Opportunity", read_only=True),
        "people": F("to_many", target="Person", read_only=True),
        "personReference": F("to_one", target="Person", not_null=True),
        "placements": F("to_many", target="Placement", read_only=True),
        "primaryDepartmentName": F("str", 0),
        "truestDateAdded": F("ts"),
    },
    # [noteentity]
    "NoteEntity": {
        "id": F("int", read_only=True), "note": F("to_one", target="Note"),
        "targetEntityID": F("int", not_null=True), "targetEntityName": F("str", 50, not_null=True),
    },
}
#: [search] the entities with a Lucene index (of those this fake holds).
SEARCHABLE = frozenset({"Candidate", "ClientContact", "JobOrder", "Lead", "Note", "Placement"})
#: [noteentity] "For Candidates ClientContacts, and CorporateUsers, specify “User”... For JobOrders
#: and Placements, specify the actual entity name". Leads are people too ([note]: a note "associated
#: with a ... Lead"), so they take "User" here as well [V].
NOTE_TARGETS = {"User": _PEOPLE, "JobOrder": ("JobOrder",), "Placement": ("Placement",)}

# --- declared query parameters --------------------------------------------------------------------

#: [entity] GET entity: fields, layout, BhRestToken, meta, privateLabelId, showEditable (and
#: showReadOnly for several ids); PUT/POST/DELETE: BhRestToken only.
_ENTITY_GET = frozenset({"fields", "layout", "BhRestToken", "meta", "privateLabelId", "showEditable", "showReadOnly"})
_ENTITY_WRITE = frozenset({"BhRestToken"})
#: [search] query (GET only), fields, layout, showReadOnly, count, start, sort, meta,
#: privateLabelId, showEditable, BhRestToken.
_SEARCH = frozenset({"fields", "layout", "showReadOnly", "count", "start", "sort", "meta", "privateLabelId",
                     "showEditable", "BhRestToken"})
#: [query] where (GET only), fields, layout, showReadOnly, count, start, orderBy, meta,
#: privateLabelId, showEditable, totalOnly, BhRestToken.
_QUERY = frozenset({"fields", "layout", "showReadOnly", "count", "start", "orderBy", "meta", "privateLabelId",
                    "showEditable", "totalOnly", "BhRestToken"})
#: [login] access_token, version, ttl.
_LOGIN = frozenset({"access_token", "version", "ttl"})
#: [gs] the authorize page: client_id, response_type, redirect_uri, state; [sdk] the headless
#: variant adds action, username and password.
_AUTHORIZE = frozenset({"client_id", "response_type", "redirect_uri", "state", "action", "username", "password"})
#: [gs] the token call: grant_type, code, client_id, client_secret, redirect_uri; refresh_token
#: for the refresh grant.
_TOKEN = frozenset({"grant_type", "code", "client_id", "client_secret", "redirect_uri", "refresh_token"})

#: [settings] + [sdk-settings]: the settings this fake answers.
SETTING_NAMES = frozenset({"userId", "corporationId", "corporationName", "commentActionList", "isNoteActionRequired"})


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def error_body(status: int, message: str, key: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Bullhorn's error body: ``errorMessage`` and ``errorMessageKey`` [sdk217], ``errorCode`` and
    ``errors[]`` [T]."""
    body: dict[str, Any] = {"errorMessage": message, "errorMessageKey": key, "errorCode": status}
    if errors:
        body["errors"] = errors
    return body


def _field_error(prop: str, detail: str, kind: str = "INVALID_FIELD") -> dict[str, Any]:
    return {"propertyName": prop, "severity": "ERROR", "type": kind, "detailMessage": detail}


def _answer(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def _fail(status: int, message: str, key: str, errors: list[dict[str, Any]] | None = None) -> httpx.Response:
    return _answer(status, error_body(status, message, key, errors))


def error_envelope(status: int) -> dict[str, Any]:
    """The body an injected failure answers with, per status ([errors] words; keys [V])."""
    words = {
        400: ("Bad Request", "errors.badRequest"),
        401: ("Bad 'BhRestToken' or timed-out.", "errors.authentication.invalidRestToken"),
        403: ("Forbidden: you do not have access to this entity.", "errors.forbidden"),
        404: ("Cannot find entity of type Note.", "errors.cannotFindEntity"),
        405: ("Method Not Allowed", "errors.methodNotAllowed"),
        409: ("Conflict", "errors.conflict"),
        412: ("Missing BhRestToken.", "errors.authentication.missingRestToken"),
        422: ("Unprocessable Entity", "errors.validation"),
        429: ("Rate Limited -- Wait 1 second then retry request.", "errors.tooManyRequests"),
        503: ("Service Unavailable", "errors.serviceUnavailable"),
    }
    message, key = words.get(status, ("An internal error has occurred", "errors.internalError"))
    return error_body(status, message, key)


# --- the `fields` parameter ([get]) ---------------------------------------------------------------


@dataclass
class FieldSpec:
    name: str
    count: int | None = None
    sub: list[FieldSpec] | None = None


class FieldSyntaxError(ValueError):
    pass


def parse_fields(text: str) -> list[FieldSpec]:
    """``id,name,owner(firstName),placements[3](status)`` → specs. ``*`` is refused ([get])."""
    pos = 0

    def parse_list(closing: str | None) -> list[FieldSpec]:
        nonlocal pos
        out: list[FieldSpec] = []
        while True:
            match = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|\*)\s*").match(text, pos)
            if match is None:
                raise FieldSyntaxError(f"bad fields syntax at {pos}")
            if match.group(1) == "*":
                raise FieldSyntaxError("fields=* is no longer supported")
            spec = FieldSpec(match.group(1))
            pos = match.end()
            count = re.compile(r"\[(\d+)\]\s*").match(text, pos)
            if count is not None:
                spec.count = int(count.group(1))
                pos = count.end()
            if pos < len(text) and text[pos] == "(":
                pos += 1
                spec.sub = parse_list(")")
            out.append(spec)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            if closing is None:
                if pos != len(text):
                    raise FieldSyntaxError(f"bad fields syntax at {pos}")
                return out
            if pos < len(text) and text[pos] == closing:
                pos += 1
                while pos < len(text) and text[pos] == " ":
                    pos += 1
                return out
            raise FieldSyntaxError(f"bad fields syntax at {pos}")

    if not text.strip():
        raise FieldSyntaxError("empty fields")
    return parse_list(None)


# --- Lucene ([search]): a small subset ------------------------------------------------------------

_LUCENE_TOKEN = re.compile(
    r'\s*(?:(?P<open>\()|(?P<close>\))|(?P<op>AND|OR|NOT)(?=[\s(])|'
    r'(?P<field>[A-Za-z_][A-Za-z0-9_.]*):(?:"(?P<phrase>(?:[^"\\]|\\.)*)"|(?P<term>[A-Za-z0-9_.*]+)))'
)


def analyze(text: str) -> list[str]:
    """How the fake's index splits a value into terms: letters and digits, lower case [V]."""
    return re.findall(r"[a-z0-9]+", text.lower())


class LuceneError(ValueError):
    pass


def parse_lucene(query: str) -> list[Any]:
    """Tokens of a query in the subset the fake understands: ``field:"phrase"``, ``field:term``,
    ``AND``/``OR``/``NOT`` and parentheses. Anything else is refused [V]."""
    tokens: list[Any] = []
    pos = 0
    query = query.strip()
    while pos < len(query):
        match = _LUCENE_TOKEN.match(query, pos)
        if match is None or match.end() == pos:
            raise LuceneError(f"Cannot parse '{query}': Encountered unexpected text at position {pos}")
        pos = match.end()
        if match.group("open"):
            tokens.append("(")
        elif match.group("close"):
            tokens.append(")")
        elif match.group("op"):
            tokens.append(match.group("op"))
        else:
            phrase = match.group("phrase")
            value = re.sub(r"\\(.)", r"\1", phrase) if phrase is not None else match.group("term")
            tokens.append(("clause", match.group("field"), value, phrase is not None))
        while pos < len(query) and query[pos] == " ":
            pos += 1
    return tokens


def lucene_matcher(tokens: list[Any], matches: Any) -> Any:
    """A predicate over records from parsed tokens; ``matches(record, field, value, quoted)``."""
    pos = 0

    def expr() -> Any:
        nonlocal pos
        left = unary()
        while pos < len(tokens) and tokens[pos] != ")":
            op = tokens[pos]
            if op in ("AND", "OR"):
                pos += 1
            else:
                op = "OR"  # Lucene's default operator between clauses
            right = unary()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right) if op == "AND" else (
                (lambda a, b: lambda r: a(r) or b(r))(left, right)
            )
        return left

    def unary() -> Any:
        nonlocal pos
        if pos >= len(tokens):
            raise LuceneError("Cannot parse: the query ends too early")
        token = tokens[pos]
        if token == "NOT":
            pos += 1
            inner = unary()
            return lambda r: not inner(r)
        if token == "(":
            pos += 1
            inner = expr()
            if pos >= len(tokens) or tokens[pos] != ")":
                raise LuceneError("Cannot parse: unbalanced parentheses")
            pos += 1
            return inner
        if isinstance(token, tuple):
            pos += 1
            _, field, value, quoted = token
            return lambda r: matches(r, field, value, quoted)
        raise LuceneError(f"Cannot parse: unexpected {token!r}")

    predicate = expr()
    if pos != len(tokens):
        raise LuceneError("Cannot parse: unbalanced parentheses")
    return predicate


# --- JPQL ([query]): conjunctions of comparisons --------------------------------------------------

_JPQL_CONDITION = re.compile(
    r"^\s*(?P<path>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op><>|>=|<=|=|<|>)\s*"
    r"(?P<value>-?\d+|'(?:[^']|'')*'|true|false)\s*$",
    re.IGNORECASE,
)


class JpqlError(ValueError):
    pass


def parse_where(where: str) -> list[tuple[str, str, Any]]:
    """``a.b = 1 AND c = 'x'`` → ``[(path, op, value)]``; ``AND`` only [V]."""
    out: list[tuple[str, str, Any]] = []
    for part in re.split(r"\s+AND\s+", where.strip(), flags=re.IGNORECASE):
        match = _JPQL_CONDITION.match(part)
        if match is None:
            raise JpqlError(f"Invalid where clause: {part!r}")
        raw = match.group("value")
        value: Any
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        elif raw.startswith("'"):
            value = raw[1:-1].replace("''", "'")
        else:
            value = int(raw)
        out.append((match.group("path"), match.group("op"), value))
    return out


# --- the fake ---------------------------------------------------------------------------------------


class BullhornFake(InjectedApiFaults):
    """One Bullhorn corporation in one data centre, with its OAuth server.

    Args:
        public_url: where ``loginInfo`` answers (``https://rest.bullhornstaffing.com``).
        oauth_url: the data centre's OAuth base, as ``loginInfo`` names it.
        login_url: the data centre's REST base for ``/login``, as ``loginInfo`` names it.
        api_url: the corporation's swimlane; ``restUrl`` is ``{api_url}/rest-services/{corp}/``.
        other_data_centres: hosts of other data centres: a request there answers 307 to the same
            path on this one [intro].
        actions: the corporation's ``commentActionList``.
        note_action_required: the ``isNoteActionRequired`` setting.
        requests_per_minute: the rate limit [limits].
        start: the fake's clock at creation.
    """

    def __init__(
        self,
        *,
        public_url: str = "https://rest.bullhornstaffing.com",
        oauth_url: str = "https://auth-east.bullhornstaffing.com/oauth",
        login_url: str = "https://rest-east.bullhornstaffing.com/rest-services",
        api_url: str = "https://rest42.bullhornstaffing.com",
        other_data_centres: tuple[str, ...] = (),
        actions: list[str] | None = None,
        note_action_required: bool = False,
        requests_per_minute: int = REQUESTS_PER_MINUTE,
        start: datetime | None = None,
    ) -> None:
        self.public_url, self.oauth_url, self.login_url, self.api_url = public_url, oauth_url, login_url, api_url
        self.other_data_centres = other_data_centres
        self.actions = list(DEFAULT_ACTIONS if actions is None else actions)
        self.note_action_required = note_action_required
        self.requests_per_minute = requests_per_minute
        self.now = start or datetime(2026, 9, 30, 14, 0, tzinfo=UTC)
        self.real_time = False
        self.clients: dict[str, dict[str, Any]] = {
            CLIENT_ID: {"secret": CLIENT_SECRET, "refresh_tokens": True, "loopback_any_port": True, "redirects": set()}
        }
        self.records: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in SCHEMA}
        self.requests: list[httpx.Request] = []
        self.grants = GrantStore(lambda: self.now)
        self.sessions: dict[str, dict[str, Any]] = {}
        self.max_session_minutes = MAX_SESSION_MINUTES
        self.deny_next_authorize = False
        self._sent: deque[datetime] = deque()
        self._person_ids = itertools.count(1001)
        self._ids = {name: itertools.count(start) for name, start in (
            ("ClientCorporation", 301), ("JobOrder", 501), ("Placement", 701), ("JobSubmission", 801),
            ("Note", 9001), ("NoteEntity", 20001),
        )}
        self._init_faults(error_envelope)
        self.corp_name = "Acme Staffing"
        self.user_id = self._add_person("CorporateUser", {
            "firstName": "Alex", "lastName": "Agent", "name": "Alex Agent", "username": USERNAME,
            "email": "alex@acme-staffing.test", "enabled": True, "isDeleted": False, "masterUserID": 42,
        })
        self.usernames = {USERNAME: self.user_id}

    # --- where things live ----------------------------------------------------------------------

    @property
    def rest_url(self) -> str:
        """What the login answers as ``restUrl``: the corporation's API base."""
        return f"{self.api_url}/rest-services/{CORP_TOKEN}/"

    def serve_at(self, base_url: str) -> None:
        """Every Bullhorn host at one loopback base URL (the paths still tell them apart)."""
        self.public_url = base_url
        self.oauth_url = f"{base_url}/oauth"
        self.login_url = f"{base_url}/rest-services"
        self.api_url = base_url

    # --- test controls --------------------------------------------------------------------------

    def _add_person(self, kind: str, fields: dict[str, Any]) -> int:
        pid = next(self._person_ids)
        self.records[kind][pid] = {"id": pid, "dateAdded": _ms(self.now), "isDeleted": False, **fields}
        return pid

    def _person_fields(self, name: str, phone: str, extra: dict[str, Any]) -> dict[str, Any]:
        first, _, last = name.rpartition(" ")
        return {"firstName": first or None, "lastName": last, "name": name, "phone": phone,
                "owner": self.user_id, "status": "Active", **extra}

    def add_contact(self, name: str, phone: str, *, company: str = "Analytical Engines", **fields: Any) -> int:
        """A ClientContact whose ``phone`` is stored exactly as given."""
        corp = next((cid for cid, c in self.records["ClientCorporation"].items() if c["name"] == company), None)
        if corp is None:
            corp = next(self._ids["ClientCorporation"])
            self.records["ClientCorporation"][corp] = {"id": corp, "name": company, "status": "Active Account"}
        fields = {"clientCorporation": corp, **fields}
        return self._add_person("ClientContact", self._person_fields(name, phone, fields))

    def add_candidate(self, name: str, phone: str, **fields: Any) -> int:
        return self._add_person("Candidate", self._person_fields(name, phone, fields))

    def add_lead(self, name: str, phone: str, **fields: Any) -> int:
        return self._add_person("Lead", self._person_fields(name, phone, fields))

    def add_colleague(self, name: str, username: str) -> int:
        """Another CorporateUser of the corporation (who can sign in and write notes too)."""
        first, _, last = name.rpartition(" ")
        uid = self._add_person("CorporateUser", {
            "firstName": first or None, "lastName": last, "name": name, "username": username, "enabled": True,
        })
        self.usernames[username] = uid
        return uid

    def add_job_order(
        self, title: str, contact_id: int, *, status: str = "Accepting Candidates", is_open: bool = True
    ) -> int:
        jid = next(self._ids["JobOrder"])
        contact = self.records["ClientContact"][contact_id]
        self.records["JobOrder"][jid] = {
            "id": jid, "title": title, "status": status, "isOpen": is_open, "isDeleted": False,
            "dateAdded": _ms(self.now), "clientContact": contact_id,
            "clientCorporation": contact.get("clientCorporation"), "owner": self.user_id,
        }
        return jid

    def add_placement(self, candidate_id: int, job_id: int, *, status: str = "Approved") -> int:
        pid = next(self._ids["Placement"])
        self.records["Placement"][pid] = {
            "id": pid, "status": status, "candidate": candidate_id, "jobOrder": job_id, "dateBegin": _ms(self.now),
        }
        return pid

    def add_submission(self, candidate_id: int, job_id: int, *, status: str = "Submitted") -> int:
        sid = next(self._ids["JobSubmission"])
        self.records["JobSubmission"][sid] = {
            "id": sid, "status": status, "candidate": candidate_id, "jobOrder": job_id, "isDeleted": False,
            "dateAdded": _ms(self.now),
        }
        return sid

    def person_edits(self, note_id: int, *, comments: str | None = None, action: str | None = None) -> None:
        """Someone edits the note in Bullhorn: the fields change and ``dateLastModified`` moves on
        (to the fake's clock, which may not have moved: Bullhorn times have millisecond grain)."""
        note = self.records["Note"][note_id]
        if comments is not None:
            note["comments"] = comments
        if action is not None:
            note["action"] = action
        note["dateLastModified"] = _ms(self.now)

    def revoke_grants(self) -> None:
        """The key was disabled or the user's access removed: no token or refresh token works again."""
        self.grants.revoke_all()
        self.sessions.clear()

    def expire_sessions(self) -> None:
        """Every REST session ends now (Bullhorn ended them early: a password change, maintenance)."""
        for session in self.sessions.values():
            session["expires"] = self.now

    def issue_tokens(self, *, username: str = USERNAME) -> dict[str, Any]:
        """A token response as if the user had signed in (for tests that are not about sign-in)."""
        grant = self._new_grant(CLIENT_ID, self.usernames[username])
        return self._token_response(grant)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith(f"/rest-services/{CORP_TOKEN}/")]

    def notes(self) -> dict[int, dict[str, Any]]:
        return self.records["Note"]

    # --- dispatch -------------------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        request.read()
        if self.real_time:
            self.now = datetime.now(UTC)
        self.requests.append(request)
        path = request.url.path
        moved = self._other_data_centre(request)
        if moved is not None:
            return moved
        if path == "/rest-services/loginInfo" and request.method == "GET":
            if not (self._on(request, self.public_url) or self._on(request, self.login_url)):
                return httpx.Response(404, text="Not found")
            return self._login_info(request.url.params)
        if self._on(request, self.oauth_url) and path.startswith(urlsplit(self.oauth_url).path + "/"):
            return self._oauth(request)
        if path == "/rest-services/login" and self._on(request, self.login_url):
            return self._login(request)
        api_prefix = f"/rest-services/{CORP_TOKEN}/"
        if path.startswith(api_prefix) and self._on(request, self.api_url):
            return self._api(request, path[len(api_prefix):])
        return httpx.Response(404, text="Not found")

    @staticmethod
    def _on(request: httpx.Request, base: str) -> bool:
        want = urlsplit(base)
        port = want.port or (443 if want.scheme == "https" else 80)
        return request.url.host == want.hostname and (request.url.port or port) == port

    def _other_data_centre(self, request: httpx.Request) -> httpx.Response | None:
        """[intro] "If you do not use the correct URLs for a user, you will receive a 307 redirect to
        the correct data center": the same path and query on this data centre's host."""
        if request.url.host not in self.other_data_centres:
            return None
        path = request.url.path
        if path.startswith("/oauth/"):
            base = self.oauth_url.rsplit("/oauth", 1)[0]
        elif path.startswith(f"/rest-services/{CORP_TOKEN}/"):
            base = self.api_url
        else:
            base = self.login_url.rsplit("/rest-services", 1)[0]
        target = f"{base}{path}" + (f"?{request.url.query.decode()}" if request.url.query else "")
        return httpx.Response(307, headers={"Location": target})

    # --- data-centre discovery ([intro], [sdk]) --------------------------------------------------

    def _login_info(self, q: httpx.QueryParams) -> httpx.Response:
        name = undeclared_param(q, {"username"})
        if name is not None:
            return _fail(400, f"Unknown parameter: {name}", "errors.badRequest")
        if q.get("username") not in self.usernames:
            # [V] what Bullhorn answers for an unknown username is not documented.
            return _fail(400, "Invalid username.", "errors.loginInfo.invalidUsername")
        # [sdk] reads oauthUrl and restUrl; third-party clients list more (atsUrl, dataCenterId) [T].
        return _answer(200, {
            "atsUrl": "https://cls42.bullhornstaffing.com",
            "oauthUrl": self.oauth_url,
            "restUrl": self.login_url,
            "dataCenterId": 2,
        })

    # --- OAuth ([gs], [oauth]) ------------------------------------------------------------------

    def _oauth(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path[len(urlsplit(self.oauth_url).path):]
        if path == "/authorize" and request.method in ("GET", "POST"):
            return self._authorize(request.url.params)
        if path == "/token" and request.method == "POST":
            # [gs]/[sdk]: the parameters go in the query string; a form body is not read [V].
            return self._token(request.url.params)
        return httpx.Response(404, text="Not found")

    def _authorize(self, q: httpx.QueryParams) -> httpx.Response:
        client = self.clients.get(q.get("client_id", ""))
        redirect_uri = q.get("redirect_uri", "")
        page = {"Content-Type": "text/html"}
        if client is None:
            return httpx.Response(400, text="<html><body>Invalid client id</body></html>", headers=page)
        if undeclared_param(q, _AUTHORIZE) is not None:
            return httpx.Response(400, text="<html><body>Invalid request</body></html>", headers=page)
        if not self._redirect_registered(client, redirect_uri):
            return httpx.Response(400, text="<html><body>Invalid redirect_uri</body></html>", headers=page)

        def back(params: dict[str, str]) -> httpx.Response:
            return httpx.Response(302, headers={"Location": f"{redirect_uri}?{urlencode(params)}"})

        state = q.get("state", "")
        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type", "state": state})
        if self.deny_next_authorize:
            self.deny_next_authorize = False
            return back({"error": "access_denied", "error_description": "User denied access", "state": state})
        code = self.grants.add_code(
            f"{secrets.randbelow(10**6)}:{secrets.token_hex(16)}",
            AuthCode(q["client_id"], redirect_uri, None, self.now + timedelta(minutes=2), user_id=str(self.user_id)),
        )
        return back({"code": code, "client_id": q["client_id"], "state": state})

    @staticmethod
    def _redirect_registered(client: dict[str, Any], uri: str) -> bool:
        """The key's registered redirect URI ([gs] "provided to Bullhorn when registered"); a
        loopback URI on any port counts when the key allows it, so tests can use free ports [V]."""
        if uri in client["redirects"]:
            return True
        parts = urlsplit(uri)
        return bool(client["loopback_any_port"]) and parts.scheme == "http" and parts.hostname == "127.0.0.1"

    def _token(self, q: httpx.QueryParams) -> httpx.Response:
        name = undeclared_param(q, _TOKEN)
        if name is not None:
            return _answer(400, {"error": "invalid_request", "error_description": f"Unknown parameter {name}"})
        client = self.clients.get(q.get("client_id", ""))
        if client is None or q.get("client_secret") != client["secret"]:
            return _answer(401, {"error": "invalid_client", "error_description": "Bad client credentials"})
        grant_type = q.get("grant_type")
        if grant_type == "authorization_code":
            code = self.grants.redeem_code(
                q.get("code", ""), client_id=q["client_id"], redirect_uri=q.get("redirect_uri"), verifier=""
            )
            if isinstance(code, str):
                return _answer(400, {"error": "invalid_grant", "error_description": "Invalid authorization code"})
            return _answer(200, self._token_response(self._new_grant(code.client_id, int(code.user_id))))
        if grant_type == "refresh_token":
            grant = self.grants.by_refresh(q.get("refresh_token", ""), q["client_id"])
            if grant is None:
                return _answer(400, {"error": "invalid_grant", "error_description": "Invalid refresh token"})
            # [oauth] "A refresh token expires after it is used once": the grant moves to a new one.
            self.grants.revoke(grant, forget_access=False)
            return _answer(200, self._token_response(self._new_grant(grant.client_id, int(grant.user_id))))
        if grant_type is None:
            return _answer(400, {"error": "invalid_request", "error_description": "Missing grant type"})
        return _answer(400, {"error": "unsupported_grant_type", "error_description": grant_type})

    def _new_grant(self, client_id: str, user_id: int) -> Grant:
        refresh = f"{secrets.randbelow(10**6)}:{secrets.token_hex(16)}"
        return self.grants.add_grant(refresh, Grant(client_id, (), str(user_id), refresh_token=refresh))

    def _token_response(self, grant: Grant) -> dict[str, Any]:
        access = self.grants.issue_access(
            grant,
            f"{secrets.randbelow(10**6)}:{secrets.token_hex(16)}",
            self.now + timedelta(seconds=ACCESS_TOKEN_SECONDS),
        )
        body: dict[str, Any] = {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TOKEN_SECONDS}
        if self.clients[grant.client_id]["refresh_tokens"]:
            body["refresh_token"] = grant.refresh_token
        return body

    # --- the REST login ([login]) ----------------------------------------------------------------

    def _login(self, request: httpx.Request) -> httpx.Response:
        q = request.url.params
        name = undeclared_param(q, _LOGIN)
        if name is not None:
            return _fail(400, f"Unknown parameter: {name}", "errors.badRequest")
        if not q.get("version"):
            return _fail(400, "Missing required parameter: version", "errors.missingParameter")
        found = self.grants.find_access(q.get("access_token", ""))
        if found is None or found[1] <= self.now:
            # [sdk216]: HTTP 400, errorCode 400, with the message [login] documents.
            return _fail(400, "Invalid or expired OAuth access token.", "errors.internalError")
        ttl_text = q.get("ttl")
        if ttl_text is not None and not ttl_text.isdigit():
            return _fail(400, "ttl must be a whole number of minutes", "errors.badRequest")
        minutes = min(int(ttl_text) if ttl_text else DEFAULT_SESSION_MINUTES, self.max_session_minutes)
        token = str(secrets.token_hex(16))
        token = f"{token[:8]}-{token[8:12]}-{token[12:16]}-{token[16:20]}-{token[20:]}"
        self.sessions[token] = {"user": int(found[0].user_id), "expires": self.now + timedelta(minutes=minutes)}
        return _answer(200, {"BhRestToken": token, "restUrl": self.rest_url})

    # --- the API --------------------------------------------------------------------------------

    def _api(self, request: httpx.Request, rest: str) -> httpx.Response:
        token = request.headers.get("BhRestToken") or request.url.params.get("BhRestToken")
        if not token:
            cookie = re.search(r"(?:^|;\s*)BhRestToken=([^;]+)", request.headers.get("Cookie", ""))
            token = cookie.group(1) if cookie else None
        if not token:
            # [authz] "does not include a BhRestToken, the server sends ... 412"
            return _fail(412, "Missing BhRestToken.", "errors.authentication.missingRestToken")
        session = self.sessions.get(token)
        if session is None or session["expires"] <= self.now:
            # [authz] "an invalid session key, the server returns response status 401"
            return _fail(401, "Bad 'BhRestToken' or timed-out.", "errors.authentication.invalidRestToken")
        injected = self._injected_answer(request, lambda r: self._answer_api(r, rest))
        if injected is not None:
            return injected
        limited = self._rate_limited()
        if limited is not None:
            return limited
        return self._answer_api(request, rest)

    def _rate_limited(self) -> httpx.Response | None:
        """[limits] 1,500 requests a minute; [errors] 429 "Wait 1 second then retry request"."""
        while self._sent and self._sent[0] <= self.now - timedelta(minutes=1):
            self._sent.popleft()
        if len(self._sent) >= self.requests_per_minute:
            return _fail(429, "Rate Limited -- Wait 1 second then retry request.", "errors.tooManyRequests")
        self._sent.append(self.now)
        return None

    def _answer_api(self, request: httpx.Request, rest: str) -> httpx.Response:
        parts = rest.split("/")
        method, q = request.method, request.url.params
        token = request.headers.get("BhRestToken") or q.get("BhRestToken", "")
        if parts == ["ping"] and method == "GET":
            return _answer(200, {"sessionExpires": _ms(self.sessions[token]["expires"])})
        if parts == ["logout"] and method == "GET":
            self.sessions.pop(token, None)  # [login] "Log out and invalidate your REST session."
            return _answer(200, {"logout": "OK"})
        if len(parts) == 2 and parts[0] == "settings" and method == "GET":
            return self._settings(parts[1], q)
        if len(parts) == 2 and parts[0] == "search" and method in ("GET", "POST"):
            return self._search(parts[1], request)
        if len(parts) == 2 and parts[0] == "query" and method in ("GET", "POST"):
            return self._query(parts[1], request)
        if parts[0] == "entity" and len(parts) in (2, 3):
            entity = parts[1]
            if entity not in SCHEMA:
                return _fail(404, f"Unknown entity type: {entity}", "errors.unknownEntity")
            if len(parts) == 3 and method == "GET":
                return self._get_entity(entity, parts[2], q)
            if len(parts) == 2 and method == "PUT":
                return self._create(entity, request)
            if len(parts) == 3 and method == "POST":
                return self._update(entity, parts[2], request)
            if len(parts) == 3 and method == "DELETE":
                return self._delete(entity, parts[2], q)
            return _fail(405, "Method Not Allowed", "errors.methodNotAllowed")
        return _fail(404, "Not Found", "errors.notFound")

    def _settings(self, names: str, q: httpx.QueryParams) -> httpx.Response:
        name = undeclared_param(q, {"BhRestToken"})
        if name is not None:
            return _fail(400, f"Unknown parameter: {name}", "errors.badRequest")
        values = {
            "userId": self.user_id, "corporationId": 1042, "corporationName": self.corp_name,
            "commentActionList": list(self.actions), "isNoteActionRequired": self.note_action_required,
        }
        wanted = [n for n in names.split(",") if n]
        unknown = [n for n in wanted if n not in SETTING_NAMES]
        if unknown or not wanted:
            return _fail(400, f"Unknown setting: {','.join(unknown)}", "errors.invalidSetting")  # [V]
        return _answer(200, {n: values[n] for n in wanted})

    # --- reading records ------------------------------------------------------------------------

    def _record_type(self, record_id: int) -> str | None:
        for kind in _PEOPLE:
            if record_id in self.records[kind]:
                return kind
        return None

    def _target_record(self, target: str, record_id: int) -> tuple[str, dict[str, Any]] | None:
        kind = self._record_type(record_id) if target == "Person" else target
        if kind is None or kind not in self.records or record_id not in self.records[kind]:
            return None
        return kind, self.records[kind][record_id]

    def _to_many(self, entity: str, record: dict[str, Any], name: str) -> list[tuple[str, dict[str, Any]]]:
        """The members of a to-many association (derived, as Bullhorn derives them from NoteEntity)."""
        out: list[tuple[str, dict[str, Any]]] = []
        if entity == "Note":
            links = [e for e in self.records["NoteEntity"].values() if e["note"] == record["id"]]
            if name == "entities":
                return [("NoteEntity", e) for e in links]
            for link in links:
                found = self._target_record("Person" if link["targetEntityName"] == "User" else
                                            link["targetEntityName"], link["targetEntityID"])
                if found is None:
                    continue
                kind = found[0]
                wanted = {"candidates": "Candidate", "clientContacts": "ClientContact", "leads": "Lead",
                          "corporateUsers": "CorporateUser", "jobOrders": "JobOrder", "placements": "Placement"}
                if (name == "people" and kind in _PEOPLE) or wanted.get(name) == kind:
                    out.append(found)
            return out
        if entity == "Candidate" and name == "placements":
            return [("Placement", p) for p in self.records["Placement"].values() if p["candidate"] == record["id"]]
        return out

    def _project(self, entity: str, record: dict[str, Any], specs: list[FieldSpec], *, top: bool) -> dict[str, Any]:
        """``record`` as the API shows it for ``fields`` ([get]); raises KeyError for an unknown field."""
        schema = SCHEMA[entity]
        out: dict[str, Any] = {"id": record["id"]}
        for spec in specs:
            meta = schema.get(spec.name)
            if meta is None:
                raise KeyError(spec.name)
            value = record.get(spec.name)
            if meta.kind == "to_one":
                if value is None:
                    out[spec.name] = None
                    continue
                found = self._target_record(meta.target or "", int(value))
                if found is None:
                    out[spec.name] = None
                    continue
                kind, target = found
                out[spec.name] = self._project(kind, target, spec.sub or [], top=False)
            elif meta.kind == "to_many":
                if not top:
                    raise KeyError(spec.name)  # [get] to-many fields can only appear at the top level
                members = self._to_many(entity, record, spec.name)
                limit = min(spec.count or 5, 10)
                out[spec.name] = {
                    "total": len(members),
                    "data": [self._project(kind, m, spec.sub or [], top=False) for kind, m in members[:limit]],
                }
            else:
                if spec.sub:
                    raise KeyError(spec.name)
                out[spec.name] = value
        return out

    def _fields(self, q: httpx.QueryParams) -> list[FieldSpec] | httpx.Response | None:
        text = q.get("fields")
        if text is None:
            return None
        try:
            return parse_fields(text)
        except FieldSyntaxError as exc:
            return _fail(400, str(exc), "errors.badRequest")

    def _projected(
        self, entity: str, rows: list[dict[str, Any]], specs: list[FieldSpec]
    ) -> list[dict[str, Any]] | httpx.Response:
        try:
            return [self._project(entity, row, specs, top=True) for row in rows]
        except KeyError as exc:
            # [entity]/[search]/[query]: "Returns an HTTP 404 ... if fields are specified that do not exist"
            return _fail(404, f"Invalid field '{exc.args[0]}' for entity {entity}.", "errors.invalidField")

    def _get_entity(self, entity: str, ids: str, q: httpx.QueryParams) -> httpx.Response:
        name = undeclared_param(q, _ENTITY_GET)
        if name is not None:
            return _fail(400, f"Unknown parameter: {name}", "errors.badRequest")
        specs = self._fields(q)
        if isinstance(specs, httpx.Response):
            return specs
        if specs is None and not q.get("layout"):
            # [entity] "At least one of the required parameters(fields and layout) ... must be specified."
            return _fail(400, "fields or layout is required", "errors.missingParameter")
        if not re.fullmatch(r"\d+(,\d+)*", ids):
            return _fail(400, f"Invalid id: {ids}", "errors.badRequest")
        wanted = [int(i) for i in ids.split(",")]
        rows = [self.records[entity][i] for i in wanted if i in self.records[entity]]
        if not rows:
            # [entity] "Returns an HTTP 404 error if the requested entity cannot be found."
            return _fail(404, f"Cannot find entity of type {entity} with id {ids}.", "errors.cannotFindEntity")
        projected = self._projected(entity, rows, specs or [])
        if isinstance(projected, httpx.Response):
            return projected
        if len(wanted) == 1:
            # [entity] shows the record at the top level; [sdk] StandardBullhornData.handleGetEntity
            # reads it from the wrapper's "data", as App Connect does: that is followed here.
            return _answer(200, {"data": projected[0]})
        return _answer(200, {"data": projected})

    def _paging(self, q: httpx.QueryParams) -> tuple[int, int] | httpx.Response:
        try:
            count = int(q.get("count", "20"))
            start = int(q.get("start", "0"))
        except ValueError:
            return _fail(400, "count and start must be whole numbers", "errors.badRequest")
        return start, min(count, 500)

    def _search(self, entity: str, request: httpx.Request) -> httpx.Response:
        q = request.url.params
        if entity not in SEARCHABLE:
            return _fail(404, f"Entity {entity} does not support search.", "errors.unknownEntity")
        declared = _SEARCH | ({"query"} if request.method == "GET" else set())
        name = undeclared_param(q, declared)
        if name is not None:
            return _fail(400, f"Unknown parameter: {name}", "errors.badRequest")
        if request.method == "POST":
            try:
                raw_body = json.loads(request.content or b"null")
            except ValueError:
                return _fail(400, "The body is not JSON.", "errors.badRequest")
            if not isinstance(raw_body, dict) or set(raw_body) - {"query"}:
                extra = sorted(set(raw_body) - {"query"}) if isinstance(raw_body, dict) else ["(body)"]
                return _fail(400, f"Unknown field: {extra[0]}", "errors.badRequest",
                             [_field_error(extra[0], "not a search parameter")])
            query = raw_body.get("query")
        else:
            query = q.get("query")
        if not isinstance(query, str) or not query.strip():
            return _fail(400, "Missing required parameter: query", "errors.missingParameter")
        try:
            tokens = parse_lucene(query)
            for token in tokens:
                field = SCHEMA[entity].get(token[1], F("to_many")) if isinstance(token, tuple) else None
                if field is not None and field.kind in ("to_one", "to_many"):
                    raise KeyError(token[1])
            predicate = lucene_matcher(tokens, lambda r, f, v, quoted: self._lucene_match(entity, r, f, v))
            rows = [r for r in self.records[entity].values() if predicate(r)]
        except LuceneError as exc:
            return _fail(400, str(exc), "errors.invalidSearchQuery")
        except KeyError as exc:
            return _fail(400, f"Unknown search field '{exc.args[0]}' for {entity}.", "errors.invalidSearchQuery")
        paging = self._paging(q)
        if isinstance(paging, httpx.Response):
            return paging
        start, count = paging
        specs = self._fields(q)
        if isinstance(specs, httpx.Response):
            return specs
        chunk = rows[start:start + count]
        if specs is None:
            # [search] "If parameter "fields" or "layout" is not present, the search returns the list of ids"
            ids = [r["id"] for r in chunk]
            return _answer(200, {"total": len(rows), "start": start, "count": len(chunk), "data": ids})
        projected = self._projected(entity, chunk, specs)
        if isinstance(projected, httpx.Response):
            return projected
        for item in projected:
            item["_score"] = 1.0
        return _answer(200, {"total": len(rows), "start": start, "count": len(projected), "data": projected})

    def _lucene_match(self, entity: str, record: dict[str, Any], field: str, value: str) -> bool:
        meta = SCHEMA[entity].get(field)
        if meta is None or meta.kind in ("to_one", "to_many"):
            raise KeyError(field)
        stored = record.get(field)
        if meta.kind == "bool":
            return bool(stored) == (value.lower() in ("1", "true"))
        if meta.kind in ("int", "ts"):
            return str(stored) == value
        wanted = analyze(value)
        terms = analyze(stored or "") if isinstance(stored, str) else []
        if not wanted:
            return False
        # A phrase matches where its terms appear in a row; Lucene does not anchor it to the whole
        # value, so "555 0123" also finds "(415) 555-0123" [T: Bullhorn support forum].
        return any(terms[i:i + len(wanted)] == wanted for i in range(len(terms) - len(wanted) + 1))

    def _query(self, entity: str, request: httpx.Request) -> httpx.Response:
        q = request.url.params
        declared = _QUERY | ({"where"} if request.method == "GET" else set())
        name = undeclared_param(q, declared)
        if name is not None:
            return _fail(400, f"Unknown parameter: {name}", "errors.badRequest")
        where = q.get("where")
        if request.method == "POST":
            try:
                raw_body = json.loads(request.content or b"null")
            except ValueError:
                return _fail(400, "The body is not JSON.", "errors.badRequest")
            where = raw_body.get("where") if isinstance(raw_body, dict) else None
        if not isinstance(where, str) or not where.strip():
            return _fail(400, "Missing required parameter: where", "errors.missingParameter")
        specs = self._fields(q)
        if isinstance(specs, httpx.Response):
            return specs
        if specs is None and not q.get("layout"):
            return _fail(400, "fields or layout is required", "errors.missingParameter")
        try:
            conditions = parse_where(where)
            for path, _, _ in conditions:
                self._check_path(entity, path)
            rows = [r for r in self.records[entity].values() if all(self._jpql(entity, r, c) for c in conditions)]
        except JpqlError as exc:
            return _fail(400, str(exc), "errors.invalidQuery")
        except KeyError as exc:
            return _fail(400, f"Invalid property '{exc.args[0]}' in where clause.", "errors.invalidQuery")
        order = q.get("orderBy")
        if order:
            key = order.lstrip("-")
            if key not in SCHEMA[entity]:
                return _fail(400, f"Invalid property '{key}' in orderBy.", "errors.invalidQuery")
            rows.sort(key=lambda r: (r.get(key) is None, r.get(key) or 0), reverse=order.startswith("-"))
        paging = self._paging(q)
        if isinstance(paging, httpx.Response):
            return paging
        start, count = paging
        chunk = rows[start:start + count]
        projected = self._projected(entity, chunk, specs or [])
        if isinstance(projected, httpx.Response):
            return projected
        return _answer(200, {"start": start, "count": len(projected), "data": projected})

    @staticmethod
    def _check_path(entity: str, path: str) -> None:
        """[query] a property, or a compound name through to-one associations, that exists."""
        kinds = [entity]
        names = path.split(".")
        for i, name in enumerate(names):
            metas = [SCHEMA[k][name] for k in kinds if k in SCHEMA and name in SCHEMA[k]]
            if not metas or metas[0].kind == "to_many":
                raise KeyError(path)
            last = i == len(names) - 1
            if (last and metas[0].kind == "to_one") or (not last and metas[0].kind != "to_one"):
                raise KeyError(path)
            target = metas[0].target or ""
            kinds = list(_PEOPLE) if target == "Person" else [target]

    def _jpql(self, entity: str, record: dict[str, Any], condition: tuple[str, str, Any]) -> bool:
        path, op, wanted = condition
        kind, current = entity, record
        names = path.split(".")
        for i, name in enumerate(names):
            meta = SCHEMA[kind].get(name)
            if meta is None or meta.kind == "to_many":
                raise KeyError(path)
            value = current.get(name)
            if i == len(names) - 1:
                if meta.kind == "to_one":
                    raise KeyError(path)
                return _compare(value, op, wanted)
            if meta.kind != "to_one":
                raise KeyError(path)
            if value is None:
                return False
            found = self._target_record(meta.target or "", int(value))
            if found is None:
                return False
            kind, current = found
        return False

    # --- writing records ------------------------------------------------------------------------

    def _body(self, request: httpx.Request) -> dict[str, Any] | httpx.Response:
        try:
            raw_body = json.loads(request.content or b"null")
        except ValueError:
            return _fail(400, "The body is not valid JSON.", "errors.badRequest")
        if not isinstance(raw_body, dict):
            return _fail(400, "The body must be a JSON object.", "errors.badRequest")
        return raw_body

    def _validate(self, entity: str, raw: dict[str, Any], *, creating: bool) -> httpx.Response | None:
        """[entity] unknown fields, read-only properties, to-many associations in a write, to-one
        associations as ``{"id": n}``; [note]/[noteentity] types and lengths; mandatory fields."""
        schema = SCHEMA[entity]
        for key, value in raw.items():
            meta = schema.get(key)
            if meta is None:
                return _fail(400, f"Invalid field '{key}' for entity {entity}.", "errors.validation",
                             [_field_error(key, f"{key} does not exist on {entity}", "UNKNOWN_FIELD")])
            if meta.read_only:
                return _fail(400, f"'{key}' is read-only.", "errors.validation",
                             [_field_error(key, f"{key} is read-only", "READ_ONLY")])
            if meta.kind == "to_many":
                return _fail(400, f"Cannot set to-many association '{key}' here; use an association call.",
                             "errors.validation", [_field_error(key, "to-many associations need their own call")])
            problem = self._check_value(entity, key, meta, value)
            if problem is not None:
                return _fail(400, problem, "errors.validation", [_field_error(key, problem)])
        if creating:
            for key, meta in schema.items():
                defaulted = meta.default is not None or key in ("commentingPerson", "dateAdded")
                if meta.not_null and not meta.read_only and not defaulted and raw.get(key) in (None, ""):
                    return _fail(400, f"Missing required field '{key}'.", "errors.validation",
                                 [_field_error(key, f"{key} is required", "REQUIRED")])
        return None

    def _check_value(self, entity: str, key: str, meta: F, value: Any) -> str | None:
        if value is None:
            return f"{key} cannot be null" if meta.not_null else None
        if meta.kind == "str":
            if not isinstance(value, str):
                return f"{key} must be a string"
            if meta.length is not None and len(value) > meta.length:
                return f"{key} is longer than {meta.length} characters"
            if entity == "Note" and key == "action" and value not in self.actions:
                return f"'{value}' is not in commentActionList"  # [note]: values come from it ([V] enforced)
            if entity == "NoteEntity" and key == "targetEntityName" and value not in NOTE_TARGETS:
                return f"'{value}' is not a note target"
            return None
        if meta.kind in ("int", "ts"):
            if isinstance(value, bool) or not isinstance(value, int):
                return f"{key} must be a whole number" + (" (UNIX milliseconds)" if meta.kind == "ts" else "")
            if meta.kind == "int" and not -_BULLHORN_MAX - 1 <= value <= _BULLHORN_MAX:
                return f"{key} is out of range"
            return None
        if meta.kind == "bool":
            return None if isinstance(value, bool) else f"{key} must be true or false"
        if meta.kind == "to_one":
            # [entity] "a JSON object containing one field, named 'id'" ([V] other keys refused)
            if not isinstance(value, dict) or set(value) != {"id"} or isinstance(value["id"], bool) or not isinstance(
                value["id"], int
            ):
                return f"{key} must be an object with one field, id"
            found = self._target_record(meta.target or "", value["id"])
            if found is None:
                return f"{key}: cannot find {meta.target} with id {value['id']}"
            return None
        return None

    def _stored_value(self, meta: F, value: Any) -> Any:
        return value["id"] if meta.kind == "to_one" and isinstance(value, dict) else value

    def _create(self, entity: str, request: httpx.Request) -> httpx.Response:
        name = undeclared_param(request.url.params, _ENTITY_WRITE)
        if name is not None:
            return _fail(400, f"Unknown parameter: {name}", "errors.badRequest")
        raw = self._body(request)
        if isinstance(raw, httpx.Response):
            return raw
        if entity not in ("Note", "NoteEntity"):
            return _fail(403, f"Creating {entity} is not allowed for this key.", "errors.forbidden")
        problem = self._validate(entity, raw, creating=True)
        if problem is not None:
            return problem
        schema = SCHEMA[entity]
        record: dict[str, Any] = {k: m.default for k, m in schema.items() if m.kind not in ("to_many",)}
        record.update({k: self._stored_value(schema[k], v) for k, v in raw.items()})
        rid = next(self._ids[entity])
        record["id"] = rid
        if entity == "NoteEntity":
            target_kinds = NOTE_TARGETS[record["targetEntityName"]]
            if record.get("note") is None or not any(
                record["targetEntityID"] in self.records[k] for k in target_kinds
            ):
                return _fail(400, "Cannot find the note or the target entity.", "errors.validation",
                             [_field_error("targetEntityID", "no such target")])
        if entity == "Note":
            record["commentingPerson"] = record.get("commentingPerson") or self.user_id
            if record["commentingPerson"] not in self.records["CorporateUser"]:
                return _fail(400, "commentingPerson must be a CorporateUser.", "errors.validation",
                             [_field_error("commentingPerson", "not a CorporateUser")])
            record["dateAdded"] = record.get("dateAdded") or _ms(self.now)
            record["dateLastModified"] = _ms(self.now)
            record["isDeleted"] = bool(record.get("isDeleted"))
        self.records[entity][rid] = record
        if entity == "Note":
            # [note] "If you include a commentingPerson value and a personReference value ... the
            # association to an entity is made automatically": a NoteEntity for the person.
            self._link(rid, "User", record["personReference"])
            if record.get("jobOrder"):
                self._link(rid, "JobOrder", record["jobOrder"])
        return _answer(200, {"changedEntityType": entity, "changedEntityId": rid, "changeType": "INSERT"})

    def _link(self, note_id: int, target_name: str, target_id: int) -> None:
        eid = next(self._ids["NoteEntity"])
        self.records["NoteEntity"][eid] = {
            "id": eid, "note": note_id, "targetEntityID": target_id, "targetEntityName": target_name,
        }

    def _update(self, entity: str, rid_text: str, request: httpx.Request) -> httpx.Response:
        name = undeclared_param(request.url.params, _ENTITY_WRITE)
        if name is not None:
            return _fail(400, f"Unknown parameter: {name}", "errors.badRequest")
        rid = int(rid_text) if rid_text.isdigit() else -1
        record = self.records[entity].get(rid)
        if record is None:
            return _fail(404, f"Cannot find entity of type {entity} with id {rid_text}.", "errors.cannotFindEntity")
        raw = self._body(request)
        if isinstance(raw, httpx.Response):
            return raw
        if entity != "Note":
            return _fail(403, f"Updating {entity} is not allowed for this key.", "errors.forbidden")
        raw = {k: v for k, v in raw.items() if not (k == "id" and v == rid)}  # [entity] the example sends its id
        problem = self._validate(entity, raw, creating=False)
        if problem is not None:
            return problem
        schema = SCHEMA[entity]
        old_job = record.get("jobOrder")
        if "jobOrder" in raw and raw["jobOrder"] != ({"id": old_job} if old_job else None):
            for eid, link in list(self.records["NoteEntity"].items()):
                if (link["note"], link["targetEntityName"], link["targetEntityID"]) == (rid, "JobOrder", old_job):
                    del self.records["NoteEntity"][eid]
            if raw["jobOrder"] is not None:
                self._link(rid, "JobOrder", raw["jobOrder"]["id"])
        for key, value in raw.items():
            record[key] = self._stored_value(schema[key], value)
        record["dateLastModified"] = _ms(self.now)
        return _answer(200, {"changedEntityType": entity, "changedEntityId": rid, "changeType": "UPDATE"})

    def _delete(self, entity: str, rid_text: str, q: httpx.QueryParams) -> httpx.Response:
        name = undeclared_param(q, _ENTITY_WRITE)
        if name is not None:
            return _fail(400, f"Unknown parameter: {name}", "errors.badRequest")
        if entity != "NoteEntity":
            return _fail(403, f"Deleting {entity} is not allowed for this key.", "errors.forbidden")
        rid = int(rid_text) if rid_text.isdigit() else -1
        if self.records[entity].pop(rid, None) is None:
            return _fail(404, f"Cannot find entity of type {entity} with id {rid_text}.", "errors.cannotFindEntity")
        return _answer(200, {"changedEntityType": entity, "changedEntityId": rid, "changeType": "DELETE"})


def _compare(stored: Any, op: str, wanted: Any) -> bool:
    if isinstance(wanted, bool):
        stored = bool(stored)
    if stored is None:
        return False
    if op == "=":
        return bool(stored == wanted)
    if op == "<>":
        return bool(stored != wanted)
    try:
        return bool({"<": stored < wanted, ">": stored > wanted, "<=": stored <= wanted, ">=": stored >= wanted}[op])
    except TypeError:
        return False


def demo() -> BullhornFake:
    """A corporation with the sandbox's demo people: contacts with an open job, candidates with a
    placement, so the log page offers associations."""
    from tests.fakes.vendor_base import sandbox_demo_contacts

    fake = BullhornFake()
    fake.real_time = True
    for i, person in enumerate(sandbox_demo_contacts()):
        name = str(person.get("name") or "Demo person")
        phone = str(person.get("crmPhone") or person["phoneNumber"])
        if i % 2 == 0:
            contact = fake.add_contact(name, phone, company=str(person.get("company") or "Demo Corp"))
            fake.add_job_order(f"Recruiter for {name.split()[0]}", contact)
        else:
            candidate = fake.add_candidate(name, phone)
            owner = next(iter(fake.records["ClientContact"]), None)
            if owner is not None:
                job = fake.add_job_order("Contract analyst", owner)
                fake.add_placement(candidate, job)
    return fake


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.fakes.bullhorn --port N``: serve the demo corporation until Ctrl-C."""
    import argparse

    from tests.fakes.loopback import LoopbackServer

    parser = argparse.ArgumentParser(description="Serve the fake Bullhorn (loginInfo, OAuth, REST) on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    fake = demo()
    with LoopbackServer(fake.handler, port=args.port) as server:
        fake.serve_at(server.base_url)
        print(f"fake Bullhorn listening on {server.base_url}")
        print(f"connect with username {USERNAME}, client ID {CLIENT_ID} and client secret {CLIENT_SECRET}")
        print(f"point Logdesk at it with: LOGDESK_BULLHORN_URL={server.base_url}")
        wait_for_interrupt()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
