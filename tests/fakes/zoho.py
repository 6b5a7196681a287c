# SPDX-License-Identifier: MIT
"""A fake Zoho CRM (API v8) and Zoho Accounts (OAuth 2.0 with PKCE), validating like the vendor.

Served in-process as an httpx handler (``httpx.MockTransport(fake.handler)``) or on a loopback
port (``tests.fakes.loopback.LoopbackServer(fake.handler)``). Requests are routed by path:
``/oauth/v2/*`` is the accounts server, ``/crm/v8/*`` the API domain. When ``accounts_url`` and
``api_url`` name different hosts, a request for the API on the accounts host (or the reverse) is
refused, so a client that ignores the ``api_domain`` of the token response fails here as it would
in a real multi-data-centre account.

What is checked, as Zoho does:
- OAuth: registered client, loopback redirect, PKCE S256 (``code_verifier`` against the challenge),
  single-use codes, ``access_type=offline`` for a refresh token, refresh, revocation. Token errors
  come back as HTTP 200 with ``{"error": "invalid_code"}`` — a documented Zoho quirk.
- ``Authorization: Zoho-oauthtoken <token>``; anything else is 401 ``INVALID_TOKEN`` /
  ``AUTHENTICATION_FAILURE``; missing scope is 401 ``OAUTH_SCOPE_MISMATCH``.
- Calls: the ``{"data": [...]}`` envelope, per-record results ``{code, details, message, status}``
  (partial success possible), mandatory ``Subject``/``Call_Type``/``Call_Start_Time`` and
  ``Call_Duration`` for completed calls, picklists (``Call_Type``, ``Call_Result``,
  ``Outgoing_Call_Status``), lengths from the field metadata, datetimes with an offset,
  ``Who_Id`` must be a Contact, ``What_Id`` needs ``$se_module``, ``Call_Type`` cannot change.
- Unknown field names are refused with ``INVALID_DATA`` (stricter than Zoho, which may ignore
  them: it catches a misspelt API name in the adapter).
- Record searches take only the parameters Zoho's v8 search specification declares (no
  ``fields``: they answer whole records); other endpoints take the query parameters their v8
  specification declares; others are ``INVALID_REQUEST``. Write bodies hold only the declared
  top-level keys (``data``, ``trigger``, ...).

Test controls: :meth:`add_contact`, :meth:`add_lead`, :meth:`add_deal`, :meth:`person_edits`,
:meth:`inject_failure`, :meth:`revoke_grant`, :attr:`requests` and :attr:`now`.
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
from tests.fakes.vendor_base import (
    BodyShape,
    InjectedApiFaults,
    undeclared_field,
    undeclared_param,
    wait_for_interrupt,
)

API_PREFIX = "/crm/v8"
SCOPES = ("ZohoCRM.modules.ALL", "ZohoCRM.settings.fields.READ", "ZohoCRM.users.READ")

_BODY_WRAPPER: BodyShape = {
    "data": None, "trigger": None, "process": None, "duplicate_check_fields": None, "wf_trigger": None, "lar_id": None,
}
_SEARCH_PARAMS = frozenset({"criteria", "email", "phone", "word", "converted", "approval_state", "page", "per_page"})
_ISO_OFFSET = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")
_DURATION = {"mm:ss": re.compile(r"^\d{1,4}:[0-5]\d$"), "hh:mm": re.compile(r"^\d{1,3}:[0-5]\d$")}


def _declared_params(method: str, parts: list[str]) -> frozenset[str] | None:
    """The query parameters an API endpoint the adapter uses declares in Zoho's v8 specification
    (zoho/crm-oas: v8.0/users.json, fields.json, related_records.json, record.json); ``None`` for the
    record search, checked on its own (:data:`_SEARCH_PARAMS`), and for endpoints not checked.
    Anything else is refused with INVALID_REQUEST (stricter than Zoho may be, to catch drift)."""
    if method == "GET" and parts == ["users"]:
        return frozenset({"type", "page", "per_page", "ids"})
    if method == "GET" and parts == ["settings", "fields"]:
        return frozenset({"module", "type"})
    if method == "GET" and len(parts) == 3:
        return frozenset({"page", "per_page", "fields"})
    if method == "GET" and len(parts) == 2 and parts[1] != "search":
        return frozenset({"approved", "converted", "cvid", "uid", "fields", "startDateTime", "endDateTime",
                          "territory_id", "include_child"})
    if method in ("POST", "PUT") and len(parts) in (1, 2):
        return frozenset()
    return None


def _digits(text: str | None) -> str:
    return re.sub(r"\D", "", text or "")


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def _error(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "details": details or {}, "message": message, "status": "error"}


def error_envelope(status: int) -> dict[str, Any]:
    """Zoho's top-level error body for an HTTP status (what an injected failure answers)."""
    return {
        400: _error("INVALID_DATA", "invalid data"),
        401: _error("INVALID_TOKEN", "invalid oauth token"),
        403: _error("NO_PERMISSION", "permission denied"),
        404: _error("INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"),
        409: _error("DUPLICATE_DATA", "duplicate data"),
        429: _error("TOO_MANY_REQUESTS", "The number of API requests exceeded the concurrency limit"),
    }.get(status, _error("INTERNAL_ERROR", "Internal Server Error"))


def _field(
    api_name: str, data_type: str, length: int, *, mandatory: bool = False, picklist: list[str] | None = None
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "api_name": api_name,
        "field_label": api_name.replace("_", " ").replace(" Id", "").strip(),
        "data_type": data_type,
        "length": length,
        "system_mandatory": mandatory,
        "read_only": False,
    }
    if picklist is not None:
        meta["pick_list_values"] = [
            {"display_value": v, "actual_value": v, "id": str(4876876000000300000 + i)} for i, v in enumerate(picklist)
        ]
    return meta


class ZohoFake(InjectedApiFaults):
    """One Zoho organisation in one data centre.

    Args:
        accounts_url: base URL of the accounts server (``https://accounts.zoho.eu`` for the EU DC).
        api_url: the ``api_domain`` handed out in token responses.
        location: the DC code sent back on the authorize redirect (``us``, ``eu``, ...).
        call_results: the org's ``Call_Result`` picklist.
        duration_format: ``"mm:ss"`` (what Bigin documents) or ``"hh:mm"``.
        start: the fake's clock at creation.
        login_urls: other accounts servers whose sign-in page serves this account (Zoho's
            multi-DC login: the redirect then names ``accounts_url`` as ``accounts-server``, and
            codes are only exchanged there).
    """

    def __init__(
        self,
        *,
        accounts_url: str = "https://accounts.zoho.test",
        api_url: str = "https://www.zohoapis.test",
        location: str = "us",
        call_results: list[str] | None = None,
        duration_format: str = "mm:ss",
        start: datetime | None = None,
        login_urls: tuple[str, ...] = (),
    ) -> None:
        self.login_urls = login_urls
        self.accounts_url = accounts_url
        self.api_url = api_url
        self.location = location
        self.duration_format = duration_format
        self.now = start or datetime(2026, 9, 30, 14, 0, tzinfo=UTC)
        self.clients: dict[str, set[str]] = {"1000.DESKTOPCLIENT": set(SCOPES)}
        self.records: dict[str, dict[str, dict[str, Any]]] = {"Contacts": {}, "Leads": {}, "Deals": {}, "Calls": {}}
        self.requests: list[httpx.Request] = []
        self.user = {"id": "4876876000000225001", "full_name": "Alex Agent", "email": "alex@example.test"}
        self.fields = [
            _field("Subject", "text", 255, mandatory=True),
            _field("Call_Type", "picklist", 120, mandatory=True, picklist=["Inbound", "Outbound", "Missed"]),
            _field("Call_Start_Time", "datetime", 120, mandatory=True),
            _field("Call_Duration", "text", 10),
            _field("Call_Duration_in_seconds", "integer", 9),
            _field(
                "Call_Result",
                "picklist",
                120,
                picklist=call_results
                if call_results is not None
                else ["-None-", "Interested", "Not interested", "No response", "Requested more info"],
            ),
            _field(
                "Outgoing_Call_Status", "picklist", 120, picklist=["Scheduled", "Completed", "Overdue", "Cancelled"]
            ),
            _field("Description", "textarea", 32000),
            _field("Voice_Recording__s", "website", 255),
            _field("Caller_ID", "phone", 30),
            _field("Dialled_Number", "phone", 30),
            _field("Who_Id", "lookup", 120),
            _field("What_Id", "lookup", 120),
        ]
        self.deny_next_authorize = False
        self.grants = GrantStore(lambda: self.now)
        self._init_faults(error_envelope)
        self._ids = itertools.count(4876876000009000001)
        self._lock = threading.RLock()

    # --- test controls ---------------------------------------------------------------------

    def _new_id(self) -> str:
        return str(next(self._ids))

    def _stamp(self) -> str:
        return self.now.isoformat(timespec="seconds")

    def add_contact(self, name: str, phone: str, *, mobile: str | None = None, account: str | None = None) -> str:
        first, _, last = name.rpartition(" ")
        rid = self._new_id()
        self.records["Contacts"][rid] = {
            "id": rid,
            "First_Name": first or None,
            "Last_Name": last,
            "Full_Name": name,
            "Phone": phone,
            "Mobile": mobile,
            "Account_Name": {"name": account, "id": self._new_id()} if account else None,
            "Owner": {"name": self.user["full_name"], "id": self.user["id"], "email": self.user["email"]},
            "Created_Time": self._stamp(),
            "Modified_Time": self._stamp(),
        }
        return rid

    def add_lead(self, name: str, phone: str, *, company: str | None = None) -> str:
        first, _, last = name.rpartition(" ")
        rid = self._new_id()
        self.records["Leads"][rid] = {
            "id": rid,
            "First_Name": first or None,
            "Last_Name": last,
            "Full_Name": name,
            "Phone": phone,
            "Mobile": None,
            "Company": company,
            "Owner": {"name": self.user["full_name"], "id": self.user["id"], "email": self.user["email"]},
            "Created_Time": self._stamp(),
            "Modified_Time": self._stamp(),
        }
        return rid

    def add_deal(self, name: str, contact_id: str, *, stage: str = "Qualification") -> str:
        rid = self._new_id()
        contact = self.records["Contacts"][contact_id]
        self.records["Deals"][rid] = {
            "id": rid,
            "Deal_Name": name,
            "Stage": stage,
            "Contact_Name": {"name": contact["Full_Name"], "id": contact_id},
            "Modified_Time": self._stamp(),
        }
        return rid

    def person_edits(self, call_id: str, *, subject: str | None = None, description: str | None = None) -> None:
        """Someone edits the call in Zoho's web UI: the fields change and ``Modified_Time`` moves on."""
        with self._lock:
            record = self.records["Calls"][call_id]
            if subject is not None:
                record["Subject"] = subject
            if description is not None:
                record["Description"] = description
            record["Modified_Time"] = self._stamp()
            record["Modified_By"] = {"name": "Someone Else", "id": "4876876000000225999"}

    def revoke_grant(self) -> None:
        """The user removed the app's access in Zoho Accounts: every token stops working."""
        with self._lock:
            self.grants.revoke_all()

    def issue_tokens(self, client_id: str = "1000.DESKTOPCLIENT", *, expires_in: int = 3600) -> dict[str, Any]:
        """Tokens as if a sign-in had happened (for tests that are not about sign-in)."""
        with self._lock:
            refresh = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
            grant = self.grants.add_grant(refresh, Grant(client_id, tuple(SCOPES), refresh_token=refresh))
            return self._access_for(grant, refresh, expires_in=expires_in, include_refresh=True)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith(API_PREFIX)]

    # --- dispatch --------------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self._lock:
            self.requests.append(request)
            path = request.url.path
            if path.startswith("/oauth/v2/"):
                login_page = path == "/oauth/v2/auth" and any(self._same_host(request, u) for u in self.login_urls)
                if not (login_page or self._same_host(request, self.accounts_url)):
                    return httpx.Response(404, text="Not found")
                return self._oauth(request)
            if path.startswith(API_PREFIX + "/"):
                if not self._same_host(request, self.api_url):
                    return _json(
                        400, _error("INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one")
                    )
                injected = self._injected_answer(request, self._api)
                if injected is not None:
                    return injected
                return self._api(request)
            return httpx.Response(404, text="Not found")

    @staticmethod
    def _same_host(request: httpx.Request, base: str) -> bool:
        want = urlsplit(base)
        port = want.port or (443 if want.scheme == "https" else 80)
        return request.url.host == want.hostname and (request.url.port or port) == port

    # --- OAuth -----------------------------------------------------------------------------

    def _oauth(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/oauth/v2/auth" and request.method == "GET":
            return self._authorize(dict(request.url.params))
        if path == "/oauth/v2/token" and request.method == "POST":
            form = {k: v[-1] for k, v in parse_qs(request.content.decode()).items()}
            form.update(dict(request.url.params))
            return self._token(form)
        if path == "/oauth/v2/token/revoke" and request.method == "POST":
            form = {k: v[-1] for k, v in parse_qs(request.content.decode()).items()}
            token = form.get("token") or request.url.params.get("token", "")
            grant = self.grants.grants.get(token)
            if grant is not None:
                self.grants.revoke(grant)
            return _json(200, {"status": "success"})
        return httpx.Response(404, text="Not found")

    def _authorize(self, q: dict[str, str]) -> httpx.Response:
        client_id = q.get("client_id", "")
        redirect_uri = q.get("redirect_uri", "")
        if client_id not in self.clients:
            return httpx.Response(400, text="Invalid Client ID passed", headers={"Content-Type": "text/html"})
        target = urlsplit(redirect_uri)
        if target.scheme != "http" or target.hostname not in ("127.0.0.1", "localhost", "::1"):
            return httpx.Response(400, text="Invalid Redirect Uri passed", headers={"Content-Type": "text/html"})

        def back(params: dict[str, str]) -> httpx.Response:
            return httpx.Response(302, headers={"Location": f"{redirect_uri}?{urlencode(params)}"})

        state = q.get("state", "")
        if q.get("response_type") != "code":
            return back({"error": "unsupported_response_type", "state": state})
        if self.deny_next_authorize:
            self.deny_next_authorize = False
            return back({"error": "access_denied", "state": state})
        if not q.get("code_challenge") or q.get("code_challenge_method") != "S256":
            return back({"error": "invalid_request", "error_description": "code_challenge required", "state": state})
        scopes = tuple(s for s in re.split(r"[ ,]+", q.get("scope", "")) if s)
        if not scopes or any(s not in self.clients[client_id] for s in scopes):
            return back({"error": "invalid_scope", "state": state})
        code = self.grants.add_code(
            f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}",
            AuthCode(
                client_id,
                redirect_uri,
                q["code_challenge"],
                self.now + timedelta(minutes=2),
                scopes,
                extra={"offline": q.get("access_type") == "offline"},
            ),
        )
        return back({"state": state, "code": code, "location": self.location, "accounts-server": self.accounts_url})

    def _token(self, form: dict[str, str]) -> httpx.Response:
        grant_type = form.get("grant_type")
        if form.get("client_id") not in self.clients:
            return _json(200, {"error": "invalid_client"})
        if grant_type == "authorization_code":
            code = self.grants.redeem_code(
                form.get("code", ""),
                client_id=form.get("client_id", ""),
                redirect_uri=form.get("redirect_uri"),
                verifier=form.get("code_verifier", ""),
            )
            if isinstance(code, str):
                return _json(200, {"error": "invalid_redirect_uri" if code == "redirect_mismatch" else "invalid_code"})
            refresh = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
            grant = self.grants.add_grant(refresh, Grant(code.client_id, code.scopes, refresh_token=refresh))
            return _json(200, self._access_for(grant, refresh, expires_in=3600, include_refresh=code.extra["offline"]))
        if grant_type == "refresh_token":
            held = self.grants.by_refresh(form.get("refresh_token", ""), form.get("client_id", ""))
            if held is None:
                return _json(200, {"error": "invalid_code"})
            grant = held
            return _json(200, self._access_for(grant, "", expires_in=3600, include_refresh=False))
        return _json(200, {"error": "unsupported_grant_type"})

    def _access_for(self, grant: Grant, refresh: str, *, expires_in: int, include_refresh: bool) -> dict[str, Any]:
        access = self.grants.issue_access(
            grant, f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}", self.now + timedelta(seconds=expires_in)
        )
        body: dict[str, Any] = {
            "access_token": access,
            "scope": " ".join(grant.scopes),
            "api_domain": self.api_url,
            "token_type": "Bearer",
            "expires_in": expires_in,
        }
        if include_refresh:
            body["refresh_token"] = refresh
        return body

    def _authenticate(self, request: httpx.Request) -> httpx.Response | tuple[str, ...]:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme != "Zoho-oauthtoken" or not token:
            return _json(401, _error("AUTHENTICATION_FAILURE", "Authentication failed"))
        found = self.grants.find_access(token)
        if found is not None and not found[0].revoked and found[1] > self.now:
            return found[0].scopes
        return _json(401, _error("INVALID_TOKEN", "invalid oauth token"))

    # --- CRM API ---------------------------------------------------------------------------

    def _api(self, request: httpx.Request) -> httpx.Response:
        scopes = self._authenticate(request)
        if isinstance(scopes, httpx.Response):
            return scopes
        parts = request.url.path[len(API_PREFIX) + 1 :].split("/")
        q = request.url.params
        method = request.method
        declared = _declared_params(method, parts)
        name = undeclared_param(q, declared) if declared is not None else None
        if name is not None:
            return _json(400, _error("INVALID_REQUEST", "the given parameter is not supported", {"param_name": name}))
        if parts == ["users"] and method == "GET":
            if q.get("type") != "CurrentUser":
                return _json(400, _error("INVALID_DATA", "invalid data", {"param_name": "type"}))
            return _json(200, {"users": [dict(self.user)], "info": {"per_page": 200, "count": 1, "page": 1}})
        if parts == ["settings", "fields"] and method == "GET":
            if q.get("module") != "Calls":
                return _json(400, _error("INVALID_MODULE", "the module name given seems to be invalid"))
            return _json(200, {"fields": json.loads(json.dumps(self.fields))})
        if len(parts) == 2 and parts[1] == "search" and method == "GET":
            return self._search(parts[0], q)
        if len(parts) == 3 and parts[0] == "Contacts" and parts[2] == "Deals" and method == "GET":
            return self._related_deals(parts[1], q)
        if parts == ["Calls"] and method == "POST":
            return self._create_calls(request)
        if len(parts) == 2 and parts[0] == "Calls" and method == "GET":
            return self._get_call(parts[1], q)
        if len(parts) == 2 and parts[0] == "Calls" and method == "PUT":
            return self._update_call(parts[1], request)
        if parts[0] not in self.records and parts[0] not in ("users", "settings"):
            return _json(400, _error("INVALID_MODULE", "the module name given seems to be invalid"))
        return _json(400, _error("INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"))

    @staticmethod
    def _project(record: dict[str, Any], fields: str | None) -> dict[str, Any]:
        if not fields:
            return dict(record)
        wanted = {f.strip() for f in fields.split(",") if f.strip()}
        out = {k: v for k, v in record.items() if k in wanted or k == "id"}
        if "What_Id" in wanted and "$se_module" in record:
            out["$se_module"] = record["$se_module"]
        return out

    @staticmethod
    def _page(rows: list[dict[str, Any]], q: httpx.QueryParams) -> httpx.Response:
        if not rows:
            return httpx.Response(204)
        per_page = min(int(q.get("per_page", "200")), 200)
        page = int(q.get("page", "1"))
        chunk = rows[(page - 1) * per_page : page * per_page]
        info = {"per_page": per_page, "count": len(chunk), "page": page, "more_records": page * per_page < len(rows)}
        return _json(200, {"data": chunk, "info": info})

    def _search(self, module: str, q: httpx.QueryParams) -> httpx.Response:
        if module not in self.records:
            return _json(400, _error("INVALID_MODULE", "the module name given seems to be invalid"))
        # GET /crm/v8/{module}/search declares criteria, email, phone, word, converted,
        # approval_state and per_page (zoho/crm-oas v8.0/module_search.json, the search API's own
        # specification) and no ``fields``: the answer holds whole records. ``page`` is taken too, as
        # the older listing of the same path in v8.0/record.json has it (that listing also has
        # ``fields``; the two disagree, and the search specification is followed). Anything else is
        # INVALID_REQUEST, the error module_search.json declares for the operation.
        for name in q:
            if name not in _SEARCH_PARAMS:
                problem = _error("INVALID_REQUEST", "the given parameter is not supported", {"param_name": name})
                return _json(400, problem)
        given = [k for k in ("criteria", "email", "phone", "word") if q.get(k)]
        if len(given) != 1:
            return _json(
                400,
                _error(
                    "REQUIRED_PARAM_MISSING",
                    "One of the expected parameter is missing",
                    {"param": "criteria, email, phone, word"},
                ),
            )
        rows: list[dict[str, Any]] = []
        if given[0] == "phone":
            wanted = _digits(q["phone"])
            if len(wanted) < 3:
                return _json(400, _error("INVALID_QUERY", "the search value is too short", {"param": "phone"}))
            for record in self.records[module].values():
                for key in ("Phone", "Mobile"):
                    stored = _digits(record.get(key))
                    if stored and (
                        stored == wanted
                        or (
                            len(wanted) >= 7
                            and (stored.endswith(wanted) or (wanted.endswith(stored) and len(stored) >= 7))
                        )
                    ):
                        rows.append(record)
                        break
        elif given[0] == "criteria":
            matcher = _parse_criteria(q["criteria"])
            if matcher is None:
                return _json(400, _error("INVALID_QUERY", "invalid query formed", {"reason": "invalid criteria"}))
            rows = [r for r in self.records[module].values() if matcher(r)]
        else:
            needle = q[given[0]].lower()
            rows = [r for r in self.records[module].values() if needle in json.dumps(r).lower()]
        return self._page([dict(r) for r in rows], q)

    def _related_deals(self, contact_id: str, q: httpx.QueryParams) -> httpx.Response:
        if contact_id not in self.records["Contacts"]:
            return _json(400, _error("INVALID_DATA", "the related id given seems to be invalid", {"id": contact_id}))
        rows = [d for d in self.records["Deals"].values() if d["Contact_Name"]["id"] == contact_id]
        return self._page([self._project(r, q.get("fields")) for r in rows], q)

    def _get_call(self, call_id: str, q: httpx.QueryParams) -> httpx.Response:
        record = self.records["Calls"].get(call_id)
        if record is None:
            return httpx.Response(204)
        return _json(200, {"data": [self._project(record, q.get("fields"))]})

    def _envelope(self, request: httpx.Request) -> list[Any] | httpx.Response:
        try:
            raw_body = json.loads(request.content or b"null")
        except ValueError:
            return _json(400, _error("INVALID_DATA", "body is not a valid JSON"))
        if not isinstance(raw_body, dict) or "data" not in raw_body:
            return _json(400, _error("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "data"}))
        # The record write body (Body_Wrapper in zoho/crm-oas v8.0/record.json) has data, trigger,
        # process, duplicate_check_fields, wf_trigger and lar_id; anything else is refused.
        extra = undeclared_field(raw_body, _BODY_WRAPPER)
        if extra is not None:
            return _json(400, _error("INVALID_DATA", "invalid data", {"api_name": extra}))
        data = raw_body["data"]
        if not isinstance(data, list) or not data:
            return _json(
                400, _error("INVALID_DATA", "invalid data", {"api_name": "data", "expected_data_type": "jsonarray"})
            )
        if len(data) > 100:
            return _json(400, _error("LIMIT_EXCEEDED", "the number of records exceeds the limit", {"limit": 100}))
        return data

    def _results(self, results: list[dict[str, Any]]) -> httpx.Response:
        ok = sum(1 for r in results if r["status"] == "success")
        status = 201 if ok == len(results) else (400 if ok == 0 else 207)
        return _json(status, {"data": results})

    def _create_calls(self, request: httpx.Request) -> httpx.Response:
        data = self._envelope(request)
        if isinstance(data, httpx.Response):
            return data
        results: list[dict[str, Any]] = []
        for raw_record in data:
            problem = self._validate(raw_record, existing=None)
            if problem is not None:
                results.append(problem)
                continue
            rid = self._new_id()
            owner = {"name": self.user["full_name"], "id": self.user["id"], "email": self.user["email"]}
            record: dict[str, Any] = {
                "id": rid,
                "Subject": None,
                "Description": None,
                "Call_Result": None,
                "Voice_Recording__s": None,
                "Call_Duration": None,
                "Call_Duration_in_seconds": None,
                "Caller_ID": None,
                "Dialled_Number": None,
                "Outgoing_Call_Status": None,
                "Who_Id": None,
                "What_Id": None,
                "Owner": owner,
                "Created_Time": self._stamp(),
                "Created_By": {"name": owner["name"], "id": owner["id"]},
            }
            self._apply(record, raw_record)
            self.records["Calls"][rid] = record
            results.append(
                {
                    "code": "SUCCESS",
                    "details": {
                        "Modified_Time": record["Modified_Time"],
                        "Modified_By": record["Modified_By"],
                        "Created_Time": record["Created_Time"],
                        "id": rid,
                        "Created_By": record["Created_By"],
                    },
                    "message": "record added",
                    "status": "success",
                }
            )
        return self._results(results)

    def _update_call(self, call_id: str, request: httpx.Request) -> httpx.Response:
        data = self._envelope(request)
        if isinstance(data, httpx.Response):
            return data
        if len(data) != 1:
            return _json(400, _error("INVALID_DATA", "invalid data", {"api_name": "data"}))
        record = self.records["Calls"].get(call_id)
        if record is None:
            return _json(400, {"data": [_error("INVALID_DATA", "the id given seems to be invalid", {"id": call_id})]})
        problem = self._validate(data[0], existing=record)
        if problem is not None:
            return _json(400, {"data": [problem]})
        self._apply(record, data[0])
        result = {
            "code": "SUCCESS",
            "details": {
                "Modified_Time": record["Modified_Time"],
                "Modified_By": record["Modified_By"],
                "Created_Time": record["Created_Time"],
                "id": call_id,
                "Created_By": record["Created_By"],
            },
            "message": "record updated",
            "status": "success",
        }
        return _json(200, {"data": [result]})

    def _meta(self, api_name: str) -> dict[str, Any] | None:
        return next((f for f in self.fields if f["api_name"] == api_name), None)

    def _validate(self, raw: Any, *, existing: dict[str, Any] | None) -> dict[str, Any] | None:
        if not isinstance(raw, dict):
            return _error("INVALID_DATA", "invalid data", {"expected_data_type": "jsonobject"})
        for key, value in raw.items():
            if key in ("$se_module", "id"):
                continue
            meta = self._meta(key)
            if meta is None:
                return _error("INVALID_DATA", "the field does not exist", {"api_name": key})
            if value is None:
                if meta["system_mandatory"]:
                    return _error("MANDATORY_NOT_FOUND", "required field not found", {"api_name": key})
                continue
            kind = meta["data_type"]
            if kind in ("text", "textarea", "website", "phone", "picklist", "datetime"):
                if not isinstance(value, str):
                    return _error("INVALID_DATA", "invalid data", {"api_name": key, "expected_data_type": kind})
                if len(value) > meta["length"]:
                    return _error("INVALID_DATA", "invalid data", {"api_name": key, "maximum_length": meta["length"]})
            if kind == "picklist":
                allowed = [v["actual_value"] for v in meta["pick_list_values"]]
                if value not in allowed:
                    return _error("INVALID_DATA", "invalid data", {"api_name": key, "expected_data_type": "picklist"})
            if kind == "datetime" and not _ISO_OFFSET.match(value):
                return _error("INVALID_DATA", "invalid data", {"api_name": key, "expected_data_type": "datetime"})
            if kind == "website" and not re.match(r"^https?://\S+$", value):
                return _error("INVALID_DATA", "invalid data", {"api_name": key, "expected_data_type": "website"})
            if kind == "lookup" and not (isinstance(value, dict) and isinstance(value.get("id"), str)):
                return _error("INVALID_DATA", "invalid data", {"api_name": key, "expected_data_type": "lookup"})
            if kind == "integer" and not isinstance(value, int):
                return _error("INVALID_DATA", "invalid data", {"api_name": key, "expected_data_type": "integer"})
        if existing is None:
            for meta in self.fields:
                if meta["system_mandatory"] and raw.get(meta["api_name"]) in (None, ""):
                    return _error("MANDATORY_NOT_FOUND", "required field not found", {"api_name": meta["api_name"]})
        else:
            if "Call_Type" in raw and raw["Call_Type"] != existing["Call_Type"]:
                return _error("INVALID_DATA", "Call type cannot be changed", {"api_name": "Call_Type"})
            if "Owner" in raw:
                return _error("INVALID_DATA", "owner of a completed call cannot be changed", {"api_name": "Owner"})
        merged = {**(existing or {}), **raw}
        if "Call_Duration" in raw or existing is None:
            completed = merged.get("Call_Type") == "Inbound" or (
                merged.get("Call_Type") == "Outbound" and merged.get("Outgoing_Call_Status") in (None, "Completed")
            )
            duration = merged.get("Call_Duration")
            if completed and not duration:
                return _error("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "Call_Duration"})
            if duration and not _DURATION[self.duration_format].match(duration):
                return _error(
                    "INVALID_DATA",
                    "invalid data",
                    {"api_name": "Call_Duration", "expected_format": self.duration_format},
                )
        if "Who_Id" in raw and raw["Who_Id"] is not None and raw["Who_Id"]["id"] not in self.records["Contacts"]:
            return _error(
                "INVALID_DATA",
                "the related id given seems to be invalid",
                {"api_name": "Who_Id", "id": raw["Who_Id"]["id"]},
            )
        if "What_Id" in raw and raw["What_Id"] is not None:
            module = raw.get("$se_module")
            if not module:
                return _error("MANDATORY_NOT_FOUND", "required field not found", {"api_name": "$se_module"})
            if module not in ("Accounts", "Deals", "Leads") or raw["What_Id"]["id"] not in self.records.get(module, {}):
                return _error(
                    "INVALID_DATA",
                    "the related id given seems to be invalid",
                    {"api_name": "What_Id", "id": raw["What_Id"]["id"]},
                )
        return None

    def _apply(self, record: dict[str, Any], raw: dict[str, Any]) -> None:
        for key, value in raw.items():
            if key == "Who_Id" and value is not None:
                value = {"name": self.records["Contacts"][value["id"]]["Full_Name"], "id": value["id"]}
            elif key == "What_Id" and value is not None:
                module = raw["$se_module"]
                target = self.records[module][value["id"]]
                value = {
                    "name": target.get("Deal_Name") or target.get("Full_Name") or target.get("Account_Name"),
                    "id": value["id"],
                }
            record[key] = value
        if record.get("Call_Duration"):
            a, b = (int(x) for x in record["Call_Duration"].split(":"))
            record["Call_Duration_in_seconds"] = a * 60 + b if self.duration_format == "mm:ss" else a * 3600 + b * 60
        record["Modified_Time"] = self._stamp()
        record["Modified_By"] = {"name": self.user["full_name"], "id": self.user["id"]}


def _parse_criteria(text: str) -> Any:
    """``((A:equals:x)and(B:starts_with:y))`` → a predicate over a record; None if malformed."""
    text = text.strip()
    while text.startswith("((") and text.endswith("))"):
        text = text[1:-1]
    if not (text.startswith("(") and text.endswith(")")):
        return None
    inner = text[1:-1]
    joiner = "and"
    if ")or(" in inner:
        joiner = "or"
        pieces = inner.split(")or(")
    else:
        pieces = inner.split(")and(")
    tests = []
    for piece in pieces:
        bits = piece.split(":", 2)
        if len(bits) != 3 or bits[1] not in ("equals", "starts_with"):
            return None
        name, op, value = bits[0], bits[1], bits[2].replace("\\(", "(").replace("\\)", ")").replace("\\,", ",")
        tests.append((name, op, value))

    def value_of(record: dict[str, Any], name: str) -> str:
        value = record.get(name)
        if isinstance(value, dict):
            value = value.get("id")
        return "" if value is None else str(value)

    def equals(stored: str, wanted: str) -> bool:
        if _ISO_OFFSET.match(stored) and _ISO_OFFSET.match(wanted):
            return datetime.fromisoformat(stored) == datetime.fromisoformat(wanted)
        return stored == wanted

    def match(record: dict[str, Any]) -> bool:
        results = [
            equals(value_of(record, n), v) if op == "equals" else value_of(record, n).lower().startswith(v.lower())
            for n, op, v in tests
        ]
        return all(results) if joiner == "and" else any(results)

    return match


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.fakes.zoho``: serve a fake Zoho org with demo data on loopback until Ctrl-C."""
    import argparse

    from tests.fakes.loopback import LoopbackServer

    parser = argparse.ArgumentParser(description="Serve the fake Zoho CRM (accounts + API) on 127.0.0.1.")
    parser.parse_args(argv)
    fake = ZohoFake()
    ada = fake.add_contact("Ada Lovelace", "(415) 555-0123", account="Analytical Engines")
    fake.add_deal("Engine No. 2", ada)
    fake.add_lead("Grace Hopper", "+1 212 555 7464", company="Navy")
    with LoopbackServer(fake.handler) as server:
        fake.accounts_url = fake.api_url = server.base_url
        print(f"fake Zoho CRM on {server.base_url} (client id 1000.DESKTOPCLIENT)")
        print("connect with settings accounts_url=" + server.base_url)
        wait_for_interrupt()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
