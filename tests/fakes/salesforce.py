# SPDX-License-Identifier: MIT
"""A fake Salesforce org: OAuth (web-server flow + PKCE, refresh, revoke, userinfo), SOSL phone
search, a SOQL subset, and the Task sObject with Salesforce's validation and error bodies.

What it checks the way Salesforce does:

- OAuth: the authorize page validates ``client_id``, the loopback ``redirect_uri``, the S256
  ``code_challenge`` and redirects with ``code`` and ``state`` (or ``error=access_denied``); the
  token endpoint checks the one-time code, the redirect URI and the PKCE ``code_verifier``,
  answers ``access_token``, ``refresh_token``, ``instance_url``, ``id``, ``issued_at`` (no
  ``expires_in``: the session lasts the org's session timeout), refreshes without rotating the
  refresh token (unless ``rotate_refresh_tokens``), and answers ``invalid_grant`` for revoked or
  unknown grants.
- REST (``/services/data/vXX.X/...``): bearer sessions expire after ``session_seconds`` on the
  fake clock and only work on the instance host → 401 ``INVALID_SESSION_ID``; every answer
  carries ``Sforce-Limit-Info: api-usage=N/M``; past the daily allowance → 403
  ``REQUEST_LIMIT_EXCEEDED``.
- SOSL ``FIND {…} IN PHONE FIELDS RETURNING Contact(…), Lead(…)``: reserved characters must be
  escaped, matching is digit-normalised; syntax errors → 400 ``MALFORMED_SEARCH``.
- SOQL ``SELECT … FROM … WHERE a = 'x' AND b IN ('y') ORDER BY … LIMIT n`` with relationship
  fields (``Who.Name``); anything else → 400 ``MALFORMED_QUERY``; unknown columns → ``INVALID_FIELD``.
- REST query parameters the resource does not declare (``INVALID_PARAMETER_VALUE``: stricter than
  Salesforce, whose docs are silent on them).
- Task create/read/update/delete: unknown fields (``INVALID_FIELD``), read-only or create-only
  fields (``INVALID_FIELD_FOR_INSERT_UPDATE``), lengths (``STRING_TOO_LONG``: Subject 255,
  Description 32,000, CallDisposition/CallObject 255), restricted picklists
  (``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST``), required fields (``REQUIRED_FIELD_MISSING``),
  JSON types (``JSON_PARSER_ERROR``), reference ids (``MALFORMED_ID``,
  ``INVALID_CROSS_REFERENCE_KEY``, a lead with a Related To → ``FIELD_INTEGRITY_EXCEPTION``),
  ``If-Unmodified-Since`` against ``LastModifiedDate`` (second precision) → 412.
- Composite (``POST /composite``): up to 25 subrequests (sObject rows and Query) run in one
  request that counts as one API call; ``@{referenceId.field}`` in a later subrequest's URL or
  body; ``httpHeaders`` per subrequest (not ``Accept``, ``Authorization``, ``Content-Type``);
  ``allOrNone`` rolls everything back when one fails (the others answer ``PROCESSING_HALTED``),
  otherwise only the subrequests that refer to a failed one are halted
  (https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-composite-post.html).

A person working in Salesforce is simulated by :meth:`SalesforceFake.person_edits`; faults
(429/5xx/timeouts/malformed/slow) come from :class:`~tests.fakes.vendor_base.FakeApi.inject`.
Every API write advances the fake clock by one second, so each write gets its own
``LastModifiedDate``, as it would between real requests.

Serve it in-process (``fake.transport()``) or on loopback (``python -m tests.fakes.salesforce``).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import hashlib
import itertools
import json
import re
import secrets
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.fakes.oauth_grants import AuthCode, Grant, GrantStore
from tests.fakes.vendor_base import FakeApi, FakeClock, undeclared_param

API_VERSIONS = ("v58.0", "v59.0", "v60.0", "v61.0", "v62.0", "v63.0", "v64.0")
DEFAULT_CLIENT_ID = "3MVG9LogdeskFakeConsumerKey.0123456789"
DEFAULT_INSTANCE = "https://logdesk-dev-ed.develop.my.salesforce.com"
ORG_ID = "00D5E000000LgDkUAC"
CODE_LIFETIME = 15 * 60
_RESERVED = set("?&|!{}[]()^~*:\\\"'+-")
_ID_RE = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
_PREFIX = {"Account": "001", "Contact": "003", "User": "005", "Opportunity": "006", "Task": "00T", "Lead": "00Q"}


# --- schema -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class F:
    """One field of an sObject as describe reports it."""

    type: str
    length: int = 0
    createable: bool = True
    updateable: bool = True
    values: tuple[str, ...] = ()
    default: str | None = None
    refs: tuple[str, ...] = ()
    label: str = ""
    phone: bool = False


_AUDIT = {
    "Id": F("id", 18, createable=False, updateable=False),
    "CreatedDate": F("datetime", createable=False, updateable=False),
    "LastModifiedDate": F("datetime", createable=False, updateable=False),
    "SystemModstamp": F("datetime", createable=False, updateable=False),
    "IsDeleted": F("boolean", createable=False, updateable=False),
    "OwnerId": F("reference", 18, refs=("User",)),
}

SCHEMA: dict[str, dict[str, F]] = {
    "Task": {
        **_AUDIT,
        "Subject": F("combobox", 255, label="Subject"),
        "Description": F("textarea", 32000, label="Comments"),
        "CallDurationInSeconds": F("int", label="Call Duration"),
        "CallType": F("picklist", 40, values=("Internal", "Inbound", "Outbound"), label="Call Type"),
        "CallDisposition": F("string", 255, label="Call Result"),
        "CallObject": F("string", 255, label="Call Object Identifier"),
        "ActivityDate": F("date", label="Due Date Only"),
        "Status": F(
            "picklist",
            40,
            values=("Not Started", "In Progress", "Completed", "Waiting on someone else", "Deferred"),
            default="Not Started",
            label="Status",
        ),
        "Priority": F("picklist", 40, values=("High", "Normal", "Low"), default="Normal", label="Priority"),
        "TaskSubtype": F(
            "picklist",
            40,
            updateable=False,
            values=("Task", "Email", "ListEmail", "Cadence", "Call"),
            label="Task Subtype",
        ),
        "WhoId": F("reference", 18, refs=("Contact", "Lead"), label="Name ID"),
        "WhatId": F("reference", 18, refs=("Account", "Opportunity"), label="Related To ID"),
        "IsClosed": F("boolean", createable=False, updateable=False),
    },
    "Contact": {
        **_AUDIT,
        "Name": F("string", 121, createable=False, updateable=False),
        "FirstName": F("string", 40),
        "LastName": F("string", 80),
        "Email": F("email", 80),
        "Phone": F("phone", 40, phone=True),
        "MobilePhone": F("phone", 40, phone=True),
        "HomePhone": F("phone", 40, phone=True),
        "OtherPhone": F("phone", 40, phone=True),
        "AssistantPhone": F("phone", 40, phone=True),
        "AccountId": F("reference", 18, refs=("Account",)),
    },
    "Lead": {
        **_AUDIT,
        "Name": F("string", 121, createable=False, updateable=False),
        "FirstName": F("string", 40),
        "LastName": F("string", 80),
        "Company": F("string", 255),
        "Phone": F("phone", 40, phone=True),
        "MobilePhone": F("phone", 40, phone=True),
        "IsConverted": F("boolean", createable=False, updateable=False),
    },
    "Account": {**_AUDIT, "Name": F("string", 255), "Phone": F("phone", 40, phone=True)},
    "Opportunity": {
        **_AUDIT,
        "Name": F("string", 120),
        "AccountId": F("reference", 18, refs=("Account",)),
        "StageName": F("picklist", 255, values=("Prospecting", "Negotiation", "Closed Won", "Closed Lost")),
        "IsClosed": F("boolean", createable=False, updateable=False),
    },
    "User": {
        "Id": F("id", 18, createable=False, updateable=False),
        "Name": F("string", 121, createable=False, updateable=False),
        "Username": F("string", 80),
        "Email": F("email", 128),
        "Phone": F("phone", 40, phone=True),
        "Extension": F("phone", 40, phone=True),
        "IsActive": F("boolean"),
        "CreatedDate": F("datetime", createable=False, updateable=False),
        "LastModifiedDate": F("datetime", createable=False, updateable=False),
    },
}


def _declared_params(method: str, rest: str) -> frozenset[str] | None:
    """The query parameters a REST resource the adapter uses declares (``None``: not checked).

    Search and Query take ``q`` (https://developer.salesforce.com/docs/platform/api-rest/guide/resources-search,
    https://developer.salesforce.com/docs/platform/api-rest/guide/resources-query); sObject Rows GET takes
    ``fields`` (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api/dome_get_field_values.htm);
    sObject Describe, create (POST) and update (PATCH) take none. Body fields are the sObject's fields, checked
    against the schema (INVALID_FIELD). Salesforce's docs do not say what an unknown parameter does; the
    fake refuses it, in Salesforce's error array, so the next drift fails a test.
    """
    if rest in ("/search", "/query"):
        return frozenset({"q"}) if method == "GET" else None
    if rest == "/composite":
        return frozenset()
    match = re.fullmatch(r"/sobjects/\w+(?:/(\w+))?", rest)
    if match is None:
        return None
    if match.group(1) is None or match.group(1) == "describe" or method != "GET":
        return frozenset()
    return frozenset({"fields"})


class SalesforceError(Exception):
    """One failed request: the status and Salesforce's error array."""

    def __init__(self, status: int, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.errors = [{"message": message, "errorCode": code, "fields": fields or []}]

    def also(self, code: str, message: str, fields: list[str] | None = None) -> SalesforceError:
        self.errors.append({"message": message, "errorCode": code, "fields": fields or []})
        return self


def sf_datetime(ts: float) -> str:
    """Salesforce's datetime format, second precision: ``2026-09-30T14:07:02.000+0000``."""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def parse_sf_datetime(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def _valid_date(value: Any) -> bool:
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def phone_matches(term_digits: str, stored: str) -> bool:
    """Digit-normalised phone matching: equal digits, or one number is the other with a prefix
    (a country code) when both have at least ten digits."""
    stored_digits = _digits(stored)
    if not term_digits or not stored_digits:
        return False
    if term_digits == stored_digits:
        return True
    short, long = sorted((term_digits, stored_digits), key=len)
    return len(short) >= 10 and long.endswith(short)


class SalesforceFake(FakeApi):
    """One Salesforce org with one connected app and one user.

    Args:
        clock: shared with the adapter under test (``clock=fake.clock.time``).
        instance_url: the API host handed out in token responses; ``None`` uses the origin the
            request came to (what serving on loopback needs).
        client_id: the connected app's consumer key.
        session_seconds: the org's session timeout: access tokens die this long after issue.
        rotate_refresh_tokens: issue a new refresh token on every refresh (and retire the old one).
        require_pkce: reject authorize requests without a ``code_challenge``.
        api_max: the org's daily API allowance.
        required_task_fields: fields this org's Task layout requires on create.
        custom_task_fields: extra Task text fields (``{"Recording_URL__c": 255}``).
        hidden_task_fields: Task fields the user's profile cannot see (field-level security): they are
            missing from describe and unknown to every query and write, as in Salesforce.
        user_decision: what the person in the browser does: ``"approve"`` or ``"deny"``.
        app_scopes: the scopes the connected app may grant; a sign-in gets the requested ones among
            them (all of them when none are requested), and a refresh token only with
            ``refresh_token`` (or ``offline_access``).
    """

    name = "salesforce"

    def __init__(
        self,
        *,
        clock: FakeClock | None = None,
        instance_url: str | None = DEFAULT_INSTANCE,
        client_id: str = DEFAULT_CLIENT_ID,
        session_seconds: float = 7200,
        rotate_refresh_tokens: bool = False,
        require_pkce: bool = True,
        api_max: int = 15000,
        required_task_fields: tuple[str, ...] = ("Status",),
        custom_task_fields: dict[str, int] | None = None,
        hidden_task_fields: tuple[str, ...] = (),
        user_decision: str = "approve",
        app_scopes: tuple[str, ...] = ("api", "refresh_token", "openid"),
    ) -> None:
        super().__init__(clock=clock)
        self.instance_url = instance_url
        self.client_id = client_id
        self.session_seconds = session_seconds
        self.rotate_refresh_tokens = rotate_refresh_tokens
        self.require_pkce = require_pkce
        self.api_max = api_max
        self.api_used = 0
        self.required_task_fields = required_task_fields
        self.user_decision = user_decision
        self.app_scopes = app_scopes
        self.schema = {name: dict(fields) for name, fields in SCHEMA.items()}
        for name in hidden_task_fields:
            del self.schema["Task"][name]
        for name, length in (custom_task_fields or {}).items():
            self.schema["Task"][name] = F("url", length, label=name)
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in self.schema}
        self._counter = itertools.count(1)
        self.grants = GrantStore(self.clock.time)
        self.user_id = self.add_user("Dana Agent", extension="101")

    # --- seeding and the person in the CRM ------------------------------------------------------

    def _new_id(self, sobject: str) -> str:
        base = f"{_PREFIX[sobject]}5E000{next(self._counter):07X}"
        suffix = ""
        for i in range(3):
            chunk = base[i * 5 : (i + 1) * 5]
            bits = sum(1 << j for j, ch in enumerate(chunk) if ch.isupper())
            suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
        return base + suffix

    def _insert(self, sobject: str, values: dict[str, Any]) -> str:
        with self.lock:
            record_id = self._new_id(sobject)
            stamp = sf_datetime(self.clock.time())
            record: dict[str, Any] = {name: None for name in self.schema[sobject]}
            record.update(values)
            record.update(
                Id=record_id, CreatedDate=stamp, LastModifiedDate=stamp, SystemModstamp=stamp, IsDeleted=False
            )
            if "OwnerId" in record and record["OwnerId"] is None and sobject != "User":
                record["OwnerId"] = self.user_id
            if sobject in ("Contact", "Lead"):
                record["Name"] = " ".join(p for p in (record.get("FirstName"), record.get("LastName")) if p)
            self.records[sobject][record_id] = record
            return record_id

    def add_account(self, name: str, *, phone: str | None = None) -> str:
        return self._insert("Account", {"Name": name, "Phone": phone})

    def add_opportunity(self, name: str, account_id: str, *, closed: bool = False) -> str:
        stage = "Closed Won" if closed else "Prospecting"
        return self._insert(
            "Opportunity", {"Name": name, "AccountId": account_id, "StageName": stage, "IsClosed": closed}
        )

    def add_contact(
        self, name: str, *, phone: str | None = None, mobile: str | None = None, account_id: str | None = None
    ) -> str:
        first, _, last = name.rpartition(" ")
        return self._insert(
            "Contact",
            {
                "FirstName": first or None,
                "LastName": last,
                "Phone": phone,
                "MobilePhone": mobile,
                "AccountId": account_id,
            },
        )

    def add_user(
        self, name: str, *, phone: str | None = None, extension: str | None = None, active: bool = True
    ) -> str:
        """A colleague (a Salesforce user) with a phone extension."""
        username = f"{name.split()[0].lower()}@logdesk.test"
        return self._insert(
            "User",
            {
                "Name": name,
                "Username": username,
                "Email": username,
                "Phone": phone,
                "Extension": extension,
                "IsActive": active,
            },
        )

    def add_lead(self, name: str, *, phone: str | None = None, company: str = "Unknown") -> str:
        first, _, last = name.rpartition(" ")
        return self._insert(
            "Lead",
            {"FirstName": first or None, "LastName": last, "Phone": phone, "Company": company, "IsConverted": False},
        )

    def task(self, task_id: str) -> dict[str, Any]:
        """The stored Task (a copy), bypassing the API."""
        with self.lock:
            return dict(self.records["Task"][task_id])

    def person_edits(self, record_id: str, **values: Any) -> None:
        """Someone saves the record in Salesforce's UI a second later: new values, new LastModifiedDate."""
        with self.lock:
            sobject = self._type_of(record_id)
            record = self.records[sobject][record_id]
            self.clock.advance(1)
            record.update(values)
            self._touch(record)

    def person_deletes(self, record_id: str) -> None:
        with self.lock:
            record = self.records[self._type_of(record_id)][record_id]
            record["IsDeleted"] = True

    def _touch(self, record: dict[str, Any]) -> None:
        stamp = sf_datetime(self.clock.time())
        record["LastModifiedDate"] = record["SystemModstamp"] = stamp
        if "IsClosed" in record and "Status" in record:
            record["IsClosed"] = record["Status"] == "Completed"

    def _type_of(self, record_id: str) -> str:
        for sobject, rows in self.records.items():
            if record_id in rows:
                return sobject
        raise KeyError(record_id)

    # --- tokens for tests that skip the browser -------------------------------------------------

    def issue_tokens(self) -> dict[str, Any]:
        """A token response as the token endpoint would send it after a sign-in."""
        with self.lock:
            return self._token_body(self._new_grant(), origin=self.instance_url or DEFAULT_INSTANCE)

    def expire_sessions(self) -> None:
        """The org's session timeout passed for every access token issued so far."""
        with self.lock:
            for grant in self.grants:
                grant.access = {t: min(exp, self.clock.time() - 1) for t, exp in grant.access.items()}

    def revoke_all(self) -> None:
        """An admin revoked the app's access ("Connected Apps OAuth Usage" → Revoke)."""
        with self.lock:
            self.grants.revoke_all(forget_access=False)

    def active_access_tokens(self) -> int:
        with self.lock:
            now = self.clock.time()
            return sum(1 for g in self.grants if not g.revoked for exp in g.access.values() if exp > now)

    def _new_grant(self) -> Grant:
        refresh = f"5Aep861{secrets.token_urlsafe(48)}"
        return self.grants.add_grant(refresh, Grant(self.client_id, user_id=self.user_id, refresh_token=refresh))

    def _token_body(
        self,
        grant: Grant,
        *,
        origin: str,
        with_refresh: bool = True,
        scopes: tuple[str, ...] = ("api", "refresh_token"),
    ) -> dict[str, Any]:
        now = self.clock.time()
        access = self.grants.issue_access(grant, f"{ORG_ID}!{secrets.token_urlsafe(60)}", now + self.session_seconds)
        body: dict[str, Any] = {
            "access_token": access,
            "signature": base64.b64encode(hashlib.sha256(access.encode()).digest()).decode(),
            "scope": " ".join(scopes),
            "instance_url": self.instance_url or origin,
            "id": f"{origin}/id/{ORG_ID}/{grant.user_id}",
            "token_type": "Bearer",
            "issued_at": str(int(now * 1000)),
        }
        if with_refresh:
            body["refresh_token"] = grant.refresh_token
        return body

    def _session(self, request: httpx.Request) -> Grant | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        token = header[len("Bearer ") :]
        found = self.grants.find_access(token)
        if found is None:
            return None
        grant, expiry = found
        return grant if not grant.revoked and expiry > self.clock.time() else None

    # --- errors ---------------------------------------------------------------------------------

    def error_response(
        self, status: int, message: str | None = None, *, retry_after: float | None = None
    ) -> httpx.Response:
        code, text = {
            400: ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "The record could not be saved"),
            401: ("INVALID_SESSION_ID", "Session expired or invalid"),
            403: ("INSUFFICIENT_ACCESS_OR_READONLY", "insufficient access rights on object id"),
            404: ("NOT_FOUND", "The requested resource does not exist"),
            409: ("ENTITY_IS_LOCKED", "This record is locked. If you need to edit it, contact your admin"),
            412: ("PRECONDITION_FAILED", "The requested entity has been modified since the specified date"),
            429: ("REQUEST_LIMIT_EXCEEDED", "ConcurrentPerOrgLongTxn Limit exceeded."),
            500: (
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred. Please include this ErrorId if you contact support: "
                "1234567890-12345 (-1234567890)",
            ),
            503: ("SERVER_UNAVAILABLE", "Server temporarily unavailable, please try again later"),
        }.get(status, ("UNKNOWN_EXCEPTION", f"HTTP {status}"))
        headers = self._limit_headers()
        if retry_after is not None:
            headers["Retry-After"] = f"{retry_after:g}"
        return httpx.Response(status, json=[{"message": message or text, "errorCode": code}], headers=headers)

    def _limit_headers(self) -> dict[str, str]:
        return {"Sforce-Limit-Info": f"api-usage={self.api_used}/{self.api_max}"}

    # --- routing --------------------------------------------------------------------------------

    def route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/services/oauth2/"):
            return self._oauth(request, path.removeprefix("/services/oauth2/").rstrip("/"))
        match = re.match(r"^/services/data/(v\d+\.\d)(/.*)?$", path)
        if match is None:
            return httpx.Response(
                404, json=[{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
            )
        version, rest = match.group(1), (match.group(2) or "/").rstrip("/") or "/"
        if self.instance_url is not None and request.url.host != httpx.URL(self.instance_url).host:
            return self.error_response(401, "Session expired or invalid")  # a token from another instance
        if self._session(request) is None:
            return self.error_response(401)
        self.api_used += 1
        if self.api_used > self.api_max:
            return httpx.Response(
                403,
                json=[{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
                headers=self._limit_headers(),
            )
        if version not in API_VERSIONS:
            return httpx.Response(
                404,
                json=[{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
                headers=self._limit_headers(),
            )
        try:
            status, body = self._rest(request, version, rest)
        except SalesforceError as exc:
            return httpx.Response(exc.status, json=exc.errors, headers=self._limit_headers())
        if status == 204:
            return httpx.Response(204, headers=self._limit_headers())
        return httpx.Response(status, json=body, headers=self._limit_headers())

    def _rest(self, request: httpx.Request, version: str, rest: str) -> tuple[int, Any]:
        method = request.method
        params = request.url.params
        declared = _declared_params(method, rest)
        name = undeclared_param(params, declared) if declared is not None else None
        if name is not None:
            raise SalesforceError(400, "INVALID_PARAMETER_VALUE", f"Unknown parameter: {name}")
        if rest == "/search" and method == "GET":
            return 200, self._sosl(params.get("q", ""), version)
        if rest == "/query" and method == "GET":
            return 200, self._soql(params.get("q", ""), version)
        if rest == "/composite":
            if method != "POST":
                raise SalesforceError(
                    405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are POST"
                )
            return 200, self._composite(request, version)
        match = re.match(r"^/sobjects/(\w+)(?:/(\w+))?$", rest)
        if match is None:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        sobject, record_id = match.group(1), match.group(2)
        if sobject not in self.schema:
            raise SalesforceError(
                404, "NOT_FOUND", f"The requested resource does not exist: sObject type '{sobject}' is not supported."
            )
        if record_id == "describe" and method == "GET":
            return 200, self._describe(sobject)
        if record_id is None:
            if method == "POST":
                return 201, self._create(sobject, self._json(request))
            raise SalesforceError(
                405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are HEAD,GET,POST"
            )
        record = self._find(sobject, record_id)
        if method == "GET":
            fields = [f.strip() for f in params.get("fields", "").split(",") if f.strip()] or list(self.schema[sobject])
            return 200, self._render(sobject, record, fields, version)
        if method == "PATCH":
            self._update(sobject, record, self._json(request), request.headers.get("If-Unmodified-Since"))
            return 204, None
        if method == "DELETE":
            record["IsDeleted"] = True
            return 204, None
        raise SalesforceError(
            405, "METHOD_NOT_ALLOWED", f"HTTP Method '{method}' not allowed. Allowed are GET,PATCH,DELETE"
        )

    _REFERENCE = re.compile(r"@\{(\w+)\.(\w+)\}")
    _HALTED = [{
        "errorCode": "PROCESSING_HALTED",
        "message": "The transaction was rolled back since another operation in the same transaction failed.",
    }]

    def _composite(self, request: httpx.Request, version: str) -> dict[str, Any]:
        raw = self._json(request)
        for key in raw:
            if key not in ("allOrNone", "collateSubrequests", "compositeRequest"):
                raise SalesforceError(400, "JSON_PARSER_ERROR", f'Unrecognized field "{key}"')
        subrequests = raw.get("compositeRequest")
        if not isinstance(subrequests, list) or not subrequests or len(subrequests) > 25:
            raise SalesforceError(400, "INVALID_BATCH_REQUEST", "A composite request takes 1 to 25 subrequests")
        all_or_none = raw.get("allOrNone") is True
        seen: set[str] = set()
        for sub in subrequests:
            if not isinstance(sub, dict) or not isinstance(sub.get("referenceId"), str):
                raise SalesforceError(400, "JSON_PARSER_ERROR", "Each subrequest needs a referenceId")
            for key in sub:
                if key not in ("method", "url", "referenceId", "body", "httpHeaders"):
                    raise SalesforceError(400, "JSON_PARSER_ERROR", f'Unrecognized field "{key}"')
            if sub["referenceId"] in seen or not re.fullmatch(r"\w+", sub["referenceId"]):
                raise SalesforceError(400, "INVALID_BATCH_REQUEST", f"Invalid referenceId: {sub['referenceId']}")
            seen.add(sub["referenceId"])
            if sub.get("method") not in ("GET", "POST", "PATCH", "DELETE"):
                raise SalesforceError(400, "INVALID_BATCH_REQUEST", f"Invalid method: {sub.get('method')}")
            headers = sub.get("httpHeaders") or {}
            if not isinstance(headers, dict) or {h.lower() for h in headers} & {"accept", "authorization",
                                                                                 "content-type"}:
                raise SalesforceError(400, "INVALID_HEADER_TYPE", "Subrequests inherit Accept, Authorization and "
                                      "Content-Type from the composite request")
        snapshot = copy.deepcopy(self.records)
        results: dict[str, tuple[int, Any, dict[str, str]]] = {}
        answers: list[dict[str, Any]] = []
        failed = False
        for sub in subrequests:
            ref = sub["referenceId"]
            try:
                if failed and all_or_none:
                    raise SalesforceError(400, "PROCESSING_HALTED", self._HALTED[0]["message"])
                url = self._resolve(str(sub.get("url") or ""), results)
                body = self._resolve_body(sub.get("body"), results)
                match = re.match(r"^/services/data/(v\d+\.\d)(/[^?]*)", url)
                if match is None or match.group(1) not in API_VERSIONS:
                    raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
                if match.group(2).rstrip("/") == "/composite":
                    raise SalesforceError(400, "INVALID_BATCH_REQUEST", "Composite requests cannot be nested")
                inner = httpx.Request(
                    sub["method"], f"https://composite.invalid{url}",
                    json=body if body is not None else None, headers=dict(sub.get("httpHeaders") or {}),
                )
                status, answer = self._rest(inner, match.group(1), match.group(2).rstrip("/") or "/")
                headers = {}
                if sub["method"] == "POST" and status == 201 and isinstance(answer, dict):
                    headers["Location"] = f"/services/data/{match.group(1)}{match.group(2)}/{answer.get('id')}"
                results[ref] = (status, answer, headers)
            except SalesforceError as exc:
                failed = True
                results[ref] = (exc.status, exc.errors, {})
        if failed and all_or_none:
            self.records = snapshot
            for ref, (status, _, _) in list(results.items()):
                if status < 400:
                    results[ref] = (400, self._HALTED, {})
        for sub in subrequests:
            status, answer, headers = results[sub["referenceId"]]
            answers.append({"body": None if status == 204 else answer, "httpHeaders": headers,
                            "httpStatusCode": status, "referenceId": sub["referenceId"]})
        return {"compositeResponse": answers}

    def _resolve(self, text: str, results: dict[str, tuple[int, Any, dict[str, str]]]) -> str:
        def value(match: re.Match[str]) -> str:
            ref, name = match.group(1), match.group(2)
            status, answer, _ = results.get(ref, (404, None, {}))
            if status >= 400 or not isinstance(answer, dict) or name not in answer:
                raise SalesforceError(
                    400, "PROCESSING_HALTED", f"Invalid reference specified. No value for {ref}.{name} found in {ref}."
                )
            return str(answer[name])

        return self._REFERENCE.sub(value, text)

    def _resolve_body(self, body: Any, results: dict[str, tuple[int, Any, dict[str, str]]]) -> Any:
        if isinstance(body, str):
            return self._resolve(body, results)
        if isinstance(body, dict):
            return {k: self._resolve_body(v, results) for k, v in body.items()}
        if isinstance(body, list):
            return [self._resolve_body(v, results) for v in body]
        return body

    @staticmethod
    def _json(request: httpx.Request) -> dict[str, Any]:
        try:
            raw = json.loads(request.content or b"null")
        except ValueError as exc:
            raise SalesforceError(400, "JSON_PARSER_ERROR", f"Unexpected character: {exc}") from exc
        if not isinstance(raw, dict):
            raise SalesforceError(
                400, "JSON_PARSER_ERROR", "Cannot deserialize instance of SObject from non-object value"
            )
        return raw

    def _find(self, sobject: str, record_id: str) -> dict[str, Any]:
        record = self.records[sobject].get(record_id)
        if record is None:
            raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
        if record["IsDeleted"]:
            raise SalesforceError(404, "ENTITY_IS_DELETED", "entity is deleted")
        return record

    # --- records --------------------------------------------------------------------------------

    def _render(self, sobject: str, record: dict[str, Any], fields: list[str], version: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "attributes": {"type": sobject, "url": f"/services/data/{version}/sobjects/{sobject}/{record['Id']}"}
        }
        for name in fields:
            if "." in name:
                rel, _, sub = name.partition(".")
                out[rel] = self._related(sobject, record, rel, sub, version, out.get(rel))
                continue
            if name not in self.schema[sobject]:
                raise SalesforceError(
                    400,
                    "INVALID_FIELD",
                    f"No such column '{name}' on entity '{sobject}'. If you are attempting to use a custom field, "
                    "be sure to append the '__c' after the custom field name.",
                )
            out[name] = record.get(name)
        return out

    def _check_columns(self, sobject: str, fields: list[str]) -> None:
        """Unknown columns fail the whole query, whether or not any row matches."""
        schema = self.schema[sobject]
        for name in fields:
            rel, dot, _ = name.partition(".")
            known = (rel + "Id" in schema and schema[rel + "Id"].type == "reference") if dot else name in schema
            if not known:
                raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{sobject}'.")

    def _related(self, sobject: str, record: dict[str, Any], rel: str, sub: str, version: str, current: Any) -> Any:
        ref_field = f"{rel}Id"
        spec = self.schema[sobject].get(ref_field)
        if spec is None or spec.type != "reference":
            raise SalesforceError(400, "INVALID_FIELD", f"Didn't understand relationship '{rel}' in field path.")
        target_id = record.get(ref_field)
        if not target_id:
            return None
        target_type = self._type_of(target_id)
        target = self.records[target_type][target_id]
        if sub not in self.schema[target_type] and rel not in ("Who", "What"):
            raise SalesforceError(400, "INVALID_FIELD", f"No such column '{sub}' on entity '{target_type}'.")
        nested = (
            dict(current)
            if isinstance(current, dict)
            else {
                "attributes": {
                    "type": target_type,
                    "url": f"/services/data/{version}/sobjects/{target_type}/{target_id}",
                }
            }
        )
        nested[sub] = target.get(sub)
        return nested

    def _check_values(self, sobject: str, raw: dict[str, Any], *, creating: bool) -> dict[str, Any]:
        schema = self.schema[sobject]
        errors: SalesforceError | None = None

        def fail(code: str, message: str, name: str) -> None:
            nonlocal errors
            errors = errors.also(code, message, [name]) if errors else SalesforceError(400, code, message, [name])

        clean: dict[str, Any] = {}
        for name, value in raw.items():
            spec = schema.get(name)
            if spec is None:
                raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}")
            if not (spec.createable if creating else spec.updateable):
                fail(
                    "INVALID_FIELD_FOR_INSERT_UPDATE",
                    f"Unable to create/update fields: {name}. Please check the security settings of this field and "
                    "verify that it is read/write for your profile or permission set.",
                    name,
                )
                continue
            if value is None:
                clean[name] = None
                continue
            if spec.type == "int":
                if isinstance(value, bool) or not isinstance(value, int):
                    raise SalesforceError(
                        400,
                        "JSON_PARSER_ERROR",
                        f"Cannot deserialize instance of int from {type(value).__name__} value {value!r} "
                        "or request may be missing a required field at [line:1, column:1]",
                    )
            elif spec.type == "date":
                # Task.ActivityDate is a date without a time zone: "The timestamp is not relevant; do
                # not attempt to alter it to accommodate time zone differences" (Task object reference,
                # https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_task.htm).
                # Only YYYY-MM-DD is taken, and stored as given: the day is the caller's to choose.
                if not _valid_date(value):
                    raise SalesforceError(
                        400,
                        "JSON_PARSER_ERROR",
                        f"Cannot deserialize instance of date from VALUE_STRING value {value} or request may be "
                        "missing a required field at [line:1, column:1]",
                    )
            elif not isinstance(value, str):
                raise SalesforceError(
                    400,
                    "JSON_PARSER_ERROR",
                    f"Cannot deserialize instance of {spec.type} from {type(value).__name__} value {value!r}",
                )
            if isinstance(value, str) and spec.length and len(value) > spec.length:
                label = spec.label or name
                fail(
                    "STRING_TOO_LONG",
                    f"{label}: data value too large: {value[:40]}... (max length={spec.length})",
                    name,
                )
                continue
            if spec.type == "picklist" and value not in spec.values:
                fail(
                    "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                    f"{spec.label or name}: bad value for restricted picklist field: {value}",
                    name,
                )
                continue
            if spec.type == "reference":
                if not _ID_RE.match(value):
                    fail("MALFORMED_ID", f"{spec.label or name}: id value of incorrect type: {value}", name)
                    continue
                try:
                    target = self._type_of(value)
                except KeyError:
                    fail("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", name)
                    continue
                if target not in spec.refs or self.records[target][value]["IsDeleted"]:
                    fail(
                        "FIELD_INTEGRITY_EXCEPTION", f"{spec.label or name}: id value of incorrect type: {value}", name
                    )
                    continue
            clean[name] = value
        if errors:
            raise errors
        return clean

    def _create(self, sobject: str, raw: dict[str, Any]) -> dict[str, Any]:
        if sobject != "Task":
            raise SalesforceError(400, "INVALID_TYPE", f"This fake creates Task records only, not {sobject}")
        clean = self._check_values(sobject, raw, creating=True)
        missing = [name for name in self.required_task_fields if clean.get(name) in (None, "")]
        if missing:
            raise SalesforceError(
                400, "REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]", missing
            )
        self._check_integrity({**clean})
        for name, spec in self.schema[sobject].items():
            if spec.default is not None and clean.get(name) is None:
                clean[name] = spec.default
        clean.setdefault("TaskSubtype", "Task")
        self.clock.advance(1)
        record_id = self._insert(sobject, clean)
        self._touch(self.records[sobject][record_id])
        return {"id": record_id, "success": True, "errors": []}

    def _check_integrity(self, values: dict[str, Any]) -> None:
        who, what = values.get("WhoId"), values.get("WhatId")
        if who and what and self._type_of(who) == "Lead":
            raise SalesforceError(
                400,
                "FIELD_INTEGRITY_EXCEPTION",
                "Related To ID: You can't associate a lead with a record in the Related To field.",
                ["WhatId"],
            )

    def _update(self, sobject: str, record: dict[str, Any], raw: dict[str, Any], if_unmodified: str | None) -> None:
        if if_unmodified is not None:
            try:
                limit = parsedate_to_datetime(if_unmodified)
            except (TypeError, ValueError):
                raise SalesforceError(
                    400, "INVALID_HEADER_TYPE", f"Invalid If-Unmodified-Since header: {if_unmodified}"
                ) from None
            if limit.tzinfo is None:
                raise SalesforceError(
                    400, "INVALID_HEADER_TYPE", f"Invalid If-Unmodified-Since header: {if_unmodified}"
                )
            if parse_sf_datetime(record["LastModifiedDate"]) > limit.timestamp():
                raise SalesforceError(
                    412, "PRECONDITION_FAILED", "The requested entity has been modified since the specified date"
                )
        clean = self._check_values(sobject, raw, creating=False)
        self._check_integrity({**record, **clean})
        self.clock.advance(1)
        record.update(clean)
        self._touch(record)

    def _describe(self, sobject: str) -> dict[str, Any]:
        fields = []
        for name, spec in self.schema[sobject].items():
            fields.append(
                {
                    "name": name,
                    "label": spec.label or name,
                    "type": spec.type,
                    "length": spec.length,
                    "createable": spec.createable,
                    "updateable": spec.updateable,
                    "nillable": name not in self.required_task_fields,
                    "restrictedPicklist": spec.type == "picklist",
                    "referenceTo": list(spec.refs),
                    "picklistValues": [
                        {
                            "active": True,
                            "defaultValue": value == spec.default,
                            "label": value,
                            "validFor": None,
                            "value": value,
                        }
                        for value in spec.values
                    ],
                }
            )
        return {"name": sobject, "label": sobject, "createable": True, "updateable": True, "fields": fields}

    # --- SOSL -----------------------------------------------------------------------------------

    _SOSL = re.compile(
        r"^\s*FIND\s+\{(?P<term>(?:\\.|[^\\}])*)\}\s+IN\s+(?P<group>ALL|NAME|EMAIL|PHONE|SIDEBAR)\s+FIELDS"
        r"\s+RETURNING\s+(?P<returning>.+?)(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
        re.IGNORECASE | re.DOTALL,
    )

    def _sosl(self, q: str, version: str) -> dict[str, Any]:
        match = self._SOSL.match(q)
        if match is None:
            raise SalesforceError(400, "MALFORMED_SEARCH", f"line 1:0 no viable alternative at character '{q[:1]}'")
        raw_term = match.group("term")
        term_chars: list[str] = []
        i = 0
        while i < len(raw_term):
            ch = raw_term[i]
            if ch == "\\" and i + 1 < len(raw_term):
                term_chars.append(raw_term[i + 1])
                i += 2
                continue
            if ch in _RESERVED:
                raise SalesforceError(
                    400, "MALFORMED_SEARCH", f"line 1:{6 + i} mismatched character '{ch}' expecting '}}'"
                )
            term_chars.append(ch)
            i += 1
        term = "".join(term_chars).strip()
        if len(term.replace("*", "")) < 2:
            raise SalesforceError(400, "MALFORMED_SEARCH", "search term must be longer than one character")
        group = match.group("group").upper()
        limit = int(match.group("limit") or 2000)
        results: list[dict[str, Any]] = []
        for spec_match in re.finditer(r"(\w+)\s*(?:\(([^)]*)\))?\s*(?:,|$)", match.group("returning").strip()):
            sobject, field_list = spec_match.group(1), spec_match.group(2)
            if sobject not in self.schema:
                raise SalesforceError(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
            fields = [f.strip() for f in (field_list or "Id").split(",") if f.strip()]
            self._check_columns(sobject, fields)
            for record in self.records[sobject].values():
                if record["IsDeleted"] or record.get("IsConverted"):
                    continue
                if self._search_hit(sobject, record, term, group):
                    results.append(self._render(sobject, record, fields, version))
        return {"searchRecords": results[:limit]}

    def _search_hit(self, sobject: str, record: dict[str, Any], term: str, group: str) -> bool:
        schema = self.schema[sobject]
        if group in ("PHONE", "ALL"):
            digits = _digits(term)
            if any(
                spec.phone and record.get(name) and phone_matches(digits, record[name]) for name, spec in schema.items()
            ):
                return True
        if group in ("NAME", "ALL", "SIDEBAR"):
            name = (record.get("Name") or "").lower()
            return all(token in name for token in term.lower().split())
        return False

    # --- SOQL -----------------------------------------------------------------------------------

    _SOQL = re.compile(
        r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<sobject>\w+)(?:\s+WHERE\s+(?P<where>.+?))?"
        r"(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<dir>ASC|DESC))?)?(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
        re.IGNORECASE | re.DOTALL,
    )
    _TOKEN = re.compile(r"\s*('(?:\\.|[^'\\])*'|\(|\)|,|!=|=|[A-Za-z_][\w.]*|-?\d+)")

    def _soql(self, q: str, version: str) -> dict[str, Any]:
        match = self._SOQL.match(q)
        if match is None:
            raise SalesforceError(400, "MALFORMED_QUERY", f"unexpected token: '{q.split()[0] if q.split() else q}'")
        sobject = match.group("sobject")
        if sobject not in self.schema:
            raise SalesforceError(400, "INVALID_TYPE", f"sObject type '{sobject}' is not supported.")
        fields = [f.strip() for f in match.group("fields").split(",")]
        self._check_columns(sobject, fields)
        conditions = self._parse_where(match.group("where") or "", sobject)
        rows = [r for r in self.records[sobject].values() if not r["IsDeleted"] and all(c(r) for c in conditions)]
        order = match.group("order")
        if order:
            if order not in self.schema[sobject]:
                raise SalesforceError(400, "INVALID_FIELD", f"No such column '{order}' on entity '{sobject}'.")
            rows.sort(
                key=lambda r: (r.get(order) is None, str(r.get(order))),
                reverse=(match.group("dir") or "").upper() == "DESC",
            )
        if match.group("limit"):
            rows = rows[: int(match.group("limit"))]
        records = [self._render(sobject, r, fields, version) for r in rows]
        return {"totalSize": len(records), "done": True, "records": records}

    def _parse_where(self, where: str, sobject: str) -> list[Any]:
        if not where:
            return []
        tokens: list[str] = []
        pos = 0
        while pos < len(where):
            m = self._TOKEN.match(where, pos)
            if m is None:
                if where[pos:].strip() == "":
                    break
                raise SalesforceError(400, "MALFORMED_QUERY", f"unexpected token: '{where[pos:].split()[0]}'")
            tokens.append(m.group(1))
            pos = m.end()
        conditions: list[Any] = []
        it = iter(tokens)

        def value(tok: str) -> Any:
            if tok.startswith("'"):
                return re.sub(r"\\(.)", r"\1", tok[1:-1])
            low = tok.lower()
            if low in ("true", "false"):
                return low == "true"
            if low == "null":
                return None
            if re.fullmatch(r"-?\d+", tok):
                return int(tok)
            raise SalesforceError(400, "MALFORMED_QUERY", f"unexpected token: '{tok}'")

        while True:
            name = next(it, None)
            if name is None or not re.fullmatch(r"[A-Za-z_]\w*", name):
                raise SalesforceError(400, "MALFORMED_QUERY", f"unexpected token: '{name}'")
            if name not in self.schema[sobject]:
                raise SalesforceError(400, "INVALID_FIELD", f"No such column '{name}' on entity '{sobject}'.")
            op = next(it, None)
            if op in ("=", "!="):
                target = value(next(it, "") or "")
                negate = op == "!="
                conditions.append(lambda r, n=name, t=target, neg=negate: (r.get(n) == t) != neg)
            elif op is not None and op.upper() == "IN":
                if next(it, None) != "(":
                    raise SalesforceError(400, "MALFORMED_QUERY", "unexpected token: expecting '('")
                options: list[Any] = []
                while True:
                    tok = next(it, None)
                    if tok is None:
                        raise SalesforceError(400, "MALFORMED_QUERY", "unexpected end of query")
                    options.append(value(tok))
                    sep = next(it, None)
                    if sep == ")":
                        break
                    if sep != ",":
                        raise SalesforceError(400, "MALFORMED_QUERY", f"unexpected token: '{sep}'")
                conditions.append(lambda r, n=name, opts=tuple(options): r.get(n) in opts)
            else:
                raise SalesforceError(400, "MALFORMED_QUERY", f"unexpected token: '{op}'")
            joiner = next(it, None)
            if joiner is None:
                return conditions
            if joiner.upper() != "AND":
                raise SalesforceError(400, "MALFORMED_QUERY", f"unexpected token: '{joiner}'")

    # --- OAuth ----------------------------------------------------------------------------------

    def _oauth(self, request: httpx.Request, endpoint: str) -> httpx.Response:
        origin = f"{request.url.scheme}://{request.url.netloc.decode()}"
        if endpoint == "authorize" and request.method == "GET":
            return self._authorize(request.url.params)
        if endpoint == "token" and request.method == "POST":
            return self._token(self._form(request), origin)
        if endpoint == "revoke" and request.method == "POST":
            token = self._form(request).get("token", "")
            for grant in self.grants:
                if token == grant.refresh_token:
                    self.grants.revoke(grant, forget_access=False)
                    return httpx.Response(200)
                if token in grant.access:
                    grant.access[token] = 0
                    return httpx.Response(200)
            return httpx.Response(
                400, json={"error": "unsupported_token_type", "error_description": "this token type is not supported"}
            )
        if endpoint == "userinfo" and request.method == "GET":
            grant = self._session(request)
            if grant is None:
                return httpx.Response(403, text="Bad_OAuth_Token", headers={"Content-Type": "text/plain"})
            user = self.records["User"][grant.user_id]
            return httpx.Response(
                200,
                json={
                    "sub": f"{origin}/id/{ORG_ID}/{user['Id']}",
                    "user_id": user["Id"],
                    "organization_id": ORG_ID,
                    "preferred_username": user["Username"],
                    "name": user["Name"],
                    "email": user["Email"],
                    "email_verified": True,
                },
            )
        return httpx.Response(404, text="Not Found")

    @staticmethod
    def _form(request: httpx.Request) -> dict[str, str]:
        if "application/x-www-form-urlencoded" not in request.headers.get("Content-Type", ""):
            return {}
        return {k: v[0] for k, v in parse_qs(request.content.decode(), keep_blank_values=True).items()}

    def _authorize(self, params: httpx.QueryParams) -> httpx.Response:
        client_id = params.get("client_id", "")
        redirect_uri = params.get("redirect_uri", "")
        if client_id != self.client_id:
            return httpx.Response(
                400,
                text="<html><body>error=invalid_client_id&amp;"
                "error_description=client identifier invalid</body></html>",
                headers={"Content-Type": "text/html"},
            )
        parts = urlsplit(redirect_uri)
        if parts.scheme != "http" or parts.hostname not in ("localhost", "127.0.0.1") or not parts.port:
            return httpx.Response(
                400,
                text="<html><body>error=redirect_uri_mismatch&amp;"
                "error_description=redirect_uri must match configuration</body></html>",
                headers={"Content-Type": "text/html"},
            )
        state = params.get("state")

        def back(**values: str) -> httpx.Response:
            if state is not None:
                values["state"] = state
            sep = "&" if "?" in redirect_uri else "?"
            return httpx.Response(302, headers={"Location": f"{redirect_uri}{sep}{urlencode(values)}"})

        if params.get("response_type") != "code":
            return back(error="unsupported_response_type", error_description="response type not supported")
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method", "S256")
        if challenge is None and self.require_pkce:
            return back(error="invalid_request", error_description="missing required code challenge")
        if challenge is not None and (method != "S256" or not re.fullmatch(r"[A-Za-z0-9_-]{43}", challenge)):
            return back(error="invalid_request", error_description="invalid code challenge")
        if self.user_decision != "approve":
            return back(error="access_denied", error_description="end-user denied authorization")
        requested = tuple((params.get("scope") or " ".join(self.app_scopes)).split())
        granted = tuple(s for s in requested if s in self.app_scopes)
        code = self.grants.add_code(
            f"aPrx{secrets.token_urlsafe(40)}==",
            AuthCode(client_id, redirect_uri, challenge, self.clock.time() + CODE_LIFETIME, granted, self.user_id),
        )
        return back(code=code)

    def _token(self, form: dict[str, str], origin: str) -> httpx.Response:
        def bad(error: str, description: str, status: int = 400) -> httpx.Response:
            return httpx.Response(status, json={"error": error, "error_description": description})

        grant_type = form.get("grant_type")
        if form.get("client_id") != self.client_id:
            return bad("invalid_client_id", "client identifier invalid")
        if grant_type == "authorization_code":
            code = self.grants.redeem_code(
                form.get("code", ""),
                client_id=self.client_id,
                redirect_uri=form.get("redirect_uri"),
                verifier=form.get("code_verifier", ""),
            )
            if isinstance(code, str):
                return bad(
                    "invalid_grant",
                    {
                        "invalid_code": "invalid authorization code",
                        "redirect_mismatch": "redirect_uri must match configuration",
                        "pkce_failed": "invalid code verifier",
                    }[code],
                )
            offline = "refresh_token" in code.scopes or "offline_access" in code.scopes
            if offline:
                grant = self._new_grant()
            else:  # a session without a refresh token: usable until it times out, never renewed
                grant = self.grants.add_grant(
                    f"session-only-{secrets.token_hex(8)}", Grant(self.client_id, user_id=code.user_id)
                )
            body = self._token_body(grant, origin=origin, with_refresh=offline, scopes=code.scopes)
            return httpx.Response(200, json=body)
        if grant_type == "refresh_token":
            grant = self.grants.by_refresh(form.get("refresh_token", ""))
            if grant is None:
                return bad("invalid_grant", "expired access/refresh token")
            if self.rotate_refresh_tokens:
                self.grants.revoke(grant, forget_access=False)
                fresh = self._new_grant()
                return httpx.Response(200, json=self._token_body(fresh, origin=origin))
            return httpx.Response(200, json=self._token_body(grant, origin=origin, with_refresh=False))
        return bad("unsupported_grant_type", "grant type not supported")


def demo(clock: FakeClock | None = None, *, instance_url: str | None = None) -> SalesforceFake:
    """A small org: an account with an open opportunity, two contacts, a lead."""
    fake = SalesforceFake(clock=clock, instance_url=instance_url)
    acme = fake.add_account("Acme Corp", phone="(650) 555-0100")
    fake.add_opportunity("Acme — 20 seats", acme)
    fake.add_opportunity("Acme — renewal 2025", acme, closed=True)
    fake.add_contact("Ana Diaz", phone="(415) 555-0123", account_id=acme)
    fake.add_contact("Ben Ode", mobile="+1 212 555 7464", account_id=acme)
    fake.add_lead("Cy Lead", phone="415.555.5908", company="Lead Co")
    return fake


@contextlib.contextmanager
def served(fake: SalesforceFake) -> Iterator[str]:
    """Serves ``fake`` on a free loopback port; its instance URL becomes the served origin.

    A request the fake answers with a timeout is held open until the client gives up, so a
    client's read timeout fires on a real socket.
    """
    from tests.fakes.loopback import LoopbackServer

    with LoopbackServer(fake.handle) as server:
        fake.instance_url = server.base_url
        yield server.base_url


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.fakes.salesforce [--port N]``: a demo org on loopback until interrupted."""
    import argparse

    from tests.fakes.vendor_base import RealClock

    parser = argparse.ArgumentParser(description="Serve the fake Salesforce org on loopback.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    fake = demo(RealClock())
    with fake.serve(args.port) as base_url:
        fake.instance_url = base_url
        print(f"fake Salesforce listening on {base_url}")
        print(f"connect Logdesk with login host {base_url.removeprefix('http://')} and client id {fake.client_id}")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
