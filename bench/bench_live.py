# SPDX-License-Identifier: MIT
"""Live calls: how fast a ringing call reaches the screen, and what push saves in requests.

- **event → strip painted**: the sandbox rings a call; its telephony-session event goes over a real
  loopback WebSocket to the push client's thread, into the engine (SQLite), across to the GUI
  thread as a signal, and the strip paints. Measured per call from the moment the sandbox queues
  the event to the strip's paint event (offscreen), over 40 calls; median and p95.
- **requests per idle hour**: an hour with no calls on the sandbox's manual clock, the engine
  ticking as the poller would, the push client connected: every REST request the account answers
  (wstoken, call-log reads) counts. The same hour with push off (polling every 60 s) for contrast.
- **requests per artifact**: one recorded call (the duration, recording, AI note and transcript
  to deliver) on RingCentral's realistic delays (recording 1–10 min after the call, insights
  15–60 min after the recording); the requests it costs on top of the idle hour, per artifact.

Run: ``.venv/bin/python -m bench live``
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from adapters.crm.local import LocalCrm
from adapters.notes.models import NoteSettings
from adapters.ringcentral.events import PushState, RingCentralEvents
from adapters.ringcentral.sandbox import ManualClock, SandboxAccount, Scenario, connect, preset
from adapters.ringcentral.sandbox.push import WsConfig
from adapters.ringcentral.sandbox.scenario import REALISTIC_DELAYS
from adapters.ringcentral.telephony import TelephonySessionEvent
from bench import Result, at_most
from desktop.engine.ports import SecondsClock
from desktop.engine.scheduler import PollPlan
from desktop.engine.service import Engine
from desktop.engine.store import Store

CALLS = 40
HOUR = 3600.0


def _wait(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition was not met in time")
        time.sleep(0.005)


# --- event → strip painted ---------------------------------------------------------------------


def strip_latency() -> list[float]:
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from desktop.app import build_main_window, sandbox_context, start_push
    from desktop.secrets import MemorySecretStore
    from desktop.settings import AppSettings
    from desktop.workers import bind_pool, make_pool

    app = QApplication.instance() or QApplication([])
    scenario = preset("happy", demo=True)
    scenario = replace(scenario, history=0, recorded_share=0.0, delays=replace(scenario.delays, call_interval=None))
    account = SandboxAccount(clock=ManualClock(), scenario=scenario, seed=3)
    pool = make_pool("bench-io", 2)
    draft_pool = make_pool("bench-draft", 1)
    with tempfile.TemporaryDirectory() as tmp:
        ctx = sandbox_context(Path(tmp), MemorySecretStore(), AppSettings(open_log_on_call_end=False), account=account)
        controller = build_main_window(ctx, submit=bind_pool(pool), submit_draft=bind_pool(draft_pool), start=False)
        window = controller.window
        window.show()
        controller.start()
        bridge = start_push(ctx, controller)
        assert bridge is not None
        _pump_until(app, lambda: bridge.status.state is PushState.LIVE)
        strip = window.live_strip
        painted: dict[str, float] = {}

        class Painted(QObject):
            def eventFilter(self, obj: Any, event: Any) -> bool:
                if event.type() == QEvent.Type.Paint and strip.call_id and strip.call_id not in painted:
                    painted[strip.call_id] = time.perf_counter()
                return False

        watcher = Painted()
        strip.installEventFilter(watcher)
        samples: list[float] = []
        for _ in range(CALLS):
            before = time.perf_counter()
            call = account.ring_call("inbound", duration=30)
            tsid = call.telephony_session_id
            _pump_until(app, lambda t=tsid: t in painted)
            samples.append((painted[tsid] - before) * 1000)
            account.advance(40)  # the call ends; the next one rings on a quiet line
            _pump_until(app, lambda: strip.view is None or not strip.view.is_live)
            strip.dismissed.emit(strip.call_id or "")
            app.processEvents()
        bridge.close()
        controller.poller.stop()
        for p in (pool, draft_pool):
            p.waitForDone(5000)
        window.close()
        ctx.close()
        account.close()
    return samples


def _pump_until(app: Any, condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the strip did not show the call in time")
        app.processEvents()
        time.sleep(0.0005)


# --- requests ---------------------------------------------------------------------------------------


def requests_in(hours: float, *, push: bool, call: bool, seed: int = 5) -> tuple[int, int]:
    """REST requests the sandbox answers while the engine runs for ``hours`` (manual clock), and
    how many of the call's four artifacts reached the CRM log by then."""
    clock = ManualClock()
    scenario = Scenario(name="bench", delays=REALISTIC_DELAYS, history=0, recorded_share=1.0)
    # The manual clock runs an hour in seconds: the client's heartbeats (real time) cannot keep a
    # 30-minute idle timer on it alive, so the gateway's idle limit is lifted here (heartbeats are
    # WebSocket frames, not REST requests; tests cover them on their own).
    account = SandboxAccount(clock=clock, scenario=scenario, seed=seed, ws_config=WsConfig(idle_timeout=10 * HOUR))
    client = connect(account, max_wait=120)
    with tempfile.TemporaryDirectory() as tmp:
        crm = LocalCrm.open(Path(tmp) / "crm.sqlite3")
        crm.seed_demo()
        engine_clock = SecondsClock(account.clock)
        engine = Engine(Store(Path(tmp) / "engine.sqlite3"), crm, client, NoteSettings(),
                        extension_id=client.extension_id(), clock=engine_clock, auto_log=True,
                        plan=PollPlan(sync_every=PollPlan().sync_every * 2))  # polling: every 60 s
        lock = threading.Lock()
        events: RingCentralEvents | None = None
        if push:
            def on_event(kind: str, body: Any) -> None:
                with lock:
                    if kind == "telephony":
                        engine.live_event(TelephonySessionEvent.parse(dict(body)))
                    else:
                        engine.insights_event(dict(body))

            events = RingCentralEvents(
                client, on_event=on_event, on_gap=engine.catch_up,
                on_status=lambda s: engine.set_push(calls=s.state is PushState.LIVE, insights=s.insights),
            )
            events.start()
            _wait(lambda: events is not None and events.status.state is PushState.LIVE)
        first = len(account.requests)
        start = clock()
        if call:
            account.ring_call("inbound", duration=180, recorded=True)
        end = start + hours * HOUR
        while clock() < end:
            with lock:
                due = engine.tick()
            step = (due - engine_clock.now()).total_seconds() if due is not None else 60.0
            seen = events.stats["events"] if events else 0
            account.advance(min(max(step, 1.0), 60.0))
            if events is not None:  # events the advance released reach the engine first
                _settle(account, events, seen)
        count = len(account.requests) - first
        delivered = 0
        for log in crm.call_logs():
            body = log.body
            if os.environ.get("BENCH_LIVE_SHOW"):
                print(body)
            delivered += sum(1 for ok in (
                "- Duration: " in body and "(pending)" not in body,
                "- Call recording link: http" in body,
                "- AI Note:\nSummary:" in body,
                "- Transcript:\n[00:" in body,
            ) if ok)
        if events is not None:
            events.close()
        crm.close()
        engine.close()
    client.close()
    account.close()
    return count, delivered


def _settle(account: SandboxAccount, events: RingCentralEvents, seen: int) -> None:
    sent = account.ws_stats.get("notifications", 0)
    _wait(lambda: events.stats["events"] + events.stats["foreign"] >= sent or events.stats["events"] > seen, 5.0)


def run() -> list[Result]:
    samples = strip_latency()
    median = statistics.median(samples)
    p95 = statistics.quantiles(samples, n=20)[-1]
    idle_push, _ = requests_in(1, push=True, call=False)
    idle_poll, _ = requests_in(1, push=False, call=False)
    hours = 1.5
    with_call, delivered = requests_in(hours, push=True, call=True)
    idle_span, _ = requests_in(hours, push=True, call=False)
    # Only a call whose four artifacts all reached the CRM counts; otherwise the row fails.
    per_artifact = (with_call - idle_span) / 4 if delivered == 4 else float("inf")
    return [
        Result("live: ring event → strip painted, median (loopback WebSocket)", median, "ms"),
        at_most("live: ring event → strip painted, p95 (loopback WebSocket)", p95, "ms", 100),
        at_most("live: RingCentral requests per idle hour, push on", idle_push, "req/h", 10),
        Result("live: RingCentral requests per idle hour, polling (for contrast)", idle_poll, "req/h"),
        at_most("live: requests per artifact of a recorded call (duration, recording, AI note, transcript)",
                per_artifact, "req", 1),
    ]
