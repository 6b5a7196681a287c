# SPDX-License-Identifier: MIT
"""The sandbox account validates requests like RingCentral: OAuth, rotation, filters, limits, media."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from adapters.oauth import make_challenge, make_verifier
from adapters.ringcentral.sandbox import (
    ADMIN_CLIENT_ID,
    ADMIN_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    DESKTOP_CLIENT_ID,
    MEDIA_BASE,
    PLATFORM_BASE,
    ManualClock,
    SandboxAccount,
    preset,
)

EXT = "/restapi/v1.0/account/~/extension/~"


@pytest.fixture
def http(account: SandboxAccount) -> Iterator[httpx.Client]:
    with httpx.Client(transport=account.transport(), base_url=PLATFORM_BASE) as client:
        yield client


def _authorize(http: httpx.Client, verifier: str, **overrides: str) -> httpx.Response:
    params = {
        "response_type": "code",
        "client_id": DESKTOP_CLIENT_ID,
        "redirect_uri": DEFAULT_REDIRECT_URI,
        "state": "st",
        "code_challenge": make_challenge(verifier),
        "code_challenge_method": "S256",
        **overrides,
    }
    return http.get("/restapi/oauth/authorize", params=params)


def _code(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["state"] == ["st"] and query["expires_in"] == ["60"]
    return query["code"][0]


def _exchange(http: httpx.Client, code: str, verifier: str, **overrides: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": DEFAULT_REDIRECT_URI,
        "client_id": DESKTOP_CLIENT_ID,
        "code_verifier": verifier,
        **overrides,
    }
    return http.post("/restapi/oauth/token", data=form)


def _sign_in(http: httpx.Client) -> dict[str, Any]:
    verifier = make_verifier()
    response = _exchange(http, _code(_authorize(http, verifier)), verifier)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _get(http: httpx.Client, path: str, token: str, **params: Any) -> httpx.Response:
    return http.get(path, params=params, headers={"Authorization": f"Bearer {token}"})


def test_token_response_has_the_full_token_info(http: httpx.Client) -> None:
    body = _sign_in(http)
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["refresh_token_expires_in"] == 604800
    assert {"scope", "owner_id", "endpoint_id", "session_id"} <= set(body)


def test_code_is_single_use(http: httpx.Client) -> None:
    verifier = make_verifier()
    code = _code(_authorize(http, verifier))
    assert _exchange(http, code, verifier).status_code == 200
    again = _exchange(http, code, verifier)
    assert again.status_code == 400 and again.json()["errors"][0]["errorCode"] == "OAU-106"


def test_code_expires_after_sixty_seconds(http: httpx.Client, clock: ManualClock) -> None:
    verifier = make_verifier()
    code = _code(_authorize(http, verifier))
    clock.advance(61)
    assert _exchange(http, code, verifier).json()["errors"][0]["errorCode"] == "OAU-108"


def test_wrong_verifier_fails_the_pkce_check(http: httpx.Client) -> None:
    code = _code(_authorize(http, make_verifier()))
    response = _exchange(http, code, make_verifier())
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_redirect_uri_must_match_exactly(http: httpx.Client) -> None:
    response = _authorize(http, make_verifier(), redirect_uri="http://evil.example/callback")
    body = response.json()
    assert response.status_code == 400
    assert body == {
        "error": "invalid_grant",
        "errors": [{"errorCode": "OAU-109", "message": "Redirect URIs do not match"}],
        "error_description": "Redirect URIs do not match",
    }


def test_unknown_client_is_refused(http: httpx.Client) -> None:
    assert _authorize(http, make_verifier(), client_id="nope").json()["error"] == "invalid_client"


def test_denied_consent_redirects_with_access_denied(http: httpx.Client, account: SandboxAccount) -> None:
    account.deny_consent = True
    response = _authorize(http, make_verifier())
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["access_denied"] and query["state"] == ["st"]


def test_refresh_rotates_and_old_access_token_dies_at_once(http: httpx.Client) -> None:
    first = _sign_in(http)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": DESKTOP_CLIENT_ID}
    second = http.post("/restapi/oauth/token", data=form).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert _get(http, EXT, first["access_token"]).status_code == 401
    assert _get(http, EXT, second["access_token"]).status_code == 200


def test_old_refresh_token_returns_same_pair_for_ten_seconds_after_first_use(
    http: httpx.Client, clock: ManualClock
) -> None:
    first = _sign_in(http)
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], "client_id": DESKTOP_CLIENT_ID}
    second = http.post("/restapi/oauth/token", data=form).json()
    _get(http, EXT, second["access_token"])  # first use starts the 10 s grace
    clock.advance(5)
    repeat = http.post("/restapi/oauth/token", data=form).json()
    assert repeat["access_token"] == second["access_token"]
    clock.advance(6)
    late = http.post("/restapi/oauth/token", data=form)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_expired_access_token_is_401_token_invalid(http: httpx.Client, clock: ManualClock) -> None:
    token = _sign_in(http)["access_token"]
    clock.advance(3601)
    response = _get(http, EXT, token)
    assert response.status_code == 401 and response.json()["errorCode"] == "TokenInvalid"


def test_missing_authorization_header_is_agw_401(http: httpx.Client) -> None:
    response = http.get(EXT)
    assert response.status_code == 401 and response.json()["errorCode"] == "AGW-401"


def test_sixth_session_revokes_the_oldest(http: httpx.Client, clock: ManualClock) -> None:
    tokens = []
    for _ in range(6):
        tokens.append(_sign_in(http)["access_token"])
        clock.advance(31)  # two Auth requests each: stay inside 5 a minute
    assert _get(http, EXT, tokens[0]).status_code == 401
    assert all(_get(http, EXT, t).status_code == 200 for t in tokens[1:])


def test_revoke_ends_the_whole_session(http: httpx.Client) -> None:
    body = _sign_in(http)
    assert http.post("/restapi/oauth/revoke", data={"token": body["refresh_token"]}).status_code == 200
    assert _get(http, EXT, body["access_token"]).status_code == 401


def test_jwt_grant_needs_basic_auth_and_a_known_jwt(http: httpx.Client, account: SandboxAccount) -> None:
    jwt = account.make_jwt()
    basic = base64.b64encode(f"{ADMIN_CLIENT_ID}:{ADMIN_CLIENT_SECRET}".encode()).decode()
    grant = "urn:ietf:params:oauth:grant-type:jwt-bearer"
    ok = http.post(
        "/restapi/oauth/token",
        data={"grant_type": grant, "assertion": jwt},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert ok.status_code == 200 and ok.json()["access_token"]
    no_secret = http.post("/restapi/oauth/token", data={"grant_type": grant, "assertion": jwt})
    assert no_secret.status_code == 401
    bad_jwt = http.post(
        "/restapi/oauth/token",
        data={"grant_type": grant, "assertion": "x.y.z"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert bad_jwt.json()["errors"][0]["errorCode"] == "OAU-140"


def test_auth_group_is_limited_to_five_a_minute_and_penalty_restarts(http: httpx.Client, clock: ManualClock) -> None:
    for _ in range(5):
        http.post(
            "/restapi/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": DESKTOP_CLIENT_ID},
        )
    limited = http.post("/restapi/oauth/token", data={"client_id": DESKTOP_CLIENT_ID})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "60"
    assert limited.json()["errors"][0]["errorCode"] == "CMN-301"
    clock.advance(59)
    again = http.post("/restapi/oauth/token", data={"client_id": DESKTOP_CLIENT_ID})  # restarts the penalty
    assert again.status_code == 429
    clock.advance(59)
    assert http.post("/restapi/oauth/token", data={"client_id": DESKTOP_CLIENT_ID}).status_code == 429
    clock.advance(61)
    assert http.post("/restapi/oauth/token", data={"client_id": DESKTOP_CLIENT_ID}).status_code == 400


def test_every_api_response_carries_rate_limit_headers(http: httpx.Client) -> None:
    token = _sign_in(http)["access_token"]
    response = _get(http, EXT, token)
    assert response.headers["X-Rate-Limit-Group"] == "light"
    assert response.headers["X-Rate-Limit-Limit"] == "50"
    assert response.headers["X-Rate-Limit-Remaining"] == "49"
    assert response.headers["X-Rate-Limit-Window"] == "60"


def test_extension_shape(http: httpx.Client) -> None:
    body = _get(http, EXT, _sign_in(http)["access_token"]).json()
    assert body["id"] == 400200000001 and body["extensionNumber"] == "101"
    assert body["contact"]["email"] == "dana.agent@brightline.example" and body["type"] == "User"


def test_call_log_filters_and_paging(http: httpx.Client, account: SandboxAccount) -> None:
    token = _sign_in(http)["access_token"]
    for kind in ("inbound", "outbound", "missed", "outbound"):
        account.place_call(kind, ended_ago=300, recorded=False)
    body = _get(http, f"{EXT}/call-log", token, direction="Outbound", perPage=1, view="Simple").json()
    assert len(body["records"]) == 1 and body["records"][0]["direction"] == "Outbound"
    assert "legs" not in body["records"][0] and "lastModifiedTime" not in body["records"][0]
    assert body["paging"] == {"page": 1, "perPage": 1, "pageStart": 0, "pageEnd": 0}
    next_uri = body["navigation"]["nextPage"]["uri"]
    assert next_uri.startswith(PLATFORM_BASE) and "direction=Outbound" in next_uri and "page=2" in next_uri
    assert "totalPages" not in body["paging"]


def test_call_log_rejects_bad_parameter_values(http: httpx.Client) -> None:
    token = _sign_in(http)["access_token"]
    for params in ({"view": "Fancy"}, {"perPage": "0"}, {"direction": "Sideways"}, {"dateFrom": "last week"}):
        response = _get(http, f"{EXT}/call-log", token, **params)
        assert response.status_code == 400
        assert response.json()["errors"][0]["errorCode"] == "CMN-101"


def test_call_log_date_range_defaults_to_last_day(http: httpx.Client, account: SandboxAccount) -> None:
    token = _sign_in(http)["access_token"]
    account.place_call("inbound", ended_ago=3 * 86400)
    records = _get(http, f"{EXT}/call-log", token).json()["records"]
    assert all(r["startTime"] > "2026-04-09T14" for r in records)


def test_recording_type_filter_returns_only_recorded_calls(http: httpx.Client, account: SandboxAccount) -> None:
    token = _sign_in(http)["access_token"]
    account.place_call("inbound", ended_ago=3600, recorded=True, duration=90)
    records = _get(http, f"{EXT}/call-log", token, recordingType="All").json()["records"]
    assert records and all("recording" in r for r in records)


def test_fsync_requires_record_count_within_250(http: httpx.Client) -> None:
    token = _sign_in(http)["access_token"]
    assert _get(http, f"{EXT}/call-log-sync", token, syncType="FSync").status_code == 400
    assert _get(http, f"{EXT}/call-log-sync", token, syncType="FSync", recordCount=251).status_code == 400
    ok = _get(http, f"{EXT}/call-log-sync", token, syncType="FSync", recordCount=5).json()
    assert ok["syncInfo"]["syncType"] == "FSync" and len(ok["records"]) == 5


def test_transfer_has_legs_with_their_own_recordings(http: httpx.Client, account: SandboxAccount) -> None:
    token = _sign_in(http)["access_token"]
    call = account.place_call("transfer", ended_ago=3600, recorded=True, duration=240)
    record = _get(http, f"{EXT}/call-log/{call.id}", token, view="Detailed").json()
    legs = record["legs"]
    assert [leg["legType"] for leg in legs] == ["Accept", "TransferCall"]
    assert legs[0]["recording"]["id"] != legs[1]["recording"]["id"]
    assert isinstance(record["extension"]["id"], int) and isinstance(record["to"]["extensionId"], str)


def test_short_recording_is_flagged_without_a_recording(http: httpx.Client, account: SandboxAccount) -> None:
    token = _sign_in(http)["access_token"]
    call = account.place_call("inbound", ended_ago=3600, recorded=True, duration=20)
    record = _get(http, f"{EXT}/call-log/{call.id}", token).json()
    assert record["shortRecording"] is True and "recording" not in record


def test_media_content_only_on_media_host_with_range(account: SandboxAccount, http: httpx.Client) -> None:
    token = _sign_in(http)["access_token"]
    call = account.place_call("inbound", ended_ago=3600, recorded=True, duration=120)
    rec = call.recordings[0].id
    path = f"/restapi/v1.0/account/400100000001/recording/{rec}/content"
    assert _get(http, path, token).status_code == 404  # platform host
    with httpx.Client(transport=account.transport(), base_url=MEDIA_BASE) as media:
        full = media.get(path, params={"access_token": token})
        assert full.status_code == 200 and full.headers["Content-Type"] == "audio/wav"
        part = media.get(path, headers={"Authorization": f"Bearer {token}", "Range": "bytes=10-19"})
        assert part.status_code == 206 and part.content == full.content[10:20]
        assert part.headers["Content-Range"] == f"bytes 10-19/{len(full.content)}"
        bad = media.get(path, headers={"Authorization": f"Bearer {token}", "Range": "bytes=999999999-"})
        assert bad.status_code == 416 and bad.json()["errors"][0]["errorCode"] == "CMN-107"


def test_access_token_query_is_refused_on_platform_host(account: SandboxAccount, http: httpx.Client) -> None:
    token = _sign_in(http)["access_token"]
    assert http.get(EXT, params={"access_token": token}).status_code == 401


def test_insights_404_until_ready_then_full_shape(
    http: httpx.Client, account: SandboxAccount, clock: ManualClock
) -> None:
    token = _sign_in(http)["access_token"]
    call = account.place_call("outbound", recorded=True, duration=150)
    rec = call.recordings[0]
    path = f"/ai/ringsense/v1/public/accounts/~/domains/pbx/records/{rec.id}/insights"
    early = _get(http, path, token)
    assert early.status_code == 404 and early.json() == {
        "errors": [{"errorCode": "RAH-3001", "message": "Insights not found"}]
    }
    assert rec.insights_at is not None
    clock.advance(rec.insights_at - clock() + 1)
    body = _get(http, path, token).json()
    assert set(body["insights"]) == {
        "Transcript",
        "Summary",
        "Highlights",
        "NextSteps",
        "BulletedSummary",
        "AIScore",
        "Sentiment",
        "CallNotes",
    }
    speaker_ids = {s["speakerId"] for s in body["speakerInfo"]}
    assert {t["speakerId"] for t in body["insights"]["Transcript"]} <= speaker_ids
    assert body["sourceSessionId"] == call.telephony_session_id
    times = [(t["start"], t["end"]) for t in body["insights"]["Transcript"]]
    assert all(a < b for a, b in times) and times == sorted(times)
    only = _get(http, path, token, insightTypes="Summary").json()
    assert set(only["insights"]) == {"Summary"}
    sessions = _get(
        http, f"/ai/ringsense/v1/public/accounts/~/domains/pbx/sessions/{call.telephony_session_id}/insights", token
    )
    assert sessions.json()["records"][0]["sourceRecordId"] == rec.id


def test_no_ringsense_preset_answers_403(clock: ManualClock) -> None:
    account = SandboxAccount(clock=clock, scenario=preset("no-ringsense"))
    with httpx.Client(transport=account.transport(), base_url=PLATFORM_BASE) as http:
        token = _sign_in(http)["access_token"]
        response = _get(http, "/ai/ringsense/v1/public/accounts/~/domains/pbx/records/1/insights", token)
    assert response.status_code == 403 and response.json()["errors"][0]["errorCode"] == "RAH-3005"


def test_server_errors_preset_fails_about_a_fifth(clock: ManualClock) -> None:
    account = SandboxAccount(clock=clock, scenario="server-errors", seed=5)
    with httpx.Client(transport=account.transport(), base_url=PLATFORM_BASE) as http:
        token = _sign_in(http)["access_token"]
        statuses = []
        for _ in range(200):
            statuses.append(_get(http, EXT, token).status_code)
            clock.advance(1.3)
    failures = sum(1 for s in statuses if s >= 500)
    assert 20 <= failures <= 60


def test_demo_timeline_shows_everything_within_two_minutes() -> None:
    from adapters.ringcentral.sandbox import DEMO_DELAYS

    worst_visible = DEMO_DELAYS.visible[1]
    worst_insights = DEMO_DELAYS.recording[1] + DEMO_DELAYS.insights[1]
    assert worst_visible <= 30 and worst_insights <= 120
    assert DEMO_DELAYS.call_interval == (30.0, 60.0)


def test_demo_account_generates_calls_on_its_own(clock: ManualClock) -> None:
    account = SandboxAccount(clock=clock, scenario=preset("happy", demo=True), seed=9)
    before = len(account.calls)
    account.advance(300)
    with httpx.Client(transport=account.transport(), base_url=PLATFORM_BASE) as http:
        _sign_in(http)  # any request lets the account catch up with its clock
    assert 5 <= len(account.calls) - before <= 10


def test_unknown_path_is_cmn_102(http: httpx.Client) -> None:
    response = http.get("/restapi/v1.0/nope")
    assert response.status_code == 404 and response.json()["errors"][0]["errorCode"] == "CMN-102"


def test_several_ids_answer_207_multipart(http: httpx.Client, account: SandboxAccount) -> None:
    token = _sign_in(http)["access_token"]
    a = account.place_call("inbound", ended_ago=120)
    b = account.place_call("outbound", ended_ago=120)
    response = _get(http, f"{EXT}/call-log/{a.id},{b.id},missing1", token)
    assert response.status_code == 207 and response.headers["Content-Type"].startswith("multipart/mixed")
    assert '{"response": [{"status": 200}, {"status": 200}, {"status": 404}]}' in response.text
    assert a.id in response.text and b.id in response.text


def test_active_calls_hold_calls_ended_less_than_two_minutes_ago(http: httpx.Client, account: SandboxAccount) -> None:
    token = _sign_in(http)["access_token"]
    recent = account.place_call("inbound", ended_ago=5)  # not in the call log yet
    account.place_call("inbound", ended_ago=600)
    records = _get(http, f"{EXT}/active-calls", token).json()["records"]
    assert [r["id"] for r in records] == [recent.id]
    assert _get(http, f"{EXT}/call-log/{recent.id}", token).status_code == 404
