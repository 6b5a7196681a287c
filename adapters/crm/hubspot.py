# SPDX-License-Identifier: MIT
"""HubSpot: calls logged as the CRM's native ``calls`` engagement, reached with a pasted token.

Connect: the user pastes a private-app or service-key access token (``Authorization: Bearer``).
:meth:`HubSpotAdapter.verify` checks it with ``GET /account-info/v3/details`` and then reads the
portal's call outcomes (``GET /calling/v1/dispositions``), so the log page offers the portal's
own outcomes, custom ones included (:meth:`HubSpotAdapter.page_fields`).

Where call data goes (everything structured; the note engine's body goes to ``hs_call_body``):

===============================  =======================================================================
``hs_timestamp``                 call start (UTC, ISO 8601 with milliseconds)
``hs_call_title``                subject
``hs_call_body``                 the composed note (HTML)
``hs_call_direction``            ``INBOUND`` / ``OUTBOUND``
``hs_call_duration``             milliseconds, when known
``hs_call_status``               from RingCentral's result (``COMPLETED``, ``MISSED``, ``BUSY`` …)
``hs_call_disposition``          the outcome GUID chosen on the log page (page field ``outcome``)
``hs_call_recording_url``        the recording link, when it is https
``hs_call_from_number``          E.164 as RingCentral reports it
``hs_call_to_number``            E.164 as RingCentral reports it
``hs_call_external_id``          the RingCentral session id, and
``hs_call_external_account_id``  the agent's extension id: how :meth:`find_call_log` knows the call
``hubspot_owner_id``             the owner whose e-mail the user gave, when given
association                      call → contact (``HUBSPOT_DEFINED`` type 194), and call → the contact's
                                 primary company (type 182) when the contact search saw it; none for a
                                 colleague or without a contact (the log then names no contact)
===============================  =======================================================================

Rate limits: the search endpoints allow about 4 requests per second per token; everything else
follows ``X-HubSpot-RateLimit-Max``/``-Remaining`` per ``-Interval-Milliseconds``. Both are kept by
a :class:`~adapters.throttle.Throttle`, so a backlog drains without 429s. HubSpot's 429 carries
no ``Retry-After``; the adapter reports the policy's window instead (1 s for the per-second
limits, 10 s for the rolling one, an hour for the daily one).

Versions: HubSpot offers no conditional writes, so ``expected_version`` is not enforced
(``capabilities.versioned_writes`` is false); the version reported is ``updatedAt``.

Search is eventually consistent: a call created a few seconds ago may be missing from search
results. :meth:`HubSpotAdapter.find_call_log` therefore falls back to reading the calls
associated with the caller's contacts, which is consistent.

Developer option: ``LOGDESK_HUBSPOT_URL`` (or the connection setting ``api_base_url``) points the
adapter at another API host, such as the fake in ``tests/fakes/hubspot.py``.

Threading contract: one worker thread at a time per instance (see :mod:`adapters.base`).
"""

from __future__ import annotations

import json
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from adapters import phone as phones
from adapters.api_override import api_base_override
from adapters.base import (
    SETTING_REGION,
    AdapterError,
    AuthError,
    AuthField,
    AuthKind,
    AuthSpec,
    Capabilities,
    Connection,
    FieldLimits,
    MalformedResponse,
    Manifest,
    PageField,
    PageFieldKind,
    PermissionDenied,
    RateLimited,
    SecretsSaver,
    ValidationError,
    make_client,
)
from adapters.http import json_body, send
from adapters.models import Call, CallLogRef, Contact, Direction, FieldValue, LogEntry, LogUpdate, Option, StoredCallLog
from adapters.throttle import Throttle, ThrottleTimeout
from adapters.vendor_shape import id_of, text_of, vendor_shape

CRM = "HubSpot"
API_BASE = "https://api.hubapi.com"
ENV_BASE_URL = "LOGDESK_HUBSPOT_URL"
BODY_LIMIT = 65536
#: How many recently read or written calls the adapter remembers to complete PATCH answers.
KNOWN_RECORDS = 200
#: How many notations of a number are matched against the typed phone properties.
MAX_TYPED_VARIANTS = 20
#: Crash recovery reads the calls of at most this many contacts having the caller's number.
RECOVERY_CONTACTS = 5
#: After HubSpot's daily limit is spent, ask again no sooner than this (seconds).
DAILY_LIMIT_PAUSE = 3600.0
CALL_TO_CONTACT = 194
CALL_TO_COMPANY = 182

#: HubSpot's default call outcomes (the same GUIDs in every portal). Used only when the portal's
#: own list cannot be read; custom outcomes always come from the portal.
DEFAULT_OUTCOMES: tuple[Option, ...] = (
    Option(id="f240bbac-87c9-4f6e-bf70-924b57d47db7", label="Connected"),
    Option(id="9d9162e7-6cf3-4944-bf63-4dff82258764", label="Busy"),
    Option(id="a4c4c377-d246-4b32-a13b-75a56a4cd0ff", label="Left live message"),
    Option(id="b2cf5968-551e-4856-9783-52b3da59a7d0", label="Left voicemail"),
    Option(id="73a0d17f-1163-4015-bdd5-ec830791da20", label="No answer"),
    Option(id="17b47fee-58de-441e-a44c-c6300d46f273", label="Wrong number"),
)

_CALL_PROPERTIES = (
    "hs_timestamp", "hs_call_title", "hs_call_body", "hs_call_direction", "hs_call_duration",
    "hs_call_status", "hs_call_disposition", "hs_call_recording_url", "hs_call_external_id",
    "hs_lastmodifieddate",
)
_CONTACT_PROPERTIES = (
    "firstname", "lastname", "email", "phone", "mobilephone", "company", "hubspot_owner_id", "createdate",
    "lifecyclestage", "associatedcompanyid",
)

#: RingCentral ``result`` → ``hs_call_status``.
_STATUS_BY_RESULT = {
    "missed": "MISSED",
    "busy": "BUSY",
    "no answer": "NO_ANSWER",
    "rejected": "CANCELED",
    "declined": "CANCELED",
    "hang up": "CANCELED",
    "stopped": "CANCELED",
    "call failed": "FAILED",
    "failed": "FAILED",
    "internal error": "FAILED",
}


def parse_hubspot_error(raw_body: Any) -> tuple[str | None, str | None]:
    """(message, property) from HubSpot's envelope ``{status, message, category, errors[]}``.

    "Property values were not valid: [{...}]" messages are unpacked into the inner messages, so
    the agent reads "hs_call_direction: SIDEWAYS was not one of the allowed options" rather than
    a JSON dump; the property name becomes :attr:`ValidationError.field`.
    """
    if not isinstance(raw_body, dict):
        return None, None
    message = raw_body.get("message") if isinstance(raw_body.get("message"), str) else None
    field: str | None = None
    errors = raw_body.get("errors")
    if isinstance(errors, list):
        for raw_error in errors:
            if not isinstance(raw_error, dict):
                continue
            context = raw_error.get("context")
            if isinstance(context, dict) and isinstance(context.get("propertyName"), list) and context["propertyName"]:
                field = str(context["propertyName"][0])
                break
            if isinstance(raw_error.get("in"), str):
                field = raw_error["in"]
                break
    scopes: list[str] = []
    for raw_error in errors if isinstance(errors, list) else []:
        context = raw_error.get("context") if isinstance(raw_error, dict) else None
        if isinstance(context, dict) and isinstance(context.get("requiredGranularScopes"), list):
            scopes += [str(scope) for scope in context["requiredGranularScopes"]]
    if scopes:
        message = f"{message or 'Missing scopes.'} Required scopes: {', '.join(scopes)}."
    if message and message.startswith("Property values were not valid: "):
        try:
            raw_items = json.loads(message.split(": ", 1)[1])
        except ValueError:
            raw_items = None
        if isinstance(raw_items, list):
            parts = [
                f"{item.get('name')}: {item.get('message')}"
                for item in raw_items
                if isinstance(item, dict) and item.get("message")
            ]
            if parts:
                message = "; ".join(parts)
            if field is None and raw_items and isinstance(raw_items[0], dict) and raw_items[0].get("name"):
                field = str(raw_items[0]["name"])
    return message, field


def _iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(raw: Any) -> datetime | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        if re.fullmatch(r"\d{10,13}", raw):
            return datetime.fromtimestamp(int(raw) / (1000 if len(raw) == 13 else 1), UTC)
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        return None


def _agent_extension(call: Call) -> str | None:
    """The agent's RingCentral extension id: with the session id, what identifies a logged call
    (a colleague in the same session logs their own)."""
    if call.extension is not None and call.extension.id not in (None, ""):
        return str(call.extension.id)
    return call.local.extension_id or None


def call_status(call: Call) -> str:
    """``hs_call_status`` for a finished RingCentral call."""
    result = (call.result or "").strip().lower()
    if result == "voicemail" and call.direction is Direction.INBOUND:
        return "MISSED"
    return _STATUS_BY_RESULT.get(result, "COMPLETED")


class HubSpotAdapter:
    """A HubSpot portal, reached with a private-app or service-key token.

    Args:
        connection: ``secrets["token"]``; optional ``settings["owner_email"]`` (the HubSpot user
            calls are assigned to), ``settings["phone_region"]`` (for numbers without a country
            code) and ``settings["api_base_url"]`` (developer option).
        client: an ``httpx.Client`` to use (tests pass one on ``httpx.MockTransport``); the
            adapter closes only a client it made itself.
        save_secrets: unused (pasted tokens do not rotate); accepted for the common signature.
        clock: monotonic seconds for the rate limiter (``time.monotonic``).
        sleep: how the rate limiter waits (``time.sleep``).

    Optional method beyond :class:`~adapters.base.CrmAdapter`: :meth:`page_fields` returns the
    manifest's page fields with the portal's live outcomes.
    """

    manifest: ClassVar[Manifest] = Manifest(
        id="hubspot",
        name="HubSpot",
        log_format="text/html",
        auth=AuthSpec(
            kind=AuthKind.TOKEN,
            fields=[
                AuthField(
                    key="token",
                    label="Access token",
                    secret=True,
                    placeholder="pat-na1-…",
                    help="The access token of a HubSpot private app or service key "
                    "(Settings → Integrations) with the crm.objects.contacts read and write scopes.",
                ),
                AuthField(
                    key="owner_email",
                    label="Your HubSpot user e-mail",
                    required=False,
                    help="Calls are assigned to this HubSpot user. Leave empty to leave them unassigned.",
                ),
            ],
        ),
        page_fields=[
            PageField(
                id="outcome",
                label="Call outcome",
                kind=PageFieldKind.SELECTION,
                options=list(DEFAULT_OUTCOMES),
                help="The portal's own outcomes are loaded when HubSpot is connected.",
            ),
        ],
        limits=FieldLimits(body=BODY_LIMIT, body_unit="chars"),
        capabilities=Capabilities(find_by_session_id=True, artifact_fields=("duration", "recording")),
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
        self._token = connection.secrets.get("token", "").strip()
        self._owner_email = connection.settings.get("owner_email", "").strip()
        self._region = connection.settings.get(SETTING_REGION) or "US"
        self._config_error: AuthError | None = None
        try:
            override = api_base_override(connection.settings, ENV_BASE_URL)
        except AuthError as exc:
            override, self._config_error = None, exc
        self._base = override or API_BASE
        self._owns_client = client is None
        self._client = make_client(self._base, client=client)
        self._throttle = Throttle(clock=clock or time.monotonic, sleep=sleep or time.sleep)
        self._throttle.limit("search", 4, 1.0)
        self._throttle.limit("api", 100, 10.0)
        self._outcomes: list[Option] | None = None
        self._owner_id: str | None = None
        self._owner_resolved = False
        self._owner_names: dict[str, str] | None = None
        #: Contact id → primary company id, learnt from contact searches (no extra request at create).
        self._contact_companies: dict[str, str] = {}
        #: Contact id → display name, from contact searches: names a stored call's contact for free.
        self._contact_names: dict[str, str] = {}
        #: The last known properties of each call this instance read or wrote, so a PATCH
        #: (which answers with the written properties only) still yields a whole record.
        self._known: OrderedDict[str, dict[str, Any]] = OrderedDict()

    # --- plumbing ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, bucket: str = "api", **kwargs: Any) -> Any:
        if self._config_error is not None:
            raise self._config_error
        if not self._token:
            raise AuthError("No HubSpot access token is saved. Paste one in Settings → CRM.")
        try:
            self._throttle.acquire(bucket)
        except ThrottleTimeout as exc:
            raise RateLimited(f"{CRM} asks to slow down.", retry_after=exc.seconds) from None
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        try:
            response = send(
                self._client, method, self._base + path, crm=CRM, parse=parse_hubspot_error, headers=headers, **kwargs
            )
        except RateLimited as exc:
            if exc.retry_after is None:
                said = (exc.vendor_message or "").lower()
                if "daily" in said:
                    exc.retry_after = DAILY_LIMIT_PAUSE
                else:
                    exc.retry_after = 1.0 if bucket == "search" or "secondly" in said else 10.0
            self._throttle.block_for(exc.retry_after)
            raise
        self._note_limits(response.headers)
        return json_body(response, crm=CRM)

    def _note_limits(self, headers: httpx.Headers) -> None:
        try:
            maximum = int(headers.get("X-HubSpot-RateLimit-Max", "0"))
            remaining = int(headers.get("X-HubSpot-RateLimit-Remaining", "-1"))
            interval = int(headers.get("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")) / 1000.0
            daily_remaining = int(headers.get("X-HubSpot-RateLimit-Daily-Remaining", "-1"))
        except ValueError:
            return
        if daily_remaining == 0:
            self._throttle.block_for(DAILY_LIMIT_PAUSE)  # the next request would be refused anyway
        if maximum > 0:
            # Keep a margin for other integrations sharing the portal's budget.
            self._throttle.limit("api", max(1, maximum - max(1, maximum // 10)), interval)
        if remaining == 0:
            self._throttle.block_for(interval)

    @staticmethod
    def _malformed(what: str) -> MalformedResponse:
        return MalformedResponse(f"{CRM} sent {what} in an unexpected shape.")

    # --- connect ----------------------------------------------------------------------------

    @vendor_shape(CRM)
    def verify(self) -> str:
        """Checks the token; reads the portal's call outcomes; returns "HubSpot portal N".

        Raises:
            AuthError: the token is wrong, revoked or was not copied whole (the message says so).
            PermissionDenied: the token lacks a scope (the message names the scopes needed).
            ValidationError: no HubSpot user has the ``owner_email`` given (``field="owner_email"``).
        """
        try:
            raw = self._request("GET", "/account-info/v3/details")
        except AuthError as exc:
            if exc.status is None:  # refused before asking the CRM: that message says what to fix
                raise
            raise AuthError(
                "HubSpot did not accept this access token. Copy the whole token of a private app or "
                "service key (HubSpot Settings → Integrations) and paste it again.",
                vendor_message=exc.vendor_message,
                status=exc.status,
            ) from None
        except PermissionDenied as exc:
            raise PermissionDenied(
                "HubSpot refused to show this account to the token. Check that it belongs to a private app or "
                "service key of this portal.",
                vendor_message=exc.vendor_message,
                status=exc.status,
            ) from None
        if not isinstance(raw, dict) or "portalId" not in raw:
            raise self._malformed("the account details")
        try:
            self._request("GET", "/crm/v3/objects/contacts", params={"limit": 1})
        except PermissionDenied as exc:
            raise PermissionDenied(
                "This HubSpot token may not read contacts. Give the private app or service key the "
                "crm.objects.contacts.read and crm.objects.contacts.write scopes, then paste its token again.",
                vendor_message=exc.vendor_message,
                status=exc.status,
            ) from None
        self._outcomes = None
        self.outcomes()
        who = f"HubSpot portal {raw['portalId']}"
        self._owner_resolved = False
        try:
            owner = self._owner()
        except PermissionDenied as exc:
            raise PermissionDenied(
                "This HubSpot token may not look up users. Add the crm.objects.owners.read scope, or leave "
                "the user e-mail empty.",
                vendor_message=exc.vendor_message,
                status=exc.status,
            ) from None
        if self._owner_email and owner is None:
            raise ValidationError(
                f"No HubSpot user has the e-mail {self._owner_email}. Correct it, or leave it empty to log calls "
                "without an owner.",
                field="owner_email",
            )
        if owner is not None and self._owner_names:
            who += f" as {self._owner_names.get(owner, owner)}"
        return who

    @vendor_shape(CRM)
    def outcomes(self) -> list[Option]:
        """The portal's call outcomes (cached per instance; defaults if the list is unreadable)."""
        if self._outcomes is None:
            try:
                raw = self._request("GET", "/calling/v1/dispositions")
            except (AuthError, RateLimited):
                raise
            except AdapterError:
                return list(DEFAULT_OUTCOMES)
            options = [
                Option(id=str(item["id"]), label=str(item.get("label") or item["id"]))
                for item in (raw if isinstance(raw, list) else [])
                if isinstance(item, dict) and item.get("id") and not item.get("deleted")
            ]
            self._outcomes = options or list(DEFAULT_OUTCOMES)
        return list(self._outcomes)

    @vendor_shape(CRM)
    def page_fields(self) -> list[PageField]:
        """The manifest's page fields with this portal's outcomes as the ``outcome`` options."""
        fields = [f.model_copy(deep=True) for f in self.manifest.page_fields]
        for f in fields:
            if f.id == "outcome":
                f.options = self.outcomes()
        return fields

    def _owner(self) -> str | None:
        """The owner id for ``owner_email`` (looked up once per instance)."""
        if not self._owner_email or self._owner_resolved:
            return self._owner_id
        raw = self._request("GET", "/crm/v3/owners/", params={"email": self._owner_email, "limit": 10})
        results = raw.get("results") if isinstance(raw, dict) else None
        if not isinstance(results, list):
            raise self._malformed("the owners list")
        for item in results:
            if isinstance(item, dict) and item.get("id"):
                self._owner_id = str(item["id"])
                name = f"{item.get('firstName') or ''} {item.get('lastName') or ''}".strip()
                self._owner_names = {**(self._owner_names or {}), self._owner_id: name or str(item.get("email"))}
                break
        self._owner_resolved = True
        return self._owner_id

    def _owner_name(self, owner_id: str) -> str:
        if self._owner_names is None or owner_id not in self._owner_names:
            try:
                raw = self._request("GET", "/crm/v3/owners/", params={"limit": 500})
            except PermissionDenied:
                raw = {}
            names = dict(self._owner_names or {})
            for item in raw.get("results", []) if isinstance(raw, dict) else []:
                if isinstance(item, dict) and item.get("id"):
                    full = f"{item.get('firstName') or ''} {item.get('lastName') or ''}".strip()
                    names[str(item["id"])] = full or str(item.get("email") or item["id"])
            names.setdefault(owner_id, owner_id)
            self._owner_names = names
        return self._owner_names[owner_id]

    # --- contacts ---------------------------------------------------------------------------

    @vendor_shape(CRM)
    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        """Contacts whose phone or mobile phone is ``phone``, in one search request.

        HubSpot keeps digit-only copies of phone numbers (``hs_searchable_calculated_phone_number``
        / ``..._mobile_number``); the search ORs matches on those (national digits, with and
        without the country code) with matches of the typed properties against the number's
        common notations (:func:`adapters.phone.search_candidates`). HubSpot has no internal
        extensions, so ``is_extension`` finds nothing.
        """
        if is_extension:
            return []
        contacts: list[Contact] = []
        for item in self._search_contacts(phone):
            props: dict[str, Any] = item["properties"]
            name = f"{props.get('firstname') or ''} {props.get('lastname') or ''}".strip()
            owner_id = props.get("hubspot_owner_id")
            if props.get("associatedcompanyid"):
                self._contact_companies[str(item["id"])] = str(props["associatedcompanyid"])
            self._contact_names[str(item["id"])] = name or str(props.get("email") or f"Contact {item['id']}")
            contacts.append(
                Contact(
                    id=str(item["id"]),
                    name=name or str(props.get("email") or f"Contact {item['id']}"),
                    phone=props.get("phone") or props.get("mobilephone"),
                    type="Contact",
                    company=props.get("company") or None,
                    owner=self._owner_name(str(owner_id)) if owner_id else None,
                    created_at=_parse_time(props.get("createdate") or item.get("createdAt")),
                )
            )
        return contacts

    def _search_contacts(self, phone: str) -> list[dict[str, Any]]:
        """The raw contact search results for ``phone`` (one search request)."""
        parsed = phones.parse(phone, self._region)
        national = parsed.national if parsed else phones.digits_only(phone)
        if not national:
            return []
        # The calculated properties hold the digits; match them with and without the country code.
        digits = [national, f"{parsed.country_code}{national}"] if parsed else [national]
        # The typed properties hold whatever a person entered: E.164 and the common notations.
        typed = phones.search_candidates(phone, region=self._region)[:MAX_TYPED_VARIANTS]
        groups: list[dict[str, Any]] = [
            {"filters": [{"propertyName": name, "operator": "IN", "values": values}]}
            for name, values in (
                ("hs_searchable_calculated_phone_number", digits),
                ("hs_searchable_calculated_mobile_number", digits),
                ("phone", typed),
                ("mobilephone", typed),
            )
        ]
        body = {"filterGroups": groups, "properties": list(_CONTACT_PROPERTIES), "limit": 50}
        raw = self._request("POST", "/crm/v3/objects/contacts/search", bucket="search", json=body)
        results = raw.get("results") if isinstance(raw, dict) else None
        if not isinstance(results, list):
            raise self._malformed("the contact search results")
        for item in results:
            if not isinstance(item, dict) or not item.get("id") or not isinstance(item.get("properties"), dict):
                raise self._malformed("a contact")
        return results

    # --- call logs --------------------------------------------------------------------------

    @staticmethod
    def _recording(url: str | None) -> str | None:
        return url if url and url.startswith("https://") else None

    @vendor_shape(CRM)
    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        """One ``POST /crm/v3/objects/calls`` with every structured field and the association."""
        props: dict[str, str] = {
            "hs_timestamp": _iso_ms(call.start_time),
            "hs_call_title": entry.subject,
            "hs_call_body": entry.body,
            "hs_call_direction": "INBOUND" if call.direction is Direction.INBOUND else "OUTBOUND",
            "hs_call_status": call_status(call),
            "hs_call_external_id": call.session_id,
        }
        account = _agent_extension(call)
        if account:
            props["hs_call_external_account_id"] = account
        for key, party in (("hs_call_from_number", call.from_), ("hs_call_to_number", call.to)):
            number = party.phone_number or party.extension_number
            if number:
                props[key] = number
        if entry.duration_seconds is not None:
            props["hs_call_duration"] = str(max(0, entry.duration_seconds) * 1000)
        recording = self._recording(entry.recording_url)
        if recording:
            props["hs_call_recording_url"] = recording
        outcome = entry.dispositions.get("outcome")
        if isinstance(outcome, str) and outcome:
            props["hs_call_disposition"] = outcome
        try:
            owner = self._owner()
        except PermissionDenied:  # verify() reported it; log the call without an owner
            self._owner_resolved = True
            owner = None
        if owner:
            props["hubspot_owner_id"] = owner
        payload: dict[str, Any] = {"properties": props}
        # A colleague (an internal call) or no contact at all: the call is created without an
        # association, as HubSpot allows; it is then on the calls index page, on no record's timeline.
        associated = contact.id if contact.id and not contact.is_internal else None
        if associated:
            targets = [(associated, CALL_TO_CONTACT)]
            company_id = self._contact_companies.get(associated)
            if company_id:
                targets.append((company_id, CALL_TO_COMPANY))  # on the company's timeline too
            payload["associations"] = [
                {"to": {"id": to_id}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": kind}]}
                for to_id, kind in targets
            ]
        raw = self._request("POST", "/crm/v3/objects/calls", json=payload)
        if not isinstance(raw, dict) or not raw.get("id"):
            raise self._malformed("the created call")
        log_id = id_of(raw, crm=CRM)
        text_of(raw, "updatedAt", crm=CRM)
        known = dict(props)
        if isinstance(raw.get("properties"), dict):
            known.update({k: v for k, v in raw["properties"].items() if v is not None})
        self._remember(log_id, {"properties": known, "updatedAt": raw.get("updatedAt"), "contact_id": associated,
                                "contact_name": contact.name if associated else None})
        return CallLogRef(adapter_id=self.manifest.id, log_id=log_id, contact_id=associated,
                          version=str(raw.get("updatedAt") or "") or None)

    def _remember(self, log_id: str, record: dict[str, Any]) -> None:
        self._known[log_id] = record
        self._known.move_to_end(log_id)
        while len(self._known) > KNOWN_RECORDS:
            self._known.popitem(last=False)

    def _stored(self, ref: CallLogRef, log_id: str) -> StoredCallLog:
        record = self._known[log_id]
        props: dict[str, Any] = record["properties"]
        duration_ms = props.get("hs_call_duration")
        try:
            duration = round(int(float(duration_ms)) / 1000) if duration_ms not in (None, "") else None
        except ValueError:
            duration = None
        version = record.get("updatedAt") or props.get("hs_lastmodifieddate")
        return StoredCallLog(
            ref=CallLogRef(adapter_id=self.manifest.id, log_id=log_id,
                           contact_id=record.get("contact_id") or ref.contact_id, version=version or None),
            subject=props.get("hs_call_title") or "",
            body=props.get("hs_call_body") or "",
            dispositions={"outcome": props.get("hs_call_disposition") or None},
            contact_id=record.get("contact_id") or ref.contact_id,
            contact_name=record.get("contact_name"),
            duration_seconds=duration,
            recording_url=props.get("hs_call_recording_url") or None,
            modified_at=_parse_time(version),
        )

    @vendor_shape(CRM)
    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        """One ``GET /crm/v3/objects/calls/{id}`` with the call properties and contact association."""
        raw = self._request(
            "GET",
            f"/crm/v3/objects/calls/{ref.log_id}",
            params={"properties": ",".join(_CALL_PROPERTIES), "associations": "contacts"},
        )
        if not isinstance(raw, dict) or not isinstance(raw.get("properties"), dict):
            raise self._malformed("the call")
        contact_id: str | None = None
        assoc = raw.get("associations")
        if isinstance(assoc, dict):
            results = (assoc.get("contacts") or {}).get("results") if isinstance(assoc.get("contacts"), dict) else None
            if isinstance(results, list) and results and isinstance(results[0], dict) and results[0].get("id"):
                contact_id = str(results[0]["id"])
        previous = self._known.get(ref.log_id, {})
        self._remember(ref.log_id, {
            "properties": dict(raw["properties"]),
            "updatedAt": raw.get("updatedAt"),
            "contact_id": contact_id or ref.contact_id,
            "contact_name": previous.get("contact_name") or self._contact_names.get(contact_id or ""),
        })
        return self._stored(ref, ref.log_id)

    def _properties_for(self, change: LogUpdate) -> dict[str, str]:
        props: dict[str, str] = {}
        if change.subject is not None:
            props["hs_call_title"] = change.subject
        if change.body is not None:
            props["hs_call_body"] = change.body
        if change.dispositions is not None:
            props.update(self._disposition_properties(change.dispositions))
        if change.duration_seconds is not None:
            props["hs_call_duration"] = str(max(0, change.duration_seconds) * 1000)
        recording = self._recording(change.recording_url)
        if recording:
            props["hs_call_recording_url"] = recording
        return props

    def _disposition_properties(self, values: Mapping[str, FieldValue]) -> dict[str, str]:
        props: dict[str, str] = {}
        for key, value in values.items():
            if key != "outcome":
                raise ValidationError(f"HubSpot has no log page field {key!r}.", field=key)
            if value is not None and not isinstance(value, str):
                raise ValidationError("The call outcome must be one of the listed outcomes.", field=key)
            props["hs_call_disposition"] = value or ""  # an empty string clears the property
        return props

    def _patch(self, ref: CallLogRef, props: dict[str, str]) -> StoredCallLog:
        raw = self._request("PATCH", f"/crm/v3/objects/calls/{ref.log_id}", json={"properties": props})
        if not isinstance(raw, dict):
            raise self._malformed("the updated call")
        record = self._known.get(ref.log_id)
        if record is None:
            # Nothing read yet in this instance: one GET gives the whole record.
            return self.get_call_log(ref)
        merged = dict(record["properties"])
        merged.update(props)
        if isinstance(raw.get("properties"), dict):
            merged.update({k: v for k, v in raw["properties"].items() if v is not None or k in props})
        record["properties"] = merged
        record["updatedAt"] = raw.get("updatedAt") or record.get("updatedAt")
        return self._stored(ref, ref.log_id)

    @vendor_shape(CRM)
    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        """One ``PATCH`` with only the properties ``change`` sets.

        ``expected_version`` is not enforced: HubSpot has no conditional writes. The returned
        record merges the PATCH answer into what this instance last read, so the engine's
        read → substitute → write costs one read and one write.
        """
        props = self._properties_for(change)
        if not props:
            return self.get_call_log(ref)
        return self._patch(ref, props)

    @vendor_shape(CRM)
    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        """Sets the call outcome (``hs_call_disposition``); the note is not touched."""
        props = self._disposition_properties(values)
        if props:
            self._patch(ref, props)

    @vendor_shape(CRM)
    def find_call_log(self, call: Call) -> CallLogRef | None:
        """The call whose ``hs_call_external_id`` is this call's session id.

        First one call search. HubSpot's search index lags a few seconds behind writes, so when
        the search finds nothing, the calls associated with the contacts having the caller's
        number are read directly (associations and batch reads are not eventually consistent):
        one contact search, one association read per contact (at most
        :data:`RECOVERY_CONTACTS`) and one batch read. A create that reached HubSpot just before a
        crash is therefore found at once, and a call is never logged twice.
        """
        found = self._search_call(call)
        if found is not None:
            return found
        return self._find_through_contacts(call)

    def _find_through_contacts(self, call: Call) -> CallLogRef | None:
        account = _agent_extension(call)
        number = call.remote.phone_number
        if not number:
            return None
        call_ids: list[str] = []
        for item in self._search_contacts(number)[:RECOVERY_CONTACTS]:
            raw = self._request(
                "GET", f"/crm/v3/objects/contacts/{item['id']}/associations/calls", params={"limit": 500}
            )
            results = raw.get("results") if isinstance(raw, dict) else None
            if not isinstance(results, list):
                raise self._malformed("the contact's calls")
            call_ids += [id_of(r, crm=CRM) for r in results if isinstance(r, dict) and r.get("id")]
        # The most recent calls have the highest ids; one batch read takes 100.
        recent = sorted(set(call_ids), key=lambda x: (len(x), x))[-100:]
        if not recent:
            return None
        raw = self._request(
            "POST",
            "/crm/v3/objects/calls/batch/read",
            json={
                "properties": ["hs_call_external_id", "hs_call_external_account_id"],
                "inputs": [{"id": i} for i in recent],
            },
        )
        results = raw.get("results") if isinstance(raw, dict) else None
        if not isinstance(results, list):
            raise self._malformed("the batch of calls")
        matches = sorted(
            (
                id_of(r, crm=CRM)
                for r in results
                if isinstance(r, dict)
                and isinstance(r.get("properties"), dict)
                and text_of(r["properties"], "hs_call_external_id", crm=CRM) == call.session_id
                and text_of(r["properties"], "hs_call_external_account_id", crm=CRM) in (None, "", account)
            ),
            key=lambda x: (len(x), x),
        )
        return CallLogRef(adapter_id=self.manifest.id, log_id=matches[0]) if matches else None

    def _search_call(self, call: Call) -> CallLogRef | None:
        filters = [{"propertyName": "hs_call_external_id", "operator": "EQ", "value": call.session_id}]
        account = _agent_extension(call)
        if account:
            filters.append({"propertyName": "hs_call_external_account_id", "operator": "EQ", "value": account})
        body = {
            "filterGroups": [{"filters": filters}],
            "properties": ["hs_call_external_id", "hs_call_external_account_id"],
            "limit": 10,
        }
        raw = self._request("POST", "/crm/v3/objects/calls/search", bucket="search", json=body)
        results = raw.get("results") if isinstance(raw, dict) else None
        if not isinstance(results, list):
            raise self._malformed("the call search results")
        ids = sorted(
            (id_of(item, crm=CRM) for item in results if isinstance(item, dict) and item.get("id")),
            key=lambda x: (len(x), x),
        )
        if not ids:
            return None
        return CallLogRef(adapter_id=self.manifest.id, log_id=ids[0])

    def close(self) -> None:
        if self._owns_client:
            self._client.close()


__all__ = ["DEFAULT_OUTCOMES", "HubSpotAdapter", "call_status", "parse_hubspot_error"]
