# SPDX-License-Identifier: MIT
"""The live half of the lifecycle: a call is a row from its first ring, auto-log creates the CRM log
at connect with the duration pending, the end writes the final duration, and the call-log record
joins the same row later — one row, one log, also across a restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.base import page_field_defaults
from desktop.engine.models import Draft, LogStatus
from desktop.engine.service import Engine
from tests import live_events
from tests.engine.fakes import ScriptedCall
from tests.engine.world import START, World

AGENT_EXT = "400200000001"
CALLER = "+14155550123"
SESSION = "8800000001"
TSID = "s-a0e7b361acc0z19cz00000"


def script(*, tsid: str = TSID, session_id: str = SESSION, caller: str = CALLER) -> live_events.LiveScript:
    return live_events.LiveScript(extension_id=AGENT_EXT, tsid=tsid, session_id=session_id, caller=caller)


def _at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def _live_engine(world: World, script: list[ScriptedCall], **kwargs: Any) -> Engine:
    engine = world.engine(world.rc(), recordings_expected=False, **kwargs)
    engine.set_push(calls=True, insights=True)
    return engine


def test_a_ringing_call_is_a_row_at_once_and_live_until_it_ends(tmp_path: Path) -> None:
    # Given an engine with push events on
    world = World(tmp_path)
    engine = _live_engine(world, world.script)
    live = script()
    # When the call rings
    change = engine.live_event(live.event("Setup", _at(0)))
    # Then it is a row, unlogged and live
    assert change is not None and change.rang and change.row.live is not None
    assert change.row.live.state == "ringing" and change.row.remote_number == CALLER
    assert [r.call_id for r in engine.live_calls()] == [TSID]
    engine.live_event(live.event("Answered", _at(5)))
    ended = engine.live_event(live.event("Disconnected", _at(125)))
    assert ended is not None and ended.ended and ended.row.duration == 125 and ended.row.result == "Accepted"
    assert engine.live_calls() == []
    assert len(engine.calls()) == 1


def test_auto_log_creates_at_connect_with_duration_pending_and_finalises_at_the_end(tmp_path: Path) -> None:
    # Given auto-log on and one matching contact
    world = World(tmp_path)
    world.contact("Ben Okafor", CALLER)
    engine = _live_engine(world, world.script, auto_log=True)
    live = script()
    world.clock.set(_at(0))
    engine.live_event(live.event("Setup", _at(0)))
    # When the call connects
    world.clock.set(_at(6))
    change = engine.live_event(live.event("Answered", _at(6)))
    assert change is not None and change.connected and change.auto_log_queued
    engine.run_outbox()
    engine.run_outbox()
    # Then the CRM has the log from the moment of connect, duration pending
    logs = world.crm.call_logs()
    assert len(logs) == 1 and "(pending)" in logs[0].body
    assert "recording being processed" not in logs[0].body  # no recording under way: no placeholder
    # When the call ends
    world.clock.set(_at(200))
    engine.live_event(live.event("Disconnected", _at(200)))
    engine.run_outbox()
    # Then the final duration replaces the placeholder
    body = world.crm.call_logs()[0].body
    assert "(pending)" not in body and "3 minutes, 20 seconds" in body


def test_the_call_log_record_joins_the_live_row_and_never_logs_twice(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ben Okafor", CALLER)
    live = script()
    record = live.record(start=_at(0), duration=200)
    world.script.append(ScriptedCall(call=record, appear=_at(225)))
    engine = _live_engine(world, world.script, auto_log=True)
    for code, at in (("Setup", 0), ("Answered", 6), ("Disconnected", 200)):
        world.clock.set(_at(at))
        engine.live_event(live.event(code, _at(at)))
        engine.run_outbox()
    # When the record arrives in the call log (the sync after the hang-up)
    world.clock.set(_at(240))
    engine.tick()
    # Then it is the same row, logged once
    rows = engine.calls()
    assert [r.call_id for r in rows] == [TSID]
    assert rows[0].crm_log_id is not None and rows[0].live is not None and rows[0].live.state == "ended"
    assert len(world.crm.call_logs()) == 1
    assert engine.store.call(TSID) is not None and engine.store.call(TSID).session_id == SESSION  # type: ignore[union-attr]


def test_notes_typed_during_the_call_reach_the_auto_logged_crm_log(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ben Okafor", CALLER)
    engine = _live_engine(world, world.script, auto_log=True)
    live = script()
    engine.live_event(live.event("Setup", _at(0)))
    engine.live_event(live.event("Answered", _at(6)))
    engine.run_outbox()
    # When the agent types in the note pad while talking, and the call ends
    engine.save_draft(TSID, Draft(note="Wants the $1 plan; call back <Friday>"))
    engine.live_event(live.event("Disconnected", _at(90)))
    engine.run_outbox()
    engine.run_outbox()
    # Then the note is the log's agent note, and nothing is left as a draft
    body = world.crm.call_logs()[0].body
    assert body.startswith("- Note: Wants the $1 plan; call back <Friday>\n")
    assert engine.draft(TSID) is None


def test_auto_log_writes_the_page_field_defaults_the_log_form_starts_with(tmp_path: Path) -> None:
    # Given the Local CRM, whose manifest sets the call result to "connected" for inbound calls
    world = World(tmp_path)
    ben = world.contact("Ben Okafor", CALLER)
    engine = _live_engine(world, world.script, auto_log=True)
    live = script()
    # When an inbound call from Ben connects and is auto-logged
    engine.live_event(live.event("Setup", _at(0)))
    engine.live_event(live.event("Answered", _at(6)))
    engine.run_outbox()
    engine.run_outbox()
    # Then the log has what the log form would have pre-filled for it
    [log] = world.crm.call_logs()
    expected = page_field_defaults(world.crm.page_fields(), "Inbound", ben)
    assert log.dispositions == expected
    assert expected["disposition"] == "connected" and expected["follow_up"] is False


def test_auto_log_takes_the_defaults_of_the_crms_live_page_fields_not_its_manifests(tmp_path: Path) -> None:
    # Given the Local CRM whose disposition list no longer offers the manifest's default "connected"
    world = World(tmp_path)
    ben = world.contact("Ben Okafor", CALLER)
    world.crm.set_dispositions(["Booked a demo", "Not interested"])
    engine = _live_engine(world, world.script, auto_log=True)
    live = script()
    # When an inbound call from Ben connects and is auto-logged
    engine.live_event(live.event("Setup", _at(0)))
    engine.live_event(live.event("Answered", _at(6)))
    engine.run_outbox()
    engine.run_outbox()
    # Then the log has the live fields' defaults (what the log form pre-fills), not the manifest's
    [log] = world.crm.call_logs()
    assert log.dispositions == page_field_defaults(world.crm.page_fields(), "Inbound", ben)
    assert log.dispositions["disposition"] is None


def test_a_choice_typed_before_auto_log_wins_over_the_default(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ben Okafor", CALLER)
    engine = _live_engine(world, world.script, auto_log=True)
    live = script()
    engine.live_event(live.event("Setup", _at(0)))
    engine.save_draft(TSID, Draft(dispositions={"disposition": "callback_requested"}))
    engine.live_event(live.event("Answered", _at(6)))
    engine.run_outbox()
    engine.run_outbox()
    [log] = world.crm.call_logs()
    assert log.dispositions["disposition"] == "callback_requested"
    assert log.dispositions["follow_up"] is False


def test_a_note_typed_while_the_create_is_in_flight_is_not_lost(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ben Okafor", CALLER)
    engine = _live_engine(world, world.script, auto_log=True)
    live = script()
    engine.live_event(live.event("Setup", _at(0)))
    engine.live_event(live.event("Answered", _at(6)))
    engine.run_outbox(max_items=1)  # the auto item queues the create
    # The agent types before the create has gone out
    engine.save_draft(TSID, Draft(note="first words"))
    engine.run_outbox()
    assert engine.draft(TSID) is not None and engine.draft(TSID).note == "first words"  # type: ignore[union-attr]
    engine.live_event(live.event("Disconnected", _at(60)))
    engine.run_outbox()
    assert world.crm.call_logs()[0].body.startswith("- Note: first words\n")


def test_logging_by_hand_during_the_call_uses_the_pad_and_the_end_fills_the_duration(tmp_path: Path) -> None:
    world = World(tmp_path)
    ben = world.contact("Ben Okafor", CALLER)
    engine = _live_engine(world, world.script)
    live = script()
    engine.live_event(live.event("Setup", _at(0)))
    engine.live_event(live.event("Answered", _at(4)))
    engine.save_draft(TSID, Draft(note="typed while talking"))
    # The agent opens the log form during the call and saves
    engine.log_call(TSID, Draft(contact_id=ben.id, contact_name=ben.name, note="typed while talking"))
    engine.run_outbox()
    assert "(pending)" in world.crm.call_logs()[0].body
    engine.live_event(live.event("Disconnected", _at(64)))
    engine.run_outbox()
    body = world.crm.call_logs()[0].body
    assert body.startswith("- Note: typed while talking\n")
    assert "1 minute, 4 seconds" in body and "(pending)" not in body


def test_a_recording_under_way_gets_a_placeholder_and_the_record_fills_it(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ben Okafor", CALLER)
    live = script()
    record = live.record(start=_at(0), duration=100, recording=True)
    world.script.append(ScriptedCall(call=record, appear=_at(130), recording_at=_at(130)))
    engine = _live_engine(world, world.script, auto_log=True)
    engine.live_event(live.event("Setup", _at(0)))
    world.clock.set(_at(5))
    engine.live_event(live.event("Answered", _at(5), recordings=[{"id": record.recording.id, "active": True}]))  # type: ignore[union-attr]
    engine.run_outbox()
    engine.run_outbox()
    assert "being processed" in world.crm.call_logs()[0].body
    world.clock.set(_at(100))
    engine.live_event(live.event("Disconnected", _at(100)))
    world.clock.set(_at(140))
    engine.tick()
    engine.run_outbox()
    body = world.crm.call_logs()[0].body
    assert "being processed" not in body and "media.ringcentral.com" in body
    row = engine.calls()[0]
    assert row.call_id == TSID and row.has_recording


def test_a_record_that_came_first_takes_later_events_without_a_second_row(tmp_path: Path) -> None:
    world = World(tmp_path)
    live = script()
    world.script.append(ScriptedCall(call=live.record(start=_at(0), duration=50), appear=_at(70)))
    engine = _live_engine(world, world.script)
    world.clock.set(_at(80))
    engine.tick()
    # Events replayed after a reconnect, for the call the log already has
    engine.live_event(live.event("Setup", _at(0)))
    change = engine.live_event(live.event("Disconnected", _at(50)))
    assert change is not None and change.row.call_id == "Rec" + SESSION
    assert len(engine.calls()) == 1


def test_after_a_restart_between_connect_and_the_record_there_is_one_row_and_one_log(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ben Okafor", CALLER)
    live = script()
    world.script.append(ScriptedCall(call=live.record(start=_at(0), duration=80), appear=_at(100)))
    engine = _live_engine(world, world.script, auto_log=True)
    engine.live_event(live.event("Setup", _at(0)))
    engine.live_event(live.event("Answered", _at(3)))
    engine.run_outbox()
    engine.close()
    # The app stops; the call ends while it is down; it starts again and catches up
    world.clock.set(_at(300))
    restarted = _live_engine(world, world.script, auto_log=True)
    restarted.tick()
    restarted.run_outbox()
    rows = restarted.calls()
    assert [r.call_id for r in rows] == [TSID]
    assert rows[0].live is not None and rows[0].live.state == "ended"
    assert rows[0].status in (LogStatus.COMPLETE, LogStatus.LOGGED)
    assert len(world.crm.call_logs()) == 1
    assert "(pending)" not in world.crm.call_logs()[0].body


def test_with_push_on_an_idle_hour_costs_a_handful_of_call_log_reads(tmp_path: Path) -> None:
    world = World(tmp_path)
    source = world.rc()
    engine = world.engine(source, recordings_expected=False)
    engine.set_push(calls=True, insights=True)
    reads = 0
    end = START + timedelta(hours=1)
    world.clock.set(START)
    while world.clock.now() < end:
        before = source.requests["heavy"]
        due = engine.tick()
        reads += source.requests["heavy"] - before
        world.clock.set(max(due or end, world.clock.now() + timedelta(seconds=1)))
    assert reads <= 10
