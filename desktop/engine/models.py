# SPDX-License-Identifier: MIT
"""Plain data the engine hands to the UI: rows, drafts, edit sessions, outcomes, status.

Every model here is frozen: the UI receives copies it may read from any thread, and changes
flow back only through :class:`desktop.engine.service.Engine` methods.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from adapters.models import CallLogRef, FieldValue


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class LogStatus(StrEnum):
    """Where a call is in its lifecycle (one per row in the calls table)."""

    UNLOGGED = "unlogged"
    #: All-at-once mode: the agent (or auto-log) asked to log; waiting until every artifact is ready.
    WAITING = "waiting"
    #: A create is queued or in flight.
    LOGGING = "logging"
    #: Logged; nothing is pending right now.
    LOGGED = "logged"
    #: Logged; duration, recording, AI note or transcript still to come (or an update queued).
    PENDING = "pending"
    #: The CRM refused the create or an update permanently; ``last_error`` says why.
    FAILED = "failed"
    #: Logged and every expected artifact written (or given up, or left alone after an edit).
    COMPLETE = "complete"


class ArtifactKind(StrEnum):
    DURATION = "duration"
    RECORDING = "recording"
    AI_NOTE = "ai_note"
    TRANSCRIPT = "transcript"


class ArtifactState(StrEnum):
    """What the engine knows about one artifact of one call."""

    #: Not expected (no recording, no AI licence, ...).
    ABSENT = "absent"
    #: Expected; RingCentral does not have it yet.
    PENDING = "pending"
    #: Known, not yet in the CRM.
    READY = "ready"
    #: In the CRM record.
    WRITTEN = "written"
    #: The agent edited or removed that part of the CRM record: left alone.
    SKIPPED = "skipped"
    #: Not available after the give-up time; the placeholder says so.
    GIVEN_UP = "given_up"


class CallFilter(StrEnum):
    ALL = "all"
    UNLOGGED = "unlogged"
    LOGGED = "logged"
    PENDING = "pending"
    FAILED = "failed"


class LiveInfo(_Frozen):
    """What RingCentral's live events said about a call (the strip above the table shows it).

    ``state`` is one of ``ringing``, ``connected``, ``on_hold``, ``parked``, ``voicemail``, ``ended``.
    """

    telephony_session_id: str
    state: str
    rang_at: datetime
    answered_at: datetime | None = None
    held_since: datetime | None = None
    ended_at: datetime | None = None
    recording: bool = False
    recording_active: bool = False
    queue_name: str | None = None
    end_reason: str | None = None
    transferred: bool = False

    @property
    def is_live(self) -> bool:
        return self.state != "ended"


class CallRow(_Frozen):
    """One call as the calls table shows it."""

    call_id: str
    session_id: str
    direction: str
    start_time: datetime
    remote_number: str | None
    remote_name: str | None
    #: The CRM contact the call is (or will be) logged against, when known.
    contact_id: str | None = None
    contact_name: str | None = None
    duration: int | None
    result: str | None
    has_recording: bool = False
    status: LogStatus
    #: Artifacts still expected for this call.
    pending: tuple[ArtifactKind, ...] = ()
    last_error: str | None = None
    crm_log_id: str | None = None
    #: Why auto-log left the call unlogged ("2 contacts match +1 650 …"), when it did.
    unlogged_reason: str | None = None
    #: Where "Open in CRM" goes, when the call is logged and the adapter has a link template.
    log_url: str | None = None
    #: The other party is a colleague's extension, not a phone number.
    is_internal: bool = False
    #: What live events said, for calls Logdesk saw ringing (None for calls known from the call log only).
    live: LiveInfo | None = None

    @property
    def phone(self) -> str | None:
        """The other party's number (or extension), as the table shows it."""
        return self.remote_number

    @property
    def duration_seconds(self) -> int | None:
        return self.duration

    @property
    def detail(self) -> str | None:
        """One line for the status column's tooltip: the failure, or why the call is unlogged."""
        return self.last_error or self.unlogged_reason


class LiveChange(_Frozen):
    """What one live event changed for the agent: the call's row and its transitions."""

    row: CallRow
    #: The call just appeared (its first ring).
    rang: bool = False
    #: The call was just answered.
    connected: bool = False
    #: The call just ended for the agent.
    ended: bool = False
    #: Auto-log queued the CRM log at connect.
    auto_log_queued: bool = False


class Draft(_Frozen):
    """The agent's unsaved input for one call, saved as they type."""

    contact_id: str | None = None
    contact_name: str | None = None
    subject: str = ""
    #: True once the agent typed in the subject: it no longer follows the contact choice.
    subject_edited: bool = False
    note: str = ""
    dispositions: dict[str, FieldValue] = Field(default_factory=dict)


class EditSession(_Frozen):
    """A logged call opened for editing (from ``get_call_log``)."""

    call_id: str
    ref: CallLogRef
    subject: str
    note: str
    dispositions: dict[str, FieldValue] = Field(default_factory=dict)
    version: str | None = None
    contact_id: str | None = None
    contact_name: str | None = None


class SyncOutcome(_Frozen):
    new: int = 0
    updated: int = 0
    full: bool = False
    auto_logged: int = 0
    offline: bool = False


class PollOutcome(_Frozen):
    #: Insights requests sent to RingCentral in this cycle.
    insights_checked: int = 0
    #: Artifacts that became ready (or were given up) in this cycle.
    became_ready: int = 0
    given_up: int = 0
    #: Calls for which one CRM update is now queued.
    updates_queued: int = 0


class OutboxOutcome(_Frozen):
    done: int = 0
    failed: int = 0
    retried: int = 0
    #: True when nothing more is due now (the rest waits for ``next_due``).
    idle: bool = True
    next_due: datetime | None = None


class EngineStatus(_Frozen):
    offline: bool = False
    offline_since: datetime | None = None
    #: Which services cannot be reached, as the agent knows them (e.g. ``("RingCentral", "HubSpot")``).
    offline_services: tuple[str, ...] = ()
    #: Outbox items not yet done (queued, waiting to retry, in flight); not an update that waits
    #: on purpose for more of the call (a settling batch, a note held for the AI note).
    queued: int = 0
    failed: int = 0
    #: Logged calls still waiting for an artifact.
    pending_calls: int = 0
    #: Rate-limit group ("crm", "rc-heavy", "rc-light") → when sending may resume.
    rate_limited_until: dict[str, datetime] = Field(default_factory=dict)
    last_error: str | None = None
    #: The CRM refused the saved credentials: writes wait until the user reconnects.
    needs_reconnect: bool = False
    last_sync_at: datetime | None = None
    #: When the engine next has work (the Qt timer should fire then), if ever.
    next_due: datetime | None = None
