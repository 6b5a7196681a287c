# SPDX-License-Identifier: MIT
"""The Engine facade: auto-log, all-at-once, Retry-After, offline periods, sleep/resume, status."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.base import PermissionDenied, RateLimited
from adapters.crm.local import LocalCrm
from adapters.models import Call, CallLogRef, Contact, LogEntry
from desktop.engine.errors import UnknownCall
from desktop.engine.models import ArtifactKind, ArtifactState, CallFilter, Draft, LogStatus
from tests.engine.fakes import FoundInsights, SimulatedRingCentral
from tests.engine.world import World, all_settled, drive


def test_auto_log_is_off_by_default(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call()
    rc = world.rc()
    engine = world.engine(rc)
    drive(engine, world.clock, rc, until=lambda: world.clock.now() > world.script[0].appear + timedelta(hours=1))
    assert world.crm.call_logs() == []
    assert engine.calls()[0].status is LogStatus.UNLOGGED


def test_auto_log_creates_the_log_when_exactly_one_contact_matches(tmp_path: Path) -> None:
    world = World(tmp_path)
    ada = world.contact("Ada", "+14155550123")
    world.add_call(phone="+14155550123")
    rc = world.rc()
    engine = world.engine(rc, auto_log=True)
    drive(engine, world.clock, rc, until=lambda: all_settled(engine) and bool(engine.calls()))
    [log] = world.crm.call_logs()
    assert log.contact_id == ada.id
    assert engine.calls()[0].status is LogStatus.COMPLETE


def test_auto_log_leaves_ambiguous_and_unknown_callers_unlogged_with_the_reason(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.contact("Ada's husband", "+14155550123")
    world.add_call(phone="+14155550123", at=0)
    world.add_call(phone="+12125550000", at=10)
    rc = world.rc()
    engine = world.engine(rc, auto_log=True)
    drive(engine, world.clock, rc, until=lambda: len(engine.calls()) == 2 and all(
        r.unlogged_reason for r in engine.calls()))
    assert world.crm.call_logs() == []
    reasons = {r.remote_number: r.unlogged_reason for r in engine.calls(CallFilter.UNLOGGED)}
    assert reasons["+14155550123"] == "2 contacts match +14155550123"
    assert reasons["+12125550000"] == "No contact matches +12125550000"
    # The agent resolves one by hand.
    row = next(r for r in engine.calls() if r.remote_number == "+14155550123")
    contact = engine.match_contacts(row.call_id)[1]
    engine.log_call(row.call_id, Draft(contact_id=contact.id, contact_name=contact.name, note="picked"))
    engine.run_outbox()
    assert [log.contact_id for log in world.crm.call_logs()] == [contact.id]
    assert engine.calls(CallFilter.UNLOGGED)[0].remote_number == "+12125550000"


def test_all_at_once_waits_for_every_artifact_then_creates_once(tmp_path: Path) -> None:
    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call(final_after=30, recording_after=200, insights_after=900)
    rc = world.rc()
    engine = world.engine(rc, all_at_once=True)
    engine.sync()
    engine.log_call(engine.calls()[0].call_id, Draft(contact_id=c.id, contact_name=c.name, note="once"))
    engine.run_outbox()
    assert engine.calls()[0].status is LogStatus.WAITING
    assert world.crm.call_logs() == []
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    [log] = world.crm.call_logs()
    assert "Hello, thanks for calling." in log.body and "(pending)" not in log.body
    assert engine.adapter.counts["create_call_log"] == 1
    assert engine.adapter.counts["update_call_log"] == 0


class _OneRateLimit:
    """The Local CRM, answering the first create with 429 Retry-After: 45; records request times."""

    def __init__(self, inner: LocalCrm, clock: Any) -> None:
        self.inner = inner
        self.clock = clock
        self.creates: list[datetime] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        self.creates.append(self.clock.now())
        if len(self.creates) == 1:
            raise RateLimited("Slow down.", retry_after=45, status=429)
        return self.inner.create_call_log(call, contact, entry)


def test_retry_after_is_honoured_before_the_next_attempt(tmp_path: Path) -> None:
    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None)
    crm = _OneRateLimit(world.crm, world.clock)
    rc = world.rc()
    engine = world.engine(rc, adapter=crm, recordings_expected=False)  # type: ignore[arg-type]
    engine.sync()
    engine.log_call(engine.calls()[0].call_id, Draft(contact_id=c.id, contact_name=c.name))
    engine.run_outbox()
    assert engine.status().rate_limited_until["crm"] == crm.creates[0] + timedelta(seconds=45)
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    assert len(crm.creates) == 2
    assert crm.creates[1] - crm.creates[0] >= timedelta(seconds=45)
    assert len(world.crm.call_logs()) == 1


def test_offline_period_queues_shows_offline_and_resumes(tmp_path: Path) -> None:
    from tests.engine.fakes import FaultyCrm

    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call(recording_after=60, insights_after=300)
    faulty = FaultyCrm(world.crm, world.clock, rate=0.0)
    rc = world.rc()
    engine = world.engine(rc, adapter=faulty)
    engine.sync()
    faulty.offline = rc.offline = True
    engine.log_call(engine.calls()[0].call_id, Draft(contact_id=c.id, contact_name=c.name, note="kept"))
    end = world.clock.now() + timedelta(hours=1)
    drive(engine, world.clock, rc, until=lambda: world.clock.now() >= end)
    status = engine.status()
    assert status.offline and status.queued == 1
    assert status.last_error is not None
    assert world.crm.call_logs() == []
    faulty.offline = rc.offline = False
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    [log] = world.crm.call_logs()
    assert "kept" in log.body and "Hello, thanks for calling." in log.body
    assert not engine.status().offline


def test_resume_after_sleep_syncs_at_once_and_cuts_backoff_short(tmp_path: Path) -> None:
    from tests.engine.fakes import FaultyCrm

    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None)
    faulty = FaultyCrm(world.crm, world.clock, rate=0.0)
    rc = world.rc()
    engine = world.engine(rc, adapter=faulty)
    engine.tick()
    faulty.offline = True
    engine.log_call(engine.calls()[0].call_id, Draft(contact_id=c.id, contact_name=c.name))

    def backoff_at_cap() -> bool:
        [item] = engine.store.items(state="queued")
        return item.next_attempt - world.clock.now() == timedelta(minutes=10)

    drive(engine, world.clock, rc, until=backoff_at_cap)
    # The machine sleeps for six minutes and wakes with the network back.
    faulty.offline = False
    world.clock.advance(6 * 60)
    heavy_before = rc.requests["heavy"]
    engine.tick()
    assert rc.requests["heavy"] == heavy_before + 1
    assert len(world.crm.call_logs()) == 1


class _Unlicensed(SimulatedRingCentral):
    def get_insights(self, recording_id: str) -> FoundInsights | None:
        raise PermissionDenied("RingSense is not licensed for this user.", status=403)


def test_no_ringsense_licence_stops_expecting_ai_notes(tmp_path: Path) -> None:
    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call(recording_after=60)
    rc = _Unlicensed(world.clock, world.script)
    engine = world.engine(rc)
    engine.sync()
    engine.log_call(engine.calls()[0].call_id, Draft(contact_id=c.id, contact_name=c.name))
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    arts = engine.store.artifacts(engine.calls()[0].call_id)
    assert arts[ArtifactKind.AI_NOTE].state is ArtifactState.ABSENT
    assert arts[ArtifactKind.RECORDING].state is ArtifactState.WRITTEN
    assert engine.calls()[0].status is LogStatus.COMPLETE


def test_status_counts_pending_calls_and_queue(tmp_path: Path) -> None:
    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call(recording_after=60)
    rc = world.rc()
    engine = world.engine(rc)
    engine.sync()
    engine.log_call(engine.calls()[0].call_id, Draft(contact_id=c.id, contact_name=c.name))
    assert engine.status().queued == 1
    engine.run_outbox()
    status = engine.status()
    assert status.queued == 0 and status.pending_calls == 1 and not status.offline
    assert status.next_due is not None and status.last_sync_at == world.clock.now()


def test_unknown_call_is_refused(tmp_path: Path) -> None:
    world = World(tmp_path)
    engine = world.engine(world.rc())
    with pytest.raises(UnknownCall):
        engine.log_call("nope", Draft())
    with pytest.raises(UnknownCall):
        engine.save_draft("nope", Draft())



class _ConcurrencyProbe:
    """The Local CRM, recording how many requests are in flight at once (from any thread)."""

    def __init__(self, inner: LocalCrm) -> None:
        import threading

        self.inner = inner
        self.lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.entered = threading.Event()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr) or name == "manifest":
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            with self.lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.entered.set()
            try:
                return attr(*args, **kwargs)
            finally:
                with self.lock:
                    self.in_flight -= 1

        return call


def test_outbox_runs_from_several_threads_but_one_crm_request_at_a_time(tmp_path: Path) -> None:
    import threading

    from tests.engine.world import phone_for, scripted_calls

    world = World(tmp_path)
    world.script = scripted_calls(30, seed=7)
    contacts = {phone_for(i): world.crm.add_contact(f"C{i}", phone_for(i)) for i in range(30)}
    probe = _ConcurrencyProbe(world.crm)
    rc = world.rc()
    engine = world.engine(rc, adapter=probe)  # type: ignore[arg-type]
    world.clock.advance(3600)
    engine.sync()
    for row in engine.calls(limit=100):
        c = contacts[row.remote_number or ""]
        engine.log_call(row.call_id, Draft(contact_id=c.id, contact_name=c.name, note=row.session_id))
    workers = [threading.Thread(target=engine.run_outbox) for _ in range(4)]
    workers.append(threading.Thread(target=lambda: [engine.calls() for _ in range(20)]))
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=60)
    assert probe.max_in_flight == 1
    assert len(world.crm.call_logs()) == 30


@pytest.mark.parametrize("allowed", [True, False])
def test_internal_calls_are_matched_by_extension_only_when_allowed(tmp_path: Path, allowed: bool) -> None:
    from adapters.testing.calls import internal_call
    from tests.engine.fakes import ScriptedCall
    from tests.engine.world import START

    world = World(tmp_path)
    sam = world.crm.add_contact("Sam Colleague", extension="102")
    call = internal_call("102", start_time=START - timedelta(minutes=1))
    world.script.append(ScriptedCall(call=call, appear=START))
    rc = world.rc()
    engine = world.engine(rc, auto_log=True, allow_extension_logging=allowed, recordings_expected=False)
    drive(engine, world.clock, rc, until=lambda: not engine.store.count_items("queued") and bool(engine.calls())
          and (bool(engine.calls()[0].crm_log_id) or bool(engine.calls()[0].unlogged_reason)))
    row = engine.calls()[0]
    assert row.is_internal
    if allowed:
        assert [log.contact_id for log in world.crm.call_logs()] == [sam.id]
    else:
        assert world.crm.call_logs() == []
        assert row.unlogged_reason == "Extension numbers cannot be logged"


def test_auto_log_skips_history_older_than_the_give_up_window(tmp_path: Path) -> None:
    world = World(tmp_path)
    world.contact("Ada", "+14155550123")
    world.add_call(phone="+14155550123", at=0, recording_after=None)
    world.clock.advance(3 * 24 * 3600)  # the engine first runs three days later
    rc = world.rc()
    engine = world.engine(rc, auto_log=True, recordings_expected=False)
    engine.tick()
    engine.tick()
    assert len(engine.calls()) == 1
    assert world.crm.call_logs() == []


def test_log_url_fills_the_manifest_template(tmp_path: Path) -> None:
    from adapters.base import Manifest, UrlTemplates

    class _Linked:
        manifest = LocalCrm.manifest.model_copy(
            update={"urls": UrlTemplates(open_log="https://{domain}/logs/{log_id}?c={contact_id}")}
        )

        def __init__(self, inner: LocalCrm) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

    assert isinstance(_Linked.manifest, Manifest)
    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None)
    rc = world.rc()
    engine = world.engine(rc, adapter=_Linked(world.crm), link_values={"domain": "crm.example"})
    engine.sync()
    engine.log_call(engine.calls()[0].call_id, Draft(contact_id=c.id, contact_name=c.name))
    engine.run_outbox()
    row = engine.calls()[0]
    assert row.log_url == f"https://crm.example/logs/{row.crm_log_id}?c={c.id}"


def test_nothing_is_sent_to_the_crm_while_its_retry_after_runs(tmp_path: Path) -> None:
    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None)
    crm = _OneRateLimit(world.crm, world.clock)
    rc = world.rc()
    engine = world.engine(rc, adapter=crm, recordings_expected=False)  # type: ignore[arg-type]
    engine.sync()
    call_id = engine.calls()[0].call_id
    engine.log_call(call_id, Draft(contact_id=c.id, contact_name=c.name))
    engine.run_outbox()
    with pytest.raises(RateLimited) as info:
        engine.match_contacts(call_id)
    assert info.value.retry_after == 45
    world.clock.advance(45)
    assert [m.id for m in engine.match_contacts(call_id)] == [c.id]


class _SignedOut:
    """The Local CRM while its credentials are revoked (until ``signed_in`` is set)."""

    def __init__(self, inner: LocalCrm) -> None:
        self.inner = inner
        self.signed_in = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def create_call_log(self, call: Call, contact: Contact, entry: LogEntry) -> CallLogRef:
        from adapters.base import AuthError

        if not self.signed_in:
            raise AuthError("The CRM did not accept the saved credentials. Reconnect it in Settings.", status=401)
        return self.inner.create_call_log(call, contact, entry)


def test_revoked_credentials_keep_the_log_queued_until_the_user_reconnects(tmp_path: Path) -> None:
    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None)
    crm = _SignedOut(world.crm)
    rc = world.rc()
    engine = world.engine(rc, adapter=crm, recordings_expected=False)  # type: ignore[arg-type]
    engine.sync()
    engine.log_call(engine.calls()[0].call_id, Draft(contact_id=c.id, contact_name=c.name, note="safe"))
    engine.run_outbox()
    status = engine.status()
    assert status.needs_reconnect and status.queued == 1 and status.failed == 0
    assert engine.calls()[0].status is LogStatus.LOGGING
    crm.signed_in = True
    drive(engine, world.clock, rc, until=lambda: all_settled(engine))
    [log] = world.crm.call_logs()
    assert "safe" in log.body
    assert not engine.status().needs_reconnect


def test_a_reconnected_crm_takes_the_writes_waiting_on_the_refused_one_at_once(tmp_path: Path) -> None:
    # Given the saved credentials were refused, so the log waits for a reconnect
    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None)
    rc = world.rc()
    engine = world.engine(rc, adapter=_SignedOut(world.crm), recordings_expected=False)  # type: ignore[arg-type]
    engine.sync()
    engine.log_call(engine.calls()[0].call_id, Draft(contact_id=c.id, contact_name=c.name, note="safe"))
    engine.run_outbox()
    assert engine.status().needs_reconnect
    waiting = engine.outbox.next_due()
    assert waiting is not None and waiting > world.clock.now() + timedelta(minutes=1)
    # When the agent reconnects the CRM (a new connection, used without a restart)
    engine.use_adapter(world.crm)
    # Then the log goes out on the next run, without waiting out the retry, and the CRM is healthy
    assert engine.outbox.next_due() == world.clock.now()
    engine.run_outbox()
    [log] = world.crm.call_logs()
    assert "safe" in log.body
    assert not engine.status().needs_reconnect and engine.status().last_error is None


def test_a_new_crm_does_not_inherit_the_last_ones_rate_limit(tmp_path: Path) -> None:
    world = World(tmp_path)
    c = world.contact("Ada", "+14155550123")
    world.add_call(recording_after=None)
    engine = world.engine(world.rc(), adapter=_OneRateLimit(world.crm, world.clock),  # type: ignore[arg-type]
                          recordings_expected=False)
    engine.sync()
    call_id = engine.calls()[0].call_id
    engine.log_call(call_id, Draft(contact_id=c.id, contact_name=c.name))
    engine.run_outbox()
    with pytest.raises(RateLimited):
        engine.match_contacts(call_id)
    engine.use_adapter(world.crm)
    assert [m.id for m in engine.match_contacts(call_id)] == [c.id]
    assert "crm" not in engine.status().rate_limited_until


def test_the_call_log_is_read_at_the_interval_the_agent_set(tmp_path: Path) -> None:
    # Given the call log was read, every 30 s by default
    world = World(tmp_path)
    rc = world.rc()
    engine = world.engine(rc)
    engine.tick()
    world.add_call(at=1)
    # When the agent asks for every two minutes
    engine.set_sync_every(timedelta(minutes=2))
    # Then the call is not read after 30 s, the next read is due two minutes after the last
    world.clock.advance(31)
    engine.tick()
    assert engine.calls() == []
    assert engine.next_due() == world.script[0].appear - timedelta(seconds=1) + timedelta(minutes=2)
    world.clock.advance(90)
    engine.tick()
    assert len(engine.calls()) == 1
    # And a shorter interval brings the next read forward
    engine.set_sync_every(timedelta(seconds=10))
    world.add_call(at=123, phone="+14155550199")  # two seconds after the last read
    world.clock.advance(11)
    engine.tick()
    assert len(engine.calls()) == 2
