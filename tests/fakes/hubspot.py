# SPDX-License-Identifier: MIT
"""A fake HubSpot API: contacts search, the calls object, owners, call outcomes, account info.

It validates requests the way HubSpot does (bearer token, property names, enumerations, numbers,
https-only recording URLs, required ``hs_timestamp``, the shape of associations and the
call→contact type 194 — a call without associations is accepted, as HubSpot does, and read back
with no ``associations`` — filter-group limits of the search API, and the query parameters and body fields each endpoint
declares: anything else is a 400 ``VALIDATION_ERROR``), returns property values as strings, answers with
HubSpot's error envelope ``{status, message, correlationId, category, errors}`` and its
``X-HubSpot-RateLimit-*`` headers, throttles the search endpoints to ``search_per_second``
per token and everything else to ``burst_limit`` per 10 seconds, and indexes new records for
search only after ``search_lag`` seconds (HubSpot search is eventually consistent).

Serve it in-process (``fake.client()``/``fake.transport()``) or on loopback
(``python -m tests.fakes.hubspot --port 8765``; then ``LOGDESK_HUBSPOT_URL=http://127.0.0.1:8765``).
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import uuid
from collections import defaultdict, deque
from datetime import datetime
from typing import Any

import httpx
import phonenumbers

from tests.fakes.vendor_base import (
    BodyShape,
    FakeApi,
    FakeClock,
    iso,
    json_response,
    run_forever,
    sandbox_demo_contacts,
    undeclared_field,
    undeclared_param,
)

DEFAULT_TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"

DEFAULT_OUTCOMES = {
    "9d9162e7-6cf3-4944-bf63-4dff82258764": "Busy",
    "f240bbac-87c9-4f6e-bf70-924b57d47db7": "Connected",
    "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": "Left live message",
    "b2cf5968-551e-4856-9783-52b3da59a7d0": "Left voicemail",
    "73a0d17f-1163-4015-bdd5-ec830791da20": "No answer",
    "17b47fee-58de-441e-a44c-c6300d46f273": "Wrong number",
}
#: A portal-specific outcome: the adapter must fetch outcomes, not hard-code them.
CUSTOM_OUTCOME = ("5b1c7e0a-2f4d-4f0e-9a51-0c8d6e3b7a21", "Callback requested")

CALL_STATUSES = {
    "BUSY", "CALLING_CRM_USER", "CANCELED", "COMPLETED", "CONNECTING", "FAILED",
    "IN_PROGRESS", "MISSED", "NO_ANSWER", "QUEUED", "RINGING",
}
CALL_PROPERTIES = {
    "hs_timestamp", "hs_call_title", "hs_call_body", "hs_call_direction", "hs_call_duration",
    "hs_call_status", "hs_call_disposition", "hs_call_recording_url", "hs_call_from_number",
    "hs_call_to_number", "hs_call_external_id", "hs_call_external_account_id", "hs_call_source",
    "hs_call_callee_object_id", "hs_call_callee_object_type_id", "hubspot_owner_id", "hs_activity_type",
}
READ_ONLY = {"hs_object_id", "hs_createdate", "hs_lastmodifieddate"}
CONTACT_PROPERTIES = {
    "firstname", "lastname", "email", "phone", "mobilephone", "company", "hubspot_owner_id",
    "lifecyclestage", "createdate", "lastmodifieddate", "hs_object_id", "associatedcompanyid",
    "hs_searchable_calculated_phone_number", "hs_searchable_calculated_mobile_number",
}
BODY_LIMIT = 65536
CALL_TO_CONTACT = 194
CALL_TO_COMPANY = 182
ASSOCIATION_CATEGORIES = ("HUBSPOT_DEFINED", "USER_DEFINED", "INTEGRATOR_DEFINED")


# What each endpoint the adapter uses declares, from HubSpot's published specifications as generated
# into its client (HubSpot/hubspot-api-nodejs, codegen/crm/objects/calls/apis/{BasicApi,BatchApi,
# SearchApi}.ts and models/{PublicObjectSearchRequest,Filter,FilterGroup,SimplePublicObjectInput,
# SimplePublicObjectInputForCreate,PublicAssociationsForObject,AssociationSpec,
# BatchReadInputSimplePublicObjectId}.ts; codegen/crm/owners/apis/OwnersApi.ts; the contacts and
# associations APIs have the same parameters) and https://developers.hubspot.com/docs/api/crm/calls.
# Anything else is refused as a 400 VALIDATION_ERROR, the way HubSpot refuses a body field it does
# not know ("Invalid input JSON ... Unrecognized field"); for query parameters this is stricter than
# HubSpot, so the next drift fails a test instead of being ignored.
_OBJECT_READ = frozenset({"properties", "propertiesWithHistory", "associations", "archived", "idProperty"})
_OBJECT_LIST = frozenset({"limit", "after", "properties", "propertiesWithHistory", "associations", "archived"})
_SEARCH_BODY: BodyShape = {
    "query": None, "limit": None, "after": None, "sorts": None, "properties": None,
    "filterGroups": {"filters": {"highValue": None, "propertyName": None, "values": None, "value": None,
                                 "operator": None}},
}
_ENDPOINTS: list[tuple[str, re.Pattern[str], frozenset[str], BodyShape | None]] = [
    ("GET", re.compile(r"/account-info/v3/details"), frozenset(), None),
    ("GET", re.compile(r"/crm/v3/objects/contacts"), _OBJECT_LIST, None),
    ("GET", re.compile(r"/crm/v3/owners/?"), frozenset({"email", "after", "limit", "archived"}), None),
    ("GET", re.compile(r"/calling/v1/dispositions"), frozenset(), None),
    ("POST", re.compile(r"/crm/v3/objects/(contacts|calls)/search"), frozenset(), _SEARCH_BODY),
    ("POST", re.compile(r"/crm/v3/objects/calls"), frozenset(), {
        "properties": None,
        "associations": {"to": {"id": None}, "types": {"associationCategory": None, "associationTypeId": None}},
    }),
    ("GET", re.compile(r"/crm/v3/objects/contacts/[^/]+/associations/calls"), frozenset({"after", "limit"}), None),
    ("POST", re.compile(r"/crm/v3/objects/calls/batch/read"), frozenset({"archived"}),
     {"properties": None, "propertiesWithHistory": None, "idProperty": None, "inputs": {"id": None}}),
    ("GET", re.compile(r"/crm/v3/objects/calls/[^/]+"), _OBJECT_READ, None),
    ("PATCH", re.compile(r"/crm/v3/objects/calls/[^/]+"), frozenset({"idProperty"}), {"properties": None}),
]


def undeclared(method: str, path: str, params: httpx.QueryParams, body: Any) -> str | None:
    """Why HubSpot's specification does not cover this request, or ``None`` when it does (or the
    endpoint is not one the fake checks)."""
    for verb, pattern, declared, shape in _ENDPOINTS:
        if verb == method and pattern.fullmatch(path):
            name = undeclared_param(params, declared)
            if name is not None:
                return f"Unrecognized query parameter: {name}"
            field = undeclared_field(body, shape) if shape is not None else None
            if field is not None:
                return f'Invalid input JSON on line 1: Unrecognized field "{field}", not marked as ignorable'
            return None
    return None


class HubSpotError(Exception):
    def __init__(self, status: int, category: str, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status, self.category, self.message, self.errors = status, category, message, errors


def _invalid(name: str, error: str, message: str) -> dict[str, Any]:
    return {"isValid": False, "message": message, "error": error, "name": name}


def searchable_digits(raw: str) -> str:
    """HubSpot's calculated search value: the number's digits without the country code."""
    try:
        parsed = phonenumbers.parse(raw, "US")
        return phonenumbers.national_significant_number(parsed)
    except phonenumbers.NumberParseException:
        return re.sub(r"\D", "", raw)


class HubSpotFake(FakeApi):
    """In-memory HubSpot portal. See the module docstring for what it validates."""

    name = "HubSpot"

    def __init__(
        self,
        *,
        clock: FakeClock | None = None,
        tokens: set[str] | None = None,
        search_per_second: int = 4,
        burst_limit: int = 190,
        search_lag: float = 0.0,
    ) -> None:
        super().__init__(clock=clock)
        self.tokens = tokens if tokens is not None else {DEFAULT_TOKEN}
        #: Granular scopes per token; a token not listed has them all.
        self.scopes: dict[str, frozenset[str]] = {}
        self.portal_id = 24681357
        self.search_per_second = search_per_second
        self.burst_limit = burst_limit
        self.search_lag = search_lag
        self.daily_limit = 500000
        self.outcomes = dict(DEFAULT_OUTCOMES)
        self.outcomes[CUSTOM_OUTCOME[0]] = CUSTOM_OUTCOME[1]
        self.owners: dict[str, dict[str, Any]] = {
            "77": {"id": "77", "email": "agent@example.com", "type": "PERSON", "firstName": "Avery",
                   "lastName": "Agent", "userId": 9001, "archived": False},
            "78": {"id": "78", "email": "lee@example.com", "type": "PERSON", "firstName": "Lee",
                   "lastName": "Manager", "userId": 9002, "archived": False},
        }
        self.contacts: dict[str, dict[str, Any]] = {}
        self.companies: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(501)
        self._call_ids = itertools.count(90001)
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self._search_sent: dict[str, deque[float]] = defaultdict(deque)
        self._daily_used = 0

    # --- seeding and simulated people -------------------------------------------------------

    def add_contact(
        self,
        firstname: str,
        lastname: str = "",
        *,
        phone: str | None = None,
        mobilephone: str | None = None,
        company: str | None = None,
        owner_id: str | None = "77",
        email: str | None = None,
        company_id: str | None = None,
    ) -> str:
        with self.lock:
            cid = str(next(self._ids))
            now = iso(self.clock.time())
            props: dict[str, str | None] = {
                "firstname": firstname, "lastname": lastname, "phone": phone, "mobilephone": mobilephone,
                "company": company, "hubspot_owner_id": owner_id, "email": email, "associatedcompanyid": company_id,
                "lifecyclestage": "lead", "createdate": now, "lastmodifieddate": now, "hs_object_id": cid,
                "hs_searchable_calculated_phone_number": searchable_digits(phone) if phone else None,
                "hs_searchable_calculated_mobile_number": searchable_digits(mobilephone) if mobilephone else None,
            }
            self.contacts[cid] = {"id": cid, "properties": props, "createdAt": now, "updatedAt": now,
                                  "indexed_at": self.clock.time() + self.search_lag}
            return cid

    def add_company(self, name: str) -> str:
        with self.lock:
            company_id = str(next(self._ids))
            self.companies[company_id] = {"id": company_id, "name": name}
            return company_id

    def edit_call(self, call_id: str, *, title: str | None = None, body: str | None = None) -> None:
        """A person edits the call in HubSpot's UI (bumps ``hs_lastmodifieddate``)."""
        with self.lock:
            call = self.calls[call_id]
            if title is not None:
                call["properties"]["hs_call_title"] = title
            if body is not None:
                call["properties"]["hs_call_body"] = body
            self._touch(call)

    def archive_call(self, call_id: str) -> None:
        """A person deletes the call in HubSpot: it is archived and no longer found by id."""
        with self.lock:
            self.calls[call_id]["archived"] = True

    def _touch(self, record: dict[str, Any]) -> None:
        self.clock.advance(0.001)  # two writes never share a modification time
        now = iso(self.clock.time())
        record["updatedAt"] = now
        record["properties"]["hs_lastmodifieddate"] = now

    # --- wire helpers -----------------------------------------------------------------------

    def error_response(
        self, status: int, message: str | None = None, *, retry_after: float | None = None
    ) -> httpx.Response:
        categories = {400: "VALIDATION_ERROR", 401: "INVALID_AUTHENTICATION", 403: "MISSING_SCOPES",
                      404: "OBJECT_NOT_FOUND", 409: "CONFLICT", 429: "RATE_LIMITS"}
        default = {429: "You have reached your ten_secondly_rolling limit.",
                   401: "Authentication credentials not found.",
                   500: "internal error"}.get(status, "error")
        body: dict[str, Any] = {"status": "error", "message": message or default, "correlationId": str(uuid.uuid4()),
                                "category": categories.get(status, "INTERNAL_ERROR")}
        headers = {}
        if status == 429:
            body["errorType"] = "RATE_LIMIT"
            body["policyName"] = "TEN_SECONDLY_ROLLING"
            if retry_after is not None:
                headers["Retry-After"] = f"{retry_after:g}"
        return json_response(status, body, headers)

    def _error(self, exc: HubSpotError) -> httpx.Response:
        body: dict[str, Any] = {"status": "error", "message": exc.message,
                                "correlationId": str(uuid.uuid4()), "category": exc.category}
        if exc.errors:
            body["errors"] = exc.errors
        return json_response(exc.status, body)

    def _limit_headers(self, token: str) -> dict[str, str]:
        window = self._sent[token]
        return {
            "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - self._daily_used)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": str(self.burst_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.burst_limit - len(window))),
        }

    @staticmethod
    def _prune(window: deque[float], now: float, seconds: float) -> None:
        while window and window[0] <= now - seconds:
            window.popleft()

    # --- routing ----------------------------------------------------------------------------

    def route(self, request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            return self.error_response(
                401, "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can "
                "find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview")
        token = auth[len("Bearer "):]
        if token not in self.tokens:
            return self.error_response(401, "The access token provided is invalid or has been revoked.")
        path, method = request.url.path, request.method
        needed = _scope_for(method, path)
        if needed and needed not in self.scopes.get(token, ALL_SCOPES):
            return json_response(403, {
                "status": "error",
                "message": "This app hasn't been granted all required scopes to make this call. Read more about "
                           "required scopes here: https://developers.hubspot.com/scopes.",
                "correlationId": str(uuid.uuid4()),
                "errors": [{"message": "One or more of the following scopes are required.",
                            "context": {"requiredGranularScopes": [needed]}}],
                "links": {"scopes": "https://developers.hubspot.com/scopes"},
                "category": "MISSING_SCOPES",
            })
        now = self.clock.time()
        is_search = path.endswith("/search")
        if self._daily_used >= self.daily_limit:
            return json_response(
                429,
                {"status": "error", "message": "You have reached your daily limit.", "errorType": "RATE_LIMIT",
                 "correlationId": str(uuid.uuid4()), "policyName": "DAILY", "category": "RATE_LIMITS"},
                self._limit_headers(token),
            )
        if is_search:
            window = self._search_sent[token]
            self._prune(window, now, 1.0)
            if len(window) >= self.search_per_second:
                body = {"status": "error", "message": "You have reached your secondly limit.",
                        "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()), "policyName": "SECONDLY",
                        "category": "RATE_LIMITS"}
                return json_response(429, body)
            window.append(now)
        else:
            window = self._sent[token]
            self._prune(window, now, 10.0)
            if len(window) >= self.burst_limit:
                return json_response(
                    429,
                    {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                     "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()),
                     "policyName": "TEN_SECONDLY_ROLLING", "category": "RATE_LIMITS"},
                    self._limit_headers(token),
                )
            window.append(now)
        self._daily_used += 1
        try:
            raw = json.loads(request.content) if request.content else None
        except ValueError:
            return self._error(HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON on line 1"))
        problem = undeclared(method, path, request.url.params, raw)
        if problem is not None:
            return self._error(HubSpotError(400, "VALIDATION_ERROR", problem))
        try:
            status, body = self._dispatch(method, path, request.url.params, raw)
        except HubSpotError as exc:
            return self._error(exc)
        return json_response(status, body, {} if is_search else self._limit_headers(token))

    def _dispatch(self, method: str, path: str, params: httpx.QueryParams, raw: Any) -> tuple[int, Any]:
        if method == "GET" and path == "/account-info/v3/details":
            return 200, {"portalId": self.portal_id, "accountType": "STANDARD", "timeZone": "US/Eastern",
                         "companyCurrency": "USD", "additionalCurrencies": [], "utcOffset": "-05:00",
                         "utcOffsetMilliseconds": -18000000, "uiDomain": "app.hubspot.com",
                         "dataHostingLocation": "na1"}
        if method == "GET" and path == "/crm/v3/objects/contacts":
            limit = int(params.get("limit") or 10)
            rows = list(self.contacts.values())[:limit]
            return 200, {"results": [{"id": r["id"], "properties": {"hs_object_id": r["id"]},
                                      "createdAt": r["createdAt"], "updatedAt": r["updatedAt"], "archived": False}
                                     for r in rows]}
        if method == "GET" and path.rstrip("/") == "/crm/v3/owners":
            email = params.get("email")
            owners = [o for o in self.owners.values() if email is None or o["email"].lower() == email.lower()]
            return 200, {"results": owners}
        if method == "GET" and path == "/calling/v1/dispositions":
            return 200, [{"id": k, "label": v, "deleted": False} for k, v in self.outcomes.items()]
        if method == "POST" and path == "/crm/v3/objects/contacts/search":
            return 200, self._search(self.contacts, raw, CONTACT_PROPERTIES)
        if method == "POST" and path == "/crm/v3/objects/calls/search":
            return 200, self._search(self.calls, raw, CALL_PROPERTIES | READ_ONLY)
        if method == "POST" and path == "/crm/v3/objects/calls":
            return 201, self._create_call(raw)
        m = re.fullmatch(r"/crm/v3/objects/contacts/([^/]+)/associations/calls", path)
        if m and method == "GET":
            if m.group(1) not in self.contacts:
                raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Object not found. objectId: {m.group(1)}")
            ids = [c["id"] for c in self.calls.values() if m.group(1) in c["contacts"] and not c["archived"]]
            return 200, {"results": [{"id": i, "type": "contact_to_call"} for i in ids]}
        if method == "POST" and path == "/crm/v3/objects/calls/batch/read":
            inputs = raw.get("inputs") if isinstance(raw, dict) else None
            if not isinstance(inputs, list) or len(inputs) > 100:
                raise HubSpotError(400, "VALIDATION_ERROR", "inputs must be a list of at most 100 objects")
            names = [*(raw.get("properties") or []), "hs_object_id", "hs_createdate", "hs_lastmodifieddate"]
            found = [self.calls[str(i.get("id"))] for i in inputs
                     if isinstance(i, dict) and str(i.get("id")) in self.calls
                     and not self.calls[str(i.get("id"))]["archived"]]
            now = iso(self.clock.time())
            body: dict[str, Any] = {"status": "COMPLETE", "results": [self._shape(c, names) for c in found],
                                    "startedAt": now, "completedAt": now}
            missing = len(inputs) - len(found)
            if missing:
                body.update({"numErrors": missing, "errors": [{"status": "error", "category": "OBJECT_NOT_FOUND",
                                                               "message": "Could not get some CALL objects"}]})
                return 207, body
            return 200, body
        m = re.fullmatch(r"/crm/v3/objects/calls/([^/]+)", path)
        if m:
            call = self.calls.get(m.group(1))
            if call is None or call["archived"]:
                raise HubSpotError(404, "OBJECT_NOT_FOUND", "Object not found.  objectId are usually numeric.")
            if method == "GET":
                return 200, self._render_call(call, params)
            if method == "PATCH":
                return 200, self._patch_call(call, raw)
        raise HubSpotError(404, "OBJECT_NOT_FOUND", f"Unable to infer object type from: {path}")

    # --- calls ------------------------------------------------------------------------------

    def _validate_properties(self, raw_props: Any, *, creating: bool) -> dict[str, str]:
        if not isinstance(raw_props, dict):
            raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON: properties must be an object")
        problems: list[dict[str, Any]] = []
        clean: dict[str, str] = {}
        for name, value in raw_props.items():
            if name in READ_ONLY or name not in CALL_PROPERTIES:
                problems.append(_invalid(name, "PROPERTY_DOESNT_EXIST",
                                         f'Property "{name}" does not exist' if name not in READ_ONLY
                                         else f'"{name}" is a read only property; its value cannot be set.'))
                continue
            if isinstance(value, (dict, list)):
                problems.append(_invalid(name, "INVALID_PROPERTY_VALUE", f"{value!r} is not a valid value"))
                continue
            text = "" if value is None else (str(value).lower() if isinstance(value, bool) else str(value))
            clean[name] = text
            if text == "":
                continue
            if name == "hs_call_direction" and text not in ("INBOUND", "OUTBOUND"):
                problems.append(_invalid(name, "INVALID_OPTION",
                                         f"{text} was not one of the allowed options: [INBOUND, OUTBOUND]"))
            elif name == "hs_call_status" and text not in CALL_STATUSES:
                problems.append(_invalid(name, "INVALID_OPTION",
                                         f"{text} was not one of the allowed options: {sorted(CALL_STATUSES)}"))
            elif name == "hs_call_disposition" and text not in self.outcomes:
                problems.append(_invalid(name, "INVALID_OPTION", f"{text} was not one of the allowed options"))
            elif name == "hs_call_duration" and not re.fullmatch(r"\d+", text):
                problems.append(_invalid(name, "INVALID_LONG", f"{text} is not a valid long"))
            elif name == "hs_call_recording_url" and not text.startswith("https://"):
                problems.append(_invalid(name, "INVALID_URL", "Recording URL must use https"))
            elif name == "hs_call_body" and len(text) > BODY_LIMIT:
                problems.append(_invalid(name, "INVALID_PROPERTY_VALUE",
                                         f"value is {len(text)} characters, more than the limit of {BODY_LIMIT}"))
            elif name == "hs_timestamp" and not _valid_timestamp(text):
                problems.append(_invalid(name, "INVALID_DATE", f"{text} is not a valid date-time"))
            elif name == "hubspot_owner_id" and text not in self.owners:
                problems.append(_invalid(name, "INVALID_OWNER_ID", f"{text} is not a valid owner id"))
        if creating and not clean.get("hs_timestamp"):
            problems.append(_invalid("hs_timestamp", "REQUIRED_PROPERTY", "hs_timestamp is required"))
        if problems:
            raise HubSpotError(
                400, "VALIDATION_ERROR", f"Property values were not valid: {json.dumps(problems)}",
                [{"message": p["message"], "code": p["error"], "context": {"propertyName": [p["name"]]}}
                 for p in problems],
            )
        return clean

    def _create_call(self, raw: Any) -> dict[str, Any]:
        # SimplePublicObjectInputForCreate: ``properties`` required, ``associations`` optional (a call
        # without one is created and shows on the calls index page only); each association needs
        # ``to.id`` and ``types`` of {associationCategory, associationTypeId}
        # (HubSpot/hubspot-api-nodejs codegen/crm/objects/calls/models/SimplePublicObjectInputForCreate.ts,
        # PublicAssociationsForObject.ts, AssociationSpec.ts; https://developers.hubspot.com/docs/api/crm/calls).
        if not isinstance(raw, dict):
            raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON")
        props = self._validate_properties(raw.get("properties"), creating=True)
        contact_ids: list[str] = []
        company_ids: list[str] = []
        associations = raw.get("associations")
        if associations is not None and not isinstance(associations, list):
            raise HubSpotError(400, "VALIDATION_ERROR",
                               "Invalid input JSON on line 1: associations must be an array")
        for assoc in associations or []:
            to = assoc.get("to") if isinstance(assoc, dict) else None
            types = assoc.get("types") if isinstance(assoc, dict) else None
            if (not isinstance(to, dict) or not isinstance(to.get("id"), str | int) or str(to["id"]) == ""
                    or not isinstance(types, list) or not types
                    or not all(isinstance(t, dict) and t.get("associationCategory") in ASSOCIATION_CATEGORIES
                               and isinstance(t.get("associationTypeId"), int) for t in types)):
                raise HubSpotError(400, "VALIDATION_ERROR",
                                   "Invalid input JSON: each association needs to.id and types "
                                   "[{associationCategory, associationTypeId}]")
            to_id = str(to["id"])
            kinds = {t.get("associationTypeId") for t in types if t.get("associationCategory") == "HUBSPOT_DEFINED"}
            if len(kinds) != 1 or len(types) != 1 or not kinds <= {CALL_TO_CONTACT, CALL_TO_COMPANY}:
                raise HubSpotError(
                    400, "VALIDATION_ERROR",
                    f"association types {[t.get('associationTypeId') for t in types]} are not valid for a call")
            target = self.contacts if CALL_TO_CONTACT in kinds else self.companies
            if to_id not in target:
                what = "contact" if CALL_TO_CONTACT in kinds else "company"
                raise HubSpotError(400, "VALIDATION_ERROR",
                                   f"One or more associations are invalid: {what} {to_id} does not exist")
            (contact_ids if CALL_TO_CONTACT in kinds else company_ids).append(to_id)
        cid = str(next(self._call_ids))
        now = iso(self.clock.time())
        props.update({"hs_object_id": cid, "hs_createdate": now, "hs_lastmodifieddate": now})
        call = {"id": cid, "properties": {k: v for k, v in props.items() if v != ""}, "createdAt": now,
                "updatedAt": now, "archived": False, "contacts": contact_ids, "companies": company_ids,
                "indexed_at": self.clock.time() + self.search_lag}
        self.calls[cid] = call
        return self._shape(call, list(props))

    def _patch_call(self, call: dict[str, Any], raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON")
        props = self._validate_properties(raw.get("properties"), creating=False)
        for k, v in props.items():
            if v == "":
                call["properties"].pop(k, None)
            else:
                call["properties"][k] = v
        self._touch(call)
        return self._shape(call, [*props, "hs_object_id", "hs_createdate", "hs_lastmodifieddate"])

    def _shape(self, call: dict[str, Any], names: list[str]) -> dict[str, Any]:
        return {"id": call["id"], "properties": {n: call["properties"].get(n) for n in names},
                "createdAt": call["createdAt"], "updatedAt": call["updatedAt"], "archived": call["archived"]}

    def _render_call(self, call: dict[str, Any], params: httpx.QueryParams) -> dict[str, Any]:
        wanted = [p for p in ",".join(params.get_list("properties")).split(",") if p]
        names = [*wanted, "hs_object_id", "hs_createdate", "hs_lastmodifieddate"]
        if not wanted:
            names += ["hs_timestamp", "hs_call_title", "hs_call_body"]
        out = self._shape(call, list(dict.fromkeys(names)))
        assoc = ",".join(params.get_list("associations"))
        # SimplePublicObjectWithAssociations.associations is optional: a call with no contact has none
        # (HubSpot/hubspot-api-nodejs codegen/crm/objects/calls/models/SimplePublicObjectWithAssociations.ts).
        if "contacts" in assoc.split(",") and call["contacts"]:
            out["associations"] = {"contacts": {"results": [{"id": c, "type": "call_to_contact"}
                                                            for c in call["contacts"]]}}
        return out

    # --- search -----------------------------------------------------------------------------

    def _search(self, store: dict[str, dict[str, Any]], raw: Any, known: set[str]) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise HubSpotError(400, "VALIDATION_ERROR", "Invalid input JSON")
        groups = raw.get("filterGroups") or []
        total_filters = sum(len(g.get("filters") or []) for g in groups)
        if len(groups) > 5 or total_filters > 25 or any(len(g.get("filters") or []) > 10 for g in groups):
            raise HubSpotError(400, "VALIDATION_ERROR",
                               "There was a problem with the request. Too many filter groups or filters: "
                               "at most 5 groups, 10 filters per group and 25 filters in total")
        for g in groups:
            for f in g.get("filters") or []:
                if f.get("propertyName") not in known:
                    raise HubSpotError(
                        400, "VALIDATION_ERROR",
                        f"There was a problem with the request. Unknown property {f.get('propertyName')}")
                if f.get("operator") not in ("EQ", "NEQ", "IN", "CONTAINS_TOKEN", "HAS_PROPERTY", "NOT_HAS_PROPERTY"):
                    raise HubSpotError(400, "VALIDATION_ERROR", f"Unsupported operator {f.get('operator')}")
        limit = raw.get("limit", 10)
        if not isinstance(limit, int) or not 1 <= limit <= 200:
            raise HubSpotError(400, "VALIDATION_ERROR", "limit must be between 1 and 200")
        after = int(raw.get("after") or 0)
        now = self.clock.time()
        matches = [
            r for r in store.values()
            if r["indexed_at"] <= now and not r.get("archived")
            and (not groups or any(_group_matches(g, r["properties"]) for g in groups))
        ]
        query = raw.get("query")
        if query:
            q = str(query).lower()
            matches = [r for r in matches if any(q in str(v).lower() for v in r["properties"].values() if v)]
        page = matches[after: after + limit]
        names = list(dict.fromkeys([*(raw.get("properties") or []), "hs_object_id"]))
        out: dict[str, Any] = {
            "total": len(matches),
            "results": [{"id": r["id"], "properties": {n: r["properties"].get(n) for n in names},
                         "createdAt": r["createdAt"], "updatedAt": r["updatedAt"], "archived": False} for r in page],
        }
        if after + limit < len(matches):
            out["paging"] = {"next": {"after": str(after + limit)}}
        return out


ALL_SCOPES = frozenset({"crm.objects.contacts.read", "crm.objects.contacts.write", "crm.objects.owners.read"})


def _scope_for(method: str, path: str) -> str | None:
    """The granular scope HubSpot requires for a request (calls are covered by the contacts scopes)."""
    if path.startswith("/crm/v3/owners"):
        return "crm.objects.owners.read"
    if path.startswith("/crm/v3/objects/"):
        reads = path.endswith(("/search", "/batch/read"))
        writes = method in ("PATCH", "PUT", "DELETE") or (method == "POST" and not reads)
        return "crm.objects.contacts.write" if writes else "crm.objects.contacts.read"
    return None


def _group_matches(group: dict[str, Any], props: dict[str, Any]) -> bool:
    for f in group.get("filters") or []:
        value = props.get(f["propertyName"])
        op = f["operator"]
        target = f.get("value")
        if op == "HAS_PROPERTY":
            ok = bool(value)
        elif op == "NOT_HAS_PROPERTY":
            ok = not value
        elif op == "IN":
            ok = value is not None and str(value).lower() in {str(v).lower() for v in f.get("values") or []}
        elif op == "CONTAINS_TOKEN":
            ok = value is not None and str(target).lower().strip("*") in str(value).lower()
        elif op == "NEQ":
            ok = value is None or str(value).lower() != str(target).lower()
        else:
            ok = value is not None and str(value).lower() == str(target).lower()
        if not ok:
            return False
    return True


def _valid_timestamp(text: str) -> bool:
    if re.fullmatch(r"\d{10,13}", text):
        return True
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def demo() -> HubSpotFake:
    """A portal holding the sandbox's demo contacts, for running the app against (wall-clock time)."""
    from tests.fakes.vendor_base import RealClock

    fake = HubSpotFake(clock=RealClock())
    for person in sandbox_demo_contacts():
        company_id = fake.add_company(person["company"]) if person.get("company") else None
        fake.add_contact(person["firstName"], person.get("lastName", ""), phone=person.get("crmPhone") or
                         person["phoneNumber"], company=person.get("company"), email=person.get("email"),
                         company_id=company_id)
    return fake


if __name__ == "__main__":
    sys.exit(run_forever(demo(), sys.argv[1:], env_var="LOGDESK_HUBSPOT_URL",
                         describe=f"token: {DEFAULT_TOKEN}"))
