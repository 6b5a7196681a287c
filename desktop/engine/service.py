# SPDX-License-Identifier: MIT
"""The engine's public face: :class:`Engine`, the one object the UI and the CLI talk to.

Typical wiring (``desktop/app.py``)::

    store = Store(paths.data_dir() / "engine.sqlite3")
    engine = Engine(store, adapter, rc_client, NoteSettings(), extension_id="400200000001")
    # a QTimer calls, on an io-pool worker:
    next_due = engine.tick()          # sync, poll artifacts, run the outbox
    # the UI, on io-pool workers:
    rows = engine.calls(CallFilter.UNLOGGED)
    engine.save_draft(call_id, draft)          # as the agent types
    engine.log_call(call_id, draft)            # "+" → queued; the next tick (or run_outbox) sends it
    session = engine.open_for_edit(call_id)
    engine.save_edit(session, subject, note, dispositions)   # may raise EditConflict

Threading contract: every method may be called from any worker thread (never needed on the GUI
thread; most block on SQLite or the network). CRM requests are serialised by one lock per CRM
account, so the poller, the outbox and the editor never race each other; SQLite access is
serialised by the store. Nothing here imports Qt.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
from datetime import datetime, timedelta

from adapters import notes as note_engine
from adapters.base import AdapterError, CrmAdapter, NotFound, PermissionDenied, RateLimited, TransientError
from adapters.models import Call, CallLogRef, Contact, FieldValue
from adapters.notes.models import NoteSettings
from adapters.ringcentral.telephony import LiveCalls, TelephonySessionEvent
from desktop.engine import live as live_mod
from desktop.engine import store as store_mod
from desktop.engine.claim import SendClaim
from desktop.engine.errors import AlreadyLogged, NotLogged, UnknownCall
from desktop.engine.lifecycle import Lifecycle, LifecycleConfig
from desktop.engine.metered import MeteredAdapter
from desktop.engine.models import (
    ArtifactKind,
    CallFilter,
    CallRow,
    Draft,
    EditSession,
    EngineStatus,
    LiveChange,
    OutboxOutcome,
    PollOutcome,
    SyncOutcome,
)
from desktop.engine.outbox import Outbox, OutboxHealth
from desktop.engine.ports import CallSource, Clock, SystemClock
from desktop.engine.scheduler import Budgets, PollPlan, RateBudget, RateSpec, backoff
from desktop.engine.store import Intent, ItemState, Store, enqueue, ts

log = logging.getLogger(__name__)

SYNC_CURSOR = "call-log-sync"


class Engine:
    """Logs calls into one CRM account, completes them, and keeps the call list fresh.

    Args:
        store: the engine's database.
        adapter: the CRM account (wrapped so that every request spends the CRM budget).
        source: RingCentral (the real client or the sandbox's).
        note_settings: which sections notes hold.
        extension_id: the agent's RingCentral extension id.
        clock: the time source (a ``ManualClock`` in tests).
        auto_log: log a call when it ends and exactly one contact matches (off by default).
        all_at_once: create each log once every expected artifact is ready or given up.
        give_up_after: how long to wait for a recording, AI note or transcript.
        allow_extension_logging: look up internal calls by extension (when the adapter can).
        recordings_expected: the account records connected calls automatically.
        ai_enabled: ask RingSense for AI notes and transcripts.
        budgets: request budgets (RingCentral Heavy/Light per the defaults; the CRM unlimited
            unless given — adapters throttle themselves too).
        plan: poll intervals (``give_up_after`` overrides its give-up time).
        account: the outbox queue key; the adapter's id by default.
        link_values: values for the manifest's URL templates besides ``log_id`` and
            ``contact_id`` (the connection's non-secret settings, e.g. a domain).

    Auto-log only considers calls that started within ``give_up_after`` of the time they are
    first seen, so turning it on does not log weeks of history.
    """

    def __init__(
        self,
        store: Store,
        adapter: CrmAdapter,
        source: CallSource,
        note_settings: NoteSettings,
        *,
        extension_id: str,
        clock: Clock | None = None,
        auto_log: bool = False,
        all_at_once: bool = False,
        give_up_after: timedelta = timedelta(hours=24),
        allow_extension_logging: bool = False,
        recordings_expected: bool = False,
        ai_enabled: bool = True,
        budgets: Budgets | None = None,
        plan: PollPlan | None = None,
        account: str | None = None,
        link_values: dict[str, str] | None = None,
    ) -> None:
        self.store = store
        self.clock: Clock = clock or SystemClock()
        self.budgets = budgets or Budgets()
        self.adapter = MeteredAdapter(adapter, self.budgets.crm, self.clock)
        self.source = source
        base_plan = plan or PollPlan()
        self.plan = dataclasses.replace(base_plan, give_up_after=give_up_after)
        self._account = account
        self.config = LifecycleConfig(
            extension_id=extension_id,
            account=account or adapter.manifest.id,
            auto_log=auto_log,
            all_at_once=all_at_once,
            allow_extension_logging=allow_extension_logging,
            recordings_expected=recordings_expected,
            ai_enabled=ai_enabled,
            plan=self.plan,
        )
        self.lifecycle = Lifecycle(store, self.adapter, note_settings, self.config)
        self._crm_lock = threading.RLock()
        self._rc_lock = threading.RLock()
        self.outbox = Outbox(store, self.lifecycle, self.budgets.crm, self.clock, self._crm_lock,
                             claim=SendClaim(store.path.with_name(store.path.name + ".outbox.lock")))
        self._next_sync: datetime | None = None
        self._sync_failures = 0
        self._rc_offline_since: datetime | None = None
        self._rc_error: str | None = None
        self._last_sync_at: datetime | None = None
        self._last_tick: datetime | None = None
        self._link_values = dict(link_values or {})
        # The live path (push events): its own lock, so an event never waits behind a CRM request.
        self._live_lock = threading.Lock()
        self._live = LiveCalls(extension_id)
        self._push_calls = False
        self._push_insights = False
        self._insights_catch_up = False
        self._await_round = 0

    # --- reading -------------------------------------------------------------------------------

    def calls(
        self,
        filter: CallFilter = CallFilter.ALL,
        *,
        search: str | None = None,
        limit: int = 200,
        before: datetime | None = None,
    ) -> list[CallRow]:
        """The calls table, newest first (page with ``before`` = the last row's start time)."""
        rows = self.store.rows(filter, search=search, limit=limit, before=before)
        template = self.adapter.manifest.urls.open_log
        if template is None:
            return rows
        out = []
        for row in rows:
            if row.crm_log_id:
                try:
                    url = template.format(
                        **{**self._link_values, "log_id": row.crm_log_id, "contact_id": row.contact_id or ""}
                    )
                except (KeyError, IndexError):
                    url = None
                row = row.model_copy(update={"log_url": url})
            out.append(row)
        return out

    def draft(self, call_id: str) -> Draft | None:
        """What the agent last typed for the call (survives a crash), if anything."""
        return self.store.draft(call_id)

    def save_draft(self, call_id: str, draft: Draft) -> None:
        """Saves the agent's input as they type (cheap: one small SQLite write)."""
        if self.store.call(call_id) is None:
            raise UnknownCall(f"No call {call_id} in the list.")
        self.store.save_draft(call_id, draft, self.clock.now())

    def match_contacts(self, call_id: str) -> list[Contact]:
        """CRM contacts matching the call's other party (by extension for internal calls, if allowed).

        Raises:
            UnknownCall: no such call.
            RateLimited: the CRM's Retry-After is still running.
            AdapterError: the CRM's failure, as is.
        """
        call = self._call(call_id)
        with self._crm_lock:
            self._not_in_penalty()
            return self.lifecycle.match_contacts(call)

    def _not_in_penalty(self) -> None:
        """Raises RateLimited while the CRM's Retry-After runs: nothing is sent in that window."""
        now = self.clock.now()
        until = self.budgets.crm.blocked_until(now)
        if until is not None:
            wait = (until - now).total_seconds()
            raise RateLimited(f"The CRM asked to slow down; try again in {math.ceil(wait)} s.", retry_after=wait)

    # --- logging -------------------------------------------------------------------------------

    def log_call(self, call_id: str, draft: Draft) -> None:
        """Records the intent to log the call with the agent's input; the outbox sends it.

        The draft is saved with the request, so nothing the agent typed is lost if the CRM
        refuses it. A failed log may be logged again (with a corrected draft).

        Raises:
            UnknownCall: no such call.
            AlreadyLogged: the call's session is logged, or being logged, for this extension.
        """
        call = self._call(call_id)
        now = self.clock.now()
        with self.store.transaction() as conn:
            if not self.lifecycle.request_log(conn, call, draft, now, auto=False):
                raise AlreadyLogged(f"This call is already logged (session {call.session_id}); edit it instead.")

    def open_for_edit(self, call_id: str) -> EditSession:
        """Reads the call's CRM log for the editor.

        Raises:
            NotLogged: the call has no CRM log yet.
            RateLimited: the CRM's Retry-After is still running (``retry_after`` says how long).
            AdapterError: the CRM's failure (``NotFound`` if the log was deleted there).
        """
        link = self.store.link_for_call(call_id)
        if link is None or link.log_id is None:
            raise NotLogged("This call is not logged yet.")

        ref = CallLogRef(adapter_id=link.adapter_id, log_id=link.log_id, contact_id=link.contact_id,
                         version=link.version)
        with self._crm_lock:
            self._not_in_penalty()
            stored = self.adapter.get_call_log(ref)
        return EditSession(
            call_id=call_id,
            ref=stored.ref,
            subject=stored.subject,
            note=note_engine.extract_agent_note(stored.body, self.lifecycle.fmt),
            dispositions=dict(stored.dispositions),
            version=stored.version,
            contact_id=stored.contact_id or link.contact_id,
            contact_name=stored.contact_name or link.contact_name,
        )

    def save_edit(
        self,
        session: EditSession,
        subject: str,
        note: str,
        dispositions: dict[str, FieldValue],
        *,
        force: bool = False,
    ) -> bool:
        """Saves the editor: only what the agent changed (relative to ``session``) among the
        agent-note section, the subject and the dispositions is written, onto the record as the
        CRM holds it now; everything else in the record stays as it is.

        The edit is recorded first, then sent right away. Returns True when the CRM has it,
        False when it is queued (offline, rate-limited) and will be sent by the outbox.

        Args:
            force: "apply just my change": write the agent's changed fields even if someone
                changed those same fields in the CRM since the editor loaded them.

        Raises:
            EditConflict: the same fields changed in the CRM meanwhile (and ``force`` is False).
            AdapterError: the CRM refused the edit for good (validation, permission, not found).
        """
        link = self.store.link_for_call(session.call_id)
        if link is None or link.log_id is None:
            raise NotLogged("This call is not logged yet.")
        now = self.clock.now()
        payload = {
            "subject": subject,
            "note": note,
            "dispositions": dict(dispositions),
            "base_subject": session.subject,
            "base_note": session.note,
            "base_dispositions": dict(session.dispositions),
            "force": force,
        }
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE call_id = ? AND intent = 'edit'"
                " AND state = 'queued'",
                (ts(now), session.call_id),
            )
            item_id = enqueue(conn, account=self.config.account, call_id=session.call_id,
                              session_id=link.session_id, extension_id=link.extension_id, intent=Intent.EDIT,
                              payload=payload, now=now)
        with self._crm_lock:
            if self.budgets.crm.blocked_until(now) is not None:
                return False
            item = self.store.item(item_id)
            assert item is not None
            outcome = self.outbox.execute(item, now)
        if outcome == "failed":
            failed = self.store.item(item_id)
            raise AdapterError(failed.last_error if failed and failed.last_error else "The CRM refused the edit.")
        return outcome == "done"

    # --- the live path (push events) ----------------------------------------------------------

    def live_event(self, event: TelephonySessionEvent) -> LiveChange | None:
        """Applies one telephony-session event: the call's row appears when it rings, auto-log
        creates the CRM log when it connects, and the final duration is known when it ends.

        Cheap (SQLite only; CRM writes go through the outbox), so the socket thread may call it.
        Returns what changed for the agent, or None for a stale event or someone else's call.
        """
        with self._live_lock:
            before = self._live.get(event.telephony_session_id)
            call = self._live.apply(event)
            if call is None:
                return None
            now = self.clock.now()
            ext = self.config.extension_id
            record = live_mod.live_record(call, ext)
            connected = call.was_answered and (before is None or not before.was_answered)
            ended = not call.is_live and (before is None or before.is_live)
            with self.store.transaction() as conn:
                stored, created = store_mod.store_live_in(conn, record, live_mod.live_info(call), ext, now)
                self.lifecycle.observe(conn, stored, now)
                auto = connected and self.config.auto_log and self._wants_live_auto_log(stored)
                if auto:
                    enqueue(conn, account=self.config.account, call_id=stored.id, session_id=stored.session_id,
                            extension_id=ext, intent="auto", payload={}, now=now)
            if ended:
                if self._push_calls:
                    self._await_round = 0
                    due = now + live_mod.RECORD_DELAY
                    self._next_sync = due if self._next_sync is None else min(self._next_sync, due)
                self.commit_live_note(stored.id)
            rows = self.store.rows(call_ids=[stored.id], limit=1)
        if not rows:
            return None
        return LiveChange(row=rows[0], rang=created, connected=connected, ended=ended, auto_log_queued=auto)

    def _wants_live_auto_log(self, call: Call) -> bool:
        db = self.store
        if db.link(call.session_id, self.config.extension_id) is not None:
            return False
        return not any(i.intent == "auto" for i in db.items(call_id=call.id))

    def live_calls(self) -> list[CallRow]:
        """Calls ringing, connected or on hold now, as the live events left them."""
        return self.store.live_rows()

    def commit_live_note(self, call_id: str) -> bool:
        """Sends what the agent typed in the note pad to a call that is already logged (auto-log at
        connect, or logged during the call): only the agent-note section changes, as an edit.

        Returns True when an edit was queued. A call that is not logged keeps the note as its
        draft: the log form (or auto-log) uses it.
        """
        link = self.store.link_for_call(call_id)
        draft = self.store.draft(call_id)
        if link is None or draft is None or link.state not in (store_mod.LinkState.LOGGED,
                                                                 store_mod.LinkState.CREATING):
            return False
        base = self._note_in_crm(call_id, link)
        if draft.note.strip() == base.strip():
            return False
        now = self.clock.now()
        payload = {
            "subject": "", "base_subject": "", "note": draft.note, "base_note": base,
            "dispositions": {}, "base_dispositions": {}, "force": False, "from_pad": True,
        }
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE call_id = ? AND intent = 'edit'"
                " AND state = 'queued' AND json_extract(payload, '$.from_pad')",
                (ts(now), call_id),
            )
            enqueue(conn, account=self.config.account, call_id=call_id, session_id=link.session_id,
                    extension_id=link.extension_id, intent=Intent.EDIT, payload=payload, now=now)
        return True

    def _note_in_crm(self, call_id: str, link: store_mod.Link) -> str:
        """The agent note the CRM log holds as far as the app knows (what it last sent)."""
        for item in reversed(self.store.items(call_id=call_id)):
            if item.intent == Intent.EDIT and item.state in (ItemState.DONE, ItemState.QUEUED):
                return str(item.payload.get("note", ""))
            if item.intent == Intent.CREATE and item.state in (ItemState.DONE, ItemState.QUEUED):
                return str(item.payload.get("draft", {}).get("note", ""))
        if link.written_body is not None:
            return note_engine.extract_agent_note(link.written_body, self.lifecycle.fmt)
        return ""

    def insights_event(self, raw_insights: dict[str, object]) -> bool:
        """RingSense pushed the insights of a recording: the AI note and transcript are ready.

        Returns True when a call of the agent took them.
        """
        record_id = raw_insights.get("sourceRecordId")
        session = raw_insights.get("sourceSessionId")
        call = self.store.call_for_recording(
            str(record_id) if record_id is not None else None, str(session) if session is not None else None
        )
        if call is None:
            return False
        return self.lifecycle.insights_arrived(call, raw_insights, self.clock.now())

    def set_sync_every(self, every: timedelta) -> None:
        """Reads the call log every ``every`` while push events are off (the agent's "Check for
        calls every" setting); the next regular read moves to the last one plus ``every``.

        Cheap and takes no lock (a few assignments), so the GUI thread may call it while a tick
        runs; a read under way schedules its next one with the new interval.
        """
        self.plan = dataclasses.replace(self.plan, sync_every=every)
        self.config.plan = self.plan
        last = self._last_sync_at
        regular = self._sync_failures == 0 and self._rc_error is None and not self._push_calls
        if last is not None and self._next_sync is not None and regular:
            self._next_sync = last + every

    def use_adapter(self, adapter: CrmAdapter) -> None:
        """Logs into ``adapter`` from now on: the CRM connection the agent changed in Settings
        and tested, used without a restart.

        Waits for the CRM request in flight (the account's lock), then swaps: the outbox works on
        the new adapter's account (its id, unless the engine was given an account), the last
        connection's health and rate-limit wait are forgotten, and that account's writes waiting
        to be retried (after a refused sign-in, say) are due at once. What was sent through the
        old connection stays as it is, as after a restart. The adapter replaced is the caller's to
        close once nothing else uses it.
        """
        with self._crm_lock:
            now = self.clock.now()
            account = self._account or adapter.manifest.id
            with self.store.transaction() as conn:  # first: if it fails, nothing was swapped
                conn.execute(
                    "UPDATE outbox SET next_attempt = ? WHERE account = ? AND state = 'queued'"
                    " AND next_attempt > ? AND last_error IS NOT NULL",
                    (ts(now), account, ts(now)),
                )
            budget = RateBudget(self.budgets.crm.name, self.budgets.crm.spec)
            metered = MeteredAdapter(adapter, budget, self.clock)
            self.budgets.crm = budget
            self.outbox.budget = budget
            self.outbox.health = OutboxHealth()
            self.adapter = metered
            self.lifecycle.adapter = metered
            self.config.account = account
        log.info("logging into %s from now on", adapter.manifest.id)

    def set_push(self, *, calls: bool, insights: bool = False) -> None:
        """Whether push events are flowing now: call events (the call log is then read after each
        call and as a safety net) and RingSense events (insights are then not asked for)."""
        # Plain assignments (no lock): the socket thread must never wait behind a sync in flight.
        was = self._push_calls
        self._push_calls = calls
        self._push_insights = insights and calls
        if was and not calls:
            self._next_sync = self.clock.now()  # back to polling: look at once
        elif calls and not was:
            self.catch_up()

    def catch_up(self) -> None:
        """Reads the call log now (and asks RingSense about every awaited insight once), for calls
        that ended while events could not reach the app: at start and after every reconnect that
        could not replay the missed events."""
        self._next_sync = self.clock.now()
        self._insights_catch_up = True
        self._await_round = 0

    # --- background work ---------------------------------------------------------------------

    def sync(self) -> SyncOutcome:
        """One call-log-sync round (FSync the first time, ISync after): stores new and changed calls,
        notices final durations and recordings, and queues auto-logs and updates.

        Spends one Heavy request; skipped (``offline`` False, nothing new) while the budget is spent.
        """
        with self._rc_lock:
            now = self.clock.now()
            if not self.budgets.rc_heavy.has_room(now):
                return SyncOutcome()
            self.budgets.rc_heavy.record(now)
            token = self.store.cursor(SYNC_CURSOR)
            try:
                batch = self.source.sync_call_log(token)
                self._learn_rc_limits(now)
            except RateLimited as exc:
                until = self.budgets.rc_heavy.block(now, exc.retry_after)
                self._next_sync = until
                self._rc_error = str(exc)
                return SyncOutcome()
            except TransientError as exc:
                self._sync_failures += 1
                self._rc_error = str(exc)
                self._rc_offline_since = self._rc_offline_since or now
                self._next_sync = now + backoff(self._sync_failures, cap=self.plan.sync_every.total_seconds() * 4)
                return SyncOutcome(offline=True)
            except AdapterError as exc:
                # Signed out or not allowed: nothing to gain from asking often; the status says why.
                self._rc_error = str(exc)
                self._next_sync = now + self.plan.resume_gap
                return SyncOutcome()
            self._sync_failures = 0
            self._rc_offline_since = None
            self._rc_error = None
            self._last_sync_at = now
            self._next_sync = now + (self.plan.push_sync_every if self._push_calls else self.plan.sync_every)
            records = [r for r in batch.records if not r.deleted]
            auto = 0
            with self.store.transaction() as conn:
                new, changed = store_mod.store_records_in(conn, records, self.config.extension_id, now)
                for call in [*new, *changed]:
                    self.lifecycle.observe(conn, call, now)
                    if self.config.auto_log and self._wants_auto_log(call):
                        enqueue(conn, account=self.config.account, call_id=call.id, session_id=call.session_id,
                                extension_id=self.config.extension_id, intent="auto", payload={}, now=now)
                        auto += 1
                conn.execute(
                    "INSERT INTO cursors (name, value, updated_at) VALUES (?,?,?) ON CONFLICT(name) DO UPDATE SET"
                    " value = excluded.value, updated_at = excluded.updated_at",
                    (SYNC_CURSOR, batch.sync_token, ts(now)),
                )
            if self._push_calls and (self.store.awaited_records() or self.store.awaited_recordings()):
                # Push says nothing about records and recordings: read again soon, less often each time.
                due = now + live_mod.await_step(self._await_round, self.plan.push_sync_every)
                self._await_round += 1
                self._next_sync = min(self._next_sync, due)
            else:
                self._await_round = 0
            return SyncOutcome(new=len(new), updated=len(changed), full=batch.full, auto_logged=auto)

    def _wants_auto_log(self, call: Call) -> bool:
        if (call.result or "").lower() == "in progress":
            return False
        if call.start_time < self.clock.now() - self.plan.give_up_after:
            return False  # history from before auto-log could have seen it
        db = self.store
        if db.link(call.session_id, self.config.extension_id) is not None:
            return False
        return not any(i.intent == "auto" for i in db.items(call_id=call.id))

    def _learn_rc_limits(self, now: datetime) -> None:
        """Adopts the limits and penalties RingCentral announced, when the source reports them
        (``RingCentralClient.rate_limit_status``): the account's plan may differ from the defaults."""
        status_of = getattr(self.source, "rate_limit_status", None)
        if not callable(status_of):
            return
        try:
            groups = dict(status_of())
        except Exception:  # an optional nicety: never let it break a sync
            return
        for group, status in groups.items():
            name = str(group).lower()
            budget = {"heavy": self.budgets.rc_heavy, "light": self.budgets.rc_light}.get(name)
            limit, window = getattr(status, "limit", None), getattr(status, "window", None)
            if budget is None or not isinstance(limit, int) or not isinstance(window, int | float) or limit <= 0:
                continue
            spec = RateSpec(limit, float(window))
            if budget.spec != spec:
                budget.adjust(spec)
            wait = getattr(status, "wait", 0.0)
            if getattr(status, "paused", False) and isinstance(wait, int | float) and wait > 0:
                budget.block(now, float(wait))

    def poll_artifacts(self) -> PollOutcome:
        """Asks RingSense about recorded calls whose check is due (Light budget), and gives up
        on artifacts that did not arrive within the give-up time."""
        with self._rc_lock:
            now = self.clock.now()
            given_up = self.lifecycle.give_up_overdue(now)
            if not self.config.ai_enabled:
                return PollOutcome(given_up=given_up)
            checked = ready = 0
            seen: set[str] = set()
            light = self.budgets.rc_light
            if self._push_insights and not self._insights_catch_up:
                # RingSense pushes the insights: nothing to ask for.
                return PollOutcome(given_up=given_up)
            # A catch-up asks once about every awaited insight, whatever its schedule.
            horizon = now + self.plan.give_up_after if self._insights_catch_up else now
            self._insights_catch_up = False
            due = [
                *self.store.due_artifact_checks(ArtifactKind.AI_NOTE, horizon, 200),
                *self.store.due_artifact_checks(ArtifactKind.TRANSCRIPT, horizon, 200),
            ]
            due.sort(key=lambda a: (a.next_check or now))
            for art in due:
                if art.call_id in seen:
                    continue
                seen.add(art.call_id)
                call = self.store.call(art.call_id)
                if call is None or call.recording is None:
                    continue
                if not light.has_room(now):
                    break
                light.record(now)
                checked += 1
                try:
                    insights = self.source.get_insights(call.recording.id)
                except NotFound:
                    insights = None
                except PermissionDenied:
                    # No RingSense licence: stop expecting AI artifacts for every call.
                    self.config.ai_enabled = False
                    self.lifecycle.ai_unavailable(call, now)
                    for other in self.store.pending_artifacts():
                        if other.kind in (ArtifactKind.AI_NOTE, ArtifactKind.TRANSCRIPT):
                            c = self.store.call(other.call_id)
                            if c is not None:
                                self.lifecycle.ai_unavailable(c, now)
                    break
                except RateLimited as exc:
                    light.block(now, exc.retry_after)
                    self._rc_error = str(exc)
                    break
                except TransientError as exc:
                    self._rc_error = str(exc)
                    self.lifecycle.insights_arrived(call, None, now)
                    continue
                except AdapterError as exc:
                    self._rc_error = str(exc)
                    break
                raw = getattr(insights, "raw", None) if insights is not None else None
                if insights is not None and raw is None and isinstance(insights, dict):
                    raw = insights
                if self.lifecycle.insights_arrived(call, raw, now):
                    ready += 1
            if checked:
                self._learn_rc_limits(now)
            queued = self.store.count_items(ItemState.QUEUED)
            return PollOutcome(insights_checked=checked, became_ready=ready, given_up=given_up, updates_queued=queued)

    def run_outbox(self, max_items: int | None = None) -> OutboxOutcome:
        """Sends due CRM writes, one at a time for this account, until none is due or the budget is spent."""
        return self.outbox.run(max_items)

    def tick(self) -> datetime | None:
        """One poller cycle: sync if due, poll artifacts, run the outbox. Returns ``next_due()``.

        Notices sleep/resume: after a gap much longer than the sync interval, the call list is
        synced at once and transient backoffs are cut short.
        """
        if self.store.read_only:
            return None  # nothing fetched could be kept, nothing queued could be marked sent
        now = self.clock.now()
        if self._last_tick is not None and now - self._last_tick > self.plan.resume_gap + self.plan.sync_every:
            self._resumed(now)
        self._last_tick = now
        if self._next_sync is None or self._next_sync <= now:
            self.sync()
        self.poll_artifacts()
        self.run_outbox()
        return self.next_due()

    def _resumed(self, now: datetime) -> None:
        self._next_sync = now
        self._sync_failures = 0
        with self.store.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET next_attempt = ? WHERE state = 'queued' AND next_attempt > ?"
                " AND last_error IS NOT NULL",
                (ts(now), ts(now)),
            )

    def next_due(self) -> datetime | None:
        """When the engine next has work (a sync, a check, a retry, a give-up), or None."""
        now = self.clock.now()
        candidates: list[datetime] = []
        if self._next_sync is not None:
            candidates.append(max(self._next_sync, self.budgets.rc_heavy.available_at(now)))
        check = self.store.next_artifact_check()
        if check is not None and self.config.ai_enabled and not self._push_insights:
            candidates.append(max(check, self.budgets.rc_light.available_at(now)))
        give_up = self._next_give_up()
        if give_up is not None:
            candidates.append(give_up)
        out = self.outbox.next_due()
        if out is not None:
            candidates.append(max(out, self.budgets.crm.available_at(now, 2)))
        return min(candidates) if candidates else None

    def _next_give_up(self) -> datetime | None:
        oldest = self.store.oldest_pending_since()
        return None if oldest is None else oldest + self.plan.give_up_after

    def status(self) -> EngineStatus:
        """Offline state, queue sizes, rate-limit waits and the last error, for the status bar."""
        now = self.clock.now()
        health = self.outbox.health
        offline_since = self._rc_offline_since or health.offline_since
        waits = {b.name: until for b in self.budgets.all() if (until := b.blocked_until(now)) is not None}
        pending = self.store.count_pending_logged_calls()
        unreachable = (("RingCentral", self._rc_offline_since), (self.adapter.manifest.name, health.offline_since))
        return EngineStatus(
            offline=offline_since is not None,
            offline_since=offline_since,
            offline_services=tuple(name for name, since in unreachable if since is not None),
            queued=self.store.count_to_send(now),
            failed=self.store.count_items(ItemState.FAILED),
            pending_calls=pending,
            rate_limited_until=waits,
            last_error=health.last_error or self._rc_error,
            needs_reconnect=health.auth_failed,
            last_sync_at=self._last_sync_at,
            next_due=self.next_due(),
        )

    def close(self) -> None:
        self.store.close()

    def _call(self, call_id: str) -> Call:
        call = self.store.call(call_id)
        if call is None:
            raise UnknownCall(f"No call {call_id} in the list.")
        return call
