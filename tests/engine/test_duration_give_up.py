# SPDX-License-Identifier: MIT
"""A call RingCentral still shows "In Progress" after the give-up time: the note stops saying
"(pending)" and says the duration is not available; a final duration that comes later replaces it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from desktop.engine.lifecycle import NOT_AVAILABLE
from desktop.engine.models import ArtifactKind, ArtifactState, CallFilter, Draft, LogStatus
from desktop.engine.service import Engine
from tests.engine.world import World, all_settled, drive

GONE = NOT_AVAILABLE[ArtifactKind.DURATION]


def _stuck_call(world: World, hours: float = 48) -> None:
    """An unrecorded call whose record stays "In Progress" for ``hours``."""
    world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None, final_after=hours * 3600, duration=194)


def _log(world: World, engine: Engine) -> None:
    contact = world.contacts["Ada"]
    [row] = engine.calls(CallFilter.UNLOGGED)
    engine.log_call(row.call_id, Draft(contact_id=contact.id, contact_name=contact.name, note="Line dropped"))


def _duration(engine: Engine) -> ArtifactState:
    return engine.store.artifacts(engine.calls()[0].call_id)[ArtifactKind.DURATION].state


def test_duration_still_pending_after_the_give_up_time_is_written_as_not_available(tmp_path: Path) -> None:
    # Given a call logged while RingCentral still shows it in progress (default give-up: 24 h)
    world = World(tmp_path)
    _stuck_call(world)
    rc = world.rc()
    engine = world.engine(rc, recordings_expected=False, ai_enabled=False)
    engine.sync()
    _log(world, engine)
    engine.run_outbox()
    assert "- Duration: (pending)\n" in world.crm.call_logs()[0].body
    # When the give-up time passes and the record is still not final
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    # Then the note says the duration is not available, not "(pending)", and the call is complete
    [stored] = world.crm.call_logs()
    assert f"- Duration: {GONE}\n" in stored.body
    assert "(pending)" not in stored.body
    assert "In Progress" not in stored.body
    assert "Line dropped" in stored.body
    assert world.clock.now() - engine.calls()[0].start_time >= timedelta(hours=24)
    assert _duration(engine) is ArtifactState.GIVEN_UP
    assert engine.calls()[0].status is LogStatus.COMPLETE
    assert stored.duration_seconds is None


def test_a_final_duration_after_the_give_up_replaces_not_available(tmp_path: Path) -> None:
    world = World(tmp_path)
    _stuck_call(world, hours=4)
    rc = world.rc()
    engine = world.engine(rc, recordings_expected=False, ai_enabled=False, give_up_after=timedelta(hours=2))
    engine.sync()
    _log(world, engine)
    drive(engine, world.clock, rc, until=lambda: GONE in world.crm.call_logs()[0].body)
    drive(engine, world.clock, rc, until=lambda: all_settled(engine) and _duration(engine) is ArtifactState.WRITTEN)
    [stored] = world.crm.call_logs()
    assert "- Duration: 3 minutes, 14 seconds\n" in stored.body
    assert "- Result: Accepted\n" in stored.body
    assert GONE not in stored.body
    assert stored.duration_seconds == 194


def test_not_available_the_agent_changed_is_kept_when_the_final_duration_comes(tmp_path: Path) -> None:
    world = World(tmp_path)
    _stuck_call(world, hours=4)
    rc = world.rc()
    engine = world.engine(rc, recordings_expected=False, ai_enabled=False, give_up_after=timedelta(hours=2))
    engine.sync()
    _log(world, engine)
    drive(engine, world.clock, rc, until=lambda: GONE in world.crm.call_logs()[0].body)
    [log] = world.crm.call_logs()
    world.crm.person_edits(log.ref.log_id, body=lambda b: b.replace(GONE, "about 3 minutes (from the agent)"))
    drive(engine, world.clock, rc, until=lambda: all_settled(engine) and world.crm.call_logs()[0].duration_seconds)
    [stored] = world.crm.call_logs()
    assert "- Duration: about 3 minutes (from the agent)\n" in stored.body
    assert "3 minutes, 14 seconds" not in stored.body
    assert _duration(engine) is ArtifactState.SKIPPED


def test_a_call_logged_after_the_give_up_is_created_with_not_available(tmp_path: Path) -> None:
    world = World(tmp_path)
    _stuck_call(world, hours=4)
    rc = world.rc()
    engine = world.engine(rc, recordings_expected=False, ai_enabled=False, give_up_after=timedelta(hours=2))
    engine.sync()
    drive(engine, world.clock, rc, until=lambda: _duration(engine) is ArtifactState.GIVEN_UP)
    _log(world, engine)
    engine.run_outbox()
    [stored] = world.crm.call_logs()
    assert f"- Duration: {GONE}\n" in stored.body
    assert "(pending)" not in stored.body and "In Progress" not in stored.body
    assert engine.calls()[0].status is LogStatus.COMPLETE
