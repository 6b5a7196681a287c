# SPDX-License-Identifier: MIT
"""Pydantic models for RingCentral responses other than call-log records.

Call-log records are the shared :class:`adapters.models.Call`. Every model here tolerates unknown
fields (RingCentral adds fields without notice). :func:`validate` turns a pydantic failure into a
:class:`~adapters.base.MalformedResponse` that names the missing or malformed field.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, TypeVar

import pydantic
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from adapters.base import MalformedResponse
from adapters.models import Call

M = TypeVar("M", bound=BaseModel)

log = logging.getLogger(__name__)


class _Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


def field_path(error: pydantic.ValidationError) -> str:
    """The first failing field as a dotted wire path, e.g. ``records.3.startTime``."""
    first = error.errors()[0]
    return ".".join(str(part) for part in first["loc"]) or "(body)"


def validate(model: type[M], raw: Any, *, what: str) -> M:
    """``model.model_validate(raw)``, failing with a message that names the field.

    Args:
        model: the pydantic model.
        raw: the decoded JSON.
        what: what the payload is, for the message ("the signed-in extension").

    Raises:
        MalformedResponse: "RingCentral sent <what> with a missing or malformed 'startTime'".
    """
    try:
        return model.model_validate(raw)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        problem = "missing" if first["type"] == "missing" else "malformed"
        raise MalformedResponse(
            f"RingCentral sent {what} with a {problem} '{field_path(exc)}'.",
            vendor_message=first["msg"],
        ) from exc


class WsToken(BaseModel):
    """``POST /restapi/oauth/wstoken``: a single-use token for one WebSocket connection."""

    model_config = ConfigDict(extra="ignore")

    ws_access_token: str = Field(min_length=1)
    uri: str = Field(min_length=1)
    #: Seconds the token may be used to connect (30 in the guide's example; use it at once).
    expires_in: int = 30


class Contact(_Wire):
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


class AccountRef(_Wire):
    id: str


class Extension(_Wire):
    """The signed-in user: ``GET /restapi/v1.0/account/~/extension/~``."""

    id: str
    extension_number: str | None = None
    name: str | None = None
    contact: Contact | None = None
    account: AccountRef | None = None
    status: str | None = None
    type: str | None = None

    @pydantic.field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        # The API documents a number here; our models keep ids as text everywhere.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class RecordingInfo(_Wire):
    """Recording metadata: ``GET /restapi/v1.0/account/~/recording/{id}``."""

    id: str
    content_uri: str
    content_type: str | None = None
    duration: int | None = None


class Link(_Wire):
    uri: str


class Navigation(_Wire):
    next_page: Link | None = None


class CallLogPage(_Wire):
    """A page of the call log. Records stay raw here and are validated one by one."""

    records: list[dict[str, Any]]
    navigation: Navigation = Field(default_factory=Navigation)


class SyncInfo(_Wire):
    sync_type: str
    sync_token: str
    sync_time: str | None = None


class SyncPage(_Wire):
    """A ``call-log-sync`` response; records stay raw and are validated one by one."""

    records: list[dict[str, Any]]
    sync_info: SyncInfo


class RejectedRecord(BaseModel):
    """A call-log record that failed validation and was left out, with the reason."""

    id: str | None
    reason: str


class SyncResult(BaseModel):
    """What one :meth:`RingCentralClient.sync_call_log` call brought.

    Attributes:
        records: new and changed records (``deleted`` set on removed ones).
        sync_token: pass it to the next call.
        full: ``True`` when this was a full sync (first call, or RingCentral asked to start over):
            replace your list instead of merging into it.
        rejected: records left out because a needed field was missing or malformed.
    """

    records: list[Call]
    sync_token: str
    full: bool
    rejected: list[RejectedRecord] = Field(default_factory=list)


class InsightItem(_Wire):
    """One entry of an insight list (a transcript line, a summary paragraph, a score)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")

    value: str | None = None
    text: str | None = None
    speaker_id: str | None = None
    start: float | None = None
    end: float | None = None
    section: str | None = None

    @pydantic.field_validator("value", mode="before")
    @classmethod
    def _value_as_text(cls, value: Any) -> Any:
        # AIScore arrives as "8" or as 91.
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class Speaker(_Wire):
    """One participant of ``speakerInfo``. Only an entry with a ``speakerId`` can name transcript lines."""

    speaker_id: str
    name: str | None = None
    extension_id: str | None = None
    account_id: str | None = None

    @pydantic.field_validator("speaker_id", "extension_id", "account_id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _readable(model: type[M], raw_items: Any, *, what: str) -> list[Any]:
    """The entries of ``raw_items`` that ``model`` can read, in order; the others are left out.

    One odd entry (a speaker without an id, a transcript line whose text is not text) costs that
    entry, never the whole answer. Anything but a list reads as no entries.
    """
    if not isinstance(raw_items, list):
        return []
    kept: list[Any] = []
    for index, item in enumerate(raw_items):
        try:
            model.model_validate(item)
        except pydantic.ValidationError as exc:
            log.debug("RingSense %s %d left out: %s", what, index, field_path(exc))
            continue
        kept.append(item)
    return kept


class Insights(_Wire):
    """RingSense insights for one recording.

    The note engine converts RingSense JSON itself: :attr:`raw` is the body exactly as received.
    The typed fields are what the client checks before handing it over.
    """

    source_record_id: str
    source_session_id: str | None = None
    title: str | None = None
    call_direction: str | None = None
    rs_record_uri: str | None = None
    recording_duration_ms: int | None = None
    creation_time: datetime | None = None
    speaker_info: list[Speaker] = Field(default_factory=list)
    insights: dict[str, list[InsightItem]] = Field(default_factory=dict)
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True)

    # RingCentral's specification types speakerInfo as a list of untyped objects (RecordingInsights
    # in ringcentral/ringcentral-extensible packages/core/src/definitions/RecordingInsights.ts:
    # ``speakerInfo?: object[]``), so entries are read one by one: what is there is kept, an entry
    # that cannot be read (a speaker without speakerId) is skipped, and the answer stands.
    @pydantic.field_validator("speaker_info", mode="before")
    @classmethod
    def _readable_speakers(cls, value: Any) -> Any:
        return _readable(Speaker, value, what="speaker")

    @pydantic.field_validator("insights", mode="before")
    @classmethod
    def _readable_insights(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return {}
        return {
            str(kind): _readable(InsightItem, items, what=f"{kind} entry")
            for kind, items in value.items()
            if isinstance(items, list)
        }

    @pydantic.model_validator(mode="wrap")
    @classmethod
    def _keep_raw(cls, data: Any, handler: pydantic.ValidatorFunctionWrapHandler) -> Any:
        model = handler(data)
        if isinstance(data, dict) and isinstance(model, Insights) and not model.raw:
            model.raw = dict(data)
        return model

    def get(self, kind: str) -> list[InsightItem]:
        """One insight list by name, matched case-insensitively (``Highlights``/``HighLights``)."""
        for key, items in self.insights.items():
            if key.lower() == kind.lower():
                return items
        return []

    @property
    def transcript(self) -> list[InsightItem]:
        return self.get("Transcript")

    def speaker_name(self, speaker_id: str | None) -> str | None:
        for speaker in self.speaker_info:
            if speaker.speaker_id == speaker_id:
                return speaker.name
        return None
