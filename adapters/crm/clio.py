# SPDX-License-Identifier: MIT
"""Clio Manage (API v4): calls logged as phone communications, with an optional time entry.

Sign-in is OAuth 2.0 authorization code in the system browser with a loopback redirect
(:func:`sign_in`; a PKCE challenge is sent too). Clio insists on a confidential client, so the
user registers their own Clio developer application and enters its client id and secret, which
are kept in the keyring with the tokens. Each region is a separate host with separate
applications: ``app.clio.com`` (US), ``eu.app.clio.com``, ``ca.app.clio.com``, ``au.app.clio.com``.
Access tokens last 30 days and are refreshed ahead of expiry; refresh tokens do not rotate.

Where call data goes:

==========================  ================================================================
communication ``subject``   the log subject (255 characters)
communication ``body``      the note, plain text ([V] 50,000 characters: Clio documents no limit)
``received_at``             the call's start
``senders``/``receivers``   the direction: the contact calls the signed-in user, or the reverse
``matter``                  the matter chosen on the log page (a contact-dependent field)
TimeEntry activity          ``quantity`` = the call's final duration in seconds, ``non_billable``
                            per the log page, linked to the communication and the matter
==========================  ================================================================

The time entry is created once, with the call's final duration: at once for a call that ended,
else by the update that brings the final duration (a call logged at connect). Until then the
choice waits in the log's version (``<ETag>#te=billable``); once created, the version names the
entry (``<ETag>#te=billable:<id>:<seconds>``), so updates neither read nor touch it unless the
duration, the time entry choice or the matter changes. A version without that part (a log found
after a crash) has the entry read when it matters.

Clio has no duration, outcome or recording fields on a communication: those stay in the note,
written by the engine.

Dispositions: ``matter`` (options in ``Contact.options["matter"]``: open and pending matters
where the contact is the client or a related party) and ``time_entry`` (``billable``,
``non_billable`` or ``none``). Choosing ``none`` later deletes the time entry.

Concurrency: every write of the communication with ``expected_version`` (its ETag) carries
``If-Match``; Clio answers 412 when someone changed the record since it was read, which becomes
:class:`ConflictError` and nothing is overwritten. ``CallLogRef.version`` is the ETag, followed by
what the adapter knows of the time entry (above); ``If-Match`` carries the ETag alone.

Crash recovery (:meth:`ClioAdapter.find_call_log`): communications of type PhoneCommunication
received at the call's start second ([V] ``received_since``/``received_before``), where the
signed-in user is on the side the direction says; if several remain, the one whose body contains
the RingCentral session id (the note's "Session id" line) wins.

Phone search: Clio's ``query`` matches the stored text, so several notations from
:func:`adapters.phone.search_candidates` are tried (plus the user's own masks, setting
``phone_formats``, ``;``-separated). A notation that contains another one already queried is
skipped ([V]: Clio's wildcard query matches substrings), and every hit is checked to really
carry the number.

Rate limits: ``X-RateLimit-Remaining``/``-Reset`` on each answer and 429 ``Retry-After`` pause
later requests; a pause of up to two seconds is waited out, a longer one raises
:class:`RateLimited` without sending.

Threading contract: one worker thread at a time per instance (see :mod:`adapters.base`).
Nothing here touches Qt.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from adapters import oauth
from adapters.base import (
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
    NotFound,
    OAuthSpec,
    PageField,
    PageFieldKind,
    SecretsSaver,
    UrlTemplates,
    ValidationError,
    phone_settings,
)
from adapters.http import json_body
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
from adapters.oauth_session import OAuthSession
from adapters.phone import digits_only, same_number, search_candidates
from adapters.throttle import Throttle
from adapters.vendor_shape import id_of, text_of

log = logging.getLogger(__name__)

NAME = "Clio"
API_PATH = "/api/v4"

#: Region hosts. Each region needs its own Clio developer application.
REGIONS: dict[str, str] = {
    "us": "https://app.clio.com",
    "eu": "https://eu.app.clio.com",
    "ca": "https://ca.app.clio.com",
    "au": "https://au.app.clio.com",
}
DEFAULT_REDIRECT_PORT = 53692

_MIN_QUERY_DIGITS = 7

TIME_BILLABLE = "billable"
TIME_NON_BILLABLE = "non_billable"
TIME_NONE = "none"

_COMMUNICATION_FIELDS = (
    "id,etag,type,subject,body,received_at,updated_at,matter{id,display_number},senders{id,type,name},"
    "receivers{id,type,name}"
)
_ACTIVITY_FIELDS = "id,etag,quantity,non_billable,matter{id}"

MANIFEST = Manifest(
    id="clio",
    name=NAME,
    log_format="text/plain",
    auth=AuthSpec(
        kind=AuthKind.OAUTH_PKCE,
        fields=[
            AuthField(
                key="region", label="Region", default="us", help="us, eu, ca or au: where your Clio account lives."
            ),
            AuthField(
                key="client_id",
                label="App key",
                secret=True,
                help="From your Clio developer application (Settings → Developer applications), with the "
                f"redirect URI http://127.0.0.1:{DEFAULT_REDIRECT_PORT}/callback.",
            ),
            AuthField(key="client_secret", label="App secret", secret=True, help="The same application's secret."),
            AuthField(
                key="phone_formats",
                label="Phone formats",
                required=False,
                placeholder="(###) ###-####",
                help="How your firm writes phone numbers, # for a digit; separate several with ';'.",
            ),
        ],
        oauth=OAuthSpec(
            authorize_url="https://app.clio.com/oauth/authorize",
            token_url="https://app.clio.com/oauth/token",  # noqa: S106 (a URL)
            revoke_url="https://app.clio.com/oauth/deauthorize",
            needs_client_secret=True,
        ),
    ),
    page_fields=[
        PageField(
            id="matter",
            label="Matter",
            kind=PageFieldKind.SELECTION,
            contact_dependent=True,
            help="Open and pending matters of the chosen contact.",
        ),
        PageField(
            id="time_entry",
            label="Time entry",
            kind=PageFieldKind.SELECTION,
            options=[
                Option(id=TIME_BILLABLE, label="Log billable time"),
                Option(id=TIME_NON_BILLABLE, label="Log non-billable time"),
                Option(id=TIME_NONE, label="Do not log time"),
            ],
            defaults={"*": TIME_BILLABLE},
            help="Records the call's duration as a time entry on the matter.",
        ),
    ],
    limits=FieldLimits(subject_chars=255, body=50_000, body_unit="chars"),
    capabilities=Capabilities(find_by_session_id=True, versioned_writes=True),
    urls=UrlTemplates(open_log="https://app.clio.com/nc/#/communications/{log_id}"),
)


#: Where a version this adapter reports says what it knows of the call's time entry:
#: ``<ETag>#te=<choice>[:<entry id>:<seconds>]``. Only the ETag part goes into ``If-Match``.
_TE_MARK = "#te="


@dataclass(frozen=True)
class _TimeEntry:
    """What the adapter knows of a communication's time entry (carried in the log's version).

    Attributes:
        choice: ``billable``, ``non_billable`` or ``none``; None: not known (it must be read).
        entry_id: the time entry, once it exists. A billable or non-billable choice without one
            waits for the call's final duration: the entry is created with it, never before.
        quantity: its seconds, when known.
    """

    choice: str | None = None
    entry_id: str | None = None
    quantity: int | None = None

    @property
    def unknown(self) -> bool:
        return self.choice is None

    def version(self, etag: str | None) -> str | None:
        if etag is None or self.choice is None:
            return etag
        state = self.choice if self.entry_id is None else f"{self.choice}:{self.entry_id}:{self.quantity or 0}"
        return f"{etag}{_TE_MARK}{state}"

    @staticmethod
    def etag_of(version: str | None) -> str | None:
        if not version:
            return None
        etag, mark, _ = version.rpartition(_TE_MARK)
        return (etag if mark else version) or None

    @classmethod
    def parse(cls, version: str | None) -> _TimeEntry:
        _, mark, state = (version or "").rpartition(_TE_MARK)
        choice, _, rest = state.partition(":")
        entry_id, _, quantity = rest.partition(":")
        if not mark or choice not in (TIME_BILLABLE, TIME_NON_BILLABLE, TIME_NONE):
            return cls()
        if choice == TIME_NONE:
            return cls(choice=TIME_NONE)
        if not entry_id:
            return cls(choice=choice)
        if not (entry_id.isdigit() and quantity.isdigit()):
            return cls()
        return cls(choice=choice, entry_id=entry_id, quantity=int(quantity))

    @classmethod
    def of(cls, raw: Mapping[str, Any] | None) -> _TimeEntry:
        """From Clio's time entry as read (None: the communication has none)."""
        if raw is None:
            return cls(choice=TIME_NONE)
        if raw.get("id") is None:
            return cls()
        quantity = raw.get("quantity")
        return cls(
            choice=TIME_NON_BILLABLE if raw.get("non_billable") else TIME_BILLABLE,
            entry_id=str(raw["id"]),
            quantity=int(quantity) if isinstance(quantity, int | float) else None,
        )


def host_for(settings: Mapping[str, str]) -> str:
    """The region host (``base_url`` overrides it, for a fake server)."""
    if settings.get("base_url"):
        return settings["base_url"].rstrip("/")
    region = (settings.get("region") or "us").strip().lower()
    if region not in REGIONS:
        raise ValidationError(f"Unknown Clio region {region!r}. Use one of: {', '.join(REGIONS)}.", field="region")
    return REGIONS[region]


def oauth_endpoints(settings: Mapping[str, str], secrets: Mapping[str, str]) -> oauth.OAuthEndpoints:
    """The user's own Clio application in the connection's region."""
    client_id = (secrets.get("client_id") or "").strip()
    client_secret = (secrets.get("client_secret") or "").strip()
    if not client_id or not client_secret:
        raise AuthError("Enter your Clio application's key and secret in Settings before connecting.")
    host = host_for(settings)
    return oauth.OAuthEndpoints(
        authorize_url=f"{host}/oauth/authorize",
        token_url=f"{host}/oauth/token",
        revoke_url=f"{host}/oauth/deauthorize",
        client_id=client_id,
        client_secret=client_secret,
        secret_in_body=True,
    )


def sign_in(
    settings: Mapping[str, str],
    http: httpx.Client,
    *,
    open_url: Callable[[str], None],
    port: int | None = None,
    timeout: float = 300.0,
    clock: Callable[[], float] = time.time,
    on_receiver: Callable[[oauth.LoopbackReceiver], None] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Signs in through the system browser; returns the secrets to keep (``{"tokens": ...}``).

    Same shape as the other OAuth adapters' ``sign_in``. Blocks until the user finishes: call it
    on a worker thread.

    Args:
        settings: ``region`` (or ``base_url``); may also carry ``client_id``/``client_secret``.
        http: used for the code exchange.
        open_url: opens the authorize URL in the system browser.
        port: the loopback port registered with the application (``0``: any free port).
        timeout: seconds the user has to finish in the browser.
        clock: UNIX seconds, for token expiry.
        on_receiver: receives the redirect listener, so the UI can offer Cancel.
        secrets: ``client_id`` and ``client_secret`` of the user's Clio application (from the
            keyring); they win over the same keys in ``settings``.

    Raises:
        AuthError: declined, timed out, wrong application secret, or Clio refused the code.
    """
    credentials = {**settings, **(secrets or {})}
    tokens = oauth.sign_in(
        oauth_endpoints(settings, credentials),
        http,
        open_url=open_url,
        port=DEFAULT_REDIRECT_PORT if port is None else port,
        timeout=timeout,
        clock=clock,
        vendor=NAME,
        on_receiver=on_receiver,
    )
    return tokens.to_secrets()


def clio_error_parser(raw_body: Any) -> tuple[str | None, str | None]:
    """``("Type: message", None)`` from Clio's ``{"error": {"type", "message"}}``."""
    if isinstance(raw_body, dict):
        raw_error = raw_body.get("error")
        if isinstance(raw_error, dict):
            kind, message = raw_error.get("type"), raw_error.get("message")
            text = ": ".join(str(x) for x in (kind, message) if x)
            return text or None, None
        if isinstance(raw_error, str):
            return str(raw_body.get("error_description") or raw_error), None
    return None, None


def reduce_candidates(candidates: list[str]) -> list[str]:
    """Drops notations that contain one already kept: a substring query finds them too."""
    kept: list[str] = []
    for candidate in sorted(dict.fromkeys(candidates), key=len):
        if not any(k in candidate for k in kept):
            kept.append(candidate)
    order = {c: i for i, c in enumerate(candidates)}
    return sorted(kept, key=lambda c: order[c])


def _matter_id(value: FieldValue) -> int:
    text = str(value).strip()
    if not text.isdigit():
        raise ValidationError(f"{text!r} is not a {NAME} matter.", field="matter")
    return int(text)


def _iso(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class ClioAdapter:
    """One Clio account.

    Args:
        connection: ``settings`` with ``region`` (or ``base_url``), optional ``phone_formats``
            and ``phone_region`` (two-letter country for numbers without a country code);
            ``secrets`` with ``client_id``, ``client_secret`` and ``tokens`` (from :func:`sign_in`).
        client: the HTTP client (tests inject one over a fake server).
        save_secrets: persists refreshed tokens (``{"tokens": ...}``) before they are used.
        clock: UNIX seconds (token expiry, rate-limit pauses).
        sleep: waits out short rate-limit pauses.

    Threading contract: see the module docstring.
    """

    manifest: ClassVar[Manifest] = MANIFEST

    def __init__(
        self,
        connection: Connection,
        *,
        client: httpx.Client | None = None,
        save_secrets: SecretsSaver | None = None,
        clock: Callable[[], float] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._settings = dict(connection.settings)
        self._secrets = {k: v for k, v in connection.secrets.items() if k in ("client_id", "client_secret")}
        self._host = host_for(self._settings)
        self._clock = clock or time.time
        own_formats = self._settings.get("phone_formats", "")
        self._country, self._patterns = phone_settings(self._settings, extra_patterns=own_formats)
        self._throttle = Throttle(clock=self._clock, sleep=sleep, max_wait=2.0)
        self._oauth = OAuthSession(
            NAME,
            connection.secrets,
            endpoints=self._endpoints,
            client=client,
            save_secrets=save_secrets,
            clock=self._clock,
            throttle=self._throttle,
        )
        self._tokens = self._oauth.manager
        self._me: dict[str, Any] | None = None

    # --- auth ------------------------------------------------------------------------------

    def _endpoints(self) -> oauth.OAuthEndpoints:
        return oauth_endpoints(self._settings, self._secrets)

    def sign_out(self) -> None:
        """Deauthorizes the token at Clio (best effort) and forgets it."""
        self._oauth.sign_out()

    # --- requests --------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, url: str | None = None, **kwargs: Any) -> httpx.Response:
        """One authorised request to ``path`` on the region host (or to a full ``url``, for paging)."""
        response = self._oauth.send(method, url or f"{self._host}{API_PATH}{path}", parse=clio_error_parser, **kwargs)
        self._note_budget(response)
        return response

    def _note_budget(self, response: httpx.Response) -> None:
        """Pause later requests when Clio says the window's budget is spent."""
        remaining = response.headers.get("X-RateLimit-Remaining")
        reset = response.headers.get("X-RateLimit-Reset")
        if remaining is None or reset is None:
            return
        try:
            if int(remaining) <= 0:
                self._throttle.block_for(max(0.0, float(reset) - self._clock()))
        except ValueError:
            return

    def _data(self, response: httpx.Response) -> Any:
        raw_body = json_body(response, crm=NAME)
        if not isinstance(raw_body, dict) or "data" not in raw_body:
            raise MalformedResponse(f"{NAME} sent an answer without its data.", status=response.status_code)
        return raw_body["data"]

    def _object(self, response: httpx.Response) -> dict[str, Any]:
        data = self._data(response)
        if not isinstance(data, dict) or "id" not in data:
            raise MalformedResponse(f"{NAME} sent a record without an id.", status=response.status_code)
        return data

    def _pages(self, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        """Every record of a list, following ``meta.paging.next``."""
        response = self._request("GET", path, params=params)
        for _ in range(50):
            raw_body = json_body(response, crm=NAME)
            data = raw_body.get("data") if isinstance(raw_body, dict) else None
            if not isinstance(data, list):
                raise MalformedResponse(f"{NAME} sent a list answer without its data.", status=response.status_code)
            yield from (r for r in data if isinstance(r, dict))
            meta = raw_body.get("meta")
            paging = meta.get("paging") if isinstance(meta, dict) else None
            nxt = paging.get("next") if isinstance(paging, dict) else None
            if not isinstance(nxt, str) or not nxt:
                return
            response = self._request("GET", "", url=nxt)

    # --- CrmAdapter --------------------------------------------------------------------------

    def _whoami(self) -> dict[str, Any]:
        if self._me is None:
            self._me = self._object(
                self._request("GET", "/users/who_am_i.json", params={"fields": "id,name,email,time_zone"})
            )
        return self._me

    def _zone(self) -> tzinfo:
        """The signed-in user's time zone in Clio (time entries are dated in it); UTC if unknown."""
        name = self._whoami().get("time_zone")
        try:
            return ZoneInfo(str(name)) if name else UTC
        except (ZoneInfoNotFoundError, ValueError):
            return UTC

    def verify(self) -> str:
        me = self._whoami()
        name, email = str(me.get("name") or "").strip(), str(me.get("email") or "").strip()
        return f"{name} <{email}>" if name and email else (name or email or str(me["id"]))

    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        if is_extension:
            return []  # Clio users have no extension numbers to search.
        # A short query would match half the firm through Clio's substring search: only notations
        # with at least 7 digits are sent.
        candidates = search_candidates(phone, region=self._country, patterns=self._patterns)
        queries = reduce_candidates([q for q in candidates if len(digits_only(q)) >= _MIN_QUERY_DIGITS])
        found: dict[str, Contact] = {}
        fields = "id,name,type,primary_phone_number,phone_numbers{number},company{name},created_at"
        for query in queries:
            for raw_contact in self._pages("/contacts.json", {"query": query, "fields": fields, "limit": "200"}):
                numbers = [text_of(p, "number", crm=NAME) for p in raw_contact.get("phone_numbers") or []
                           if isinstance(p, dict)]
                numbers.append(text_of(raw_contact, "primary_phone_number", crm=NAME))
                match = next((n for n in numbers if n is not None and same_number(n, phone, self._country)), None)
                cid = id_of(raw_contact, crm=NAME, numeric=True)
                if match is None or cid in found:
                    continue
                company = raw_contact.get("company")
                found[cid] = Contact(
                    id=cid,
                    name=(text_of(raw_contact, "name", crm=NAME) or "").strip() or "(no name)",
                    phone=match,
                    type=str(raw_contact.get("type") or "Person"),
                    company=str(company.get("name")) if isinstance(company, dict) and company.get("name") else None,
                    created_at=_parse_time(raw_contact.get("created_at")),
                )
        for contact in found.values():
            contact.options["matter"] = self._matters(contact.id)
        return list(found.values())

    def _matters(self, contact_id: str) -> list[Option]:
        """Open and pending matters where the contact is the client or a related party."""
        show_closed = self._settings.get("show_closed_matters", "").lower() in ("1", "true", "yes")
        options: dict[str, Option] = {}

        def add(raw_matter: Any) -> None:
            if not isinstance(raw_matter, dict) or raw_matter.get("id") is None:
                return
            status = str(raw_matter.get("status") or "")
            if status.lower() == "closed" and not show_closed:
                return
            label = str(raw_matter.get("display_number") or raw_matter["id"])
            if raw_matter.get("description"):
                label = f"{label} — {raw_matter['description']}"
            options.setdefault(str(raw_matter["id"]), Option(id=str(raw_matter["id"]), label=label))

        fields = "id,display_number,description,status"
        for raw_matter in self._pages("/matters.json", {"client_id": contact_id, "fields": fields, "limit": "200"}):
            add(raw_matter)
        params = {"contact_id": contact_id, "fields": f"id,matter{{{fields}}}", "limit": "200"}
        for raw_relationship in self._pages("/relationships.json", params):
            add(raw_relationship.get("matter"))
        return list(options.values())

    def _parties(self, call: Call, contact_id: str) -> dict[str, list[dict[str, Any]]]:
        me = {"id": int(self._whoami()["id"]), "type": "User"}
        them = {"id": int(contact_id), "type": "Contact"}
        if call.direction is Direction.INBOUND:
            return {"senders": [them], "receivers": [me]}
        return {"senders": [me], "receivers": [them]}

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        """The phone communication, and its time entry once the call's final duration is known:
        now for a call that ended, with the update that brings the duration for a call still going
        on (the choice waits in the version, so it survives a restart)."""
        if not contact.id.isdigit():
            raise ValidationError(f"{contact.id!r} is not a {NAME} contact id.", field="contact")
        values = dict(entry.dispositions)
        matter = values.get("matter")
        matter_ref = {"id": _matter_id(matter)} if matter not in (None, "", False) else None
        raw_data: dict[str, Any] = {
            "type": "PhoneCommunication",
            "subject": entry.subject,
            "body": entry.body,
            "received_at": _iso(call.start_time),
            **self._parties(call, contact.id),
        }
        if matter_ref is not None:
            raw_data["matter"] = matter_ref
        response = self._request("POST", "/communications.json", params={"fields": "id,etag"}, json={"data": raw_data})
        created = self._object(response)
        log_id = str(created["id"])
        etag = str(created.get("etag") or response.headers.get("ETag") or "") or None
        choice = values.get("time_entry", self._settings.get("time_entry_default", TIME_BILLABLE))
        entry_state = _TimeEntry(choice=TIME_NONE)
        if choice in (TIME_BILLABLE, TIME_NON_BILLABLE):
            entry_state = _TimeEntry(choice=str(choice))
            final = entry.duration_seconds is not None or (
                call.duration is not None and (call.result or "").lower() != "in progress"
            )
            if final:
                duration = entry.duration_seconds if entry.duration_seconds is not None else call.duration
                try:
                    entry_state = self._create_time_entry(
                        log_id,
                        quantity=duration or 0,
                        billable=choice == TIME_BILLABLE,
                        matter=raw_data.get("matter"),
                        note=entry.subject,
                        day=call.start_time,
                    )
                except AdapterError as exc:
                    # The communication exists: report the log as created (a retry must not log the call
                    # twice); the time entry can be added from the log page.
                    log.warning("Clio logged the call but refused its time entry: %s", exc)
                    entry_state = _TimeEntry()
        return CallLogRef(
            adapter_id=MANIFEST.id, log_id=log_id, contact_id=contact.id, version=entry_state.version(etag)
        )

    def _create_time_entry(
        self, log_id: str, *, quantity: int, billable: bool, matter: Any, note: str, day: datetime
    ) -> _TimeEntry:
        raw_data: dict[str, Any] = {
            "type": "TimeEntry",
            "date": day.astimezone(self._zone()).date().isoformat(),
            "quantity": int(quantity),
            "non_billable": not billable,
            "note": note,
            "communication": {"id": int(log_id)},
        }
        if matter:
            raw_data["matter"] = matter
        response = self._request("POST", "/activities.json", params={"fields": "id,etag"}, json={"data": raw_data})
        created = self._object(response)
        return _TimeEntry(
            choice=TIME_BILLABLE if billable else TIME_NON_BILLABLE, entry_id=str(created["id"]), quantity=int(quantity)
        )

    def _time_entry(self, log_id: str) -> dict[str, Any] | None:
        params = {"communication_id": log_id, "type": "TimeEntry", "fields": _ACTIVITY_FIELDS, "limit": "200"}
        return next(iter(self._pages("/activities.json", params)), None)

    def _read(self, log_id: str) -> httpx.Response:
        if not log_id.isdigit():
            raise NotFound(f"{NAME} has no communication {log_id!r}.")
        return self._request("GET", f"/communications/{log_id}.json", params={"fields": _COMMUNICATION_FIELDS})

    def _stored(self, ref: CallLogRef, response: httpx.Response, entry_state: _TimeEntry) -> StoredCallLog:
        raw = self._object(response)
        contact = next(
            (
                p
                for p in (raw.get("senders") or []) + (raw.get("receivers") or [])
                if isinstance(p, dict) and p.get("type") == "Contact"
            ),
            None,
        )
        matter = raw.get("matter")
        etag = str(raw.get("etag") or response.headers.get("ETag") or "") or None
        contact_id = str(contact["id"]) if contact else None
        return StoredCallLog(
            ref=CallLogRef(
                adapter_id=MANIFEST.id,
                log_id=ref.log_id,
                contact_id=contact_id or ref.contact_id,
                version=entry_state.version(etag),
            ),
            subject=text_of(raw, "subject", crm=NAME) or "",
            body=text_of(raw, "body", crm=NAME) or "",
            dispositions={
                "matter": str(matter["id"]) if isinstance(matter, dict) and matter.get("id") is not None else None,
                "time_entry": entry_state.choice or TIME_NONE,
            },
            contact_id=contact_id,
            contact_name=str(contact.get("name")) if contact and contact.get("name") else None,
            duration_seconds=entry_state.quantity,
            modified_at=_parse_time(raw.get("updated_at")),
        )

    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        response = self._read(ref.log_id)
        found = _TimeEntry.of(self._time_entry(ref.log_id))
        if found.choice == TIME_NONE:
            # None yet: one may still wait for the call's final duration.
            waiting = _TimeEntry.parse(ref.version)
            if waiting.entry_id is None and waiting.choice in (TIME_BILLABLE, TIME_NON_BILLABLE):
                found = waiting
        return self._stored(ref, response, found)

    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        """Writes only what ``change`` sets; with ``expected_version`` the write carries ``If-Match``.

        The time entry is written only when the change concerns it (the duration, the time entry
        choice, the matter): created with the final duration if it waited for it, or updated. What
        the version says about it spares reading it; a version without that reads it.

        Raises:
            ConflictError: the communication changed since ``expected_version`` was read (412).
        """
        if not ref.log_id.isdigit():
            raise NotFound(f"{NAME} has no communication {ref.log_id!r}.")
        raw_data: dict[str, Any] = {}
        if change.subject is not None:
            raw_data["subject"] = change.subject
        if change.body is not None:
            raw_data["body"] = change.body
        values = change.dispositions or {}
        if "matter" in values:
            matter = values["matter"]
            raw_data["matter"] = {"id": _matter_id(matter)} if matter not in (None, "", False) else None
        entry_state = _TimeEntry.parse(expected_version or ref.version)
        response: httpx.Response | None = None
        if raw_data:
            etag = _TimeEntry.etag_of(expected_version)
            headers = {"If-Match": etag} if etag else {}
            response = self._request(
                "PATCH",
                f"/communications/{ref.log_id}.json",
                params={"fields": _COMMUNICATION_FIELDS},
                json={"data": raw_data},
                headers=headers,
            )
        if change.duration_seconds is not None or "time_entry" in values or "matter" in raw_data:
            if entry_state.unknown:
                entry_state = _TimeEntry.of(self._time_entry(ref.log_id))
            if response is None and (entry_state.entry_id is None or "matter" in raw_data):
                response = self._read(ref.log_id)  # the subject, day and matter a new entry takes
            entry_state = self._sync_time_entry(ref, response, entry_state, change, values, raw_data.get("matter", ...))
        if response is None:
            response = self._read(ref.log_id)
        return self._stored(ref, response, entry_state)

    def _sync_time_entry(
        self,
        ref: CallLogRef,
        response: httpx.Response | None,
        entry_state: _TimeEntry,
        change: LogUpdate,
        values: Mapping[str, FieldValue],
        matter: Any,
    ) -> _TimeEntry:
        """Brings the time entry in line with the change; returns what is known of it now."""
        choice = values.get("time_entry")
        if choice == TIME_NONE:
            if entry_state.entry_id is not None:
                self._request("DELETE", f"/activities/{entry_state.entry_id}.json")
            return _TimeEntry(choice=TIME_NONE)
        if entry_state.entry_id is None:
            wanted = choice if choice in (TIME_BILLABLE, TIME_NON_BILLABLE) else entry_state.choice
            if wanted not in (TIME_BILLABLE, TIME_NON_BILLABLE):
                return _TimeEntry(choice=TIME_NONE)
            if change.duration_seconds is None and choice is None:
                return entry_state  # still waiting for the final duration
            raw = self._object(response) if response is not None else {}
            current_matter = raw.get("matter") if matter is ... else matter
            return self._create_time_entry(
                ref.log_id,
                quantity=change.duration_seconds or 0,
                billable=wanted == TIME_BILLABLE,
                matter={"id": current_matter["id"]} if isinstance(current_matter, dict) else None,
                note=str(raw.get("subject") or ""),
                day=_parse_time(raw.get("received_at")) or datetime.now(UTC),
            )
        raw_change: dict[str, Any] = {}
        if change.duration_seconds is not None and entry_state.quantity != change.duration_seconds:
            raw_change["quantity"] = int(change.duration_seconds)
        if choice in (TIME_BILLABLE, TIME_NON_BILLABLE) and entry_state.choice != choice:
            raw_change["non_billable"] = choice == TIME_NON_BILLABLE
        if matter is not ...:
            raw_change["matter"] = matter
        if not raw_change:
            return entry_state
        answer = self._request(
            "PATCH",
            f"/activities/{entry_state.entry_id}.json",
            params={"fields": _ACTIVITY_FIELDS},
            json={"data": raw_change},
        )
        return _TimeEntry.of(self._object(answer))

    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        self.update_call_log(ref, LogUpdate(dispositions=dict(values)))

    def find_call_log(self, call: Call) -> CallLogRef | None:
        start = _iso(call.start_time)
        me = str(self._whoami()["id"])
        params = {
            "type": "PhoneCommunication",
            "received_since": start,
            "received_before": start,
            "user_id": me,
            "fields": "id,etag,body,received_at,senders{id,type},receivers{id,type}",
            "limit": "200",
        }
        my_side = "receivers" if call.direction is Direction.INBOUND else "senders"
        candidates = []
        for raw in self._pages("/communications.json", params):
            when = _parse_time(text_of(raw, "received_at", crm=NAME))
            if when is None or _iso(when) != start:
                continue
            if not any(
                isinstance(p, dict) and p.get("type") == "User" and str(p.get("id")) == me
                for p in raw.get(my_side) or []
            ):
                continue
            candidates.append(raw)
        if len(candidates) > 1:
            marked = [r for r in candidates if call.session_id and call.session_id in str(r.get("body") or "")]
            candidates = marked or sorted(candidates, key=lambda r: int(r["id"]))
        if not candidates:
            return None
        chosen = candidates[0]
        contact = next(
            (
                p
                for p in (chosen.get("senders") or []) + (chosen.get("receivers") or [])
                if isinstance(p, dict) and p.get("type") == "Contact"
            ),
            None,
        )
        return CallLogRef(
            adapter_id=MANIFEST.id,
            log_id=str(chosen["id"]),
            contact_id=str(contact["id"]) if contact else None,
            version=str(chosen.get("etag") or "") or None,
        )

    def close(self) -> None:
        self._oauth.close()
