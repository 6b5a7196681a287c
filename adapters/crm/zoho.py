# SPDX-License-Identifier: MIT
"""Zoho CRM (REST API v8): calls logged as records of the ``Calls`` module.

Sign-in is OAuth 2.0 authorization code + PKCE in the system browser with a loopback redirect
(:func:`sign_in`), starting at the accounts server of the data centre the user picked; the code is
exchanged, and later refreshed, at the account's own accounts server that Zoho names in the
redirect (``accounts-server``, checked against the known data centres); API requests go to the
``api_domain`` the token response names (``https://www.zohoapis.eu`` for an EU account), with
``Authorization: Zoho-oauthtoken <token>``. Access tokens live an hour and are refreshed ahead of
expiry by :class:`adapters.oauth.TokenManager`; Zoho does not rotate refresh tokens.

Where call data goes (structured fields, the composed note in ``Description``):

=====================  =====================================================================
``Subject``            the log subject (255 characters)
``Description``        the note, plain text (32,000 characters)
``Call_Type``          ``Inbound`` / ``Outbound`` / ``Missed``; Zoho refuses to change it later
``Call_Start_Time``    the call's start, ISO 8601 with offset, to the second
``Call_Duration``      ``mm:ss`` (minutes may exceed 59); mandatory for completed calls ([V]:
                       Zoho's docs also mention ``hh:mm``; Bigin documents ``mm:ss``)
``Call_Result``        the disposition, from the org's own picklist (field metadata)
``Voice_Recording__s`` the recording link, when it fits the 255-character URL field
``Caller_ID`` /        the other party's number (inbound / outbound)
``Dialled_Number``
``Who_Id``             the contact; a lead goes in ``What_Id`` with ``$se_module: Leads``
``What_Id``            the related deal (``$se_module: Deals``) chosen on the log page
=====================  =====================================================================

Dispositions: ``call_result`` and ``deal``. Their options are loaded at run time: the org's
``Call_Result`` picklist (fetched once per adapter from ``/settings/fields``) through
:meth:`ZohoAdapter.page_fields` and, like the contact's open deals, in ``Contact.options`` from
:meth:`ZohoAdapter.find_contact` (so the static manifest declares both contact-dependent).

Concurrency: Zoho has no write precondition (no ETag, no If-Match). The version this adapter
reports is ``Modified_Time`` plus a digest of ``Subject`` and ``Description``, so an edit made in
the same second is still seen. :meth:`ZohoAdapter.update_call_log` with ``expected_version``
re-reads the record immediately before the ``PUT`` and raises :class:`ConflictError` when it
changed; the remaining window in which a person's edit can be overwritten is the one round trip
between that read and the write. Updates only send the fields that change, so a subject edited
in Zoho survives a note update. An update of ``Call_Duration`` and ``Voice_Recording__s`` alone,
without ``expected_version``, is one ``PUT`` without that read when this instance created or read
the record (it knows the ``Call_Type``): those fields hold the app's values, never a person's words.

Crash recovery (:meth:`ZohoAdapter.find_call_log`): the adapter writes ``Call_Start_Time`` to the
second and the other party's number; a lookup searches ``Calls`` by that start time
(``criteria``; searches send no ``fields``, which the v8 search API does not declare, and read the
whole records it returns), keeps records owned by the signed-in user with the same ``Call_Type`` and number,
and, if several remain, prefers the one whose ``Description`` contains the RingCentral session id
(the note engine's "Session id" line). No custom field is needed in the org.

Errors: every Zoho error body (top-level ``{code, details, message, status}`` or per record inside
``{"data": [...]}``) keeps its words in ``vendor_message`` as ``"CODE: message"``; 401
``INVALID_TOKEN`` triggers one refresh and retry, then asks the user to reconnect;
``OAUTH_SCOPE_MISMATCH``/``NO_PERMISSION`` are :class:`PermissionDenied`; ``TOO_MANY_REQUESTS``
and ``LIMIT_EXCEEDED`` (API credits spent) are :class:`RateLimited`, and a ``Retry-After`` pauses
every later request until it has passed.

Threading contract: one worker thread at a time per instance (see :mod:`adapters.base`); the
token manager inside is thread-safe. Nothing here touches Qt.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from adapters import oauth
from adapters.base import (
    AdapterError,
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
    OAuthSpec,
    PageField,
    PageFieldKind,
    PermissionDenied,
    RateLimited,
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
from adapters.phone import digits_only, parse
from adapters.throttle import Throttle
from adapters.vendor_shape import id_of, text_of, vendor_shape

NAME = "Zoho CRM"
API_PATH = "/crm/v8"

#: Accounts servers per data centre (the user picks theirs when connecting).
DATA_CENTRES: dict[str, str] = {
    "us": "https://accounts.zoho.com",
    "eu": "https://accounts.zoho.eu",
    "in": "https://accounts.zoho.in",
    "au": "https://accounts.zoho.com.au",
    "jp": "https://accounts.zoho.jp",
    "ca": "https://accounts.zohocloud.ca",
    "sa": "https://accounts.zoho.sa",
    "cn": "https://accounts.zoho.com.cn",
}
#: API domains per data centre, used only until a token response names the real one.
API_DOMAINS: dict[str, str] = {
    "us": "https://www.zohoapis.com",
    "eu": "https://www.zohoapis.eu",
    "in": "https://www.zohoapis.in",
    "au": "https://www.zohoapis.com.au",
    "jp": "https://www.zohoapis.jp",
    "ca": "https://www.zohoapis.ca",
    "sa": "https://www.zohoapis.sa",
    "cn": "https://www.zohoapis.com.cn",
}
SCOPES = ("ZohoCRM.modules.ALL", "ZohoCRM.settings.fields.READ", "ZohoCRM.users.READ")
DEFAULT_REDIRECT_PORT = 53691

_CALL_FIELDS = (
    "Subject,Description,Call_Type,Call_Start_Time,Call_Duration,Call_Duration_in_seconds,Call_Result,"
    "Voice_Recording__s,Caller_ID,Dialled_Number,Who_Id,What_Id,Owner,Modified_Time,Created_Time"
)
_NO_RESULT = "-None-"
_URL_CHARS = 255

MANIFEST = Manifest(
    id="zoho",
    name=NAME,
    log_format="text/plain",
    auth=AuthSpec(
        kind=AuthKind.OAUTH_PKCE,
        fields=[
            AuthField(
                key="data_centre",
                label="Data centre",
                default="us",
                help="Where your Zoho account lives: us, eu, in, au, jp, ca, sa or cn (see the address "
                "you sign in at: accounts.zoho.eu is eu).",
            ),
            AuthField(
                key="client_id",
                label="Client ID",
                help="From api-console.zoho.com: a 'Mobile-based / desktop' client with the redirect URI "
                f"http://127.0.0.1:{DEFAULT_REDIRECT_PORT}/callback.",
            ),
        ],
        oauth=OAuthSpec(
            authorize_url="https://accounts.zoho.com/oauth/v2/auth",
            token_url="https://accounts.zoho.com/oauth/v2/token",  # noqa: S106 (a URL)
            revoke_url="https://accounts.zoho.com/oauth/v2/token/revoke",
            scopes=list(SCOPES),
        ),
    ),
    page_fields=[
        PageField(
            id="call_result",
            label="Call result",
            kind=PageFieldKind.SELECTION,
            contact_dependent=True,
            help="Your organisation's Call Result values in Zoho CRM.",
        ),
        PageField(
            id="deal",
            label="Related deal",
            kind=PageFieldKind.SELECTION,
            contact_dependent=True,
            help="Open deals of the chosen contact.",
        ),
    ],
    limits=FieldLimits(subject_chars=255, body=32000, body_unit="chars"),
    capabilities=Capabilities(
        find_by_session_id=True,
        versioned_writes=True,
        update_reads_first=True,
        artifact_fields=("duration", "recording"),
    ),
    urls=UrlTemplates(open_log="https://crm.zoho.com/crm/tab/Calls/{log_id}"),
)


def accounts_url(settings: Mapping[str, str]) -> str:
    """The accounts server for the connection's data centre (``accounts_url`` overrides it)."""
    if settings.get("accounts_url"):
        return settings["accounts_url"].rstrip("/")
    dc = settings.get("data_centre", "us").strip().lower() or "us"
    if dc not in DATA_CENTRES:
        raise ValidationError(
            f"Unknown Zoho data centre {dc!r}. Use one of: {', '.join(DATA_CENTRES)}.", field="data_centre"
        )
    return DATA_CENTRES[dc]


def trusted_accounts_server(value: str, settings: Mapping[str, str]) -> str:
    """``value`` if it is a Zoho accounts server (or the configured one); :class:`AuthError` otherwise.

    The sign-in redirect names the account's own accounts server; the authorization code is only
    ever sent to a server on this list.
    """
    server = value.strip().rstrip("/")
    if server in DATA_CENTRES.values() or server == accounts_url(settings):
        return server
    raise AuthError(
        f"{NAME} sent the sign-in to an unknown server; nothing was sent there. Try again.", vendor_message=server
    )


def oauth_endpoints(settings: Mapping[str, str], *, server: str | None = None) -> oauth.OAuthEndpoints:
    """The OAuth application for this connection: a public desktop client, no secret.

    Args:
        settings: ``client_id`` and ``data_centre`` (or ``accounts_url``).
        server: the account's accounts server when known (from the sign-in redirect); else the
            chosen data centre's.
    """
    client_id = settings.get("client_id", "").strip()
    if not client_id:
        raise AuthError("Enter the Zoho client ID in Settings before connecting.")
    base = trusted_accounts_server(server, settings) if server else accounts_url(settings)
    return oauth.OAuthEndpoints(
        authorize_url=f"{base}/oauth/v2/auth",
        token_url=f"{base}/oauth/v2/token",
        revoke_url=f"{base}/oauth/v2/token/revoke",
        client_id=client_id,
        scopes=SCOPES,
        extra_authorize_params={"access_type": "offline", "prompt": "consent", "scope": ",".join(SCOPES)},
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
) -> dict[str, str]:
    """Signs in through the system browser; returns the secrets to keep (``{"tokens": ...}``).

    Blocks until the user finishes: call it on a worker thread.

    Args:
        settings: the connection's non-secret settings (``data_centre``, ``client_id``).
        http: used for the code exchange.
        open_url: opens the authorize URL in the system browser.
        port: the loopback port registered with the Zoho client (``0``: any free port).
        timeout: seconds the user has to finish in the browser.
        clock: UNIX seconds, for token expiry.
        on_receiver: receives the redirect listener, so the UI can offer Cancel.

    Raises:
        AuthError: declined, timed out, or Zoho refused the code (the message says what to do).
        MalformedResponse: the token response named no ``api_domain``.
    """
    endpoints = oauth_endpoints(settings)
    used = {"server": accounts_url(settings)}

    def exchange_at(redirect_params: Mapping[str, str]) -> oauth.OAuthEndpoints:
        # Zoho names the account's home accounts server in the redirect; the code is exchanged
        # (and later refreshed) there, whichever data centre the user picked.
        server = redirect_params.get("accounts-server")
        if not server:
            return endpoints
        used["server"] = trusted_accounts_server(server, settings)
        return oauth_endpoints(settings, server=used["server"])

    tokens = oauth.sign_in(
        endpoints,
        http,
        open_url=open_url,
        port=DEFAULT_REDIRECT_PORT if port is None else port,
        timeout=timeout,
        clock=clock,
        vendor=NAME,
        on_receiver=on_receiver,
        exchange_endpoints=exchange_at,
    )
    tokens = tokens.model_copy(update={"extra": {**tokens.extra, "accounts_server": used["server"]}})
    if not tokens.extra.get("api_domain"):
        raise MalformedResponse(f"{NAME} did not say which API domain serves this account (no api_domain).")
    if not tokens.refresh_token:
        raise AuthError(f"{NAME} granted no refresh token; sign in again and allow offline access.")
    return tokens.to_secrets()


def zoho_error_parser(raw_body: Any) -> tuple[str | None, str | None]:
    """``(vendor message, field)`` from a Zoho error body, top-level or per record."""
    raw_error = raw_body
    if isinstance(raw_body, dict) and isinstance(raw_body.get("data"), list):
        raw_error = next(
            (r for r in raw_body["data"] if isinstance(r, dict) and r.get("status") == "error"),
            raw_body["data"][0] if raw_body["data"] else None,
        )
    if not isinstance(raw_error, dict):
        return None, None
    code = raw_error.get("code")
    message = raw_error.get("message")
    raw_details = raw_error.get("details")
    details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
    field = details.get("api_name") or details.get("param_name") or details.get("param")
    if field is None and "id" in details:
        field = "id"
    text = ": ".join(str(x) for x in (code, message) if x) or None
    extra = [f"{k}={v}" for k, v in details.items() if k in ("maximum_length", "expected_data_type", "limit")]
    if text and extra:
        text = f"{text} ({', '.join(extra)})"
    return text, str(field) if field is not None else None


def _code_of(exc: AdapterError) -> str:
    return (exc.vendor_message or "").split(":", 1)[0].strip()


def _token_refused(exc: AdapterError) -> bool:
    """A 401 that a renewed token may cure (expired early or rotated elsewhere), unlike a scope error."""
    return isinstance(exc, AuthError) and _code_of(exc) in ("INVALID_TOKEN", "AUTHENTICATION_FAILURE", "")


def _remap(exc: AdapterError) -> AdapterError:
    """Zoho's error codes say more than the status does."""
    code = _code_of(exc)
    kw: dict[str, Any] = {"vendor_message": exc.vendor_message, "status": exc.status}
    if code in ("OAUTH_SCOPE_MISMATCH", "NO_PERMISSION", "FEATURE_NOT_SUPPORTED"):
        return PermissionDenied(
            f"{NAME} did not allow this: reconnect and approve every requested permission, or ask your "
            "Zoho administrator for access to Calls.",
            **kw,
        )
    if code in ("TOO_MANY_REQUESTS", "LIMIT_EXCEEDED") and not isinstance(exc, RateLimited):
        return RateLimited(f"{NAME} asks to slow down (API credits or concurrency).", **kw)
    if code == "RECORD_LOCKED":
        return PermissionDenied(f"The call is locked in {NAME} (an approval is pending).", **kw)
    if isinstance(exc, ValidationError) and exc.field == "id":
        return NotFound(f"{NAME} could not find that call record.", **kw)
    if isinstance(exc, AuthError):
        return AuthError(f"{NAME} no longer accepts this sign-in. Reconnect {NAME} in Settings.", **kw)
    return exc


def _record_error(raw_result: Mapping[str, Any], status: int) -> AdapterError:
    """The exception for one failed record inside a 2xx ``{"data": [...]}`` answer."""
    message, field = zoho_error_parser({"data": [dict(raw_result)]})
    what = f" ({field})" if field else ""
    return _remap(
        ValidationError(f"{NAME} rejected a value{what}.", field=field, vendor_message=message, status=status)
    )


def _fits_url_field(url: str | None) -> bool:
    """Whether ``url`` fits Zoho's URL field (http(s), 255 characters). A link that does not is
    left to the note (which carries it anyway) rather than failing the whole write."""
    return bool(url) and len(url or "") <= _URL_CHARS and (url or "").startswith(("https://", "http://"))


def _duration_text(seconds: int) -> str:
    minutes, secs = divmod(max(0, int(seconds)), 60)
    return f"{minutes:02d}:{secs:02d}"


def _duration_seconds(raw_record: Mapping[str, Any]) -> int | None:
    value = raw_record.get("Call_Duration_in_seconds")
    if isinstance(value, int | float):
        return int(value)
    text = raw_record.get("Call_Duration")
    if isinstance(text, str) and ":" in text:
        minutes, _, secs = text.partition(":")
        if minutes.isdigit() and secs.isdigit():
            return int(minutes) * 60 + int(secs)
    return None


def _start_text(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC).replace(microsecond=0).isoformat()


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _lookup_id(value: Any) -> str | None:
    """The id of a lookup field (``{"name", "id"}``), or ``None`` when it is empty.

    Raises:
        MalformedResponse: the lookup names an id that is not text.
    """
    if isinstance(value, dict) and value.get("id") is not None:
        return id_of(value, crm=NAME)
    return None


#: Call records this instance created or read, remembered (last ``KNOWN_RECORDS``) so that a write
#: of the duration and recording fields alone needs no read.
KNOWN_RECORDS = 200


def version_of(raw_record: Mapping[str, Any]) -> str:
    """``Modified_Time`` plus a digest of what a person edits: Zoho's times have one-second grain."""
    digest = hashlib.sha256(
        f"{raw_record.get('Subject') or ''}\x00{raw_record.get('Description') or ''}".encode()
    ).hexdigest()[:16]
    return f"{raw_record.get('Modified_Time') or ''}|{digest}"


class ZohoAdapter:
    """One Zoho CRM account.

    Args:
        connection: ``settings`` with ``data_centre`` and ``client_id`` (``accounts_url``/
            ``api_domain`` override the data centre's hosts), ``phone_region`` (two-letter country,
            read with :func:`adapters.base.phone_settings`) for reading phone numbers without a
            country code; ``secrets`` with ``tokens`` as written by :func:`sign_in`.
        client: the HTTP client (tests inject one over a fake server).
        save_secrets: persists rotated tokens (``{"tokens": ...}``) before they are used.
        clock: UNIX seconds (token expiry, rate-limit pauses).
        sleep: used for short rate-limit pauses.

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
        accounts_url(self._settings)  # an unknown data centre is reported now, not at the first request
        self._clock = clock or time.time
        self._region, _ = phone_settings(self._settings)
        self._oauth = OAuthSession(
            NAME,
            connection.secrets,
            endpoints=self._endpoints,
            client=client,
            save_secrets=save_secrets,
            clock=self._clock,
            revocable=lambda tokens: tokens.refresh_token,  # Zoho revokes the refresh token
            throttle=Throttle(clock=self._clock, sleep=sleep, max_wait=2.0),
        )
        self._tokens = self._oauth.manager
        self._picklist: list[Option] | None = None
        self._user: dict[str, Any] | None = None
        self._known: OrderedDict[str, dict[str, Any]] = OrderedDict()

    # --- auth ------------------------------------------------------------------------------

    def _endpoints(self) -> oauth.OAuthEndpoints:
        tokens = self._tokens.tokens
        return oauth_endpoints(self._settings, server=tokens.extra.get("accounts_server") if tokens else None)

    def sign_out(self) -> None:
        """Revokes the refresh token at Zoho (best effort) and forgets it."""
        self._oauth.sign_out()

    def _api_base(self) -> str:
        tokens = self._tokens.tokens
        domain = (tokens.extra.get("api_domain") if tokens else None) or self._settings.get("api_domain")
        if not domain:
            domain = API_DOMAINS.get(self._settings.get("data_centre", "us").lower(), API_DOMAINS["us"])
        return domain.rstrip("/") + API_PATH

    # --- requests --------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One authorised request to ``path`` under the API domain the current pair names."""
        return self._oauth.send(
            method,
            lambda: self._api_base() + path,
            parse=zoho_error_parser,
            scheme="Zoho-oauthtoken",
            refused=_token_refused,
            remap=_remap,
            **kwargs,
        )

    def _json(self, response: httpx.Response) -> Any:
        return json_body(response, crm=NAME)

    def _data_list(self, response: httpx.Response) -> list[dict[str, Any]]:
        """The ``data`` array of a 200, ``[]`` for Zoho's 204 "nothing matched"."""
        if response.status_code == 204:
            return []
        raw_body = self._json(response)
        if not isinstance(raw_body, dict) or not isinstance(raw_body.get("data"), list):
            raise MalformedResponse(f"{NAME} sent an answer without its data list.", status=response.status_code)
        return [r for r in raw_body["data"] if isinstance(r, dict)]

    def _write_result(self, response: httpx.Response) -> dict[str, Any]:
        """The ``details`` of the one record a create/update wrote; raises for a per-record error."""
        results = self._data_list(response)
        if not results:
            raise MalformedResponse(
                f"{NAME} confirmed nothing for the record it was sent.", status=response.status_code
            )
        raw_result = results[0]
        if text_of(raw_result, "status", crm=NAME) != "success":
            raise _record_error(raw_result, response.status_code)
        details = raw_result.get("details")
        if not isinstance(details, dict) or not details.get("id"):
            raise MalformedResponse(f"{NAME} confirmed the write without the record id.", status=response.status_code)
        id_of(details, crm=NAME)
        return details

    # --- CrmAdapter --------------------------------------------------------------------------

    @vendor_shape(NAME)
    def verify(self) -> str:
        user = self._current_user()
        name = str(user.get("full_name") or "").strip()
        email = str(user.get("email") or "").strip()
        return f"{name} <{email}>" if name and email else (name or email or str(user.get("id")))

    def _current_user(self) -> dict[str, Any]:
        if self._user is None:
            raw_body = self._json(self._request("GET", "/users", params={"type": "CurrentUser"}))
            users = raw_body.get("users") if isinstance(raw_body, dict) else None
            if not isinstance(users, list) or not users or not isinstance(users[0], dict) or not users[0].get("id"):
                raise MalformedResponse(f"{NAME} did not say who is signed in.")
            self._user = users[0]
        return self._user

    def call_results(self) -> list[Option]:
        """The org's ``Call_Result`` picklist (cached for the adapter's life)."""
        if self._picklist is None:
            raw_body = self._json(self._request("GET", "/settings/fields", params={"module": "Calls"}))
            raw_fields = raw_body.get("fields") if isinstance(raw_body, dict) else None
            if not isinstance(raw_fields, list):
                raise MalformedResponse(f"{NAME} sent field metadata without a field list.")
            options: list[Option] = []
            for raw_field in raw_fields:
                if isinstance(raw_field, dict) and raw_field.get("api_name") == "Call_Result":
                    for raw_value in raw_field.get("pick_list_values") or []:
                        value = raw_value.get("actual_value") if isinstance(raw_value, dict) else None
                        if isinstance(value, str) and value and value != _NO_RESULT:
                            options.append(Option(id=value, label=str(raw_value.get("display_value") or value)))
            self._picklist = options
        return list(self._picklist)

    @vendor_shape(NAME)
    def page_fields(self) -> list[PageField]:
        """The log page's fields, ``call_result`` carrying the org's picklist (one cached lookup).

        ``deal`` stays contact-dependent: its options come with each contact.
        """
        fields = [f.model_copy(deep=True) for f in self.manifest.page_fields]
        for f in fields:
            if f.id == "call_result":
                f.options = self.call_results()
                f.contact_dependent = False
        return fields

    @vendor_shape(NAME)
    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        if is_extension:
            return []  # Zoho CRM users have no extension numbers to search.
        parsed = parse(phone, self._region)
        queries = [parsed.e164, parsed.national] if parsed else [digits_only(phone)]
        found: dict[str, Contact] = {}
        for module, kind in (("Contacts", "Contact"), ("Leads", "Lead")):
            for query in dict.fromkeys(q for q in queries if q):
                # No ``fields``: Zoho's v8 search specification (zoho/crm-oas v8.0/module_search.json)
                # declares criteria, email, phone, word, converted, approval_state and per_page only.
                # The records a search returns carry their fields (Full_Name, Phone, Owner, ...).
                response = self._request("GET", f"/{module}/search", params={"phone": query, "per_page": "50"})
                for raw_record in self._data_list(response):
                    rid = id_of(raw_record, crm=NAME)
                    if rid not in found:
                        found[rid] = self._contact(raw_record, kind)
        if not found:
            return []
        results = self.call_results()
        for contact in found.values():
            contact.options["call_result"] = list(results)
            contact.options["deal"] = self._deals(contact) if contact.type == "Contact" else []
        return list(found.values())

    def _contact(self, raw_record: Mapping[str, Any], kind: str) -> Contact:
        name = (text_of(raw_record, "Full_Name", crm=NAME) or "").strip() or "(no name)"
        company = raw_record.get("Company") if kind == "Lead" else None
        account = raw_record.get("Account_Name")
        if isinstance(account, dict):
            company = account.get("name")
        owner = raw_record.get("Owner")
        return Contact(
            id=str(raw_record["id"]),
            name=name,
            phone=text_of(raw_record, "Phone", crm=NAME) or text_of(raw_record, "Mobile", crm=NAME) or None,
            type=kind,
            company=str(company) if company else None,
            owner=str(owner.get("name")) if isinstance(owner, dict) and owner.get("name") else None,
            created_at=_parse_time(raw_record.get("Created_Time")),
        )

    def _deals(self, contact: Contact) -> list[Option]:
        response = self._request(
            "GET", f"/Contacts/{contact.id}/Deals", params={"fields": "Deal_Name,Stage", "per_page": "100"}
        )
        options = []
        for raw_deal in self._data_list(response):
            stage = str(raw_deal.get("Stage") or "")
            if stage.startswith("Closed"):
                continue
            label = str(raw_deal.get("Deal_Name") or raw_deal.get("id"))
            options.append(Option(id=str(raw_deal["id"]), label=f"{label} ({stage})" if stage else label))
        return options

    @vendor_shape(NAME)
    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        missed = call.direction is Direction.INBOUND and (call.result or "").lower() in ("missed", "voicemail")
        remote = call.remote.phone_number or call.remote.extension_number
        raw_record: dict[str, Any] = {
            "Subject": entry.subject,
            "Description": entry.body,
            "Call_Type": "Missed" if missed else call.direction.value,
            "Call_Start_Time": _start_text(call.start_time),
        }
        if call.direction is Direction.OUTBOUND:
            raw_record["Outgoing_Call_Status"] = "Completed"
        if not missed:
            duration = entry.duration_seconds if entry.duration_seconds is not None else call.duration
            raw_record["Call_Duration"] = _duration_text(duration or 0)
        if remote:
            raw_record["Caller_ID" if call.direction is Direction.INBOUND else "Dialled_Number"] = remote
        if _fits_url_field(entry.recording_url):
            raw_record["Voice_Recording__s"] = entry.recording_url
        if contact.type == "Lead":
            raw_record["What_Id"] = {"id": contact.id}
            raw_record["$se_module"] = "Leads"
        else:
            raw_record["Who_Id"] = {"id": contact.id}
        self._dispositions_into(raw_record, entry.dispositions, current=None)
        details = self._write_result(self._request("POST", "/Calls", json={"data": [raw_record]}))
        created = {**raw_record, "id": details["id"], "Modified_Time": details.get("Modified_Time")}
        self._remember(str(details["id"]), created)
        return CallLogRef(
            adapter_id=MANIFEST.id, log_id=str(details["id"]), contact_id=contact.id, version=version_of(created)
        )

    def _remember(self, log_id: str, raw_record: Mapping[str, Any]) -> None:
        self._known[log_id] = dict(raw_record)
        self._known.move_to_end(log_id)
        while len(self._known) > KNOWN_RECORDS:
            self._known.popitem(last=False)

    def _dispositions_into(
        self, raw_record: dict[str, Any], values: Mapping[str, FieldValue], *, current: Mapping[str, Any] | None
    ) -> None:
        if "call_result" in values:
            value = values["call_result"]
            raw_record["Call_Result"] = str(value) if value not in (None, "", False) else None
        if "deal" in values:
            deal = values["deal"]
            if deal not in (None, "", False):
                if raw_record.get("$se_module") == "Leads" or (current and current.get("$se_module") == "Leads"):
                    raise ValidationError(f"A call with a {NAME} lead cannot also be related to a deal.", field="deal")
                raw_record["What_Id"] = {"id": str(deal)}
                raw_record["$se_module"] = "Deals"
            elif current is not None and current.get("$se_module") == "Deals":
                raw_record["What_Id"] = None

    def _read(self, log_id: str) -> dict[str, Any]:
        response = self._request("GET", f"/Calls/{log_id}", params={"fields": _CALL_FIELDS})
        records = self._data_list(response)
        if not records:
            self._known.pop(log_id, None)
            raise NotFound(f"{NAME} has no call record {log_id} (it may have been deleted).", status=204)
        self._remember(log_id, records[0])
        return records[0]

    def _stored(self, ref: CallLogRef, raw_record: Mapping[str, Any]) -> StoredCallLog:
        module = raw_record.get("$se_module")
        what = _lookup_id(raw_record.get("What_Id"))
        who = raw_record.get("Who_Id")
        contact_id = _lookup_id(who) or (what if module == "Leads" else None)
        contact_name = who.get("name") if isinstance(who, dict) else None
        if contact_name is None and module == "Leads" and isinstance(raw_record.get("What_Id"), dict):
            contact_name = raw_record["What_Id"].get("name")
        return StoredCallLog(
            ref=CallLogRef(
                adapter_id=MANIFEST.id,
                log_id=ref.log_id,
                contact_id=contact_id or ref.contact_id,
                version=version_of(raw_record),
            ),
            subject=text_of(raw_record, "Subject", crm=NAME) or "",
            body=text_of(raw_record, "Description", crm=NAME) or "",
            dispositions={
                "call_result": raw_record.get("Call_Result") if raw_record.get("Call_Result") != _NO_RESULT else None,
                "deal": what if module == "Deals" else None,
            },
            contact_id=contact_id,
            contact_name=str(contact_name) if contact_name else None,
            duration_seconds=_duration_seconds(raw_record),
            recording_url=text_of(raw_record, "Voice_Recording__s", crm=NAME) or None,
            modified_at=_parse_time(raw_record.get("Modified_Time")),
        )

    @vendor_shape(NAME)
    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        return self._stored(ref, self._read(ref.log_id))

    @vendor_shape(NAME)
    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        """Writes only the fields ``change`` sets.

        With ``expected_version`` the record is read immediately before the write and
        :class:`ConflictError` is raised if it changed (Zoho has no server-side precondition; the
        window left is the one round trip between that read and the ``PUT``). Without it, a change
        of the duration and recording fields alone is written without that read when this instance
        knows the record.
        """
        fields_only = change.subject is None and change.body is None and change.dispositions is None
        known = self._known.get(ref.log_id) if expected_version is None and fields_only else None
        current = known if known is not None else self._read(ref.log_id)
        if expected_version is not None and version_of(current) != expected_version:
            raise ConflictError(
                f"The call was changed in {NAME} since it was read; it will be read again before saving.",
                status=409,
            )
        raw_change: dict[str, Any] = {}
        if change.subject is not None:
            raw_change["Subject"] = change.subject
        if change.body is not None:
            raw_change["Description"] = change.body
        if change.duration_seconds is not None and current.get("Call_Type") != "Missed":
            raw_change["Call_Duration"] = _duration_text(change.duration_seconds)
        if change.recording_url is not None and (change.recording_url == "" or _fits_url_field(change.recording_url)):
            raw_change["Voice_Recording__s"] = change.recording_url or None
        if change.dispositions is not None:
            self._dispositions_into(raw_change, change.dispositions, current=current)
        if not raw_change:
            return self._stored(ref, current)
        details = self._write_result(self._request("PUT", f"/Calls/{ref.log_id}", json={"data": [raw_change]}))
        merged = {**current, **raw_change, "Modified_Time": details.get("Modified_Time", current.get("Modified_Time"))}
        if "What_Id" in raw_change and raw_change["What_Id"] is not None:
            merged["What_Id"] = {"id": raw_change["What_Id"]["id"]}
        if merged.get("Call_Duration") and "Call_Duration" in raw_change:
            merged["Call_Duration_in_seconds"] = change.duration_seconds
        self._remember(ref.log_id, merged)
        return self._stored(ref, merged)

    @vendor_shape(NAME)
    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        self.update_call_log(ref, LogUpdate(dispositions=dict(values)))

    @vendor_shape(NAME)
    def find_call_log(self, call: Call) -> CallLogRef | None:
        criteria = f"(Call_Start_Time:equals:{_start_text(call.start_time)})"
        response = self._request("GET", "/Calls/search", params={"criteria": criteria, "per_page": "200"})
        me = str(self._current_user().get("id"))
        remote = digits_only(call.remote.phone_number or call.remote.extension_number or "")
        candidates = []
        for raw_record in self._data_list(response):
            owner = _lookup_id(raw_record.get("Owner"))
            if owner is not None and owner != me:
                continue
            kind = text_of(raw_record, "Call_Type", crm=NAME)
            if kind not in (call.direction.value, "Missed" if call.direction is Direction.INBOUND else None):
                continue
            stored_number = digits_only(str(raw_record.get("Caller_ID") or raw_record.get("Dialled_Number") or ""))
            if (
                remote
                and stored_number
                and not (stored_number.endswith(remote[-10:]) or remote.endswith(stored_number))
            ):
                continue
            candidates.append(raw_record)
        if len(candidates) > 1:
            marked = [r for r in candidates if call.session_id and call.session_id in str(r.get("Description") or "")]
            candidates = marked or sorted(candidates, key=lambda r: str(r.get("Created_Time") or ""))
        if not candidates:
            return None
        chosen = candidates[0]
        who = _lookup_id(chosen.get("Who_Id")) or (
            _lookup_id(chosen.get("What_Id")) if chosen.get("$se_module") == "Leads" else None
        )
        log_id = id_of(chosen, crm=NAME)
        return CallLogRef(adapter_id=MANIFEST.id, log_id=log_id, contact_id=who, version=version_of(chosen))

    def close(self) -> None:
        self._oauth.close()
