#!/usr/bin/env python3
"""Benchmark the stateful mock at scale: demo accounts of growing size on each store backend.

    uv run python scripts/bench_state.py [--sizes 1k,10k,100k] [--backends memory,sqlite] [--postgres DSN|auto]
        [--requests 200] [--max-seconds 10] [--bulk-profiles 30000] [--import-profiles 200000] [--results FILE]
        [--docs docs/benchmarks.md] [--plot docs/benchmarks-state.png]

For every backend and size, a `kdk mock --demo-data SIZE` process (demo accounts: about 10 events per profile) is
started and measured from outside over HTTP, one request at a time on a kept-alive connection: load rate, single
creates/s (one client, sequential: a lean one, prepared requests on a raw socket, and the http.client one, which
encodes and parses on the clock; beside them the server's create throughput: wrk with a few connections, each
request a new email), GET by id p50/p99, filter by email p50, a page of 20 p50 (walking `links.next`), a
`sort=-updated` page p50, events filtered by metric and a month's time window p50, `query_metric_aggregates` over a
month p50, and the server's RSS (and per profile, beyond the empty server); then a bulk import over HTTP (`POST
/api/profile-bulk-import-jobs`, 10,000 profiles per job as Klaviyo allows): profiles/s, and the RSS each imported
profile adds (after one untimed job); and, once per run, the RSS of a bulk-imported profile alone at the large end
(`--import-profiles` into an empty memory account, no events). Side by side in the same run: stateless GET req/s of
`kdk mock --stateless` against a bare ASGI app on the same uvicorn setup (wrk). `--postgres auto` measures
PostgreSQL in a throwaway local cluster (mock_server/tests/postgres_cluster.py: Debian's binaries).

Writes a Markdown table to stdout, into the `bench_state` section of `--docs` (the machine, its load average
and the date with it), and the growth curve as a PNG (`--plot`, matplotlib). 1M profiles is opt-in
(`--sizes 1k,10k,100k,1m`). Each measurement stops after `--requests` requests or `--max-seconds`, whichever
comes first (the count is in the table's `n` column), so a slow backend at a large size cannot stall the run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_mock import (
    BULK_JOB,
    CREATE_CONNECTIONS,
    LeanClient,
    bulk_import,
    concurrent_creates,
    cpu_seconds,
    create_request,
    free_port,
    kdk_command,
    stateless_and_bare,
    stop,
)

ROOT = Path(__file__).resolve().parents[1]
REVISION = "2026-07-15"
JSONAPI = "application/vnd.api+json"
MARK_START, MARK_END = "<!-- bench_state:start -->", "<!-- bench_state:end -->"
MONTH = ("2026-10-01T00:00:00+00:00", "2026-11-01T00:00:00+00:00")  # inside the demo accounts' year of events
COLUMNS = (  # key, heading
    ("backend", "backend"),
    ("profiles", "profiles"),
    ("resources", "resources"),
    ("load", "load (resources/s)"),
    ("create", "creates/s (lean client)"),
    ("create_httpclient", "creates/s (http.client client)"),
    ("create_wrk", f"creates/s, server throughput (wrk -c{CREATE_CONNECTIONS})"),
    ("get_p50", "GET by id p50"),
    ("get_p99", "GET by id p99"),
    ("email_p50", "filter by email p50"),
    ("page_p50", "page of 20 p50"),
    ("sort_p50", "sort=-updated page p50"),
    ("events_p50", "events by metric + month p50"),
    ("aggregates_p50", "metric aggregates (month) p50"),
    ("rss", "RSS"),
    ("rss_per_profile", "RSS per profile"),
    ("bulk", "bulk import (profiles/s)"),
    ("rss_per_imported", "RSS per imported profile"),
    ("load_avg", "load avg"),
)
CPU_COLUMNS = (  # the server's CPU per request: what the code costs, whatever else runs on the box
    ("backend", "backend"),
    ("profiles", "profiles"),
    ("create_cpu", "create"),
    ("create_httpclient_cpu", "create (http.client client)"),
    ("create_wrk_cpu", f"create (wrk -c{CREATE_CONNECTIONS})"),
    ("get_cpu", "GET by id"),
    ("email_cpu", "filter by email"),
    ("page_cpu", "page of 20"),
    ("sort_cpu", "sort=-updated page"),
    ("events_cpu", "events by metric + month"),
    ("aggregates_cpu", "metric aggregates (month)"),
    ("bulk_cpu_rate", "bulk import (profiles per CPU s)"),
)
# A request may wait this long: at 1M profiles the first request of a kind builds its index (minutes over 10M
# events); that call is not timed, but it must not time out.
REQUEST_TIMEOUT = 3600.0
PLOTTED = ("get_cpu", "email_cpu", "page_cpu", "sort_cpu", "events_cpu", "aggregates_cpu")


class Client:
    """One kept-alive HTTP connection to the mock, as one API key."""

    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key
        self.headers = {"Authorization": f"Klaviyo-API-Key {key}", "revision": REVISION}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        self.conn.connect()
        # Without this, Nagle and delayed ACKs add ~40 ms to some requests: the figures would be the kernel's.
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["content-type"] = JSONAPI
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        is_json = "json" in (response.getheader("content-type") or "")
        return response.status, (json.loads(raw) if raw and is_json else None)

    def get(self, path: str, **params: str) -> Any:
        query = "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items())
        status, body = self.request("GET", f"{path}?{query}" if query else path)
        if status != 200:
            raise RuntimeError(f"GET {path} {params}: {status} {json.dumps(body)[:300]}")
        return body

    def close(self) -> None:
        self.conn.close()


@dataclass
class Timing:
    ms: list[float]  # wall milliseconds of each request, as the client saw it
    cpu_ms: float  # the server's CPU milliseconds per request (user + system), robust to a busy box


def timed(run: Callable[[int], object], requests: int, max_seconds: float, server_pid: int) -> Timing:
    """Each call of `run(i)`, up to `requests` calls or `max_seconds` (at least 3 calls), after one untimed call
    (the first request of a kind builds its validators: a start-up cost, not a steady one)."""
    run(requests)
    times: list[float] = []
    cpu_before = cpu_seconds(server_pid)
    deadline = time.perf_counter() + max_seconds
    for i in range(requests):
        started = time.perf_counter()
        run(i)
        times.append((time.perf_counter() - started) * 1000)
        if len(times) >= 3 and time.perf_counter() > deadline:
            break
    return Timing(times, (cpu_seconds(server_pid) - cpu_before) * 1000 / len(times))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def rss_mb(pid: int) -> float:
    match = re.search(r"VmRSS:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(match.group(1)) / 1024 if match else 0.0


def start_mock(args: list[str], port: int, key: str, limit: float) -> tuple[subprocess.Popen[bytes], str]:
    """Start `kdk mock ARGS`; return it and its stderr so far, once it answers (demo data loads before that)."""
    log = Path(tempfile.mkdtemp(prefix="kdk-bench-state-log-")) / "stderr.txt"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [*kdk_command(), "mock", "--port", str(port), *args], stdout=subprocess.DEVNULL, stderr=stderr, cwd=ROOT
        )
    started = time.perf_counter()
    try:
        while True:
            try:
                client = Client(port, key)
                client.request("GET", "/api/metrics")
                client.request("GET", "/ui/")  # answered once the background Connexion build is done
                client.close()
                break
            except OSError:
                if process.poll() is not None or time.perf_counter() - started > limit:
                    raise RuntimeError(f"kdk mock {' '.join(args)} did not start:\n{log.read_text()[-2000:]}") from None
                time.sleep(0.1)
    except BaseException:  # not started, or the benchmark was stopped meanwhile: leave no server behind
        process.kill()
        raise
    text = log.read_text()
    shutil.rmtree(log.parent, ignore_errors=True)
    return process, text


def measure(
    backend: str, state: str, profiles: int, size: str, args: argparse.Namespace, keep: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """One row: a fresh mock with a demo account of `size` on `state`, measured from outside. `keep(row)` is
    called after each figure: a run stopped or failing half-way (a 1M row takes hours) keeps what it measured, and
    the row names the figure it did not finish (`unfinished`)."""
    key = f"pk_bench_{size}_{os.getpid()}"  # its own account: a shared PostgreSQL may hold earlier runs
    port = free_port()
    demo = ["--state", state, "--demo-data", size, "--demo-account", f"api_key:{key}"]
    row: dict[str, Any] = {"backend": backend, "profiles": profiles, "unfinished": "load"}
    process, log = start_mock(demo, port, key, args.start_limit)
    try:
        loaded = re.search(r"demo data: ([\d,]+) resources .* in ([\d.]+) s", log)
        if loaded is None:
            raise RuntimeError(f"the mock did not report loading demo data:\n{log[-2000:]}")
        resources, seconds = int(loaded.group(1).replace(",", "")), float(loaded.group(2))
        row["resources"] = resources
        row["load"] = resources / seconds if seconds else float("nan")
        row["rss"] = rss_mb(process.pid)  # right after the load (measured again at the end)
        row["load_avg"] = os.getloadavg()[0]  # the box is shared: each row says how busy it was
        row["unfinished"] = "create"
        keep(row)
        client = Client(port, key)
        try:
            _latencies(client, args, process.pid, row, keep)
        finally:
            client.close()
        if shutil.which("wrk") is not None:  # beside one client's sequential figure: the server's throughput
            row["unfinished"] = "create_wrk"
            row["create_wrk"], row["create_wrk_cpu"] = concurrent_creates(
                port, process.pid, args.duration, f"{size}.{os.getpid()}", key
            )
        row["rss"] = rss_mb(process.pid)
        row["load_avg"] = os.getloadavg()[0]
        keep(row)
        if args.bulk_profiles:
            row["unfinished"] = "bulk"
            # One job first, untimed: the first job of a process builds its validators and caches.
            _bulk(port, process.pid, BULK_JOB, f"{size}.warm", key)
            before = rss_mb(process.pid)
            row.update(_bulk(port, process.pid, args.bulk_profiles, size, key))
            row["rss_per_imported"] = max(0.0, rss_mb(process.pid) - before) * 1024 / args.bulk_profiles
        del row["unfinished"]
        keep(row)
    except BaseException as error:  # stopped or failed: keep the figures so far, say where it stopped
        row["unfinished"] = f"{row['unfinished']} ({type(error).__name__}: {str(error)[:200]})"
        keep(row)
        raise
    finally:
        stop(process)
    return row


def _latencies(
    client: Client, args: argparse.Namespace, pid: int, out: dict[str, Any], keep: Callable[[dict[str, Any]], None]
) -> None:
    """The latency figures, each put into `out` and kept (`keep(out)`) as soon as it is measured."""
    rng = random.Random(0)
    n, limit = args.requests, args.max_seconds

    def record(key: str, timing: Timing) -> Timing:
        out[f"{key}_p50"], out[f"{key}_cpu"] = statistics.median(timing.ms), timing.cpu_ms
        keep(out)
        return timing

    def start(key: str) -> None:
        out["unfinished"] = key

    # Ids and emails to ask for: profiles from pages spread over the account (sorted by a field, so not only the
    # oldest ones), and the account's metrics.
    sample: list[dict[str, Any]] = []
    for sort in ("email", "-email", "-updated", "updated"):
        sample += client.get("/api/profiles", **{"page[size]": "100", "sort": sort})["data"]
    metrics = [m["id"] for m in client.get("/api/metrics")["data"]]

    # One request at a time: creates/s is 1000 / the mean latency. The lean client (bench_mock's: requests built
    # before the clock, a raw socket, each answer read whole and its status checked) is mostly the server's round
    # trip; beside it the http.client client, which encodes and parses on the clock, on the same server.
    lean = LeanClient(client.port)
    try:
        tag = time.time_ns()
        requests = [create_request(client.port, f"l.{i}.{tag}@example.com", client.key) for i in range(n + 1)]
        start("create")
        created = timed(lambda i: _lean_create(lean, requests[i]), n, limit, pid)
        out["create"] = 1000 / statistics.mean(created.ms)
        record("create", created)
    finally:
        lean.close()
    start("create_httpclient")
    created = timed(lambda i: _create(client, f"b.{i}.{time.time_ns()}@example.com"), n, limit, pid)
    out["create_httpclient"] = 1000 / statistics.mean(created.ms)
    record("create_httpclient", created)
    start("get")
    by_id = timed(lambda i: client.get(f"/api/profiles/{rng.choice(sample)['id']}"), n, limit, pid)
    out["get_p99"], out["n"] = percentile(by_id.ms, 0.99), len(by_id.ms)
    record("get", by_id)

    def by_email(_: int) -> None:
        client.get("/api/profiles", filter=f'equals(email,"{rng.choice(sample)["attributes"]["email"]}")')

    start("email")
    record("email", timed(by_email, n, limit, pid))
    start("page")
    record("page", timed(_walker(client, {"page[size]": "20"}), n, limit, pid))
    start("sort")
    record("sort", timed(_walker(client, {"page[size]": "20", "sort": "-updated"}), n, limit, pid))
    window = f"greater-or-equal(datetime,{MONTH[0]}),less-than(datetime,{MONTH[1]})"

    def events(i: int) -> None:
        client.get("/api/events", filter=f'equals(metric_id,"{metrics[i % len(metrics)]}"),{window}')

    start("events")
    record("events", timed(events, n, limit, pid))
    start("aggregates")
    record("aggregates", timed(lambda i: _aggregate(client, metrics[i % len(metrics)]), n, limit, pid))


def _per_profile(row: dict[str, Any], baseline: float) -> None:
    """The row's RSS per profile beyond the empty server's."""
    row["rss_per_profile"] = max(0.0, row["rss"] - baseline) * 1024 / row["profiles"]


def _lean_create(client: LeanClient, request: bytes) -> None:
    status, body = client.round_trip(request)
    if status != 201:
        raise RuntimeError(f"POST /api/profiles: {status} {body[:300]!r}")


def _create(client: Client, email: str) -> None:
    status, body = client.request(
        "POST", "/api/profiles", {"data": {"type": "profile", "attributes": {"email": email}}}
    )
    if status != 201:
        raise RuntimeError(f"POST /api/profiles: {status} {json.dumps(body)[:300]}")


def _bulk(port: int, pid: int, profiles: int, tag: str, key: str) -> dict[str, float]:
    """`profiles` new profiles through `POST /api/profile-bulk-import-jobs` (bench_mock's import: 10,000 per
    job, the bodies made before the clock starts): profiles/s as the client saw it, and per server CPU second."""
    rate, per_cpu = bulk_import(port, pid, profiles, tag, key=key)
    return {"bulk": rate, "bulk_cpu_rate": per_cpu}


def _walker(client: Client, params: dict[str, str]) -> Callable[[int], None]:
    """Page after page through `links.next` (back to the first page at the end)."""
    state: dict[str, Any] = {"next": None}

    def page(_: int) -> None:
        if state["next"]:
            split = urlsplit(state["next"])
            status, body = client.request("GET", f"{split.path}?{split.query}")
            if status != 200:
                raise RuntimeError(f"GET {state['next']}: {status}")
        else:
            body = client.get("/api/profiles", **params)
        state["next"] = (body.get("links") or {}).get("next")

    return page


def _aggregate(client: Client, metric_id: str) -> None:
    body = {
        "data": {
            "type": "metric-aggregate",
            "attributes": {
                "metric_id": metric_id,
                "measurements": ["count", "sum_value"],
                "interval": "day",
                "filter": [f"greater-or-equal(datetime,{MONTH[0][:19]})", f"less-than(datetime,{MONTH[1][:19]})"],
                "timezone": "UTC",
            },
        }
    }
    status, answer = client.request("POST", "/api/metric-aggregates", body)
    if status != 200:
        raise RuntimeError(f"POST /api/metric-aggregates: {status} {json.dumps(answer)[:300]}")


def empty_rss(state: str, args: argparse.Namespace) -> float:
    """RSS of the mock with an empty account after the same kinds of requests (the baseline per profile)."""
    port = free_port()
    key = f"pk_bench_empty_{os.getpid()}"
    process, _ = start_mock(["--state", state], port, key, args.start_limit)
    try:
        client = Client(port, key)
        for i in range(20):
            _create(client, f"warm.{i}@example.com")
            client.get("/api/profiles", **{"page[size]": "20", "sort": "-updated"})
        client.close()
        return rss_mb(process.pid)
    finally:
        stop(process)


def imported_rss(state: str, profiles: int, args: argparse.Namespace) -> dict[str, float]:
    """A bulk-imported profile alone (no events), at the large end: RSS of a fresh mock after `profiles`
    profiles are bulk imported into an empty account, beyond the same mock after one untimed job (its
    validators and caches built), per profile; and the import's profiles/s."""
    port = free_port()
    key = f"pk_bench_import_{os.getpid()}"
    process, _ = start_mock(["--state", state], port, key, args.start_limit)
    try:
        _bulk(port, process.pid, BULK_JOB, "warm", key)
        before = rss_mb(process.pid)
        out = _bulk(port, process.pid, profiles, "alone", key)
        out["rss_per_imported"] = max(0.0, rss_mb(process.pid) - before) * 1024 / profiles
        out["profiles"] = profiles
        return out
    finally:
        stop(process)


# -- stateless GET vs a bare ASGI app ---------------------------------------------------------------------------
def stateless_vs_bare(args: argparse.Namespace) -> dict[str, str]:
    """req/s of `kdk mock --stateless` GET by id and of a bare ASGI app on the same uvicorn setup (wrk -t1),
    measured as `scripts/bench_mock.py --only hotpath` measures them."""
    if shutil.which("wrk") is None:
        return {"mock": "wrk not installed", "bare": "-", "ratio": "-"}
    measured = stateless_and_bare(ROOT, args.connections, args.duration)
    (mock_rps, _), (bare_rps, _) = measured["stateless"], measured["bare"]
    return {"mock": f"{mock_rps:,.0f}", "bare": f"{bare_rps:,.0f}", "ratio": f"{mock_rps / bare_rps:.0%}"}


# -- output -----------------------------------------------------------------------------------------------------
def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if key in ("profiles", "resources"):
        return f"{value:,}"
    if key in ("load", "create", "create_httpclient", "create_wrk", "bulk", "bulk_cpu_rate"):
        return f"{value:,.0f}"
    if key == "rss":
        return f"{value:,.0f} MB"
    if key in ("rss_per_profile", "rss_per_imported"):
        return f"{value:,.1f} KB"
    if key == "load_avg":
        return f"{value:.1f}"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms" if value >= 1 else f"{value:.2f} ms"


def table(
    rows: list[dict[str, Any]], comparison: dict[str, str], args: argparse.Namespace, alone: dict[str, float] | None
) -> str:
    load = os.getloadavg()
    lines = [
        f"{dt.date.today().isoformat()}, {platform.machine()} `{platform.node() or '?'}`, {os.cpu_count()} CPUs "
        f"(nproc), load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end of the run (each row: the "
        f"1-minute load when it was measured); "
        f"demo accounts (`--demo-data`, ~10 events per profile); one client, one request at a time; p50/p99 "
        f"over n requests (at most {args.requests}, or {args.max_seconds:g} s per figure).",
        "",
        "| " + " | ".join(h for _, h in COLUMNS) + " | n |",
        "|" + "---|" * (len(COLUMNS) + 1),
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(k, row.get(k)) for k, _ in COLUMNS) + f" | {row.get('n', '-')} |")
    for row in rows:
        if row.get("unfinished"):  # a row kept from a run that stopped: its '-' cells were not measured
            lines.append(f"\n{row['backend']} {row['profiles']:,}: unfinished at {row['unfinished']}.")
    lines += [
        "",
        "The server's CPU time per request (mean, user + system, from /proc): what the code costs, little moved by "
        "the box's load.",
        "",
        "| " + " | ".join(h for _, h in CPU_COLUMNS) + " |",
        "|" + "---|" * len(CPU_COLUMNS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(_cell(k, row.get(k)) for k, _ in CPU_COLUMNS) + " |")
    lines += [
        "",
        f"Stateless GET by id, same run, wrk -t1 -c{args.connections} {args.duration} s: `kdk mock --stateless` "
        f"{comparison['mock']} req/s, a bare ASGI app on the same uvicorn setup {comparison['bare']} req/s "
        f"({comparison['ratio']}).",
    ]
    if alone:
        lines += [
            "",
            f"A bulk-imported profile alone (memory, no events): {alone['rss_per_imported']:.2f} KB of RSS per "
            f"profile, {alone['profiles']:,.0f} profiles imported into an empty account (beyond the same mock after "
            f"one untimed job of {BULK_JOB:,}); {alone['bulk']:,.0f} profiles/s "
            f"({alone['bulk_cpu_rate']:,.0f} per server CPU second).",
        ]
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    backends = sorted({r["backend"] for r in rows})
    figure, axes = plt.subplots(1, len(backends), figsize=(6 * len(backends), 4.5), squeeze=False)
    for axis, backend in zip(axes[0], backends, strict=True):
        mine = sorted((r for r in rows if r["backend"] == backend), key=lambda r: r["profiles"])
        for key in PLOTTED:
            points = [(r["profiles"], r[key]) for r in mine if r.get(key) is not None]
            if points:
                axis.plot(*zip(*points, strict=True), marker="o", label=dict(CPU_COLUMNS)[key])
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("profiles in the account (~10 events each)")
        axis.set_ylabel("server CPU per request (ms)")
        axis.set_title(f"kdk mock, {backend} state")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize="small")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_docs(path: Path, text: str, image: Path | None) -> None:
    """Replace the bench_state section of `path` (added at the end the first time)."""
    picture = (
        f"\n\n![Server CPU per request as the account grows]({os.path.relpath(image, path.parent)})" if image else ""
    )
    section = f"{MARK_START}\n{text}{picture}\n{MARK_END}"
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if MARK_START in old and MARK_END in old:
        head, rest = old.split(MARK_START, 1)
        new = head + section + rest.split(MARK_END, 1)[1]
    else:
        new = old.rstrip("\n") + "\n\n## Stateful mock at scale (`scripts/bench_state.py`)\n\n" + section + "\n"
    path.write_text(new, encoding="utf-8")


def merge_results(path: Path, rows: list[dict[str, Any]], order: list[str]) -> list[dict[str, Any]]:
    """The rows kept in `path` with this run's rows in place of the same backend and size (saved back)."""
    kept = json.loads(path.read_text(encoding="utf-8")) if path.exists() else []
    fresh = {(r["backend"], r["profiles"]) for r in rows}
    merged = [r for r in kept if (r["backend"], r["profiles"]) not in fresh] + rows
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(merged, indent=1) + "\n", encoding="utf-8")
    rank = {name: i for i, name in enumerate(order)}
    return sorted(merged, key=lambda r: (rank.get(r["backend"], len(rank)), r["backend"], r["profiles"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1k,10k,100k", help="demo sizes (1m is opt-in: add it here)")
    parser.add_argument("--backends", default="memory,sqlite", help="memory, sqlite (postgresql: --postgres)")
    parser.add_argument(
        "--postgres",
        metavar="DSN",
        help="also measure --state postgresql://... (this DSN; `auto`: a throwaway local cluster for the run)",
    )
    parser.add_argument(
        "--bulk-profiles", type=int, default=30_000, help="profiles to bulk import per row (jobs of 10,000; 0: none)"
    )
    parser.add_argument(
        "--import-profiles",
        type=int,
        default=200_000,
        help="profiles bulk imported into an empty memory account for the RSS of a profile alone (0: skip)",
    )
    parser.add_argument("--requests", type=int, default=200, help="requests per latency figure (at most)")
    parser.add_argument("--max-seconds", type=float, default=10.0, help="seconds per latency figure (at most)")
    parser.add_argument("--duration", type=int, default=5, help="wrk seconds for the stateless comparison")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--start-limit", type=float, default=3600.0, help="seconds a mock may take to load")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "benchmarks.md", help="Markdown to update")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "benchmarks-state.png", help="PNG to write")
    parser.add_argument("--no-docs", action="store_true", help="only print the table")
    parser.add_argument(
        "--results",
        type=Path,
        help="JSON file of rows kept between runs: this run's rows replace the same backend and size there, and the "
        "table shows them all (a long size can run on its own; --sizes '' only redraws and re-measures req/s)",
    )
    args = parser.parse_args()
    # Stopped with SIGTERM: unwind, so every mock started so far is stopped too (no server left behind).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with ExitStack() as stack:
        fresh: Callable[[str], str] | None = None
        if args.postgres == "auto":
            from mock_server.tests.postgres_cluster import postgres_cluster

            cluster = stack.enter_context(postgres_cluster())
            args.postgres, fresh = cluster.url, cluster.database
        run(parser, args, fresh)


def run(parser: argparse.ArgumentParser, args: argparse.Namespace, fresh: Callable[[str], str] | None = None) -> None:
    """`fresh(name)`: the URL of a new, empty PostgreSQL database (a throwaway cluster's): each size, and the empty
    baseline, on its own. A demo load into an empty store builds its indexes after the load; into a store holding
    other accounts (the baseline's, a smaller size's) it keeps them up row by row, which at 1M profiles is IO-bound
    and takes hours: with a given DSN, the baseline is measured last, and only the first size loads into an empty
    store."""
    from mock_server.state import parse_demo_size

    sizes = [(s.strip(), parse_demo_size(s.strip())) for s in args.sizes.split(",") if s.strip()]
    backends: list[tuple[str, str]] = []
    work = Path(tempfile.mkdtemp(prefix="kdk-bench-state-"))
    for name in (b.strip() for b in args.backends.split(",") if b.strip()):
        if name not in ("memory", "sqlite"):
            parser.error(f"--backends: memory or sqlite, not {name!r} (PostgreSQL: --postgres DSN)")
        backends.append((name, "memory" if name == "memory" else "sqlite:"))
    if args.postgres:
        backends.append(("postgresql", args.postgres))

    rows: list[dict[str, Any]] = []
    for backend, state in backends if sizes else []:

        def where(name: str, backend: str = backend, state: str = state) -> str:
            if state == "sqlite:":
                return f"sqlite:{work / f'{name}.db'}"
            if backend == "postgresql" and fresh is not None:
                return fresh(f"bench_{name}")
            return state

        shared = backend == "postgresql" and fresh is None  # one database for every row: the baseline last
        baseline = None if shared else empty_rss(where("empty"), args)
        measured: list[dict[str, Any]] = []

        def keep(row: dict[str, Any], baseline: float | None = baseline) -> None:
            """Save the row so far (a stopped run loses no figure): with the baseline when it is known."""
            if args.results:
                saved = dict(row)
                if baseline is not None and "rss" in saved:
                    _per_profile(saved, baseline)
                merge_results(args.results, [saved], [b for b, _ in backends])

        for size, profiles in sizes:
            print(f"bench_state: {backend} {size} ...", file=sys.stderr, flush=True)
            row = measure(backend, where(size), profiles, size, args, keep)
            measured.append(row)
            print(f"bench_state: {row}", file=sys.stderr, flush=True)
        if baseline is None:
            baseline = empty_rss(where("empty"), args)
        for row in measured:
            _per_profile(row, baseline)
        rows.extend(measured)
        if args.results:
            merge_results(args.results, measured, [b for b, _ in backends])
    shutil.rmtree(work, ignore_errors=True)
    if args.results:
        rows = merge_results(args.results, rows, [b for b, _ in backends])
    alone = None
    if args.import_profiles and any(state == "memory" for _, state in backends):
        print(f"bench_state: {args.import_profiles:,} profiles bulk imported alone ...", file=sys.stderr, flush=True)
        alone = imported_rss("memory", args.import_profiles, args)
        print(f"bench_state: {alone}", file=sys.stderr, flush=True)
    comparison = stateless_vs_bare(args)
    text = table(rows, comparison, args, alone)
    print(text)
    if not args.no_docs:
        plot(rows, args.plot)
        write_docs(args.docs, text, args.plot)


if __name__ == "__main__":
    main()
