# SPDX-License-Identifier: MIT
"""Benchmarks: ``python -m bench [NAME ...]`` runs every ``bench/bench_*.py`` and prints one table.

A benchmark module exposes ``run() -> list[Result]``. Benchmarks are not part of the test suite:
timings on a shared machine are measured here, with a target each, not asserted in tests.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    name: str
    figure: float
    unit: str
    #: The target as text ("< 50", "<= 1.5x"); empty when the row is informational.
    target: str = ""
    passed: bool | None = None


def at_most(name: str, figure: float, unit: str, limit: float) -> Result:
    return Result(name, figure, unit, f"<= {limit:g}", figure <= limit)


def best_of(fn: Callable[[], T], repeat: int = 5) -> tuple[float, T]:
    """Fastest wall time of ``repeat`` runs (seconds), and the last result."""
    best = float("inf")
    out: T
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def peak_memory(fn: Callable[[], T]) -> tuple[int, T]:
    """Peak Python heap allocated while ``fn`` runs, in bytes."""
    tracemalloc.start()
    try:
        out = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak, out
