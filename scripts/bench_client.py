"""Benchmark the generated client: generation time, import time, mypy/ruff/import-all time, determinism,
and completeness on every revision in the spec mirror. Prints a Markdown table (paste into generated/README.md).

    uv run python scripts/bench_client.py            # everything (~10 min on 2 cores)
    uv run python scripts/bench_client.py --quick    # pinned spec only, no mypy, no mirror sweep
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kdk import shared_mirror
from kdk.generate import PACKAGE_NAME, check_imports, check_mypy, check_ruff, generate_project
from kdk.spec import apply_overlay, load_pinned_spec, load_spec

_IMPORT_ONE = """
import time
t0 = time.perf_counter()
import klaviyo_client
import klaviyo_client.api.profiles.get_profiles
t1 = time.perf_counter()
klaviyo_client.KlaviyoClient("pk_bench").get_httpx_client()
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not {"__pycache__", ".ruff_cache"} & set(p.parts)):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def clean_python(work: Path) -> str | None:
    """A venv holding only the client's runtime deps (httpx, attrs, python-dateutil), from uv's cache.

    Our dev venv also has rich and click, which httpx imports for its CLI: ~0.2 s a user of the client
    would not pay. None if uv cannot build it offline.
    """
    venv = work / "clean-venv"
    try:
        subprocess.run(["uv", "venv", "-q", str(venv), "--python", sys.executable], check=True, capture_output=True)
        python = str(venv / "bin" / "python")
        deps = ["httpx", "attrs", "python-dateutil"]
        subprocess.run(["uv", "pip", "install", "-q", "--offline", "--python", python, *deps], check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return python


def import_times(project: Path, runs: int, python: str = sys.executable) -> tuple[float, float]:
    """Median seconds (import client + one endpoint, then the first connection pool, which loads httpx) in fresh
    interpreters, after one warm-up run that writes the .pyc files."""
    samples = []
    for i in range(runs + 1):
        out = subprocess.run(
            [python, "-c", _IMPORT_ONE], cwd=project, capture_output=True, text=True, check=True
        ).stdout.split()
        if i:
            samples.append((float(out[0]), float(out[1])))
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="pinned spec only; skip mypy and the mirror sweep")
    parser.add_argument("--import-runs", type=int, default=7)
    args = parser.parse_args()

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="bench-client-") as tmp:
        work = Path(tmp)
        patched = load_pinned_spec()
        first = generate_project(patched, work / "a" / "klaviyo-client")
        project = first.project_dir
        phases = ", ".join(f"{k} {v:.1f}s" for k, v in first.timings.items())
        rows.append(("generation, pinned spec (cold, no cache)", f"{first.seconds:.1f} s ({phases})"))
        rows.append(
            (
                "operations / models / modules / warnings",
                f"{first.operations_generated}/{first.operations_expected} / {first.models} / {first.modules} "
                f"/ {len(first.warnings)}",
            )
        )
        rows.append(("load average at start (2 cores)", " / ".join(f"{x:.1f}" for x in os.getloadavg())))
        venvs = [("dev venv", sys.executable)]
        clean = clean_python(work)
        if clean:
            venvs.append(("clean venv: httpx+attrs+dateutil only", clean))
        for label, python in venvs:
            imported, pool = import_times(project, args.import_runs, python)
            rows.append((f"import klaviyo_client + api.profiles.get_profiles ({label})", f"{imported * 1000:.0f} ms"))
            rows.append((f"then the first connection pool, loading httpx ({label})", f"{pool * 1000:.0f} ms"))
        for check in (check_ruff(project), check_imports(project)):
            rows.append((f"{check.name} over the package", f"{check.seconds:.1f} s, {check.summary}"))
        if not args.quick:
            mypy_cache = work / "mypy-cache"
            cold = check_mypy(project, cache_dir=mypy_cache)
            rows.append(("mypy --strict, cold cache", f"{cold.seconds:.0f} s, {cold.summary}"))
            warm = check_mypy(project, cache_dir=mypy_cache)
            rows.append(("mypy --strict, warm cache", f"{warm.seconds:.0f} s, {warm.summary}"))
            second = generate_project(patched, work / "b" / "klaviyo-client")
            same = tree_digest(project / PACKAGE_NAME) == tree_digest(second.package_dir)
            rows.append(("determinism: two full runs byte-identical", "yes" if same else "NO"))
            mirror = shared_mirror()
            for spec_path in sorted(mirror.glob("*/openapi/*.json")) if mirror else []:
                label = f"{spec_path.parent.parent.name}/{spec_path.name}"
                started = time.perf_counter()
                result = generate_project(apply_overlay(load_spec(spec_path)).spec, work / "m" / "klaviyo-client")
                ok = "complete" if result.complete and not result.warnings else "INCOMPLETE"
                rows.append(
                    (
                        f"mirror {label}",
                        f"{result.operations_generated}/{result.operations_expected} ops, {result.models} models, "
                        f"{len(result.warnings)} warnings, {len(result.dropped_schemas)} dropped, {ok}, "
                        f"{time.perf_counter() - started:.0f} s",
                    )
                )
                print(f"  {label}: done", file=sys.stderr)

    print("| measure | value |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")


if __name__ == "__main__":
    main()
