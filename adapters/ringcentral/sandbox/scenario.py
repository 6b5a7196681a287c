# SPDX-License-Identifier: MIT
"""Scenarios for the sandbox account: how calls arrive and when their artifacts appear.

A call "ends" at T. Its record appears in the call log at T + ``visible`` (RingCentral documents
15–30 s), its recording attaches at T + ``recording`` (minutes in production), and RingSense
insights for a recording appear ``insights`` seconds after the recording (15–60 min in
production). :data:`DEMO_DELAYS` compresses everything so a demo shows calls, recordings and AI
notes within two minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

Span = tuple[float, float]


@dataclass(frozen=True)
class Delays:
    """Seconds, each a (min, max) span drawn uniformly per call.

    Attributes:
        visible: call end → record visible in the call log.
        recording: call end → recording attached to the record.
        insights: recording attached → RingSense insights available.
        call_interval: between two automatically generated calls; ``None`` disables them.
    """

    visible: Span = (15.0, 30.0)
    recording: Span = (60.0, 600.0)
    insights: Span = (900.0, 3600.0)
    call_interval: Span | None = None


#: Production-like delays: calls only when placed explicitly.
REALISTIC_DELAYS = Delays()

#: A demo that shows everything in under two minutes: a call every 30–60 s, visible 15–25 s after
#: it ends, the recording 35–50 s after it ends (always after the record appeared, so the agent
#: sees it pending first), insights 30–60 s after that.
DEMO_DELAYS = Delays(visible=(15.0, 25.0), recording=(35.0, 50.0), insights=(30.0, 60.0), call_interval=(30.0, 60.0))


@dataclass(frozen=True)
class Scenario:
    """How the simulated account behaves.

    Attributes:
        name: the preset name.
        delays: artifact timing.
        recorded_share: share of connected calls that are recorded.
        recordings_arrive: ``False``: recorded calls never get their recording attached.
        insights_arrive: ``False``: RingSense never produces insights (404 forever).
        ringsense_licensed: ``False``: every insights request is refused with 403, and the
            RingSense event filter comes back in a subscription's ``disabledFilters``.
        websocket: ``False``: the app lacks the WebSocket permission (``POST /restapi/oauth/wstoken``
            answers 403 ``InsufficientPermissions``).
        limits: requests per minute per rate-limit group (``Heavy``, ``Medium``, ``Light``, ``Auth``).
        other_limit_share: share of API requests answered with a 429 that carries no
            ``X-Rate-Limit-*`` headers (an account-level or global limit).
        server_error_share: share of API requests answered with 500/503.
        malformed_share: share of new call-log records with a missing or malformed field.
        history: calls already in the log when the account is created.
        access_token_ttl: seconds.
        refresh_token_ttl: seconds.
    """

    name: str = "happy"
    delays: Delays = field(default_factory=Delays)
    recorded_share: float = 0.8
    recordings_arrive: bool = True
    insights_arrive: bool = True
    ringsense_licensed: bool = True
    websocket: bool = True
    limits: Mapping[str, int] = field(default_factory=lambda: {"Heavy": 10, "Medium": 40, "Light": 50, "Auth": 5})
    other_limit_share: float = 0.0
    server_error_share: float = 0.0
    malformed_share: float = 0.0
    history: int = 6
    access_token_ttl: int = 3600
    refresh_token_ttl: int = 604800

    def compressed(self) -> Scenario:
        """The same scenario on the demo clock (:data:`DEMO_DELAYS`)."""
        return replace(self, delays=DEMO_DELAYS)


PRESETS: dict[str, Scenario] = {
    "happy": Scenario(),
    "no-recording": Scenario(name="no-recording", recordings_arrive=False),
    "no-ringsense": Scenario(name="no-ringsense", ringsense_licensed=False),
    "no-insights": Scenario(name="no-insights", insights_arrive=False),
    "no-websocket": Scenario(name="no-websocket", websocket=False),
    "rate-limited": Scenario(
        name="rate-limited",
        limits={"Heavy": 4, "Medium": 20, "Light": 20, "Auth": 3},
        other_limit_share=0.05,
    ),
    "server-errors": Scenario(name="server-errors", server_error_share=0.2),
    "malformed": Scenario(name="malformed", malformed_share=0.3),
}


def preset(name: str, *, demo: bool = False) -> Scenario:
    """A preset by name (``happy``, ``no-recording``, ``no-ringsense``, ``no-insights``,
    ``no-websocket``, ``rate-limited``, ``server-errors``, ``malformed``); ``demo=True`` compresses
    its delays.

    Raises:
        KeyError: unknown name (the message lists the known ones).
    """
    key = name.replace("_", "-").lower()
    if key not in PRESETS:
        raise KeyError(f"unknown sandbox scenario {name!r}; choose one of {', '.join(PRESETS)}")
    scenario = PRESETS[key]
    return scenario.compressed() if demo else scenario
