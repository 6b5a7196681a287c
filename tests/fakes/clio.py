# SPDX-License-Identifier: MIT
"""A fake Clio Manage (API v4) with its OAuth server, validating like the vendor.

Served in-process as an httpx handler (``httpx.MockTransport(fake.handler)``) or on a loopback
port (``tests.fakes.loopback.LoopbackServer(fake.handler)``). One instance is one region host
(``app.clio.com``, ``eu.app.clio.com``, ...): OAuth under ``/oauth/*``, the API under ``/api/v4``.

What is checked, as Clio does (facts from the vendor docs; marked items are assumptions the
fake makes explicit so a test can change them):
- OAuth authorization code with the client id **and secret** (a confidential client), the
  registered redirect URI (any loopback port), PKCE S256 when a challenge was sent, single-use
  codes, refresh (no rotation), ``/oauth/deauthorize``. Errors: 400/401 ``{"error", "error_description"}``.
- ``Authorization: Bearer``; 401 otherwise. Every API answer carries ``X-RateLimit-Limit``,
  ``X-RateLimit-Remaining``, ``X-RateLimit-Reset`` (a per-token window, 50 per minute at peak);
  over budget → 429 with ``Retry-After``.
- ``fields=`` projection, nested with braces (``matter{id,display_number}``); without it only
  ``id`` and ``etag``. Lists paginate through ``meta.paging.next`` (a full URL).
- ``contacts.json?query=`` is a case-insensitive substring match on the stored text of names,
  e-mail addresses and phone numbers — stored formatting matters ([V]: the adapter therefore
  queries several formatted candidates).
- Communications: ``type``, non-blank ``subject`` (≤ 255), ``body`` (≤ :attr:`body_limit`, [V]),
  ``received_at`` ISO 8601, ``senders``/``receivers`` of existing Users/Contacts, ``matter``;
  unknown attributes are refused. Each single resource has an ``etag``, sent as the ``ETag``
  header; ``If-None-Match`` → 304; ``PATCH`` with a stale ``If-Match`` → 412.
- Activities of type ``TimeEntry`` with ``quantity`` in seconds, ``date``, ``non_billable``,
  ``communication`` and ``matter``; listed by ``communication_id``; patched; deleted.
- Query parameters an endpoint does not declare, and body keys beside ``data``, are a 400
  ``BadRequest``; unknown ``data`` attributes are refused as before.
- Errors: ``{"error": {"type": ..., "message": ...}}``.

Test controls: :meth:`add_contact`, :meth:`add_matter`, :meth:`person_edits`,
:meth:`inject_failure`, :meth:`revoke_grant`, :attr:`requests`, :attr:`now`, :attr:`rate_limit`.
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.fakes.oauth_grants import AuthCode, Grant, GrantStore
from tests.fakes.vendor_base import InjectedApiFaults, undeclared_param, wait_for_interrupt

API_PREFIX = "/api/v4/"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What Clio's API v4 specification declares for the endpoints the adapter uses: the OpenAPI document
# behind https://docs.developers.clio.com/api-reference/ (https://docs.developers.clio.com/openapi.json;
# read from the copy in traviscrawford85/clio_cli, clio_client/openapi.json, 2025-05-17). Query
# parameters and the ``data`` keys of write bodies outside these are refused with a 400 BadRequest
# (stricter than Clio may be, so the next drift fails a test).
_COMMUNICATION_KEYS = {
    "type",
    "subject",
    "body",
    "date",
    "received_at",
    "senders",
    "receivers",
    "matter",
    "notification_event_subscribers",
    "external_properties",
}
_ACTIVITY_KEYS = {
    "activity_description", "calendar_entry", "client_portal", "communication", "contact_note", "date",
    "expense_category", "matter", "matter_note", "no_charge", "non_billable", "note", "price", "quantity",
    "reference", "start_timer", "task", "tax_setting", "text_message_conversation", "type", "user",
    "utbms_expense", "vendor",
}
_LIST_PARAMS = {"fields", "ids[]", "limit", "order", "page_token", "created_since", "updated_since"}
_DECLARED_PARAMS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "users/who_am_i"): frozenset({"fields"}),
    ("GET", "contacts"): frozenset(_LIST_PARAMS | {
        "client_only", "clio_connect_only", "custom_field_ids[]", "custom_field_values", "email_only",
        "exclude_ids[]", "initial", "query", "shared_resource_id", "type"}),
    ("GET", "contacts/{id}"): frozenset({"fields", "custom_field_ids[]"}),
    ("GET", "matters"): frozenset(_LIST_PARAMS | {
        "billable", "client_id", "close_date[]", "custom_field_ids[]", "custom_field_values", "grant_id",
        "group_id", "notification_event_subscriber_user_id", "open_date[]", "originating_attorney_id",
        "pending_date[]", "practice_area_id", "query", "responsible_attorney_id", "responsible_staff_id", "status",
        "subscriber_user_id"}),
    ("GET", "relationships"): frozenset(_LIST_PARAMS | {"contact_id", "matter_id"}),
    ("GET", "communications"): frozenset(_LIST_PARAMS | {
        "contact_id", "date", "external_property_name", "external_property_value", "having_time_entries",
        "matter_id", "query", "received_at", "received_before", "received_since", "type", "user_id"}),
    ("POST", "communications"): frozenset({"fields"}),
    ("GET", "communications/{id}"): frozenset({"fields"}),
    ("PATCH", "communications/{id}"): frozenset({"fields"}),
    ("GET", "activities"): frozenset(_LIST_PARAMS | {
        "activity_description_id", "calendar_entry_id", "communication_id", "contact_note_id", "end_date",
        "expense_category_id", "flat_rate", "grant_id", "matter_id", "matter_note_id", "only_unaccounted_for",
        "query", "start_date", "status", "task_id", "type", "user_id"}),
    ("POST", "activities"): frozenset({"fields"}),
    ("GET", "activities/{id}"): frozenset({"fields"}),
    ("PATCH", "activities/{id}"): frozenset({"fields"}),
    ("DELETE", "activities/{id}"): frozenset(),
}


def _error_body(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


def error_envelope(status: int) -> dict[str, Any]:
    """Clio's error body for an HTTP status (what an injected failure answers)."""
    return {
        400: _error_body("BadRequest", "The request could not be understood"),
        401: _error_body("Unauthorized", "The access token is invalid or has expired"),
        403: _error_body("Forbidden", "You do not have permission to perform this action"),
        404: _error_body("NotFound", "The requested resource was not found"),
        409: _error_body("Conflict", "The resource is being modified by another request"),
        412: _error_body("PreconditionFailed", "The resource has been modified since it was last requested"),
        422: _error_body("ValidationError", "Validation failed"),
        429: _error_body("RateLimited", "Rate limit exceeded"),
    }.get(status, _error_body("InternalServerError", "Something went wrong on our end"))


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def _split_fields(spec: str) -> dict[str, Any]:
    """``id,matter{id,display_number}`` → ``{"id": None, "matter": {"id": None, ...}}``."""
    out: dict[str, Any] = {}
    i = 0
    name = ""
    while i < len(spec):
        ch = spec[i]
        if ch == ",":
            if name.strip():
                out[name.strip()] = None
            name = ""
        elif ch == "{":
            depth, j = 1, i + 1
            while j < len(spec) and depth:
                depth += {"{": 1, "}": -1}.get(spec[j], 0)
                j += 1
            out[name.strip()] = _split_fields(spec[i + 1 : j - 1])
            name = ""
            i = j
            continue
        else:
            name += ch
        i += 1
    if name.strip():
        out[name.strip()] = None
    return out


def _project(record: dict[str, Any], spec: dict[str, Any] | None) -> dict[str, Any]:
    if spec is None:
        return {"id": record["id"], "etag": record["etag"]}
    out: dict[str, Any] = {}
    for key, sub in spec.items():
        if key not in record:
            continue
        value = record[key]
        if sub is not None and isinstance(value, dict):
            value = {k: v for k, v in value.items() if k in sub}
        elif sub is not None and isinstance(value, list):
            value = [{k: v for k, v in item.items() if k in sub} for item in value if isinstance(item, dict)]
        out[key] = value
    return out


class ClioFake(InjectedApiFaults):
    """One Clio region host with one law firm's data.

    Args:
        base_url: the region host (``https://app.clio.com``).
        body_limit: the longest communication body accepted ([V] — Clio does not document one).
        rate_limit: requests per token per minute.
        start: the fake's clock at creation.
    """

    def __init__(
        self,
        *,
        base_url: str = "https://app.clio.test",
        body_limit: int = 50_000,
        rate_limit: int = 50,
        start: datetime | None = None,
    ) -> None:
        self.base_url = base_url
        self.body_limit = body_limit
        self.rate_limit = rate_limit
        self.now = start or datetime(2026, 9, 30, 14, 0, tzinfo=UTC)
        self.clients: dict[str, str] = {"clio-app-id": "clio-app-secret"}
        self.user = {"id": 344117381, "name": "Alex Agent", "email": "alex@firm.example", "time_zone": "Etc/UTC"}
        self.contacts: dict[int, dict[str, Any]] = {}
        self.matters: dict[int, dict[str, Any]] = {}
        self.relationships: list[dict[str, Any]] = []
        self.communications: dict[int, dict[str, Any]] = {}
        self.activities: dict[int, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        #: How many requests were refused with 429 for going over the rate limit.
        self.rate_refusals = 0
        self._init_faults(error_envelope)
        self.deny_next_authorize = False
        self.grants = GrantStore(lambda: self.now)
        self._windows: dict[str, list[datetime]] = {}
        self._ids = itertools.count(1001)
        self._lock = threading.RLock()

    # --- test controls ---------------------------------------------------------------------

    def _stamp(self) -> str:
        return self.now.isoformat(timespec="seconds")

    def sleep(self, seconds: float) -> None:
        """A ``sleep`` for the adapter under test: time passes on the fake's clock."""
        self.advance(seconds)

    def add_contact(self, name: str, phone: str, *, kind: str = "Person", email: str | None = None) -> int:
        cid = next(self._ids)
        self.contacts[cid] = {
            "id": cid,
            "etag": self._etag(),
            "name": name,
            "type": kind,
            "primary_email_address": email,
            "primary_phone_number": phone,
            "phone_numbers": [{"id": next(self._ids), "number": phone, "name": "Work", "default_number": True}],
            "created_at": self._stamp(),
            "updated_at": self._stamp(),
        }
        return cid

    def add_matter(self, client_id: int, description: str, *, status: str = "Open", related_only: bool = False) -> int:
        """A matter whose client is ``client_id`` — or, with ``related_only``, one where the contact
        is only a related party (found through ``relationships.json``)."""
        mid = next(self._ids)
        self.matters[mid] = {
            "id": mid,
            "etag": self._etag(),
            "display_number": f"{mid:05d}-{self.contacts[client_id]['name'].split()[-1]}",
            "description": description,
            "status": status,
            "client": None if related_only else {"id": client_id},
        }
        if related_only:
            self.relationships.append({"id": next(self._ids), "contact_id": client_id, "matter_id": mid})
        return mid

    def person_edits(self, communication_id: int, *, subject: str | None = None, body: str | None = None) -> None:
        """Someone edits the communication in Clio: the fields change and the ETag moves on."""
        with self._lock:
            record = self.communications[communication_id]
            if subject is not None:
                record["subject"] = subject
            if body is not None:
                record["body"] = body
            self._touch(record)

    def revoke_grant(self) -> None:
        """The user disconnected the app in Clio's settings: every token stops working."""
        with self._lock:
            self.grants.revoke_all()

    def issue_tokens(self, client_id: str = "clio-app-id", *, expires_in: int = 2_592_000) -> dict[str, Any]:
        """Tokens as if a sign-in had happened (for tests that are not about sign-in)."""
        with self._lock:
            refresh = secrets.token_urlsafe(32)
            grant = self.grants.add_grant(refresh, Grant(client_id, refresh_token=refresh))
            return self._access_for(grant, refresh, expires_in=expires_in)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith(API_PREFIX)]

    def time_entries(self, communication_id: int) -> list[dict[str, Any]]:
        return [
            a for a in self.activities.values() if a["communication"] and a["communication"]["id"] == communication_id
        ]

    # --- dispatch --------------------------------------------------------------------------

    def _etag(self) -> str:
        return '"' + secrets.token_hex(16) + '"'

    def _touch(self, record: dict[str, Any]) -> None:
        record["etag"] = self._etag()
        record["updated_at"] = self._stamp()

    def handler(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self._lock:
            self.requests.append(request)
            path = request.url.path
            if path.startswith("/oauth/"):
                return self._oauth(request)
            if path.startswith(API_PREFIX):
                injected = self._injected_answer(request, self._api)
                if injected is not None:
                    return injected
                return self._api(request)
            return httpx.Response(404, text="Not found")

    # --- OAuth -----------------------------------------------------------------------------

    @staticmethod
    def _form(request: httpx.Request) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(request.content.decode()).items()}

    def _oauth(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth/authorize" and request.method == "GET":
            return self._authorize(dict(request.url.params))
        if path == "/oauth/token" and request.method == "POST":
            return self._token(self._form(request))
        if path == "/oauth/deauthorize" and request.method == "POST":
            form = self._form(request)
            for grant in self.grants:
                if form.get("token") in grant.access:
                    self.grants.revoke(grant)
            held = self.grants.grants.get(form.get("token", ""))
            if held is not None:
                self.grants.revoke(held)
            return httpx.Response(200)
        return httpx.Response(404, text="Not found")

    def _authorize(self, q: dict[str, str]) -> httpx.Response:
        redirect_uri = q.get("redirect_uri", "")
        if q.get("client_id") not in self.clients:
            return httpx.Response(400, text="The client identifier provided is invalid.")
        target = urlsplit(redirect_uri)
        if target.scheme != "http" or target.hostname not in ("127.0.0.1", "localhost") or target.path != "/callback":
            return httpx.Response(400, text="The redirect uri included is not valid.")
        state = q.get("state", "")

        def back(params: dict[str, str]) -> httpx.Response:
            return httpx.Response(302, headers={"Location": f"{redirect_uri}?{urlencode(params)}"})

        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type", "state": state})
        if self.deny_next_authorize:
            self.deny_next_authorize = False
            return back({"error": "access_denied", "error_description": "The user denied access", "state": state})
        challenge = q.get("code_challenge")
        if challenge and q.get("code_challenge_method") != "S256":
            return back(
                {"error": "invalid_request", "error_description": "unsupported challenge method", "state": state}
            )
        code = self.grants.add_code(
            secrets.token_urlsafe(24),
            AuthCode(q["client_id"], redirect_uri, challenge, self.now + timedelta(minutes=10)),
        )
        return back({"code": code, "state": state})

    def _token(self, form: dict[str, str]) -> httpx.Response:
        client_id = form.get("client_id", "")
        if client_id not in self.clients or form.get("client_secret") != self.clients[client_id]:
            return _json(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            redeemed = self.grants.redeem_code(
                form.get("code", ""),
                client_id=client_id,
                redirect_uri=form.get("redirect_uri"),
                verifier=form.get("code_verifier", ""),
            )
            if isinstance(redeemed, str):
                description = {
                    "invalid_code": "The authorization code is invalid",
                    "redirect_mismatch": "The redirect URI does not match",
                    "pkce_failed": "PKCE verification failed",
                }[redeemed]
                return _json(400, {"error": "invalid_grant", "error_description": description})
            refresh = secrets.token_urlsafe(32)
            grant = self.grants.add_grant(refresh, Grant(client_id, refresh_token=refresh))
            return _json(200, self._access_for(grant, refresh, expires_in=2_592_000))
        if grant_type == "refresh_token":
            held = self.grants.by_refresh(form.get("refresh_token", ""), client_id)
            if held is None:
                return _json(400, {"error": "invalid_grant", "error_description": "The refresh token is invalid"})
            grant = held
            body = self._access_for(grant, "", expires_in=2_592_000)
            body.pop("refresh_token")
            return _json(200, body)
        return _json(400, {"error": "unsupported_grant_type", "error_description": "Unsupported grant type"})

    def _access_for(self, grant: Grant, refresh: str, *, expires_in: int) -> dict[str, Any]:
        access = self.grants.issue_access(grant, secrets.token_urlsafe(32), self.now + timedelta(seconds=expires_in))
        return {"token_type": "bearer", "access_token": access, "expires_in": expires_in, "refresh_token": refresh}

    # --- API -------------------------------------------------------------------------------

    def _authenticate(self, request: httpx.Request) -> str | httpx.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token:
            found = self.grants.find_access(token)
            if found is not None and not found[0].revoked and found[1] > self.now:
                return str(token)
        return _json(401, _error_body("Unauthorized", "The access token is invalid or has expired"))

    def _rate(self, token: str) -> tuple[dict[str, str], httpx.Response | None]:
        window = [t for t in self._windows.get(token, []) if t > self.now - timedelta(seconds=60)]
        reset = (window[0] if window else self.now) + timedelta(seconds=60)
        if len(window) >= self.rate_limit:
            wait = max(1, int((reset - self.now).total_seconds()))
            headers = {
                "X-RateLimit-Limit": str(self.rate_limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(int(reset.timestamp())),
                "Retry-After": str(wait),
            }
            self._windows[token] = window
            self.rate_refusals += 1
            return headers, _json(
                429, _error_body("RateLimited", f"Rate limit exceeded. Retry in {wait} seconds."), headers
            )
        window.append(self.now)
        self._windows[token] = window
        reset = window[0] + timedelta(seconds=60)
        return {
            "X-RateLimit-Limit": str(self.rate_limit),
            "X-RateLimit-Remaining": str(self.rate_limit - len(window)),
            "X-RateLimit-Reset": str(int(reset.timestamp())),
        }, None

    def _api(self, request: httpx.Request) -> httpx.Response:
        token = self._authenticate(request)
        if isinstance(token, httpx.Response):
            return token
        rate_headers, refused = self._rate(token)
        if refused is not None:
            return refused
        response = self._route(request)
        response.headers.update(rate_headers)
        return response

    def _route(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path[len(API_PREFIX) :]
        if not path.endswith(".json"):
            return _json(404, _error_body("NotFound", "The requested resource was not found"))
        parts = path[: -len(".json")].split("/")
        q = request.url.params
        endpoint = "/".join("{id}" if part.isdigit() else part for part in parts)
        declared = _DECLARED_PARAMS.get((request.method, endpoint))
        name = undeclared_param(q, declared) if declared is not None else None
        if name is not None:
            return _json(400, _error_body("BadRequest", f"Unknown parameter: {name}"))
        spec = _split_fields(q["fields"]) if q.get("fields") else None
        method = request.method
        if parts == ["users", "who_am_i"] and method == "GET":
            return _json(200, {"data": _project(self.user | {"etag": '"u1"'}, spec)})
        if parts == ["contacts"] and method == "GET":
            return self._list_contacts(request, spec)
        if len(parts) == 2 and parts[0] == "contacts" and method == "GET":
            contact = self.contacts.get(int(parts[1])) if parts[1].isdigit() else None
            return self._single(contact, spec, request)
        if parts == ["matters"] and method == "GET":
            rows = list(self.matters.values())
            if q.get("client_id"):
                rows = [m for m in rows if m["client"] and str(m["client"]["id"]) == q["client_id"]]
            if q.get("status"):
                wanted = {s.strip().lower() for s in q["status"].split(",")}
                rows = [m for m in rows if m["status"].lower() in wanted]
            return self._page(request, rows, spec)
        if parts == ["relationships"] and method == "GET":
            rows = [
                {
                    "id": r["id"],
                    "etag": '"r"',
                    "matter": self.matters[r["matter_id"]],
                    "contact": {"id": r["contact_id"]},
                }
                for r in self.relationships
                if not q.get("contact_id") or str(r["contact_id"]) == q["contact_id"]
            ]
            return self._page(request, rows, spec)
        if parts == ["communications"] and method == "POST":
            return self._create_communication(request, spec)
        if parts == ["communications"] and method == "GET":
            return self._list_communications(request, spec)
        if len(parts) == 2 and parts[0] == "communications":
            record = self.communications.get(int(parts[1])) if parts[1].isdigit() else None
            if method == "GET":
                return self._single(record, spec, request)
            if method == "PATCH":
                return self._patch(record, request, spec, self._validate_communication)
        if parts == ["activities"] and method == "POST":
            return self._create_activity(request, spec)
        if parts == ["activities"] and method == "GET":
            rows = list(self.activities.values())
            if q.get("communication_id"):
                rows = [
                    a for a in rows if a["communication"] and str(a["communication"]["id"]) == q["communication_id"]
                ]
            if q.get("type"):
                rows = [a for a in rows if a["type"] == q["type"]]
            return self._page(request, rows, spec)
        if len(parts) == 2 and parts[0] == "activities":
            record = self.activities.get(int(parts[1])) if parts[1].isdigit() else None
            if method == "GET":
                return self._single(record, spec, request)
            if method == "PATCH":
                return self._patch(record, request, spec, self._validate_activity)
            if method == "DELETE":
                if record is None:
                    return _json(404, _error_body("NotFound", "The requested resource was not found"))
                del self.activities[record["id"]]
                return httpx.Response(204)
        return _json(404, _error_body("NotFound", "The requested resource was not found"))

    def _single(
        self, record: dict[str, Any] | None, spec: dict[str, Any] | None, request: httpx.Request
    ) -> httpx.Response:
        if record is None:
            return _json(404, _error_body("NotFound", "The requested resource was not found"))
        headers = {"ETag": record["etag"], "Last-Modified": record.get("updated_at", self._stamp())}
        if request.headers.get("If-None-Match") == record["etag"]:
            return httpx.Response(304, headers=headers)
        return _json(200, {"data": _project(record, spec)}, headers)

    def _page(self, request: httpx.Request, rows: list[dict[str, Any]], spec: dict[str, Any] | None) -> httpx.Response:
        q = request.url.params
        limit = int(q.get("limit", "200"))
        if not 1 <= limit <= 200:
            return _json(400, _error_body("BadRequest", "limit must be between 1 and 200"))
        offset = int(q.get("page_token", "0") or 0)
        chunk = rows[offset : offset + limit]
        paging: dict[str, str] = {}
        if offset + limit < len(rows):
            paging["next"] = str(request.url.copy_set_param("page_token", str(offset + limit)))
        return _json(
            200, {"data": [_project(r, spec) for r in chunk], "meta": {"paging": paging, "records": len(rows)}}
        )

    def _list_contacts(self, request: httpx.Request, spec: dict[str, Any] | None) -> httpx.Response:
        query = (request.url.params.get("query") or "").lower()
        rows = []
        for contact in self.contacts.values():
            texts = [contact["name"], contact.get("primary_email_address") or ""]
            texts += [p["number"] for p in contact["phone_numbers"]]
            if not query or any(query in t.lower() for t in texts):
                rows.append(contact)
        return self._page(request, rows, spec)

    def _list_communications(self, request: httpx.Request, spec: dict[str, Any] | None) -> httpx.Response:
        q = request.url.params
        rows = list(self.communications.values())
        try:
            since = datetime.fromisoformat(q["received_since"]) if q.get("received_since") else None
            before = datetime.fromisoformat(q["received_before"]) if q.get("received_before") else None
        except ValueError:
            return _json(400, _error_body("BadRequest", "received_since/received_before must be ISO 8601"))
        if q.get("type"):
            rows = [r for r in rows if r["type"] == q["type"]]
        if since is not None:
            rows = [r for r in rows if datetime.fromisoformat(r["received_at"]) >= since]
        if before is not None:
            rows = [r for r in rows if datetime.fromisoformat(r["received_at"]) <= before]
        if q.get("user_id"):
            rows = [
                r
                for r in rows
                if any(p["type"] == "User" and str(p["id"]) == q["user_id"] for p in r["senders"] + r["receivers"])
            ]
        return self._page(request, rows, spec)

    @staticmethod
    def _body(request: httpx.Request) -> dict[str, Any] | httpx.Response:
        try:
            raw = json.loads(request.content or b"null")
        except ValueError:
            return _json(400, _error_body("BadRequest", "The request body is not valid JSON"))
        if not isinstance(raw, dict) or not isinstance(raw.get("data"), dict):
            return _json(400, _error_body("BadRequest", "param is missing or the value is empty: data"))
        extra = next((key for key in raw if key != "data"), None)
        if extra is not None:
            return _json(400, _error_body("BadRequest", f"Unknown parameter: {extra}"))
        data: dict[str, Any] = raw["data"]
        return data

    def _invalid(self, message: str) -> httpx.Response:
        return _json(422, _error_body("ValidationError", message))

    def _parties(self, value: Any, name: str) -> str | None:
        if not isinstance(value, list):
            return f"{name.capitalize()} must be an array"
        for party in value:
            if (
                not isinstance(party, dict)
                or party.get("type") not in ("User", "Contact")
                or not isinstance(party.get("id"), int)
            ):
                return f"{name.capitalize()} entries need an integer id and a type of User or Contact"
            if party["type"] == "Contact" and party["id"] not in self.contacts:
                return f"{name.capitalize()} contains a contact that does not exist"
            if party["type"] == "User" and party["id"] != self.user["id"]:
                return f"{name.capitalize()} contains a user that does not exist"
        return None

    def _validate_communication(self, data: dict[str, Any], existing: dict[str, Any] | None) -> str | None:
        unknown = set(data) - _COMMUNICATION_KEYS
        if unknown:
            return f"Unknown attribute: {sorted(unknown)[0]}"
        merged = {**(existing or {}), **data}
        if merged.get("type") not in ("PhoneCommunication", "EmailCommunication"):
            return "Type is not included in the list"
        if existing is not None and "type" in data and data["type"] != existing["type"]:
            return "Type cannot be changed"
        subject = merged.get("subject")
        if not isinstance(subject, str) or not subject.strip():
            return "Subject can't be blank"
        if len(subject) > 255:
            return "Subject is too long (maximum is 255 characters)"
        body = merged.get("body")
        if body is not None and not isinstance(body, str):
            return "Body must be a string"
        if body and len(body) > self.body_limit:
            return f"Body is too long (maximum is {self.body_limit} characters)"
        if "received_at" in data:
            try:
                datetime.fromisoformat(str(data["received_at"]).replace("Z", "+00:00"))
            except ValueError:
                return "Received at is not a valid date"
        for name in ("senders", "receivers"):
            if name in data:
                problem = self._parties(data[name], name)
                if problem:
                    return problem
        matter = data.get("matter")
        if matter is not None and (not isinstance(matter, dict) or matter.get("id") not in self.matters):
            return "Matter must exist"
        return None

    def _create_communication(self, request: httpx.Request, spec: dict[str, Any] | None) -> httpx.Response:
        data = self._body(request)
        if isinstance(data, httpx.Response):
            return data
        problem = self._validate_communication(data, None)
        if problem:
            return self._invalid(problem)
        cid = next(self._ids)
        received = str(data.get("received_at") or self._stamp()).replace("Z", "+00:00")
        record = {
            "id": cid,
            "etag": self._etag(),
            "type": data["type"],
            "subject": data["subject"],
            "body": data.get("body") or "",
            "received_at": datetime.fromisoformat(received).isoformat(timespec="seconds"),
            "senders": [self._party(p) for p in data.get("senders", [])],
            "receivers": [self._party(p) for p in data.get("receivers", [])],
            "matter": self._matter_ref(data.get("matter")),
            "created_at": self._stamp(),
            "updated_at": self._stamp(),
        }
        self.communications[cid] = record
        return _json(201, {"data": _project(record, spec)}, {"ETag": record["etag"]})

    def _party(self, ref: dict[str, Any]) -> dict[str, Any]:
        name = self.user["name"] if ref["type"] == "User" else self.contacts[ref["id"]]["name"]
        return {"id": ref["id"], "type": ref["type"], "name": name}

    def _matter_ref(self, ref: Any) -> dict[str, Any] | None:
        if not ref:
            return None
        matter = self.matters[ref["id"]]
        return {"id": matter["id"], "display_number": matter["display_number"], "description": matter["description"]}

    def _patch(
        self, record: dict[str, Any] | None, request: httpx.Request, spec: dict[str, Any] | None, validate: Any
    ) -> httpx.Response:
        if record is None:
            return _json(404, _error_body("NotFound", "The requested resource was not found"))
        if_match = request.headers.get("If-Match")
        if if_match is not None and if_match != record["etag"]:
            return _json(
                412, _error_body("PreconditionFailed", "The resource has been modified since it was last requested")
            )
        data = self._body(request)
        if isinstance(data, httpx.Response):
            return data
        problem = validate(data, record)
        if problem:
            return self._invalid(problem)
        for key, value in data.items():
            if key in ("senders", "receivers"):
                value = [self._party(p) for p in value]
            elif key == "matter":
                value = self._matter_ref(value)
            elif key == "communication":
                value = {"id": value["id"]} if value else None
            record[key] = value
        self._touch(record)
        return _json(200, {"data": _project(record, spec)}, {"ETag": record["etag"]})

    def _validate_activity(self, data: dict[str, Any], existing: dict[str, Any] | None) -> str | None:
        unknown = set(data) - _ACTIVITY_KEYS
        if unknown:
            return f"Unknown attribute: {sorted(unknown)[0]}"
        merged = {**(existing or {}), **data}
        if merged.get("type") not in ("TimeEntry", "ExpenseEntry"):
            return "Type is not included in the list"
        if not isinstance(merged.get("date"), str) or not _DATE.match(merged["date"]):
            return "Date can't be blank"
        quantity = merged.get("quantity")
        if merged["type"] == "TimeEntry" and (
            isinstance(quantity, bool) or not isinstance(quantity, int | float) or quantity < 0
        ):
            return "Quantity must be a number of seconds"
        if "non_billable" in data and not isinstance(data["non_billable"], bool):
            return "Non billable must be true or false"
        communication = data.get("communication")
        if communication is not None and (
            not isinstance(communication, dict) or communication.get("id") not in self.communications
        ):
            return "Communication must exist"
        matter = data.get("matter")
        if matter is not None and (not isinstance(matter, dict) or matter.get("id") not in self.matters):
            return "Matter must exist"
        return None

    def _create_activity(self, request: httpx.Request, spec: dict[str, Any] | None) -> httpx.Response:
        data = self._body(request)
        if isinstance(data, httpx.Response):
            return data
        problem = self._validate_activity(data, None)
        if problem:
            return self._invalid(problem)
        aid = next(self._ids)
        record = {
            "id": aid,
            "etag": self._etag(),
            "type": data["type"],
            "date": data["date"],
            "quantity": data.get("quantity"),
            "non_billable": bool(data.get("non_billable", False)),
            "note": data.get("note"),
            "communication": {"id": data["communication"]["id"]} if data.get("communication") else None,
            "matter": self._matter_ref(data.get("matter")),
            "created_at": self._stamp(),
            "updated_at": self._stamp(),
        }
        self.activities[aid] = record
        return _json(201, {"data": _project(record, spec)}, {"ETag": record["etag"]})


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.fakes.clio``: serve a fake Clio firm with demo data on loopback until Ctrl-C."""
    import argparse

    from tests.fakes.loopback import LoopbackServer

    parser = argparse.ArgumentParser(description="Serve the fake Clio Manage (OAuth + API v4) on 127.0.0.1.")
    parser.parse_args(argv)
    fake = ClioFake()
    ada = fake.add_contact("Ada Lovelace", "(415) 555-0123")
    fake.add_matter(ada, "Estate planning")
    with LoopbackServer(fake.handler) as server:
        fake.base_url = server.base_url
        print(f"fake Clio on {server.base_url} (app key clio-app-id, secret clio-app-secret)")
        print("connect with settings base_url=" + server.base_url)
        wait_for_interrupt()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
