#!/usr/bin/env python3
"""Benchmark `kdk mock`: start-up to first answered request, single-worker GET throughput/p99 (wrk), RSS.

    uv run python scripts/bench_mock.py [--duration 10] [--connections 32] [--runs 5] [--output FILE]

Writes a Markdown table (stdout, and FILE if given). Needs `wrk` (Debian: apt-get install -y wrk) for the
throughput rows; Prism (`npx @stoplight/prism-cli`) is measured side by side only when npx can run it.
The machine's load average is printed with the results: on a shared 2-core box it dominates p99.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"Authorization": "Klaviyo-API-Key pk_bench", "revision": "2026-07-15"}
GET_PATH = "/api/profiles/01GMTZY2TEKN4KFRP30JZ59KGB"
GOALS = {"startup": 1.0, "rps": 2500.0, "p99_ms": 25.0, "rss_mb": 150.0}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def kdk_command() -> list[str]:
    venv_kdk = ROOT / ".venv" / "bin" / "kdk"
    return [str(venv_kdk)] if venv_kdk.exists() else ["uv", "run", "kdk"]


def get(port: int, path: str, headers: dict[str, str], timeout: float = 2.0) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def start(
    command: list[str], port: int, path: str, headers: dict[str, str], limit: float
) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server; return it and the seconds until `path` was first answered."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    while True:
        try:
            get(port, path, headers, timeout=1.0)
            return process, time.perf_counter() - started
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"{command[0]} exited with {process.returncode}") from None
            if time.perf_counter() - started > limit:
                process.kill()
                raise TimeoutError(f"{' '.join(command)} did not answer within {limit}s") from None
            time.sleep(0.005)


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far (robust to a loaded machine, unlike wall time)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def rss_mb(pid: int) -> float | None:
    """Peak resident set (VmHWM) of the server process and its children, in MB."""
    total = 0
    pids, queue = [], [pid]
    while queue:  # the process and all its descendants (npx -> node -> prism)
        one = queue.pop()
        pids.append(one)
        children = Path(f"/proc/{one}/task/{one}/children")
        if children.exists():
            queue += [int(p) for p in children.read_text().split()]
    for one in pids:
        status = Path(f"/proc/{one}/status")
        if not status.exists():
            continue
        match = re.search(r"VmHWM:\s+(\d+) kB", status.read_text())
        if match:
            total += int(match.group(1))
    return total / 1024 if total else None


def wrk(port: int, path: str, headers: dict[str, str], connections: int, duration: int) -> tuple[float, float]:
    """(requests/s, p99 ms) from wrk with one thread (the other core is the server's)."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*args, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"wrk saw errors:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    return rps, p99


def bench_kdk(args: argparse.Namespace) -> dict[str, str]:
    startups: list[float] = []
    cpu: list[float] = []
    for _ in range(args.runs):
        port = free_port()
        process, seconds = start(
            [*kdk_command(), "mock", "--stateless", "--port", str(port)], port, GET_PATH, HEADERS, 60
        )
        startups.append(seconds)
        cpu.append(cpu_seconds(process.pid))
        stop(process)
    row = {
        "server": "kdk mock (1 worker)",
        "startup": f"{statistics.median(startups):.2f} s (min {min(startups):.2f}; CPU {statistics.median(cpu):.2f} s)",
    }
    if shutil.which("wrk") is None:
        row.update(rps="wrk not installed", p99="-", rss="-")
        return row
    port = free_port()
    process, _ = start([*kdk_command(), "mock", "--stateless", "--port", str(port)], port, GET_PATH, HEADERS, 60)
    try:
        time.sleep(2.0)  # let the background Connexion build finish: measure the steady state
        wrk(port, GET_PATH, HEADERS, args.connections, 2)  # warm-up
        rps, p99 = wrk(port, GET_PATH, HEADERS, args.connections, args.duration)
        rss = rss_mb(process.pid)
    finally:
        stop(process)
    row.update(rps=f"{rps:,.0f}", p99=f"{p99:.1f} ms", rss=f"{rss:.0f} MB" if rss else "?")
    return row


def bench_prism(args: argparse.Namespace, spec: Path) -> dict[str, str] | None:
    if shutil.which("npx") is None:
        return None
    port = free_port()
    command = ["npx", "--yes", "@stoplight/prism-cli", "mock", "-p", str(port), str(spec)]
    try:
        process, seconds = start(command, port, GET_PATH, HEADERS, 240)
    except (RuntimeError, TimeoutError) as exc:
        print(f"prism: {exc}", file=sys.stderr)
        return None
    try:
        rps, p99 = wrk(port, GET_PATH, HEADERS, args.connections, args.duration) if shutil.which("wrk") else (0, 0)
        rss = rss_mb(process.pid)
    finally:
        stop(process)
    return {
        "server": "Prism (npx @stoplight/prism-cli)",
        "startup": f"{seconds:.2f} s",
        "rps": f"{rps:,.0f}",
        "p99": f"{p99:.1f} ms",
        "rss": f"{rss:.0f} MB" if rss else "?",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5, help="start-up runs (median reported)")
    parser.add_argument("--prism", action="store_true", help="also try Prism through npx (slow to install)")
    parser.add_argument("--output", type=Path, help="also write the table here")
    args = parser.parse_args()

    # Compile (or find cached) the pinned spec first, so start-up rows measure the cached path.
    from mock_server import default_spec_path, load_compiled

    compiled = load_compiled(default_spec_path())
    rows = [bench_kdk(args)]
    if args.prism:
        prism = bench_prism(args, compiled.patched_json)
        rows.append(
            prism or {"server": "Prism", "startup": "npx/prism unavailable", "rps": "-", "p99": "-", "rss": "-"}
        )

    load = os.getloadavg()
    lines = [
        f"GET {GET_PATH}, {args.connections} connections, {args.duration} s, wrk -t1; "
        f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
        "",
        "| server | start-up to first answer | GET req/s | p99 | peak RSS |",
        "|---|---|---|---|---|",
        *(f"| {r['server']} | {r['startup']} | {r['rps']} | {r['p99']} | {r['rss']} |" for r in rows),
        f"| goal | <= {GOALS['startup']:.0f} s | >= {GOALS['rps']:,.0f} | <= {GOALS['p99_ms']:.0f} ms "
        f"| <= {GOALS['rss_mb']:.0f} MB |",
    ]
    table = "\n".join(lines)
    print(table)
    if args.output:
        args.output.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
