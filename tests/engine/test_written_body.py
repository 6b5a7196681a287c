# SPDX-License-Identifier: MIT
"""The body the app last wrote: sections the agent removed in the CRM stay removed, values the agent
edited stay theirs, values still as the app wrote them are updated, and a read body never counts."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from desktop.engine.lifecycle import NOT_AVAILABLE
from desktop.engine.models import ArtifactKind, ArtifactState, CallFilter, Draft
from desktop.engine.service import Engine
from desktop.engine.store import SCHEMA_VERSION, Store
from tests.engine.world import World, all_settled, drive

AI_SECTION = "\n\n- AI Note:\n<AI note being prepared by RingCentral>\n--- END\n"
TRANSCRIPT_SECTION = "\n\n- Transcript:\n<transcript being prepared by RingCentral>\n--- END\n"


def _logged(world: World, engine: Engine, note: str = "Customer wants a callback") -> str:
    """Logs the one call and sends the create; returns the CRM log id."""
    contact = next(iter(world.contacts.values()))
    engine.sync()
    for row in engine.calls(CallFilter.UNLOGGED):
        engine.log_call(row.call_id, Draft(contact_id=contact.id, contact_name=contact.name, note=note))
    engine.run_outbox()
    [log] = world.crm.call_logs()
    return log.ref.log_id


def _written_body(engine: Engine) -> str | None:
    [link] = engine.store.links()
    return link.written_body


@pytest.mark.parametrize(
    ("section", "kind", "label"),
    [
        (TRANSCRIPT_SECTION, ArtifactKind.TRANSCRIPT, "- Transcript:"),
        (AI_SECTION, ArtifactKind.AI_NOTE, "- AI Note:"),
    ],
    ids=["transcript", "ai_note"],
)
def test_a_placeholder_section_the_agent_deleted_in_the_crm_is_not_added_back(
    tmp_path: Path, section: str, kind: ArtifactKind, label: str
) -> None:
    # Given a logged call whose AI note and transcript are still placeholders
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=60, insights_after=300, summary="Wants store credit")
    rc = world.rc()
    engine = world.engine(rc)
    log_id = _logged(world, engine)
    assert section in world.crm.call_logs()[0].body
    # When the agent deletes the whole section, label and all, in the CRM
    world.crm.person_edits(log_id, body=lambda b: b.replace(section, "\n"))
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    # Then the poller's updates fill in the rest but leave that section out
    [stored] = world.crm.call_logs()
    assert label not in stored.body
    assert "ringcentral-media-reader" in stored.body
    assert ("- AI Note:\nSummary:" in stored.body) is (kind is not ArtifactKind.AI_NOTE)
    assert ("Hello, thanks for calling." in stored.body) is (kind is not ArtifactKind.TRANSCRIPT)
    assert "being prepared" not in stored.body
    arts = engine.store.artifacts(engine.calls()[0].call_id)
    assert arts[kind].state is ArtifactState.SKIPPED
    assert not arts[kind].dirty


def test_an_ai_note_the_agent_typed_over_the_placeholder_is_kept(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=60, insights_after=300, summary="Wants store credit")
    rc = world.rc()
    engine = world.engine(rc)
    log_id = _logged(world, engine)
    world.crm.person_edits(
        log_id, body=lambda b: b.replace("<AI note being prepared by RingCentral>", "My own recap: wants a refund")
    )
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    [stored] = world.crm.call_logs()
    assert "My own recap: wants a refund" in stored.body
    assert "- AI Note:\nMy own recap: wants a refund\n--- END" in stored.body
    assert "Hello, thanks for calling." in stored.body
    arts = engine.store.artifacts(engine.calls()[0].call_id)
    assert arts[ArtifactKind.AI_NOTE].state is ArtifactState.SKIPPED
    assert arts[ArtifactKind.TRANSCRIPT].state is ArtifactState.WRITTEN


def test_not_available_the_agent_added_to_is_kept_when_the_recording_arrives_late(tmp_path: Path) -> None:
    # Given a recording given up on and written as "Not available"
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=3 * 3600, insights_after=None)
    rc = world.rc()
    engine = world.engine(rc, give_up_after=timedelta(hours=1), ai_enabled=False)
    log_id = _logged(world, engine)
    words = NOT_AVAILABLE[ArtifactKind.RECORDING]
    drive(engine, world.clock, rc, until=lambda: words in world.crm.call_logs()[0].body)
    # When the agent adds their own words to that line in the CRM
    world.crm.person_edits(log_id, body=lambda b: b.replace(words, words + " - customer declined recording"))
    drive(engine, world.clock, rc, until=lambda: all_settled(engine) and engine.calls()[0].has_recording)
    # Then the late recording does not overwrite the agent's line
    [stored] = world.crm.call_logs()
    assert words + " - customer declined recording" in stored.body
    assert "ringcentral-media-reader" not in stored.body
    assert stored.recording_url is not None  # the CRM's own recording field is the app's
    arts = engine.store.artifacts(engine.calls()[0].call_id)
    assert arts[ArtifactKind.RECORDING].state is ArtifactState.SKIPPED


def _revise_duration(world: World, seconds: int) -> None:
    """RingCentral revises the call's final duration (the record changes again)."""
    s = world.script[0]
    world.script[0] = dataclasses.replace(
        s, call=s.call.model_copy(update={"duration": seconds}), final_at=world.clock.now() + timedelta(seconds=1)
    )


def test_a_duration_still_as_written_is_updated_when_ringcentral_revises_it(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None, duration=194)
    rc = world.rc()
    engine = world.engine(rc, recordings_expected=False)
    log_id = _logged(world, engine)
    assert "- Duration: 3 minutes, 14 seconds" in world.crm.call_logs()[0].body
    world.crm.person_edits(log_id, body=lambda b: "Supervisor remark\n" + b)  # elsewhere in the note
    _revise_duration(world, 200)
    drive(engine, world.clock, rc, until=lambda: "3 minutes, 20 seconds" in world.crm.call_logs()[0].body)
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    [stored] = world.crm.call_logs()
    assert "- Duration: 3 minutes, 20 seconds" in stored.body
    assert "3 minutes, 14 seconds" not in stored.body
    assert stored.body.startswith("Supervisor remark\n")
    assert stored.duration_seconds == 200
    assert engine.store.artifacts(engine.calls()[0].call_id)[ArtifactKind.DURATION].state is ArtifactState.WRITTEN
    assert _written_body(engine) == stored.body.removeprefix("Supervisor remark\n")


def test_a_duration_the_agent_edited_is_kept_when_ringcentral_revises_it(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None, duration=194)
    rc = world.rc()
    engine = world.engine(rc, recordings_expected=False)
    log_id = _logged(world, engine)
    world.crm.person_edits(log_id, body=lambda b: b.replace("3 minutes, 14 seconds", "about 3 minutes"))
    _revise_duration(world, 200)
    drive(engine, world.clock, rc, until=lambda: world.crm.call_logs()[0].duration_seconds == 200)
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    [stored] = world.crm.call_logs()
    assert "- Duration: about 3 minutes" in stored.body
    assert "3 minutes, 20 seconds" not in stored.body
    assert engine.store.artifacts(engine.calls()[0].call_id)[ArtifactKind.DURATION].state is ArtifactState.SKIPPED


def test_the_apps_own_note_never_takes_in_text_read_from_the_crm(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=60, insights_after=300)
    rc = world.rc()
    engine = world.engine(rc)
    log_id = _logged(world, engine)
    created = world.crm.call_logs()[0].body
    assert _written_body(engine) == created
    # An edit in the CRM followed by the editor loading the record (a read) changes nothing.
    world.crm.person_edits(log_id, body=lambda b: "Read, not written\n" + b)
    engine.open_for_edit(engine.calls()[0].call_id)
    assert _written_body(engine) == created
    # Updates carry the agent's line along in the CRM, but the app's own note moves on without it.
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    [stored] = world.crm.call_logs()
    assert stored.body.startswith("Read, not written\n")
    assert _written_body(engine) == stored.body.removeprefix("Read, not written\n")


def test_a_version_2_database_gains_the_written_body_column_and_keeps_its_links(tmp_path: Path) -> None:
    path = tmp_path / "engine.sqlite3"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE call_logs DROP COLUMN written_body")
    # What later versions added (live calls) goes too: this is a version 2 file.
    conn.execute("DROP INDEX calls_by_record")
    conn.execute("ALTER TABLE calls DROP COLUMN record_id")
    conn.execute("ALTER TABLE calls DROP COLUMN live")
    conn.execute(
        "INSERT INTO call_logs (session_id, extension_id, call_id, adapter_id, log_id, state, body, created_at,"
        " updated_at) VALUES ('s1', 'e1', 'c1', 'local', 'L1', 'logged', 'old body', 'x', 'x')"
    )
    conn.execute("PRAGMA user_version = 2")
    conn.commit()
    conn.close()
    store = Store(path)
    assert store.schema_version == SCHEMA_VERSION
    link = store.link("s1", "e1")
    assert link is not None and link.body == "old body" and link.written_body is None
    store.close()
