"""Range indexes: a parent's children in a window of a field (a metric's events in a month) are read from an
index, so the cost follows the window, not the parent's history. Proven by counting what the store hands
out (every backend) and by the SQL plans (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN), never by time."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import pytest

from mock_server._compile import CompiledSpec
from mock_server.state import MemoryStore, ResourceIndex, SqliteStore, StatefulBehaviour, Store
from mock_server.state._collections import StoreSource, run_query
from mock_server.state._fields import FieldReader
from mock_server.state._plan import build_plan, key_text
from mock_server.state._postgres import PostgresStore, _Postgres
from mock_server.state._sql import WALK_CHUNK
from mock_server.state._sqlite import _Sqlite
from mock_server.state._store import StoreTx

from .conftest import API_KEY, JSONAPI, STORE_KINDS, core_client, recorded_statements
from .test_events import event_body

ACCOUNT = "api_key:pk_ranges"
DAY0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
METRICS = ("M1", "M2", "M3")
DAYS = 200  # events per metric: one a day


def _event(n: int, metric: str, profile: str, moment: Any) -> dict[str, Any]:
    return {
        "type": "event",
        "id": f"E{metric}-{n:04d}",
        "attributes": {"datetime": moment, "timestamp": 0},
        "relationships": {
            "metric": {"many": False, "data": [{"type": "metric", "id": metric}]},
            "profile": {"many": False, "data": [{"type": "profile", "id": profile}]},
        },
    }


def _fill(store: Store) -> None:
    with store.transaction() as tx:
        events = [
            _event(n, metric, f"P{n % 7}", (DAY0 + dt.timedelta(days=n, hours=m)).isoformat())
            for m, metric in enumerate(METRICS)
            for n in range(DAYS)
        ]
        tx.put_many(ACCOUNT, events)
        # Values a range index cannot place: always candidates, so the answer stays a full scan's.
        tx.put(ACCOUNT, _event(9001, "M1", "P1", "not a time"))
        tx.put(ACCOUNT, _event(9002, "M1", "P1", None))


class _Counting:
    """A transaction that counts the records each read hands out (what a query costs the store)."""

    def __init__(self, tx: StoreTx) -> None:
        self._tx = tx
        self.read: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._tx, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            if name in ("walk", "walk_between") and result is not None:
                return self._walked(result, name)
            size = len(result) if isinstance(result, list) else int(result is not None)
            self.read[name] = self.read.get(name, 0) + size
            return result

        return counted

    def _walked(self, rows: Iterator[Any], name: str) -> Iterator[Any]:
        for row in rows:
            self.read[name] = self.read.get(name, 0) + 1
            yield row


def _window(days: tuple[int, int]) -> str:
    start, end = ((DAY0 + dt.timedelta(days=d)).strftime("%Y-%m-%dT%H:%M:%SZ") for d in days)
    return f"greater-or-equal(datetime,{start}),less-than(datetime,{end})"


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_a_window_of_one_metric_reads_the_window(
    kind: str, index: ResourceIndex, open_any_store: Callable[[str], Store]
) -> None:
    store = open_any_store(kind)
    store.configure(build_plan(index))
    _fill(store)
    op = index.ops[index.types["event"].list_op or ""]
    for text in (
        f"equals(metric_id,'M1'),{_window((10, 20))}",
        f"equals(metric_id,'M3'),less-or-equal(datetime,{(DAY0 + dt.timedelta(days=5, hours=2)).isoformat()})",
        f"equals(profile_id,'P3'),{_window((0, 70))}",
        f"equals(metric_id,'M2'),greater-than(datetime,{(DAY0 + dt.timedelta(days=DAYS - 3)).isoformat()[:19]})",
    ):
        with store.transaction(write=False) as tx:
            counting = _Counting(tx)
            reader = FieldReader(index, tx, ACCOUNT)
            query = {"filter": text, "page[size]": "100"}
            indexed = run_query(op, StoreSource(counting, ACCOUNT, "event"), query, lookup=reader)  # type: ignore[arg-type]
            scanned = run_query(op, tx.scan(ACCOUNT, "event"), query, lookup=reader)
        assert [r["id"] for r in indexed.records] == [r["id"] for r in scanned.records], text
        assert indexed.records, text
        # The window and the two records no range index can place: not the metric's 200 events, nor the 600.
        assert sum(counting.read.values()) <= len(indexed.records) + 3, (text, counting.read)


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_between_keeps_up_with_updates_and_deletes(
    kind: str, index: ResourceIndex, open_any_store: Callable[[str], Store]
) -> None:
    store = open_any_store(kind)
    store.configure(build_plan(index))
    _fill(store)
    month = (DAY0.timestamp(), (DAY0 + dt.timedelta(days=31)).timestamp())
    with store.transaction() as tx:
        moved = _event(5, "M1", "P5", (DAY0 + dt.timedelta(days=100)).isoformat())  # out of the month
        tx.put(ACCOUNT, moved)
        tx.delete(ACCOUNT, "event", "EM1-0006")
        tx.put(ACCOUNT, _event(150, "M2", "P1", (DAY0 + dt.timedelta(days=3)).isoformat()) | {"id": "EM1-0150"})
    with store.transaction(write=False) as tx:
        found = tx.between(ACCOUNT, "event", ("metric_id", [key_text("M1") or ""]), "datetime", month)
        assert found is not None
        ids = [r["id"] for r in found]
        assert "EM1-0005" not in ids and "EM1-0006" not in ids and "EM1-0150" not in ids
        assert {"EM1-9001", "EM1-9002"} <= set(ids)  # unknown: always candidates (first)
        placed = [i for i in ids if i not in ("EM1-9001", "EM1-9002")]
        assert placed == [f"EM1-{n:04d}" for n in range(32) if n not in (5, 6)]  # in time order
        assert tx.between(ACCOUNT, "event", ("id", ["x"]), "datetime", month) is None  # no such index
        week = (DAY0.timestamp(), (DAY0 + dt.timedelta(days=2)).timestamp())
        both = tx.between(
            ACCOUNT, "event", ("metric_id", [key_text("M1") or "", key_text("M3") or ""]), "datetime", week
        )
        assert both is not None
        assert [r["id"] for r in both][2:] == [
            "EM1-0000",
            "EM3-0000",
            "EM1-0001",
            "EM3-0001",
            "EM1-0002",
        ]  # merged, in time order (bounds inclusive)


def test_range_indexes_come_from_the_spec(index: ResourceIndex) -> None:
    plan = build_plan(index)
    # Events: the parents a filter names (metric, profile) by the fields the spec compares with ranges.
    assert {("metric_id", "datetime"), ("profile_id", "datetime")} <= plan.ranges["event"]
    # A type with range filters but no parent field gets none (its windows are walked in sort order).
    assert "profile" not in plan.ranges


def _window_statement(store: Store, dialect: type[Any]) -> tuple[str, tuple[Any, ...]]:
    month = (DAY0.timestamp(), (DAY0 + dt.timedelta(days=31)).timestamp())
    with recorded_statements(dialect) as statements, store.transaction(write=False) as tx:
        assert tx.between(ACCOUNT, "event", ("metric_id", [key_text("M1") or ""]), "datetime", month)
    return next((sql, args) for sql, args in statements if "FROM ranges" in sql)


Statement = Callable[[Store, type[Any]], tuple[str, tuple[Any, ...]]]


def _sqlite_plan(index: ResourceIndex, tmp_path: Any, statement: Statement) -> list[str]:
    """SQLite's query plan (one line per step) of the SQL `statement` reads in a filled store."""
    store = SqliteStore(tmp_path / "state.db")
    try:
        store.configure(build_plan(index))
        _fill(store)
        sql, args = statement(store, _Sqlite)
        with store.transaction(write=False):
            return [row[-1] for row in store._conn.execute(f"EXPLAIN QUERY PLAN {sql}", args)]
    finally:
        store.close()


def _postgres_plan(index: ResourceIndex, open_any_store: Callable[[str], Store], statement: Statement) -> str:
    """PostgreSQL's query plan (analysed table) of the SQL `statement` reads in a filled store."""
    store = open_any_store("postgresql")
    assert isinstance(store, PostgresStore)
    store.configure(build_plan(index))
    _fill(store)
    sql, args = statement(store, _Postgres)
    with store._transaction() as dialect:
        dialect.run("ANALYZE ranges")
        return "\n".join(r[0] for r in dialect.run(f"EXPLAIN {sql}", args).fetchall())


def test_sqlite_plans_a_window_as_index_ranges(index: ResourceIndex, tmp_path: Any) -> None:
    plan = _sqlite_plan(index, tmp_path, _window_statement)
    searches = [line for line in plan if "ranges" in line]
    # (the rows with no parent key: one seek of either index)
    assert searches and all(
        "USING INDEX ranges_window" in line or ("USING INDEX ranges_seq" in line and "num" not in line)
        for line in searches
    ), plan
    assert not any(line.startswith("SCAN") for line in plan), plan


def test_postgres_plans_a_window_as_index_ranges(index: ResourceIndex, open_any_store: Callable[[str], Store]) -> None:
    plan = _postgres_plan(index, open_any_store, _window_statement)
    assert "ranges_window" in plan and "Seq Scan" not in plan, plan


class _CountingStore(MemoryStore):
    """A memory store whose transactions count what they hand out."""

    def __init__(self) -> None:
        super().__init__()
        self.last: _Counting | None = None

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreTx]:
        with super().transaction(write=write) as tx:
            self.last = _Counting(tx)
            yield self.last  # type: ignore[misc]


async def test_aggregates_read_the_month_not_the_metric(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    store = _CountingStore()
    headers = {**API_KEY, **JSONAPI}
    async with core_client(compiled, make_behaviour(store)) as client:
        for day in range(60):
            time = (DAY0 + dt.timedelta(days=day)).isoformat()
            body = event_body("Placed Order", {"email": "a@example.com"}, unique_id=f"o-{day}", value=1, time=time)
            assert (await client.post("/api/events", json=body, headers=headers)).status_code == 202
        metric = (await client.get("/api/metrics", headers=API_KEY)).json()["data"][0]["id"]
        window = ["greater-or-equal(datetime,2025-01-11T00:00:00)", "less-than(datetime,2025-01-21T00:00:00)"]
        for measurements in (["count", "unique"], ["count", "sum_value"]):
            attributes = {"metric_id": metric, "measurements": measurements, "filter": window, "interval": "day"}
            answer = await client.post(
                "/api/metric-aggregates",
                json={"data": {"type": "metric-aggregate", "attributes": attributes}},
                headers=headers,
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["data"]["attributes"]["data"][0]["measurements"]["count"] == [1] * 10
            assert store.last is not None
            read = store.last.read
            if "unique" in measurements:  # each event's profile: the month's events (and its end: bounds inclusive)
                assert "scan" not in read and read.get("between") == 11, read
            else:  # hourly totals: no event read at all (one answer: the totals, with no record to place)
                assert read == {"get": 1, "rollup": 1}, read


def _random_events(rng: random.Random) -> list[dict[str, Any]]:
    """Events of two metrics over a year, most with the mock's own UTC times; some the index cannot place in
    order (other offsets, `Z` texts, lists) or at all (no time, not a time), some sharing one time."""
    events = []
    for n in range(300):
        moment = DAY0 + dt.timedelta(seconds=rng.randrange(0, 365 * 86400, 3600 if n % 5 == 0 else 1))
        kind = rng.random()
        value: Any = moment.isoformat()
        if kind < 0.05:
            value = moment.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat()
        elif kind < 0.08:
            value = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif kind < 0.10:
            value = rng.choice([None, "not a time", [moment.isoformat()]])
        event = _event(n, rng.choice(("M1", "M2")), f"P{rng.randrange(5)}", value)
        event["id"] = f"R{rng.randrange(10**6):06d}-{n}"  # ids in no order: seq and time disagree with them
        event["attributes"]["timestamp"] = int(moment.timestamp()) if kind > 0.02 else "soon"
        events.append(event)
    return events


def _pages(op: Any, source: Any, query: dict[str, str], reader: Any) -> tuple[list[str], list[str]]:
    """Every record walking `links.next` from the first page, and walking `links.prev` back from the last."""
    forward: list[str] = []
    pages = []
    cursor = None
    while True:
        page = run_query(op, source(), query | ({"page[cursor]": cursor} if cursor else {}), lookup=reader)
        pages.append(page)
        forward += [r["id"] for r in page.records]
        cursor = page.next_cursor
        if not cursor:
            break
    backward = [r["id"] for r in pages[-1].records]
    cursor = pages[-1].prev_cursor
    while cursor:
        page = run_query(op, source(), query | {"page[cursor]": cursor}, lookup=reader)
        backward = [r["id"] for r in page.records] + backward
        cursor = page.prev_cursor
    return forward, backward


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_ordered_window_walks_answer_like_a_scan(
    kind: str, index: ResourceIndex, open_any_store: Callable[[str], Store]
) -> None:
    """Every order the API allows (creation order, datetime, -datetime, timestamp, -timestamp), walked page by
    page both ways from the range index, gives a full scan's answer, odd and unknown records included."""
    store = open_any_store(kind)
    store.configure(build_plan(index))
    rng = random.Random(12)
    with store.transaction() as tx:
        tx.put_many(ACCOUNT, _random_events(rng))
    op = index.ops[index.types["event"].list_op or ""]
    month = (DAY0 + dt.timedelta(days=90)).isoformat(), (DAY0 + dt.timedelta(days=150)).isoformat()
    stamps = int((DAY0 + dt.timedelta(days=30)).timestamp()), int((DAY0 + dt.timedelta(days=200)).timestamp())
    filters = (
        f"equals(metric_id,'M1'),greater-or-equal(datetime,{month[0]}),less-than(datetime,{month[1]})",
        f"equals(metric_id,'M2'),greater-than(timestamp,{stamps[0]}),less-or-equal(timestamp,{stamps[1]})",
        f"equals(profile_id,'P3'),less-than(datetime,{month[1]})",
        f"equals(metric_id,'M2'),greater-or-equal(datetime,{month[0]})",
    )
    for text in filters:
        for sort in (None, "datetime", "-datetime", "timestamp", "-timestamp"):
            for size in ("7", "50"):
                query = {"filter": text, "page[size]": size} | ({"sort": sort} if sort else {})
                with store.transaction(write=False) as tx:
                    reader = FieldReader(index, tx, ACCOUNT)
                    scanned = run_query(op, tx.scan(ACCOUNT, "event"), query, paginate=False, lookup=reader)
                    expected = [r["id"] for r in scanned.records]
                    forward, backward = _pages(op, lambda tx=tx: StoreSource(tx, ACCOUNT, "event"), query, reader)
                assert expected, (text, sort)
                assert forward == expected, (text, sort, size)
                assert backward == expected, (text, sort, size)


@pytest.mark.parametrize("kind", STORE_KINDS)
@pytest.mark.parametrize("sort", ["datetime", "-datetime", None])
def test_a_page_of_a_window_reads_a_page(
    kind: str, sort: str | None, index: ResourceIndex, open_any_store: Callable[[str], Store]
) -> None:
    """A page of a window sorted by its time reads the page (and the two records no index can place), not
    the window: the cost of a page does not follow the window's size. (Creation order reads index entries
    of the window, but only a page of records.)"""
    store = open_any_store(kind)
    store.configure(build_plan(index))
    _fill(store)
    op = index.ops[index.types["event"].list_op or ""]
    query = {"filter": f"equals(metric_id,'M1'),{_window((0, 150))}", "page[size]": "5"} | (
        {"sort": sort} if sort else {}
    )
    with store.transaction(write=False) as tx:
        counting = _Counting(tx)
        reader = FieldReader(index, tx, ACCOUNT)
        page = run_query(op, StoreSource(counting, ACCOUNT, "event"), query, lookup=reader)  # type: ignore[arg-type]
        scanned = run_query(op, tx.scan(ACCOUNT, "event"), query, lookup=reader)
    assert [r["id"] for r in page.records] == [r["id"] for r in scanned.records]
    assert page.next_cursor
    # the page, the one after it that says there is a next page, the two unknown records, the record at the
    # window's open end (index bounds are inclusive); SQL reads a chunk of index rows and bodies at a time
    limit = 5 + 1 + 2 + 1 + (WALK_CHUNK if kind != "memory" else 0)
    assert "between" not in counting.read and "scan" not in counting.read, counting.read
    assert counting.read.get("walk_between", 0) <= limit, counting.read


def _window_walk_statement(
    store: Store, dialect: type[Any], *, days: int, sort: str | None, descending: bool, order: str
) -> tuple[str, tuple[Any, ...]]:
    """The statement that reads the `ranges` rows of a walk of M1's events over `days` from DAY0 (`ORDER BY
    {order}`)."""
    window = (DAY0.timestamp(), (DAY0 + dt.timedelta(days=days)).timestamp())
    with recorded_statements(dialect) as statements, store.transaction(write=False) as tx:
        walked = tx.walk_between(
            ACCOUNT,
            "event",
            ("metric_id", [key_text("M1") or ""]),
            "datetime",
            window,
            sort,
            descending=descending,
            after=None,
        )
        assert walked is not None and next(walked, None) is not None
    return next((sql, args) for sql, args in statements if "FROM ranges" in sql and f"ORDER BY {order}" in sql)


def _ordered_walk_statement(store: Store, dialect: type[Any]) -> tuple[str, tuple[Any, ...]]:
    """A month sorted by -datetime: one range of the window index in its order."""
    return _window_walk_statement(store, dialect, days=31, sort="datetime", descending=True, order="")


def test_sqlite_walks_a_window_in_index_order(index: ResourceIndex, tmp_path: Any) -> None:
    plan = _sqlite_plan(index, tmp_path, _ordered_walk_statement)
    assert any("USING INDEX ranges_window" in line or "USING COVERING INDEX ranges_window" in line for line in plan)
    assert not any("TEMP B-TREE" in line or line.startswith("SCAN") for line in plan), plan  # no sort, no scan


def test_postgres_walks_a_window_in_index_order(index: ResourceIndex, open_any_store: Callable[[str], Store]) -> None:
    plan = _postgres_plan(index, open_any_store, _ordered_walk_statement)
    assert "ranges_window" in plan and "Seq Scan" not in plan and "Sort" not in plan, plan


def _time_ordered_events(rng: random.Random) -> list[dict[str, Any]]:
    """Events created in time order (as a live account tracks them: seq and time agree), a few out of order and a
    few the index cannot place in order or at all."""
    events = []
    for n in range(240):
        moment = DAY0 + dt.timedelta(hours=n * 30 + rng.randrange(0, 3))
        value: Any = moment.isoformat()
        if n % 17 == 0:
            value = (DAY0 + dt.timedelta(days=rng.randrange(0, 300))).isoformat()  # late, out of order
        elif n % 23 == 0:
            value = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif n % 41 == 0:
            value = rng.choice([None, "not a time"])
        event = _event(n, "M1" if n % 4 else "M2", f"P{n % 3}", value)
        event["id"] = f"T{rng.randrange(10**6):06d}-{n}"
        events.append(event)
    return events


# How the stores choose (memory: _SEQ_WALK; SQL: SEQ_WINDOW, SEQ_CHUNK, SEQ_BUDGET): always walk by seq and turn
# to sorting early, always walk by seq, the stores' own estimate, always sort the window.
WAYS = {
    "walk-then-sort": (0, (0, 5, 40)),
    "walk": (0, (0, 7, 1 << 40)),
    "estimate": (64, (512, 256, 4096)),
    "sort": (1 << 40, (1 << 40, 256, 4096)),
}


@pytest.mark.parametrize("kind", STORE_KINDS)
@pytest.mark.parametrize("way", sorted(WAYS))
def test_creation_order_windows_walk_by_seq_or_sort_alike(
    kind: str, way: str, index: ResourceIndex, open_any_store: Callable[[str], Store], monkeypatch: Any
) -> None:
    """A window's pages in creation order are the scan's, whether the store walks the parent's children by seq
    and skips those outside the window (a window that is most of its parent), sorts the window's entries (a
    small one), or starts one way and turns to the other (a window at the far end of a time-ordered history):
    `way` forces each answer of the cost estimate (`WAYS`), both ways through the pages, from every cursor."""
    seq_walk, (window, chunk, budget) = WAYS[way]
    monkeypatch.setattr("mock_server.state._store._SEQ_WALK", seq_walk)
    monkeypatch.setattr("mock_server.state._sql.SEQ_WINDOW", window)
    monkeypatch.setattr("mock_server.state._sql.SEQ_CHUNK", chunk)
    monkeypatch.setattr("mock_server.state._sql.SEQ_BUDGET", budget)
    store = open_any_store(kind)
    store.configure(build_plan(index))
    rng = random.Random(len(way))
    with store.transaction() as tx:
        tx.put_many(ACCOUNT, _time_ordered_events(rng))
    op = index.ops[index.types["event"].list_op or ""]

    def day(n: int) -> str:
        return (DAY0 + dt.timedelta(days=n)).isoformat()

    filters = (
        f"equals(metric_id,'M1'),greater-or-equal(datetime,{day(0)}),less-than(datetime,{day(400)})",  # all of it
        f"equals(metric_id,'M1'),greater-or-equal(datetime,{day(250)})",  # the newest: the far end of seq order
        f"equals(metric_id,'M1'),less-than(datetime,{day(20)})",  # the oldest
        f"equals(metric_id,'M2'),greater-than(datetime,{day(100)}),less-or-equal(datetime,{day(180)})",
        f"equals(metric_id,'M2'),less-than(datetime,{day(290)})",
        f"equals(profile_id,'P1'),greater-or-equal(datetime,{day(3)}),less-than(datetime,{day(9)})",  # tiny
    )
    for text in filters:
        for size in ("3", "20"):
            query = {"filter": text, "page[size]": size}
            with store.transaction(write=False) as tx:
                reader = FieldReader(index, tx, ACCOUNT)
                scanned = run_query(op, tx.scan(ACCOUNT, "event"), query, paginate=False, lookup=reader)
                expected = [r["id"] for r in scanned.records]
                forward, backward = _pages(op, lambda tx=tx: StoreSource(tx, ACCOUNT, "event"), query, reader)
            assert expected, text
            assert forward == expected, (text, size)
            assert backward == expected, (text, size)


def _seq_walk_statement(store: Store, dialect: type[Any]) -> tuple[str, tuple[Any, ...]]:
    """A creation-order walk of a window that holds most of its parent (walked by seq)."""
    return _window_walk_statement(store, dialect, days=365, sort=None, descending=False, order="seq")


def test_sqlite_walks_a_window_by_seq_in_index_order(index: ResourceIndex, tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr("mock_server.state._sql.SEQ_WINDOW", 16)
    monkeypatch.setattr("mock_server.state._sql.SEQ_CHUNK", 8)  # a chunk that is a small share, as at scale
    plan = _sqlite_plan(index, tmp_path, _seq_walk_statement)
    assert any("USING INDEX ranges_seq" in line for line in plan), plan
    assert not any("TEMP B-TREE" in line or line.startswith("SCAN") for line in plan), plan  # no sort, no scan


def test_postgres_walks_a_window_by_seq_in_index_order(
    index: ResourceIndex, open_any_store: Callable[[str], Store], monkeypatch: Any
) -> None:
    monkeypatch.setattr("mock_server.state._sql.SEQ_WINDOW", 16)
    monkeypatch.setattr("mock_server.state._sql.SEQ_CHUNK", 8)  # a chunk that is a small share, as at scale
    plan = _postgres_plan(index, open_any_store, _seq_walk_statement)
    assert "ranges_seq" in plan and "Seq Scan" not in plan and "Sort" not in plan, plan


@pytest.mark.parametrize("kind", ("sqlite", "postgresql"))
@pytest.mark.parametrize("way", sorted(WAYS))
def test_a_window_of_several_parents_reads_each_parent_and_merges_them_as_memory_does(
    kind: str, way: str, index: ResourceIndex, open_any_store: Callable[[str], Store], monkeypatch: Any
) -> None:
    """Several parents' windows (one index range per parent, merged; never an `IN` list a planner without
    statistics turns into a filter over every parent's rows) hold what the memory store's hold, in the same
    order, from every cursor, whichever way the SQL store walks (`WAYS`)."""
    _, (window, chunk, budget) = WAYS[way]
    monkeypatch.setattr("mock_server.state._sql.SEQ_WINDOW", window)
    monkeypatch.setattr("mock_server.state._sql.SEQ_CHUNK", chunk)
    monkeypatch.setattr("mock_server.state._sql.SEQ_BUDGET", budget)
    events = _time_ordered_events(random.Random(7))
    answers: dict[str, list[list[str]]] = {}
    for name in ("memory", kind):
        store = open_any_store(name)
        store.configure(build_plan(index))
        with store.transaction() as tx:
            tx.put_many(ACCOUNT, [dict(e) for e in events])
        got: list[list[str]] = []
        dialect = {"memory": _Sqlite, "sqlite": _Sqlite, "postgresql": _Postgres}[name]
        with recorded_statements(dialect) as statements, store.transaction(write=False) as tx:
            # (and more parents than one statement reads: `WINDOW_PARENTS`)
            for keys in (["M1", "M2"], ["M2", "M1", "M9"], [*(f"X{n}" for n in range(250)), "M2", "M1"]):
                for bounds in (
                    (DAY0.timestamp() + 86400 * 250, None),
                    (DAY0.timestamp() + 86400 * 30, DAY0.timestamp() + 86400 * 200),
                ):
                    parent = ("metric_id", [key_text(k) or "" for k in keys])
                    found = tx.between(ACCOUNT, "event", parent, "datetime", bounds)
                    got.append(sorted(r["id"] for r in found or []))
                    for sort_field in (None, "datetime"):
                        for descending in (False, True):
                            walk = partial(tx.walk_between, ACCOUNT, "event", parent, "datetime", bounds, sort_field)
                            walked = list(walk(descending=descending, after=None) or [("-", {"id": "(no walk)"})])
                            got.append([r["id"] for _, r in walked])
                            if len(walked) > 5:  # and on from a cursor in the middle
                                middle = walked[len(walked) // 2][0]
                                got.append([r["id"] for _, r in walk(descending=descending, after=middle) or ()])
        answers[name] = got
        assert not [sql for sql, _ in statements if " IN (" in sql], name  # one index range per parent
    assert all(answers["memory"]), answers["memory"]
    assert answers[kind] == answers["memory"]
