"""Benchmark the overlay and `kdk spec validate` on every revision in the spec mirror: load, overlay
(median of --runs, after a warm-up that pays the imports once), and each validation layer on the patched
spec. Prints a Markdown table; the machine's load average is printed too (on a shared 2-core box it matters).

    uv run python scripts/bench_spec_validate.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from kdk import shared_mirror
from kdk.spec import RULES, apply_overlay, load_spec, validate_spec

REVISIONS = [
    ("2026-07-15", "stable"),
    ("2026-04-15", "stable"),
    ("2026-01-15", "stable"),
    ("main", "stable"),
    ("main", "beta"),
    ("2026-07-15.pre", "beta"),
]
CONVENTIONS = [rule for rule in RULES if rule not in ("openapi-schema", "resolve")]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    mirror = shared_mirror()
    if mirror is None:
        sys.exit("no spec mirror (set KDK_SPEC_SOURCE)")

    warm = load_spec(mirror / REVISIONS[0][0] / "openapi" / f"{REVISIONS[0][1]}.json")
    apply_overlay(warm)  # imports (jsonschema, referencing) paid once, outside the table
    validate_spec(warm, rules=["resolve"])

    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(
        "| revision | size (MB) | load (s) | overlay (s, median) | changes | openapi-spec-validator (s) "
        "| prance (s) | conventions (s) | raw findings | patched findings |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for ref, channel in REVISIONS:
        path = mirror / ref / "openapi" / f"{channel}.json"
        load_s, raw = timed(lambda p=path: load_spec(p))  # type: ignore[misc]
        overlay_runs = [timed(lambda r=raw: apply_overlay(r)) for _ in range(args.runs)]  # type: ignore[misc]
        result = overlay_runs[0][1]
        overlay_s = statistics.median(s for s, _ in overlay_runs)
        osv_s, osv = timed(lambda s=result.spec: validate_spec(s, rules=["openapi-schema"]))  # type: ignore[misc]
        prance_s, pr = timed(lambda s=result.spec: validate_spec(s, rules=["resolve"]))  # type: ignore[misc]
        conv_s, conv = timed(lambda s=result.spec: validate_spec(s, rules=CONVENTIONS))  # type: ignore[misc]
        raw_findings = len(validate_spec(raw))
        print(
            f"| {ref} {channel} | {path.stat().st_size / 1e6:.1f} | {load_s:.2f} | {overlay_s:.2f} | {result.total} "
            f"| {osv_s:.2f} | {prance_s:.2f} | {conv_s:.2f} | {raw_findings} | {len(osv) + len(pr) + len(conv)} |"
        )


if __name__ == "__main__":
    main()
