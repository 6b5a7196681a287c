# SPDX-License-Identifier: MIT
"""The RingCentral client against the sandbox over real loopback sockets: the happy path and
every error path (401, 429, 5xx, timeouts, truncated and non-JSON bodies, malformed records,
expired sync tokens, RingSense not ready or not licensed)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.base import AuthError, MalformedResponse, NotFound, RateLimited, TransientError
from adapters.oauth import TokenSet
from adapters.ringcentral.client import NotLicensed, RingCentralClient
from adapters.ringcentral.ratelimit import Group
from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, preset


def _sync_until_recording(
    client: RingCentralClient, account: SandboxAccount, token: str, call_id: str, step: float = 60
) -> tuple[str, str]:
    """ISync once a minute (the poller's cadence) until the call's recording shows up."""
    for _ in range(30):
        account.advance(step)
        result = client.sync_call_log(token)
        token = result.sync_token
        for record in result.records:
            if record.id == call_id and record.recording is not None:
                return token, record.recording.id
    raise AssertionError("the recording never arrived through sync")


def test_pkce_sign_in_over_loopback_lists_calls_and_follows_one_to_insights(
    socket_client: RingCentralClient, account: SandboxAccount, saved: list[TokenSet], tmp_path: Path
) -> None:
    # Given a client signed in through the browser flow (the fixture ran it over sockets)
    assert len(saved) == 1 and saved[0].extra["owner_id"] == "400200000001"
    me = socket_client.get_extension()
    assert (me.id, me.extension_number, me.name) == ("400200000001", "101", "Dana Agent")
    # When a call ends
    first = socket_client.sync_call_log(None)
    assert first.full and len(first.records) == account.scenario.history
    call = account.place_call("inbound", duration=180, recorded=True)
    # Then sync alone sees it appear 15–30 s later, without a recording at first
    account.advance(31)
    appeared = socket_client.sync_call_log(first.sync_token)
    assert [r.id for r in appeared.records] == [call.id]
    assert appeared.records[0].recording is None and not appeared.full
    # And then the recording attaches (the record comes back through ISync)
    _token, recording_id = _sync_until_recording(socket_client, account, appeared.sync_token, call.id)
    # And insights are not ready at first, then arrive
    assert socket_client.get_insights(recording_id) is None
    account.advance(3600)
    insights = socket_client.get_insights(recording_id)
    assert insights is not None and insights.source_record_id == recording_id
    speakers = {s.speaker_id: s.name for s in insights.speaker_info}
    assert speakers[insights.transcript[0].speaker_id] in ("Dana Agent", call.remote.name)
    assert insights.raw["insights"]["Transcript"][0]["text"] == insights.transcript[0].text
    # And the recording downloads to disk from the media host
    path = socket_client.download_recording(recording_id, tmp_path / "call.wav")
    assert path.read_bytes()[:4] == b"RIFF" and path.stat().st_size > 1000
    assert account.request_count(path_contains="/content") == 1
    assert account.requests[-1].host == "media"
    # And never a 429 along the way
    assert account.request_count(status=429) == 0


def test_iter_call_log_follows_next_page_until_the_end(
    socket_client: RingCentralClient, account: SandboxAccount
) -> None:
    for _ in range(7):
        account.place_call("outbound", ended_ago=120)
    since = datetime.fromtimestamp(account.clock() - 2 * 86400, UTC)
    calls = list(socket_client.iter_call_log(since, per_page=4))
    assert len(calls) == 7 + account.scenario.history
    assert len({c.id for c in calls}) == len(calls)
    assert [c.start_time for c in calls] == sorted((c.start_time for c in calls), reverse=True)
    assert account.request_count(path_contains="/call-log") == 4  # 13 records, 4 per page


def test_get_call_returns_record_and_404_is_not_found(
    socket_client: RingCentralClient, account: SandboxAccount
) -> None:
    call = account.place_call("voicemail", ended_ago=60)
    record = socket_client.get_call(call.id)
    assert record.result == "Voicemail" and record.message is not None and record.message.type == "VoiceMail"
    with pytest.raises(NotFound):
        socket_client.get_call("doesNotExist123")


def test_call_not_yet_visible_is_not_found(socket_client: RingCentralClient, account: SandboxAccount) -> None:
    call = account.place_call("inbound", ended_ago=0)
    with pytest.raises(NotFound):
        socket_client.get_call(call.id)


def test_expired_access_token_refreshes_ahead_of_expiry_and_persists_first(
    socket_client: RingCentralClient, account: SandboxAccount, saved: list[TokenSet]
) -> None:
    account.advance(3600 - 30)  # inside the refresh margin
    socket_client.get_extension()
    assert socket_client.auth.refresh_count == 1
    assert len(saved) == 2 and saved[-1].access_token == socket_client.auth.tokens.access_token  # type: ignore[union-attr]
    assert account.request_count(status=401) == 0


def test_401_triggers_one_refresh_and_one_retry(socket_client: RingCentralClient, account: SandboxAccount) -> None:
    account.advance(120)  # the pair is not brand new
    account.inject("token-invalid", path_contains="/extension/~")
    assert socket_client.get_extension().id == "400200000001"
    assert socket_client.auth.refresh_count == 1
    assert account.request_count(status=401) == 1


def test_revoked_session_raises_auth_error_saying_reconnect(
    socket_client: RingCentralClient, account: SandboxAccount
) -> None:
    account.advance(120)
    account.revoke_all_sessions()
    with pytest.raises(AuthError, match="Reconnect"):
        socket_client.get_extension()


def test_429_pauses_the_group_and_nothing_is_sent_meanwhile(
    socket_client: RingCentralClient, account: SandboxAccount
) -> None:
    account.inject("other-limit", path_contains="call-log-sync")
    with pytest.raises(RateLimited) as info:
        socket_client.sync_call_log(None)
    assert info.value.retry_after == 5
    sent = len(account.requests)
    status = socket_client.rate_limit_status()[Group.HEAVY]
    assert status.paused and status.wait == pytest.approx(5)
    assert socket_client.waiting_message() == "Waiting for RingCentral's rate limit (5 s)."
    # A Heavy call within the pause waits (the client's sleep advances the manual clock) before sending
    socket_client.sync_call_log(None)
    assert account.requests[sent].time >= account.requests[sent - 1].time + 5
    # Light calls were never paused
    assert socket_client.rate_limit_status()[Group.LIGHT].wait == 0


def test_429_without_retry_after_pauses_30_seconds_and_long_waits_raise(account: SandboxAccount) -> None:
    from adapters.ringcentral.sandbox import connect

    rc = connect(account, max_wait=10)
    account.inject("other-limit", path_contains="extension")
    # A 429 from a proxy with no Retry-After: the budget logic pauses for 30 s.
    rc.limiter.penalize(Group.LIGHT, None)
    sent = len(account.requests)
    with pytest.raises(RateLimited) as info:
        rc.get_extension()
    assert info.value.retry_after == pytest.approx(30)
    assert len(account.requests) == sent  # refused locally, nothing sent
    rc.close()


def test_spent_budget_raises_rate_limited_without_sending(
    socket_client: RingCentralClient, account: SandboxAccount
) -> None:
    for _ in range(10):  # the whole Heavy budget in one instant
        socket_client.sync_call_log(None)
    sent = len(account.requests)
    with pytest.raises(RateLimited) as info:
        socket_client.sync_call_log(None)
    assert info.value.retry_after == pytest.approx(60)
    assert len(account.requests) == sent
    assert account.request_count(status=429) == 0


def test_budget_is_enforced_before_sending_so_the_sandbox_never_says_429(account: SandboxAccount) -> None:
    from adapters.ringcentral.sandbox import connect

    rc = connect(account, max_wait=120)  # a worker that may wait out the budget
    for _ in range(25):  # 2.5× the Heavy budget, back to back
        rc.sync_call_log(None)
    assert account.request_count(status=429) == 0
    assert rc.limiter.waited >= 120
    rc.close()


def test_rate_limit_headers_correct_the_local_budget(socket_client: RingCentralClient, account: SandboxAccount) -> None:
    from adapters.ringcentral.sandbox import connect

    # Another device of the same user spends Heavy budget this client cannot see.
    other = connect(account)
    for _ in range(6):
        other.sync_call_log(None)
    socket_client.sync_call_log(None)
    assert socket_client.rate_limit_status()[Group.HEAVY].remaining == 10 - 6 - 1
    other.close()


def test_server_errors_are_retried_with_backoff(socket_client: RingCentralClient, account: SandboxAccount) -> None:
    account.inject("server-error", path_contains="call-log-sync", times=2)
    before = account.clock()
    assert socket_client.sync_call_log(None).full
    assert account.request_count(path_contains="call-log-sync", status=500) == 2
    assert account.clock() > before  # it backed off (on the injected clock)


def test_persistent_503_becomes_transient_error(socket_client: RingCentralClient, account: SandboxAccount) -> None:
    account.inject("unavailable", path_contains="/extension/~", times=10)
    with pytest.raises(TransientError, match="server error"):
        socket_client.get_extension()
    assert account.request_count(status=503) == 4  # one try plus three retries


def test_timeout_is_retried_then_reported(
    socket_client: RingCentralClient, socket_http: httpx.Client, account: SandboxAccount
) -> None:
    account.hang_seconds = 1.0
    socket_http.timeout = httpx.Timeout(0.2)
    account.inject("timeout", path_contains="/extension/~", times=4)
    with pytest.raises(TransientError, match="in time"):
        socket_client.get_extension()
    assert account.request_count(path_contains="/extension/~") == 4  # one try plus three retries


def test_truncated_body_is_retried(socket_client: RingCentralClient, account: SandboxAccount) -> None:
    account.inject("truncated", path_contains="call-log-sync")
    assert socket_client.sync_call_log(None).full
    assert account.request_count(path_contains="call-log-sync") == 2


def test_non_json_body_is_malformed_response(socket_client: RingCentralClient, account: SandboxAccount) -> None:
    account.inject("not-json", path_contains="/extension/~")
    with pytest.raises(MalformedResponse, match="not JSON"):
        socket_client.get_extension()


def test_json_cut_short_is_malformed_response(socket_client: RingCentralClient, account: SandboxAccount) -> None:
    account.inject("cut-json", path_contains="call-log-sync")
    with pytest.raises(MalformedResponse):
        socket_client.sync_call_log(None)


def test_malformed_records_are_left_out_and_named(clock: ManualClock) -> None:
    from adapters.ringcentral.sandbox import connect

    account = SandboxAccount(clock=clock, scenario=preset("malformed"), seed=11)
    rc = connect(account)
    first = rc.sync_call_log(None)
    for _ in range(12):
        account.place_call("inbound")
    account.advance(40)
    result = rc.sync_call_log(first.sync_token)
    assert result.rejected, "the malformed preset should have produced a bad record"
    assert len(result.records) + len(result.rejected) == 12
    tolerated = {account.calls[r.id].malformed for r in result.records}
    assert tolerated & {"formatted-number", "extra-fields"}, "valid oddities must be accepted"
    reasons = {r.reason for r in result.rejected}
    assert reasons <= {
        "missing or malformed 'startTime'",
        "missing or malformed 'direction'",
        "missing or malformed 'id'",
    }
    rc.close()


def test_get_call_with_malformed_record_names_the_field(clock: ManualClock) -> None:
    from adapters.ringcentral.sandbox import connect

    account = SandboxAccount(clock=clock, seed=2)
    rc = connect(account)
    call = account.place_call("inbound", ended_ago=60)
    call.malformed = "bad-start-time"
    with pytest.raises(MalformedResponse, match="'startTime'"):
        rc.get_call(call.id)
    rc.close()


def test_expired_sync_token_starts_over_with_full_sync(
    socket_client: RingCentralClient, account: SandboxAccount
) -> None:
    first = socket_client.sync_call_log(None)
    account.reset_call_log()
    again = socket_client.sync_call_log(first.sync_token)
    assert again.full and len(again.records) == account.scenario.history
    assert account.request_count(path_contains="call-log-sync", status=400) == 1


def test_too_many_changes_start_over_with_full_sync(socket_client: RingCentralClient, account: SandboxAccount) -> None:
    first = socket_client.sync_call_log(None)
    for _ in range(260):
        account.place_call("outbound")
    account.advance(31)
    again = socket_client.sync_call_log(first.sync_token)
    assert again.full and len(again.records) == 250


def test_deleted_records_come_back_flagged_in_isync(socket_client: RingCentralClient, account: SandboxAccount) -> None:
    first = socket_client.sync_call_log(None)
    victim = first.records[0]
    account.advance(5)
    account.delete_call(victim.id)
    account.advance(5)
    later = socket_client.sync_call_log(first.sync_token)
    assert [(r.id, r.deleted) for r in later.records] == [(victim.id, True)]


def test_insights_403_raises_not_licensed_and_stops_asking(clock: ManualClock) -> None:
    from adapters.ringcentral.sandbox import connect

    account = SandboxAccount(clock=clock, scenario="no-ringsense", seed=3)
    rc = connect(account)
    call = account.place_call("inbound", duration=120, recorded=True)
    account.advance(4000)
    recording_id = call.recordings[0].id
    with pytest.raises(NotLicensed, match="not available"):
        rc.get_insights(recording_id)
    sent = account.request_count(path_contains="/insights")
    with pytest.raises(NotLicensed):
        rc.get_insights(recording_id)
    assert account.request_count(path_contains="/insights") == sent == 1
    assert not rc.ringsense_available
    rc.close()


def test_recording_that_never_arrives_stays_absent(clock: ManualClock) -> None:
    from adapters.ringcentral.sandbox import connect

    account = SandboxAccount(clock=clock, scenario="no-recording", seed=4)
    rc = connect(account)
    call = account.place_call("inbound", duration=200, recorded=True)
    account.advance(7200)
    assert rc.get_call(call.id).recording is None
    with pytest.raises(NotFound):
        rc.get_recording(call.recordings[0].id)
    rc.close()


def test_interrupted_download_resumes_with_range(
    socket_client: RingCentralClient, account: SandboxAccount, tmp_path: Path
) -> None:
    call = account.place_call("outbound", duration=300, recorded=True, ended_ago=900)
    recording_id = call.recordings[0].id
    full = socket_client.download_recording(recording_id, tmp_path / "a.wav").read_bytes()
    dest = tmp_path / "b.wav"
    (tmp_path / "b.wav.part").write_bytes(full[:1000])
    socket_client.download_recording(recording_id, dest)
    assert dest.read_bytes() == full
    assert not (tmp_path / "b.wav.part").exists()


def test_stale_partial_download_starts_over(
    socket_client: RingCentralClient, account: SandboxAccount, tmp_path: Path
) -> None:
    call = account.place_call("outbound", duration=300, recorded=True, ended_ago=900)
    recording_id = call.recordings[0].id
    dest = tmp_path / "c.wav"
    (tmp_path / "c.wav.part").write_bytes(b"x" * 10_000_000)  # longer than the recording: 416
    socket_client.download_recording(recording_id, dest)
    assert dest.read_bytes()[:4] == b"RIFF"


def test_download_cut_short_raises_transient_and_keeps_the_part(
    socket_client: RingCentralClient, account: SandboxAccount, tmp_path: Path
) -> None:
    call = account.place_call("outbound", duration=300, recorded=True, ended_ago=900)
    info = socket_client.get_recording(call.recordings[0].id)
    account.inject("truncated", path_contains="/content")
    with pytest.raises(TransientError, match="resume"):
        socket_client.download_recording(info.id, tmp_path / "d.wav", content_uri=info.content_uri)
    assert (tmp_path / "d.wav.part").exists()
    socket_client.download_recording(info.id, tmp_path / "d.wav", content_uri=info.content_uri)
    assert (tmp_path / "d.wav").read_bytes()[:4] == b"RIFF"


def test_sign_out_revokes_the_session(
    socket_client: RingCentralClient, socket_http: httpx.Client, account: SandboxAccount
) -> None:
    token = socket_client.auth.access_token()
    socket_client.auth.sign_out()
    assert account.request_count(path_contains="/oauth/revoke", status=200) == 1
    old = socket_http.get(
        f"{socket_client.server_url}/restapi/v1.0/account/~/extension/~", headers={"Authorization": f"Bearer {token}"}
    )
    assert old.status_code == 401
    with pytest.raises(AuthError, match="Not signed in"):
        socket_client.get_extension()


def test_rate_limited_preset_is_learned_from_headers_and_only_other_limits_say_429(clock: ManualClock) -> None:
    from adapters.ringcentral.sandbox import connect

    account = SandboxAccount(clock=clock, scenario="rate-limited", seed=8)
    rc = connect(account, max_wait=120)
    other_limits = 0
    for _ in range(30):
        try:
            rc.sync_call_log(None)
        except RateLimited as exc:
            other_limits += 1
            assert exc.retry_after == 5
    assert rc.rate_limit_status()[Group.HEAVY].limit == 4
    per_user_429 = [r for r in account.requests if r.status == 429 and r.group == "Heavy"]
    assert len(per_user_429) == other_limits  # every 429 was the headerless "other limit" kind
    assert account.request_count(status=429) == other_limits
    rc.close()


def test_demo_client_runs_on_the_real_clock() -> None:
    from adapters.ringcentral.sandbox import demo_client

    rc = demo_client(seed=5)
    try:
        first = rc.sync_call_log(None)
        assert first.full and len(first.records) >= 6
        assert rc.get_extension().name == "Dana Agent"
    finally:
        rc.close()


def test_missing_app_permission_is_permission_denied_with_vendor_words(
    socket_client: RingCentralClient, account: SandboxAccount
) -> None:
    from adapters.base import PermissionDenied

    account.inject("no-permission", path_contains="call-log-sync")
    with pytest.raises(PermissionDenied) as info:
        socket_client.sync_call_log(None)
    assert not isinstance(info.value, NotLicensed)
    assert "CMN-401" in (info.value.vendor_message or "")


class _FirstSpeakerWithoutId(httpx.BaseTransport):
    """The sandbox, except that RingSense answers come back with the first speaker's speakerId gone
    and, for a session, one more recording whose insights lack their sourceRecordId."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not request.url.path.endswith("/insights") or response.status_code != 200:
            return response
        response.read()
        body = response.json()
        for raw in body.get("records", [body]):
            del raw["speakerInfo"][0]["speakerId"]
        if "records" in body:
            body["records"].append({"speakerInfo": [], "insights": {}})
        return httpx.Response(200, json=body, headers={"Content-Type": "application/json"})


def test_insights_whose_speaker_lacks_its_id_are_read_without_that_speaker(account: SandboxAccount) -> None:
    from adapters.ringcentral.sandbox import PLATFORM_BASE, connect

    http = httpx.Client(transport=_FirstSpeakerWithoutId(account.transport()), timeout=20.0)
    rc = connect(account, http=http, server_url=PLATFORM_BASE)
    try:
        call = account.place_call("inbound", duration=180, recorded=True)
        account.advance(4000)
        recording_id = call.recordings[0].id
        insights = rc.get_insights(recording_id)
        assert insights is not None and insights.source_record_id == recording_id
        first, *others = insights.raw["speakerInfo"]
        assert "speakerId" not in first
        assert [s.speaker_id for s in insights.speaker_info] == [s["speakerId"] for s in others]
        assert insights.transcript and insights.transcript[0].text
        [per_session] = rc.get_session_insights(call.telephony_session_id)
        assert per_session.source_record_id == recording_id
        assert len(per_session.speaker_info) == len(others)
    finally:
        rc.close()
        http.close()


def test_session_insights_cover_every_leg_of_a_transfer(
    socket_client: RingCentralClient, account: SandboxAccount
) -> None:
    call = account.place_call("transfer", duration=300, recorded=True)
    assert socket_client.get_session_insights(call.telephony_session_id) == []
    account.advance(5 * 3600)
    found = socket_client.get_session_insights(call.telephony_session_id)
    assert sorted(i.source_record_id for i in found) == sorted(r.id for r in call.recordings)
    assert len(found) == 2 and all(i.source_session_id == call.telephony_session_id for i in found)
    by_leg = {r.id: r.leg for r in call.recordings}
    speakers = {by_leg[i.source_record_id]: {i.speaker_name(t.speaker_id) for t in i.transcript} for i in found}
    assert call.colleague is not None
    assert speakers[0] == {"Dana Agent", call.remote.name}  # the agent's leg, up to the hand-over
    assert speakers[1] == {call.colleague.name, call.remote.name}  # the colleague's leg
