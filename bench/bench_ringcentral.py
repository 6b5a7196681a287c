# SPDX-License-Identifier: MIT
"""RingCentral requests spent per hour to keep the call list fresh and collect artifacts.

For 1, 100 and 1,000 calls that end within a quarter of an hour and then wait for their
recordings and RingSense insights, three simulated hours run against the sandbox account (manual
clock, production-like delays: recording 1–10 min after the call, insights 15–60 min after the
recording) with the real client and the recommended plan:

- ``call-log-sync`` (ISync) once a minute: new calls, and recordings as their records change;
- a RingSense request per recording that exists, first when insights are likely ready (30 min
  until the typical delay is learned from earlier insights), then every 15 min
  (:class:`adapters.ringcentral.followup.InsightFollowUp`), never more than the Light budget
  leaves room for.

"Requests/hour" is the first hour, the busiest. It is compared with the naive plan: every poll,
the same sync plus one request per waiting call (a ``get_call`` until the recording is there,
then a RingSense request until insights are there). The naive count is computed from the same
timeline, not sent: it would be rate limited long before. The per-recording figure counts every
RingSense request until the last insight arrived.

Run: ``.venv/bin/python -m bench ringcentral``
"""

from __future__ import annotations

import random

from adapters.ringcentral.client import NotLicensed
from adapters.ringcentral.followup import InsightFollowUp
from adapters.ringcentral.ratelimit import Group
from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, Scenario, connect
from adapters.ringcentral.sandbox.scenario import REALISTIC_DELAYS
from bench import Result, at_most

POLL = 60.0
HOUR = 3600.0
RUN = 3 * HOUR
SPREAD = 900.0  # the calls end within the first 15 minutes
LIGHT_SPARE = 5  # Light requests left for the user's own clicks every minute
#: Delays learned by the cold run, per call count, handed to the next day's run.
LEARNED: dict[int, list[float]] = {}


def simulate(n_calls: int, *, seed: int = 1, prior_delays: list[float] | None = None) -> dict[str, float]:
    """One run; ``prior_delays`` are insight delays learned on an earlier day (``None``: cold start)."""
    clock = ManualClock()
    scenario = Scenario(name="bench", delays=REALISTIC_DELAYS, history=0)
    account = SandboxAccount(clock=clock, scenario=scenario, seed=seed)
    client = connect(account, max_wait=120)
    follow = InsightFollowUp(clock=clock, first_check_after=1800, retry_every=900, prior_delays=prior_delays or ())
    rng = random.Random(seed)
    start = clock()
    token = client.sync_call_log(None).sync_token
    ends = sorted(rng.uniform(0, SPREAD) for _ in range(n_calls))
    calls = []
    insights_got: set[str] = set()
    insight_requests = 0
    recordings_seen: set[str] = set()
    next_end = 0
    first_request = len(account.requests)
    t = 0.0
    first_hour = 0
    while t < RUN:
        if t == HOUR:
            first_hour = len(account.requests) - first_request
        # Calls ending during this minute.
        while next_end < len(ends) and ends[next_end] <= t:
            ended_ago = t - ends[next_end]
            calls.append(
                account.place_call("inbound", ended_ago=ended_ago, duration=rng.randint(60, 600), recorded=True)
            )
            next_end += 1
        result = client.sync_call_log(token)
        token = result.sync_token
        for record in result.records:
            if record.recording is not None:
                recordings_seen.add(record.recording.id)
                follow.recording_seen(record.recording.id)
            for leg in record.legs:
                if leg.recording is not None:
                    recordings_seen.add(leg.recording.id)
                    follow.recording_seen(leg.recording.id)
        budget = client.rate_limit_status()[Group.LIGHT].remaining - LIGHT_SPARE
        for recording_id in follow.due(max(0, budget)):
            insight_requests += 1
            try:
                found = client.get_insights(recording_id)
            except NotLicensed:
                follow.done(recording_id)
                continue
            if found is None:
                follow.not_ready(recording_id)
            else:
                insights_got.add(recording_id)
                ready = found.creation_time.timestamp() if found.creation_time else None
                follow.done(recording_id, ready_at=ready)
        t += POLL
        clock.advance(start + t - clock())
    requests = account.requests[first_request:]
    smart = first_hour
    too_many = sum(1 for r in requests if r.status == 429)
    # The naive plan, on the same timeline: each poll, one request per call still waiting.
    naive = int(HOUR // POLL)  # the same sync every poll
    for minute in range(int(HOUR // POLL)):
        now = start + minute * POLL
        for call in calls:
            rec = call.recordings[0]
            if call.visible_at > now or call.end > now:
                continue
            waiting_for_recording = rec.attach_at is None or rec.attach_at > now
            waiting_for_insights = rec.insights_at is None or rec.insights_at > now
            if waiting_for_recording or waiting_for_insights:
                naive += 1
    recordings_existing = sum(
        1 for c in calls for r in c.recordings if r.attach_at is not None and r.attach_at <= start + RUN
    )
    insights_existing = sum(
        1 for c in calls for r in c.recordings if r.insights_at is not None and r.insights_at <= start + RUN
    )
    client.close()
    LEARNED[n_calls] = follow.learned_delays
    return {
        "smart": smart,
        "naive": naive,
        "too_many": too_many,
        "insight_requests": insight_requests,
        "recordings": recordings_existing,
        "recordings_seen": len(recordings_seen),
        "insights": len(insights_got),
        "insights_existing": insights_existing,
        "sync": sum(1 for r in requests if "call-log-sync" in r.path) / (RUN / HOUR),
    }


def run() -> list[Result]:
    rows: list[Result] = []
    for n in (1, 100, 1000):
        s = simulate(n)
        warm = simulate(n, seed=2, prior_delays=LEARNED[n])
        recordings = max(1.0, s["recordings"])
        name = f"ringcentral {n} waiting:"
        rows.append(
            at_most(
                f"{name} requests in the first hour (sync + insights)",
                s["smart"],
                "req/h",
                # one sync a minute, plus at most three insight checks per recording that exists
                61 + 3 * s["recordings"],
            )
        )
        rows.append(Result(f"{name} naive plan, first hour", s["naive"], "req/h"))
        rows.append(Result(f"{name} of which call-log-sync", s["sync"], "req/h"))
        rows.append(
            at_most(f"{name} insight requests per recording, cold start", s["insight_requests"] / recordings, "req", 3)
        )
        rows.append(
            at_most(
                f"{name} insight requests per recording, delay learned",
                warm["insight_requests"] / max(1.0, warm["recordings"]),
                "req",
                1.5 if n >= 100 else 3,
            )
        )
        rows.append(at_most(f"{name} 429 responses from the sandbox", s["too_many"] + warm["too_many"], "resp", 0))
        rows.append(Result(f"{name} recordings picked up by sync", 100.0 * s["recordings_seen"] / recordings, "%"))
        rows.append(
            Result(
                f"{name} insights collected (of those RingSense made)",
                100.0 * s["insights"] / max(1.0, s["insights_existing"]),
                "%",
            )
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(row)
