# SPDX-License-Identifier: MIT
"""When to ask RingSense about a recording: a small schedule that keeps requests proportional to
recordings that exist, not to calls that are waiting.

Recordings are never polled for: they arrive through ``call-log-sync`` (the record changes when
its recording attaches). Insights have no such signal, so each recording gets its own schedule:
a first check when insights are likely ready, then a check every ``retry_every`` until
``give_up_after``. "Likely ready" is learned: :meth:`InsightFollowUp.done` takes the insights'
``creationTime``, and once ``min_samples`` delays are known the first check waits for the
``quantile`` of them (80 %: about one request in five needs a retry); until then it waits
``first_check_after`` (30 min, the delay in RingCentral's own sample). The caller asks
:meth:`InsightFollowUp.due` for at most as many recordings as its Light budget allows.

Threading contract: not thread-safe; owned by one scheduler.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass(order=True)
class _Entry:
    next_check: float
    seq: int
    recording_id: str = field(compare=False)
    seen_at: float = field(compare=False)
    attempts: int = field(default=0, compare=False)


class InsightFollowUp:
    """Per-recording insight check times.

    Args:
        clock: seconds.
        first_check_after: seconds from first seeing the recording to the first check.
        retry_every: seconds between later checks.
        give_up_after: seconds after which a recording is dropped (insights will not come).
        quantile: which quantile of the learned delays the first check waits for.
        min_samples: learned delays needed before they replace ``first_check_after``.
        min_first_check: the first check never comes sooner than this.
        prior_delays: delays learned earlier (persist :attr:`learned_delays` between runs).
    """

    def __init__(
        self,
        *,
        clock: Clock = time.time,
        first_check_after: float = 1800.0,
        retry_every: float = 900.0,
        give_up_after: float = 3 * 3600.0,
        quantile: float = 0.8,
        min_samples: int = 10,
        min_first_check: float = 30.0,
        prior_delays: Iterable[float] = (),
    ) -> None:
        self._clock = clock
        self.quantile = quantile
        self.min_samples = min_samples
        self.min_first_check = min_first_check
        self._delays: deque[float] = deque(prior_delays, maxlen=1000)
        self.first_check_after = first_check_after
        self.retry_every = retry_every
        self.give_up_after = give_up_after
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._live: dict[str, _Entry] = {}
        self._finished: set[str] = set()
        #: Recordings dropped after ``give_up_after``.
        self.gave_up: list[str] = []

    def __len__(self) -> int:
        return len(self._live)

    def recording_seen(self, recording_id: str) -> None:
        """Starts following a recording (idempotent; finished ones are not restarted)."""
        if recording_id in self._live or recording_id in self._finished:
            return
        now = self._clock()
        entry = _Entry(now + self.first_delay(), next(self._seq), recording_id, now)
        self._live[recording_id] = entry
        heapq.heappush(self._heap, entry)

    def due(self, limit: int) -> list[str]:
        """Up to ``limit`` recordings whose check is due, earliest first. They stay followed until
        :meth:`done` or :meth:`not_ready` is called for each."""
        now = self._clock()
        out: list[str] = []
        while self._heap and len(out) < limit and self._heap[0].next_check <= now:
            entry = heapq.heappop(self._heap)
            if self._live.get(entry.recording_id) is not entry:
                continue  # stale heap entry
            if now - entry.seen_at > self.give_up_after:
                del self._live[entry.recording_id]
                self._finished.add(entry.recording_id)
                self.gave_up.append(entry.recording_id)
                continue
            out.append(entry.recording_id)
        return out

    def not_ready(self, recording_id: str) -> None:
        """RingSense said 404: check again after ``retry_every``."""
        old = self._live.get(recording_id)
        if old is None:
            return
        entry = _Entry(self._clock() + self.retry_every, next(self._seq), recording_id, old.seen_at, old.attempts + 1)
        self._live[recording_id] = entry
        heapq.heappush(self._heap, entry)

    def done(self, recording_id: str, *, ready_at: float | None = None) -> None:
        """Insights arrived (or will never be asked for): stop following.

        Args:
            recording_id: the recording.
            ready_at: when RingSense made the insights (their ``creationTime``), to learn the delay.
        """
        entry = self._live.pop(recording_id, None)
        self._finished.add(recording_id)
        if entry is not None and ready_at is not None:
            self._delays.append(max(0.0, ready_at - entry.seen_at))

    @property
    def learned_delays(self) -> list[float]:
        """The most recent observed delays (seconds from seeing a recording to its insights)."""
        return list(self._delays)

    def first_delay(self) -> float:
        """Seconds from seeing a recording to its first check: learned, or ``first_check_after``."""
        if len(self._delays) < self.min_samples:
            return self.first_check_after
        ordered = sorted(self._delays)
        index = min(len(ordered) - 1, math.ceil(self.quantile * len(ordered)) - 1)
        return max(self.min_first_check, ordered[max(0, index)])

    def next_due_in(self) -> float | None:
        """Seconds until the earliest check (0 if overdue); ``None`` when nothing is followed."""
        while self._heap and self._live.get(self._heap[0].recording_id) is not self._heap[0]:
            heapq.heappop(self._heap)
        if not self._heap:
            return None
        return max(0.0, self._heap[0].next_check - self._clock())
