# SPDX-License-Identifier: MIT
"""Insightly (API v3.1): calls logged as calendar Events linked to the contact or lead.

Connect: the user pastes their API key (Insightly → User Settings → API) and the API URL shown
right under it (``https://api.na1.insightly.com/v3.1``), or just its pod (``na1``), or the address
of any Insightly page they have open (``https://crm.na1.insightly.com/...``): the pod is read from
the host. Requests use HTTP Basic with the key as the user name and an empty password, over HTTPS
only ("include your API key as the user name … you can leave the password blank … The Insightly
API requires all calls be made via HTTPS",
http://blog.insightly.com/2012/08/introducing-insightly-rest-api.html; the pod-specific host,
https://api.na1.insightly.com/v3.1/ and https://docs.nango.dev/integrations/all/insightly). The
key lives in the keyring only. :meth:`InsightlyAdapter.verify` asks ``GET /Users/Me``.

**Why Events, not Notes.** Insightly v3.1 has no call object. A Note holds ``TITLE``, ``BODY``
and its creation/update times and nothing else, and can only be created under one parent
(``POST /Contacts/{id}/Notes``; ``/Notes`` itself has GET and PUT but no POST). An Event holds
``START_DATE_UTC`` and ``END_DATE_UTC`` (the call's start and, with the end, its duration, to the
second), ``TITLE``, ``DETAILS`` (the note), ``LOCATION``, ``OWNER_USER_ID``, ``CUSTOMFIELDS`` and
``LINKS`` to any number of records (the contact or lead *and* an opportunity), it shows on the
user's calendar and on the linked records' timelines, and ``/Events/Search`` lists events updated
since a moment, which is how a lost create is found again. (Operations and models: the v3.1
Swagger specification as generated into ``sterner-stuff/insightly-php``, ``docs/Api/EventsApi.md``,
``NotesApi.md``, ``docs/Model/APIEvent.md``, ``APINote.md``; App Connect logs Events too,
``ringcentral/rc-unified-crm-extension`` ``src/connectors/insightly/index.ts``.)

Where call data goes:

=====================  =======================================================================
``TITLE``              the log subject (255 characters: [V], Insightly publishes no length)
``DETAILS``            the composed note, plain text (32,000 characters: [V], likewise)
``START_DATE_UTC``     the call's start, UTC, ``yyyy-MM-dd HH:mm:ss`` (the body format; query
                       parameters take ISO 8601)
``END_DATE_UTC``       start + duration; equal to the start while the duration is not known
``LOCATION``           ``Inbound call from +14155550123`` / ``Outbound call to …``: the line the
                       call was on, and where the direction is kept
``ALL_DAY``            ``false``
``OWNER_USER_ID``      the connected user (once :meth:`verify` or a lookup has read it)
``LINKS``              ``Contact`` or ``Lead`` (singular names), and the chosen ``Opportunity``;
                       sent with the create (v3.1 "POST/PUT requests now accept subcollections
                       in their payload"), and added through ``POST /Events/{id}/Links`` if an
                       answer shows Insightly left one out
``CUSTOMFIELDS``       the call result, in the Event drop-down custom field named in Settings
=====================  =======================================================================

Dispositions: Insightly gives Events (and Notes) no category: the v3.1 specification has
category lists for Tasks, Opportunities, Projects, Files and Knowledge articles only. An
instance's own list of call outcomes therefore lives in a drop-down custom field on Events,
which the API describes in ``GET /CustomFields/Events`` (``FIELD_TYPE``, ``CUSTOM_FIELD_OPTIONS``,
``OPTION_DEFAULT``). The page field ``call_result`` offers that field's options (the setting
``call_result_field`` names it; empty: the first drop-down whose label or name mentions
"result", "outcome" or "disposition"); the option marked default in Insightly is the default
here. Without such a field the log page says how to add one. The page field ``opportunity`` is
contact-dependent: the open opportunities linked to the chosen contact or lead.

Contacts: ``GET /Contacts/Search`` and ``GET /Leads/Search`` with ``field_name``/``field_value``
(both needed together) on ``PHONE`` and ``PHONE_MOBILE`` (contacts) and ``PHONE`` and ``MOBILE``
(leads), or the fields named in Settings (custom ones too, ``…__c``). Insightly compares the
stored text, so each field is searched with the notations of
:func:`adapters.phone.search_candidates` (E.164, national digits, the user's patterns, common
formats; at most :data:`MAX_CANDIDATES`), and every hit is checked to carry the number. Converted
leads are left out. A lookup costs up to ``MAX_CANDIDATES`` × fields requests (32 by default),
plus one ``GET /Opportunities/{id}`` per opportunity linked to a match.

Versions: Insightly documents no write precondition. A third-party probe saw ``ETag`` on answers
and ``If-Match`` honoured on PUT, but a stale one answered 400 rather than 412 — indistinguishable
from a refused value — and the specification mentions neither (``docs/API-AUDIT.md`` in
``lukeswade/insightly-mcp``). So the version this adapter reports is ``DATE_UPDATED_UTC`` plus a
digest of ``TITLE`` and ``DETAILS`` (one-second grain otherwise), and an update with
``expected_version`` reads the event immediately before its ``PUT`` and raises
:class:`ConflictError` when it changed: the window left for a person's edit to be overwritten is
the one round trip between that read and the write. PUTs carry only the fields that change ("PUT
requests don't require all fields", https://api.na1.insightly.com/v3.1/).

Rate limits: 10 requests a second per instance and a daily allowance that depends on the plan,
after which "you will no longer be able to make requests … until next day"
(https://docs.nango.dev/integrations/all/insightly; API-AUDIT.md above). The throttle keeps under
10 a second; ``X-RateLimit-Remaining`` is read from every answer. A 429 while requests remain is
the per-second limit: later requests wait ``Retry-After`` (1 s when absent). A 429, or any answer,
with ``X-RateLimit-Remaining: 0`` means the day's allowance is spent: nothing is sent until the
next full hour or UTC midnight, whichever comes first (Insightly does not say when its day ends
[V], so the adapter looks again every hour). A 401 is an :class:`AuthError` that names the key
and the API URL.

Recovery (:meth:`InsightlyAdapter.find_call_log`): ``/Events/Search?updated_after_utc=`` a minute
before the call's start lists what changed since; the event owned by this user that starts at the
call's start second is it, the RingCentral session id in ``DETAILS`` or the number and direction
in ``LOCATION`` breaking ties.

Developer option: ``LOGDESK_INSIGHTLY_URL`` (or the connection setting ``api_base_url``) points
the adapter at another host, such as the fake in ``tests/fakes/insightly.py``; only ``https`` or
plain ``http`` on loopback (:mod:`adapters.api_override`).

Threading contract: one worker thread at a time per instance (see :mod:`adapters.base`).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import httpx

from adapters.api_override import api_base_override
from adapters.base import (
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
    PageField,
    PageFieldKind,
    PermissionDenied,
    RateLimited,
    SecretsSaver,
    TransientError,
    ValidationError,
    make_client,
    phone_settings,
)
from adapters.http import default_error_parser, error_for_response, json_body, transport_failure
from adapters.models import (
    Call,
    CallLogRef,
    Contact,
    Direction,
    FieldValue,
    LogEntry,
    LogUpdate,
    Option,
    StoredCallLog,
)
from adapters.phone import digits_only, same_number, search_candidates
from adapters.throttle import Throttle, ThrottleTimeout
from adapters.vendor_shape import text_of, vendor_shape

CRM = "Insightly"
ENV_BASE_URL = "LOGDESK_INSIGHTLY_URL"
API_VERSION = "/v3.1"
#: The event title and details the app keeps within ([V]: Insightly publishes no lengths).
TITLE_LIMIT = 255
DETAILS_LIMIT = 32_000
LOCATION_LIMIT = 255
#: How many notations of a number are searched per phone field (each is one request).
MAX_CANDIDATES = 8
#: How many of a contact's linked opportunities are read for the log page.
MAX_OPPORTUNITIES = 10
#: Insightly's per-instance limit (requests a second); the throttle stays at it.
REQUESTS_PER_SECOND = 10
#: The longest pause after the day's allowance is spent before trying again (seconds).
DAILY_RETRY = 3600.0
#: Events a recovery lookup reads per page (Insightly's maximum ``top``) and pages at most.
PAGE_SIZE = 500
MAX_PAGES = 5

CALL_RESULT = "call_result"
OPPORTUNITY = "opportunity"
DEFAULT_CONTACT_PHONE_FIELDS = "PHONE, PHONE_MOBILE"
DEFAULT_LEAD_PHONE_FIELDS = "PHONE, MOBILE"

_POD = re.compile(r"^[a-z]{2,4}\d{1,3}$")
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
_RESULT_WORDS = re.compile(r"result|outcome|disposition", re.IGNORECASE)
_FIELD_IN_MESSAGE = re.compile(
    r"\b(TITLE|DETAILS|LOCATION|START_DATE_UTC|END_DATE_UTC|ALL_DAY|OWNER_USER_ID|EVENT_ID|CUSTOMFIELDS|"
    r"LINKS|LINK_OBJECT_NAME|LINK_OBJECT_ID|FIELD_NAME|FIELD_VALUE|field_name|field_value|[A-Za-z0-9_]+__c)\b"
)
_BODY_DATE = "%Y-%m-%d %H:%M:%S"
_PERSON_LINKS = ("contact", "lead")


def parse_insightly_error(raw_body: Any) -> tuple[str | None, str | None]:
    """(message, field) from Insightly's error body.

    The body's shape is not documented ([V]); ASP.NET Web API's ``{"Message": "..."}`` is read
    first, then the common shapes. The field is the first Insightly field name the message names.
    """
    message: str | None = None
    if isinstance(raw_body, dict):
        for key in ("Message", "message", "ExceptionMessage"):
            value = raw_body.get(key)
            if isinstance(value, str) and value.strip():
                message = value.strip()
                break
    elif isinstance(raw_body, str) and raw_body.strip():
        message = raw_body.strip()
    if message is None:
        return default_error_parser(raw_body)
    match = _FIELD_IN_MESSAGE.search(message)
    return message, match.group(1) if match else None


def api_base_for(value: str) -> str:
    """The API base (``https://api.<pod>.insightly.com/v3.1``) for what the user entered: the API
    URL from User Settings → API, the pod alone (``na1``) or the address of any Insightly page.

    Raises:
        AuthError: nothing usable was entered, or it is not an https Insightly address (the key
            would go elsewhere, or in clear text); the message says what to enter.
    """
    text = value.strip()
    if not text:
        raise AuthError(
            "Enter your Insightly API URL in Settings → CRM: it is shown under your API key in Insightly → "
            "User Settings → API (for example https://api.na1.insightly.com/v3.1), or just its pod (na1)."
        )
    if _POD.fullmatch(text.lower()):
        return f"https://api.{text.lower()}.insightly.com{API_VERSION}"
    parts = urlsplit(text if "://" in text else f"https://{text}")
    host = (parts.hostname or "").lower()
    labels = host.split(".")
    is_insightly = labels[-2:] == ["insightly", "com"]
    if is_insightly and parts.scheme != "https":
        raise AuthError(
            f"The Insightly API URL must start with https:// ({text!r} does not), so the API key never crosses "
            "the network in clear text."
        )
    if host == "api.insightly.com":
        return f"https://api.insightly.com{API_VERSION}"
    if is_insightly and len(labels) >= 4 and _POD.fullmatch(labels[-3]):
        return f"https://api.{labels[-3]}.insightly.com{API_VERSION}"
    raise AuthError(
        f"{text!r} is not an Insightly address. Enter the API URL shown under your API key in Insightly → "
        "User Settings → API (https://api.<pod>.insightly.com/v3.1), or its pod (na1)."
    )


def body_date(moment: datetime) -> str:
    """A time as Insightly's object bodies write it: UTC, ``yyyy-MM-dd HH:mm:ss``."""
    return moment.astimezone(UTC).strftime(_BODY_DATE)


def query_date(moment: datetime) -> str:
    """A time as Insightly's query parameters take it: ISO 8601 UTC (``2026-04-09T16:58:14Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def version_of(raw_event: Mapping[str, Any]) -> str:
    """``DATE_UPDATED_UTC`` plus a digest of what a person edits (the times have one-second grain)."""
    digest = hashlib.sha256(
        f"{raw_event.get('TITLE') or ''}\x00{raw_event.get('DETAILS') or ''}".encode()
    ).hexdigest()[:16]
    return f"{raw_event.get('DATE_UPDATED_UTC') or ''}|{digest}"


def location_for(call: Call) -> str:
    """``Inbound call from +14155550123`` / ``Outbound call to …``: the event's LOCATION."""
    number = call.remote.phone_number or call.remote.extension_number or "an unknown number"
    inbound = call.direction is Direction.INBOUND
    return f"{call.direction.value} call {'from' if inbound else 'to'} {number}"[:LOCATION_LIMIT]


def direction_in(location: str | None) -> Direction | None:
    """The direction :func:`location_for` wrote, or ``None`` for another location."""
    for direction in Direction:
        if (location or "").startswith(f"{direction.value} call "):
            return direction
    return None


def _malformed(what: str, detail: str | None = None) -> MalformedResponse:
    return MalformedResponse(f"{CRM} sent {what} in an unexpected shape.", vendor_message=detail)


def _int_of(raw: Mapping[str, Any], key: str) -> int:
    """An id Insightly sends as a JSON number; anything else is :class:`MalformedResponse`."""
    value = raw.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _malformed("a record", f"{key} is {value!r}"[:200])


def _optional_int_of(raw: Mapping[str, Any], key: str) -> int | None:
    """Like :func:`_int_of`, ``None`` when the value is absent or null."""
    return None if raw.get(key) is None else _int_of(raw, key)


def _date_of(raw: Mapping[str, Any], key: str) -> datetime | None:
    """A body date (``yyyy-MM-dd HH:mm:ss`` UTC, or ISO 8601), ``None`` when absent."""
    text = text_of(raw, key, crm=CRM)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _malformed("a date", f"{key} is {text!r}"[:200]) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _field_names(raw: str, default: str) -> list[str]:
    """``PHONE, PHONE_MOBILE`` → the field names, checked (an odd one is refused, never sent)."""
    names = [n.strip() for n in re.split(r"[,;\s]+", raw or default) if n.strip()]
    bad = [n for n in names if not _FIELD_NAME.fullmatch(n)]
    if bad:
        raise ValidationError(f"“{bad[0]}” is not an Insightly field name. Check the phone fields in Settings → CRM.")
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class _Link:
    link_id: int | None
    kind: str  # lower case: contact, lead, opportunity, organisation, project …
    object_id: int


@dataclass(frozen=True)
class _ResultField:
    name: str
    label: str
    options: tuple[str, ...]
    default: str | None


class InsightlyAdapter:
    """One Insightly user, reached with their API key.

    Args:
        connection: ``secrets["api_key"]``; ``settings["api_url"]`` (the API URL, a pod, or an
            Insightly address); optional ``call_result_field``, ``contact_phone_fields``,
            ``lead_phone_fields``, ``phone_region``/``phone_patterns`` and ``api_base_url``
            (developer option).
        client: an ``httpx.Client`` to use (tests pass one on a fake); the adapter closes only a
            client it made itself.
        save_secrets: unused (an API key does not rotate); accepted for the common signature.
        clock: UNIX seconds, for the rate limiter and the daily pause (``time.time``).
        sleep: how the rate limiter waits (``time.sleep``).

    Optional method beyond :class:`~adapters.base.CrmAdapter`: :meth:`page_fields`.
    """

    manifest: ClassVar[Manifest] = Manifest(
        id="insightly",
        name="Insightly",
        log_format="text/plain",
        auth=AuthSpec(
            kind=AuthKind.TOKEN,
            fields=[
                AuthField(
                    key="api_key",
                    label="API key",
                    secret=True,
                    help="Your API key: in Insightly, open User Settings → API. Generating a new key there "
                    "revokes the old one.",
                ),
                AuthField(
                    key="api_url",
                    label="API URL or pod",
                    placeholder="https://api.na1.insightly.com/v3.1",
                    help="The API URL shown under your API key (User Settings → API), or just its pod (na1).",
                ),
                AuthField(
                    key="call_result_field",
                    label="Call result field",
                    required=False,
                    placeholder="Call_Result__c",
                    help="The field name of a drop-down custom field on Events whose values are offered as the "
                    "call's result. Leave empty to use the first one named like result, outcome or disposition.",
                ),
                AuthField(
                    key="contact_phone_fields",
                    label="Contact phone fields",
                    required=False,
                    default=DEFAULT_CONTACT_PHONE_FIELDS,
                    placeholder=DEFAULT_CONTACT_PHONE_FIELDS,
                    help="Contact fields searched for the caller's number, comma-separated (custom fields "
                    "too, such as Direct_Line__c). Each field costs requests per lookup.",
                ),
                AuthField(
                    key="lead_phone_fields",
                    label="Lead phone fields",
                    required=False,
                    default=DEFAULT_LEAD_PHONE_FIELDS,
                    placeholder=DEFAULT_LEAD_PHONE_FIELDS,
                    help="Lead fields searched for the caller's number, comma-separated.",
                ),
            ],
        ),
        page_fields=[
            PageField(
                id=CALL_RESULT,
                label="Call result",
                kind=PageFieldKind.SELECTION,
                contact_dependent=True,
                help="The values of your Events' call result drop-down in Insightly.",
            ),
            PageField(
                id=OPPORTUNITY,
                label="Opportunity",
                kind=PageFieldKind.SELECTION,
                contact_dependent=True,
                help="The open opportunities linked to the contact. The call is linked to the one chosen.",
            ),
        ],
        limits=FieldLimits(subject_chars=TITLE_LIMIT, body=DETAILS_LIMIT, body_unit="chars"),
        capabilities=Capabilities(find_by_session_id=True, versioned_writes=True, update_reads_first=True),
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
        settings = connection.settings
        self._key = connection.secrets.get("api_key", "").strip()
        self._region, self._patterns = phone_settings(settings)
        self._result_setting = settings.get("call_result_field", "").strip()
        self._contact_fields_setting = settings.get("contact_phone_fields", "")
        self._lead_fields_setting = settings.get("lead_phone_fields", "")
        self._config_error: AuthError | None = None
        self._base = ""
        try:
            override = api_base_override(settings, ENV_BASE_URL)
            if override is not None:
                self._base = override if override.endswith(API_VERSION) else override + API_VERSION
            else:
                self._base = api_base_for(settings.get("api_url", ""))
        except AuthError as exc:
            self._config_error = exc
        self._owns_client = client is None
        self._client = make_client(client=client)
        self._clock = clock or time.time
        self._throttle = Throttle(clock=self._clock, sleep=sleep, max_wait=2.0)
        self._throttle.limit("api", REQUESTS_PER_SECOND, 1.0)
        #: The day's allowance is spent: nothing is sent before this instant (UNIX seconds).
        self._spent_until = 0.0
        self._me: dict[str, Any] | None = None
        self._result: _ResultField | None = None
        self._result_read = False
        #: "contact:12" / "lead:7" → name, from lookups: names a stored event's person for free.
        self._names: dict[str, str] = {}

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def _host(self) -> str:
        return urlsplit(self._base).hostname or self._base

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One authorised request; the decoded JSON answer (``None`` for an empty one)."""
        response = self._send(method, path, **kwargs)
        if not response.content.strip():
            return None
        return json_body(response, crm=CRM)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self._config_error is not None:
            raise self._config_error
        if not self._key:
            raise AuthError(
                "No Insightly API key is saved. Paste yours in Settings → CRM (Insightly → User Settings → API)."
            )
        now = self._clock()
        if self._spent_until > now:
            raise self._daily_limit(self._spent_until - now)
        try:
            self._throttle.acquire("api")
        except ThrottleTimeout as exc:
            raise RateLimited(f"{CRM} asks to slow down.", retry_after=exc.seconds) from None
        try:
            response = self._client.request(
                method,
                self._base + path,
                auth=httpx.BasicAuth(self._key, ""),
                headers={"Accept": "application/json"},
                **kwargs,
            )
        except httpx.TransportError as exc:
            raise transport_failure(exc, crm=CRM) from exc
        remaining = _header_int(response.headers, "X-RateLimit-Remaining")
        if response.is_success:
            if remaining is not None and remaining <= 0:
                self._spent_until = self._clock() + self._daily_pause()
            return response
        error = error_for_response(response, crm=CRM, parse=parse_insightly_error)
        if isinstance(error, AuthError):
            raise AuthError(
                "Insightly did not accept the saved API key. Paste it again in Settings → CRM (Insightly → User "
                "Settings → API; generating a new key there revokes the old one).",
                vendor_message=error.vendor_message,
                status=error.status,
            )
        if isinstance(error, RateLimited):
            if remaining is not None and remaining <= 0:
                pause = self._daily_pause()
                self._spent_until = self._clock() + pause
                raise self._daily_limit(pause, vendor_message=error.vendor_message, status=error.status)
            # The per-second limit: every later request waits for it.
            error.retry_after = error.retry_after if error.retry_after is not None else 1.0
            self._throttle.block_for(error.retry_after)
        raise error

    def _daily_pause(self) -> float:
        """Until the next full hour or UTC midnight, whichever is first: Insightly does not say when
        its day ends, so the adapter looks again every hour."""
        now = datetime.fromtimestamp(self._clock(), UTC)
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        return max(1.0, min(DAILY_RETRY, (midnight - now).total_seconds()))

    @staticmethod
    def _daily_limit(seconds: float, **kwargs: Any) -> RateLimited:
        minutes = max(1, round(seconds / 60))
        return RateLimited(
            f"{CRM}'s daily API allowance for this account is used up; Logdesk tries again in {minutes} min.",
            retry_after=seconds,
            **kwargs,
        )

    @staticmethod
    def _event_path(ref: CallLogRef) -> str:
        if not ref.log_id.isdigit():
            raise NotFound(f"{CRM} could not find that record.", vendor_message=f"not an event id: {ref.log_id}")
        return f"/Events/{ref.log_id}"

    # --- connect ----------------------------------------------------------------------------

    @vendor_shape(CRM)
    def verify(self) -> str:
        """Checks the key and the API URL with ``GET /Users/Me``, and the call result field.

        Returns:
            "First Last <e-mail>".

        Raises:
            AuthError: the key, the API URL or the pod is wrong (the message says which to fix).
            PermissionDenied: API access is off for this user.
            ValidationError: the call result field named in Settings is not an Event drop-down.
        """
        if self._config_error is not None:
            raise self._config_error
        try:
            me = self._read_me()
        except AuthError as exc:
            if exc.status is None:  # refused before asking Insightly: that message says what to fix
                raise
            raise AuthError(
                "Insightly did not accept this API key. Copy it again from Insightly → User Settings → API "
                "(generating a new key revokes the old one) and check that the API URL is the one shown under it.",
                vendor_message=exc.vendor_message,
                status=exc.status,
            ) from None
        except PermissionDenied as exc:
            raise PermissionDenied(
                "Insightly refused API access for this user: ask an Insightly administrator to allow it.",
                vendor_message=exc.vendor_message,
                status=exc.status,
            ) from None
        except NotFound as exc:
            raise AuthError(
                f"{self._host} did not answer as Insightly's API. Check the API URL (or pod) in Settings → CRM.",
                vendor_message=exc.vendor_message,
                status=exc.status,
            ) from None
        except TransientError as exc:
            if exc.status is None and not isinstance(exc.__cause__, httpx.TimeoutException):
                # no connection at all: most often a mistyped pod
                raise TransientError(
                    f"Could not reach {self._host}. Check the API URL (or pod) and the network.",
                    vendor_message=exc.vendor_message,
                ) from None
            raise
        self._result_read = False
        self.call_result_field()
        name = " ".join(
            part for part in (text_of(me, "FIRST_NAME", crm=CRM), text_of(me, "LAST_NAME", crm=CRM)) if part
        )
        email = text_of(me, "EMAIL_ADDRESS", crm=CRM) or ""
        if name and email:
            return f"{name} <{email}>"
        return name or email or f"Insightly user {me['USER_ID']}"

    def _read_me(self) -> dict[str, Any]:
        if self._me is None:
            raw = self._request("GET", "/Users/Me")
            if not isinstance(raw, dict):
                raise _malformed("the signed-in user")
            _int_of(raw, "USER_ID")
            self._me = raw
        return self._me

    def _my_id(self) -> int:
        return _int_of(self._read_me(), "USER_ID")

    # --- dispositions -----------------------------------------------------------------------

    def call_result_field(self) -> _ResultField | None:
        """The Event drop-down custom field holding the call result (read once per instance).

        Raises:
            ValidationError: the field named in Settings is not a drop-down custom field on Events.
        """
        if self._result_read:
            return self._result
        try:
            raw = self._request("GET", "/CustomFields/Events")
        except (PermissionDenied, NotFound):
            raw = []
        if not isinstance(raw, list):
            raise _malformed("the custom fields of Events")
        chosen: _ResultField | None = None
        for raw_field in raw:
            if not isinstance(raw_field, dict):
                raise _malformed("a custom field")
            name = text_of(raw_field, "FIELD_NAME", crm=CRM) or ""
            label = text_of(raw_field, "FIELD_LABEL", crm=CRM) or name
            kind = (text_of(raw_field, "FIELD_TYPE", crm=CRM) or "").upper()
            wanted = (
                name.lower() == self._result_setting.lower()
                if self._result_setting
                else bool(_RESULT_WORDS.search(f"{name} {label}"))
            )
            if not wanted or kind != "DROPDOWN":
                continue
            options: list[str] = []
            default: str | None = None
            for raw_option in raw_field.get("CUSTOM_FIELD_OPTIONS") or []:
                if not isinstance(raw_option, dict):
                    raise _malformed("a custom field option")
                value = text_of(raw_option, "OPTION_VALUE", crm=CRM)
                if value:
                    options.append(value)
                    if raw_option.get("OPTION_DEFAULT") is True:
                        default = value
            chosen = _ResultField(name=name, label=label, options=tuple(options), default=default)
            break
        if chosen is None and self._result_setting:
            raise ValidationError(
                f"Insightly has no drop-down custom field “{self._result_setting}” on Events. Check the call result "
                "field in Settings → CRM (its field name, such as Call_Result__c), or leave it empty.",
                field="call_result_field",
            )
        self._result, self._result_read = chosen, True
        return chosen

    @vendor_shape(CRM)
    def page_fields(self) -> list[PageField]:
        """The log page: the call result with the instance's own values (or a notice on how to
        add them), and the contact's opportunities (their options come with each contact)."""
        result = self.call_result_field()
        fields: list[PageField] = []
        for f in self.manifest.page_fields:
            field = f.model_copy(deep=True)
            if field.id == CALL_RESULT:
                if result is None or not result.options:
                    fields.append(
                        PageField(
                            id=CALL_RESULT,
                            label="Call result",
                            kind=PageFieldKind.NOTICE,
                            help="To record call results, add a drop-down custom field on Events in Insightly "
                            "(for example “Call Result”) and name it in Settings → CRM.",
                        )
                    )
                    continue
                field.label = result.label
                field.options = [Option(id=value, label=value) for value in result.options]
                field.contact_dependent = False
                field.defaults = {"*": result.default} if result.default else {}
            fields.append(field)
        return fields

    def _result_options(self) -> list[Option]:
        result = self.call_result_field()
        return [Option(id=value, label=value) for value in (result.options if result else ())]

    def _custom_fields_for(self, values: Mapping[str, FieldValue]) -> list[dict[str, Any]]:
        if CALL_RESULT not in values:
            return []
        value = values[CALL_RESULT]
        result = self.call_result_field()
        if value in (None, "", False):
            return [{"FIELD_NAME": result.name, "FIELD_VALUE": None}] if result else []
        if result is None:
            raise ValidationError(
                "Insightly has no call result field on Events: add a drop-down custom field and name it in "
                "Settings → CRM.",
                field=CALL_RESULT,
            )
        if value not in result.options:
            raise ValidationError(f"“{value}” is not one of Insightly's {result.label} values.", field=CALL_RESULT)
        return [{"FIELD_NAME": result.name, "FIELD_VALUE": value}]

    @staticmethod
    def _opportunity_of(values: Mapping[str, FieldValue]) -> int | None:
        value = values.get(OPPORTUNITY)
        if value in (None, "", False):
            return None
        if isinstance(value, str) and value.isdigit():
            return int(value)
        raise ValidationError("Choose one of the contact's opportunities.", field=OPPORTUNITY)

    @staticmethod
    def _check_dispositions(values: Mapping[str, FieldValue]) -> None:
        for key in values:
            if key not in (CALL_RESULT, OPPORTUNITY):
                raise ValidationError(f"Insightly has no log page field {key!r}.", field=key)

    # --- contacts ---------------------------------------------------------------------------

    @vendor_shape(CRM)
    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        """Contacts and leads whose phone fields hold the number, with their open opportunities.

        Insightly has no internal extensions: ``is_extension`` finds nothing.
        """
        if is_extension:
            return []
        candidates = [
            c
            for c in search_candidates(phone, region=self._region, patterns=self._patterns)[:MAX_CANDIDATES]
            if len(digits_only(c)) >= 7
        ]
        if not candidates:
            return []
        contact_fields = _field_names(self._contact_fields_setting, DEFAULT_CONTACT_PHONE_FIELDS)
        lead_fields = _field_names(self._lead_fields_setting, DEFAULT_LEAD_PHONE_FIELDS)
        searches = (
            ("Contact", "/Contacts/Search", "CONTACT_ID", contact_fields),
            ("Lead", "/Leads/Search", "LEAD_ID", lead_fields),
        )
        found: dict[str, tuple[str, dict[str, Any], str]] = {}
        for kind, path, id_key, fields in searches:
            for field in fields:
                for value in candidates:
                    raw = self._request(
                        "GET", path, params={"field_name": field, "field_value": value, "brief": "false", "top": 100}
                    )
                    if not isinstance(raw, list):
                        raise _malformed(f"the {kind.lower()} search results")
                    for row in raw:
                        if not isinstance(row, dict):
                            raise _malformed(f"a {kind.lower()}")
                        key = f"{kind.lower()}:{_int_of(row, id_key)}"
                        if key in found or (kind == "Lead" and row.get("CONVERTED") is True):
                            continue
                        stored = _stored_phone(row, field)
                        if stored is not None and same_number(stored, phone, self._region):
                            found[key] = (kind, row, stored)
        contacts: list[Contact] = []
        results = self._result_options() if found else []
        for key, (kind, row, stored) in found.items():
            record_id = key.partition(":")[2]
            first = text_of(row, "FIRST_NAME", crm=CRM) or ""
            last = text_of(row, "LAST_NAME", crm=CRM) or ""
            name = f"{first} {last}".strip() or f"{kind} {record_id}"
            self._names[key] = name
            contacts.append(
                Contact(
                    id=record_id,
                    name=name,
                    phone=stored,
                    type=kind,
                    company=text_of(row, "ORGANISATION_NAME", crm=CRM) if kind == "Lead" else None,
                    created_at=_date_of(row, "DATE_CREATED_UTC"),
                    options={CALL_RESULT: list(results), OPPORTUNITY: self._open_opportunities(row)},
                )
            )
        return contacts

    def _open_opportunities(self, row: Mapping[str, Any]) -> list[Option]:
        """The open opportunities among a contact's or lead's links (one read each)."""
        options: list[Option] = []
        ids = [link.object_id for link in _links_of(row) if link.kind == "opportunity"]
        for opportunity_id in list(dict.fromkeys(ids))[:MAX_OPPORTUNITIES]:
            try:
                raw = self._request("GET", f"/Opportunities/{opportunity_id}")
            except (NotFound, PermissionDenied):
                continue
            if not isinstance(raw, dict):
                raise _malformed("an opportunity")
            state = (text_of(raw, "OPPORTUNITY_STATE", crm=CRM) or "").upper()
            if state not in ("", "OPEN"):
                continue
            label = text_of(raw, "OPPORTUNITY_NAME", crm=CRM) or f"Opportunity {opportunity_id}"
            options.append(Option(id=str(opportunity_id), label=label))
        return options

    # --- call logs --------------------------------------------------------------------------

    @staticmethod
    def _check_limits(subject: str | None, body: str | None) -> None:
        if subject is not None:
            if not subject.strip():
                raise ValidationError("Insightly needs a title for the call's event.", field="TITLE")
            if len(subject) > TITLE_LIMIT:
                raise ValidationError(f"The subject is longer than {TITLE_LIMIT} characters.", field="TITLE")
        if body is not None and len(body) > DETAILS_LIMIT:
            raise ValidationError(f"The note is longer than {DETAILS_LIMIT} characters.", field="DETAILS")

    @vendor_shape(CRM)
    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        """One ``POST /Events`` with the links in it (plus a ``POST /Events/{id}/Links`` for a link
        the answer shows missing)."""
        self._check_limits(entry.subject, entry.body)
        self._check_dispositions(entry.dispositions)
        start = call.start_time.astimezone(UTC).replace(microsecond=0)
        duration = entry.duration_seconds if entry.duration_seconds is not None else call.duration
        payload: dict[str, Any] = {
            "TITLE": entry.subject,
            "DETAILS": entry.body,
            "LOCATION": location_for(call),
            "START_DATE_UTC": body_date(start),
            "END_DATE_UTC": body_date(start + timedelta(seconds=max(0, duration or 0))),
            "ALL_DAY": False,
        }
        if self._me is not None:
            payload["OWNER_USER_ID"] = self._my_id()
        links: list[tuple[str, int]] = []
        if contact.id.isdigit() and not contact.is_internal:
            links.append(("Lead" if contact.type == "Lead" else "Contact", int(contact.id)))
        opportunity = self._opportunity_of(entry.dispositions)
        if opportunity is not None:
            links.append(("Opportunity", opportunity))
        if links:
            payload["LINKS"] = [{"LINK_OBJECT_NAME": name, "LINK_OBJECT_ID": oid} for name, oid in links]
        custom = self._custom_fields_for(entry.dispositions)
        if custom:
            payload["CUSTOMFIELDS"] = custom
        raw = self._request("POST", "/Events", json=payload)
        if not isinstance(raw, dict):
            raise _malformed("the created event")
        event_id = _int_of(raw, "EVENT_ID")
        held = {(link.kind, link.object_id) for link in _links_of(raw)}
        missing = [(name, oid) for name, oid in links if (name.lower(), oid) not in held]
        for name, oid in missing:
            self._request("POST", f"/Events/{event_id}/Links", json={"LINK_OBJECT_NAME": name, "LINK_OBJECT_ID": oid})
        return CallLogRef(
            adapter_id=self.manifest.id,
            log_id=str(event_id),
            contact_id=contact.id,
            version=None if missing else version_of(raw),
        )

    def _read(self, ref: CallLogRef) -> dict[str, Any]:
        raw = self._request("GET", self._event_path(ref))
        if not isinstance(raw, dict):
            raise _malformed("the event")
        return raw

    def _stored(self, raw_event: Mapping[str, Any]) -> StoredCallLog:
        event_id = _int_of(raw_event, "EVENT_ID")
        title = text_of(raw_event, "TITLE", crm=CRM) or ""
        details = text_of(raw_event, "DETAILS", crm=CRM) or ""
        start, end = _date_of(raw_event, "START_DATE_UTC"), _date_of(raw_event, "END_DATE_UTC")
        links = _links_of(raw_event)
        person = next((link for link in links if link.kind in _PERSON_LINKS), None)
        opportunity = next((link for link in links if link.kind == "opportunity"), None)
        result = self.call_result_field()
        call_result: str | None = None
        if result is not None:
            for raw_field in raw_event.get("CUSTOMFIELDS") or []:
                if isinstance(raw_field, dict) and raw_field.get("FIELD_NAME") == result.name:
                    call_result = text_of(raw_field, "FIELD_VALUE", crm=CRM)
        contact_id = str(person.object_id) if person else None
        version = version_of(raw_event)
        return StoredCallLog(
            ref=CallLogRef(adapter_id=self.manifest.id, log_id=str(event_id), contact_id=contact_id, version=version),
            subject=title,
            body=details,
            dispositions={
                CALL_RESULT: call_result,
                OPPORTUNITY: str(opportunity.object_id) if opportunity else None,
            },
            contact_id=contact_id,
            contact_name=self._names.get(f"{person.kind}:{person.object_id}") if person else None,
            duration_seconds=int((end - start).total_seconds()) if start and end and end >= start else None,
            modified_at=_date_of(raw_event, "DATE_UPDATED_UTC"),
        )

    @vendor_shape(CRM)
    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        """One ``GET /Events/{id}``."""
        return self._stored(self._read(ref))

    @vendor_shape(CRM)
    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        """Reads the event, then one ``PUT /Events`` with only what ``change`` sets (and the Links
        endpoints when the opportunity changes).

        With ``expected_version`` the read right before the write must still show that version,
        else :class:`ConflictError` (Insightly has no documented precondition; see the module).
        """
        self._check_limits(change.subject, change.body)
        custom: list[dict[str, Any]] = []
        wanted: int | None = None
        opportunity_change = False
        if change.dispositions is not None:  # refused values are refused before anything is sent
            self._check_dispositions(change.dispositions)
            custom = self._custom_fields_for(change.dispositions)
            wanted = self._opportunity_of(change.dispositions)
            opportunity_change = OPPORTUNITY in change.dispositions
        current = self._read(ref)
        if expected_version is not None and version_of(current) != expected_version:
            raise ConflictError(
                f"The call was changed in {CRM} since it was read; it will be read again before saving.", status=409
            )
        event_id = _int_of(current, "EVENT_ID")
        payload: dict[str, Any] = {}
        if change.subject is not None:
            payload["TITLE"] = change.subject
        if change.body is not None:
            payload["DETAILS"] = change.body
        if change.duration_seconds is not None:
            start = _date_of(current, "START_DATE_UTC")
            if start is not None:
                payload["END_DATE_UTC"] = body_date(start + timedelta(seconds=max(0, change.duration_seconds)))
        if custom:
            payload["CUSTOMFIELDS"] = custom
        written: Mapping[str, Any] = current
        if payload:
            raw = self._request("PUT", "/Events", json={"EVENT_ID": event_id, **payload})
            if not isinstance(raw, dict):
                raise _malformed("the updated event")
            written = raw
        if opportunity_change and self._relink_opportunity(event_id, _links_of(current), wanted):
            return self.get_call_log(ref)
        return self._stored(written)

    def _relink_opportunity(self, event_id: int, links: list[_Link], wanted: int | None) -> bool:
        """Links the event to ``wanted`` alone among opportunities; whether anything changed."""
        changed = False
        held = [link for link in links if link.kind == "opportunity"]
        for link in held:
            if link.object_id != wanted and link.link_id is not None:
                self._request("DELETE", f"/Events/{event_id}/Links/{link.link_id}")
                changed = True
        if wanted is not None and not any(link.object_id == wanted for link in held):
            self._request(
                "POST", f"/Events/{event_id}/Links", json={"LINK_OBJECT_NAME": "Opportunity", "LINK_OBJECT_ID": wanted}
            )
            changed = True
        return changed

    @vendor_shape(CRM)
    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        """Writes the call result and the opportunity link; nothing else."""
        self.update_call_log(ref, LogUpdate(dispositions=dict(values)))

    @vendor_shape(CRM)
    def find_call_log(self, call: Call) -> CallLogRef | None:
        """The event logged for ``call``: this user's events updated since a minute before the
        call began that start at its start second; the session id in the details, else the
        number and direction in the location, break ties."""
        start = call.start_time.astimezone(UTC).replace(microsecond=0)
        me = self._my_id()
        since = query_date(start - timedelta(minutes=1))
        matches: list[tuple[int, str, str | None, int | None]] = []
        for page in range(MAX_PAGES):
            raw = self._request(
                "GET",
                "/Events/Search",
                params={"updated_after_utc": since, "brief": "false", "top": PAGE_SIZE, "skip": page * PAGE_SIZE},
            )
            if not isinstance(raw, list):
                raise _malformed("the event search results")
            for row in raw:
                if not isinstance(row, dict):
                    raise _malformed("an event")
                event_id = _int_of(row, "EVENT_ID")
                owner = _optional_int_of(row, "OWNER_USER_ID")
                begins = _date_of(row, "START_DATE_UTC")
                details = text_of(row, "DETAILS", crm=CRM) or ""
                location = text_of(row, "LOCATION", crm=CRM)
                person = next((link for link in _links_of(row) if link.kind in _PERSON_LINKS), None)
                if owner not in (None, me) or begins != start:
                    continue
                matches.append((event_id, details, location, person.object_id if person else None))
            if len(raw) < PAGE_SIZE:
                break
        # The session id as a whole word of the details (the note engine's "Session Id" line).
        session = rf"(?<![0-9A-Za-z]){re.escape(call.session_id)}(?![0-9A-Za-z])"
        marked = [m for m in matches if call.session_id and re.search(session, m[1])]
        if not marked:
            number = digits_only(call.remote.phone_number or call.remote.extension_number or "")
            marked = [
                m
                for m in matches
                if direction_in(m[2]) is call.direction and (not number or number in digits_only(m[2] or ""))
            ]
        chosen = marked[0] if marked else (matches[0] if len(matches) == 1 else None)
        if chosen is None:
            return None
        return CallLogRef(
            adapter_id=self.manifest.id,
            log_id=str(chosen[0]),
            contact_id=str(chosen[3]) if chosen[3] is not None else None,
        )

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


def _header_int(headers: httpx.Headers, name: str) -> int | None:
    value = (headers.get(name) or "").strip()
    return int(value) if value.lstrip("-").isdigit() else None


def _links_of(raw: Mapping[str, Any]) -> list[_Link]:
    """The record's ``LINKS`` (``LINK_OBJECT_NAME`` compared without case: [V])."""
    raw_links = raw.get("LINKS")
    if raw_links is None:
        return []
    if not isinstance(raw_links, list):
        raise _malformed("the links of a record")
    links: list[_Link] = []
    for raw_link in raw_links:
        if not isinstance(raw_link, dict):
            raise _malformed("a link")
        name = text_of(raw_link, "LINK_OBJECT_NAME", crm=CRM) or ""
        links.append(_Link(_optional_int_of(raw_link, "LINK_ID"), name.lower(), _int_of(raw_link, "LINK_OBJECT_ID")))
    return links


def _stored_phone(row: Mapping[str, Any], field: str) -> str | None:
    """The value of ``field`` on a contact or lead: a standard field, or a custom one in ``CUSTOMFIELDS``."""
    if field in row:
        return text_of(row, field, crm=CRM)
    for raw_field in row.get("CUSTOMFIELDS") or []:
        if isinstance(raw_field, dict) and raw_field.get("FIELD_NAME") == field:
            value = raw_field.get("FIELD_VALUE")
            return value if isinstance(value, str) else None
    return None


__all__ = [
    "InsightlyAdapter",
    "api_base_for",
    "body_date",
    "location_for",
    "parse_insightly_error",
    "version_of",
]
