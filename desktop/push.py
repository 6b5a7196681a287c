# SPDX-License-Identifier: MIT
"""RingCentral's push events, wired to the engine and to Qt.

:class:`PushBridge` owns the Qt-free :class:`~adapters.ringcentral.events.RingCentralEvents`. Its
callbacks run on the socket's thread: an event is parsed and applied to the engine there (SQLite
only, no CRM request), and what changed crosses to the GUI thread as a queued signal. The UI never
touches the socket thread's objects, and the engine is told whether push is live so it reads the
call log after each call instead of every few seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from adapters.ringcentral.events import PushState, PushStatus, RingCentralEvents, TokenSource
from adapters.ringcentral.telephony import TelephonySessionEvent

if TYPE_CHECKING:
    from desktop.engine.service import Engine

log = logging.getLogger(__name__)


class PushBridge(QObject):
    """Live call events for one engine.

    Args:
        engine: the engine the events are applied to.
        tokens: the RingCentral client (issues wstokens).
        parent: the QObject that owns the bridge (the main window).

    Signals:
        live_changed(object): a :class:`~desktop.engine.models.LiveChange` (GUI thread).
        status_changed(object): a :class:`~adapters.ringcentral.events.PushStatus` (GUI thread).
        caught_up(): events may have been missed; the engine will read the call log (GUI thread).
        insights_arrived(): RingSense pushed insights for one of the agent's calls (GUI thread).
        event_applied(float): monotonic time the last event reached the engine (for the benchmark).
    """

    live_changed = Signal(object)
    status_changed = Signal(object)
    caught_up = Signal()
    insights_arrived = Signal()
    event_applied = Signal(float)

    def __init__(self, engine: Engine, tokens: TokenSource, *, parent: QObject | None = None, **client: Any) -> None:
        super().__init__(parent)
        self._engine = engine
        self.rejected = 0
        self.events = RingCentralEvents(
            tokens, on_event=self._on_event, on_status=self._on_status, on_gap=self._on_gap, **client
        )

    def start(self) -> None:
        self.events.start()

    def close(self) -> None:
        self.events.close()

    @property
    def status(self) -> PushStatus:
        return self.events.status

    # --- called on the socket's thread ------------------------------------------------------------

    def _on_event(self, kind: str, body: Mapping[str, Any]) -> None:
        try:
            if kind == "telephony":
                event = TelephonySessionEvent.parse(dict(body))
                change = self._engine.live_event(event)
                self.event_applied.emit(time.monotonic())
                if change is not None:
                    self.live_changed.emit(change)
            elif kind == "insights" and self._engine.insights_event(dict(body)):
                self.insights_arrived.emit()
        except ValueError as exc:
            self.rejected += 1
            log.warning("live call events: ignored an event RingCentral sent malformed: %s", exc)
        except Exception:  # the socket thread must live on; the catch-up repairs what was missed
            log.exception("live call events: applying an event failed")

    def _on_status(self, status: PushStatus) -> None:
        self._engine.set_push(calls=status.state is PushState.LIVE, insights=status.insights)
        self.status_changed.emit(status)

    def _on_gap(self) -> None:
        self._engine.catch_up()
        self.caught_up.emit()
