"""Rate limits: the proxy reports them per operation, and `--throttle` keeps a session under the documented
`x-klaviyo-ratelimit`, so a mock enforcing those limits (`--rate-limits`) never answers 429."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kdk.proxy import Contract
from kdk.spec._pinned import load_pinned_spec
from mock_server.state import RateLimiter

from .conftest import AUTH, asgi_client, proxy_for


def _tightest_list_read() -> tuple[str, int]:
    """The GET without path parameters whose documented burst is smallest (chosen by shape, not by name)."""
    contract = Contract(load_pinned_spec())
    candidates = []
    for path, item in contract.spec["paths"].items():
        op = item.get("get")
        limit = (op or {}).get("x-klaviyo-ratelimit") or {}
        if op and "{" not in path and path.startswith("/api/") and "burst" in limit:
            burst = int(str(limit["burst"]).split("/")[0])
            candidates.append((burst, path))
    burst, path = min(candidates)
    return path + "/", burst


async def _session(proxy: Any, path: str, count: int) -> list[int]:
    async with asgi_client(proxy, "http://proxy.test") as client:
        statuses = [(await client.get(path, headers=AUTH)).status_code for _ in range(count)]
    await proxy.flush()  # the checks run after each answer, in the background
    return statuses


async def test_without_throttle_the_limit_is_hit(mock_factory: Callable[..., Any]) -> None:
    path, burst = _tightest_list_read()
    proxy = proxy_for(mock_factory(stateful=False, rate_limits=True))
    statuses = await _session(proxy, path, burst + 1)
    assert statuses[-1] == 429
    seen = next(iter(proxy.report.to_json()["rate_limits"].values()))
    assert seen["429"] == 1 and seen["requests"] == burst + 1 and seen["documented"]["burst"].startswith(str(burst))


async def test_throttle_never_trips_a_429(mock_factory: Callable[..., Any]) -> None:
    path, burst = _tightest_list_read()
    proxy = proxy_for(mock_factory(stateful=False, rate_limits=True), throttle=True)
    statuses = await _session(proxy, path, burst + 1)
    assert statuses == [200] * (burst + 1)
    seen = next(iter(proxy.report.to_json()["rate_limits"].values()))
    assert seen["429"] == 0 and seen["throttle_wait_s"] > 0


def test_mock_limiter_is_the_one_reused() -> None:
    """The throttle paces with the mock's own buckets: the same limits refuse the same request."""
    limiter = RateLimiter({"op": {"burst": "2/s", "steady": "60/m"}}, clock=lambda: 0.0)
    assert [limiter.take("a", "op") is None for _ in range(3)] == [True, True, False]
