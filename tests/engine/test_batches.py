# SPDX-License-Identifier: MIT
"""Updates in batches: a recording close behind the final duration shares its write; where writing
the note costs a read, the note waits for the AI note while the CRM's own duration and recording
fields are written at once; and every edit a person makes in the CRM between the app's writes
survives a merged batch."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from adapters.base import Manifest
from adapters.crm.local import LocalCrm
from desktop.engine.lifecycle import NOTE_WAIT, SETTLE
from desktop.engine.models import ArtifactKind, ArtifactState
from desktop.engine.service import Engine
from tests import live_events
from tests.engine.fakes import ScriptedCall, insights_for
from tests.engine.world import START, World, all_settled, drive

AGENT_EXT = "400200000001"
CALLER = "+14155550123"
SESSION = "8800000042"
TSID = "s-a0e7b361acc0z19cz00042"
RECORDING = "7700000042"
TALK = 200
END = START + timedelta(seconds=TALK)


class UnversionedLocal:
    """The Local CRM as a CRM without a version precondition: writing the note costs a read."""

    manifest: ClassVar[Manifest] = LocalCrm.manifest.model_copy(
        update={"capabilities": LocalCrm.manifest.capabilities.model_copy(update={"versioned_writes": False})}
    )

    def __init__(self, inner: LocalCrm) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


class LiveCall:
    """A recorded call, auto-logged at connect, pushed as live events; its record and insights come later."""

    def __init__(self, world: World, *, record_after: float, unversioned: bool = False) -> None:
        self.world = world
        world.contact("Ben Okafor", CALLER)
        self.live = live_events.LiveScript(extension_id=AGENT_EXT, tsid=TSID, session_id=SESSION, caller=CALLER)
        raw = self.live.record(start=START, duration=TALK, recording=True).to_raw()
        raw["recording"]["id"] = RECORDING
        record = type(self.live.record(start=START, duration=TALK)).model_validate(raw)
        appear = END + timedelta(seconds=record_after)
        world.script.append(ScriptedCall(call=record, appear=appear, recording_at=appear))
        self.rc = world.rc()
        adapter = UnversionedLocal(world.crm) if unversioned else world.crm
        self.engine: Engine = world.engine(self.rc, adapter=adapter, auto_log=True,  # type: ignore[arg-type]
                                           recordings_expected=False)
        self.engine.set_push(calls=True, insights=True)

    def connect_and_end(self) -> None:
        under_way = [{"id": RECORDING, "active": True}]
        self.engine.tick()  # the catch-up read of the call log when push events start
        self.engine.live_event(self.live.event("Setup", _at(0)))
        self.world.clock.set(_at(5))
        self.engine.live_event(self.live.event("Answered", _at(5), recordings=under_way))
        self.engine.run_outbox()
        self.engine.run_outbox()
        assert len(self.world.crm.call_logs()) == 1
        self.world.clock.set(END)
        self.engine.live_event(self.live.event("Disconnected", END))
        self.engine.run_outbox()

    def until(self, when: datetime) -> None:
        """Runs everything that falls due up to ``when`` (and nothing after it)."""
        clock = self.world.clock
        while True:
            now = clock.now()
            due = [t for t in (self.engine.next_due(), self.rc.next_event(now)) if t is not None]
            target = max(min(due), now + timedelta(milliseconds=1)) if due else when
            if target >= when:
                clock.set(when)
                self.engine.tick()
                return
            clock.set(target)
            self.engine.tick()

    def insights(self) -> None:
        self.engine.insights_event(insights_for(RECORDING, "a renewal at the old price"))
        self.engine.run_outbox()

    @property
    def log_id(self) -> str:
        return self.world.crm.call_logs()[0].ref.log_id

    @property
    def body(self) -> str:
        return self.world.crm.call_logs()[0].body

    def person_adds(self, line: str) -> None:
        self.world.crm.person_edits(self.log_id, body=lambda b: f"{b}\n{line}")

    def counts(self) -> dict[str, int]:
        return dict(self.engine.adapter.counts)


def test_a_recording_within_the_settle_window_goes_in_the_final_durations_write(tmp_path: Path) -> None:
    # Given a call auto-logged at connect whose record brings the recording 20 s after the hang-up
    call = LiveCall(World(tmp_path), record_after=20)
    call.connect_and_end()
    # Then the final duration waits for the recording on its way
    assert "(pending)" in call.body
    assert call.counts().get("update_call_log", 0) == 0
    # When the record is read (30 s after the hang-up)
    call.until(END + timedelta(seconds=31))
    # Then one write brings both
    assert call.counts()["update_call_log"] == 1
    assert "3 minutes, 20 seconds" in call.body and "ringcentral-media-reader" in call.body
    # and the AI note and transcript, later, one more
    call.insights()
    assert call.counts()["update_call_log"] == 2
    assert "a renewal at the old price" in call.body and "Hello, thanks for calling." in call.body


def test_a_final_duration_waits_for_its_recording_no_longer_than_the_settle_window(tmp_path: Path) -> None:
    call = LiveCall(World(tmp_path), record_after=300)
    call.connect_and_end()
    call.until(END + SETTLE - timedelta(seconds=1))
    assert "(pending)" in call.body
    call.until(END + SETTLE + timedelta(seconds=1))
    assert "3 minutes, 20 seconds" in call.body
    assert "recording being processed" in call.body
    # The recording, when the record brings it, is one more write
    drive(call.engine, call.world.clock, call.rc, until=lambda: "ringcentral-media-reader" in call.body)
    assert call.counts()["update_call_log"] == 2


def test_edits_in_the_crm_between_the_apps_writes_survive_a_merged_batch(tmp_path: Path) -> None:
    # Given a call whose final duration and recording reach the CRM in one write
    call = LiveCall(World(tmp_path), record_after=20)
    call.connect_and_end()
    # When a person edits the log while the final duration waits for the recording
    call.person_adds("Edited while the duration waited")
    call.until(END + timedelta(seconds=10))
    call.person_adds("Edited again before the recording came")
    call.until(END + timedelta(seconds=29))
    assert "(pending)" in call.body and "recording being processed" in call.body
    call.until(END + timedelta(seconds=31))
    # (the person's edits moved the version on: the write was refused once, read again, re-applied)
    assert call.counts()["get_call_log"] == 1 and call.counts()["update_call_log"] == 2
    assert "3 minutes, 20 seconds" in call.body and "ringcentral-media-reader" in call.body
    # and once more between that write and the AI note's
    call.person_adds("Edited after the merged write")
    call.insights()
    # Then every edit is in the CRM beside the app's values, and nothing is pending
    body = call.body
    for line in ("Edited while the duration waited", "Edited again before the recording came",
                 "Edited after the merged write"):
        assert line in body
    assert "3 minutes, 20 seconds" in body and "ringcentral-media-reader" in body
    assert "a renewal at the old price" in body and "pending" not in body.lower()


def test_where_the_note_costs_a_read_the_fields_are_written_at_once_and_the_note_with_the_ai_note(
    tmp_path: Path,
) -> None:
    # Given a CRM without a version precondition
    world = World(tmp_path)
    call = LiveCall(world, record_after=20, unversioned=True)
    call.connect_and_end()
    call.person_adds("Edited during the call")
    # When the final duration and the recording are in
    call.until(END + timedelta(seconds=31))
    # Then the CRM's own fields hold them, written without a read, and the note waits
    [log] = world.crm.call_logs()
    assert log.duration_seconds == TALK and (log.recording_url or "").startswith("https://")
    assert call.counts() == {"find_contact": 1, "create_call_log": 1, "update_call_log": 1}
    assert "(pending)" in log.body
    # (the status bar says the call waits for its AI note, not that a write is stuck)
    status = call.engine.status()
    assert status.queued == 0 and status.pending_calls == 1
    call.person_adds("Edited while the note waited")
    # When the AI note and transcript come: one read and one write with everything
    call.insights()
    assert call.counts()["get_call_log"] == 1 and call.counts()["update_call_log"] == 2
    body = call.body
    assert "Edited during the call" in body and "Edited while the note waited" in body
    assert "3 minutes, 20 seconds" in body and "ringcentral-media-reader" in body
    assert "a renewal at the old price" in body and "pending" not in body.lower()
    assert all_settled(call.engine)


def test_a_held_note_is_written_when_the_ai_note_takes_longer_than_the_wait(tmp_path: Path) -> None:
    world = World(tmp_path)
    call = LiveCall(world, record_after=20, unversioned=True)
    call.connect_and_end()
    call.until(END + timedelta(seconds=31))
    assert "(pending)" in call.body
    call.until(END + timedelta(seconds=30) + NOTE_WAIT + timedelta(seconds=1))
    # The note has the duration and recording; the AI note is still awaited
    body = call.body
    assert "3 minutes, 20 seconds" in body and "ringcentral-media-reader" in body
    arts = call.engine.store.artifacts(TSID)
    assert arts[ArtifactKind.DURATION].state is ArtifactState.WRITTEN
    assert arts[ArtifactKind.AI_NOTE].state is ArtifactState.PENDING
    call.insights()
    assert "a renewal at the old price" in call.body


def test_a_new_arrival_does_not_cut_short_the_wait_after_a_failed_write(tmp_path: Path) -> None:
    world = World(tmp_path)
    call = LiveCall(world, record_after=20)
    engine = call.engine
    call.connect_and_end()
    failed = {"n": 0}
    real = world.crm.update_call_log

    def offline(*args: Any, **kwargs: Any) -> Any:
        from adapters.base import TransientError

        failed["n"] += 1
        raise TransientError("Could not reach the Local CRM; will retry.")

    world.crm.update_call_log = offline  # type: ignore[method-assign]
    call.until(END + timedelta(seconds=31))
    [item] = engine.store.items(state="queued")
    assert item.last_error is not None and failed["n"] == 1
    retry_at = item.next_attempt
    # RingSense's insights arrive while the write backs off: the backoff stands
    engine.insights_event(insights_for(RECORDING, "a renewal at the old price"))
    [again] = engine.store.items(state="queued")
    assert again.next_attempt == retry_at
    world.crm.update_call_log = real  # type: ignore[method-assign]
    drive(engine, world.clock, call.rc, until=lambda: all_settled(engine))
    assert "a renewal at the old price" in call.body
