# SPDX-License-Identifier: MIT
"""One call's lifecycle through the engine: create with placeholders, complete as artifacts arrive,
edits in the CRM survive, permanent errors keep the agent's input, edits through the editor."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from adapters.base import ValidationError
from adapters.models import Call, CallLogRef, Contact, LogEntry
from desktop.engine.errors import AlreadyLogged, EditConflict, NotLogged
from desktop.engine.lifecycle import NOT_AVAILABLE
from desktop.engine.models import ArtifactKind, ArtifactState, CallFilter, Draft, LogStatus
from tests.engine.world import World, all_settled, drive


def _log_all(world: World, engine: object, note: str = "Customer wants a callback") -> None:
    from desktop.engine.service import Engine

    assert isinstance(engine, Engine)
    contact = next(iter(world.contacts.values()))
    for row in engine.calls(CallFilter.UNLOGGED):
        engine.log_call(row.call_id, Draft(contact_id=contact.id, contact_name=contact.name, note=note))


def test_logged_call_is_created_with_placeholders_then_completed_one_update_per_batch(tmp_path: Path) -> None:
    # Given a call whose final duration, recording and AI note arrive at different moments
    world = World(tmp_path)
    world.contact("Ada Lovelace", "+14155550123")
    call = world.add_call(at=0, final_after=30, recording_after=120, insights_after=900, summary="a refund")
    rc = world.rc()
    engine = world.engine(rc)
    drive(engine, world.clock, rc, until=lambda: bool(engine.calls()))
    # When the agent logs it while it is still in progress
    _log_all(world, engine, note="Refund of $1.50 promised <b>today</b>")
    engine.run_outbox()
    # Then one log exists, with the note and placeholders for what is not known yet
    [stored] = world.crm.call_logs()
    assert "Refund of $1.50 promised <b>today</b>" in stored.body
    assert "(pending)" in stored.body
    assert "<recording being processed by RingCentral>" in stored.body
    row = engine.calls()[0]
    assert row.status is LogStatus.PENDING
    assert set(row.pending) == {ArtifactKind.DURATION, ArtifactKind.RECORDING, ArtifactKind.AI_NOTE,
                                ArtifactKind.TRANSCRIPT}
    # When everything arrives
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    # Then the same log holds every artifact and no placeholder
    [stored] = world.crm.call_logs()
    assert "(pending)" not in stored.body
    assert "being processed" not in stored.body and "being prepared" not in stored.body
    assert "a refund" in stored.body
    assert "Hello, thanks for calling." in stored.body
    assert "ringcentral-media-reader" in stored.body
    assert "Refund of $1.50 promised <b>today</b>" in stored.body
    assert engine.calls()[0].status is LogStatus.COMPLETE
    # One create, then one write per batch: the recording came 90 s after the final duration, so
    # both went in one write; the AI note and transcript in another. The Local CRM has versioned
    # writes, so the body last written stands in for a read.
    counts = engine.adapter.counts
    assert counts["create_call_log"] == 1
    assert counts["update_call_log"] == 2
    assert counts["get_call_log"] == 0
    assert stored.duration_seconds == call.duration


def test_logging_the_same_session_twice_is_refused(tmp_path: Path) -> None:
    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call()
    rc = world.rc()
    engine = world.engine(rc)
    engine.sync()
    call_id = engine.calls()[0].call_id
    engine.log_call(call_id, Draft(contact_id=c.id, contact_name=c.name, note="first"))
    with pytest.raises(AlreadyLogged):
        engine.log_call(call_id, Draft(contact_id=c.id, contact_name=c.name, note="second"))
    engine.run_outbox()
    with pytest.raises(AlreadyLogged):
        engine.log_call(call_id, Draft(contact_id=c.id, contact_name=c.name, note="third"))
    assert len(world.crm.call_logs()) == 1


def test_person_edits_in_the_crm_between_updates_survive(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(at=0, final_after=30, recording_after=120, insights_after=900)
    rc = world.rc()
    engine = world.engine(rc)
    engine.sync()
    _log_all(world, engine, note="Original note")
    engine.run_outbox()
    [log] = world.crm.call_logs()
    edits: list[str] = []

    def person_edits() -> None:
        # A person adds a line of their own between every two poller cycles until it is complete.
        if not all_settled(engine) and len(edits) < 40:
            line = f"Supervisor remark {len(edits) + 1}"
            edits.append(line)
            world.crm.person_edits(log.ref.log_id, body=lambda b: f"{line}\n{b}")

    drive(engine, world.clock, rc, until=lambda: all_settled(engine), step_hook=person_edits)
    [stored] = world.crm.call_logs()
    assert edits
    for line in edits:
        assert line in stored.body
    assert "Original note" in stored.body
    assert "Hello, thanks for calling." in stored.body


def test_agent_note_edited_in_the_crm_is_not_overwritten_by_the_poller(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(at=0, recording_after=120, insights_after=300)
    rc = world.rc()
    engine = world.engine(rc)
    engine.sync()
    _log_all(world, engine, note="Draft note")
    engine.run_outbox()
    [log] = world.crm.call_logs()
    world.crm.person_edits(log.ref.log_id, body=lambda b: b.replace("Draft note", "Corrected in the CRM"))
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    [stored] = world.crm.call_logs()
    assert "Corrected in the CRM" in stored.body
    assert "Draft note" not in stored.body


class _RejectingCrm:
    """The Local CRM, except that creates fail validation the way a strict CRM would."""

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        raise ValidationError("The CRM rejected a value (Subject).", field="subject",
                              vendor_message="Subject may not contain '#'", status=400)


def test_permanent_error_stops_the_item_keeps_the_draft_and_says_what_the_crm_said(tmp_path: Path) -> None:
    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call()
    rc = world.rc()
    engine = world.engine(rc, adapter=_RejectingCrm(world.crm))  # type: ignore[arg-type]
    engine.sync()
    call_id = engine.calls()[0].call_id
    draft = Draft(contact_id=c.id, contact_name=c.name, subject="Ticket #42", subject_edited=True,
                  note="Everything the agent typed", dispositions={"disposition": "callback_requested"})
    engine.log_call(call_id, draft)
    outcome = engine.run_outbox()
    assert outcome.failed == 1
    row = engine.calls()[0]
    assert row.status is LogStatus.FAILED
    assert row.last_error is not None and "Subject may not contain '#'" in row.last_error
    assert engine.draft(call_id) == draft
    assert [r.call_id for r in engine.calls(CallFilter.FAILED)] == [call_id]
    # The agent fixes the subject and logs again: allowed after a failure.
    engine.adapter.inner = world.crm
    engine.log_call(call_id, draft.model_copy(update={"subject": "Ticket 42"}))
    engine.run_outbox()
    assert engine.calls()[0].status is not LogStatus.FAILED
    assert len(world.crm.call_logs()) == 1


def test_missing_artifact_is_written_as_not_available_after_the_give_up_time(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=60, insights_after=None)  # RingSense never delivers
    rc = world.rc()
    engine = world.engine(rc, give_up_after=timedelta(hours=2))
    engine.sync()
    _log_all(world, engine)
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    [stored] = world.crm.call_logs()
    assert NOT_AVAILABLE[ArtifactKind.AI_NOTE] in stored.body
    assert NOT_AVAILABLE[ArtifactKind.TRANSCRIPT] in stored.body
    assert "being prepared" not in stored.body
    arts = engine.store.artifacts(engine.calls()[0].call_id)
    assert arts[ArtifactKind.AI_NOTE].state is ArtifactState.GIVEN_UP
    assert engine.calls()[0].status is LogStatus.COMPLETE
    # The widening schedule: far fewer checks than one per sync over two hours.
    assert rc.requests["light"] <= 10


def test_insights_are_asked_only_for_recorded_calls(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None, result="Missed", duration=0)
    rc = world.rc()
    engine = world.engine(rc)
    engine.sync()
    _log_all(world, engine)
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    assert rc.requests["light"] == 0
    arts = engine.store.artifacts(engine.calls()[0].call_id)
    assert arts[ArtifactKind.RECORDING].state is ArtifactState.ABSENT
    assert arts[ArtifactKind.AI_NOTE].state is ArtifactState.ABSENT


def test_editor_replaces_only_the_note_subject_and_dispositions(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=60, insights_after=120)
    rc = world.rc()
    engine = world.engine(rc)
    engine.sync()
    _log_all(world, engine, note="First words")
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    call_id = engine.calls()[0].call_id
    session = engine.open_for_edit(call_id)
    assert session.note.strip() == "First words"
    [log] = world.crm.call_logs()
    world.crm.person_edits(log.ref.log_id, body=lambda b: "Kept line\n" + b)
    assert engine.save_edit(session, "New subject", "Better words", {"disposition": "callback_requested"}) is True
    [stored] = world.crm.call_logs()
    assert stored.subject == "New subject"
    assert "Better words" in stored.body and "First words" not in stored.body
    assert "Kept line" in stored.body
    assert "Hello, thanks for calling." in stored.body
    assert stored.dispositions.get("disposition") == "callback_requested"


def test_control_characters_in_the_subject_and_note_never_reach_the_crm(tmp_path: Path) -> None:
    world = World(tmp_path)
    contact = world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None)
    rc = world.rc()
    engine = world.engine(rc)
    engine.sync()
    call_id = engine.calls()[0].call_id
    engine.log_call(call_id, Draft(contact_id=contact.id, contact_name=contact.name, subject="Re\x00newal",
                                   subject_edited=True, note="First\x0b words"))
    engine.run_outbox()
    [stored] = world.crm.call_logs()
    assert stored.subject == "Renewal"
    assert "First words" in stored.body and "\x0b" not in stored.body
    session = engine.open_for_edit(call_id)
    assert engine.save_edit(session, "New\x1b subject", "Better\x00 words", {}) is True
    [stored] = world.crm.call_logs()
    assert stored.subject == "New subject"
    assert "Better words" in stored.body and "\x00" not in stored.body


def test_editor_conflict_when_the_note_changed_in_the_crm_then_apply_just_my_change(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None)
    rc = world.rc()
    engine = world.engine(rc)
    engine.sync()
    _log_all(world, engine, note="First words")
    engine.run_outbox()
    call_id = engine.calls()[0].call_id
    session = engine.open_for_edit(call_id)
    [log] = world.crm.call_logs()
    world.crm.person_edits(log.ref.log_id, body=lambda b: b.replace("First words", "Someone else's words"))
    with pytest.raises(EditConflict) as info:
        engine.save_edit(session, session.subject, "My words", {})
    assert "Someone else's words" in info.value.current_note
    assert engine.save_edit(session, session.subject, "My words", {}, force=True) is True
    [stored] = world.crm.call_logs()
    assert "My words" in stored.body and "Someone else's words" not in stored.body


def test_editing_an_unlogged_call_is_refused(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.add_call()
    rc = world.rc()
    engine = world.engine(rc)
    engine.sync()
    with pytest.raises(NotLogged):
        engine.open_for_edit(engine.calls()[0].call_id)


def test_a_recording_that_arrives_after_the_give_up_replaces_not_available(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=3 * 3600, insights_after=None)  # later than the give-up time
    rc = world.rc()
    engine = world.engine(rc, give_up_after=timedelta(hours=1), ai_enabled=False)
    engine.sync()
    _log_all(world, engine)
    drive(engine, world.clock, rc,
          until=lambda: NOT_AVAILABLE[ArtifactKind.RECORDING] in world.crm.call_logs()[0].body)
    drive(engine, world.clock, rc, until=lambda: all_settled(engine) and engine.calls()[0].has_recording)
    [stored] = world.crm.call_logs()
    assert NOT_AVAILABLE[ArtifactKind.RECORDING] not in stored.body
    assert "ringcentral-media-reader" in stored.body


def test_editor_writes_only_what_the_agent_changed_so_a_crm_edit_elsewhere_is_kept(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None)
    rc = world.rc()
    engine = world.engine(rc, recordings_expected=False)
    engine.sync()
    _log_all(world, engine, note="First words")
    engine.run_outbox()
    call_id = engine.calls()[0].call_id
    session = engine.open_for_edit(call_id)
    [log] = world.crm.call_logs()
    # Someone renames the log and sets a disposition in the CRM while the editor is open.
    world.crm.person_edits(log.ref.log_id, subject="Renamed in the CRM", dispositions={"disposition": "no_answer"})
    # The agent changes only the note: no conflict, and the other edits stay.
    assert engine.save_edit(session, session.subject, "Second words", dict(session.dispositions)) is True
    [stored] = world.crm.call_logs()
    assert "Second words" in stored.body
    assert stored.subject == "Renamed in the CRM"
    assert stored.dispositions["disposition"] == "no_answer"


def test_apply_just_my_change_overwrites_only_the_field_the_agent_changed(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None)
    rc = world.rc()
    engine = world.engine(rc, recordings_expected=False)
    engine.sync()
    _log_all(world, engine, note="First words")
    engine.run_outbox()
    session = engine.open_for_edit(engine.calls()[0].call_id)
    [log] = world.crm.call_logs()
    world.crm.person_edits(log.ref.log_id, subject="Renamed", body=lambda b: b.replace("First words", "Theirs"))
    with pytest.raises(EditConflict):
        engine.save_edit(session, session.subject, "Mine", {})
    assert engine.save_edit(session, session.subject, "Mine", {}, force=True) is True
    [stored] = world.crm.call_logs()
    assert "Mine" in stored.body and "Theirs" not in stored.body
    assert stored.subject == "Renamed"
