# SPDX-License-Identifier: MIT
"""The lifecycle of one call: what is known about it, and the CRM operations that log and complete it.

``Lifecycle`` turns RingCentral records into artifact states (duration, recording, AI note,
transcript), and executes the outbox's intents against the CRM:

- **create**: compose a note with placeholders for what is not known yet; after a crash, a create
  that may have been sent is first looked up with ``find_call_log``;
- **complete**: read the CRM record, substitute everything that became ready (one read, one write),
  with the CRM's version precondition where it has one; on a conflict, read again and re-apply.
  Arrivals close together go in one update: a final duration waits up to :data:`SETTLE` for a
  recording on its way. Where writing the note costs a read too (no version precondition, or one
  checked by reading), the note waits while more artifacts are expected (at most
  :data:`NOTE_WAIT`): the CRM's own duration and recording fields are written at once, without a
  read (they never hold the agent's words), and the note is read and written once with
  everything;
- **edit**: the agent's change to the note section, subject and dispositions only;
- **auto**: auto-log's contact match, turned into a create when exactly one contact matches.

Threading contract: the ``exec_*`` methods talk to the CRM and are called by :class:`Outbox` with
the account's lock held (one CRM request at a time per account). ``observe`` and the polling
helpers only touch the store and may run on any thread.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from adapters import notes as note_engine
from adapters.base import (
    AdapterError,
    ConflictError,
    CrmAdapter,
    FieldLimits,
    LogFormat,
    PageField,
    page_field_defaults,
    page_fields_for,
)
from adapters.models import Call, CallLogRef, Contact, FieldValue, LogEntry, LogUpdate, StoredCallLog
from adapters.notes.models import (
    AiNote,
    ApplyReport,
    NoteContent,
    NoteSettings,
    Utterance,
    ai_note_from_insights,
    recording_link_for,
    utterances_from_insights,
)
from desktop.engine.errors import EditConflict
from desktop.engine.models import ArtifactKind, ArtifactState, Draft
from desktop.engine.scheduler import PollPlan
from desktop.engine.store import (
    Artifact,
    Intent,
    Link,
    LinkState,
    OutboxItem,
    Store,
    artifact_from_row,
    enqueue,
    put_artifact,
    ts,
)

log = logging.getLogger(__name__)

#: What a note says when RingCentral never delivered an artifact within the give-up time.
NOT_AVAILABLE = {
    ArtifactKind.DURATION: "Not available (RingCentral did not provide the final duration)",
    ArtifactKind.RECORDING: "Not available (RingCentral did not provide a recording)",
    ArtifactKind.AI_NOTE: "Not available (RingCentral did not provide an AI note)",
    ArtifactKind.TRANSCRIPT: "Not available (RingCentral did not provide a transcript)",
}

#: How many times a read → apply → write is repeated when the CRM reports a conflict.
CONFLICT_ATTEMPTS = 4

#: How long a final duration waits for a recording that is on its way, so that both reach the CRM
#: in one update. RingCentral attaches a recording to the call-log record, which appears 15–30 s
#: after the hang-up; the engine reads the call log 30 s after each call with push events on (then
#: 60 s later while a recording is awaited), and every 30 s when polling.
SETTLE = timedelta(minutes=2)

#: Where writing the note costs a read too, how long the note may wait for the call's remaining
#: artifacts (usually the AI note and transcript) while the CRM's own fields already hold the
#: final duration and recording. Then the note is read and written with what is there.
NOTE_WAIT = timedelta(hours=1)

#: Results of calls that never connected: no recording is expected for them.
_NOT_CONNECTED = {"missed", "voicemail", "hang up", "abandoned", "no answer", "rejected", "busy", "declined"}

#: The note engine's section names in an ApplyReport, per artifact.
_SECTION = {
    ArtifactKind.DURATION: "duration",
    ArtifactKind.RECORDING: "recording",
    ArtifactKind.AI_NOTE: "ai_note",
    ArtifactKind.TRANSCRIPT: "transcript",
}


class RawInsights(Protocol):
    """What the engine reads from RingSense insights: the body exactly as received."""

    @property
    def raw(self) -> Mapping[str, Any]: ...


@dataclass
class LifecycleConfig:
    """How the engine logs calls for one agent and one CRM account.

    Attributes:
        extension_id: the agent's RingCentral extension id (half of a log's identity).
        account: the CRM account key (one outbox queue per account).
        auto_log: create a log when a call ends and exactly one contact matches.
        all_at_once: wait until every expected artifact is ready (or given up), then one create.
        allow_extension_logging: search internal calls by extension (if the adapter supports it).
        recordings_expected: the account records connected calls automatically, so a recording is
            expected (and shown as pending) for them even before RingCentral attaches it.
        ai_enabled: ask RingSense for AI notes and transcripts of recorded calls.
        plan: poll intervals and the give-up time.
    """

    extension_id: str
    account: str
    auto_log: bool = False
    all_at_once: bool = False
    allow_extension_logging: bool = False
    recordings_expected: bool = False
    ai_enabled: bool = True
    plan: PollPlan = field(default_factory=PollPlan)


@dataclass(frozen=True)
class Postpone:
    """A handler's answer: not now, try again at ``until`` (no attempt counted).

    ``sent``: part of the work reached the CRM first (the CRM answered).
    """

    until: datetime
    sent: bool = False


class Lifecycle:
    """Per-call state machine and the CRM side of every outbox intent.

    Args:
        store: the durable state.
        adapter: the CRM account.
        settings: which note sections to write.
        config: the agent, the account and the logging options.
    """

    def __init__(self, store: Store, adapter: CrmAdapter, settings: NoteSettings, config: LifecycleConfig) -> None:
        self.store = store
        self.adapter = adapter
        self.settings = settings
        self.config = config

    # --- what the adapter is ------------------------------------------------------------------

    @property
    def fmt(self) -> LogFormat:
        return self.adapter.manifest.log_format

    @property
    def _limit(self) -> FieldLimits:
        return self.adapter.manifest.limits

    @property
    def _versioned(self) -> bool:
        return self.adapter.manifest.capabilities.versioned_writes

    @property
    def _note_costs_read(self) -> bool:
        """Writing the note needs a read first: no version precondition, or one checked by reading."""
        caps = self.adapter.manifest.capabilities
        return not caps.versioned_writes or caps.update_reads_first

    # --- observing RingCentral records ---------------------------------------------------------

    def recording_expected(self, call: Call) -> bool:
        if call.recording is not None or any(leg.recording is not None for leg in call.legs):
            return True
        if not self.config.recordings_expected or call.short_recording:
            return False
        in_progress = (call.result or "").lower() == "in progress"
        return (call.result or "").lower() not in _NOT_CONNECTED and (in_progress or (call.duration or 0) > 0)

    def observe(self, conn: sqlite3.Connection, call: Call, now: datetime) -> bool:
        """Updates the call's artifact states from its latest record (inside the caller's transaction).

        Returns True when something became ready that a logged call must still receive.
        """
        arts = _artifacts(conn, call.id)
        link = conn.execute(
            "SELECT state FROM call_logs WHERE session_id = ? AND extension_id = ?",
            (call.session_id, self.config.extension_id),
        ).fetchone()
        logged = link is not None and link["state"] == LinkState.LOGGED
        became_ready = False

        def ready(kind: ArtifactKind, value: Any) -> None:
            nonlocal became_ready
            put_artifact(conn, call.id, kind, ArtifactState.READY, now, value=value, dirty=logged, expected_since=now)
            became_ready = became_ready or logged

        # Duration: final once the record is no longer in progress.
        d = arts.get(ArtifactKind.DURATION)
        final = call.duration is not None and (call.result or "").lower() != "in progress"
        if final:
            unknown = d is None or d.state in (ArtifactState.ABSENT, ArtifactState.PENDING, ArtifactState.GIVEN_UP)
            # RingCentral may revise a final duration; a written one is updated where the note
            # still says what the app wrote (an agent's edit of it is kept).
            corrected = (d is not None and d.state in (ArtifactState.READY, ArtifactState.WRITTEN)
                         and d.value != call.duration)
            if unknown or corrected:
                ready(ArtifactKind.DURATION, call.duration)
        elif d is None:
            put_artifact(conn, call.id, ArtifactKind.DURATION, ArtifactState.PENDING, now, expected_since=now)

        # Recording: the Media Reader link once RingCentral attached the recording.
        r = arts.get(ArtifactKind.RECORDING)
        link_url = recording_link_for(call)
        if link_url is not None:
            if r is None or r.state in (ArtifactState.ABSENT, ArtifactState.PENDING, ArtifactState.GIVEN_UP):
                ready(ArtifactKind.RECORDING, link_url)
        elif r is None:
            expected = self.recording_expected(call)
            state = ArtifactState.PENDING if expected else ArtifactState.ABSENT
            put_artifact(conn, call.id, ArtifactKind.RECORDING, state, now, expected_since=now if expected else None)
        elif r.state is ArtifactState.ABSENT and self.recording_expected(call):
            put_artifact(conn, call.id, ArtifactKind.RECORDING, ArtifactState.PENDING, now, expected_since=now)

        # AI note and transcript: only for recorded calls, checked on a widening schedule once the
        # recording is processed (a recording under way on a live call has no content yet).
        has_recording = link_url is not None
        for kind in (ArtifactKind.AI_NOTE, ArtifactKind.TRANSCRIPT):
            a = arts.get(kind)
            if not self.config.ai_enabled:
                if a is None:
                    put_artifact(conn, call.id, kind, ArtifactState.ABSENT, now)
                continue
            first = now + self.config.plan.insights_delay(0)
            if has_recording:
                if a is None or a.state is ArtifactState.ABSENT:
                    put_artifact(conn, call.id, kind, ArtifactState.PENDING, now, next_check=first, expected_since=now)
                elif a.state is ArtifactState.PENDING and a.next_check is None:
                    put_artifact(conn, call.id, kind, ArtifactState.PENDING, now, next_check=first)
            elif a is None:
                expected = self.recording_expected(call)
                state = ArtifactState.PENDING if expected else ArtifactState.ABSENT
                put_artifact(conn, call.id, kind, state, now, expected_since=now if expected else None)
        if became_ready:
            self.enqueue_complete(conn, call, now)
        return became_ready

    def enqueue_complete(self, conn: sqlite3.Connection, call: Call, now: datetime) -> None:
        """Queues one update for the call; a queued one already covers whatever else becomes ready.

        A queued update that is waiting (to settle, or a note held back) is due again now, so it
        can decide with the new arrival; one backing off after a failure keeps its wait.
        """
        conn.execute(
            "INSERT INTO outbox (account, call_id, session_id, extension_id, intent, payload, state,"
            " next_attempt, created_at, updated_at) VALUES (?,?,?,?,?,'{}','queued',?,?,?)"
            " ON CONFLICT(call_id) WHERE intent = 'complete' AND state = 'queued'"
            " DO UPDATE SET next_attempt = MIN(outbox.next_attempt, excluded.next_attempt),"
            " updated_at = excluded.updated_at WHERE outbox.last_error IS NULL",
            (self.config.account, call.id, call.session_id, self.config.extension_id, Intent.COMPLETE, ts(now),
             ts(now), ts(now)),
        )

    def insights_arrived(self, call: Call, raw_insights: Mapping[str, Any] | None, now: datetime) -> bool:
        """Records RingSense's answer for a call: the AI note and transcript, or another wait."""
        with self.store.transaction() as conn:
            arts = _artifacts(conn, call.id)
            logged = self._is_logged(conn, call)
            if raw_insights is None:
                for kind in (ArtifactKind.AI_NOTE, ArtifactKind.TRANSCRIPT):
                    a = arts.get(kind)
                    if a is not None and a.state is ArtifactState.PENDING:
                        delay = self.config.plan.insights_delay(a.checks + 1)
                        put_artifact(conn, call.id, kind, ArtifactState.PENDING, now, next_check=now + delay,
                                     checks=a.checks + 1)
                return False
            ai = ai_note_from_insights(raw_insights)
            utterances = utterances_from_insights(raw_insights, call)
            values: dict[ArtifactKind, Any] = {
                ArtifactKind.AI_NOTE: ai.model_dump(mode="json"),
                ArtifactKind.TRANSCRIPT: [u.model_dump(mode="json") for u in utterances],
            }
            changed = False
            for kind, value in values.items():
                a = arts.get(kind)
                if a is not None and a.state in (ArtifactState.PENDING, ArtifactState.ABSENT, ArtifactState.GIVEN_UP):
                    put_artifact(conn, call.id, kind, ArtifactState.READY, now, value=value, dirty=logged,
                                 checks=a.checks + 1)
                    changed = True
            if changed and logged:
                self.enqueue_complete(conn, call, now)
            return changed

    def ai_unavailable(self, call: Call, now: datetime) -> None:
        """The user has no RingSense licence: no AI note or transcript will come for this call."""
        with self.store.transaction() as conn:
            for kind in (ArtifactKind.AI_NOTE, ArtifactKind.TRANSCRIPT):
                put_artifact(conn, call.id, kind, ArtifactState.ABSENT, now)

    def give_up_overdue(self, now: datetime) -> int:
        """Marks artifacts pending for longer than the give-up time as "not available"."""
        horizon = now - self.config.plan.give_up_after
        count = 0
        with self.store.transaction() as conn:
            rows = conn.execute(
                "SELECT a.call_id, a.kind FROM artifacts a WHERE a.state = 'pending' AND a.expected_since IS NOT NULL"
                " AND a.expected_since <= ?",
                (ts(horizon),),
            ).fetchall()
            touched: set[str] = set()
            for row in rows:
                call = _call(conn, row["call_id"])
                if call is None:
                    continue
                logged = self._is_logged(conn, call)
                put_artifact(conn, call.id, ArtifactKind(row["kind"]), ArtifactState.GIVEN_UP, now, dirty=logged)
                count += 1
                if logged and call.id not in touched:
                    touched.add(call.id)
                    self.enqueue_complete(conn, call, now)
        return count

    def _is_logged(self, conn: sqlite3.Connection, call: Call) -> bool:
        row = conn.execute(
            "SELECT state FROM call_logs WHERE session_id = ? AND extension_id = ?",
            (call.session_id, self.config.extension_id),
        ).fetchone()
        return row is not None and row["state"] == LinkState.LOGGED

    # --- asking to log ----------------------------------------------------------------------

    def request_log(self, conn: sqlite3.Connection, call: Call, draft: Draft, now: datetime, *, auto: bool) -> bool:
        """Records the intent to log ``call`` (inside the caller's transaction).

        Returns False when the call is already logged or being logged (nothing is queued then).
        """
        row = conn.execute(
            "SELECT state FROM call_logs WHERE session_id = ? AND extension_id = ?",
            (call.session_id, self.config.extension_id),
        ).fetchone()
        if row is not None and row["state"] != LinkState.FAILED:
            return False
        state = LinkState.WAITING if self.config.all_at_once else LinkState.CREATING
        conn.execute(
            "INSERT INTO call_logs (session_id, extension_id, call_id, adapter_id, contact_id, contact_name, state,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(session_id, extension_id) DO UPDATE SET"
            " call_id = excluded.call_id, contact_id = excluded.contact_id, contact_name = excluded.contact_name,"
            " state = excluded.state, last_error = NULL, updated_at = excluded.updated_at",
            (call.session_id, self.config.extension_id, call.id, self.adapter.manifest.id, draft.contact_id,
             draft.contact_name, state, ts(now), ts(now)),
        )
        conn.execute(
            "INSERT INTO drafts (call_id, data, updated_at) VALUES (?,?,?) ON CONFLICT(call_id) DO UPDATE SET"
            " data = excluded.data, updated_at = excluded.updated_at",
            (call.id, draft.model_dump_json(), ts(now)),
        )
        # Failed creates for this session are superseded by the new request.
        conn.execute(
            "UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE session_id = ? AND extension_id = ?"
            " AND intent = 'create' AND state IN ('queued', 'failed')",
            (ts(now), call.session_id, self.config.extension_id),
        )
        enqueue(
            conn,
            account=self.config.account,
            call_id=call.id,
            session_id=call.session_id,
            extension_id=self.config.extension_id,
            intent=Intent.CREATE,
            payload={"draft": draft.model_dump(mode="json"), "auto": auto},
            now=now,
        )
        return True

    # --- composing -----------------------------------------------------------------------------

    def content(
        self,
        call: Call,
        arts: Mapping[ArtifactKind, Artifact],
        *,
        note: str | None,
        subject: str | None,
        contact: Contact | None,
    ) -> NoteContent:
        """A full note for ``call`` from what is known now; the rest as placeholders."""
        def state(kind: ArtifactKind) -> ArtifactState:
            a = arts.get(kind)
            return a.state if a is not None else ArtifactState.ABSENT

        rec = arts.get(ArtifactKind.RECORDING)
        recording_link: str | None = None
        if rec is not None and rec.state in (ArtifactState.READY, ArtifactState.WRITTEN) and rec.value:
            recording_link = str(rec.value)
        elif state(ArtifactKind.RECORDING) is ArtifactState.GIVEN_UP:
            recording_link = NOT_AVAILABLE[ArtifactKind.RECORDING]
        ai_note, transcript = _ai_values(arts)
        expect_ai = ArtifactState.PENDING in (state(ArtifactKind.AI_NOTE), state(ArtifactKind.TRANSCRIPT))
        content = NoteContent.from_call(
            call,
            note=note or None,
            subject=subject or None,
            contact=contact,
            recording_link=recording_link,
            ai_note=ai_note,
            transcript=transcript,
            expect_recording=state(ArtifactKind.RECORDING) is ArtifactState.PENDING,
            expect_ai=expect_ai,
        )
        if call.recording is not None and recording_link is None:
            # The record's own link is used only once the artifact is ready (it is, in practice).
            content = content.model_copy(update={"recording_link": None, "recording_pending": True})
        if state(ArtifactKind.DURATION) is ArtifactState.PENDING:
            # "In Progress" is not a result: the final one is added with the final duration.
            content = content.model_copy(update={"result": None})
        if state(ArtifactKind.DURATION) is ArtifactState.GIVEN_UP:
            # Still "In Progress" after the give-up time: no duration (nor that result) to show.
            in_progress = (call.result or "").lower() == "in progress"
            content = content.model_copy(update={"duration": None, "duration_pending": False,
                                                 "duration_text": NOT_AVAILABLE[ArtifactKind.DURATION],
                                                 "result": None if in_progress else content.result})
        if state(ArtifactKind.AI_NOTE) is ArtifactState.GIVEN_UP and ai_note is None:
            content = content.model_copy(update={"ai_note": AiNote(text=NOT_AVAILABLE[ArtifactKind.AI_NOTE]),
                                                 "ai_note_pending": False})
        if state(ArtifactKind.TRANSCRIPT) is ArtifactState.GIVEN_UP and transcript is None:
            content = content.model_copy(update={"transcript": NOT_AVAILABLE[ArtifactKind.TRANSCRIPT],
                                                 "transcript_pending": False})
        return content

    def change(self, call: Call, dirty: Mapping[ArtifactKind, Artifact]) -> NoteContent:
        """Only the artifacts in ``dirty``, for :func:`adapters.notes.apply`."""
        values: dict[str, Any] = {}
        for kind, a in dirty.items():
            given_up = a.state is ArtifactState.GIVEN_UP
            if kind is ArtifactKind.DURATION and given_up:
                # The record never became final: the placeholder gives way to "Not available".
                values["duration_text"] = NOT_AVAILABLE[kind]
            elif kind is ArtifactKind.DURATION:
                values["duration"] = a.value
                values["duration_pending"] = False
                if call.result and call.result.lower() != "in progress":
                    values["result"] = call.result
            elif kind is ArtifactKind.RECORDING:
                values["recording_link"] = NOT_AVAILABLE[kind] if given_up else str(a.value)
            elif kind is ArtifactKind.AI_NOTE:
                values["ai_note"] = AiNote(text=NOT_AVAILABLE[kind]) if given_up else AiNote.model_validate(a.value)
            elif kind is ArtifactKind.TRANSCRIPT:
                values["transcript"] = (
                    NOT_AVAILABLE[kind] if given_up else [Utterance.model_validate(u) for u in a.value or []]
                )
        return NoteContent(**values)

    # --- outbox intents --------------------------------------------------------------------

    def exec_create(self, item: OutboxItem, now: datetime) -> Postpone | None:
        """Creates the CRM log for ``item`` (or finds the one a lost attempt created)."""
        call = self.store.call(item.call_id)
        link = self.store.link(item.session_id, item.extension_id)
        if call is None or link is None or link.state == LinkState.LOGGED:
            self._finish_item(item.id, now)
            return None
        arts = self.store.artifacts(call.id)
        if self.config.all_at_once and any(a.state is ArtifactState.PENDING for a in arts.values()):
            return Postpone(self._next_settle_time(arts, now))
        draft = Draft.model_validate(item.payload["draft"])
        contact = Contact(
            id=draft.contact_id or "",
            name=draft.contact_name or (call.remote.name or ""),
            phone=call.remote.phone_number,
            is_internal=call.remote.phone_number is None and call.remote.extension_number is not None,
        )
        if item.maybe_sent:
            found = self.adapter.find_call_log(call)
            if found is not None:
                # The lost attempt reached the CRM. What it held besides the note is unknown, so
                # every ready artifact is substituted again (applying twice changes nothing).
                self._finish_create(item, call, found, included={}, now=now)
                return None
        content = self.content(call, arts, note=draft.note, subject=draft.subject or None, contact=contact)
        body = note_engine.compose(content, self.settings, self.fmt, limit=self._limit)
        included = {k: a.value for k, a in arts.items() if a.state in (ArtifactState.READY, ArtifactState.GIVEN_UP)}
        dur = arts.get(ArtifactKind.DURATION)
        rec = arts.get(ArtifactKind.RECORDING)
        entry = LogEntry(
            subject=note_engine.strip_controls(content.subject or "")[0],
            body=body,
            dispositions=dict(draft.dispositions),
            duration_seconds=int(dur.value) if dur is not None and dur.state is ArtifactState.READY else None,
            recording_url=str(rec.value) if rec is not None and rec.state is ArtifactState.READY else None,
            time_zone=self.settings.time_zone,
        )
        self.store.mark_maybe_sent(item.id, now)
        ref = self.adapter.create_call_log(call, contact, entry)
        self._finish_create(item, call, ref, included=included, now=now, body=body)
        return None

    def _next_settle_time(self, arts: Mapping[ArtifactKind, Artifact], now: datetime) -> datetime:
        checks = [a.next_check for a in arts.values() if a.state is ArtifactState.PENDING and a.next_check]
        soonest = min(checks) if checks else now + self.config.plan.sync_every
        return max(soonest, now + timedelta(seconds=1))

    def _finish_create(
        self,
        item: OutboxItem,
        call: Call,
        ref: CallLogRef,
        *,
        included: Mapping[ArtifactKind, Any],
        now: datetime,
        body: str | None = None,
    ) -> None:
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE call_logs SET log_id = ?, version = ?, body = ?, written_body = ?,"
                " contact_id = COALESCE(?, contact_id), state = ?, last_error = NULL, updated_at = ?"
                " WHERE session_id = ? AND extension_id = ?",
                (ref.log_id, ref.version, body, body, ref.contact_id, LinkState.LOGGED, ts(now), item.session_id,
                 item.extension_id),
            )
            needs_update = False
            for kind, a in _artifacts(conn, call.id).items():
                if a.state not in (ArtifactState.READY, ArtifactState.GIVEN_UP):
                    continue
                if kind in included and included[kind] == a.value:
                    state = ArtifactState.WRITTEN if a.state is ArtifactState.READY else ArtifactState.GIVEN_UP
                    put_artifact(conn, call.id, kind, state, now, value=a.value, dirty=False)
                else:
                    put_artifact(conn, call.id, kind, a.state, now, value=a.value, dirty=True)
                    needs_update = True
            # The draft the log was made from is done with; one the agent changed since (typing in
            # the note pad while the create was on its way) is kept for the next edit.
            sent = Draft.model_validate(item.payload["draft"]).note if "draft" in item.payload else None
            conn.execute("DELETE FROM drafts WHERE call_id = ? AND (? IS NULL OR json_extract(data, '$.note') = ?)",
                         (call.id, sent, sent))
            conn.execute("UPDATE calls SET unlogged_reason = NULL WHERE id = ?", (call.id,))
            conn.execute("UPDATE outbox SET state = 'done', last_error = NULL, updated_at = ? WHERE id = ?",
                         (ts(now), item.id))
            if needs_update:
                self.enqueue_complete(conn, call, now)

    def exec_complete(self, item: OutboxItem, now: datetime) -> Postpone | None:
        """One read and one write: substitutes every artifact that became ready since the last write.

        Returns a :class:`Postpone` while the update waits: for a recording close behind the final
        duration (:data:`SETTLE`), or, where writing the note costs a read, for the remaining
        artifacts (:data:`NOTE_WAIT`, after the CRM's own fields were written).
        """
        call = self.store.call(item.call_id)
        link = self.store.link(item.session_id, item.extension_id)
        if call is None or link is None or link.log_id is None or link.state != LinkState.LOGGED:
            self._finish_item(item.id, now)
            return None
        ref = CallLogRef(adapter_id=link.adapter_id, log_id=link.log_id, contact_id=link.contact_id,
                         version=link.version)
        arts = self.store.artifacts(call.id)
        if not any(a.dirty for a in arts.values()):
            self._finish_item(item.id, now)
            return None
        settle = _settle_until(arts, now)
        if settle is not None:
            return Postpone(settle)
        if self._note_costs_read:
            held = self._hold_note(item, ref, arts, now)
            if held is not None:
                return held
        self._complete(item, call, link, ref, now)
        return None

    def _hold_note(
        self, item: OutboxItem, ref: CallLogRef, arts: Mapping[ArtifactKind, Artifact], now: datetime
    ) -> Postpone | None:
        """Keeps the note for one read and one write once the call's artifacts are in.

        While some are still expected (and for at most :data:`NOTE_WAIT`), only the CRM's own
        fields for the final duration and the recording are written, without a read: they hold
        the app's values, never the agent's words. The item remembers what it wrote there.
        """
        if not any(a.state is ArtifactState.PENDING for a in arts.values()):
            return None
        payload = dict(item.payload)
        since = datetime.fromisoformat(payload["held_since"]) if "held_since" in payload else now
        until = since + NOTE_WAIT
        if now >= until:
            return None
        in_fields: dict[str, Any] = dict(payload.get("in_fields", {}))
        fields = self.adapter.manifest.capabilities.artifact_fields
        update = LogUpdate()
        dur, rec = arts.get(ArtifactKind.DURATION), arts.get(ArtifactKind.RECORDING)
        if (
            "duration" in fields and dur is not None and dur.dirty and dur.state is ArtifactState.READY
            and in_fields.get("duration") != dur.value
        ):
            update.duration_seconds = int(dur.value)
        if (
            "recording" in fields and rec is not None and rec.dirty and rec.state is ArtifactState.READY
            and in_fields.get("recording") != rec.value
        ):
            update.recording_url = str(rec.value)
        if update.model_dump(exclude_none=True):
            result = self.adapter.update_call_log(ref, update)
            if update.duration_seconds is not None:
                in_fields["duration"] = dur.value if dur is not None else None
            if update.recording_url is not None:
                in_fields["recording"] = rec.value if rec is not None else None
            if self._versioned:
                # The version moved on with this write; the body is as the adapter last knew it
                # (a version check by reading still sees an edit made before it).
                self.store.set_link_body(item.session_id, item.extension_id, result.version, result.body, now)
        payload.update(held_since=since.isoformat(), in_fields=in_fields)
        self.store.set_item_payload(item.id, payload, now)
        return Postpone(until, sent=bool(update.model_dump(exclude_none=True)))

    def _complete(self, item: OutboxItem, call: Call, link: Link, ref: CallLogRef, now: datetime) -> None:
        # With a version precondition, the body we last wrote stands in for a read: if anyone
        # changed the record since, the write fails with a conflict and the loop reads it.
        cached = link.body if self._versioned and link.body is not None and link.version is not None else None
        # The note as the app itself wrote it: sections it wrote that are gone from the CRM's body
        # were removed by the agent, values still as it wrote them are its own to update.
        written = link.written_body
        for attempt in range(CONFLICT_ATTEMPTS):
            arts = self.store.artifacts(call.id)
            dirty = {k: a for k, a in arts.items() if a.dirty}
            if not dirty:
                self._finish_item(item.id, now)
                return
            from_cache = cached is not None and attempt == 0
            if from_cache:
                stored = StoredCallLog(ref=ref, subject="", body=cached or "")
            else:
                stored = self.adapter.get_call_log(ref)
            # A value that arrived after we wrote "Not available" replaces our own words. With the
            # written body the note engine tells ours from an edit exactly; without it (a log found
            # again after a crash, or written by an older version) the words still being there
            # stands in.
            ours = [] if written is not None else [
                _SECTION[k] for k, a in dirty.items()
                if a.state is ArtifactState.READY and k in NOT_AVAILABLE and NOT_AVAILABLE[k] in stored.body
            ]
            change = self.change(call, dirty)
            new_body, report = note_engine.apply(
                stored.body, change, self.settings, self.fmt, limit=self._limit, overwrite=ours, written=written
            )
            update = LogUpdate(body=new_body if new_body != stored.body else None)
            dur, rec = dirty.get(ArtifactKind.DURATION), dirty.get(ArtifactKind.RECORDING)
            if dur is not None and dur.state is ArtifactState.READY and (
                from_cache or stored.duration_seconds != dur.value
            ):
                update.duration_seconds = int(dur.value)
            if rec is not None and rec.state is ArtifactState.READY and (
                from_cache or stored.recording_url != rec.value
            ):
                update.recording_url = str(rec.value)
            version, body = stored.version, stored.body
            if update.model_dump(exclude_none=True):
                try:
                    result = self.adapter.update_call_log(
                        stored.ref, update, expected_version=stored.version if self._versioned else None
                    )
                except ConflictError:
                    if attempt == CONFLICT_ATTEMPTS - 1:
                        raise
                    continue
                version, body = result.version, result.body
            # The app's own note moves on by the same change, applied to itself: it never takes in
            # text read from the CRM, so an edit the write carried along never becomes "ours".
            own = None if written is None else note_engine.apply(
                written, change, self.settings, self.fmt, limit=self._limit, written=written
            )[0]
            self._finish_complete(item, call, dirty, report, version, body, now, written=own)
            return

    def _finish_complete(
        self,
        item: OutboxItem,
        call: Call,
        sent: Mapping[ArtifactKind, Artifact],
        report: ApplyReport,
        version: str | None,
        body: str,
        now: datetime,
        *,
        written: str | None,
    ) -> None:
        """Records a finished update; ``written`` is the app's own note after it (None: unknown, kept)."""
        skipped = {s.section for s in report.skipped}
        with self.store.transaction() as conn:
            current = _artifacts(conn, call.id)
            for kind, a in sent.items():
                now_a = current.get(kind)
                if now_a is None or now_a.value != a.value or now_a.state is not a.state:
                    continue  # changed again meanwhile: stays dirty for the next update
                if _SECTION[kind] in skipped:
                    state = ArtifactState.SKIPPED
                elif a.state is ArtifactState.READY:
                    state = ArtifactState.WRITTEN
                else:
                    state = a.state
                put_artifact(conn, call.id, kind, state, now, value=a.value, dirty=False)
            conn.execute(
                "UPDATE call_logs SET version = ?, body = ?, written_body = COALESCE(?, written_body),"
                " last_error = NULL, updated_at = ? WHERE session_id = ? AND extension_id = ?",
                (version, body, written, ts(now), item.session_id, item.extension_id),
            )
            still_dirty = conn.execute(
                "SELECT 1 FROM artifacts WHERE call_id = ? AND dirty = 1", (call.id,)
            ).fetchone()
            conn.execute("UPDATE outbox SET state = 'done', last_error = NULL, updated_at = ? WHERE id = ?",
                         (ts(now), item.id))
            if still_dirty:
                self.enqueue_complete(conn, call, now)

    def exec_edit(self, item: OutboxItem, now: datetime) -> Postpone | None:
        """The agent's edit: writes only what the agent changed in the editor — the note section,
        the subject, dispositions — onto the record as the CRM holds it now.

        Raises:
            EditConflict: someone changed one of those same fields in the CRM since the editor
                loaded them (unless the edit was saved with ``force``, "apply just my change").
        """
        link = self.store.link(item.session_id, item.extension_id)
        if link is not None and link.log_id is None and link.state in (LinkState.CREATING, LinkState.WAITING):
            # The note pad's text for a log still being created: after the create.
            return Postpone(now + timedelta(seconds=2))
        if link is None or link.log_id is None:
            self._finish_item(item.id, now)
            return None
        p = item.payload
        mine = _agent_changes(p)
        ref = CallLogRef(adapter_id=link.adapter_id, log_id=link.log_id, contact_id=link.contact_id,
                         version=link.version)
        for attempt in range(CONFLICT_ATTEMPTS):
            stored = self.adapter.get_call_log(ref)
            current_note = note_engine.extract_agent_note(stored.body, self.fmt)
            if not p.get("force"):
                _check_conflict(stored, current_note, p, mine)
            update = LogUpdate()
            if mine.note:
                new_body = note_engine.replace_agent_note(stored.body, p["note"], self.fmt)
                update.body = new_body if new_body != stored.body else None
            subject = note_engine.strip_controls(p["subject"])[0]
            if mine.subject and subject != stored.subject:
                update.subject = subject
            if mine.dispositions:
                merged = {**stored.dispositions, **mine.dispositions}
                update.dispositions = merged if merged != stored.dispositions else None
            version, body = stored.version, stored.body
            own: str | None = None
            if update.model_dump(exclude_none=True):
                try:
                    result = self.adapter.update_call_log(
                        stored.ref, update, expected_version=stored.version if self._versioned else None
                    )
                except ConflictError:
                    if attempt == CONFLICT_ATTEMPTS - 1:
                        raise
                    continue
                version, body = result.version, result.body
                if update.body is not None and link.written_body is not None:
                    own = note_engine.replace_agent_note(link.written_body, p["note"], self.fmt)
            with self.store.transaction() as conn:
                conn.execute(
                    "UPDATE call_logs SET version = ?, body = ?, written_body = COALESCE(?, written_body),"
                    " last_error = NULL, updated_at = ? WHERE session_id = ? AND extension_id = ?",
                    (version, body, own, ts(now), item.session_id, item.extension_id),
                )
                conn.execute("UPDATE outbox SET state = 'done', last_error = NULL, updated_at = ? WHERE id = ?",
                             (ts(now), item.id))
                if p.get("from_pad"):
                    # The pad's text reached the log; a later keystroke makes a new draft.
                    conn.execute("DELETE FROM drafts WHERE call_id = ? AND json_extract(data, '$.note') = ?",
                                 (item.call_id, p["note"]))
            return None
        return None

    def exec_auto(self, item: OutboxItem, now: datetime) -> None:
        """Auto-log: exactly one contact → create; none or several → Unlogged, with the reason."""
        call = self.store.call(item.call_id)
        if call is None or self.store.link(item.session_id, item.extension_id) is not None:
            self._finish_item(item.id, now)
            return
        reason, contact = self._auto_contact(call)
        # The page fields' defaults for this direction and contact, as the log page pre-fills them.
        defaults = page_field_defaults(self._page_fields(), call.direction.value, contact) if contact else {}
        with self.store.transaction() as conn:
            if contact is None:
                conn.execute("UPDATE calls SET unlogged_reason = ? WHERE id = ?", (reason, call.id))
            else:
                row = conn.execute("SELECT data FROM drafts WHERE call_id = ?", (call.id,)).fetchone()
                draft = Draft.model_validate_json(row["data"]) if row else Draft()
                draft = draft.model_copy(update={
                    "contact_id": contact.id,
                    "contact_name": contact.name,
                    "dispositions": {**defaults, **draft.dispositions},
                })
                self.request_log(conn, call, draft, now, auto=True)
            conn.execute("UPDATE outbox SET state = 'done', updated_at = ? WHERE id = ?", (ts(now), item.id))

    def _page_fields(self) -> list[PageField]:
        """The log page's fields (live ones where the adapter has them); the manifest's when the
        live ones cannot be read now, as the log page does."""
        try:
            return page_fields_for(self.adapter)
        except AdapterError as exc:
            log.info("page fields unavailable, using the manifest's: %s", exc)
            return list(self.adapter.manifest.page_fields)

    def _auto_contact(self, call: Call) -> tuple[str | None, Contact | None]:
        remote = call.remote
        if remote.phone_number:
            matches = self.adapter.find_contact(remote.phone_number)
            number = remote.phone_number
        elif remote.extension_number:
            caps = self.adapter.manifest.capabilities
            if not (caps.extension_logging and self.config.allow_extension_logging):
                return "Extension numbers cannot be logged", None
            matches = self.adapter.find_contact(remote.extension_number, is_extension=True)
            number = f"ext {remote.extension_number}"
        else:
            return "The caller's number is hidden", None
        if not matches:
            return f"No contact matches {number}", None
        if len(matches) > 1:
            return f"{len(matches)} contacts match {number}", None
        return None, matches[0]

    def match_contacts(self, call: Call) -> list[Contact]:
        remote = call.remote
        if remote.phone_number:
            return self.adapter.find_contact(remote.phone_number)
        caps = self.adapter.manifest.capabilities
        if remote.extension_number and caps.extension_logging and self.config.allow_extension_logging:
            return self.adapter.find_contact(remote.extension_number, is_extension=True)
        return []

    def _finish_item(self, item_id: int, now: datetime) -> None:
        with self.store.transaction() as conn:
            conn.execute("UPDATE outbox SET state = 'done', updated_at = ? WHERE id = ?", (ts(now), item_id))


@dataclass(frozen=True)
class _Changes:
    note: bool
    subject: bool
    dispositions: dict[str, FieldValue]


def _agent_changes(p: Mapping[str, Any]) -> _Changes:
    """What the agent changed in the editor, relative to what it loaded."""
    base_disp: dict[str, FieldValue] = dict(p["base_dispositions"])
    return _Changes(
        note=str(p["note"]).strip() != str(p["base_note"]).strip(),
        subject=p["subject"] != p["base_subject"],
        dispositions={k: v for k, v in dict(p["dispositions"]).items() if base_disp.get(k) != v},
    )


def _check_conflict(stored: StoredCallLog, current_note: str, p: Mapping[str, Any], mine: _Changes) -> None:
    """Raises EditConflict when a field the agent changed was also changed, differently, in the CRM."""
    clashes = []
    now_note = current_note.strip()
    if mine.note and now_note != str(p["base_note"]).strip() and now_note != str(p["note"]).strip():
        clashes.append("note")
    if mine.subject and stored.subject not in (p["base_subject"], p["subject"]):
        clashes.append("subject")
    base_disp: dict[str, FieldValue] = dict(p["base_dispositions"])
    if any(stored.dispositions.get(k) not in (base_disp.get(k), v) for k, v in mine.dispositions.items()):
        clashes.append("dispositions")
    if clashes:
        raise EditConflict(
            f"The {' and '.join(clashes)} changed in the CRM since you opened the editor.",
            current_subject=stored.subject,
            current_note=current_note,
            current_dispositions=dict(stored.dispositions),
        )


def _ai_values(arts: Mapping[ArtifactKind, Artifact]) -> tuple[AiNote | None, list[Utterance] | None]:
    ai = arts.get(ArtifactKind.AI_NOTE)
    tr = arts.get(ArtifactKind.TRANSCRIPT)
    ai_note = (
        AiNote.model_validate(ai.value)
        if ai is not None and ai.state in (ArtifactState.READY, ArtifactState.WRITTEN) and ai.value
        else None
    )
    transcript = (
        [Utterance.model_validate(u) for u in tr.value]
        if tr is not None and tr.state in (ArtifactState.READY, ArtifactState.WRITTEN) and tr.value is not None
        else None
    )
    return ai_note, transcript


def _settle_until(arts: Mapping[ArtifactKind, Artifact], now: datetime) -> datetime | None:
    """When a final duration that is waiting for its recording goes anyway (None: no wait)."""
    dur, rec = arts.get(ArtifactKind.DURATION), arts.get(ArtifactKind.RECORDING)
    if dur is None or not dur.dirty or dur.state is not ArtifactState.READY or dur.updated_at is None:
        return None
    if rec is None or rec.state is not ArtifactState.PENDING:
        return None
    until = dur.updated_at + SETTLE
    return until if until > now else None


def _artifacts(conn: sqlite3.Connection, call_id: str) -> dict[ArtifactKind, Artifact]:
    rows = conn.execute("SELECT * FROM artifacts WHERE call_id = ?", (call_id,)).fetchall()
    return {ArtifactKind(r["kind"]): artifact_from_row(r) for r in rows}


def _call(conn: sqlite3.Connection, call_id: str) -> Call | None:
    row = conn.execute("SELECT raw FROM calls WHERE id = ?", (call_id,)).fetchone()
    return Call.model_validate_json(row["raw"]) if row else None
