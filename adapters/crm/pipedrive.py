# SPDX-License-Identifier: MIT
"""Pipedrive: calls logged as activities (API v2), reached with a personal API token.

Connect: the user pastes their personal API token (Pipedrive → Personal preferences → API) and
the company domain (``acme`` for ``acme.pipedrive.com``). :meth:`PipedriveAdapter.verify`
checks both with ``GET /v1/users/me`` and reads the activity types.

Where call data goes:

====================  ======================================================================
``subject``           subject
``type``              the activity type named in the ``activity_type`` setting, or else the
                      first active type whose key or name contains "call"
``note``              the composed note (HTML)
``done``              ``true`` (a strict boolean: Pipedrive refuses 1/0)
``due_date/time``     call start, UTC, ``YYYY-MM-DD`` / ``HH:MM``
``duration``          ``HH:MM``, the call rounded to the nearest minute (a call of a few
                      seconds counts as one minute, never as none)
``participants``      ``[{"person_id": …, "primary": true}]`` (``person_id`` itself is
                      read-only on v2 activities)
``deal_id/lead_id``   the page field ``related`` (``deal:<id>`` or ``lead:<uuid>``); choosing
                      one clears the other
``owner_id``          the connected user (known after :meth:`verify`; Pipedrive defaults to
                      the token's user otherwise)
``org_id``            the person's organisation, when the contact search saw it
====================  ======================================================================

Pipedrive activities have no outcome or recording field: the recording link lives in the note's
placeholder, substituted by the engine.

Rate limits: Pipedrive reports its 2-second burst window in
``x-ratelimit-limit/-remaining/-reset``; the search API has its own 10-per-2-seconds window. The
adapter's :class:`~adapters.throttle.Throttle` keeps both, pausing when a window is spent rather
than running into 429. When ``x-daily-requests-left`` (writes per day for an API token) reaches 0,
writes are refused locally with :class:`~adapters.base.RateLimited` until midnight UTC. When the
company's daily token budget is spent, Pipedrive answers 429 without saying until when: each
429 in a row doubles the pause (2 s, 4 s, 8 s … up to 15 minutes).

:meth:`PipedriveAdapter.find_call_log` lists the connected user's activities updated since the
call started and picks the one whose note carries the call's session id or, failing that, the
only call activity due at the call's start minute.

Developer option: ``LOGDESK_PIPEDRIVE_URL`` (or the connection setting ``api_base_url``) points
the adapter at another host, such as the fake in ``tests/fakes/pipedrive.py``.

Threading contract: one worker thread at a time per instance (see :mod:`adapters.base`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx

from adapters import phone as phones
from adapters.api_override import api_base_override
from adapters.base import (
    SETTING_REGION,
    AuthError,
    AuthField,
    AuthKind,
    AuthSpec,
    Capabilities,
    Connection,
    FieldLimits,
    MalformedResponse,
    Manifest,
    NotFound,
    PageField,
    PageFieldKind,
    PermissionDenied,
    RateLimited,
    SecretsSaver,
    TransientError,
    UrlTemplates,
    ValidationError,
    make_client,
)
from adapters.http import json_body, send
from adapters.models import Call, CallLogRef, Contact, FieldValue, LogEntry, LogUpdate, Option, StoredCallLog
from adapters.throttle import Throttle, ThrottleTimeout
from adapters.vendor_shape import vendor_shape

CRM = "Pipedrive"
ENV_BASE_URL = "LOGDESK_PIPEDRIVE_URL"
#: Pipedrive does not document the note's size; this is what the app keeps notes within.
NOTE_LIMIT = 100_000
#: The longest pause after 429s in a row when Pipedrive gives no Retry-After (seconds).
MAX_REFUSAL_PAUSE = 900.0
#: How many people a phone search looks at (each costs two more requests for deals and leads).
MAX_PERSONS = 10
RELATED = "related"

_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_FIELD_IN_ERROR = re.compile(r"Validation failed: (\w+):")


def parse_pipedrive_error(raw_body: Any) -> tuple[str | None, str | None]:
    """(message, field) from ``{success: false, error, code}`` (v2) or ``{error, error_info}`` (v1).

    Pipedrive names the field in the message ("Validation failed: done: Must be a boolean").
    """
    if not isinstance(raw_body, dict):
        return None, None
    error = raw_body.get("error")
    message = error if isinstance(error, str) and error else None
    if message is None and isinstance(raw_body.get("message"), str):
        message = raw_body["message"]
    field = None
    if message:
        match = _FIELD_IN_ERROR.search(message)
        field = match.group(1) if match else None
    return message, field


def format_duration(seconds: int) -> str:
    """``HH:MM`` rounded to the nearest minute; any call under 30 s is ``00:01``, none is ``00:00``.

    59 s → ``00:01``, 60 s → ``00:01``, 90 s → ``00:02``, 3599 s → ``01:00``, 5400 s → ``01:30``.
    """
    if seconds <= 0:
        return "00:00"
    minutes = max(1, (seconds + 30) // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_duration(raw: Any) -> int | None:
    """Seconds from ``HH:MM`` (minute precision), or ``None``."""
    if not isinstance(raw, str):
        return None
    match = re.fullmatch(r"(\d{1,3}):([0-5]\d)(?::[0-5]\d)?", raw.strip())
    if not match:
        return None
    return (int(match.group(1)) * 60 + int(match.group(2))) * 60


def normalize_domain(raw: str) -> str:
    """``https://Acme.pipedrive.com/`` → ``acme``."""
    text = raw.strip().lower()
    text = re.sub(r"^https?://", "", text).split("/", 1)[0]
    return text.removesuffix(".pipedrive.com")


def _has_number(raw_phones: Any, national: str) -> bool:
    """Whether a stored phone is this number: Pipedrive's search matches digit substrings, so
    ``+1 415 555 01234`` would come back for ``4155550123``; the stored number must end with it."""
    for raw in raw_phones if isinstance(raw_phones, list) else []:
        value = raw.get("value") if isinstance(raw, dict) else raw
        if isinstance(value, str):
            number, _extension = phones.split_extension(value)
            if phones.digits_only(number).endswith(national):
                return True
    return False


def _seconds_to_utc_midnight() -> float:
    now = datetime.now(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return (midnight - now).total_seconds()


def _parse_time(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "T", 1))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class PipedriveAdapter:
    """A Pipedrive company, reached with one user's personal API token.

    Args:
        connection: ``secrets["api_token"]``, ``settings["company_domain"]``; optional
            ``settings["activity_type"]`` (an activity type key), ``settings["phone_region"]``
            and ``settings["api_base_url"]`` (developer option).
        client: an ``httpx.Client`` to use (tests pass one on ``httpx.MockTransport``); the
            adapter closes only a client it made itself.
        save_secrets: unused (pasted tokens do not rotate); accepted for the common signature.
        clock: monotonic seconds for the rate limiter (``time.monotonic``).
        sleep: how the rate limiter waits (``time.sleep``).

    Optional method beyond :class:`~adapters.base.CrmAdapter`: :meth:`page_fields` (the
    manifest's fields; deals and leads come with each contact in ``Contact.options``).
    """

    manifest: ClassVar[Manifest] = Manifest(
        id="pipedrive",
        name="Pipedrive",
        log_format="text/html",
        auth=AuthSpec(
            kind=AuthKind.TOKEN,
            fields=[
                AuthField(
                    key="api_token",
                    label="API token",
                    secret=True,
                    help="Your personal API token: in Pipedrive, open Personal preferences → API.",
                ),
                AuthField(
                    key="company_domain",
                    label="Company domain",
                    placeholder="yourcompany",
                    help="The part before .pipedrive.com in your Pipedrive address.",
                ),
                AuthField(
                    key="activity_type",
                    label="Activity type for calls",
                    required=False,
                    placeholder="call",
                    help="The key of the activity type calls are logged as. Leave empty to use the first "
                    "active type named like “call”.",
                ),
            ],
        ),
        page_fields=[
            PageField(
                id=RELATED,
                label="Deal or lead",
                kind=PageFieldKind.SELECTION,
                contact_dependent=True,
                help="The contact's open deals and leads. The call is linked to one of them.",
            ),
        ],
        limits=FieldLimits(body=NOTE_LIMIT, body_unit="chars"),
        capabilities=Capabilities(find_by_session_id=True, artifact_fields=("duration",)),
        urls=UrlTemplates(
            open_log="https://{company_domain}.pipedrive.com/activities/{log_id}",
            open_contact="https://{company_domain}.pipedrive.com/person/{contact_id}",
        ),
    )

    def __init__(
        self,
        connection: Connection,
        *,
        client: httpx.Client | None = None,
        save_secrets: SecretsSaver | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._token = connection.secrets.get("api_token", "").strip()
        self._domain = normalize_domain(connection.settings.get("company_domain", ""))
        self._type_setting = connection.settings.get("activity_type", "").strip()
        self._region = connection.settings.get(SETTING_REGION) or "US"
        self._config_error: AuthError | None = None
        try:
            override = api_base_override(connection.settings, ENV_BASE_URL)
        except AuthError as exc:
            override, self._config_error = None, exc
        self._base_overridden = override is not None
        self._base = override or f"https://{self._domain}.pipedrive.com"
        self._owns_client = client is None
        self._client = make_client(self._base, client=client)
        self._clock = clock or time.monotonic
        self._throttle = Throttle(clock=self._clock, sleep=sleep or time.sleep)
        self._throttle.limit("api", 20, 2.0)  # the smallest plan's burst window, until headers say more
        self._throttle.limit("search", 10, 2.0)  # the search API's own window, the same on every plan
        self._me: int | None = None
        self._type: str | None = None
        #: ``x-daily-requests-left`` reached 0: Pipedrive refuses writes by this token until midnight UTC.
        self._writes_spent = False
        #: 429s in a row (no success between them).
        self._refusals = 0
        self._user_names: dict[int, str] | None = None
        #: Person id → organisation id, learnt from contact searches (no extra request at create).
        self._person_orgs: dict[int, int] = {}
        #: Person id → name, from contact searches: names a stored activity's person for free.
        self._person_names: dict[int, str] = {}

    # --- plumbing ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        buckets = ("api", "search") if path.endswith("/search") else ("api",)
        if self._config_error is not None:
            raise self._config_error
        if not self._token:
            raise AuthError("No Pipedrive API token is saved. Paste yours in Settings → CRM.")
        if not self._base_overridden and not _DOMAIN.match(self._domain):
            raise AuthError("No Pipedrive company domain is saved. Enter it in Settings → CRM.")
        if method in ("POST", "PUT", "PATCH") and self._writes_spent:
            raise RateLimited(
                f"{CRM}'s daily allowance of changes for this API token is used up; logging resumes after "
                "midnight UTC.",
                retry_after=_seconds_to_utc_midnight(),
            )
        try:
            self._throttle.acquire(*buckets)
        except ThrottleTimeout as exc:
            raise RateLimited(f"{CRM} asks to slow down.", retry_after=exc.seconds) from None
        headers = {"x-api-token": self._token, "Accept": "application/json"}
        try:
            response = send(
                self._client,
                method,
                self._base + path,
                crm=CRM,
                parse=parse_pipedrive_error,
                headers=headers,
                **kwargs,
            )
        except RateLimited as exc:
            self._refusals += 1
            if exc.retry_after is None:
                # One refusal is the 2-second burst window; refusals in a row mean a spent budget
                # that Pipedrive does not date: wait twice as long each time, up to 15 minutes.
                exc.retry_after = min(2.0 * 2 ** (self._refusals - 1), MAX_REFUSAL_PAUSE)
            self._throttle.block_for(exc.retry_after)
            raise
        self._refusals = 0
        self._note_limits(response.headers)
        raw = json_body(response, crm=CRM)
        if not isinstance(raw, dict) or raw.get("success") is not True or "data" not in raw:
            raise MalformedResponse(f"{CRM} sent an answer without its usual success envelope.")
        return raw

    def _note_limits(self, headers: httpx.Headers) -> None:
        writes_left = headers.get("x-daily-requests-left")
        if writes_left is not None and writes_left.strip().lstrip("-").isdigit():
            self._writes_spent = int(writes_left) <= 0
        try:
            limit = int(headers.get("x-ratelimit-limit", "0"))
            remaining = int(headers.get("x-ratelimit-remaining", "-1"))
            reset = float(headers.get("x-ratelimit-reset", "2"))
        except ValueError:
            return
        if limit > 0:
            self._throttle.limit("api", max(1, limit - max(1, limit // 10)), 2.0)
        if remaining == 0:
            self._throttle.block_for(max(reset, 1.0))

    @staticmethod
    def _malformed(what: str) -> MalformedResponse:
        return MalformedResponse(f"{CRM} sent {what} in an unexpected shape.")

    # --- connect ----------------------------------------------------------------------------

    @vendor_shape(CRM)
    def verify(self) -> str:
        """Checks the token and domain with ``GET /v1/users/me``; finds the call activity type.

        Returns:
            "Name (e-mail) at Company".

        Raises:
            AuthError: the token or domain is wrong (the message says which to fix).
            ValidationError: the company has no active activity type for calls.
        """
        if not self._base_overridden and not _DOMAIN.match(self._domain):
            raise AuthError(
                "Enter the Pipedrive company domain: the part before .pipedrive.com in your Pipedrive address."
            )
        try:
            raw = self._request("GET", "/v1/users/me")
        except AuthError as exc:
            if exc.status is None:  # refused before asking the CRM: that message says what to fix
                raise
            raise AuthError(
                "Pipedrive did not accept this API token. Copy it again from Pipedrive → Personal preferences → "
                "API (regenerating it there invalidates the old one).",
                vendor_message=exc.vendor_message,
                status=exc.status,
            ) from None
        except NotFound as exc:
            raise AuthError(
                f"{self._domain}.pipedrive.com is not a Pipedrive company. Check the company domain.",
                vendor_message=exc.vendor_message,
                status=exc.status,
            ) from None
        except TransientError as exc:
            if exc.status is None:  # no answer at all: most often a mistyped domain
                raise TransientError(
                    f"Could not reach {self._domain}.pipedrive.com. Check the company domain and the network.",
                    vendor_message=exc.vendor_message,
                ) from None
            raise
        data = raw["data"]
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise self._malformed("the signed-in user")
        self._me = data["id"]
        self._type = None
        self.activity_type()
        company = data.get("company_name") or data.get("company_domain") or self._domain
        return f"{data.get('name') or 'Pipedrive user'} ({data.get('email') or data['id']}) at {company}"

    @vendor_shape(CRM)
    def activity_type(self) -> str:
        """The activity type key calls are logged as (looked up once per instance)."""
        if self._type is not None:
            return self._type
        raw = self._request("GET", "/v1/activityTypes")
        types = raw["data"] if isinstance(raw["data"], list) else []
        active = [t for t in types if isinstance(t, dict) and t.get("active_flag") and t.get("key_string")]
        if self._type_setting:
            chosen = [t for t in active if t["key_string"] == self._type_setting]
            if not chosen:
                raise ValidationError(
                    f"Pipedrive has no active activity type “{self._type_setting}”. Pick another in Settings → CRM.",
                    field="activity_type",
                )
        else:
            chosen = [
                t for t in active if "call" in str(t["key_string"]).lower() or "call" in str(t.get("name", "")).lower()
            ]
            if not chosen:
                raise ValidationError(
                    "Pipedrive has no active activity type for calls. Add one named “Call” in Pipedrive "
                    "(Company settings → Activities) or name one in Settings → CRM.",
                    field="activity_type",
                )
        self._type = str(chosen[0]["key_string"])
        return self._type

    @vendor_shape(CRM)
    def page_fields(self) -> list[PageField]:
        """The log page's fields; their options come with each contact (``Contact.options``)."""
        return [f.model_copy(deep=True) for f in self.manifest.page_fields]

    def _my_id(self) -> int:
        if self._me is None:
            raw = self._request("GET", "/v1/users/me")
            data = raw["data"]
            if not isinstance(data, dict) or not isinstance(data.get("id"), int):
                raise self._malformed("the signed-in user")
            self._me = data["id"]
        return self._me

    def _user_name(self, user_id: int) -> str:
        if self._user_names is None:
            try:
                raw = self._request("GET", "/v1/users")
                users = raw["data"] if isinstance(raw["data"], list) else []
            except PermissionDenied:
                users = []
            self._user_names = {
                u["id"]: str(u.get("name") or u["id"])
                for u in users
                if isinstance(u, dict) and isinstance(u.get("id"), int)
            }
        return self._user_names.get(user_id, str(user_id))

    # --- contacts ---------------------------------------------------------------------------

    @vendor_shape(CRM)
    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        """People whose phone ends with the number's national digits, with their deals and leads.

        Requests: one person search, one read of the people found, the users list once per
        instance, and for each person (at most :data:`MAX_PERSONS`) their open deals and leads
        (``GET /v1/leads`` leaves archived leads out). Pipedrive has no internal extensions:
        ``is_extension`` finds nothing.
        """
        if is_extension:
            return []
        term = phones.national_digits(phone, self._region) or phones.digits_only(phone)
        if len(term) < 2:
            return []
        raw = self._request(
            "GET",
            "/api/v2/persons/search",
            params={"term": term, "fields": "phone", "exact_match": "false", "limit": MAX_PERSONS},
        )
        data = raw["data"]
        items = data.get("items") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise self._malformed("the person search results")
        found: list[dict[str, Any]] = []
        for entry in items:
            item = entry.get("item") if isinstance(entry, dict) else None
            if not isinstance(item, dict) or not isinstance(item.get("id"), int):
                raise self._malformed("a person search result")
            if _has_number(item.get("phones"), term):
                found.append(item)
        if not found:
            return []
        ids = ",".join(str(item["id"]) for item in found)
        people_raw = self._request("GET", "/api/v2/persons", params={"ids": ids})
        people = {
            p["id"]: p
            for p in (people_raw["data"] if isinstance(people_raw["data"], list) else [])
            if isinstance(p, dict) and isinstance(p.get("id"), int)
        }
        contacts = []
        for item in found:
            person = people.get(item["id"], {})
            if isinstance(person.get("org_id"), int):
                self._person_orgs[item["id"]] = person["org_id"]
            self._person_names[item["id"]] = str(item.get("name") or person.get("name") or f"Person {item['id']}")
            org = item.get("organization")
            owner_id = person.get("owner_id") or (item.get("owner") or {}).get("id")
            raw_phones = item.get("phones") or []
            contacts.append(
                Contact(
                    id=str(item["id"]),
                    name=str(item.get("name") or person.get("name") or f"Person {item['id']}"),
                    phone=str(raw_phones[0]) if raw_phones else None,
                    type="Person",
                    company=org.get("name") if isinstance(org, dict) else None,
                    owner=self._user_name(owner_id) if isinstance(owner_id, int) else None,
                    created_at=_parse_time(person.get("add_time")),
                    options={RELATED: self._related_options(item["id"])},
                )
            )
        return contacts

    def _related_options(self, person_id: int) -> list[Option]:
        options: list[Option] = []
        try:
            deals = self._request("GET", "/api/v2/deals", params={"person_id": person_id, "status": "open"})["data"]
        except (PermissionDenied, NotFound):
            deals = []
        for deal in deals if isinstance(deals, list) else []:
            if isinstance(deal, dict) and isinstance(deal.get("id"), int):
                options.append(Option(id=f"deal:{deal['id']}", label=f"Deal: {deal.get('title') or deal['id']}"))
        try:
            # GET /v1/leads lists only leads that are not archived (archived ones moved to
            # /v1/leads/archived, and the archived_status filter was removed in July 2025).
            leads = self._request("GET", "/v1/leads", params={"person_id": person_id})["data"]
        except (PermissionDenied, NotFound):
            leads = []
        for lead in leads if isinstance(leads, list) else []:
            if isinstance(lead, dict) and isinstance(lead.get("id"), str) and lead.get("is_archived") is not True:
                options.append(Option(id=f"lead:{lead['id']}", label=f"Lead: {lead.get('title') or lead['id']}"))
        return options

    # --- call logs --------------------------------------------------------------------------

    @staticmethod
    def _related_fields(value: FieldValue) -> dict[str, Any]:
        """``deal:12`` → deal 12 and no lead; ``lead:<uuid>`` → that lead and no deal; None → neither."""
        if value is None or value == "":
            return {"deal_id": None, "lead_id": None}
        if isinstance(value, str) and value.startswith("deal:") and value[5:].isdigit():
            return {"deal_id": int(value[5:]), "lead_id": None}
        if isinstance(value, str) and value.startswith("lead:") and len(value) > 5:
            return {"lead_id": value[5:], "deal_id": None}
        raise ValidationError("Choose one of the contact's deals or leads.", field=RELATED)

    def _disposition_fields(self, values: Mapping[str, FieldValue]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for key, value in values.items():
            if key != RELATED:
                raise ValidationError(f"Pipedrive has no log page field {key!r}.", field=key)
            fields.update(self._related_fields(value))
        return fields

    @vendor_shape(CRM)
    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        """One ``POST /api/v2/activities`` (plus the activity types once per instance)."""
        start = call.start_time.astimezone(UTC)
        payload: dict[str, Any] = {
            "subject": entry.subject,
            "type": self.activity_type(),
            "note": entry.body,
            "done": True,
            "due_date": start.strftime("%Y-%m-%d"),
            "due_time": start.strftime("%H:%M"),
        }
        if entry.duration_seconds is not None:
            payload["duration"] = format_duration(entry.duration_seconds)
        if contact.id.isdigit() and not contact.is_internal:
            payload["participants"] = [{"person_id": int(contact.id), "primary": True}]
            org_id = self._person_orgs.get(int(contact.id))
            if org_id is not None:
                payload["org_id"] = org_id  # the activity shows on the organisation's timeline too
        if self._me is not None:
            payload["owner_id"] = self._me
        related = entry.dispositions.get(RELATED)
        if related:
            payload.update({k: v for k, v in self._related_fields(related).items() if v is not None})
        raw = self._request("POST", "/api/v2/activities", json=payload)
        data = raw["data"]
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise self._malformed("the created activity")
        return CallLogRef(
            adapter_id=self.manifest.id,
            log_id=str(data["id"]),
            contact_id=contact.id,
            version=data.get("update_time") if isinstance(data.get("update_time"), str) else None,
        )

    def _stored(self, data: Any) -> StoredCallLog:
        if not isinstance(data, dict) or not isinstance(data.get("id"), int):
            raise self._malformed("the activity")
        person_id = data.get("person_id")
        if person_id is None:
            # The v2 ActivityItem marks the primary participant with ``primary``; ``primary_flag``
            # (v1's name, reported in v2 answers: devcommunity.pipedrive.com/t/19734) is read too.
            primary = [
                p.get("person_id")
                for p in data.get("participants") or []
                if isinstance(p, dict) and (p.get("primary") is True or p.get("primary_flag") is True)
            ]
            person_id = primary[0] if primary else None
        related: str | None = None
        if data.get("deal_id"):
            related = f"deal:{data['deal_id']}"
        elif data.get("lead_id"):
            related = f"lead:{data['lead_id']}"
        version = data.get("update_time") if isinstance(data.get("update_time"), str) else None
        contact_id = str(person_id) if person_id is not None else None
        return StoredCallLog(
            ref=CallLogRef(adapter_id=self.manifest.id, log_id=str(data["id"]), contact_id=contact_id, version=version),
            subject=str(data.get("subject") or ""),
            body=str(data.get("note") or ""),
            dispositions={RELATED: related},
            contact_id=contact_id,
            contact_name=self._person_names.get(person_id) if isinstance(person_id, int) else None,
            duration_seconds=parse_duration(data.get("duration")),
            modified_at=_parse_time(version),
        )

    def _path(self, ref: CallLogRef) -> str:
        if not ref.log_id.isdigit():
            raise NotFound(f"{CRM} could not find that record.", vendor_message=f"not an activity id: {ref.log_id}")
        return f"/api/v2/activities/{ref.log_id}"

    @vendor_shape(CRM)
    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        """One ``GET /api/v2/activities/{id}``."""
        return self._stored(self._request("GET", self._path(ref))["data"])

    @vendor_shape(CRM)
    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        """One ``PATCH /api/v2/activities/{id}`` with only what ``change`` sets.

        ``expected_version`` is not enforced: Pipedrive has no conditional writes. A recording
        link has no field of its own here; it reaches the note through the engine's substitution.
        """
        payload: dict[str, Any] = {}
        if change.subject is not None:
            payload["subject"] = change.subject
        if change.body is not None:
            payload["note"] = change.body
        if change.duration_seconds is not None:
            payload["duration"] = format_duration(change.duration_seconds)
        if change.dispositions is not None:
            payload.update(self._disposition_fields(change.dispositions))
        if not payload:
            return self.get_call_log(ref)
        return self._stored(self._request("PATCH", self._path(ref), json=payload)["data"])

    @vendor_shape(CRM)
    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        """Links the activity to the chosen deal or lead (and unlinks the other)."""
        payload = self._disposition_fields(values)
        if payload:
            self._request("PATCH", self._path(ref), json=payload)

    @vendor_shape(CRM)
    def find_call_log(self, call: Call, *, max_pages: int = 5) -> CallLogRef | None:
        """The activity logged for ``call``: this user's activities updated since the call began,
        matched by the session id in the note, else by being the only call-type activity due at
        the call's start minute."""
        start = call.start_time.astimezone(UTC)
        due = (start.strftime("%Y-%m-%d"), start.strftime("%H:%M"))
        call_type = self.activity_type()
        params: dict[str, Any] = {
            "owner_id": self._my_id(),
            "updated_since": start.replace(second=0, microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "limit": 100,
        }
        by_time: list[str] = []
        for _ in range(max_pages):
            raw = self._request("GET", "/api/v2/activities", params=params)
            rows = raw["data"]
            if not isinstance(rows, list):
                raise self._malformed("the activity list")
            for row in rows:
                if not isinstance(row, dict) or not isinstance(row.get("id"), int):
                    raise self._malformed("an activity")
                if call.session_id and call.session_id in str(row.get("note") or ""):
                    return CallLogRef(adapter_id=self.manifest.id, log_id=str(row["id"]))
                if (row.get("due_date"), row.get("due_time")) == due and row.get("type") == call_type:
                    by_time.append(str(row["id"]))
            extra = raw.get("additional_data")
            cursor = extra.get("next_cursor") if isinstance(extra, dict) else None
            if not cursor:
                break
            params["cursor"] = cursor
        if len(by_time) == 1:
            return CallLogRef(adapter_id=self.manifest.id, log_id=by_time[0])
        return None

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


__all__ = ["PipedriveAdapter", "format_duration", "normalize_domain", "parse_pipedrive_error"]
