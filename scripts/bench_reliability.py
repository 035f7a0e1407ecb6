#!/usr/bin/env python3
"""Reliability of a real `kdk mock` process: fuzzing over HTTP, hostile HTTP, kill -9, bad specs.

    uv run python scripts/bench_reliability.py [--state memory] [--stateless] [--state sqlite:PATH]
        [--state postgresql://...] [--requests 10000] [--only fuzz,hostile,durability,spec] [--output FILE]

Each check writes one row: check, requests, 5xx, crashes (the mock process died), hangs (a request got no
answer within its timeout, or the mock stopped answering), result, notes. The table, with the date, the
machine and its load, goes to stdout and to FILE (default docs/reliability.md).

- fuzz: schemathesis against the running mock over HTTP, every operation, every phase (examples, coverage,
  fuzzing, stateful) and every check, with enough examples per operation for `--requests` requests; one row
  per state (default: in memory; `--stateless`, `--state sqlite:PATH`, `--state postgresql://...`).
- hostile: the cases of mock_server/tests/_hostile.py plus slowloris, 64 KB headers and 10/100 MB bodies,
  each followed by a normal request; times and RSS are measured here, never asserted in tests.
- durability: kill -9 during concurrent creates (SQLite, one and two workers), restart, check every 201.
- spec: the spec pipeline under bad input (scripts/tests/spec/test_bad_input.py + test_fetch_faults.py).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import itertools
import json
import math
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mock_server.tests._hostile import (  # noqa: E402
    FILTER_ABUSE,
    HOSTILE_BODIES,
    MALFORMED_HTTP,
    ODD_BYTES,
    PAGE_SIZES,
)
from mock_server.tests._served import Served, raw_exchange, read_answer, start_mock  # noqa: E402

KEY = "pk_bench_reliability_000000000000"
CHECKS = ("fuzz", "hostile", "soak", "durability", "spec")
FILTER_BUDGET_MS = 100.0


@dataclass
class Row:
    check: str
    requests: int
    server_errors: int
    crashes: int
    hangs: int
    result: str
    notes: str

    def cells(self, run: int) -> list[str]:
        values = (self.check, f"{self.requests:,}", self.server_errors, self.crashes, self.hangs, self.result, run)
        # a cell never holds the table's separator
        return [*(str(v) for v in values), self.notes.replace(" | ", " / ").replace("|", "/")]

    def markdown(self) -> str:
        return "| " + " | ".join(self.cells(0)) + " |"


# --- helpers ------------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` and its children (uvicorn workers), MB."""
    total = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for one in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) / 1024
    return total


def answers(served: Served, timeout: float = 10) -> bool:
    try:
        return served.request("GET", "/api/profiles", timeout=timeout).status_code == 200
    except Exception:
        return False


@contextlib.contextmanager
def mock(args: list[str]) -> Iterator[Served]:
    served = start_mock(args, KEY)
    try:
        yield served
    finally:
        served.stop()


def state_args(state: str) -> list[str]:
    return ["--stateless"] if state == "stateless" else ["--state", state]


def state_label(state: str) -> str:
    return "stateless" if state == "stateless" else state.split(":", 1)[0]


# --- fuzzing over HTTP --------------------------------------------------------------------------------


PHASES = ("examples", "coverage", "fuzzing", "stateful")


def bench_fuzz(state: str, budget: int, seed: int, minutes: float, stop: threading.Event) -> Row:
    """schemathesis over HTTP, every phase, about `budget` requests; a row even when cut short.

    The coverage phase alone sends ~200 requests per operation (boundary and negative mutations of every
    parameter and body member), so left whole it is ~80k requests and ~1 h here. To spend the budget across
    every phase and every operation, coverage cases beyond a quota per operation and generation mode
    (positive, negative) are not sent; the other phases are bounded by the spec's examples,
    `max_examples` and the stateful step limit; still short of the budget after every phase, more fuzzing passes
    (fresh seeds) follow, and the run ends as soon as it is reached. At `minutes` (or on SIGTERM / Ctrl-C,
    which set `stop`) the run ends after the current scenario and the row says how far it got ("partial").
    """
    from contract_tests import ContractOptions, run_contract
    from kdk.spec import iter_operations, load_pinned_spec

    spec = load_pinned_spec()
    operations = sum(1 for _ in iter_operations(spec))
    # About a third of the budget each for coverage (positive and negative cases) and fuzzing (~1 request per
    # example), the rest for the examples and stateful phases; short of the budget, more fuzzing passes follow.
    coverage_quota = max(2, math.ceil(budget / 3 / operations / 2))
    max_examples = max(3, math.ceil(budget / 3 / operations))
    coverage_sent: dict[tuple[str, str], int] = {}
    quota_lock = threading.Lock()

    def within_quota(case: Any) -> bool:
        meta = getattr(case, "meta", None)
        phase = getattr(getattr(meta, "phase", None), "name", None)
        if str(phase) != "coverage":
            return True
        mode = getattr(getattr(meta, "generation", None), "mode", "")
        key = (f"{case.operation.method} {case.operation.path}", str(mode))
        with quota_lock:
            coverage_sent[key] = coverage_sent.get(key, 0) + 1
            return coverage_sent[key] <= coverage_quota

    tally = {"requests": 0, "5xx": 0, "no_answer": 0}
    per_phase: dict[str, int] = dict.fromkeys(PHASES, 0)
    operations_per_phase: dict[str, set[str]] = {phase: set() for phase in PHASES}
    slowest = [0.0]
    shown = [0]
    started = time.perf_counter()
    run_stop = threading.Event()  # this run's end: the deadline, or `stop` (a signal) passed on below
    deadline = threading.Timer(minutes * 60, run_stop.set)
    deadline.daemon = True

    topping_up = threading.Event()  # every phase has run: the run ends as soon as the budget is reached
    reached = threading.Event()

    def on_event(event: Any) -> None:
        if stop.is_set():
            run_stop.set()
        if topping_up.is_set() and tally["requests"] >= budget:
            reached.set()
            run_stop.set()
        if type(event).__name__ != "ScenarioFinished":
            return
        phase = str(getattr(event.phase, "value", event.phase)).lower()
        phase = next((p for p in PHASES if p in phase), phase)
        for interaction in event.recorder.interactions.values():
            tally["requests"] += 1
            per_phase[phase] = per_phase.get(phase, 0) + 1
            if phase != "stateful":
                operations_per_phase.setdefault(phase, set()).add(event.recorder.label)
            response = interaction.response
            if response is None:
                tally["no_answer"] += 1
                continue
            if response.status_code >= 500:
                tally["5xx"] += 1
            slowest[0] = max(slowest[0], float(getattr(response, "elapsed", 0.0) or 0.0))
        if tally["requests"] // 1000 > shown[0]:  # progress on stderr: a run cut short still says how far it got
            shown[0] = tally["requests"] // 1000
            print(
                f"fuzz {state_label(state)}: {tally['requests']:,} requests ({phase}), {tally['5xx']} 5xx, "
                f"{tally['no_answer']} unanswered, {(time.perf_counter() - started) / 60:.1f} min, "
                f"last {event.recorder.label}",
                file=sys.stderr,
                flush=True,
            )

    result: Any = None
    crashed = alive = False
    rounds = 0
    with mock(state_args(state)) as served:
        options = ContractOptions(
            target=served.base_url, profile="full", max_examples=max_examples, seed=seed, api_key=KEY
        )
        options.on_event = on_event
        options.case_filter = within_quota
        options.stop = run_stop
        deadline.start()
        try:
            result = run_contract(options)
            # Below the budget after every phase: more fuzzing (examples and fuzzing phases, a fresh seed)
            # until it is reached.
            topping_up.set()
            while tally["requests"] < budget and not run_stop.is_set() and served.process.poll() is None:
                rounds += 1
                extra = math.ceil((budget - tally["requests"]) / operations) + 1
                more = ContractOptions(
                    target=served.base_url, profile="smoke", max_examples=extra, seed=seed + rounds, api_key=KEY
                )
                more.on_event, more.stop = on_event, run_stop
                again = run_contract(more)
                result.failures.extend(again.failures)
                result.errors.extend(again.errors)
        finally:
            deadline.cancel()
        crashed = served.process.poll() is not None
        alive = not crashed and answers(served)
    elapsed = time.perf_counter() - started
    cut = run_stop.is_set() and not reached.is_set()  # by the deadline or a signal, not by the budget
    timeouts = sum(1 for e in result.errors if "timeout" in e.lower() or "timed out" in e.lower())
    hangs = timeouts + (0 if alive or crashed else 1)
    failures = len(result.failures)
    held = tally["5xx"] == 0 and not crashed and hangs == 0
    every_phase = all(per_phase.get(phase, 0) > 0 for phase in PHASES)
    ok = held and tally["requests"] >= budget and every_phase
    phases = ", ".join(
        f"{phase} {per_phase.get(phase, 0):,}"
        + (f" ({len(operations_per_phase[phase])} ops)" if phase != "stateful" else "")
        for phase in PHASES
    )
    notes = (
        f"{len(result.tested_operations)}/{operations} operations, every check; requests per phase: {phases}; "
        f"coverage {coverage_quota} cases per operation and mode, {max_examples} fuzzing examples/op, "
        f"{rounds} more fuzzing pass(es) to reach the budget; "
        f"{elapsed / 60:.1f} min, slowest answer {slowest[0]:.2f} s; {failures} check failure(s), "
        f"{len(result.errors)} error(s)"
    )
    if reached.is_set():
        notes = f"ended at the budget of {budget:,} requests, every phase done; " + notes
    elif cut:
        notes = f"stopped after {elapsed / 60:.1f} min (deadline --fuzz-minutes {minutes:g} or a signal); " + notes
    if failures:
        notes += ": " + "; ".join(sorted({f"{f.operation} {f.check}" for f in result.failures})[:5])
    return Row(
        f"schemathesis over HTTP, {state_label(state)}",
        tally["requests"],
        tally["5xx"],
        int(crashed),
        hangs,
        "pass" if ok else ("partial" if held and (cut or not every_phase) else "FAIL"),
        notes,
    )


# --- hostile HTTP -------------------------------------------------------------------------------------


def _head(served: Served, target: str = "/api/profiles") -> bytes:
    return (
        f"GET {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Klaviyo-API-Key {KEY}\r\n"
        f"revision: {served.revision}\r\nAccept: application/vnd.api+json\r\n"
    ).encode("latin-1")


def _post_head(served: Served, extra: str) -> bytes:
    return (
        f"POST /api/profiles HTTP/1.1\r\nHost: x\r\nAuthorization: Klaviyo-API-Key {KEY}\r\n"
        f"revision: {served.revision}\r\nContent-Type: application/vnd.api+json\r\n{extra}\r\n"
    ).encode()


def _timed(call: Callable[[], int]) -> tuple[int, float]:
    started = time.perf_counter()
    try:
        status = call()
    except OSError:
        status = -1  # no answer (timeout or reset)
    return status, (time.perf_counter() - started) * 1000


def bench_hostile(state: str) -> list[Row]:
    rows: list[Row] = []
    args = [*state_args(state), "--header-timeout", "5"]
    with mock(args) as served:
        pid = served.process.pid

        def row(name: str, statuses: list[int], ok: bool, notes: str) -> None:
            followed = answers(served)
            crashed = served.process.poll() is not None
            hangs = sum(1 for s in statuses if s == -1) + (0 if followed or crashed else 1)
            server_errors = sum(1 for s in statuses if s >= 500)
            good = ok and followed and not crashed and server_errors == 0
            rows.append(
                Row(name, len(statuses) + 1, server_errors, int(crashed), hangs, "pass" if good else "FAIL", notes)
            )

        # slowloris: many half-open connections, then a normal client
        sockets: list[socket.socket] = []
        try:
            for _ in range(1000):
                sock = socket.create_connection(served.address, timeout=10)
                sock.sendall(b"GET /api/profiles HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                sockets.append(sock)
            status, ms = _timed(lambda: served.request("GET", "/api/profiles").status_code)
            time.sleep(5.5)
            late, _ = read_answer(sockets[0])
        finally:
            for sock in sockets:
                sock.close()
        row(
            "slowloris: 1,000 half-open connections",
            [status, *([late] * len(sockets))],
            status == 200,
            f"a normal GET meanwhile: {status} in {ms:.0f} ms; the half-open ones answered {late or 'closed'} "
            "after --header-timeout 5 s",
        )

        status, ms = _timed(lambda: raw_exchange(served, _head(served) + b"X-Big: " + b"a" * 65536 + b"\r\n\r\n")[0])
        row("64 KB of headers", [status], status == 431, f"{status} in {ms:.0f} ms")

        for size in (10, 100):
            before = rss_mb(pid)

            def big(size: int = size) -> int:
                with socket.create_connection(served.address, timeout=30) as sock:
                    sock.sendall(_post_head(served, f"Content-Length: {size * 1024 * 1024}\r\n"))
                    with contextlib.suppress(OSError):
                        for _ in range(size * 16):  # the whole body, 64 KB at a time, until the server closes
                            sock.sendall(b"a" * 65536)
                    return read_answer(sock)[0]

            status, ms = _timed(big)
            after = rss_mb(pid)
            row(
                f"{size} MB body",
                [status],
                status == 413,
                f"{status} in {ms:.0f} ms; RSS {before:.0f} -> {after:.0f} MB",
            )

        statuses = [raw_exchange(served, raw)[0] for raw in MALFORMED_HTTP.values()]
        row(
            f"malformed HTTP ({len(statuses)} kinds)",
            statuses,
            all(s == 0 or 400 <= s < 500 for s in statuses),
            ", ".join(f"{k}: {s or 'closed'}" for k, s in zip(MALFORMED_HTTP, statuses, strict=True)),
        )

        statuses = []
        for target, extra in ODD_BYTES.values():
            raw = _head(served, target) + extra + b"\r\n"
            statuses.append(raw_exchange(served, raw)[0])
        row(
            "NUL and non-UTF-8 bytes in path, query, headers",
            statuses,
            all(s < 500 for s in statuses),
            ", ".join(f"{k}: {s or 'closed'}" for k, s in zip(ODD_BYTES, statuses, strict=True)),
        )

        headers = {"Content-Type": "application/vnd.api+json"}
        for name, body in HOSTILE_BODIES.items():
            status, ms = _timed(
                lambda body=body: served.request("POST", "/api/profiles", content=body, headers=headers).status_code
            )
            row(f"JSON body: {name} ({len(body) / 1e6:.1f} MB)", [status], 0 < status < 500, f"{status} in {ms:.0f} ms")

        statuses = [served.request("GET", "/api/profiles", params={"page[size]": s}).status_code for s in PAGE_SIZES]
        row(
            "absurd page[size]",
            statuses,
            all(s == 400 for s in statuses),
            ", ".join(f"{k}: {s}" for k, s in zip(PAGE_SIZES, statuses, strict=True)),
        )

        # Filter abuse over a few hundred stored profiles (stateful states): within 100 ms or a 400.
        if state != "stateless":
            with ThreadPoolExecutor(8) as pool:
                list(
                    pool.map(
                        lambda i: served.request(
                            "POST",
                            "/api/profiles",
                            json={"data": {"type": "profile", "attributes": {"email": f"f{i}@bench.example.com"}}},
                            headers={"Content-Type": "application/vnd.api+json"},
                        ),
                        range(300),
                    )
                )

        def best_of_3(params: dict[str, str]) -> tuple[int, float]:
            # the fastest of three: on a shared machine one sample measures the neighbours as much as the mock
            runs = [_timed(lambda: served.request("GET", "/api/profiles", params=params).status_code) for _ in range(3)]
            return runs[0][0], min(ms for _, ms in runs)

        _, baseline = best_of_3({"filter": "equals(email,'f1@bench.example.com')"})
        results = [(name, *best_of_3({"filter": expression})) for name, expression in FILTER_ABUSE.items()]
        within = all(s == 400 or (s == 200 and ms <= FILTER_BUDGET_MS) for _, s, ms in results)
        row(
            f"filter abuse ({len(results)} kinds, 3 times each)",
            [s for _, s, _ in results for _ in range(3)],
            within,
            ", ".join(f"{n}: {s} in {ms:.0f} ms" for n, s, ms in results)
            + f" (a plain filter: {baseline:.0f} ms; fastest of 3 each; load average {_load()})",
        )
    return rows


# --- soak ---------------------------------------------------------------------------------------------

SOAK_CONNECTIONS = 64
SOAK_POOL = 400  # profiles the load reads, updates and re-creates (409): the stored data stays the same size
SOAK_LISTS = 10
SOAK_EVENTS = 2000  # the events the writes post again (a repeated unique_id records nothing)
SOAK_GROWTH_BUDGET = 0.10  # RSS growth allowed from the end of the warm-up to the end of both phases

_SOAK_LUA_COMMON = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  ok, expected, bad, bad_codes = 0, 0, 0, ""
  pending = {}
  math.randomseed(os.time() * 1000 + math.floor(os.clock() * 1e6))
end
local headers = {["Authorization"] = "Klaviyo-API-Key " .. KEY, ["revision"] = REVISION,
  ["Accept"] = "application/vnd.api+json", ["Content-Type"] = "application/vnd.api+json"}
local function pick(items) return items[math.random(#items)] end
local function send(method, path, body) return wrk.format(method, path, headers, body) end
function response(status, hdrs, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
    if status == 201 and body then  -- a list this thread created: its delete is the next request
      local id = body:match('"id"%s*:%s*"([^"]+)"')
      if id then table.insert(pending, id) end
    end
  elseif status == EXPECTED then
    expected = expected + 1
  else
    bad = bad + 1
    if #bad_codes < 200 then bad_codes = bad_codes .. status .. " " end
  end
end
function done(summary, latency, requests)
  local s = {ok = 0, expected = 0, bad = 0}
  local codes = ""
  for _, thread in ipairs(threads) do
    s.ok = s.ok + thread:get("ok")
    s.expected = s.expected + thread:get("expected")
    s.bad = s.bad + thread:get("bad")
    codes = codes .. thread:get("bad_codes")
  end
  local e = summary.errors
  io.write(string.format(
    'SOAK {"requests": %d, "seconds": %.3f, "ok": %d, "expected": %d, "bad": %d, "bad_codes": "%s", ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d, "p50_ms": %.1f, "p99_ms": %.1f, "max_ms": %.1f}\n',
    summary.requests, summary.duration / 1e6, s.ok, s.expected, s.bad, codes, e.connect, e.read, e.write,
    e.timeout, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
"""

# Reads of a collection, by id and by filter, and creates: profile creates reuse the pool's emails (409,
# the expected 4xx), list creates are deleted by the next request of the same thread (201, 204).
_SOAK_LUA_MIXED = r"""
EXPECTED = 409
function request()
  local id = table.remove(pending)
  if id then return send("DELETE", "/api/lists/" .. id) end
  local r = math.random(100)
  if r <= 25 then return send("GET", "/api/profiles?page%5Bsize%5D=20")
  elseif r <= 45 then return send("GET", "/api/profiles/" .. pick(PROFILE_IDS))
  elseif r <= 60 then return send("GET", "/api/profiles?filter=" .. pick(EMAIL_FILTERS))
  elseif r <= 70 then return send("GET", "/api/lists")
  elseif r <= 80 then return send("GET", "/api/lists/" .. pick(LIST_IDS))
  elseif r <= 90 then
    return send("POST", "/api/profiles", '{"data":{"type":"profile","attributes":{"email":"' .. pick(EMAILS) .. '"}}}')
  else
    return send("POST", "/api/lists", '{"data":{"type":"list","attributes":{"name":"soak"}}}')
  end
end
"""

# Writes only: upserts and updates of the pool's profiles, events (2,000 at most: a repeated unique_id for the
# same profile and metric records nothing), subscriptions and list additions.
_SOAK_LUA_WRITES = r"""
EXPECTED = -1
function request()
  local r = math.random(100)
  local email = pick(EMAILS)
  if r <= 25 then
    return send("POST", "/api/profile-import", '{"data":{"type":"profile","attributes":{"email":"' .. email ..
      '","first_name":"n' .. math.random(1000) .. '"}}}')
  elseif r <= 45 then
    local id = pick(PROFILE_IDS)
    return send("PATCH", "/api/profiles/" .. id, '{"data":{"type":"profile","id":"' .. id ..
      '","attributes":{"last_name":"l' .. math.random(1000) .. '","properties":{"n":' .. math.random(1000) .. '}}}}')
  elseif r <= 70 then
    -- one of 2,000 events (profile, metric and unique_id follow from k): a repeat records nothing
    local k = math.random(EVENTS)
    return send("POST", "/api/events", '{"data":{"type":"event","attributes":{"properties":{"v":1},' ..
      '"unique_id":"u' .. k .. '","metric":{"data":{"type":"metric","attributes":{"name":"Soak ' .. (k % 5) ..
      '"}}},"profile":{"data":{"type":"profile","attributes":{"email":"' .. EMAILS[(k % #EMAILS) + 1] ..
      '"}}}}}}')
  elseif r <= 85 then
    return send("POST", "/api/profile-subscription-bulk-create-jobs",
      '{"data":{"type":"profile-subscription-bulk-create-job","attributes":{"profiles":{"data":[{"type":"profile",' ..
      '"attributes":{"email":"' .. email .. '","subscriptions":{"email":{"marketing":' ..
      '{"consent":"SUBSCRIBED"}}}}}]}},' ..
      '"relationships":{"list":{"data":{"type":"list","id":"' .. pick(LIST_IDS) .. '"}}}}}')
  else
    return send("POST", "/api/lists/" .. pick(LIST_IDS) .. "/relationships/profiles",
      '{"data":[{"type":"profile","id":"' .. pick(PROFILE_IDS) .. '"}]}')
  end
end
"""


def _lua_strings(values: list[str]) -> str:
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


def _wrk(served: Served, script: str, seconds: int, folder: Path) -> dict[str, Any]:
    """Run wrk (64 connections, one thread per core) with `script`; its SOAK summary line, parsed."""
    path = folder / "soak.lua"
    path.write_text(script, encoding="utf-8")
    command = [
        "wrk",
        f"-t{min(4, os.cpu_count() or 2)}",
        f"-c{SOAK_CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",  # an answer later than this counts as a hang (on a loaded shared machine answers wait)
        "30s",
        "-s",
        str(path),
        served.base_url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 120)
    line = next((x for x in done.stdout.splitlines() if x.startswith("SOAK ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no summary (exit {done.returncode}): {done.stdout[-500:]} {done.stderr[-500:]}")
    summary: dict[str, Any] = json.loads(line.removeprefix("SOAK "))
    return summary


def bench_soak(state: str, seconds: int) -> list[Row]:
    """wrk against one long-running mock: mixed reads and creates, then concurrent writes, `seconds` each, after a
    warm-up of both. Errors: any answer but a 2xx (or a 409 for a create of a pool email), and socket errors.
    RSS of the mock from the end of the warm-up to the end: the pool keeps the stored data the same size, so
    growth is what the mock keeps per request (journal, caches, indexes of deleted records...)."""
    if shutil.which("wrk") is None:
        return [Row("soak (wrk)", 0, 0, 0, 0, "FAIL", "wrk is not installed (apt-get install wrk)")]
    rows: list[Row] = []
    with mock(state_args(state)) as served, tempfile.TemporaryDirectory(prefix="kdk-soak-") as tmp:
        pid = served.process.pid
        folder = Path(tmp)
        headers = {"Content-Type": "application/vnd.api+json"}
        emails = [f"soak{i}@soak.example.com" for i in range(SOAK_POOL)]

        def create(path: str, body: dict[str, Any]) -> str:
            answer = served.request("POST", path, json=body, headers=headers)
            answer.raise_for_status()
            return str(answer.json()["data"]["id"])

        with ThreadPoolExecutor(8) as pool:
            profile_ids = list(
                pool.map(
                    lambda e: create("/api/profiles", {"data": {"type": "profile", "attributes": {"email": e}}}),
                    emails,
                )
            )
            list_ids = list(
                pool.map(
                    lambda i: create("/api/lists", {"data": {"type": "list", "attributes": {"name": f"soak {i}"}}}),
                    range(SOAK_LISTS),
                )
            )
        with ThreadPoolExecutor(8) as pool:  # every event the writes draw from exists before the measurement

            def event(k: int) -> None:
                attributes = {
                    "properties": {"v": 1},
                    "unique_id": f"u{k}",
                    "metric": {"data": {"type": "metric", "attributes": {"name": f"Soak {k % 5}"}}},
                    "profile": {"data": {"type": "profile", "attributes": {"email": emails[k % len(emails)]}}},
                }
                served.request(
                    "POST", "/api/events", json={"data": {"type": "event", "attributes": attributes}}, headers=headers
                ).raise_for_status()

            list(pool.map(event, range(1, SOAK_EVENTS + 1)))
        encoded = [urllib.parse.quote(f'equals(email,"{e}")', safe="") for e in emails]
        head = (
            f"KEY = {json.dumps(KEY)}\nREVISION = {json.dumps(served.revision)}\n"
            f"EMAILS = {_lua_strings(emails)}\nPROFILE_IDS = {_lua_strings(profile_ids)}\n"
            f"LIST_IDS = {_lua_strings(list_ids)}\nEMAIL_FILTERS = {_lua_strings(encoded)}\nEVENTS = {SOAK_EVENTS}\n"
        )
        mixed = head + _SOAK_LUA_COMMON + _SOAK_LUA_MIXED
        writes = head + _SOAK_LUA_COMMON + _SOAK_LUA_WRITES
        warm = max(5, seconds // 4)
        _wrk(served, mixed, warm, folder)  # warm-up: the journal fills, indexes and caches are built
        _wrk(served, writes, warm, folder)
        rss = [rss_mb(pid)]
        phases = (
            (
                "mixed load",
                "reads of a collection, by id and by filter, creates (409 for pool emails) and deletes",
                mixed,
            ),
            ("concurrent writes", "profile import and update, events, subscriptions, list additions", writes),
        )
        for name, label, script in phases:
            result = _wrk(served, script, seconds, folder)
            rss.append(rss_mb(pid))
            crashed = served.process.poll() is not None
            socket_errors = result["connect"] + result["read"] + result["write"]
            errors = result["bad"] + socket_errors + result["timeout"]
            codes = " ".join(sorted(set(result["bad_codes"].split()))) or "none"
            rows.append(
                Row(
                    f"soak, {state_label(state)}: {seconds} s of {name} (wrk, {SOAK_CONNECTIONS} connections)",
                    int(result["requests"]),
                    sum(1 for c in result["bad_codes"].split() if c.startswith("5")),
                    int(crashed),
                    int(result["timeout"]),
                    "pass" if errors == 0 and not crashed else "FAIL",
                    f"{label}: {result['requests'] / result['seconds']:,.0f} req/s, {result['ok']:,} 2xx, "
                    f"{result['expected']:,} expected 409, {result['bad']} other non-2xx ({codes}), socket errors "
                    f"{socket_errors} (connect {result['connect']}, read {result['read']}, write {result['write']}), "
                    f"{result['timeout']} timeouts; p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
                    f"max {result['max_ms']:.0f} ms; "
                    f"RSS {rss[-2]:.1f} -> {rss[-1]:.1f} MB; load {_load()}",
                )
            )
        followed = answers(served)
        growth = (rss[-1] - rss[0]) / rss[0] if rss[0] else math.inf
        rows.append(
            Row(
                f"soak, {state_label(state)}: RSS growth after warm-up (< {SOAK_GROWTH_BUDGET:.0%})",
                1,
                0,
                int(served.process.poll() is not None),
                0 if followed else 1,
                "pass" if growth < SOAK_GROWTH_BUDGET and followed else "FAIL",
                f"RSS {rss[0]:.1f} MB after a {warm} s warm-up of each phase -> "
                + " -> ".join(f"{mb:.1f}" for mb in rss[1:])
                + f" MB after each {seconds} s phase: {growth:+.1%}; stored data stays the pool "
                f"({SOAK_POOL} profiles, {SOAK_LISTS} lists, {SOAK_EVENTS:,} events of 5 metrics, created before)",
            )
        )
    return rows


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- durability under kill -9 -------------------------------------------------------------------------


def bench_durability(state: str, workers: int, rounds: int) -> Row:
    answered: dict[str, str] = {}
    requests = 0
    crashes_unplanned = 0
    for round_no in range(rounds):
        served = start_mock(["--state", state, "--workers", str(workers)], KEY)
        killed = threading.Event()
        lock = threading.Lock()

        def writer(
            n: int,
            served: Served = served,
            round_no: int = round_no,
            killed: threading.Event = killed,
            lock: threading.Lock = lock,
        ) -> None:
            nonlocal requests
            import httpx

            with httpx.Client(timeout=10) as client:
                i = 0
                while not killed.is_set():
                    email = f"r{round_no}w{n}-{i}@durable.example.com"
                    i += 1
                    body = {"data": {"type": "profile", "attributes": {"email": email, "first_name": "Durable"}}}
                    try:
                        response = client.post(
                            served.base_url + "/api/profiles",
                            json=body,
                            headers={
                                "Authorization": f"Klaviyo-API-Key {KEY}",
                                "revision": served.revision,
                                "Content-Type": "application/vnd.api+json",
                            },
                        )
                    except httpx.HTTPError:
                        continue
                    with lock:
                        requests += 1
                        if response.status_code == 201:
                            answered[email] = response.json()["data"]["id"]

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        time.sleep(3)
        crashes_unplanned += int(served.process.poll() is not None)
        served.kill()
        killed.set()
        for thread in threads:
            thread.join()
    lost = 0
    half = 0
    with mock(["--state", state]) as served:
        for email, pid in answered.items():
            response = served.request("GET", f"/api/profiles/{pid}")
            if response.status_code != 200 or response.json()["data"]["attributes"].get("email") != email:
                lost += 1
        url: str | None = "/api/profiles?page[size]=100"
        while url:
            page = served.request("GET", url.removeprefix(served.base_url)).json()
            half += sum(1 for item in page["data"] if item["attributes"].get("first_name") != "Durable")
            url = page["links"].get("next")
    ok = lost == 0 and half == 0 and crashes_unplanned == 0
    return Row(
        f"kill -9 during concurrent creates, {state_label(state)}, {workers} worker(s)",
        requests,
        0,
        crashes_unplanned,
        0,
        "pass" if ok else "FAIL",
        f"{rounds} kills, {len(answered):,} writes answered 201: {lost} lost after restart, {half} half-written",
    )


# --- the spec pipeline under bad input ----------------------------------------------------------------


def bench_spec() -> Row:
    tests = ["scripts/tests/spec/test_bad_input.py", "scripts/tests/spec/test_fetch_faults.py"]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", *tests],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    summary = (done.stdout.strip().splitlines() or [""])[-1]
    words = summary.split()
    passed = int(next((w for w, n in itertools.pairwise(words) if n.startswith("passed")), "0"))
    return Row(
        "spec pipeline under bad input (fetch + validate)",
        passed,
        0,
        0,
        0,
        "pass" if done.returncode == 0 else "FAIL",
        f"empty, binary, 50 MB, YAML bomb, deep, $ref cycles, remote/file $refs, refused, stall, truncated, "
        f"wrong sha, 404: one line, exit 2, lock and cache byte-identical "
        f"({summary}, {time.perf_counter() - started:.0f} s)",
    )


# --- the report ---------------------------------------------------------------------------------------


def machine() -> str:
    load = os.getloadavg()
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return (
        f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


COLUMNS = ("check", "requests", "5xx", "crashes", "hangs", "result", "run", "notes")


def run_line(started: dt.datetime, command: str) -> str:
    return f"{started:%Y-%m-%d %H:%M} UTC `{command}` on {machine()}"


def _run_key(line: str) -> str:
    return line.split(" on ", 1)[0]  # the start time and the command: one invocation


def read_measured(path: Path, marker: str = "bench_reliability") -> tuple[list[str], list[list[str]]]:
    """The runs (numbered lines) and the table rows (cells) of the measured section of `path`."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    _, _, rest = text.partition(f"<!-- {marker}: begin -->")
    section, _, _ = rest.partition(f"<!-- {marker}: end -->")
    runs: list[str] = []
    rows: list[list[str]] = []
    for line in section.splitlines():
        number, dot, run = line.partition(". ")
        if dot and number.isdigit():
            runs.append(run)
        elif line.startswith("| ") and not line.startswith(("| check ", "| ---")):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            if len(cells) == len(COLUMNS):
                rows.append(cells)
    return runs, rows


def merge(path: Path, rows: list[Row], run: str) -> tuple[list[str], list[list[str]]]:
    """The section of `path` with this run's rows replacing the rows of the same checks (others kept)."""
    runs, table = read_measured(path)
    runs = [r for r in runs if _run_key(r) != _run_key(run)]
    current = len(runs) + 1
    runs.append(run)
    fresh = {row.check: row.cells(current) for row in rows}
    merged = [fresh.pop(cells[0], cells) for cells in table]
    merged += fresh.values()
    # keep the runs some row still comes from, renumbered in the order they ran
    used = sorted({int(cells[6]) for cells in merged if cells[6].isdigit()})
    number = {old: new for new, old in enumerate(used, 1)}
    for cells in merged:
        cells[6] = str(number.get(int(cells[6]), 0)) if cells[6].isdigit() else cells[6]
    return [runs[old - 1] for old in used if old <= len(runs)], merged


def render(runs: list[str], table: list[list[str]], *, notes: bool = True) -> str:
    columns = COLUMNS if notes else COLUMNS[:-1]
    align = {"requests": "---:", "5xx": "---:", "crashes": "---:", "hangs": "---:", "run": "---:"}
    lines = [
        f"Measured by `scripts/bench_reliability.py` ({len(runs)} run(s); the `run` column says which):",
        *(f"{n}. {run}" for n, run in enumerate(runs, 1)),
        "",
        "| " + " | ".join(columns) + " |",
        "| " + " | ".join(align.get(c, "---") for c in columns) + " |",
        *("| " + " | ".join(cells[: len(columns)]) + " |" for cells in table),
    ]
    return "\n".join([*lines, ""])


def publish(output: Path | None, readme: bool, rows: list[Row], run: str) -> None:
    """Write this run's rows so far into `output` (and the README summary): after every row, so a run cut
    short still leaves what it measured."""
    if output is None or not rows:
        return
    runs, table = merge(output, rows, run)
    write_section(output, render(runs, table))
    if readme:
        write_section(ROOT / "README.md", render(runs, table, notes=False), marker="reliability-summary")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--state",
        action="append",
        default=[],
        help="memory (default), stateless, sqlite:PATH (`sqlite:` alone: a temporary file) or postgresql://...; "
        "repeatable: one fuzz row each",
    )
    parser.add_argument("--stateless", action="store_true", help="Add the stateless (example-mode) mock.")
    parser.add_argument("--requests", type=int, default=10_000, help="Request budget of each fuzzing run.")
    parser.add_argument(
        "--fuzz-minutes", type=float, default=60, help="Each fuzzing run stops here and writes a partial row."
    )
    parser.add_argument("--soak-seconds", type=int, default=60, help="Length of each soak phase (wrk, writes).")
    parser.add_argument("--only", default=",".join(CHECKS), help=f"Comma-separated subset of {','.join(CHECKS)}.")
    parser.add_argument("--durability-rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "reliability.md")
    parser.add_argument("--readme", action="store_true", help="Also write the summary table into README.md.")
    args = parser.parse_args()
    states = list(args.state) or ["memory"]
    if args.stateless and "stateless" not in states:
        states.append("stateless")
    only = {c.strip() for c in args.only.split(",") if c.strip()}
    unknown = only - set(CHECKS)
    if unknown:
        parser.error(f"--only: unknown check(s) {', '.join(sorted(unknown))} (choose from {', '.join(CHECKS)})")
    started = dt.datetime.now(dt.UTC)
    command = (
        f"scripts/bench_reliability.py {' '.join(f'--state {s}' for s in states)} "
        f"--only {','.join(c for c in CHECKS if c in only)}"
        + (f" --requests {args.requests}" if "fuzz" in only else "")
    )
    rows: list[Row] = []
    # SIGTERM (a CI timeout, `timeout`) and Ctrl-C end a fuzzing run early instead of killing the script:
    # its row is written as "partial" with how far it got; a second signal stops at once.
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        print("bench_reliability: stopping after the current scenario (again to abort)", file=sys.stderr)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def add(row: Row) -> None:
        rows.append(row)
        print(row.markdown(), flush=True)
        publish(args.output, args.readme, rows, run_line(started, command))

    with tempfile.TemporaryDirectory(prefix="kdk-reliability-") as tmp:
        # `sqlite:` alone means a fresh file per check
        resolved = [f"sqlite:{Path(tmp) / f'fuzz-{i}.db'}" if s == "sqlite:" else s for i, s in enumerate(states)]
        if "fuzz" in only:
            for state in resolved:
                if stop.is_set():
                    break
                add(bench_fuzz(state, args.requests, args.seed, args.fuzz_minutes, stop))
        if "hostile" in only and not stop.is_set():
            for one in bench_hostile(resolved[0]):
                add(one)
        if "soak" in only and not stop.is_set():
            for one in bench_soak(resolved[0], args.soak_seconds):
                add(one)
        if "durability" in only and not stop.is_set():
            durable = [s for s in resolved if s.startswith(("sqlite:", "postgresql:"))] or [
                f"sqlite:{Path(tmp) / 'durable.db'}"
            ]
            for state in durable:
                for workers in (1, 2):
                    fresh = f"sqlite:{Path(tmp) / f'durable-{workers}.db'}" if state.startswith("sqlite:") else state
                    add(bench_durability(fresh, workers, args.durability_rounds))
        if "spec" in only and not stop.is_set():
            add(bench_spec())
    print()
    print(render([run_line(started, command)], [row.cells(1) for row in rows]))


def write_section(path: Path, table: str, marker: str = "bench_reliability") -> None:
    """Replace the measured table in `path` (between its markers), keeping the prose around it."""
    begin, end = f"<!-- {marker}: begin -->", f"<!-- {marker}: end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else f"# Reliability\n\n{begin}\n{end}\n"
    if begin not in text:
        text += f"\n{begin}\n{end}\n"
    head, _, rest = text.partition(begin)
    _, _, tail = rest.partition(end)
    path.write_text(f"{head}{begin}\n{table}{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
