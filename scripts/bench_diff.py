"""Benchmark `kdk spec diff` on the revisions in the spec mirror: load, overlay and diff time, and what it found.
Prints a Markdown table (median of --runs for the diff itself).

    uv run python scripts/bench_diff.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from kdk import shared_mirror
from kdk.spec import apply_overlay, load_spec
from kdk.spec.diff import Severity, diff_specs

PAIRS = [
    ("2026-01-15", "2026-04-15"),
    ("2026-04-15", "2026-07-15"),
    ("2026-01-15", "2026-07-15"),
    ("2026-07-15", "2026-04-15"),
    ("2026-07-15", "2026-07-15"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    mirror = shared_mirror()
    if mirror is None:
        sys.exit("no spec mirror (set KDK_SPEC_SOURCE)")
    print("| old → new | load (s) | overlay (s) | diff (s, median) | total (s) | breaking | warning | info |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for old, new in PAIRS:
        started = time.perf_counter()
        raw = [load_spec(mirror / ref / "openapi" / "stable.json") for ref in (old, new)]
        loaded = time.perf_counter()
        patched = [apply_overlay(spec, copy_spec=False).spec for spec in raw]
        overlaid = time.perf_counter()
        reports = [diff_specs(patched[0], patched[1]) for _ in range(args.runs)]
        diff_seconds = statistics.median(r.seconds for r in reports)
        total = (overlaid - started) + diff_seconds
        counts = reports[0].counts()
        print(
            f"| {old} → {new} | {loaded - started:.2f} | {overlaid - loaded:.2f} | {diff_seconds:.2f} | {total:.2f} "
            f"| {counts[Severity.BREAKING]} | {counts[Severity.WARNING]} | {counts[Severity.INFO]} |"
        )


if __name__ == "__main__":
    main()
