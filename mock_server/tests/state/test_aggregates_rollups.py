"""`query_metric_aggregates` from the store's hourly totals (count, sum_value) answers exactly what reading
every event of the window answers, on random events, windows, intervals and timezones (whole-hour and
half-hour offsets), with events the totals cannot place, and after writes that move events in and out."""

from __future__ import annotations

import datetime as dt
import random
import threading
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import httpx
import pytest

from mock_server._compile import CompiledSpec
from mock_server.state import ResourceIndex, SqliteStore, StatefulBehaviour, Store
from mock_server.state._backends import ROLLUPS
from mock_server.state._plan import build_plan, key_text
from mock_server.state._postgres import PostgresStore
from mock_server.state._sql_rollups import rebuild_account

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


def _from_totals(store: Store, metric: str) -> None:
    """The store answers a month from hourly totals (not None: the exact path is not what the test compares)."""
    edges = [DAY0.timestamp(), (DAY0 + dt.timedelta(days=31)).timestamp()]
    with store.transaction(write=False) as tx:
        found = tx.rollup(
            store.accounts()[0], "event", ("metric_id", key_text(metric) or ""), "datetime", edges, *ROLLUPS.values()
        )
    assert found is not None and found[0][0][0] > 0, found


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
    index: ResourceIndex,
) -> None:
    store = open_any_store(kind)
    rng = random.Random(2026)
    async with core_client(compiled, make_behaviour(store)) as client:
        await _track(client, rng, 120)
        await _track(client, rng, 15, "Opened Email")
        _odd_copies(store, rng)
        metrics = (await client.get("/api/metrics", headers=API_KEY)).json()["data"]
        metric = next(m["id"] for m in metrics if m["attributes"]["name"] == "Placed Order")
        _from_totals(store, metric)
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
        _from_totals(store, metric)
    if kind == "memory":
        return
    # SQL: the totals survive a restart, and a file indexed for another plan rebuilds them with its indexes.
    store.configure(build_plan(index))
    reopened = open_any_store(kind)
    async with core_client(compiled, make_behaviour(reopened)) as client:
        _from_totals(reopened, metric)
        await _same_answers(client, rng, metric)


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_totals_stay_exact_under_writers_of_several_processes(
    kind: str, index: ResourceIndex, open_any_store: Callable[[str], Store]
) -> None:
    """Writers on separate connections (as separate processes hold them) add, move and delete events of one
    metric at once: the hourly totals still equal what the stored events add up to."""
    plan = build_plan(index, ROLLUPS)
    stores = [open_any_store(kind) for _ in range(3)]
    for store in stores:
        store.configure(plan)
    account, metric = "api_key:pk_rollups", "M1"
    hours = 12

    def event(n: int, hour: int, value: float) -> dict[str, Any]:
        moment = DAY0 + dt.timedelta(hours=hour, minutes=n % 60)
        return {
            "type": "event",
            "id": f"e-{n}",
            "attributes": {"datetime": moment.isoformat(), "value": value},
            "relationships": {"metric": {"many": False, "data": [{"type": "metric", "id": metric}]}},
        }

    def writer(number: int) -> None:
        rng = random.Random(number)
        for step in range(40):
            with stores[number].transaction() as tx:
                n = rng.randrange(60)  # shared ids: writers update and delete each other's events
                if rng.random() < 0.2:
                    tx.delete(account, "event", f"e-{n}")
                else:
                    tx.put(account, event(n, rng.randrange(hours), rng.choice([1.5, 0.1, -3.0, 1e-7, step])))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    edges = [(DAY0 + dt.timedelta(hours=h)).timestamp() for h in range(hours + 1)]
    with stores[0].transaction(write=False) as tx:
        found = tx.rollup(account, "event", ("metric_id", key_text(metric) or ""), "datetime", edges, *ROLLUPS.values())
        stored = tx.scan(account, "event")
    assert found is not None and not found[1], found
    expected = [(0, Fraction(0)) for _ in range(hours)]
    for record in stored:
        hour = int((dt.datetime.fromisoformat(record["attributes"]["datetime"]) - DAY0).total_seconds() // 3600)
        count, total = expected[hour]
        expected[hour] = (count + 1, total + Fraction(record["attributes"]["value"]))
    assert found[0] == expected


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_account_s_totals_rebuilt_from_its_records(
    kind: str, index: ResourceIndex, open_any_store: Callable[[str], Store]
) -> None:
    """`rebuild_account` (for a load that appends rows without `SqlTx`) gives the totals the writes kept."""
    plan = build_plan(index, ROLLUPS)
    store = open_any_store(kind)
    store.configure(plan)
    account, rng = "api_key:pk_rebuild", random.Random(5)
    events = [
        {
            "type": "event",
            "id": f"e-{n}",
            "attributes": {"datetime": (DAY0 + dt.timedelta(minutes=rng.randrange(2000))).isoformat(), "value": n},
            "relationships": {"metric": {"many": False, "data": [{"type": "metric", "id": f"M{n % 3}"}]}},
        }
        for n in range(300)
    ]
    edges = [(DAY0 + dt.timedelta(hours=h)).timestamp() for h in range(36)]

    def totals() -> list[Any]:
        with store.transaction(write=False) as tx:
            return [
                tx.rollup(account, "event", ("metric_id", f"sM{m}"), "datetime", edges, *ROLLUPS.values())
                for m in range(3)
            ]

    with store.transaction() as tx:
        tx.put_many(account, events)
    kept = totals()
    assert all(found is not None and sum(c for c, _ in found[0]) == 100 for found in kept), kept
    if isinstance(store, PostgresStore):
        with store._transaction() as dialect:
            dialect.run("DELETE FROM rollups")
            rebuild_account(dialect, plan, account)
    else:
        assert isinstance(store, SqliteStore)
        with store.transaction():  # (holds the file's write lock)
            store._dialect.run("DELETE FROM rollups")
            rebuild_account(store._dialect, plan, account)
    assert totals() == kept
