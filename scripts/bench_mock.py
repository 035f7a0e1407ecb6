#!/usr/bin/env python3
"""Benchmark `kdk mock`: start-up to first answered request, single-worker GET throughput/p99 (wrk), RSS, and the
request path's figures (issue #12): single creates/s (one sequential client, a lean one and an http.client one;
and the server's throughput under wrk with a few connections) and bulk-imported profiles/s into the default
in-memory stateful mock, and stateless GET req/s against a bare ASGI app on the same uvicorn setup.

    uv run python scripts/bench_mock.py [--duration 10] [--connections 32] [--runs 5] [--output FILE]
        [--only startup|hotpath] [--baseline DIR] [--rounds 3] [--creates 2000] [--create-account 1k]
        [--bulk-profiles 20000]

Writes Markdown tables (stdout, and FILE if given). Needs `wrk` (Debian: apt-get install -y wrk) for the
throughput rows; Prism (`npx @stoplight/prism-cli`) is measured side by side only when npx can run it.
`--baseline DIR` (another checkout with its own `.venv`, e.g. `git worktree add DIR main`) is measured in the
same run, round after round interleaved with this one, so both see the same machine; each figure is the median
of `--rounds`. The machine's load average is printed with the results: on a shared 2-core box it dominates.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADERS = {"Authorization": "Klaviyo-API-Key pk_bench", "revision": "2026-07-15"}
GET_PATH = "/api/profiles/01GMTZY2TEKN4KFRP30JZ59KGB"
GOALS = {
    "startup": 1.0,
    "rps": 2500.0,
    "p99_ms": 25.0,
    "rss_mb": 150.0,
    "creates": 2000.0,
    "bare_share": 0.5,
    "bulk": 20000.0,
}
JSON_API = "application/vnd.api+json"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def kdk_command(root: Path = ROOT) -> list[str]:
    venv_kdk = root / ".venv" / "bin" / "kdk"
    return [str(venv_kdk)] if venv_kdk.exists() else ["uv", "run", "--project", str(root), "kdk"]


def python_command(root: Path = ROOT) -> list[str]:
    venv_python = root / ".venv" / "bin" / "python"
    return [str(venv_python)] if venv_python.exists() else ["uv", "run", "--project", str(root), "python"]


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
    command: list[str], port: int, path: str, headers: dict[str, str], limit: float, cwd: Path = ROOT
) -> tuple[subprocess.Popen[bytes], float]:
    """Start a server; return it and the seconds until `path` was first answered."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
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
    rps, p99, _ = wrk_run(port, path, headers, connections, duration)
    return rps, p99


def wrk_run(
    port: int, path: str, headers: dict[str, str], connections: int, duration: int, script: Path | None = None
) -> tuple[float, float, int]:
    """(requests/s, p99 ms, requests) from wrk with one thread (`script`: a wrk Lua script making the requests)."""
    args = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", *(["-s", str(script)] if script else [])]
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
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return rps, p99, requests


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


# -- the request path (issue #12): single creates, stateless GET vs a bare ASGI app ---------------------------------
# The bare app (scripts/_bare_asgi_app.py) runs under each checkout's own `uvicorn_kwargs` (its venv's python):
# the same protocol, loop and limits as that checkout's `kdk mock`.
BARE_APP = Path(__file__).resolve().with_name("_bare_asgi_app.py")


@dataclass
class Checkout:
    """A checkout of the project to measure (its own `.venv`): this one, or a `--baseline`."""

    label: str
    root: Path
    creates: list[float]
    create_cpu_ms: list[float]
    mock_rps: list[float]
    bare_rps: list[float]
    mock_cpu_us: list[float]  # the server's CPU per request under wrk: what the code costs, whatever the box's load
    bare_cpu_us: list[float]
    bulk: list[float] = field(default_factory=list)  # bulk-imported profiles/s
    wrk_creates: list[float] = field(default_factory=list)  # creates/s, `concurrent_creates` (server throughput)
    wrk_create_cpu_ms: list[float] = field(default_factory=list)
    bulk_cpu_rate: list[float] = field(default_factory=list)  # ... per second of the server's CPU
    lean_creates: list[float] = field(default_factory=list)  # creates/s, `single_creates(lean=True)`
    lean_create_cpu_ms: list[float] = field(default_factory=list)


def single_creates(port: int, pid: int, count: int, tag: str, *, lean: bool = False) -> tuple[float, float]:
    """(creates/s, server CPU ms per create): one client, one `POST /api/profiles` at a time on a kept-alive
    connection, the way `scripts/bench_state.py` measures it. The http.client client (default) encodes each body
    and parses each answer's headers and JSON on the clock: ~0.2 ms of its own CPU per create, as much as a
    quarter to a half of the round trip. `lean`: the same requests, built before the clock, written to a raw socket,
    each answer read whole (status line, headers, the body by its content-length) and its status checked; the
    round trip is then mostly the server's."""
    if lean:
        return _lean_creates(port, pid, count, tag)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.connect()
    # Without this, Nagle and delayed ACKs add ~40 ms to some requests: the figure would be the kernel's.
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    headers = {**HEADERS, "content-type": JSON_API}

    def create(i: int) -> None:
        body = {"data": {"type": "profile", "attributes": {"email": f"hp.{tag}.{i}@example.com"}}}
        connection.request("POST", "/api/profiles", body=json.dumps(body).encode(), headers=headers)
        response = connection.getresponse()
        answer = json.loads(response.read())
        if response.status != 201:
            raise RuntimeError(f"POST /api/profiles: {response.status} {json.dumps(answer)[:300]}")

    try:
        for i in range(min(200, count)):  # warm-up: validators, indexes and the journal reach their steady state
            create(-1 - i)
        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        for i in range(count):
            create(i)
        elapsed = time.perf_counter() - started
        return count / elapsed, (cpu_seconds(pid) - cpu_before) * 1000 / count
    finally:
        connection.close()


def create_request(port: int, email: str, key: str = "pk_bench") -> bytes:
    """The bytes of one `POST /api/profiles` creating a profile with `email` (what http.client sends, plus the
    JSON:API content type)."""
    body = json.dumps({"data": {"type": "profile", "attributes": {"email": email}}}).encode()
    head = (
        f"POST /api/profiles HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: identity\r\n"
        f"Content-Length: {len(body)}\r\nAuthorization: Klaviyo-API-Key {key}\r\nrevision: {HEADERS['revision']}\r\n"
        f"content-type: {JSON_API}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class LeanClient:
    """One kept-alive connection on a raw socket: sends prepared request bytes, reads each answer whole."""

    _LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)

    def __init__(self, port: int, timeout: float = 60) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = bytearray()

    def round_trip(self, request: bytes) -> tuple[int, bytes]:
        """(status, body) of the answer to `request`."""
        self.sock.sendall(request)
        buffer, recv = self._buffer, self.sock.recv
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            buffer += recv(65536) or _closed()
        head = bytes(buffer[: end + 2])
        found = self._LENGTH.search(head)
        total = end + 4 + (int(found.group(1)) if found else 0)
        while len(buffer) < total:
            buffer += recv(65536) or _closed()
        body = bytes(buffer[end + 4 : total])
        del buffer[:total]
        return int(head[9:12]), body

    def close(self) -> None:
        self.sock.close()


def _closed() -> bytes:
    raise ConnectionError("the server closed the connection")


def _lean_creates(port: int, pid: int, count: int, tag: str) -> tuple[float, float]:
    client = LeanClient(port)
    try:
        warm_up = [create_request(port, f"hl.{tag}.{-1 - i}@example.com") for i in range(min(200, count))]
        requests = [create_request(port, f"hl.{tag}.{i}@example.com") for i in range(count)]
        for request in warm_up:
            _check_created(*client.round_trip(request))
        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        for request in requests:
            status, body = client.round_trip(request)
            if status != 201:
                _check_created(status, body)
        elapsed = time.perf_counter() - started
        return count / elapsed, (cpu_seconds(pid) - cpu_before) * 1000 / count
    finally:
        client.close()


def _check_created(status: int, body: bytes) -> None:
    if status != 201:
        raise RuntimeError(f"POST /api/profiles: {status} {body[:300]!r}")


CREATE_CONNECTIONS = 4  # concurrent connections of the server-throughput create figure
# One `POST /api/profiles` per request, each with a new email (a counter after a prefix unique to the run).
_CREATE_SCRIPT = """
local n = 0
request = function()
  n = n + 1
  local body = '{"data":{"type":"profile","attributes":{"email":"%(prefix)s.' .. n .. '@example.com"}}}'
  return wrk.format("POST", "/api/profiles", %(headers)s, body)
end
"""


def concurrent_creates(
    port: int, pid: int, duration: int, tag: str, key: str = "pk_bench", connections: int = CREATE_CONNECTIONS
) -> tuple[float, float]:
    """(creates/s, server CPU ms per create) as the server's throughput: wrk (C, one thread) keeps `connections`
    kept-alive connections each sending `POST /api/profiles` with a new email for `duration` s, so the server
    never waits for a client between requests and the client's own CPU is small (unlike `single_creates`,
    whose Python client encodes and parses JSON on the clock). Needs wrk; a refused create fails the run."""
    headers = {**HEADERS, "Authorization": f"Klaviyo-API-Key {key}", "content-type": JSON_API}
    lua_headers = "{" + ", ".join(f'["{k}"] = "{v}"' for k, v in headers.items()) + "}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", prefix="kdk-creates-") as script:
        script.write(_CREATE_SCRIPT % {"prefix": f"wrk.{tag}", "headers": lua_headers})
        script.flush()
        cpu_before = cpu_seconds(pid)
        rps, _, requests = wrk_run(port, "/api/profiles", {}, connections, duration, Path(script.name))
        return rps, (cpu_seconds(pid) - cpu_before) * 1000 / max(requests, 1)


BULK_JOB = 10_000  # profiles per import job: Klaviyo's limit


def bulk_import(port: int, pid: int, profiles: int, tag: str, key: str = "pk_bench") -> tuple[float, float]:
    """(profiles/s, profiles per server CPU second): `profiles` new profiles through `POST
    /api/profile-bulk-import-jobs`, one job of up to 10,000 at a time, the way `scripts/bench_state.py` measures
    it (the bodies are built before the clock starts; the client encodes them on the clock)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    headers = {**HEADERS, "Authorization": f"Klaviyo-API-Key {key}", "content-type": JSON_API}

    def profile(i: int) -> dict[str, object]:  # bench_state's imported profile
        return {
            "type": "profile",
            "attributes": {
                "email": f"bulk.{tag}.{i}@example.com",
                "external_id": f"bulk-{tag}-{i}",
                "first_name": "Avery",
                "last_name": "Import",
                "location": {"city": "Boston", "region": "MA", "country": "United States", "zip": "02110"},
                "properties": {"source": "bulk import", "loyalty_tier": "Silver"},
            },
        }

    jobs = [
        {
            "data": {
                "type": "profile-bulk-import-job",
                "attributes": {
                    "profiles": {"data": [profile(i) for i in range(start, min(profiles, start + BULK_JOB))]}
                },
            }
        }
        for start in range(0, profiles, BULK_JOB)
    ]
    try:
        cpu_before, started = cpu_seconds(pid), time.perf_counter()
        for job in jobs:
            connection.request("POST", "/api/profile-bulk-import-jobs", body=json.dumps(job).encode(), headers=headers)
            response = connection.getresponse()
            answer = response.read()
            if response.status != 202:
                raise RuntimeError(f"POST /api/profile-bulk-import-jobs: {response.status} {answer[:300]!r}")
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(pid) - cpu_before
        return profiles / elapsed, profiles / cpu if cpu else float("nan")
    finally:
        connection.close()


def start_until(command: list[str], port: int, cwd: Path, limit: float = 600) -> subprocess.Popen[bytes]:
    """Start a server and wait for its answer to GET_PATH and then /ui/ (the background Connexion build)."""
    process, _ = start(command, port, GET_PATH, HEADERS, limit, cwd=cwd)
    try:
        deadline = time.perf_counter() + limit
        while "mock" in command and time.perf_counter() < deadline:
            try:
                if get(port, "/ui/", {}, timeout=limit) == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
    except BaseException:  # stopped meanwhile: leave no server behind
        stop(process)
        raise
    return process


def _create_round(checkout: Checkout, args: argparse.Namespace, round_number: int) -> None:
    kdk = kdk_command(checkout.root)
    port = free_port()
    account = ["--demo-data", args.create_account, "--demo-account", "api_key:pk_bench"]
    mock = start_until(
        [*kdk, "mock", "--port", str(port), *(account if args.create_account != "empty" else [])], port, checkout.root
    )
    try:
        if args.creates > 0:
            # Both clients on the same server, the lean one first in every other round (neither always meets the
            # larger account).
            tag = f"{os.getpid()}.{round_number}"
            for lean in (True, False) if round_number % 2 == 0 else (False, True):
                rate, cpu = single_creates(port, mock.pid, args.creates, tag, lean=lean)
                (checkout.lean_creates if lean else checkout.creates).append(rate)
                (checkout.lean_create_cpu_ms if lean else checkout.create_cpu_ms).append(cpu)
            if shutil.which("wrk") is not None:
                rate, cpu = concurrent_creates(port, mock.pid, args.hotpath_duration, f"{os.getpid()}.{round_number}")
                checkout.wrk_creates.append(rate)
                checkout.wrk_create_cpu_ms.append(cpu)
        if args.bulk_profiles > 0:  # after the creates: the account's indexes are in use, as in bench_state
            rate, per_cpu = bulk_import(port, mock.pid, args.bulk_profiles, f"{os.getpid()}.{round_number}")
            checkout.bulk.append(rate)
            checkout.bulk_cpu_rate.append(per_cpu)
    finally:
        stop(mock)


def hotpath_round(checkout: Checkout, args: argparse.Namespace, round_number: int) -> None:
    """One measurement of each figure for `checkout`, appended to its lists (fresh servers every round)."""
    if args.creates > 0 or args.bulk_profiles > 0:
        _create_round(checkout, args, round_number)
    if shutil.which("wrk") is None:
        return
    for kind, (rps, cpu_us) in stateless_and_bare(checkout.root, args.connections, args.hotpath_duration).items():
        (checkout.mock_rps if kind == "stateless" else checkout.bare_rps).append(rps)
        (checkout.mock_cpu_us if kind == "stateless" else checkout.bare_cpu_us).append(cpu_us)


def stateless_and_bare(root: Path, connections: int, duration: int) -> dict[str, tuple[float, float]]:
    """{"stateless" | "bare": (req/s, server CPU us per request)}: GET_PATH under wrk against `kdk mock
    --stateless` of the checkout at `root`, then against the bare ASGI app under the same uvicorn setup."""
    out: dict[str, tuple[float, float]] = {}
    for kind in ("stateless", "bare"):
        port = free_port()
        command = (
            [*kdk_command(root), "mock", "--stateless", "--port", str(port)]
            if kind == "stateless"
            else [*python_command(root), str(BARE_APP), str(port)]
        )
        server = start_until(command, port, root)
        try:
            wrk(port, GET_PATH, HEADERS, connections, 1)  # warm-up
            cpu_before = cpu_seconds(server.pid)
            rps, _, requests = wrk_run(port, GET_PATH, HEADERS, connections, duration)
            out[kind] = rps, (cpu_seconds(server.pid) - cpu_before) * 1e6 / max(requests, 1)
        finally:
            stop(server)
    return out


def hotpath_table(checkouts: list[Checkout], args: argparse.Namespace, load_before: tuple[float, ...]) -> str:
    def median(values: list[float], fmt: str) -> str:
        return format(statistics.median(values), fmt) if values else "-"

    def spread(values: list[float]) -> str:
        return f" ({min(values):,.0f}-{max(values):,.0f})" if len(values) > 1 else ""

    load = os.getloadavg()
    account = "an empty account" if args.create_account == "empty" else f"a `--demo-data {args.create_account}` account"
    lines = [
        f"Request path, {args.rounds} round(s) per checkout, interleaved, median (min-max); "
        f"{os.cpu_count()} CPUs, load average {load_before[0]:.2f} before, {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "after.",
        f"Single creates: {args.creates} sequential `POST /api/profiles` on one kept-alive connection into "
        f"`kdk mock` (in-memory state) with {account}, by one client on the clock: a lean one (requests built "
        "before the clock, a raw socket, each answer read whole and its status checked) and the http.client one "
        "(encodes each body, parses each answer's headers and JSON), both on the same server; then the "
        f"server's create throughput: wrk -t1 -c{CREATE_CONNECTIONS} {args.hotpath_duration} s, each request a new "
        f"email. GET: `{GET_PATH}`, wrk -t1 -c{args.connections} "
        f"{args.hotpath_duration} s, `kdk mock --stateless` and a bare ASGI app under the same `uvicorn_kwargs`. "
        f"Bulk import: {args.bulk_profiles:,} profiles through `POST /api/profile-bulk-import-jobs` (jobs of "
        f"{BULK_JOB:,}) into the same account after the creates.",
        "",
        "| checkout | single creates/s, lean client | server CPU per create | single creates/s, http.client client "
        "| server CPU per create | creates/s, server throughput (wrk "
        f"-c{CREATE_CONNECTIONS}) | server CPU per create (wrk) | stateless GET req/s | bare ASGI req/s "
        "| stateless / bare | server CPU per GET: stateless, bare (bare / stateless) | bulk import profiles/s "
        "| bulk import profiles per CPU s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in checkouts:
        ratios = [m / b for m, b in zip(c.mock_rps, c.bare_rps, strict=True)]
        cpu_ratios = [b / m for m, b in zip(c.mock_cpu_us, c.bare_cpu_us, strict=True)]
        lines.append(
            f"| {c.label} | {median(c.lean_creates, ',.0f')}{spread(c.lean_creates)} "
            f"| {median(c.lean_create_cpu_ms, '.2f')} ms "
            f"| {median(c.creates, ',.0f')}{spread(c.creates)} | {median(c.create_cpu_ms, '.2f')} ms "
            f"| {median(c.wrk_creates, ',.0f')}{spread(c.wrk_creates)} | {median(c.wrk_create_cpu_ms, '.2f')} ms "
            f"| {median(c.mock_rps, ',.0f')}{spread(c.mock_rps)} | {median(c.bare_rps, ',.0f')}{spread(c.bare_rps)} "
            f"| {median(ratios, '.0%')} | {median(c.mock_cpu_us, '.0f')} us, {median(c.bare_cpu_us, '.0f')} us "
            f"({median(cpu_ratios, '.0%')}) | {median(c.bulk, ',.0f')}{spread(c.bulk)} "
            f"| {median(c.bulk_cpu_rate, ',.0f')}{spread(c.bulk_cpu_rate)} |"
        )
    lines.append(
        f"| goal | >= {GOALS['creates']:,.0f} | | >= {GOALS['creates']:,.0f} | | >= {GOALS['creates']:,.0f} | | | "
        f"| >= {GOALS['bare_share']:.0%} | "
        f"| >= {GOALS['bulk']:,.0f} | |"
    )
    if len(checkouts) == 2:
        this, base = checkouts

        def times(mine: list[float], theirs: list[float]) -> str:
            return f"{statistics.median(mine) / statistics.median(theirs):.2f}x" if mine and theirs else "-"

        lines.append(
            f"| {this.label} / {base.label} | {times(this.lean_creates, base.lean_creates)} "
            f"| {times(this.lean_create_cpu_ms, base.lean_create_cpu_ms)} | {times(this.creates, base.creates)} "
            f"| {times(this.create_cpu_ms, base.create_cpu_ms)} | {times(this.wrk_creates, base.wrk_creates)} "
            f"| {times(this.wrk_create_cpu_ms, base.wrk_create_cpu_ms)} | {times(this.mock_rps, base.mock_rps)} | | "
            f"| {times(this.mock_cpu_us, base.mock_cpu_us)} | {times(this.bulk, base.bulk)} "
            f"| {times(this.bulk_cpu_rate, base.bulk_cpu_rate)} |"
        )
    return "\n".join(lines)


def bench_hotpath(args: argparse.Namespace) -> str:
    checkouts = [Checkout(f"this ({ROOT.name})", ROOT, [], [], [], [], [], [])]
    if args.baseline:
        checkouts.append(
            Checkout(f"baseline ({args.baseline.resolve().name})", args.baseline.resolve(), [], [], [], [], [], [])
        )
    load_before = os.getloadavg()
    for round_number in range(args.rounds):
        # Alternate which checkout goes first, so neither always meets the machine in the same state.
        order = checkouts if round_number % 2 == 0 else list(reversed(checkouts))
        for checkout in order:
            print(f"bench_mock: round {round_number + 1}/{args.rounds}: {checkout.label}", file=sys.stderr, flush=True)
            hotpath_round(checkout, args, round_number)
    return hotpath_table(checkouts, args, load_before)


def startup_table(args: argparse.Namespace) -> str:
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
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="wrk seconds per measurement")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5, help="start-up runs (median reported)")
    parser.add_argument("--prism", action="store_true", help="also try Prism through npx (slow to install)")
    parser.add_argument("--only", choices=("startup", "hotpath"), help="one table only (default: both)")
    parser.add_argument("--baseline", type=Path, help="another checkout (with its .venv) measured side by side")
    parser.add_argument("--rounds", type=int, default=3, help="request-path rounds per checkout (median reported)")
    parser.add_argument("--creates", type=int, default=2000, help="timed creates per round (0: no create figure)")
    parser.add_argument("--create-account", default="1k", help="demo size of the create account, or 'empty'")
    parser.add_argument(
        "--bulk-profiles", type=int, default=20_000, help="profiles bulk imported per round (0: no bulk figure)"
    )
    parser.add_argument("--hotpath-duration", type=int, default=5, help="wrk seconds per request-path GET figure")
    parser.add_argument("--output", type=Path, help="also write the tables here")
    args = parser.parse_args()

    tables = []
    if args.only in (None, "startup"):
        tables.append(startup_table(args))
    if args.only in (None, "hotpath"):
        tables.append(bench_hotpath(args))
    text = "\n\n".join(tables)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
