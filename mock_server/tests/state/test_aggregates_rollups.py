"""`query_metric_aggregates` from the store's hourly totals (count, sum_value) answers exactly what reading
every event of the window answers, on random events, windows, intervals and timezones (whole-hour and
half-hour offsets), with events the totals cannot place, and after writes that move events in and out."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mock_server._compile import CompiledSpec
from mock_server.state import StatefulBehaviour, Store

from .conftest import API_KEY, JSONAPI, STORE_KINDS, core_client
from .test_aggregates import aggregate, query
from .test_events import event_body

H = {**API_KEY, **JSONAPI}
DAY0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ZONES = ("UTC", "America/New_York", "Asia/Kolkata", "Australia/Adelaide", "Asia/Tokyo")


async def _track(client: httpx.AsyncClient, rng: random.Random, count: int, name: str = "Placed Order") -> None:
    for _ in range(count):
        moment = DAY0 + dt.timedelta(seconds=rng.randrange(0, 120 * 86400))
        value = rng.choice([0.1, 0.2, 19.99, 3, -2.5, 1e-7, 1e15, None])
        body = event_body(name, {"email": f"p{rng.randrange(20)}@example.com"}, value=value, time=moment.isoformat())
        body["data"]["attributes"]["unique_id"] = f"u-{rng.random()}"
        assert (await client.post("/api/events", json=body, headers=H)).status_code == 202


def _odd_copies(store: Store, rng: random.Random) -> None:
    """Events whose stored time the totals cannot place: another offset, a `Z` text, none (a timestamp)."""
    with store.transaction() as tx:
        account = store.accounts()[0]
        events = tx.scan(account, "event")
        for n, event in enumerate(rng.sample(events, 9)):
            moment = dt.datetime.fromisoformat(event["attributes"]["datetime"])
            copy = {**event, "id": f"odd-{n}", "attributes": dict(event["attributes"])}
            copy.pop("seq", None)
            copy["attributes"]["datetime"] = [
                moment.astimezone(dt.timezone(dt.timedelta(hours=5, minutes=30))).isoformat(),
                moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                None,
            ][n % 3]
            tx.put(account, copy)


def _queries(rng: random.Random, metric: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out = []
    for _ in range(14):
        start = DAY0 + dt.timedelta(days=rng.randrange(-5, 100), seconds=rng.choice([0, 0, 1800, 59, 3599]))
        end = start + dt.timedelta(days=rng.randrange(1, 70), seconds=rng.choice([0, 0, 1800, 7]))
        interval = rng.choice(["day", "week", "month", "hour"])
        if interval == "hour":
            end = start + dt.timedelta(hours=rng.randrange(1, 60))
        bounds = (
            f"greater-or-equal(datetime,{start.strftime('%Y-%m-%dT%H:%M:%S')})",
            f"less-than(datetime,{end.strftime('%Y-%m-%dT%H:%M:%S')})",
        )
        extra = {"interval": interval, "timezone": rng.choice(ZONES)}
        fast = query(metric, ["count", "sum_value"], *bounds, **extra)
        exact = query(metric, ["unique", "count", "sum_value"], *bounds, **extra)  # `unique`: every event read
        out.append((fast, exact))
    return out


async def _same_answers(client: httpx.AsyncClient, rng: random.Random, metric: str) -> None:
    for fast, exact in _queries(rng, metric):
        rolled, read = await aggregate(client, fast), await aggregate(client, exact)
        assert rolled["dates"] == read["dates"], fast
        assert len(rolled["data"]) == len(read["data"]) == 1, fast
        for name in ("count", "sum_value"):
            assert rolled["data"][0]["measurements"][name] == read["data"][0]["measurements"][name], (name, fast)


@pytest.mark.parametrize("kind", STORE_KINDS)
async def test_rollups_answer_like_reading_every_event(
    kind: str,
    compiled: CompiledSpec,
    make_behaviour: Callable[..., StatefulBehaviour],
    open_any_store: Callable[[str], Store],
) -> None:
    store = open_any_store(kind)
    rng = random.Random(2026)
    async with core_client(compiled, make_behaviour(store)) as client:
        await _track(client, rng, 120)
        await _track(client, rng, 15, "Opened Email")
        _odd_copies(store, rng)
        metrics = (await client.get("/api/metrics", headers=API_KEY)).json()["data"]
        metric = next(m["id"] for m in metrics if m["attributes"]["name"] == "Placed Order")
        await _same_answers(client, rng, metric)
        # Totals kept on write: new events, and stored events moved in time, after the first rollup.
        await _track(client, rng, 25)
        with store.transaction() as tx:
            account = store.accounts()[0]
            for event in rng.sample(tx.scan(account, "event"), 10):
                moved = DAY0 + dt.timedelta(seconds=rng.randrange(0, 120 * 86400))
                event["attributes"]["datetime"] = moved.isoformat()
                event["attributes"]["value"] = rng.choice([0.3, 7.25, None])
                tx.put(account, event)
            tx.delete(account, "event", "odd-1")
        await _same_answers(client, rng, metric)
