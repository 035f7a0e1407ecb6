#!/usr/bin/env python3
"""Benchmark `kdk proxy`: what sitting between a client and the upstream costs, side by side with no proxy.

    uv run python scripts/bench_proxy.py [--requests 300] [--output FILE]

Starts `kdk mock` as the upstream, then `kdk proxy` in front of it (plain, and with `--record`), and sends the
same GETs over one keep-alive connection to each: p50/p99 latency and requests per second, sequential (the proxy
checks every answer against the spec after sending it, which is what the numbers include). Writes a Markdown
table (stdout, and FILE if given) with the machine's load average: on a shared 2-core box it dominates.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench_mock import free_port, kdk_command  # scripts/ is on sys.path when this file runs

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"Authorization": "Klaviyo-API-Key pk_bench", "revision": "2026-07-15"}
PATHS = ["/api/profiles/", "/api/lists/", "/api/profiles/01GMTZY2TEKN4KFRP30JZ59KGB/"]


@contextmanager
def server(args: list[str], ready: str) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [*kdk_command(), *args, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                connection.request("GET", ready, headers=HEADERS)
                connection.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def measure(port: int, requests: int) -> tuple[float, float, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for path in PATHS:  # warm-up: the proxy loads its contract on the first request
        connection.request("GET", path, headers=HEADERS)
        connection.getresponse().read()
    latencies = []
    started = time.perf_counter()
    for i in range(requests):
        begin = time.perf_counter()
        connection.request("GET", PATHS[i % len(PATHS)], headers=HEADERS)
        response = connection.getresponse()
        response.read()
        assert response.status == 200, response.status
        latencies.append((time.perf_counter() - begin) * 1000)
    elapsed = time.perf_counter() - started
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1], requests / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--output", type=Path)
    options = parser.parse_args()
    rows = []
    scratch = Path(tempfile.mkdtemp(prefix="kdk-bench-proxy-"))
    try:
        # The example mode: its generated answers exist for any id (a new stateful account holds nothing).
        with server(["mock", "--stateless"], PATHS[0]) as mock_port:
            rows.append(("kdk mock directly", *measure(mock_port, options.requests)))
            upstream = ["proxy", "--upstream", f"http://127.0.0.1:{mock_port}", "--log", str(scratch / "drift.jsonl")]
            with server(upstream, PATHS[0]) as proxy_port:
                rows.append(("kdk proxy -> kdk mock", *measure(proxy_port, options.requests)))
            with server([*upstream, "--record", str(scratch / "cassettes")], PATHS[0]) as proxy_port:
                rows.append(("kdk proxy --record -> kdk mock", *measure(proxy_port, options.requests)))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    lines = [
        f"{options.requests} sequential GETs over one connection ({', '.join(PATHS)}); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
        "",
        "| path | p50 ms | p99 ms | req/s |",
        "| --- | --- | --- | --- |",
        *(f"| {name} | {p50:.1f} | {p99:.1f} | {rps:.0f} |" for name, p50, p99, rps in rows),
    ]
    table = "\n".join(lines)
    print(table)
    if options.output:
        options.output.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
