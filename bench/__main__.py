# SPDX-License-Identifier: MIT
"""Runs the benchmarks and prints a table: name, figure, unit, target, pass/fail."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import traceback
from pathlib import Path

from bench import Result


def discover() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def format_table(rows: list[Result]) -> str:
    header = ("benchmark", "figure", "unit", "target", "result")
    body = [
        (
            r.name,
            f"{r.figure:,.3f}" if abs(r.figure) < 1000 else f"{r.figure:,.0f}",
            r.unit,
            r.target,
            "" if r.passed is None else ("pass" if r.passed else "FAIL"),
        )
        for r in rows
    ]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in body:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmark modules to run (default: all), e.g. notes")
    args = parser.parse_args(argv)
    modules = discover()
    if args.names:
        wanted = {n if n.startswith("bench_") else f"bench_{n}" for n in args.names}
        unknown = wanted - set(modules)
        if unknown:
            parser.error(f"no such benchmark: {', '.join(sorted(unknown))} (have: {', '.join(modules)})")
        modules = [m for m in modules if m in wanted]
    rows: list[Result] = []
    failed_to_run = False
    for name in modules:
        print(f"running {name} …", file=sys.stderr, flush=True)
        try:
            rows.extend(importlib.import_module(f"bench.{name}").run())
        except Exception:
            traceback.print_exc()
            rows.append(Result(f"{name} (crashed)", float("nan"), "", "", False))
            failed_to_run = True
    print(format_table(rows))
    return 1 if failed_to_run or any(r.passed is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
