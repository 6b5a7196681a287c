# SPDX-License-Identifier: MIT
"""Salesforce: calls logged as completed ``Task`` records, signed in with OAuth 2.0 + PKCE.

Sign-in (:func:`sign_in`): the web-server flow with PKCE in the system browser and a loopback
redirect (``http://127.0.0.1:<port>/callback``, registered on the org's External Client App or
Connected App with "Require secret" unticked). The login host is ``login.salesforce.com``,
``test.salesforce.com`` for sandboxes, or the org's My Domain. The token response names the
org's API host (``instance_url``); every API call goes there. Salesforce does not say when an
access token expires (it lasts the org's session timeout, setting ``session_minutes``), so the
expiry is computed from ``issued_at`` and the token is refreshed ahead of it; a token refused with
``INVALID_SESSION_ID`` anyway is refreshed once and the request repeated. A revoked or expired
grant raises :class:`~adapters.base.AuthError` asking the user to reconnect.

Where call data goes (the note engine's plain-text body goes to ``Description``):

==========================  ===========================================================
``Subject``                 subject (255 characters)
``Description``             the composed note, plain text (32,000 characters)
``TaskSubtype``             ``Call`` (a logged call, not a to-do)
``Status`` / ``Priority``   ``Completed`` / ``Normal``
``ActivityDate``            the day the call started in the agent's time zone (``LogEntry.time_zone``,
                            else the computer's): a date-only field Salesforce never converts
``CallType``                ``Inbound`` / ``Outbound`` / ``Internal``
``CallDurationInSeconds``   duration, when known
``CallObject``              the RingCentral session id: how :meth:`find_call_log` recovers
``CallDisposition``         page field ``call_result`` ("Call Result": a configured list or free text)
``WhoId``                   the contact or lead (none for a colleague: users cannot be a Who)
``WhatId``                  page field ``related_to``: the contact's account or an open opportunity
custom field (optional)     the recording link, when setting ``recording_url_field`` names one
==========================  ===========================================================

Versions: the version token is the Task's ``LastModifiedDate``. With ``expected_version``,
writes carry ``If-Unmodified-Since``; Salesforce answers 412 when someone saved the Task after
that instant, raised as :class:`~adapters.base.ConflictError` so the engine reads again and
re-applies. ``LastModifiedDate`` has one-second precision: an edit saved within the same second
as the version that was read cannot be told apart (a limit of Salesforce's weak validation).
A create or an update goes in one Composite request (``POST /composite``) with the read of the
Task's new ``LastModifiedDate``: Salesforce counts it as one API call. An update's is all or
none, so a refused write (412) reads and changes nothing.

Rate limits: Salesforce counts API requests per org per rolling 24 hours and reports them in
``Sforce-Limit-Info: api-usage=N/M``. The adapter stops sending when the org is within
:data:`USAGE_RESERVE` of its allowance (other tools share it) and raises
:class:`~adapters.base.RateLimited` until :data:`USAGE_RECHECK_SECONDS` have passed; 403
``REQUEST_LIMIT_EXCEEDED`` is a rate limit too, not a permission problem.

Threading contract: one worker thread at a time per instance (see :mod:`adapters.base`); the
token manager inside is thread-safe.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from adapters import oauth
from adapters import phone as phones
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
    OAuthSpec,
    PageField,
    PageFieldKind,
    PermissionDenied,
    RateLimited,
    SecretsSaver,
    UrlTemplates,
    ValidationError,
    agent_time_zone,
    phone_settings,
)
from adapters.http import error_for_response, json_body
from adapters.models import Call, CallLogRef, Contact, FieldValue, LogEntry, LogUpdate, Option, StoredCallLog
from adapters.oauth_session import OAuthSession

log = logging.getLogger(__name__)

CRM = "Salesforce"
API_VERSION = "v62.0"
DEFAULT_LOGIN_HOST = "login.salesforce.com"
SANDBOX_LOGIN_HOST = "test.salesforce.com"
DEFAULT_REDIRECT_PORT = 47011
REDIRECT_PATH = "/callback"
SCOPES = ("api", "refresh_token")
#: The org's session timeout when the user did not say (Salesforce's default is two hours).
DEFAULT_SESSION_MINUTES = 120
#: Refresh this many seconds before the computed expiry.
REFRESH_MARGIN = 300.0
#: Stop sending when less than this share of the org's daily API allowance is left.
USAGE_RESERVE = 0.05
#: How long to hold off after seeing the allowance (nearly) used up, before looking again.
USAGE_RECHECK_SECONDS = 900.0
SUBJECT_LIMIT = 255
BODY_LIMIT = 32000
DISPOSITION_LIMIT = 255
DEFAULT_CALL_RESULTS = ("Connected", "Left voicemail", "No answer", "Busy", "Wrong number")

CALL_RESULT = "call_result"
RELATED_TO = "related_to"

_TASK_FIELDS = (
    "Id",
    "Subject",
    "Description",
    "CallDisposition",
    "CallDurationInSeconds",
    "CallType",
    "CallObject",
    "WhoId",
    "WhatId",
    "LastModifiedDate",
)
#: Key prefixes of the records a task's Who can name: Contact, Lead.
_WHO_PREFIXES = ("003", "00Q")
#: Task fields every log writes (TaskSubtype only on create).
_WRITTEN_FIELDS = (
    "Subject",
    "Description",
    "TaskSubtype",
    "Status",
    "Priority",
    "ActivityDate",
    "CallType",
    "CallObject",
    "CallDurationInSeconds",
    "CallDisposition",
    "WhoId",
    "WhatId",
)
_SOSL_RESERVED = re.compile(r"([?&|!{}\[\]()^~*:\\\"'+\-])")
_USAGE = re.compile(r"api-usage=(\d+)/(\d+)")
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

MANIFEST = Manifest(
    id="salesforce",
    name="Salesforce",
    log_format="text/plain",
    auth=AuthSpec(
        kind=AuthKind.OAUTH_PKCE,
        fields=[
            AuthField(
                key="login_host",
                label="Login host",
                default=DEFAULT_LOGIN_HOST,
                placeholder="login.salesforce.com",
                help="login.salesforce.com, test.salesforce.com for a sandbox, or your My Domain "
                "(acme.my.salesforce.com).",
            ),
            AuthField(
                key="client_id",
                label="Consumer key",
                placeholder="3MVG9…",
                help="The consumer key of the External Client App your admin created for Logdesk, with "
                f"callback URL http://127.0.0.1:{DEFAULT_REDIRECT_PORT}{REDIRECT_PATH}, scopes api and "
                "refresh_token, PKCE required and the secret not required.",
            ),
            AuthField(
                key="session_minutes",
                label="Session timeout (minutes)",
                required=False,
                default=str(DEFAULT_SESSION_MINUTES),
                help="Your org's session timeout; Logdesk renews its sign-in before it runs out.",
            ),
            AuthField(
                key="call_results",
                label="Call results",
                required=False,
                default=", ".join(DEFAULT_CALL_RESULTS),
                help="The choices offered for Call Result, separated by commas.",
            ),
            AuthField(
                key="recording_url_field",
                label="Recording link field",
                required=False,
                placeholder="Recording_URL__c",
                help="API name of a custom Task field for the recording link (optional).",
            ),
        ],
        oauth=OAuthSpec(
            authorize_url=f"https://{DEFAULT_LOGIN_HOST}/services/oauth2/authorize",
            token_url=f"https://{DEFAULT_LOGIN_HOST}/services/oauth2/token",
            revoke_url=f"https://{DEFAULT_LOGIN_HOST}/services/oauth2/revoke",
            scopes=list(SCOPES),
        ),
    ),
    page_fields=[
        PageField(
            id=CALL_RESULT,
            label="Call result",
            kind=PageFieldKind.SELECTION,
            contact_dependent=True,
            help="Saved in the task's Call Result.",
        ),
        PageField(
            id=RELATED_TO,
            label="Related to",
            kind=PageFieldKind.SELECTION,
            contact_dependent=True,
            help="The contact's account or one of its open opportunities (leads have none).",
        ),
    ],
    limits=FieldLimits(subject_chars=SUBJECT_LIMIT, body=BODY_LIMIT, body_unit="chars"),
    capabilities=Capabilities(
        extension_logging=True, find_by_session_id=True, versioned_writes=True, artifact_fields=("duration",)
    ),
    urls=UrlTemplates(open_log="https://{login_host}/{log_id}", open_contact="https://{login_host}/{contact_id}"),
)


# --- helpers ------------------------------------------------------------------------------------


def login_base_url(login_host: str) -> str:
    """``https://<host>``; plain ``http`` only for a loopback host (a test org on this machine).

    Raises:
        ValidationError: the host is empty or not a bare host name.
    """
    host = login_host.strip().rstrip("/")
    for scheme in ("https://", "http://"):
        host = host.removeprefix(scheme)
    if not host or "/" in host or " " in host:
        raise ValidationError(
            f"'{login_host}' is not a Salesforce login host. Use login.salesforce.com, test.salesforce.com "
            "or your My Domain.",
            field="login_host",
        )
    scheme = "http" if host.split(":")[0] in _LOOPBACK_HOSTS or host.startswith("[::1]") else "https"
    return f"{scheme}://{host}"


def oauth_endpoints(settings: Mapping[str, str]) -> oauth.OAuthEndpoints:
    """The OAuth application for this connection's login host and consumer key.

    Raises:
        ValidationError: the login host is not usable.
        AuthError: no consumer key is configured.
    """
    base = login_base_url(settings.get("login_host") or DEFAULT_LOGIN_HOST)
    client_id = (settings.get("client_id") or "").strip()
    if not client_id:
        raise AuthError("Salesforce needs the consumer key of your org's Logdesk app. Enter it in Settings.")
    return oauth.OAuthEndpoints(
        authorize_url=f"{base}/services/oauth2/authorize",
        token_url=f"{base}/services/oauth2/token",
        revoke_url=f"{base}/services/oauth2/revoke",
        client_id=client_id,
        scopes=SCOPES,
    )


def session_seconds(settings: Mapping[str, str]) -> float:
    """The org's session timeout in seconds (setting ``session_minutes``, two hours by default)."""
    raw = (settings.get("session_minutes") or "").strip()
    try:
        minutes = float(raw) if raw else DEFAULT_SESSION_MINUTES
    except ValueError:
        minutes = DEFAULT_SESSION_MINUTES
    return max(15.0, minutes) * 60.0


def with_expiry(tokens: oauth.TokenSet, *, session: float, now: float) -> oauth.TokenSet:
    """Salesforce sends no ``expires_in``: the access token lasts the session timeout from ``issued_at``."""
    if tokens.expires_at is not None:
        return tokens
    issued = now
    raw_issued = tokens.extra.get("issued_at")
    if raw_issued:
        try:
            issued = float(raw_issued) / 1000.0
        except ValueError:
            issued = now
    return tokens.model_copy(update={"expires_at": issued + session})


def sign_in(
    settings: Mapping[str, str],
    http: httpx.Client,
    *,
    open_url: Callable[[str], None],
    port: int | None = None,
    timeout: float = 300.0,
    clock: oauth.Clock = time.time,
    on_receiver: Callable[[oauth.LoopbackReceiver], None] | None = None,
) -> dict[str, str]:
    """Signs in through the system browser; returns the secrets to store for the connection.

    Blocks until the browser comes back (run it on a worker thread).

    Args:
        settings: the connection's ``login_host``, ``client_id`` and ``session_minutes``.
        http: used for the code exchange.
        open_url: opens the authorize page in the system browser.
        port: the loopback port registered as the callback (:data:`DEFAULT_REDIRECT_PORT` when
            ``None``; ``0`` picks a free one, for orgs that accept any loopback port).
        timeout: seconds the user has to finish in the browser.
        clock: UNIX seconds.
        on_receiver: gets the redirect listener, so the UI can offer Cancel.

    Raises:
        AuthError: declined, timed out, wrong consumer key, or refused by the org
            (:class:`adapters.oauth.SignInCancelled` and friends).
        TransientError, RateLimited, MalformedResponse: the token endpoint could not be used now.
    """
    tokens = oauth.sign_in(
        oauth_endpoints(settings),
        http,
        open_url=open_url,
        port=DEFAULT_REDIRECT_PORT if port is None else port,
        path=REDIRECT_PATH,
        timeout=timeout,
        clock=clock,
        vendor=CRM,
        on_receiver=on_receiver,
    )
    if not tokens.extra.get("instance_url"):
        raise MalformedResponse("Salesforce's sign-in answer did not name your org's API host (instance_url).")
    if not tokens.refresh_token:
        raise AuthError(
            "Salesforce granted no refresh token. Ask your admin to add the refresh_token scope to the "
            "Logdesk app, then connect again."
        )
    return with_expiry(tokens, session=session_seconds(settings), now=clock()).to_secrets()


def escape_sosl(term: str) -> str:
    """Backslash-escapes SOSL's reserved characters (``+`` and ``-`` included)."""
    return _SOSL_RESERVED.sub(r"\\\1", term)


def soql_string(value: str) -> str:
    """A SOQL string literal: quotes and backslashes escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def parse_sf_datetime(raw: str) -> datetime:
    """``2026-09-30T14:07:02.000+0000`` → an aware datetime.

    Raises:
        ValueError: not in Salesforce's format.
    """
    return datetime.strptime(raw, "%Y-%m-%dT%H:%M:%S.%f%z")


def if_unmodified_since(version: str) -> str:
    """The ``If-Unmodified-Since`` value (an HTTP date) for a ``LastModifiedDate`` version token.

    Raises:
        ValidationError: the token is not a Salesforce timestamp.
    """
    try:
        moment = parse_sf_datetime(version)
    except ValueError:
        raise ValidationError(f"'{version}' is not a Salesforce version (LastModifiedDate).") from None
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


class SalesforceErrorParser:
    """Reads Salesforce's error bodies and remembers the last ``errorCode`` seen.

    REST errors are an array ``[{"message", "errorCode", "fields"}]``; OAuth errors are
    ``{"error", "error_description"}``. The message is kept verbatim, the first field named.
    """

    def __init__(self) -> None:
        self.code: str | None = None

    def __call__(self, raw_body: Any) -> tuple[str | None, str | None]:
        self.code = None
        first = raw_body[0] if isinstance(raw_body, list) and raw_body else raw_body
        if not isinstance(first, dict):
            return None, None
        if isinstance(first.get("errorCode"), str):
            self.code = first["errorCode"]
            message = first.get("message")
            fields = first.get("fields")
            field = fields[0] if isinstance(fields, list) and fields and isinstance(fields[0], str) else None
            return (str(message) if message else self.code), field
        if isinstance(first.get("error"), str):
            self.code = first["error"]
            return str(first.get("error_description") or first["error"]), None
        return None, None


def parse_salesforce_error(raw_body: Any) -> tuple[str | None, str | None]:
    """Stateless form of :class:`SalesforceErrorParser`: (message, first field)."""
    return SalesforceErrorParser()(raw_body)


def _session_refused(exc: AdapterError) -> bool:
    """A refused session: 401 from the REST API, 403 ``Bad_OAuth_Token`` from the identity service."""
    return isinstance(exc, AuthError) or (isinstance(exc, PermissionDenied) and exc.vendor_message == "Bad_OAuth_Token")


# --- validated vendor payloads ------------------------------------------------------------------


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _RawTask(_Record):
    Id: str
    Subject: str | None = None
    Description: str | None = None
    CallDisposition: str | None = None
    CallDurationInSeconds: int | None = None
    CallType: str | None = None
    CallObject: str | None = None
    WhoId: str | None = None
    WhatId: str | None = None
    LastModifiedDate: str


class _RawRelated(_Record):
    Name: str | None = None


class _RawSearchRecord(_Record):
    attributes: dict[str, Any]
    Id: str
    Name: str | None = None
    Phone: str | None = None
    MobilePhone: str | None = None
    AccountId: str | None = None
    Account: _RawRelated | None = None
    Company: str | None = None
    Owner: _RawRelated | None = None
    CreatedDate: str | None = None


class _RawOpportunity(_Record):
    Id: str
    Name: str
    AccountId: str | None = None


class _RawUser(_Record):
    Id: str
    Name: str | None = None
    Phone: str | None = None


class _RawTaskRef(_Record):
    Id: str
    WhoId: str | None = None
    LastModifiedDate: str


# --- the adapter --------------------------------------------------------------------------------


class SalesforceAdapter:
    """One Salesforce org, reached as the user who signed in.

    Args:
        connection: settings ``login_host``, ``client_id``, ``session_minutes``, ``call_results``,
            ``recording_url_field``, ``phone_region``; secrets as written by :func:`sign_in`.
        client: the HTTP client (tests pass one over a fake org); built here otherwise.
        save_secrets: receives the secrets to store after a token refresh.
        clock: UNIX seconds, for token expiry and the API allowance pause.
        sleep: accepted for the common adapter signature; this adapter never waits, it raises
            :class:`RateLimited` with ``retry_after`` instead.
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
        self._clock: Callable[[], float] = clock or time.time
        self._sleep = sleep
        self._session = session_seconds(self._settings)
        self._parser = SalesforceErrorParser()
        self._usage: tuple[int, int] | None = None
        self._usage_seen_at = 0.0
        self._region, _ = phone_settings(self._settings)
        self._call_results = [
            r.strip() for r in (self._settings.get("call_results") or ", ".join(DEFAULT_CALL_RESULTS)).split(",")
        ]
        self._recording_field = (self._settings.get("recording_url_field") or "").strip() or None
        self._oauth = OAuthSession(
            CRM,
            connection.secrets,
            endpoints=lambda: oauth_endpoints(self._settings),
            client=client,
            save_secrets=save_secrets,
            clock=self._clock,
            margin=REFRESH_MARGIN,
            complete=lambda tokens: with_expiry(tokens, session=self._session, now=self._clock()),
            revocable=lambda tokens: tokens.refresh_token or tokens.access_token,
        )
        self._tokens = self._oauth.manager

    # --- tokens ---------------------------------------------------------------------------------

    def _instance_url(self) -> str:
        tokens = self._tokens.tokens
        if tokens is None:
            raise AuthError("Not signed in to Salesforce. Connect Salesforce in Settings.")
        url = tokens.extra.get("instance_url")
        if not url:
            raise AuthError("The saved Salesforce sign-in does not name your org's API host. Reconnect Salesforce.")
        return url.rstrip("/")

    @property
    def tokens(self) -> oauth.TokenSet | None:
        """The current token pair (for display of ``instance_url``); never log it."""
        return self._tokens.tokens

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """The org's API requests used and allowed in the last 24 hours, as last reported."""
        return self._usage

    # --- requests -------------------------------------------------------------------------------

    def _check_allowance(self) -> None:
        if self._usage is None:
            return
        used, allowed = self._usage
        if allowed <= 0 or used < allowed * (1.0 - USAGE_RESERVE):
            return
        waited = self._clock() - self._usage_seen_at
        if waited >= USAGE_RECHECK_SECONDS:
            return  # one request to read the current usage again
        raise RateLimited(
            f"Your Salesforce org has used {used:,} of its {allowed:,} daily API requests. Logdesk pauses to "
            "leave the rest for your other Salesforce tools.",
            retry_after=USAGE_RECHECK_SECONDS - waited,
        )

    def _note_usage(self, headers: httpx.Headers) -> None:
        match = _USAGE.search(headers.get("Sforce-Limit-Info", ""))
        if match:
            self._usage = (int(match.group(1)), int(match.group(2)))
            self._usage_seen_at = self._clock()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One authorised request to ``path`` on the instance; a refused session is refreshed once and
        the request repeated (on the instance the refresh names, should the org have moved)."""
        self._instance_url()  # not signed in: say so in Salesforce's terms before anything else
        self._parser.code = None  # a refused first attempt never leaves REQUEST_LIMIT_EXCEEDED behind
        try:
            response = self._oauth.send(
                method, lambda: f"{self._instance_url()}{path}", parse=self._parser, refused=_session_refused, **kwargs
            )
        except PermissionDenied as exc:
            if self._parser.code == "REQUEST_LIMIT_EXCEEDED":
                allowed = self._usage[1] if self._usage else 1
                self._usage, self._usage_seen_at = (allowed, allowed), self._clock()
                raise RateLimited(
                    "Your Salesforce org has used up its API requests for now; Logdesk will try again later.",
                    retry_after=USAGE_RECHECK_SECONDS,
                    vendor_message=exc.vendor_message,
                    status=exc.status,
                ) from exc
            raise
        self._note_usage(response.headers)
        return response

    def _api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        self._check_allowance()
        return self._send(method, f"/services/data/{API_VERSION}{path}", **kwargs)

    def _json(self, response: httpx.Response) -> Any:
        return json_body(response, crm=CRM)

    @staticmethod
    def _malformed(what: str, exc: Exception | None = None) -> MalformedResponse:
        return MalformedResponse(
            f"Salesforce sent {what} that Logdesk cannot read.", vendor_message=str(exc) if exc else None
        )

    def _query(self, soql: str) -> list[dict[str, Any]]:
        raw = self._json(self._api("GET", "/query", params={"q": soql}))
        records = raw.get("records") if isinstance(raw, dict) else None
        if not isinstance(records, list):
            raise self._malformed("a query result")
        return [r for r in records if isinstance(r, dict)]

    # --- the contract ---------------------------------------------------------------------------

    def verify(self) -> str:
        """Who is signed in (``Name (username)``), after checking the Task fields calls are logged in.

        Call fields (Call Result, Call Object Identifier, ...) can be hidden from a profile by
        field-level security; then every log would fail, so connecting fails instead, naming them.

        Raises:
            AuthError: the sign-in is no longer valid (reconnect).
            PermissionDenied: the user's profile cannot write the Task fields Logdesk needs.
            ValidationError: the configured recording link field does not exist on Task.
        """
        response = self._send("GET", "/services/oauth2/userinfo")
        raw = self._json(response)
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise self._malformed("a user description")
        self._check_task_fields()
        username = raw.get("preferred_username")
        return f"{raw['name']} ({username})" if isinstance(username, str) and username else raw["name"]

    def _check_task_fields(self) -> None:
        raw = self._json(self._api("GET", "/sobjects/Task/describe"))
        fields = raw.get("fields") if isinstance(raw, dict) else None
        if not isinstance(fields, list):
            raise self._malformed("a description of tasks")
        writable = {
            f["name"]: f.get("label") or f["name"]
            for f in fields
            if isinstance(f, dict) and isinstance(f.get("name"), str) and f.get("createable") and f.get("updateable")
        }
        needed = [name for name in _WRITTEN_FIELDS if name not in writable and name != "TaskSubtype"]
        if "TaskSubtype" not in {f.get("name") for f in fields if isinstance(f, dict) and f.get("createable")}:
            needed.append("TaskSubtype")
        if needed:
            raise PermissionDenied(
                "Your Salesforce profile cannot write these task fields, which Logdesk logs calls in: "
                f"{', '.join(needed)}. Ask your Salesforce admin for edit access to them.",
            )
        if self._recording_field and self._recording_field not in writable:
            raise ValidationError(
                f"Tasks in this Salesforce org have no writable field '{self._recording_field}' for the recording "
                "link. Correct the field's API name in Settings or leave it empty.",
                field="recording_url_field",
            )

    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        """Contacts and leads whose phone fields hold ``phone``, via SOSL ``IN PHONE FIELDS``.

        Salesforce's phone search ignores formatting: the national digits are searched first, then
        country code + national digits, then the national dialling digits where a trunk prefix
        differs (``0123456789`` for ``+33 1 23 45 67 89``), until one finds something. Contacts of
        an account get that account and its open opportunities as ``related_to`` options.

        With ``is_extension``, active Salesforce users whose ``Extension`` is ``phone`` are returned
        as internal contacts (a task cannot name a user as its Who, so their calls are logged as
        ``Internal`` tasks without one).
        """
        if is_extension:
            return self._colleagues(phones.digits_only(phone))
        parsed = phones.parse(phone, self._region)
        if parsed is not None:
            terms = [parsed.national, f"{parsed.country_code}{parsed.national}"]
            dialled = phones.digits_only(phones.formatted_variants(parsed)[0])  # with a trunk prefix: 0123456789
            if dialled not in terms:
                terms.append(dialled)
        else:
            digits = phones.digits_only(phone)
            terms = [digits] if len(digits) >= 2 else []
        found: list[_RawSearchRecord] = []
        for term in terms:
            found = self._search(term)
            if found:
                break
        contacts: list[Contact] = []
        seen: set[str] = set()
        account_ids = sorted({r.AccountId for r in found if r.AccountId})
        opportunities = self._open_opportunities(account_ids)
        for record in found:
            if record.Id in seen:
                continue
            seen.add(record.Id)
            contacts.append(self._contact(record, opportunities))
        return contacts

    def _colleagues(self, extension: str) -> list[Contact]:
        if not extension:
            return []
        rows = self._query(  # the extension is quoted by soql_string
            f"SELECT Id, Name, Phone, Extension FROM User WHERE Extension = {soql_string(extension)} "  # noqa: S608
            "AND IsActive = true ORDER BY Name LIMIT 20"
        )
        try:
            users = [_RawUser.model_validate(row) for row in rows]
        except PydanticValidationError as exc:
            raise self._malformed("a user", exc) from exc
        return [
            Contact(
                id=user.Id,
                name=user.Name or user.Id,
                phone=user.Phone,
                type="User",
                is_internal=True,
                options={CALL_RESULT: [Option(id=r, label=r) for r in self._call_results if r], RELATED_TO: []},
            )
            for user in users
        ]

    def _search(self, term: str) -> list[_RawSearchRecord]:
        sosl = (
            f"FIND {{{escape_sosl(term)}}} IN PHONE FIELDS RETURNING "
            "Contact(Id, Name, Phone, MobilePhone, AccountId, Account.Name, Owner.Name, CreatedDate), "
            "Lead(Id, Name, Phone, MobilePhone, Company, Owner.Name, CreatedDate)"
        )
        raw = self._json(self._api("GET", "/search", params={"q": sosl}))
        rows = raw.get("searchRecords") if isinstance(raw, dict) else None
        if not isinstance(rows, list):
            raise self._malformed("a search result")
        try:
            return [_RawSearchRecord.model_validate(row) for row in rows]
        except PydanticValidationError as exc:
            raise self._malformed("a search result", exc) from exc

    def _open_opportunities(self, account_ids: list[str]) -> dict[str, list[_RawOpportunity]]:
        if not account_ids:
            return {}
        ids = ", ".join(soql_string(a) for a in account_ids)
        rows = self._query(  # values quoted by soql_string
            f"SELECT Id, Name, AccountId FROM Opportunity WHERE AccountId IN ({ids}) AND IsClosed = false "  # noqa: S608
            "ORDER BY Name LIMIT 200"
        )
        by_account: dict[str, list[_RawOpportunity]] = {}
        try:
            for row in rows:
                opp = _RawOpportunity.model_validate(row)
                by_account.setdefault(opp.AccountId or "", []).append(opp)
        except PydanticValidationError as exc:
            raise self._malformed("an opportunity", exc) from exc
        return by_account

    def _contact(self, record: _RawSearchRecord, opportunities: dict[str, list[_RawOpportunity]]) -> Contact:
        kind = str(record.attributes.get("type") or "Contact")
        related: list[Option] = []
        if kind == "Contact" and record.AccountId:
            account_name = record.Account.Name if record.Account and record.Account.Name else record.AccountId
            related.append(Option(id=record.AccountId, label=f"Account: {account_name}"))
            related += [
                Option(id=o.Id, label=f"Opportunity: {o.Name}") for o in opportunities.get(record.AccountId, [])
            ]
        created: datetime | None = None
        if record.CreatedDate:
            try:
                created = parse_sf_datetime(record.CreatedDate)
            except ValueError:
                created = None
        company = record.Company if kind == "Lead" else (record.Account.Name if record.Account else None)
        return Contact(
            id=record.Id,
            name=record.Name or record.Id,
            phone=record.Phone or record.MobilePhone,
            type=kind,
            company=company,
            owner=record.Owner.Name if record.Owner else None,
            created_at=created,
            options={
                CALL_RESULT: [Option(id=r, label=r) for r in self._call_results if r],
                RELATED_TO: related,
            },
        )

    def _disposition_fields(self, values: Mapping[str, FieldValue]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(value, bool):
                raise ValidationError(f"'{key}' takes a text value, not a checkbox.", field=key)
            text = value.strip() if isinstance(value, str) else None
            if key == CALL_RESULT:
                if text and len(text) > DISPOSITION_LIMIT:
                    raise ValidationError(
                        f"Call result is longer than Salesforce's {DISPOSITION_LIMIT} characters.", field=key
                    )
                fields["CallDisposition"] = text or None
            elif key == RELATED_TO:
                fields["WhatId"] = text or None
            else:
                raise ValidationError(f"Salesforce has no log field '{key}'.", field=key)
        return fields

    def _composite(self, subrequests: list[dict[str, Any]], *, all_or_none: bool) -> list[dict[str, Any]]:
        """Runs ``subrequests`` in one Composite request (one API call); their results, in order."""
        raw = self._json(
            self._api("POST", "/composite", json={"allOrNone": all_or_none, "compositeRequest": subrequests})
        )
        answers = raw.get("compositeResponse") if isinstance(raw, dict) else None
        if not isinstance(answers, list):
            raise self._malformed("a composite result")
        by_ref = {a.get("referenceId"): a for a in answers if isinstance(a, dict)}
        results = [by_ref.get(sub["referenceId"]) for sub in subrequests]
        if any(r is None or not isinstance(r.get("httpStatusCode"), int) for r in results):
            raise self._malformed("a composite result")
        return [r for r in results if r is not None]

    def _failed(self, result: Mapping[str, Any]) -> AdapterError | None:
        """The error a subrequest's result stands for, as if it had been a request of its own."""
        status = int(result["httpStatusCode"])
        if 200 <= status < 300:
            return None
        answer = httpx.Response(status, json=result.get("body"))
        error = error_for_response(answer, crm=CRM, parse=self._parser)
        if isinstance(error, PermissionDenied) and self._parser.code == "REQUEST_LIMIT_EXCEEDED":
            return RateLimited(
                "Your Salesforce org has used up its API requests for now; Logdesk will try again later.",
                retry_after=USAGE_RECHECK_SECONDS,
                vendor_message=error.vendor_message,
                status=status,
            )
        return error

    def _task_path(self, log_id: str) -> str:
        return f"/services/data/{API_VERSION}/sobjects/Task/{log_id}"

    def _read_fields(self) -> str:
        return ",".join([*_TASK_FIELDS, *([self._recording_field] if self._recording_field else [])])

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        """Creates a completed call Task; ``CallObject`` holds the session id for recovery.

        One Composite request: the create, then the read of its ``LastModifiedDate`` (the version).
        """
        duration = entry.duration_seconds if entry.duration_seconds is not None else call.duration
        fields: dict[str, Any] = {
            "Subject": entry.subject,
            "Description": entry.body,
            "TaskSubtype": "Call",
            "Status": "Completed",
            "Priority": "Normal",
            # A date without a time zone: Salesforce shows it as given, so it must be the agent's day.
            "ActivityDate": call.start_time.astimezone(agent_time_zone(entry.time_zone)).date().isoformat(),
            "CallType": "Internal" if contact.is_internal else call.direction.value,
            "CallObject": call.session_id,
        }
        if duration is not None:
            fields["CallDurationInSeconds"] = int(duration)
        # The id's key prefix says what it is even when the caller lost the type (003 contact, 00Q lead).
        who_id = contact.id if contact.id[:3] in _WHO_PREFIXES else None
        if who_id:
            fields["WhoId"] = who_id
        fields.update({k: v for k, v in self._disposition_fields(entry.dispositions).items() if v is not None})
        if self._recording_field and entry.recording_url:
            fields[self._recording_field] = entry.recording_url
        created, version_row = self._composite(
            [
                {"method": "POST", "url": f"/services/data/{API_VERSION}/sobjects/Task", "referenceId": "task",
                 "body": fields},
                {"method": "GET", "url": f"{self._task_path('@{task.id}')}?fields=LastModifiedDate",
                 "referenceId": "version"},
            ],
            all_or_none=False,  # a create that went through stands even if its read does not
        )
        error = self._failed(created)
        if error is not None:
            raise error
        raw = created.get("body")
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not raw.get("success", True):
            raise self._malformed("a create result")
        ref = CallLogRef(adapter_id=MANIFEST.id, log_id=raw["id"], contact_id=who_id)
        error = self._failed(version_row)
        if error is not None:
            # The Task exists: report it without a version rather than fail (a retry would log twice).
            log.info("created Salesforce task %s; reading its version failed: %s", ref.log_id, error)
            return ref
        row = version_row.get("body")
        version = row.get("LastModifiedDate") if isinstance(row, dict) else None
        return ref.model_copy(update={"version": version if isinstance(version, str) else None})

    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        """The Task as Salesforce holds it now; the version is its ``LastModifiedDate``."""
        raw = self._json(self._api("GET", f"/sobjects/Task/{ref.log_id}", params={"fields": self._read_fields()}))
        return self._stored(ref, raw)

    def _stored(self, ref: CallLogRef, raw: Any) -> StoredCallLog:
        try:
            task = _RawTask.model_validate(raw)
            modified = parse_sf_datetime(task.LastModifiedDate)
        except (PydanticValidationError, ValueError) as exc:
            raise self._malformed("a task", exc) from exc
        recording = raw.get(self._recording_field) if self._recording_field and isinstance(raw, dict) else None
        return StoredCallLog(
            ref=ref.model_copy(update={"version": task.LastModifiedDate, "contact_id": task.WhoId or ref.contact_id}),
            subject=task.Subject or "",
            body=task.Description or "",
            dispositions={CALL_RESULT: task.CallDisposition, RELATED_TO: task.WhatId},
            contact_id=task.WhoId,
            duration_seconds=task.CallDurationInSeconds,
            recording_url=recording if isinstance(recording, str) else None,
            modified_at=modified,
        )

    def _patch(self, ref: CallLogRef, fields: dict[str, Any], expected_version: str | None) -> None:
        headers = {"If-Unmodified-Since": if_unmodified_since(expected_version)} if expected_version else {}
        self._api("PATCH", f"/sobjects/Task/{ref.log_id}", json=fields, headers=headers)

    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        """Writes the fields ``change`` sets, guarded by ``If-Unmodified-Since`` when a version is given.

        Raises:
            ConflictError: someone saved the Task after ``expected_version`` (412): read it again
                and re-apply.
        """
        fields: dict[str, Any] = {}
        if change.subject is not None:
            fields["Subject"] = change.subject
        if change.body is not None:
            fields["Description"] = change.body
        if change.dispositions is not None:
            fields.update(self._disposition_fields(change.dispositions))
        if change.duration_seconds is not None:
            fields["CallDurationInSeconds"] = int(change.duration_seconds)
        if change.recording_url is not None and self._recording_field:
            fields[self._recording_field] = change.recording_url
        if not fields:
            return self.get_call_log(ref)
        patch: dict[str, Any] = {
            "method": "PATCH", "url": self._task_path(ref.log_id), "referenceId": "task", "body": fields
        }
        if expected_version:
            patch["httpHeaders"] = {"If-Unmodified-Since": if_unmodified_since(expected_version)}
        read = {"method": "GET", "url": f"{self._task_path(ref.log_id)}?fields={self._read_fields()}",
                "referenceId": "read"}
        # All or none: a refused write (412) reads nothing and changes nothing.
        written, current = self._composite([patch, read], all_or_none=True)
        for result in (written, current):
            error = self._failed(result)
            if error is not None:
                raise error
        return self._stored(ref, current.get("body"))

    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        """Sets Call Result and Related To; subject and note are not sent, so edits there stay."""
        fields = self._disposition_fields(values)
        if fields:
            self._patch(ref, fields, None)

    def find_call_log(self, call: Call) -> CallLogRef | None:
        """The Task whose ``CallObject`` is this call's session id (the oldest, if several)."""
        rows = self._query(  # the session id is quoted by soql_string
            f"SELECT Id, WhoId, LastModifiedDate FROM Task WHERE CallObject = {soql_string(call.session_id)} "  # noqa: S608
            "ORDER BY CreatedDate ASC LIMIT 1"
        )
        if not rows:
            return None
        try:
            task = _RawTaskRef.model_validate(rows[0])
        except PydanticValidationError as exc:
            raise self._malformed("a task", exc) from exc
        return CallLogRef(adapter_id=MANIFEST.id, log_id=task.Id, contact_id=task.WhoId, version=task.LastModifiedDate)

    def sign_out(self) -> None:
        """Revokes the refresh token (best effort) and forgets the tokens; the app deletes the secrets."""
        self._oauth.sign_out()

    def close(self) -> None:
        self._oauth.close()
