# SPDX-License-Identifier: MIT
"""Demo pace: a call shows up, gets its recording and its AI notes within two minutes, by sync alone."""

from __future__ import annotations

from adapters.ringcentral.followup import InsightFollowUp
from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, connect, preset


def test_demo_pace_shows_call_recording_and_insights_within_two_minutes() -> None:
    clock = ManualClock()
    account = SandboxAccount(clock=clock, scenario=preset("happy", demo=True), seed=12)
    rc = connect(account)
    follow = InsightFollowUp(clock=clock, first_check_after=30, retry_every=15)
    token = rc.sync_call_log(None).sync_token
    call = account.place_call("outbound", duration=150, recorded=True)
    ended = clock()
    seen_at = recorded_at = insights_at = None
    while clock() - ended < 180 and insights_at is None:
        clock.advance(10)  # the demo poller's cadence
        result = rc.sync_call_log(token)
        token = result.sync_token
        for record in result.records:
            if record.id != call.id:
                continue
            seen_at = seen_at or clock()
            if record.recording is not None and recorded_at is None:
                recorded_at = clock()
                follow.recording_seen(record.recording.id)
        for recording_id in follow.due(10):
            insights = rc.get_insights(recording_id)
            if insights is None:
                follow.not_ready(recording_id)
            else:
                insights_at = clock()
                follow.done(recording_id)
    assert seen_at is not None and seen_at - ended <= 30
    assert recorded_at is not None and insights_at is not None
    assert insights_at - ended <= 120 + 15  # two minutes, plus one poll of slack
    assert account.request_count(status=429) == 0
    rc.close()


def test_demo_account_places_a_call_every_thirty_to_sixty_seconds() -> None:
    clock = ManualClock()
    account = SandboxAccount(
        clock=clock,
        scenario=preset("happy", demo=True),
        seed=4,
    )
    rc = connect(account)
    token = rc.sync_call_log(None).sync_token
    started = clock()
    new_ids: set[str] = set()
    # Calls ring live first and reach the call log after they end (up to 7 min + 25 s later): sync
    # for the ten minutes they ring in plus that, a sync every ten seconds.
    for _ in range(60 + 45):
        clock.advance(10)
        result = rc.sync_call_log(token)
        token = result.sync_token
        new_ids |= {r.id for r in result.records}
    new_ids = {i for i in new_ids if account.calls[i].start < started + 600}
    assert 9 <= len(new_ids) <= 21
    kinds = {account.calls[i].kind for i in new_ids}
    assert len(kinds) >= 3  # a mix: answered, outbound, missed, voicemail, internal, transfers
    rc.close()
