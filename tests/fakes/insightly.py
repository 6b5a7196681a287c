# SPDX-License-Identifier: MIT
"""A fake Insightly instance (API v3.1), validating requests the way Insightly does.

Served in-process as an httpx handler (``httpx.MockTransport(fake.handler)``; it answers on any
host, ``https://api.na1.insightly.com`` included) or on a loopback port
(``tests.fakes.loopback.LoopbackServer(fake.handler)``; ``python -m tests.fakes.insightly --port N``
serves it with the sandbox's demo people). The API lives under ``/v3.1``.

Sources, cited again beside each rule below:

- [INTRO] Insightly's API v3.1 introduction, https://api.na1.insightly.com/v3.1/ ("PUT requests
  don't require all fields … To remove the value of a field that's already set, use NULL"; "The
  POST/PUT requests now accept subcollections in their payload"; HTTPS).
- [BLOG] http://blog.insightly.com/2012/08/introducing-insightly-rest-api.html (HTTP Basic, the
  API key as the user name, the password ignored).
- [SPEC] the v3.1 Swagger specification as generated into ``sterner-stuff/insightly-php``
  (``docs/Api/*Api.md``: operations and their query parameters; ``docs/Model/*.md``: fields).
- [SPEC22] the v2.2 specification as generated into ``ljfc/insightly_swagger``
  (``docs/APICalendarEvent.md``: an event's title is required).
- [AUDIT] ``lukeswade/insightly-mcp`` ``docs/API-AUDIT.md`` (third-party live probes: 10 requests a
  second per instance, the daily quota and ``X-RateLimit-Limit``/``-Remaining``, 100/500 records
  per page, body dates ``yyyy-MM-dd HH:mm:ss``, singular link object names, no POST on /Notes).
- [AC] App Connect's connector, ``ringcentral/rc-unified-crm-extension``
  ``src/connectors/insightly/index.ts`` (searches with ``brief=false`` return ``LINKS``; a custom
  field name that does not exist is refused with a 4xx).
- [V] not documented anywhere found: the fake's choice, written down so a test can change it.

Stricter than Insightly may be (like the other fakes): a query parameter an operation does not
declare in [SPEC], or a body field the model does not declare, is refused with a 400.

Test controls: :meth:`add_contact`, :meth:`add_lead`, :meth:`add_opportunity`,
:meth:`add_event_custom_field`, :meth:`person_edits`, :meth:`person_deletes`, :meth:`inject_failure`
(statuses with Insightly's error body, ``"timeout"``, ``"malformed"``, ``"wrong_shape"``),
:meth:`delay_next`, :attr:`requests`, :attr:`now`, :attr:`daily_limit`, :attr:`per_second`.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import itertools
import json
import threading
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.fakes.vendor_base import (
    BodyShape,
    InjectedApiFaults,
    sandbox_demo_contacts,
    undeclared_field,
    undeclared_param,
    wait_for_interrupt,
)

API = "/v3.1"
DEFAULT_API_KEY = "5a1c9e7b-2f4d-4c8a-9b6e-0d3f7a2c8e41"
#: [V] Insightly publishes no lengths; these are the adapter's limits, enforced the same way here.
TITLE_LIMIT = 255
DETAILS_LIMIT = 32_000
LOCATION_LIMIT = 255
BODY_DATE = "%Y-%m-%d %H:%M:%S"

#: [SPEC] the query parameters of each operation the adapter uses (``docs/Api/ContactsApi.md``
#: getEntitiesBySearch, ``LeadsApi.md``, ``EventsApi.md``, ``OpportunitiesApi.md`` getEntity,
#: ``UsersApi.md`` getUserMe, ``CustomFieldsApi.md`` getCustomFields).
SEARCH_PARAMS = frozenset({"field_name", "field_value", "updated_after_utc", "brief", "skip", "top", "count_total"})
DECLARED_PARAMS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "Users/Me"): frozenset(),
    ("GET", "Contacts/Search"): SEARCH_PARAMS,
    ("GET", "Leads/Search"): SEARCH_PARAMS,
    ("GET", "Events/Search"): SEARCH_PARAMS,
    ("GET", "Opportunities/{id}"): frozenset(),
    ("GET", "CustomFields/{object}"): frozenset(),
    ("POST", "Events"): frozenset(),
    ("PUT", "Events"): frozenset(),
    ("GET", "Events/{id}"): frozenset(),
    ("DELETE", "Events/{id}"): frozenset(),
    ("GET", "Events/{id}/Links"): frozenset(),
    ("POST", "Events/{id}/Links"): frozenset(),
    ("DELETE", "Events/{id}/Links/{id}"): frozenset(),
}
#: [SPEC] ``docs/Model/APILinkDto.md``.
LINK_SHAPE: BodyShape = {
    "LINK_ID": None, "OBJECT_NAME": None, "OBJECT_ID": None, "LINK_OBJECT_NAME": None, "LINK_OBJECT_ID": None,
    "ROLE": None, "DETAILS": None, "RELATIONSHIP_ID": None, "IS_FORWARD": None,
}
#: [SPEC] ``docs/Model/APIEvent.md``, plus the ``LINKS`` subcollection events carry ([INTRO]: POST/PUT
#: accept subcollections; [AC] reads ``LINKS`` of ``GET /Events/{id}``) and ``APICustomField.md``.
EVENT_SHAPE: BodyShape = {
    "EVENT_ID": None, "TITLE": None, "LOCATION": None, "START_DATE_UTC": None, "END_DATE_UTC": None,
    "ALL_DAY": None, "DETAILS": None, "DATE_CREATED_UTC": None, "DATE_UPDATED_UTC": None,
    "REMINDER_DATE_UTC": None, "REMINDER_SENT": None, "OWNER_USER_ID": None,
    "CUSTOMFIELDS": {"FIELD_NAME": None, "FIELD_VALUE": None}, "LINKS": LINK_SHAPE,
}
#: The singular object names a link takes ([AUDIT]: "Link object names are SINGULAR in the body …
#: A frequent 400 cause"); compared without case ([V]) and written back capitalised.
LINK_OBJECTS = {"contact": "Contact", "lead": "Lead", "opportunity": "Opportunity",
                "organisation": "Organisation", "project": "Project"}
#: Standard fields a search may filter on ([SPEC] ``docs/Model``; [AC] searches ``PHONE``,
#: ``PHONE_MOBILE``, ``MOBILE``, ``FIRST_NAME``, ``LAST_NAME``).
CONTACT_FIELDS = frozenset({
    "CONTACT_ID", "SALUTATION", "FIRST_NAME", "LAST_NAME", "TITLE", "BACKGROUND", "PHONE", "PHONE_HOME",
    "PHONE_MOBILE", "PHONE_OTHER", "PHONE_ASSISTANT", "PHONE_FAX", "EMAIL_ADDRESS", "ORGANISATION_ID",
    "OWNER_USER_ID", "DATE_CREATED_UTC", "DATE_UPDATED_UTC",
})
LEAD_FIELDS = frozenset({
    "LEAD_ID", "SALUTATION", "FIRST_NAME", "LAST_NAME", "TITLE", "PHONE", "MOBILE", "FAX", "EMAIL",
    "ORGANISATION_NAME", "CONVERTED", "OWNER_USER_ID", "DATE_CREATED_UTC", "DATE_UPDATED_UTC",
})
EVENT_FIELDS = frozenset({"EVENT_ID", "TITLE", "LOCATION", "START_DATE_UTC", "END_DATE_UTC", "OWNER_USER_ID",
                          "DATE_CREATED_UTC", "DATE_UPDATED_UTC"})


def error_body(message: str) -> dict[str, str]:
    """[V] Insightly's error body: ASP.NET Web API's ``{"Message": "..."}`` (the API is served by
    ASP.NET, its Swagger at /v3.1/swagger/docs/v3.1 per [AUDIT]); no source shows the shape."""
    return {"Message": message}


def error_envelope(status: int) -> dict[str, str]:
    """The error body for a status (what an injected failure answers)."""
    return error_body({
        400: "The request is invalid.",
        401: "Authorization has been denied for this request.",
        403: "You do not have permission to perform this action.",
        404: "The requested record was not found.",
        409: "The record is being changed by another request.",
        412: "The record has been modified since it was read.",
        422: "The record could not be processed.",
        429: "API request limit exceeded.",
    }.get(status, "An error has occurred."))


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


class InsightlyError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _endpoint(method: str, parts: list[str]) -> tuple[str, str]:
    shape = "/".join("{id}" if p.isdigit() else p for p in parts)
    if len(parts) == 2 and parts[0] == "CustomFields":
        shape = "CustomFields/{object}"
    return method, shape


def _body_date(raw: Any, name: str) -> datetime:
    """[AUDIT] "dates inside object bodies take yyyy-MM-dd HH:mm:ss" (UTC, 24-hour); the fake takes
    nothing else ("mixing them up is a common 400")."""
    if not isinstance(raw, str):
        raise InsightlyError(400, f"{name} must be a date and time (yyyy-MM-dd HH:mm:ss).")
    try:
        return datetime.strptime(raw, BODY_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise InsightlyError(400, f"{name} '{raw}' is not a valid date and time (yyyy-MM-dd HH:mm:ss).") from None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(BODY_DATE)


class InsightlyFake(InjectedApiFaults):
    """One Insightly instance with one user (the API key's), contacts, leads, opportunities,
    events and the custom fields of Events.

    Args:
        per_second: requests a second the instance answers ([AUDIT]: 10 per instance).
        daily_limit: requests a day ([AUDIT]: plan-dependent, e.g. 100,000).
        call_result_field: start with a drop-down custom field ``Call_Result__c`` on Events.
        real_clock: time passes by itself (a fake served to a running app); else it moves only
            when told (:meth:`advance`, :meth:`sleep`).
    """

    def __init__(
        self,
        *,
        per_second: int = 10,
        daily_limit: int = 100_000,
        call_result_field: bool = True,
        real_clock: bool = False,
        start: datetime | None = None,
    ) -> None:
        self._real_clock = real_clock
        self._manual_now = start or datetime(2026, 9, 30, 14, 0, tzinfo=UTC)
        self._offset = timedelta()
        self.per_second = per_second
        self.daily_limit = daily_limit
        self.used_today = 0
        self.user = {
            "USER_ID": 910_001, "CONTACT_ID": 1_000_001, "FIRST_NAME": "Avery", "LAST_NAME": "Agent",
            "TIMEZONE_ID": "Pacific Standard Time", "EMAIL_ADDRESS": "avery@agency.example",
            "ADMINISTRATOR": False, "ACCOUNT_OWNER": False, "ACTIVE": True, "INSTANCE_ID": 123_456,
        }
        self.api_keys: dict[str, int] = {DEFAULT_API_KEY: self.user["USER_ID"]}
        self.contacts: dict[int, dict[str, Any]] = {}
        self.leads: dict[int, dict[str, Any]] = {}
        self.opportunities: dict[int, dict[str, Any]] = {}
        self.events: dict[int, dict[str, Any]] = {}
        self.event_custom_fields: list[dict[str, Any]] = []
        self.requests: list[httpx.Request] = []
        #: How many requests were refused with 429 for going over a limit.
        self.rate_refusals = 0
        self._window: deque[datetime] = deque()
        self._ids = itertools.count(3_000_001)
        self._event_ids = itertools.count(40_000_001)
        self._link_ids = itertools.count(70_000_001)
        self._lock = threading.RLock()
        self._init_faults(error_envelope)
        if call_result_field:
            self.add_event_custom_field(
                "Call_Result__c", "Call Result", ["Connected", "Left voicemail", "No answer", "Wrong number"],
                default="Connected",
            )

    # --- the clock ------------------------------------------------------------------------

    @property  # type: ignore[override]
    def now(self) -> datetime:
        if self._real_clock:
            return datetime.now(UTC) + self._offset
        return self._manual_now

    @now.setter
    def now(self, value: datetime) -> None:
        if self._real_clock:
            self._offset = value - datetime.now(UTC)
        else:
            self._manual_now = value

    def sleep(self, seconds: float) -> None:
        """A ``sleep`` for the adapter under test: time passes on the fake's clock at once."""
        self.advance(seconds)

    def clock(self) -> float:
        """UNIX seconds on the fake's clock (the adapter's ``clock`` in tests)."""
        return self.now.timestamp()

    # --- seeding and simulated people ---------------------------------------------------------

    def _person(self, first: str, last: str | None) -> dict[str, Any]:
        stamp = _stamp(self.now)
        return {"SALUTATION": None, "FIRST_NAME": first, "LAST_NAME": last, "TITLE": None,
                "OWNER_USER_ID": self.user["USER_ID"], "DATE_CREATED_UTC": stamp, "DATE_UPDATED_UTC": stamp,
                "CUSTOMFIELDS": [], "TAGS": [], "LINKS": []}

    def add_contact(self, first: str, last: str | None = None, *, phone: str | None = None,
                    mobile: str | None = None, home: str | None = None,
                    custom: dict[str, str] | None = None) -> int:
        with self._lock:
            cid = next(self._ids)
            self.contacts[cid] = {
                "CONTACT_ID": cid, **self._person(first, last), "BACKGROUND": None, "PHONE": phone,
                "PHONE_HOME": home, "PHONE_MOBILE": mobile, "PHONE_OTHER": None, "PHONE_ASSISTANT": None,
                "PHONE_FAX": None, "EMAIL_ADDRESS": None, "ORGANISATION_ID": None, "DATES": [],
            }
            values = (custom or {}).items()
            self.contacts[cid]["CUSTOMFIELDS"] = [{"FIELD_NAME": k, "FIELD_VALUE": v} for k, v in values]
            return cid

    def add_lead(self, first: str, last: str | None = None, *, phone: str | None = None, mobile: str | None = None,
                 organisation: str | None = None, converted: bool = False) -> int:
        with self._lock:
            lid = next(self._ids)
            self.leads[lid] = {
                "LEAD_ID": lid, **self._person(first, last), "PHONE": phone, "MOBILE": mobile, "FAX": None,
                "EMAIL": None, "ORGANISATION_NAME": organisation, "CONVERTED": converted,
                "LEAD_STATUS_ID": 1, "LEAD_SOURCE_ID": None,
            }
            return lid

    def add_opportunity(self, name: str, *, contact: int | None = None, lead: int | None = None,
                        state: str = "OPEN") -> int:
        """An opportunity, linked both ways to a contact or a lead ([SPEC] ``OPPORTUNITY_STATE``:
        OPEN, WON, LOST, SUSPENDED, ABANDONED)."""
        with self._lock:
            oid = next(self._ids)
            self.opportunities[oid] = {
                "OPPORTUNITY_ID": oid, "OPPORTUNITY_NAME": name, "OPPORTUNITY_STATE": state,
                "OPPORTUNITY_DETAILS": None, "PROBABILITY": 50, "BID_CURRENCY": "USD", "BID_AMOUNT": 1000,
                "OWNER_USER_ID": self.user["USER_ID"], "DATE_CREATED_UTC": _stamp(self.now),
                "DATE_UPDATED_UTC": _stamp(self.now), "CUSTOMFIELDS": [], "TAGS": [], "LINKS": [],
            }
            for kind, table, pid in (("Contact", self.contacts, contact), ("Lead", self.leads, lead)):
                if pid is None:
                    continue
                table[pid]["LINKS"].append(self._link(kind, pid, "Opportunity", oid))
                self.opportunities[oid]["LINKS"].append(self._link("Opportunity", oid, kind, pid))
            return oid

    def add_event_custom_field(self, name: str, label: str, options: list[str], *, default: str | None = None,
                               kind: str = "DROPDOWN") -> None:
        """[SPEC] ``docs/Model/APICustomFieldMetadata.md`` / ``APICustomFieldOption.md``."""
        with self._lock:
            self.event_custom_fields.append({
                "FIELD_NAME": name, "FIELD_ORDER": len(self.event_custom_fields) + 1, "FIELD_FOR": "EVENT",
                "FIELD_LABEL": label, "FIELD_TYPE": kind, "FIELD_HELP_TEXT": None, "DEFAULT_VALUE": default,
                "EDITABLE": True, "VISIBLE": True, "JOIN_OBJECT": None, "DEPENDENCY": None,
                "CUSTOM_FIELD_OPTIONS": [
                    {"OPTION_ID": 500 + i, "OPTION_VALUE": value, "OPTION_DEFAULT": value == default}
                    for i, value in enumerate(options)
                ] if kind == "DROPDOWN" else [],
            })

    def person_edits(self, event_id: int, *, title: str | None = None, details: str | None = None) -> None:
        """Someone edits the event in Insightly: the fields change and ``DATE_UPDATED_UTC`` moves on."""
        with self._lock:
            event = self.events[event_id]
            if title is not None:
                event["TITLE"] = title
            if details is not None:
                event["DETAILS"] = details
            event["DATE_UPDATED_UTC"] = _stamp(self.now)

    def person_deletes(self, event_id: int) -> None:
        with self._lock:
            del self.events[event_id]

    def api_requests(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith(API + "/")
                and (method is None or r.method == method) and (path is None or r.url.path == API + path)]

    def custom_value(self, event_id: int, name: str) -> Any:
        return next((f["FIELD_VALUE"] for f in self.events[event_id]["CUSTOMFIELDS"] if f["FIELD_NAME"] == name), None)

    # --- dispatch ---------------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        request.read()
        with self._lock:
            self.requests.append(request)
            if not request.url.path.startswith(API + "/"):
                return _json(404, error_body(f"No HTTP resource was found that matches the request URI "
                                             f"'{request.url}'."))
            if self._caller(request) is None:
                # [BLOG] HTTP Basic, the key as the user name; a wrong key is a 401 ([V] its body).
                return _json(401, error_body("Authorization has been denied for this request."),
                             {"WWW-Authenticate": 'Basic realm="Insightly"'})
            injected = self._injected_answer(request, self._answer)
            if injected is not None:
                return injected
            return self._answer(request)

    def _caller(self, request: httpx.Request) -> int | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            user, _, _password = base64.b64decode(value).decode().partition(":")  # the password is ignored
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self.api_keys.get(user)

    def _limit_headers(self) -> dict[str, str]:
        # [AUDIT] "x-ratelimit-limit: 100000, x-ratelimit-remaining: 99986" on answers.
        return {"X-RateLimit-Limit": str(self.daily_limit),
                "X-RateLimit-Remaining": str(max(0, self.daily_limit - self.used_today))}

    def _answer(self, request: httpx.Request) -> httpx.Response:
        now = self.now
        while self._window and self._window[0] <= now - timedelta(seconds=1):
            self._window.popleft()
        if self.used_today >= self.daily_limit:
            # [AUDIT] the daily quota: 429 with X-RateLimit-Remaining: 0 ("nothing succeeds until the next day").
            self.rate_refusals += 1
            return _json(429, error_body("API request limit exceeded for today."), self._limit_headers())
        if len(self._window) >= self.per_second:
            # [AUDIT] 10 requests/second per instance: 429 while requests remain; [V] Retry-After: 1.
            self.rate_refusals += 1
            headers = {**self._limit_headers(), "Retry-After": "1"}
            return _json(429, error_body("Too many requests per second."), headers)
        self._window.append(now)
        self.used_today += 1
        parts = [p for p in request.url.path[len(API) + 1:].split("/") if p]
        declared = DECLARED_PARAMS.get(_endpoint(request.method, parts))
        if declared is not None:
            name = undeclared_param(request.url.params, declared)
            if name is not None:
                return _json(400, error_body(f"The query parameter '{name}' is not valid for this request."),
                             self._limit_headers())
        try:
            status, body, extra = self._route(request, parts)
        except InsightlyError as exc:
            return _json(exc.status, error_body(exc.message), self._limit_headers())
        headers = {**self._limit_headers(), **extra}
        if body is None:
            return httpx.Response(status, headers=headers)
        return _json(status, body, headers)

    def _route(self, request: httpx.Request, parts: list[str]) -> tuple[int, Any, dict[str, str]]:
        method, q = request.method, request.url.params
        if method == "GET" and parts == ["Users", "Me"]:
            return 200, dict(self.user), {}
        if method == "GET" and len(parts) == 2 and parts[1] == "Search" and parts[0] in ("Contacts", "Leads", "Events"):
            return self._search(parts[0], q)
        if method == "GET" and len(parts) == 2 and parts[0] == "Opportunities" and parts[1].isdigit():
            return 200, self._full(self._find(self.opportunities, parts[1], "Opportunity")), {}
        if method == "GET" and len(parts) == 2 and parts[0] == "CustomFields":
            if parts[1] == "Events":
                return 200, [dict(f) for f in self.event_custom_fields], {}
            if parts[1] in ("Contacts", "Leads", "Opportunities", "Organisations", "Projects", "Tasks"):
                return 200, [], {}
            raise InsightlyError(404, f"The object '{parts[1]}' was not found.")
        if parts == ["Events"] and method == "POST":
            return 200, self._create_event(self._body(request)), {}
        if parts == ["Events"] and method == "PUT":
            return 200, self._update_event(self._body(request)), {}
        if len(parts) >= 2 and parts[0] == "Events" and parts[1].isdigit():
            event = self._find(self.events, parts[1], "Event")
            if len(parts) == 2 and method == "GET":
                return 200, self._full(event), {}
            if len(parts) == 2 and method == "DELETE":
                del self.events[event["EVENT_ID"]]
                return 202, None, {}
            if parts[2:] == ["Links"] and method == "GET":
                return 200, [dict(link) for link in event["LINKS"]], {}
            if parts[2:] == ["Links"] and method == "POST":
                return 200, self._add_event_link(event, self._body(request)), {}
            if len(parts) == 4 and parts[2] == "Links" and parts[3].isdigit() and method == "DELETE":
                kept = [link for link in event["LINKS"] if link["LINK_ID"] != int(parts[3])]
                if len(kept) == len(event["LINKS"]):
                    raise InsightlyError(404, f"Link {parts[3]} was not found.")
                event["LINKS"] = kept
                event["DATE_UPDATED_UTC"] = _stamp(self.now)
                return 202, None, {}  # [V] an empty 202, as for other deletes
        if parts and parts[0] in ("Event", "Contact", "Lead", "Opportunity"):
            # [AUDIT] a collection name of the wrong number answers 405.
            raise InsightlyError(405, "The requested resource does not support this http method.")
        raise InsightlyError(404, "No HTTP resource was found that matches the request URI.")

    @staticmethod
    def _find(table: dict[int, dict[str, Any]], raw_id: str, what: str) -> dict[str, Any]:
        record = table.get(int(raw_id))
        if record is None:
            raise InsightlyError(404, f"{what} {raw_id} was not found.")
        return record

    @staticmethod
    def _full(record: dict[str, Any]) -> dict[str, Any]:
        return json.loads(json.dumps(record))

    @staticmethod
    def _body(request: httpx.Request) -> dict[str, Any]:
        try:
            raw = json.loads(request.content or b"null")
        except ValueError:
            raise InsightlyError(400, "The request body is not valid JSON.") from None
        if not isinstance(raw, dict):
            raise InsightlyError(400, "The request body must be a JSON object.")
        return raw

    # --- search -------------------------------------------------------------------------------

    def _search(self, collection: str, q: httpx.QueryParams) -> tuple[int, Any, dict[str, str]]:
        table, fields, id_key = {
            "Contacts": (self.contacts, CONTACT_FIELDS, "CONTACT_ID"),
            "Leads": (self.leads, LEAD_FIELDS, "LEAD_ID"),
            "Events": (self.events, EVENT_FIELDS, "EVENT_ID"),
        }[collection]
        name, value = q.get("field_name"), q.get("field_value")
        if (name is None) != (value is None):
            # [SPEC] "To filter with a field name and value, both field_name and field_value parameters
            # must be provided."
            raise InsightlyError(400, "To filter with a field name and value, both field_name and field_value "
                                      "parameters must be provided.")
        customs = {f["FIELD_NAME"] for r in table.values() for f in r.get("CUSTOMFIELDS", [])}
        if name is not None and name not in fields and name not in customs:
            # [AC] a field name that does not exist on the object is refused with a 4xx.
            raise InsightlyError(400, f"The field_name '{name}' is not a valid field of {collection}.")
        top = self._int_param(q, "top", 100)
        skip = self._int_param(q, "skip", 0)
        if not 1 <= top <= 500:
            raise InsightlyError(400, "top must be between 1 and 500.")  # [AUDIT] 100 by default, 500 at most
        brief = self._bool_param(q, "brief")
        count_total = self._bool_param(q, "count_total")
        since: datetime | None = None
        if q.get("updated_after_utc") is not None:
            try:  # [AUDIT] query parameters take ISO 8601 ("2026-04-09T16:58:14Z")
                since = datetime.fromisoformat(q["updated_after_utc"].replace("Z", "+00:00"))
            except ValueError:
                message = f"updated_after_utc '{q['updated_after_utc']}' is not a valid date."
                raise InsightlyError(400, message) from None
            since = since if since.tzinfo else since.replace(tzinfo=UTC)
        rows = []
        for record in sorted(table.values(), key=lambda r: r[id_key]):
            if name is not None and not self._holds(record, name, value or ""):
                continue
            if since is not None and _body_date(record["DATE_UPDATED_UTC"], "DATE_UPDATED_UTC") < since:
                continue
            rows.append(record)
        page = rows[skip:skip + top]
        # brief=true: "only top level properties of the record" ([SPEC]); subcollections are left out.
        out = [{k: v for k, v in self._full(r).items() if not (brief and isinstance(v, list))} for r in page]
        return 200, out, ({"X-Total-Count": str(len(rows))} if count_total else {})

    @staticmethod
    def _holds(record: dict[str, Any], name: str, value: str) -> bool:
        """[V] the stored text equals the value, ignoring case ([AC]: "Insightly's contact lookup
        method is very strict": a number stored in another notation is not found)."""
        stored = record.get(name)
        if name not in record:
            stored = next((f["FIELD_VALUE"] for f in record.get("CUSTOMFIELDS", []) if f["FIELD_NAME"] == name), None)
        return stored is not None and str(stored).strip().lower() == value.strip().lower()

    @staticmethod
    def _int_param(q: httpx.QueryParams, name: str, default: int) -> int:
        raw = q.get(name)
        if raw is None:
            return default
        if not raw.isdigit():
            raise InsightlyError(400, f"The value '{raw}' is not valid for {name}.")
        return int(raw)

    @staticmethod
    def _bool_param(q: httpx.QueryParams, name: str) -> bool:
        raw = q.get(name)
        if raw is None:
            return False
        if raw.lower() not in ("true", "false"):
            raise InsightlyError(400, f"The value '{raw}' is not valid for {name}.")
        return raw.lower() == "true"

    # --- events -------------------------------------------------------------------------------

    def _link(self, object_name: str, object_id: int, link_name: str, link_id: int) -> dict[str, Any]:
        return {"LINK_ID": next(self._link_ids), "OBJECT_NAME": object_name, "OBJECT_ID": object_id,
                "LINK_OBJECT_NAME": link_name, "LINK_OBJECT_ID": link_id, "ROLE": None, "DETAILS": None,
                "RELATIONSHIP_ID": None, "IS_FORWARD": None}

    def _link_target(self, raw: Any) -> tuple[str, int]:
        """A link's object as Insightly checks it: a singular name and an existing record."""
        extra = undeclared_field(raw, LINK_SHAPE)
        if extra is not None:
            raise InsightlyError(400, f"The field '{extra}' is not valid for a link.")
        if not isinstance(raw, dict):
            raise InsightlyError(400, "A link must be an object with LINK_OBJECT_NAME and LINK_OBJECT_ID.")
        name, oid = raw.get("LINK_OBJECT_NAME"), raw.get("LINK_OBJECT_ID")
        canonical = LINK_OBJECTS.get(name.lower()) if isinstance(name, str) else None
        if canonical is None:
            raise InsightlyError(400, f"LINK_OBJECT_NAME '{name}' is not valid: use the singular object name "
                                      "(Contact, Lead, Opportunity, Organisation, Project).")
        if isinstance(oid, bool) or not isinstance(oid, int):
            raise InsightlyError(400, "LINK_OBJECT_ID must be a record id (a number).")
        table = {"Contact": self.contacts, "Lead": self.leads, "Opportunity": self.opportunities}.get(canonical)
        if table is not None and oid not in table:
            raise InsightlyError(400, f"LINK_OBJECT_ID {oid}: there is no {canonical} with that id.")
        return canonical, oid

    def _add_event_link(self, event: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
        name, oid = self._link_target(raw)
        if any(link["LINK_OBJECT_NAME"] == name and link["LINK_OBJECT_ID"] == oid for link in event["LINKS"]):
            raise InsightlyError(400, f"The Event is already linked to {name} {oid}.")  # [V]
        link = self._link("Event", event["EVENT_ID"], name, oid)
        event["LINKS"].append(link)
        event["DATE_UPDATED_UTC"] = _stamp(self.now)  # [V] a new link counts as a change of the event
        return dict(link)

    def _check_event(self, raw: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
        """The changes ``raw`` makes, validated as a whole before anything is applied."""
        extra = undeclared_field(raw, EVENT_SHAPE)
        if extra is not None:
            raise InsightlyError(400, f"The field '{extra}' is not valid for an Event.")
        changes: dict[str, Any] = {}
        creating = existing is None
        # [SPEC22] the title is required; [SPEC] (v3.1) the start and the end are required.
        for name in ("TITLE", "START_DATE_UTC", "END_DATE_UTC"):
            if creating and raw.get(name) is None:
                raise InsightlyError(400, f"{name} is required.")
        if "TITLE" in raw:
            title = raw["TITLE"]
            if not isinstance(title, str) or not title.strip():
                raise InsightlyError(400, "TITLE is required.")
            if len(title) > TITLE_LIMIT:
                raise InsightlyError(400, f"TITLE must be at most {TITLE_LIMIT} characters.")
            changes["TITLE"] = title
        for name, limit in (("DETAILS", DETAILS_LIMIT), ("LOCATION", LOCATION_LIMIT)):
            if name in raw:
                value = raw[name]
                if value is not None and not isinstance(value, str):
                    raise InsightlyError(400, f"{name} must be text.")
                if isinstance(value, str) and len(value) > limit:
                    raise InsightlyError(400, f"{name} must be at most {limit} characters.")
                changes[name] = value
        dates = {name: _body_date(raw[name], name) for name in ("START_DATE_UTC", "END_DATE_UTC") if name in raw}
        start = dates.get("START_DATE_UTC") or (
            _body_date(existing["START_DATE_UTC"], "START_DATE_UTC") if existing else None)
        end = dates.get("END_DATE_UTC") or (_body_date(existing["END_DATE_UTC"], "END_DATE_UTC") if existing else None)
        if start is not None and end is not None and end < start:
            raise InsightlyError(400, "END_DATE_UTC must not be before START_DATE_UTC.")  # [V]
        changes.update({name: _stamp(moment) for name, moment in dates.items()})
        if "ALL_DAY" in raw:
            if not isinstance(raw["ALL_DAY"], bool):
                raise InsightlyError(400, "ALL_DAY must be true or false.")
            changes["ALL_DAY"] = raw["ALL_DAY"]
        if "OWNER_USER_ID" in raw:
            owner = raw["OWNER_USER_ID"]
            if owner != self.user["USER_ID"] or isinstance(owner, bool):
                raise InsightlyError(400, f"OWNER_USER_ID {owner!r} is not a user of this instance.")
            changes["OWNER_USER_ID"] = owner
        if "CUSTOMFIELDS" in raw:
            changes["CUSTOMFIELDS"] = self._custom_values(raw["CUSTOMFIELDS"])
        if "LINKS" in raw:
            if not isinstance(raw["LINKS"], list):
                raise InsightlyError(400, "LINKS must be a list of links.")
            targets = [self._link_target(link) for link in raw["LINKS"]]
            if len(set(targets)) != len(targets):
                raise InsightlyError(400, "LINKS names the same record twice.")  # [V]
            changes["LINKS"] = targets
        return changes

    def _custom_values(self, raw: Any) -> list[tuple[str, Any]]:
        if not isinstance(raw, list):
            raise InsightlyError(400, "CUSTOMFIELDS must be a list.")
        fields = {f["FIELD_NAME"]: f for f in self.event_custom_fields}
        out = []
        for entry in raw:
            name = entry.get("FIELD_NAME") if isinstance(entry, dict) else None
            if name not in fields:
                raise InsightlyError(400, f"The custom field '{name}' does not exist for Events.")
            value = entry.get("FIELD_VALUE")
            field = fields[name]
            if field["FIELD_TYPE"] == "DROPDOWN" and value is not None and value not in [
                    o["OPTION_VALUE"] for o in field["CUSTOM_FIELD_OPTIONS"]]:
                raise InsightlyError(400, f"'{value}' is not an option of the custom field '{name}'.")
            out.append((name, value))
        return out

    def _apply(self, event: dict[str, Any], changes: dict[str, Any]) -> None:
        for key, value in changes.items():
            if key == "CUSTOMFIELDS":
                # [V] values merge by field name (a PUT "is not replaced … unless … set to change", [INTRO]).
                current = {f["FIELD_NAME"]: f["FIELD_VALUE"] for f in event["CUSTOMFIELDS"]}
                current.update(dict(value))
                event["CUSTOMFIELDS"] = [{"FIELD_NAME": k, "FIELD_VALUE": v} for k, v in current.items()]
            elif key == "LINKS":
                # [INTRO] a subcollection in the payload; [V] the links named are added to the event's.
                for name, oid in value:
                    if not any(x["LINK_OBJECT_NAME"] == name and x["LINK_OBJECT_ID"] == oid for x in event["LINKS"]):
                        event["LINKS"].append(self._link("Event", event["EVENT_ID"], name, oid))
            else:
                event[key] = value

    def _create_event(self, raw: dict[str, Any]) -> dict[str, Any]:
        changes = self._check_event(raw, None)
        eid = next(self._event_ids)
        stamp = _stamp(self.now)
        event: dict[str, Any] = {
            "EVENT_ID": eid, "TITLE": None, "LOCATION": None, "START_DATE_UTC": None, "END_DATE_UTC": None,
            "ALL_DAY": False, "DETAILS": None, "DATE_CREATED_UTC": stamp, "DATE_UPDATED_UTC": stamp,
            "REMINDER_DATE_UTC": None, "REMINDER_SENT": False, "OWNER_USER_ID": self.user["USER_ID"],
            "CUSTOMFIELDS": [], "LINKS": [],
        }
        self._apply(event, changes)
        self.events[eid] = event
        return self._full(event)

    def _update_event(self, raw: dict[str, Any]) -> dict[str, Any]:
        eid = raw.get("EVENT_ID")
        if isinstance(eid, bool) or not isinstance(eid, int):
            raise InsightlyError(400, "EVENT_ID is required to update an Event.")  # [INTRO] "with the record ID field"
        event = self.events.get(eid)
        if event is None:
            raise InsightlyError(404, f"Event {eid} was not found.")
        changes = self._check_event({k: v for k, v in raw.items() if k != "EVENT_ID"}, event)
        self._apply(event, changes)
        event["DATE_UPDATED_UTC"] = _stamp(self.now)
        return self._full(event)


def demo() -> InsightlyFake:
    """An instance holding the sandbox's demo people as contacts (every third as a lead), some with
    opportunities, for running the app against (wall-clock time)."""
    from adapters.crm.insightly import MAX_CANDIDATES
    from adapters.phone import search_candidates

    fake = InsightlyFake(real_clock=True)
    for i, person in enumerate(sandbox_demo_contacts()):
        # A notation beyond the first MAX_CANDIDATES the adapter searches would need a pattern in Settings.
        stored = person.get("crmPhone")
        if stored not in search_candidates(person["phoneNumber"])[:MAX_CANDIDATES]:
            stored = person["phoneNumber"]
        first, last = person["firstName"], person.get("lastName")
        if i % 3 == 2:
            lid = fake.add_lead(first, last, phone=stored, organisation=person.get("company"))
            fake.add_opportunity(f"{person.get('company') or first}: first order", lead=lid)
        else:
            cid = fake.add_contact(first, last, phone=stored)
            if i % 2 == 0:
                fake.add_opportunity(f"{person.get('company') or first}: renewal", contact=cid)
    return fake


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.fakes.insightly``: serve a fake Insightly with demo data on loopback until Ctrl-C."""
    from tests.fakes.loopback import LoopbackServer

    parser = argparse.ArgumentParser(description="Serve the fake Insightly API (v3.1) on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    fake = demo()
    with LoopbackServer(fake.handler, port=args.port) as server:
        print(f"fake Insightly listening on {server.base_url}{API}")
        print(f"API key: {DEFAULT_API_KEY} (any API URL or pod, e.g. na1)")
        print(f"point Logdesk at it with: LOGDESK_INSIGHTLY_URL={server.base_url}")
        wait_for_interrupt()
    return 0


__all__ = ["DEFAULT_API_KEY", "InsightlyFake", "demo", "error_envelope"]


if __name__ == "__main__":
    raise SystemExit(main())

