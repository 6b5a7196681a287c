# SPDX-License-Identifier: MIT
"""Shared data models: what RingCentral says about a call, and what a CRM stores.

Every value that crosses a layer boundary is one of these pydantic models. Raw dicts from a
vendor are named ``raw_*`` until a model below has validated them, and never leave ``adapters/``.

RingCentral models tolerate unknown fields (new fields appear without notice) and use the API's
camelCase names on the wire (``Call.model_validate(raw_record)``), snake_case in Python.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class _Wire(BaseModel):
    """A model read from a vendor's JSON: camelCase aliases, unknown fields ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


class Direction(StrEnum):
    INBOUND = "Inbound"
    OUTBOUND = "Outbound"


class Party(_Wire):
    """One end of a call (``from`` or ``to``). Any field may be missing."""

    phone_number: str | None = None
    extension_number: str | None = None
    extension_id: str | None = None
    name: str | None = None
    location: str | None = None


class Recording(_Wire):
    """A call recording's metadata as embedded in a call-log record."""

    id: str
    uri: str | None = None
    type: str | None = None
    content_uri: str | None = None


class MessageRef(_Wire):
    id: str
    type: str | None = None
    uri: str | None = None


class ExtensionRef(_Wire):
    id: int | str | None = None
    uri: str | None = None


class Leg(_Wire):
    """One leg of a call in the Detailed view: transfers, queues, forwarding."""

    start_time: datetime | None = None
    duration: int | None = None
    direction: Direction | None = None
    action: str | None = None
    result: str | None = None
    reason: str | None = None
    from_: Party | None = Field(default=None, validation_alias=AliasChoices("from", "from_"))
    to: Party | None = None
    leg_type: str | None = None
    master: bool | None = None
    extension: ExtensionRef | None = None
    recording: Recording | None = None
    telephony_session_id: str | None = None

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", serialize_by_alias=True
    )


class Call(_Wire):
    """A RingCentral call-log record (Detailed view).

    ``session_id`` plus the agent's extension identifies the call for logging purposes; several
    records (legs, transfers) can share one ``telephony_session_id``.
    """

    id: str
    session_id: str
    telephony_session_id: str | None = None
    party_id: str | None = None
    start_time: datetime
    duration: int | None = None
    duration_ms: int | None = None
    type: str | None = "Voice"
    direction: Direction
    action: str | None = None
    result: str | None = None
    reason: str | None = None
    from_: Party = Field(default_factory=Party, validation_alias=AliasChoices("from", "from_"))
    to: Party = Field(default_factory=Party)
    recording: Recording | None = None
    short_recording: bool | None = None
    message: MessageRef | None = None
    transport: str | None = None
    extension: ExtensionRef | None = None
    last_modified_time: datetime | None = None
    deleted: bool | None = None
    legs: list[Leg] = Field(default_factory=list)

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", serialize_by_alias=True
    )

    @property
    def remote(self) -> Party:
        """The other party, seen from the agent: the caller of an inbound call, the callee otherwise."""
        return self.from_ if self.direction is Direction.INBOUND else self.to

    @property
    def local(self) -> Party:
        """The agent's own end of the call."""
        return self.to if self.direction is Direction.INBOUND else self.from_

    def to_raw(self) -> dict[str, Any]:
        """The record back in RingCentral's JSON shape (camelCase, ``from``)."""
        raw = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        if "from_" in raw:
            raw["from"] = raw.pop("from_")
        for leg in raw.get("legs", []):
            if "from_" in leg:
                leg["from"] = leg.pop("from_")
        return raw


class Option(BaseModel):
    """One choice in a selection field (a disposition, a deal, a matter)."""

    id: str
    label: str


class Contact(BaseModel):
    """A CRM record a call can be logged against (a contact, lead, person, internal user)."""

    id: str
    name: str
    phone: str | None = None
    type: str = "Contact"
    company: str | None = None
    owner: str | None = None
    created_at: datetime | None = None
    is_internal: bool = False
    #: Options for the log page's contact-dependent fields, keyed by field id.
    options: dict[str, list[Option]] = Field(default_factory=dict)


FieldValue = str | bool | None


class CallLogRef(BaseModel):
    """Where a call log lives in a CRM."""

    adapter_id: str
    log_id: str
    contact_id: str | None = None
    #: The CRM's opaque concurrency token (ETag, LastModifiedDate, version counter), if any.
    version: str | None = None


class LogEntry(BaseModel):
    """What the engine asks an adapter to create: the composed note and the agent's choices."""

    subject: str
    body: str
    dispositions: dict[str, FieldValue] = Field(default_factory=dict)
    #: Structured artifact values, filled where the CRM has a field for them.
    duration_seconds: int | None = None
    recording_url: str | None = None
    #: The agent's time zone (IANA name, the one the note's times are written in), for CRM fields
    #: that hold a date without a time zone; ``None``: the computer's zone
    #: (:func:`adapters.base.agent_time_zone`).
    time_zone: str | None = None


class LogUpdate(BaseModel):
    """A write to an existing log. ``None`` means "leave this field as it is"."""

    subject: str | None = None
    body: str | None = None
    dispositions: dict[str, FieldValue] | None = None
    duration_seconds: int | None = None
    recording_url: str | None = None


class StoredCallLog(BaseModel):
    """A call log as the CRM holds it now (what ``get_call_log`` returns)."""

    ref: CallLogRef
    subject: str
    body: str
    dispositions: dict[str, FieldValue] = Field(default_factory=dict)
    contact_id: str | None = None
    contact_name: str | None = None
    duration_seconds: int | None = None
    recording_url: str | None = None
    modified_at: datetime | None = None

    @property
    def version(self) -> str | None:
        return self.ref.version
