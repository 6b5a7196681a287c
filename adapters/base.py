# SPDX-License-Identifier: MIT
"""The CRM adapter contract: the protocol, the manifest and the error hierarchy.

Threading contract: the engine calls an adapter from one worker thread at a time (one job per CRM
account). Adapters do blocking I/O with a synchronous ``httpx.Client`` and must not touch Qt.

Adapters never compose or merge notes themselves: the engine reads the record, substitutes with
:mod:`adapters.notes`, and writes the result back, so the substitution rules live in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import tzinfo
from enum import StrEnum
from typing import ClassVar, Literal, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from pydantic import BaseModel, Field

from adapters.models import Call, CallLogRef, Contact, FieldValue, LogEntry, LogUpdate, Option, StoredCallLog

LogFormat = Literal["text/plain", "text/html", "text/markdown"]
#: A call artifact that a CRM may keep in a field of its own (see ``Capabilities.artifact_fields``).
ArtifactField = Literal["duration", "recording"]


# --- errors -------------------------------------------------------------------------------------


class AdapterError(Exception):
    """Base class for every failure an adapter reports.

    Args:
        message: what the agent should read, in plain words.
        vendor_message: what the CRM itself said, kept verbatim for the details view.
        status: the HTTP status, when there was one.
    """

    #: Whether retrying the same request later may succeed.
    retryable: ClassVar[bool] = False

    def __init__(self, message: str, *, vendor_message: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.vendor_message = vendor_message
        self.status = status

    def __str__(self) -> str:
        if self.vendor_message and self.vendor_message not in self.message:
            return f"{self.message} ({self.vendor_message})"
        return self.message


class AuthError(AdapterError):
    """The credentials are missing, wrong, expired or revoked: the user must reconnect."""


class PermissionDenied(AdapterError):
    """Signed in, but not allowed to do this (a scope, a licence, a role)."""


class NotFound(AdapterError):
    """The record does not exist (any more)."""


class ConflictError(AdapterError):
    """The record changed since it was read (409/412): read it again and re-apply."""


class ValidationError(AdapterError):
    """The CRM rejected a value. ``field`` names it when the CRM said which."""

    def __init__(self, message: str, *, field: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.field = field


class RateLimited(AdapterError):
    """Too many requests. Nothing more should be sent for ``retry_after`` seconds."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after


class TransientError(AdapterError):
    """A timeout, a dropped connection or a 5xx: retry with backoff."""

    retryable = True


class MalformedResponse(TransientError):
    """The CRM answered with something that is not what its API documents."""


# --- manifest -----------------------------------------------------------------------------------


class AuthKind(StrEnum):
    NONE = "none"
    TOKEN = "token"  # noqa: S105 (an auth kind, not a credential)
    OAUTH_PKCE = "oauth_pkce"


class AuthField(BaseModel):
    """One value the connect form asks for. ``secret`` values go to the keyring only."""

    key: str
    label: str
    secret: bool = False
    required: bool = True
    placeholder: str = ""
    help: str = ""
    default: str = ""


class OAuthSpec(BaseModel):
    """How to sign in with authorization code + PKCE through the system browser."""

    authorize_url: str
    token_url: str
    revoke_url: str | None = None
    scopes: list[str] = Field(default_factory=list)
    #: Whether the CRM insists on a client secret even with PKCE (Clio does).
    needs_client_secret: bool = False


class AuthSpec(BaseModel):
    kind: AuthKind = AuthKind.NONE
    fields: list[AuthField] = Field(default_factory=list)
    oauth: OAuthSpec | None = None


class PageFieldKind(StrEnum):
    SELECTION = "selection"
    CHECKBOX = "checkbox"
    TEXT = "text"
    NOTICE = "notice"


class PageField(BaseModel):
    """A field on the log page: a disposition, an association, a flag, a notice."""

    id: str
    label: str
    kind: PageFieldKind
    required: bool = False
    options: list[Option] = Field(default_factory=list)
    #: Options come from the chosen contact (``Contact.options[id]``) and reload when it changes.
    contact_dependent: bool = False
    #: For text fields: a regular expression the whole value must match.
    pattern: str | None = None
    #: Default value per call direction ("Inbound"/"Outbound"); "*" applies to both.
    defaults: dict[str, FieldValue] = Field(default_factory=dict)
    help: str = ""

    def default_for(self, direction: str) -> FieldValue:
        return self.defaults.get(direction, self.defaults.get("*"))


class FieldLimits(BaseModel):
    """How much the CRM stores. The note engine shortens bodies to fit."""

    subject_chars: int | None = None
    body: int | None = None
    body_unit: Literal["chars", "bytes"] = "chars"


class Capabilities(BaseModel):
    extension_logging: bool = False
    find_by_session_id: bool = False
    create_contact: bool = False
    #: Writes carry a version precondition (ETag, If-Unmodified-Since, version counter).
    versioned_writes: bool = False
    #: ``update_call_log`` with ``expected_version`` reads the record itself right before it
    #: writes (the CRM has no precondition: the version is checked by reading), so such an update
    #: costs a read as well as the write.
    update_reads_first: bool = False
    #: The log's own fields, beside the note, that hold the call's final duration and its
    #: recording link. An ``update_call_log`` that sets only these, without ``expected_version``,
    #: writes them without reading the record first; the engine sends them that way while the
    #: note waits for more of the call's artifacts (see ``desktop/engine/lifecycle.py``).
    artifact_fields: tuple[ArtifactField, ...] = ()


class UrlTemplates(BaseModel):
    """Links into the CRM. Placeholders: ``{log_id}``, ``{contact_id}`` and any auth field key."""

    open_log: str | None = None
    open_contact: str | None = None


class Manifest(BaseModel):
    """Static description of an adapter. The settings and log dialogs are generated from it."""

    id: str
    name: str
    log_format: LogFormat = "text/plain"
    auth: AuthSpec = Field(default_factory=AuthSpec)
    page_fields: list[PageField] = Field(default_factory=list)
    limits: FieldLimits = Field(default_factory=FieldLimits)
    capabilities: Capabilities = Field(default_factory=Capabilities)
    urls: UrlTemplates = Field(default_factory=UrlTemplates)

    def field(self, field_id: str) -> PageField:
        for f in self.page_fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)


# --- the adapter protocol -----------------------------------------------------------------------


class Connection(BaseModel):
    """Everything an adapter instance needs to reach one CRM account.

    ``settings`` are the non-secret auth field values (a domain, a region); ``secrets`` are the
    secret ones, resolved from the keyring on the GUI thread before the adapter is built.
    """

    settings: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict, repr=False)


#: ``Connection.settings`` keys the app fills in for every adapter, beside the manifest's auth
#: fields: the default phone region (ISO code, e.g. ``US``) and the user's phone search patterns
#: for CRMs that match stored text (one per line, ``#`` standing for a digit); see
#: :func:`adapters.phone.search_candidates`.
SETTING_REGION = "phone_region"
SETTING_PHONE_PATTERNS = "phone_patterns"


def phone_settings(settings: Mapping[str, str], *, extra_patterns: str = "") -> tuple[str, list[str]]:
    """The default phone region and the search patterns from ``Connection.settings``.

    Args:
        settings: the connection's settings (``SETTING_REGION``, ``SETTING_PHONE_PATTERNS``).
        extra_patterns: an adapter's own pattern field, patterns separated by newlines or ``;``.
    """
    region = (settings.get(SETTING_REGION) or "US").strip().upper() or "US"
    raw = "\n".join([settings.get(SETTING_PHONE_PATTERNS, ""), extra_patterns])
    patterns = [p.strip() for p in re.split(r"[\n;]", raw) if p.strip()]
    return region, list(dict.fromkeys(patterns))


def agent_time_zone(name: str | None) -> tzinfo | None:
    """The zone of ``LogEntry.time_zone`` (an IANA name), for fields that hold a date without a zone.

    ``None`` when no name is given or it is not a known IANA zone: ``datetime.astimezone(None)``
    then uses the computer's zone, which is what the agent sees on the wall clock.
    """
    name = (name or "").strip()
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


#: Called by an adapter when it obtained new secrets (a rotated OAuth token pair). The app
#: persists them to the keyring before the adapter uses them.
SecretsSaver = Callable[[Mapping[str, str]], None]


@runtime_checkable
class CrmAdapter(Protocol):
    """One CRM account. Built by ``AdapterClass(connection, client=..., save_secrets=...)``.

    Every method may raise any :class:`AdapterError` subclass and nothing else.
    """

    manifest: ClassVar[Manifest]

    def verify(self) -> str:
        """Check the credentials with a cheap identity call; return who we are signed in as."""
        ...

    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        """Contacts whose phone matches ``phone`` (any format), or internal users by extension."""
        ...

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef: ...

    def get_call_log(self, ref: CallLogRef) -> StoredCallLog: ...

    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        """Write ``change``. With ``expected_version``, raise :class:`ConflictError` if the record
        changed since it was read (where the CRM supports a precondition)."""
        ...

    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None: ...

    def find_call_log(self, call: Call) -> CallLogRef | None:
        """The log created for ``call``, if any: how the outbox recovers after a crash."""
        ...

    def close(self) -> None: ...


AdapterFactory = Callable[..., CrmAdapter]


@runtime_checkable
class HasLivePageFields(Protocol):
    """Optional: an adapter whose page-field options change at run time (a configurable
    disposition list, picklists read from the CRM) offers them through ``page_fields()``."""

    def page_fields(self) -> list[PageField]: ...


def page_fields_for(adapter: object) -> list[PageField]:
    """The log page's fields for this adapter instance: its live ones if it has them, else the
    manifest's. Call it on a worker thread: a live lookup may do I/O."""
    if isinstance(adapter, HasLivePageFields):
        return adapter.page_fields()
    manifest: Manifest = getattr(adapter, "manifest")  # noqa: B009 (any object with a manifest)
    return list(manifest.page_fields)


def default_value(field: PageField, direction: str, contact: Contact | None = None) -> FieldValue:
    """What ``field`` holds on a new log of a ``direction`` call with ``contact``, before anyone
    chooses: what the log page shows pre-filled, and what auto-log writes.

    - a selection takes its default for the direction (``defaults["Inbound"]``, else ``"*"``); a
      contact-dependent one takes that default when the contact offers it, else the contact's only
      option, else nothing;
    - a checkbox is ticked when its default is true;
    - a text field takes a non-empty text default;
    - a notice holds no value (``None``).
    """
    value = field.default_for(direction)
    if field.kind is PageFieldKind.NOTICE:
        return None
    if field.kind is PageFieldKind.CHECKBOX:
        return bool(value)
    if field.kind is PageFieldKind.TEXT:
        return value.strip() or None if isinstance(value, str) else None
    if field.contact_dependent:
        ids = [o.id for o in (contact.options.get(field.id, []) if contact is not None else [])]
        if value in ids:
            return value
        return ids[0] if len(ids) == 1 else None
    return value if isinstance(value, str) and value else None


def page_field_defaults(
    fields: Sequence[PageField], direction: str, contact: Contact | None = None
) -> dict[str, FieldValue]:
    """Every value-holding field's :func:`default_value`, keyed by field id (notices left out):
    the dispositions a new log starts with, on the log page and in auto-log alike."""
    return {f.id: default_value(f, direction, contact) for f in fields if f.kind is not PageFieldKind.NOTICE}


def make_client(base_url: str = "", *, timeout: float = 20.0, client: httpx.Client | None = None) -> httpx.Client:
    """The shared httpx client construction: explicit timeouts, no environment proxies in tests."""
    if client is not None:
        return client
    return httpx.Client(base_url=base_url, timeout=httpx.Timeout(timeout, connect=10.0))
