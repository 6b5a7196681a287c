# SPDX-License-Identifier: MIT
"""The Acme CRM adapter: logs calls as Acme "activities".

This is the template to start a new adapter from. Each method shows one part of the contract:

- the :data:`AcmeAdapter.manifest` declares the connect form (an API token, kept in the
  keyring), the log page (an outcome selection and a follow-up checkbox), field limits and
  capabilities;
- :meth:`AcmeAdapter.find_contact` searches with :func:`adapters.phone.search_candidates`,
  because Acme matches the stored phone text exactly, with the region and the user's patterns
  read by :func:`adapters.base.phone_settings`;
- the API address can be changed (a fake on loopback, a vendor's EU host) through
  :func:`adapters.api_override.api_base_override`, which refuses plain ``http`` anywhere but on
  this machine: the API token follows the address, and must not cross a network in clear text;
- writes go through :func:`adapters.http.send`, which maps every failure to the error
  hierarchy; vendor payloads are ``raw_*`` until a pydantic model has validated them;
- updates send only the fields that change and ``If-Match`` with the version that was read,
  so a record edited in Acme meanwhile is never overwritten.

Threading: the engine calls one instance from one worker thread at a time; the instance holds
one ``httpx.Client`` and no other state.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict
from pydantic import ValidationError as PydanticValidationError

from adapters import phone as phones
from adapters.api_override import SETTING_API_BASE_URL, api_base_override
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
    PageField,
    PageFieldKind,
    SecretsSaver,
    UrlTemplates,
    ValidationError,
    make_client,
    phone_settings,
)
from adapters.http import json_body, send
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

CRM = "Acme CRM"
DEFAULT_BASE_URL = "https://api.acme-crm.example"
#: Developer option: the API address for every Acme account on this machine
#: (a fake on loopback).
ENV_BASE_URL = "LOGDESK_ACME_URL"

#: Page-field id → Acme activity field. Everything the log page offers is listed here.
_FIELD_MAP = {"outcome": "outcome", "follow_up": "follow_up", "deal": "deal_id", "ticket": "ticket"}

_M = TypeVar("_M", bound=BaseModel)


def _acme_error(raw_body: Any) -> tuple[str | None, str | None]:
    """Acme's error envelope ``{"error": {"code", "message", "field"}}``
    → (message, field)."""
    if isinstance(raw_body, dict) and isinstance(raw_body.get("error"), dict):
        raw_error = raw_body["error"]
        message = raw_error.get("message")
        field = raw_error.get("field")
        return (str(message) if message else None, str(field) if field else None)
    return None, None


class _AcmeDeal(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    name: str


class _AcmePerson(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    name: str
    phone: str | None = None
    company: str | None = None
    extension: str | None = None
    deals: list[_AcmeDeal] = []


class _AcmeActivity(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str
    subject: str
    note: str
    contact_id: str | None = None
    duration_seconds: int | None = None
    recording_url: str | None = None
    outcome: str | None = None
    follow_up: bool = False
    deal_id: str | None = None
    ticket: str | None = None
    version: int
    updated_at: datetime | None = None


class AcmeAdapter:
    """Acme CRM (see the module docstring).

    Args:
        connection: ``secrets["api_token"]``; ``settings["api_base_url"]`` (optional: another API
            address, ``https``, or ``http`` on loopback only;
            ``LOGDESK_ACME_URL`` does the same),
            ``settings["phone_region"]`` (default phone region) and ``settings["phone_patterns"]``
            (extra search formats, one per line, ``#`` = a digit), read with ``phone_settings``.
        client: an ``httpx.Client`` to use (tests pass one over the fake server's transport).
        save_secrets: unused: Acme tokens do not rotate.

    Raises:
        AuthError: when no API token is configured.
    """

    manifest: ClassVar[Manifest] = Manifest(
        id="acme",
        name=CRM,
        log_format="text/plain",
        auth=AuthSpec(
            kind=AuthKind.TOKEN,
            fields=[
                AuthField(
                    key="api_token",
                    label="API token",
                    secret=True,
                    help="Acme → Settings → API → New token",
                ),
                AuthField(
                    key=SETTING_API_BASE_URL,
                    label="API address",
                    required=False,
                    default=DEFAULT_BASE_URL,
                    help="https only; http only on this computer (127.0.0.1), for a fake server",
                ),
            ],
        ),
        page_fields=[
            PageField(
                id="outcome",
                label="Outcome",
                kind=PageFieldKind.SELECTION,
                options=[
                    Option(id="connected", label="Connected"),
                    Option(id="voicemail", label="Left voicemail"),
                    Option(id="no_answer", label="No answer"),
                    Option(id="busy", label="Busy"),
                ],
                defaults={"Inbound": "connected"},
            ),
            PageField(id="follow_up", label="Follow up", kind=PageFieldKind.CHECKBOX, defaults={"*": False}),
            # Options come from the chosen contact (Contact.options["deal"]), as find_contact returns them.
            PageField(id="deal", label="Deal", kind=PageFieldKind.SELECTION, contact_dependent=True),
            PageField(
                id="ticket",
                label="Support ticket",
                kind=PageFieldKind.TEXT,
                pattern=r"[A-Z]{2,5}-\d{1,6}",
                help="e.g. SUP-123",
            ),
            PageField(
                id="acme_notice",
                label="Logs appear on the contact's timeline in Acme.",
                kind=PageFieldKind.NOTICE,
            ),
        ],
        limits=FieldLimits(subject_chars=200, body=10_000, body_unit="chars"),
        capabilities=Capabilities(
            extension_logging=True,
            find_by_session_id=True,
            versioned_writes=True,
            artifact_fields=("duration", "recording"),
        ),
        urls=UrlTemplates(
            open_log="https://app.acme-crm.example/activities/{log_id}",
            open_contact="https://app.acme-crm.example/contacts/{contact_id}",
        ),
    )

    def __init__(
        self,
        connection: Connection,
        *,
        client: httpx.Client | None = None,
        save_secrets: SecretsSaver | None = None,
    ) -> None:
        token = connection.secrets.get("api_token", "").strip()
        if not token:
            raise AuthError(f"{CRM} needs an API token. Add it in Settings.")
        self._auth = {"Authorization": f"Bearer {token}"}
        # The token goes wherever the address points: plain http only to this machine. A refused
        # address is reported by the first request (and "Test connection"), never used.
        self._config_error: AdapterError | None = None
        try:
            override = api_base_override(connection.settings, ENV_BASE_URL)
        except AuthError as exc:
            override, self._config_error = None, exc
        self._base = override or DEFAULT_BASE_URL
        self._region, self._patterns = phone_settings(connection.settings)
        self._client = make_client(client=client)

    # --- plumbing -----------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, headers: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        """Sends one request and returns its ``data`` (still raw: validate before use)."""
        if self._config_error is not None:
            raise self._config_error
        response = send(
            self._client,
            method,
            f"{self._base}{path}",
            crm=CRM,
            parse=_acme_error,
            headers={**self._auth, **(headers or {})},
            **kwargs,
        )
        raw_body = json_body(response, crm=CRM)
        if not isinstance(raw_body, dict) or "data" not in raw_body:
            raise MalformedResponse(f"{CRM} sent a response without data.", status=response.status_code)
        return raw_body["data"]

    @staticmethod
    def _parse(model: type[_M], raw: Any) -> _M:
        try:
            return model.model_validate(raw)
        except PydanticValidationError as exc:
            raise MalformedResponse(f"{CRM} sent a record in an unexpected shape.", vendor_message=str(exc)) from exc

    def _stored(self, raw_activity: Any) -> StoredCallLog:
        activity = self._parse(_AcmeActivity, raw_activity)
        ref = CallLogRef(
            adapter_id=self.manifest.id,
            log_id=activity.id,
            contact_id=activity.contact_id,
            version=str(activity.version),
        )
        return StoredCallLog(
            ref=ref,
            subject=activity.subject,
            body=activity.note,
            dispositions={
                "outcome": activity.outcome,
                "follow_up": activity.follow_up,
                "deal": activity.deal_id,
                "ticket": activity.ticket,
            },
            contact_id=activity.contact_id,
            duration_seconds=activity.duration_seconds,
            recording_url=activity.recording_url,
            modified_at=activity.updated_at,
        )

    @staticmethod
    def _disposition_fields(values: Mapping[str, FieldValue]) -> dict[str, FieldValue]:
        unknown = sorted(set(values) - set(_FIELD_MAP))
        if unknown:
            raise ValidationError(f"{CRM} has no field {unknown[0]!r}.", field=unknown[0])
        return {_FIELD_MAP[key]: value for key, value in values.items()}

    # --- the adapter contract -----------------------------------------------------------------

    def verify(self) -> str:
        raw_me = self._request("GET", "/v1/me")
        if not isinstance(raw_me, dict):
            return CRM
        return str(raw_me.get("name") or raw_me.get("email") or f"a {CRM} user")

    def find_contact(self, phone: str, *, is_extension: bool = False) -> list[Contact]:
        if is_extension:
            extension = phones.digits_only(phone)
            if not extension:
                return []
            raw_users = self._request("GET", "/v1/users", params={"extension": extension})
            people = [self._parse(_AcmePerson, raw) for raw in raw_users or []]
            return [Contact(id=p.id, name=p.name, phone=p.extension, type="User", is_internal=True) for p in people]
        # Acme compares stored text exactly:
        # ask for every way the number may have been typed.
        candidates = phones.search_candidates(phone, region=self._region, patterns=self._patterns)[:20]
        raw_contacts = self._request("GET", "/v1/contacts", params=[("phone", c) for c in candidates])
        seen: dict[str, Contact] = {}
        for raw in raw_contacts or []:
            person = self._parse(_AcmePerson, raw)
            deals = [Option(id=d.id, label=d.name) for d in person.deals]
            seen.setdefault(
                person.id,
                Contact(
                    id=person.id, name=person.name, phone=person.phone, company=person.company, options={"deal": deals}
                ),
            )
        return list(seen.values())

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        raw_request: dict[str, Any] = {
            "subject": entry.subject,
            "note": entry.body,
            "contact_id": contact.id,
            "direction": "inbound" if call.direction is Direction.INBOUND else "outbound",
            "started_at": call.start_time.isoformat(),
            "external_id": call.session_id,
            **self._disposition_fields(entry.dispositions),
        }
        if entry.duration_seconds is not None:
            raw_request["duration_seconds"] = entry.duration_seconds
        if entry.recording_url is not None:
            raw_request["recording_url"] = entry.recording_url
        return self._stored(self._request("POST", "/v1/activities", json=raw_request)).ref

    def get_call_log(self, ref: CallLogRef) -> StoredCallLog:
        return self._stored(self._request("GET", f"/v1/activities/{ref.log_id}"))

    def update_call_log(
        self, ref: CallLogRef, change: LogUpdate, *, expected_version: str | None = None
    ) -> StoredCallLog:
        raw_patch: dict[str, Any] = {}
        if change.subject is not None:
            raw_patch["subject"] = change.subject
        if change.body is not None:
            raw_patch["note"] = change.body
        if change.dispositions is not None:
            raw_patch.update(self._disposition_fields(change.dispositions))
        if change.duration_seconds is not None:
            raw_patch["duration_seconds"] = change.duration_seconds
        if change.recording_url is not None:
            raw_patch["recording_url"] = change.recording_url
        if not raw_patch:
            return self.get_call_log(ref)
        headers = {"If-Match": f'"{expected_version}"'} if expected_version is not None else {}
        return self._stored(self._request("PATCH", f"/v1/activities/{ref.log_id}", json=raw_patch, headers=headers))

    def upsert_disposition(self, ref: CallLogRef, values: Mapping[str, FieldValue]) -> None:
        self._request("PATCH", f"/v1/activities/{ref.log_id}", json=self._disposition_fields(values))

    def find_call_log(self, call: Call) -> CallLogRef | None:
        raw_found = self._request("GET", "/v1/activities", params={"external_id": call.session_id})
        if not raw_found:
            return None
        return self._stored(raw_found[-1]).ref

    def close(self) -> None:
        self._client.close()
