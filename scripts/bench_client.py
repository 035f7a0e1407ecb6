"""Benchmark the generated client: generation time, import time, mypy/ruff/import-all time, determinism,
and completeness on every revision in the spec mirror; then side by side with Klaviyo's official SDK
(`klaviyo-api`, a dev dependency): import time of the client plus one endpoint, per-call overhead of 1,000
calls against an in-process transport (sync and async), peak memory. Prints Markdown tables (paste into
generated/README.md). No assertions: the numbers are for reading.

    uv run python scripts/bench_client.py            # everything (~10 min on 2 cores)
    uv run python scripts/bench_client.py --quick    # pinned spec only, no mypy, no mirror sweep
    uv run python scripts/bench_client.py --compare-only   # only the table against klaviyo-api (uses generated/)
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


# --- side by side with klaviyo-api -----------------------------------------------------------------------------


# One GET /api/profiles answer, the same bytes for both clients: three profiles, JSON:API, with a next link.
def _profile_json(n: int) -> str:
    return (
        f'{{"type": "profile", "id": "01H{n:04d}ZZZZZZZZZZZZZZZZZZZ", "attributes": {{"email": "p{n}@example.com", '
        '"first_name": "Ada", "last_name": "Lovelace", "created": "2026-01-02T03:04:05+00:00", '
        '"updated": "2026-01-02T03:04:05+00:00", "location": {"city": "London", "country": "UK", "zip": "N1"}}, '
        '"links": {"self": "https://a.klaviyo.com/api/profiles/x"}}'
    )


_PAGE_BODY = (
    '{"data": ['
    + ",".join(_profile_json(n) for n in range(3))
    + '], "links": {"self": "https://a.klaviyo.com/api/profiles", "next": null, "prev": null}}'
)

# Each worker runs in a fresh interpreter and prints: import seconds, then per-call seconds (or -), then peak
# RSS in KiB. `{body}` is the answer above; `{calls}` the number of calls.
_OURS = """
import time, resource, sys
t0 = time.perf_counter()
from klaviyo_client import Klaviyo, AsyncKlaviyo
client = Klaviyo("pk_bench")
client.profiles
t1 = time.perf_counter()
import httpx
BODY = {body!r}.encode()
def handler(request):
    return httpx.Response(200, content=BODY, headers={{"content-type": "application/vnd.api+json"}})
client = Klaviyo("pk_bench", transport=httpx.MockTransport(handler), retry=None)
client.profiles.get_profiles()  # warm-up: connection pool, models, lazy imports
t2 = time.perf_counter()
for _ in range({calls}):
    page = client.profiles.get_profiles()
t3 = time.perf_counter()
assert page.data[0].attributes.email == "p0@example.com"
import asyncio
async def run():
    async def ahandler(request):
        return handler(request)
    aclient = AsyncKlaviyo("pk_bench", async_transport=httpx.MockTransport(ahandler), retry=None)
    await aclient.profiles.get_profiles()
    start = time.perf_counter()
    for _ in range({calls}):
        await aclient.profiles.get_profiles()
    return time.perf_counter() - start
t_async = asyncio.run(run())
print(t1 - t0, (t3 - t2) / {calls}, t_async / {calls}, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

_OFFICIAL = """
import time, resource
t0 = time.perf_counter()
from klaviyo_api import KlaviyoAPI
client = KlaviyoAPI("pk_bench", max_delay=1, max_retries=0)
client.Profiles
t1 = time.perf_counter()
import urllib3
BODY = {body!r}.encode()
class InProcessPool:
    # stands in for urllib3.PoolManager: every request gets the same answer, no socket
    def request(self, method, url, **kwargs):
        return urllib3.HTTPResponse(body=BODY, status=200, headers={{"content-type": "application/vnd.api+json"}},
                                    preload_content=True)
client.api_client.rest_client.pool_manager = InProcessPool()
client.Profiles.get_profiles()  # warm-up
t2 = time.perf_counter()
for _ in range({calls}):
    page = client.Profiles.get_profiles()
t3 = time.perf_counter()
print(t1 - t0, (t3 - t2) / {calls}, "-", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _worker(code: str, cwd: Path, runs: int) -> list[list[str]]:
    samples = []
    for i in range(runs + 1):  # the first run writes .pyc files; it is not counted
        proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "worker failed")
        if i:
            samples.append(proc.stdout.split())
    return samples


def _median(samples: list[list[str]], column: int) -> float | None:
    values = [float(s[column]) for s in samples if s[column] != "-"]
    return statistics.median(values) if values else None


def compare_with_official(generated: Path, runs: int, calls: int) -> list[tuple[str, str, str]]:
    """Rows (measure, klaviyo_client, klaviyo-api), each the median over `runs` fresh interpreters. Both clients
    parse the same three-profile GET /api/profiles answer: ours through httpx.MockTransport, klaviyo-api through a
    stand-in for its urllib3 pool manager (the lowest layer each one lets a caller replace)."""
    from importlib.metadata import version

    ours = _worker(_OURS.format(body=_PAGE_BODY, calls=calls), generated, runs)
    official = _worker(_OFFICIAL.format(body=_PAGE_BODY, calls=calls), generated, runs)

    def ms(value: float | None, scale: float = 1000, unit: str = "ms") -> str:
        return "n/a (no async client)" if value is None else f"{value * scale:.0f} {unit}"

    rows = [
        (
            "import client + one endpoint (fresh interpreter)",
            ms(_median(ours, 0)),
            ms(_median(official, 0)),
        ),
        (
            f"per call, sync (mean of {calls} calls, in-process transport)",
            ms(_median(ours, 1), 1e6, "µs"),
            ms(_median(official, 1), 1e6, "µs"),
        ),
        (
            f"per call, async ({calls} calls)",
            ms(_median(ours, 2), 1e6, "µs"),
            ms(_median(official, 2), 1e6, "µs"),
        ),
        (
            "peak RSS of the process (import + all calls)",
            f"{(_median(ours, 3) or 0) / 1024:.0f} MiB",
            f"{(_median(official, 3) or 0) / 1024:.0f} MiB",
        ),
    ]
    rows.append(("version", f"klaviyo_client (generated, {calls} calls)", f"klaviyo-api {version('klaviyo-api')}"))
    return rows


def print_comparison(rows: list[tuple[str, str, str]]) -> None:
    print("| measure | klaviyo_client | klaviyo-api |\n| --- | --- | --- |")
    for name, ours, official in rows:
        print(f"| {name} | {ours} | {official} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="pinned spec only; skip mypy and the mirror sweep")
    parser.add_argument("--import-runs", type=int, default=7)
    parser.add_argument("--compare-only", action="store_true", help="only the table against klaviyo-api")
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()

    if args.compare_only:
        from kdk.generate import ensure_generated

        print_comparison(compare_with_official(ensure_generated().parent, args.import_runs, args.calls))
        return

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
    print()
    from kdk.generate import ensure_generated

    print_comparison(compare_with_official(ensure_generated().parent, args.import_runs, args.calls))


if __name__ == "__main__":
    main()
