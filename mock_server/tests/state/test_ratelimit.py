"""Opt-in rate limits from `x-klaviyo-ratelimit`: token buckets per account and operation, fake clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mock_server._compile import CompiledSpec
from mock_server.state import RateLimiter, SqliteStore, StatefulBehaviour
from mock_server.state._ratelimit import MemoryBuckets, SqliteBuckets, parse_limit

from .conftest import API_KEY, OTHER_KEY, core_client
from .test_options import _start, _stop


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("text", "parsed"), [("75/s", (75, 1.0)), ("750/m", (750, 60.0)), ("225/d", (225, 86400.0)), ("x", None)]
)
def test_parse_limit(text: str, parsed: tuple[int, float] | None) -> None:
    assert parse_limit(text) == parsed


def test_burst_then_refill() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"op": {"burst": "3/s", "steady": "60/m"}}, clock=clock)
    assert [limiter.take("a", "op") for _ in range(3)] == [None, None, None]
    throttled = limiter.take("a", "op")
    assert throttled is not None and throttled.retry_after == 1 and throttled.window == "burst"
    assert limiter.take("b", "op") is None  # another account has its own buckets
    assert limiter.take("a", "other-op") is None  # operations without limits are free
    clock.now += 1 / 3
    assert limiter.take("a", "op") is None


def test_steady_limit_bites_after_the_burst_refills() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"op": {"burst": "10/s", "steady": "15/m"}}, clock=clock)
    for _ in range(15):
        assert limiter.take("a", "op") is None
        clock.now += 0.1  # the burst bucket refills as fast as this; the steady one does not
    throttled = limiter.take("a", "op")
    assert throttled is not None and throttled.window == "steady"
    assert throttled.retry_after == 3  # 1.5 s spent at a token per 4 s: 0.375 back, 2.5 s to go
    clock.now += throttled.retry_after
    assert limiter.take("a", "op") is None


def test_daily_limit() -> None:
    clock = FakeClock()
    limiter = RateLimiter({"op": {"burst": "1/s", "steady": "15/m", "daily": "2/d"}}, clock=clock)
    assert limiter.take("a", "op") is None
    clock.now += 60
    assert limiter.take("a", "op") is None
    clock.now += 60
    throttled = limiter.take("a", "op")
    assert throttled is not None and throttled.window == "daily" and throttled.retry_after > 3600


async def test_429_through_the_app(compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]) -> None:
    clock = FakeClock()
    behaviour = make_behaviour(rate_limits=True, clock=clock)
    async with core_client(compiled, behaviour) as client:
        statuses = [(await client.get("/api/profiles", headers=API_KEY)).status_code for _ in range(75)]
        assert set(statuses) == {200}
        throttled = await client.get("/api/profiles", headers=API_KEY)
        assert throttled.status_code == 429
        assert throttled.headers["retry-after"] == "1"
        error = throttled.json()["errors"][0]
        assert error["code"] == "throttled" and error["status"] == 429
        assert (await client.get("/api/profiles", headers=OTHER_KEY)).status_code == 200
        clock.now += 1
        assert (await client.get("/api/profiles", headers=API_KEY)).status_code == 200
        # Reset through the admin API also refills the account's buckets.
        for _ in range(80):
            await client.get("/api/profiles", headers=API_KEY)
        await client.post("/__mock__/reset", headers=API_KEY)
        assert (await client.get("/api/profiles", headers=API_KEY)).status_code == 200


async def test_rate_limits_are_off_by_default(
    client: object, compiled: CompiledSpec, behaviour: StatefulBehaviour
) -> None:
    async with core_client(compiled, behaviour) as c:
        statuses = {(await c.get("/api/profiles", headers=API_KEY)).status_code for _ in range(100)}
    assert statuses == {200}


def test_buckets_in_a_sqlite_file_are_shared(tmp_path: Path) -> None:
    """Two limiters on one file (two workers of one mock) hand out one bucket's tokens, never twice."""
    clock = FakeClock()
    limits = {"op": {"burst": "3/s", "steady": "60/m"}}
    one = RateLimiter(limits, clock=clock, buckets=SqliteBuckets(tmp_path / "buckets.db"))
    two = RateLimiter(limits, clock=clock, buckets=SqliteBuckets(tmp_path / "buckets.db"))
    assert [one.take("a", "op"), two.take("a", "op"), one.take("a", "op")] == [None, None, None]
    assert two.take("a", "op") is not None and one.take("a", "op") is not None
    assert two.take("b", "op") is None
    clock.now += 1 / 3
    assert two.take("a", "op") is None and one.take("a", "op") is not None
    one.reset("a")  # `POST /__mock__/reset` in one worker refills the account for every worker
    assert two.take("a", "op") is None


def test_sqlite_state_keeps_the_buckets(tmp_path: Path, make_behaviour: Callable[..., StatefulBehaviour]) -> None:
    store = SqliteStore(tmp_path / "state.db")
    behaviour = make_behaviour(store, rate_limits=True)
    assert behaviour.limiter is not None and isinstance(behaviour.limiter.buckets, SqliteBuckets)
    in_memory = make_behaviour(rate_limits=True).limiter
    assert in_memory is not None and isinstance(in_memory.buckets, MemoryBuckets)
    store.close()


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("state", ["sqlite", "memory"])
def test_two_workers_share_one_mock_s_buckets(tmp_path: Path, compiled: CompiledSpec, state: str) -> None:
    """`kdk mock --workers 2 --rate-limits`: get_accounts allows 1/s; paced requests over a few seconds, each on
    a new connection (so both workers answer), get at most what one bucket refills, not one bucket per worker.
    In-memory state cannot take workers: `--stateless` has no store, so the mock shares a temporary file."""
    args = ["--state", f"sqlite:{tmp_path}/mock.db"] if state == "sqlite" else ["--stateless"]
    process, base = _start([*args, "--workers", "2", "--rate-limits"])
    try:
        statuses = []
        started = time.monotonic()
        with httpx.Client(base_url=base, timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            for _ in range(40):
                statuses.append(client.get("/api/accounts", headers=API_KEY).status_code)
                time.sleep(0.075)
        elapsed = time.monotonic() - started
    finally:
        _stop(process)
    accepted = statuses.count(200)
    assert set(statuses) <= {200, 429}
    assert 1 <= accepted <= 2 + elapsed, (accepted, elapsed, statuses)  # one 1/s bucket: 1 + one per second
