# SPDX-License-Identifier: MIT
"""A fake Pipedrive company: users, activity types, persons (search), deals, leads, activities.

It validates requests the way Pipedrive does: the ``x-api-token`` header (or ``api_token``
query parameter); v2 activities refuse ``person_id`` (read-only: the person is a primary
participant), ``done``/``busy`` given as 1/0 instead of booleans, an inactive or unknown activity
``type``, ``due_date`` not ``YYYY-MM-DD``, ``due_time``/``duration`` not ``HH:MM``, unknown
persons, deals, leads (UUIDs) and owners, unknown fields, and notes over :data:`NOTE_LIMIT`.
Activities come back with ``participants: [{person_id, primary}]`` (the v2 ActivityItem). Leads
are listed as Pipedrive does since July 2025: ``/v1/leads`` without the archived ones,
``/v1/leads/archived`` with only those; the removed ``archived_status`` filter is refused.
Query parameters an endpoint does not declare are refused (``Validation failed: <name>: Unknown
parameter``), as are participant fields other than ``person_id`` and ``primary``.
Person search needs a term of at least 2 characters (unless ``exact_match``) and compares
phone digits, ignoring formatting (what makes App Connect's national-number search work).
Notes are sanitised as Pipedrive does: ``<script>`` elements are removed.

Answers use Pipedrive's envelopes (``{success, data, additional_data}``; errors
``{success: false, error, code}`` on v2 and ``{success: false, error, error_info, data,
additional_data}`` on v1), RFC 3339 times on v2 and ``YYYY-MM-DD HH:MM:SS`` on v1, and the
``x-ratelimit-limit/-remaining/-reset`` headers of the 2-second burst window, a separate
10-per-2-seconds window for the search API, ``x-daily-requests-left`` for writes and the
company's daily token budget (429 when any of them is spent).

Serve it in-process (``fake.client()``) or on loopback
(``python -m tests.fakes.pipedrive --port 8766``; then ``LOGDESK_PIPEDRIVE_URL=http://127.0.0.1:8766``).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import sys
import uuid
from collections import deque
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.fakes.vendor_base import (
    BodyShape,
    FakeApi,
    FakeClock,
    json_response,
    run_forever,
    sandbox_demo_contacts,
    undeclared_field,
    undeclared_param,
)

DEFAULT_TOKEN = "3f2a9c1d7e5b4a6f8c0d2e4f6a8b0c1d2e3f4a5b"
NOTE_LIMIT = 100_000
ACTIVITY_FIELDS = {
    "subject", "type", "owner_id", "deal_id", "lead_id", "person_id", "org_id", "project_id", "due_date",
    "due_time", "duration", "busy", "done", "note", "location", "public_description", "priority",
    "participants", "attendees",
}


# The query parameters each endpoint the adapter uses declares, from Pipedrive's specification as
# generated into its client (pipedrive/client-nodejs: src/versions/v2/api/{persons,deals,activities}-api.ts,
# src/versions/v1/api/{users,activity-types,leads}-api.ts; https://developers.pipedrive.com/docs/api/v1).
# ``api_token`` is the documented alternative to the x-api-token header. "All v2 endpoints now have
# significantly stricter input validation" (https://pipedrive.readme.io/docs/pipedrive-api-v2-migration-guide):
# the fake refuses anything else, on v1 too, so the next drift fails a test.
_LEAD_LIST = {"limit", "start", "owner_id", "person_id", "organization_id", "filter_id", "sort"}
DECLARED_PARAMS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/v1/users/me"): frozenset(),
    ("GET", "/v1/users"): frozenset(),
    ("GET", "/v1/activityTypes"): frozenset(),
    ("GET", "/api/v2/persons/search"): frozenset(
        {"term", "fields", "exact_match", "organization_id", "include_fields", "limit", "cursor"}),
    ("GET", "/api/v2/persons"): frozenset(
        {"filter_id", "ids", "owner_id", "org_id", "deal_id", "updated_since", "updated_until", "sort_by",
         "sort_direction", "include_fields", "custom_fields", "limit", "cursor"}),
    ("GET", "/api/v2/deals"): frozenset(
        {"filter_id", "ids", "owner_id", "person_id", "org_id", "pipeline_id", "stage_id", "status",
         "updated_since", "updated_until", "sort_by", "sort_direction", "include_fields", "custom_fields",
         "limit", "cursor"}),
    ("GET", "/v1/leads"): frozenset(_LEAD_LIST | {"updated_since"}),
    ("GET", "/v1/leads/archived"): frozenset(_LEAD_LIST),
    ("GET", "/api/v2/activities"): frozenset(
        {"filter_id", "ids", "owner_id", "deal_id", "lead_id", "person_id", "org_id", "done", "updated_since",
         "updated_until", "sort_by", "sort_direction", "include_fields", "limit", "cursor"}),
    ("POST", "/api/v2/activities"): frozenset(),
    ("GET", "/api/v2/activities/{id}"): frozenset({"include_fields"}),
    ("PATCH", "/api/v2/activities/{id}"): frozenset(),
}
#: A participant of an activity: AddActivityRequestParticipantsInner (src/versions/v2/models/).
PARTICIPANT_FIELDS: BodyShape = {"person_id": None, "primary": None}


def _endpoint(method: str, path: str) -> tuple[str, str]:
    path = path if path.startswith("/api/v2/") else path.removeprefix("/api")
    return method, re.sub(r"^(/api/v2/activities/)\d+$", r"\1{id}", path)


class PipedriveError(Exception):
    def __init__(self, status: int, message: str, code: str = "ERR_BAD_REQUEST") -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def _v2_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _v1_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def token_cost(method: str, path: str) -> int:
    """What a request costs from the daily token budget. Pipedrive publishes a cost per endpoint,
    v2 being cheaper than v1 and searches dearer; these figures keep those proportions."""
    if path.endswith("/search"):
        return 20
    base = 5 if method in ("POST", "PUT", "PATCH", "DELETE") else 1
    return base if path.startswith("/api/v2/") else base * 2


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


class PipedriveFake(FakeApi):
    """In-memory Pipedrive company. See the module docstring for what it validates."""

    name = "Pipedrive"

    def __init__(self, *, clock: FakeClock | None = None, tokens: set[str] | None = None,
                 burst_limit: int = 40, search_limit: int = 10, daily_writes: int = 10_000,
                 token_budget: int = 1_000_000) -> None:
        super().__init__(clock=clock)
        self.tokens = tokens if tokens is not None else {DEFAULT_TOKEN}
        self.burst_limit = burst_limit
        #: The search API has its own window: 10 requests per 2 seconds on every plan.
        self.search_limit = search_limit
        #: POST/PUT/PATCH requests left today for an api_token (``x-daily-requests-left``).
        self.daily_writes = daily_writes
        #: The company's token budget left today (token-based rate limiting; see :func:`token_cost`).
        self.token_budget = token_budget
        self.company_domain = "acme"
        self.users: dict[int, dict[str, Any]] = {
            77: {"id": 77, "name": "Avery Agent", "email": "agent@example.com", "active_flag": True},
            78: {"id": 78, "name": "Lee Manager", "email": "lee@example.com", "active_flag": True},
        }
        self.me = 77
        self.activity_types: list[dict[str, Any]] = [
            {"id": 1, "order_nr": 1, "name": "Call", "key_string": "call", "icon_key": "call", "active_flag": True,
             "is_custom_flag": False},
            {"id": 2, "order_nr": 2, "name": "Meeting", "key_string": "meeting", "icon_key": "meeting",
             "active_flag": True, "is_custom_flag": False},
            {"id": 3, "order_nr": 3, "name": "Task", "key_string": "task", "icon_key": "task", "active_flag": True,
             "is_custom_flag": False},
        ]
        self.orgs: dict[int, dict[str, Any]] = {}
        self.persons: dict[int, dict[str, Any]] = {}
        self.deals: dict[int, dict[str, Any]] = {}
        self.leads: dict[str, dict[str, Any]] = {}
        self.activities: dict[int, dict[str, Any]] = {}
        self._ids = itertools.count(501)
        self._activity_ids = itertools.count(9001)
        self._window: deque[float] = deque()
        self._search_window: deque[float] = deque()

    # --- seeding and simulated people -------------------------------------------------------

    def add_org(self, name: str) -> int:
        with self.lock:
            oid = next(self._ids)
            self.orgs[oid] = {"id": oid, "name": name}
            return oid

    def add_person(self, name: str, phones: list[str], *, org_id: int | None = None, owner_id: int = 77) -> int:
        with self.lock:
            pid = next(self._ids)
            first, _, last = name.partition(" ")
            now = self.clock.time()
            self.persons[pid] = {
                "id": pid, "name": name, "first_name": first, "last_name": last or None, "owner_id": owner_id,
                "org_id": org_id, "add_time": _v2_time(now), "update_time": _v2_time(now), "is_deleted": False,
                "visible_to": 3,
                "phones": [{"value": p, "primary": i == 0, "label": "work"} for i, p in enumerate(phones)],
                "emails": [],
            }
            return pid

    def add_deal(self, title: str, person_id: int, *, status: str = "open") -> int:
        with self.lock:
            did = next(self._ids)
            self.deals[did] = {"id": did, "title": title, "person_id": person_id, "status": status,
                               "owner_id": self.me, "value": 0, "currency": "USD",
                               "add_time": _v2_time(self.clock.time())}
            return did

    def add_lead(self, title: str, person_id: int, *, archived: bool = False) -> str:
        with self.lock:
            lid = str(uuid.uuid4())
            self.leads[lid] = {"id": lid, "title": title, "person_id": person_id, "organization_id": None,
                               "owner_id": self.me, "is_archived": archived,
                               "add_time": datetime.fromtimestamp(self.clock.time(), UTC).isoformat()}
            return lid

    def edit_activity(self, activity_id: int, *, subject: str | None = None, note: str | None = None) -> None:
        """A person edits the activity in Pipedrive's UI (bumps ``update_time``)."""
        with self.lock:
            activity = self.activities[activity_id]
            if subject is not None:
                activity["subject"] = subject
            if note is not None:
                activity["note"] = note
            self._touch(activity)

    def delete_activity(self, activity_id: int) -> None:
        """A person deletes the activity in Pipedrive (it is marked deleted, then 404 by id)."""
        with self.lock:
            self.activities[activity_id]["is_deleted"] = True

    def _touch(self, activity: dict[str, Any]) -> None:
        # Like Pipedrive's, update_time has one-second resolution: two writes within a second
        # leave the same value (one reason the adapter does not claim versioned writes).
        activity["update_time"] = _v2_time(self.clock.time())

    # --- wire helpers -----------------------------------------------------------------------

    def error_response(
        self, status: int, message: str | None = None, *, retry_after: float | None = None
    ) -> httpx.Response:
        texts = {400: "Bad request", 401: "unauthorized access", 403: "You do not have permissions",
                 404: "Not found", 409: "Conflict", 410: "Gone", 422: "Unprocessable entity",
                 429: "Request over limit", 500: "Internal server error", 502: "Bad gateway",
                 503: "Service unavailable"}
        body = {"success": False, "error": message or texts.get(status, "Error"), "errorCode": status,
                "error_info": "Please check developers.pipedrive.com for more information",
                "data": None, "additional_data": None}
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        return json_response(status, body, headers)

    def _limit_headers(self) -> dict[str, str]:
        reset = 0
        if self._window:
            reset = max(0, math.ceil(self._window[0] + 2.0 - self.clock.time()))
        return {
            "x-ratelimit-limit": str(self.burst_limit),
            "x-ratelimit-remaining": str(max(0, self.burst_limit - len(self._window))),
            "x-ratelimit-reset": str(reset),
            "x-daily-requests-left": str(max(0, self.daily_writes)),
        }

    # --- routing ----------------------------------------------------------------------------

    def route(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("x-api-token") or request.url.params.get("api_token")
        if token not in self.tokens:
            return self.error_response(401)
        now = self.clock.time()
        while self._window and self._window[0] <= now - 2.0:
            self._window.popleft()
        while self._search_window and self._search_window[0] <= now - 2.0:
            self._search_window.popleft()
        is_search = request.url.path.endswith("/search")
        is_write = request.method in ("POST", "PUT", "PATCH")
        cost = token_cost(request.method, request.url.path)
        if (len(self._window) >= self.burst_limit
                or (is_search and len(self._search_window) >= self.search_limit)
                or (is_write and self.daily_writes <= 0)
                or self.token_budget < cost):
            return json_response(429, {"success": False, "error": "Request over limit", "errorCode": 429,
                                       "error_info": "Please check developers.pipedrive.com for more information",
                                       "data": None, "additional_data": None}, self._limit_headers())
        self._window.append(now)
        if is_search:
            self._search_window.append(now)
        if is_write:
            self.daily_writes -= 1
        self.token_budget -= cost
        path, v2 = request.url.path, request.url.path.startswith("/api/v2/")
        try:
            raw = json.loads(request.content) if request.content else None
        except ValueError:
            raw = None
            if request.method in ("POST", "PATCH"):
                return self._error(PipedriveError(400, "Invalid JSON in request body"), v2)
        declared = DECLARED_PARAMS.get(_endpoint(request.method, path))
        name = undeclared_param(request.url.params, declared | {"api_token"}) if declared is not None else None
        if name is not None:
            return self._error(PipedriveError(400, f"Validation failed: {name}: Unknown parameter"), v2)
        try:
            status, body = self._dispatch(request.method, path, request.url.params, raw)
        except PipedriveError as exc:
            return self._error(exc, v2)
        return json_response(status, body, self._limit_headers())

    def _error(self, exc: PipedriveError, v2: bool) -> httpx.Response:
        if v2:
            body: dict[str, Any] = {"success": False, "error": exc.message, "code": exc.code}
        else:
            body = {"success": False, "error": exc.message,
                    "error_info": "Please check developers.pipedrive.com for more information",
                    "data": None, "additional_data": None}
        return json_response(exc.status, body, self._limit_headers())

    def _dispatch(self, method: str, path: str, params: httpx.QueryParams, raw: Any) -> tuple[int, Any]:
        if method == "GET" and path in ("/v1/users/me", "/api/v1/users/me"):
            user = self.users[self.me]
            return 200, {"success": True, "data": {**user, "company_id": 4242, "company_name": "Acme Inc.",
                                                   "company_domain": self.company_domain,
                                                   "timezone_name": "Europe/Berlin", "locale": "en_US"}}
        if method == "GET" and path in ("/v1/users", "/api/v1/users"):
            return 200, {"success": True, "data": list(self.users.values())}
        if method == "GET" and path in ("/v1/activityTypes", "/api/v1/activityTypes"):
            return 200, {"success": True, "data": self.activity_types}
        if method == "GET" and path == "/api/v2/persons/search":
            return 200, self._search_persons(params)
        if method == "GET" and path == "/api/v2/persons":
            ids = [int(x) for x in (params.get("ids") or "").split(",") if x.strip().isdigit()]
            people = [self.persons[i] for i in ids if i in self.persons] if ids else list(self.persons.values())
            return 200, {"success": True, "data": people, "additional_data": {"next_cursor": None}}
        if method == "GET" and path == "/api/v2/deals":
            person = params.get("person_id")
            status = params.get("status")
            deals = [d for d in self.deals.values()
                     if (person is None or str(d["person_id"]) == person) and (status is None or d["status"] == status)]
            return 200, {"success": True, "data": deals, "additional_data": {"next_cursor": None}}
        if method == "GET" and path.removeprefix("/api") in ("/v1/leads", "/v1/leads/archived"):
            # "Get all leads" returns not archived leads only, "Get all archived leads" the archived
            # ones; the archived_status filter is gone (changelog "Breaking change: archived deals
            # and leads will not be returned in existing endpoints", 2025-07-15,
            # https://developers.pipedrive.com/changelog/post/breaking-change-archived-deals-and-leads-will-not-be-returned-in-existing-endpoints-and-will-not-be-editable;
            # pipedrive/client-nodejs src/versions/v1/api/leads-api.ts and CHANGELOG 26.0.0).
            person = params.get("person_id")
            archived = path.endswith("/archived")
            leads = [lead for lead in self.leads.values()
                     if (person is None or str(lead["person_id"]) == person) and lead["is_archived"] == archived]
            return 200, {"success": True, "data": leads or None, "additional_data": {"pagination": {
                "start": 0, "limit": 100, "more_items_in_collection": False}}}
        if path == "/api/v2/activities":
            if method == "POST":
                return 200, {"success": True, "data": self._create_activity(raw)}
            if method == "GET":
                return 200, self._list_activities(params)
        m = re.fullmatch(r"/api/v2/activities/(\d+)", path)
        if m:
            activity = self.activities.get(int(m.group(1)))
            if activity is None or activity["is_deleted"]:
                raise PipedriveError(404, "Activity not found", "ERR_NOT_FOUND")
            if method == "GET":
                return 200, {"success": True, "data": self._render(activity)}
            if method == "PATCH":
                self._apply(activity, raw, creating=False)
                self._touch(activity)
                return 200, {"success": True, "data": self._render(activity)}
        raise PipedriveError(404, f"Unknown method {method} {path}", "ERR_NOT_FOUND")

    # --- persons ----------------------------------------------------------------------------

    def _search_persons(self, params: httpx.QueryParams) -> dict[str, Any]:
        term = (params.get("term") or "").strip()
        exact = params.get("exact_match") in ("true", "1")
        if len(term) < 2 and not exact:
            raise PipedriveError(400, "Validation failed: term: Must be at least 2 characters long")
        fields = [f for f in (params.get("fields") or "name,email,phone,notes,custom_fields").split(",") if f]
        if any(f not in ("name", "email", "phone", "notes", "custom_fields") for f in fields):
            raise PipedriveError(400, "Validation failed: fields: Must be one of name, email, phone, notes, "
                                      "custom_fields")
        limit = int(params.get("limit") or 100)
        items = []
        for person in self.persons.values():
            if person["is_deleted"]:
                continue
            hit = False
            if "phone" in fields and _digits(term):
                for phone in person["phones"]:
                    stored = _digits(phone["value"])
                    hit = hit or (stored == _digits(term) if exact else _digits(term) in stored)
            if "name" in fields:
                name = person["name"].lower()
                hit = hit or (name == term.lower() if exact else term.lower() in name)
            if hit:
                org = self.orgs.get(person["org_id"]) if person["org_id"] else None
                items.append({"result_score": 1.0, "item": {
                    "id": person["id"], "type": "person", "name": person["name"],
                    "phones": [p["value"] for p in person["phones"]], "emails": [], "visible_to": 3,
                    "owner": {"id": person["owner_id"]},
                    "organization": {"id": org["id"], "name": org["name"], "address": None} if org else None,
                    "custom_fields": [], "notes": [], "update_time": person["update_time"]}})
        return {"success": True, "data": {"items": items[:limit]}, "additional_data": {"next_cursor": None}}

    # --- activities -------------------------------------------------------------------------

    def _create_activity(self, raw: Any) -> dict[str, Any]:
        now = self.clock.time()
        activity: dict[str, Any] = {
            "id": next(self._activity_ids), "subject": None, "type": "task", "owner_id": self.me,
            "creator_user_id": self.me, "is_deleted": False, "add_time": _v2_time(now), "update_time": _v2_time(now),
            "deal_id": None, "lead_id": None, "person_id": None, "org_id": None, "project_id": None,
            "due_date": None, "due_time": None, "duration": None, "busy": False, "done": False,
            "marked_as_done_time": None, "location": None, "participants": [], "attendees": [],
            "public_description": None, "priority": None, "note": None,
        }
        self._apply(activity, raw, creating=True)
        self.activities[activity["id"]] = activity
        return self._render(activity)

    def _apply(self, activity: dict[str, Any], raw: Any, *, creating: bool) -> None:
        """Validates the whole body first; changes nothing when any field is refused."""
        if not isinstance(raw, dict):
            raise PipedriveError(400, "Request body must be a JSON object")
        unknown = sorted(set(raw) - ACTIVITY_FIELDS)
        if unknown:
            raise PipedriveError(400, f"Validation failed: {unknown[0]}: Unknown field")
        if "person_id" in raw:
            raise PipedriveError(400, "Validation failed: person_id: Field is read-only. Add a primary participant "
                                      "instead")
        changes = dict(raw)
        for key in ("done", "busy"):
            if key in raw and not isinstance(raw[key], bool):
                raise PipedriveError(400, f"Validation failed: {key}: Must be a boolean")
        if "subject" in raw and not isinstance(raw["subject"], str | None):
            raise PipedriveError(400, "Validation failed: subject: Must be a string")
        if "type" in raw:
            active = {t["key_string"] for t in self.activity_types if t["active_flag"]}
            if raw["type"] not in active:
                raise PipedriveError(400, f"Validation failed: type: Activity type '{raw['type']}' does not exist "
                                          "or is not active")
        if raw.get("due_date") is not None:
            try:
                datetime.strptime(str(raw["due_date"]), "%Y-%m-%d")
            except ValueError:
                raise PipedriveError(400, "Validation failed: due_date: Must be a date in format YYYY-MM-DD")
        for key in ("due_time", "duration"):
            value = raw.get(key)
            if value is not None and (not isinstance(value, str) or not re.fullmatch(r"\d{2}:[0-5]\d", value)
                                      or (key == "due_time" and int(value[:2]) > 23)):
                raise PipedriveError(400, f"Validation failed: {key}: Must be a time in format HH:MM")
        if "note" in raw:
            note = raw["note"]
            if note is not None and not isinstance(note, str):
                raise PipedriveError(400, "Validation failed: note: Must be a string")
            if isinstance(note, str):
                if len(note) > NOTE_LIMIT:
                    raise PipedriveError(400, f"Validation failed: note: Must be at most {NOTE_LIMIT} characters")
                changes["note"] = re.sub(r"<script\b[^>]*>.*?</script\s*>", "", note, flags=re.I | re.S)
        if raw.get("owner_id") is not None and raw["owner_id"] not in self.users:
            raise PipedriveError(400, f"Validation failed: owner_id: User {raw['owner_id']} not found")
        if raw.get("org_id") is not None and raw["org_id"] not in self.orgs:
            raise PipedriveError(400, f"Validation failed: org_id: Organization {raw['org_id']} not found")
        if raw.get("deal_id") is not None and (not isinstance(raw["deal_id"], int) or raw["deal_id"] not in self.deals):
            raise PipedriveError(400, f"Validation failed: deal_id: Deal {raw['deal_id']} not found")
        if raw.get("lead_id") is not None:
            try:
                uuid.UUID(str(raw["lead_id"]))
            except ValueError:
                raise PipedriveError(400, "Validation failed: lead_id: Must be a UUID")
            if raw["lead_id"] not in self.leads:
                raise PipedriveError(400, f"Validation failed: lead_id: Lead {raw['lead_id']} not found")
        if "participants" in raw:
            parts = raw["participants"]
            if not isinstance(parts, list):
                raise PipedriveError(400, "Validation failed: participants: Must be an array")
            clean = []
            for p in parts:
                extra = undeclared_field(p, PARTICIPANT_FIELDS, at="participants")
                if extra is not None:
                    raise PipedriveError(400, f"Validation failed: participants: Unknown field {extra}")
                if not isinstance(p, dict) or not isinstance(p.get("person_id"), int) or isinstance(
                        p.get("person_id"), bool) or not isinstance(p.get("primary", False), bool):
                    raise PipedriveError(400, "Validation failed: participants: Each needs an integer person_id "
                                              "and a boolean primary")
                if p["person_id"] not in self.persons:
                    raise PipedriveError(400, f"Validation failed: participants: Person {p['person_id']} not found")
                clean.append({"person_id": p["person_id"], "primary": bool(p.get("primary", False))})
            if clean and sum(p["primary"] for p in clean) != 1:
                raise PipedriveError(400, "Validation failed: participants: Exactly one participant must be primary")
            changes["participants"] = clean
        activity.update(changes)
        primary = [p["person_id"] for p in activity["participants"] if p["primary"]]
        activity["person_id"] = primary[0] if primary else None
        if activity["done"] and not activity["marked_as_done_time"]:
            activity["marked_as_done_time"] = _v2_time(self.clock.time())

    def _render(self, activity: dict[str, Any]) -> dict[str, Any]:
        # The v2 ActivityItem's participants are {person_id, primary}, the same shape as on input
        # (pipedrive/client-nodejs src/versions/v2/models/activity-item.ts →
        # add-activity-request-participants-inner.ts; https://developers.pipedrive.com/docs/api/v1/Activities).
        out = {k: v for k, v in activity.items() if k != "participants"}
        out["participants"] = [{"person_id": p["person_id"], "primary": p["primary"]}
                               for p in activity["participants"]]
        return out

    def _list_activities(self, params: httpx.QueryParams) -> dict[str, Any]:
        rows = [a for a in self.activities.values() if not a["is_deleted"]]
        for key in ("owner_id", "person_id", "deal_id"):
            if params.get(key):
                rows = [a for a in rows if str(a[key]) == params[key]]
        if params.get("lead_id"):
            rows = [a for a in rows if a["lead_id"] == params["lead_id"]]
        if params.get("done") in ("true", "false"):
            rows = [a for a in rows if a["done"] == (params["done"] == "true")]
        if params.get("updated_since"):
            try:
                since = datetime.fromisoformat(params["updated_since"].replace("Z", "+00:00"))
            except ValueError:
                raise PipedriveError(400, "Validation failed: updated_since: Must be an RFC 3339 date-time")
            rows = [a for a in rows
                    if datetime.fromisoformat(a["update_time"].replace("Z", "+00:00")) >= since]
        rows.sort(key=lambda a: a["id"])
        limit = min(int(params.get("limit") or 100), 500)
        start = int(params.get("cursor") or 0)
        page = rows[start:start + limit]
        nxt = str(start + limit) if start + limit < len(rows) else None
        return {"success": True, "data": [self._render(a) for a in page], "additional_data": {"next_cursor": nxt}}


def demo() -> PipedriveFake:
    """A company holding the sandbox's demo contacts, some with open deals and leads, for running the
    app against (wall-clock time)."""
    from tests.fakes.vendor_base import RealClock

    fake = PipedriveFake(clock=RealClock())
    for i, person in enumerate(sandbox_demo_contacts()):
        org = fake.add_org(person["company"]) if person.get("company") else None
        name = f"{person['firstName']} {person.get('lastName', '')}".strip()
        pid = fake.add_person(name, [person.get("crmPhone") or person["phoneNumber"]], org_id=org)
        if i % 2 == 0:
            fake.add_deal(f"{person.get('company') or name}: renewal", pid)
        if i % 3 == 0:
            fake.add_lead(f"{name}: website enquiry", pid)
    return fake


if __name__ == "__main__":
    sys.exit(run_forever(demo(), sys.argv[1:], env_var="LOGDESK_PIPEDRIVE_URL",
                         describe=f"API token: {DEFAULT_TOKEN}; company domain: acme"))
