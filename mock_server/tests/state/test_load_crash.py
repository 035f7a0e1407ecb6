"""A demo load killed mid-way (kill -9 of a real loading process) leaves no partial account behind: the next
start loads the account again and it holds exactly what an uninterrupted load stores (every record, index row
and hourly total), and a start while the load still runs in another process waits for it instead of loading
twice or serving a part of the account. SQLite and PostgreSQL (the session's throwaway cluster: these tests
fail, never skip, without it); the memory store does not outlive its process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mock_server import account_for_name
from mock_server._compile import CompiledSpec
from mock_server.state import (
    ResourceIndex,
    SeedError,
    SqliteStore,
    Store,
    apply_seed,
    demo_resources,
    export_state,
    load_demo,
)
from mock_server.state._account_settings import read_settings
from mock_server.state._backends import ROLLUPS
from mock_server.state._demo import DEMO_ACCOUNT
from mock_server.state._plan import build_plan
from mock_server.state._postgres import PostgresStore
from mock_server.state._seed import LOAD_TYPE

from .._served import free_port, served_mock
from . import _loader_process
from .test_store_sql_load import _answers

pytestmark = [pytest.mark.timeout(300)]

SQL_KINDS = ("sqlite", "postgresql")
PROFILES = 40  # ~500 resources: several batches of _loader_process.BATCH
STOP_AFTER = 3  # write transactions the loader commits before it stops (and is killed)


def _query(store: Store, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(store, SqliteStore):
        return [tuple(row) for row in store._conn.execute(sql, args).fetchall()]
    assert isinstance(store, PostgresStore)
    with store._transaction() as dialect:
        return [tuple(row) for row in dialect.run(sql, args).fetchall()]


def _account(store: Store) -> dict[str, Any]:
    """What the demo account holds, independent of the seq numbers the load drew: each type's count, each
    record's body, the creation order, every index row (its seq left out) and the hourly totals (what
    aggregates read)."""
    where = ("WHERE account=?", (str(account_for_name(DEMO_ACCOUNT)),))

    def rows(table: str, seq: int | None = None) -> list[tuple[str, ...]]:
        found = _query(store, f"SELECT * FROM {table} {where[0]}", where[1])
        return sorted(tuple(str(v) for n, v in enumerate(row) if n != seq) for row in found)

    bodies = []
    for rtype, rid, body in _query(store, f"SELECT rtype, rid, body FROM resources {where[0]}", where[1]):
        record = json.loads(body)
        record.pop("seq", None)
        bodies.append((rtype, rid, json.dumps(record, sort_keys=True)))
    counts = _query(store, f"SELECT rtype, count(*) FROM resources {where[0]} GROUP BY rtype ORDER BY rtype", where[1])
    return {
        "counts": {rtype: int(n) for rtype, n in counts},
        "bodies": sorted(bodies),
        "order": _query(store, f"SELECT rtype, rid FROM resources {where[0]} ORDER BY seq", where[1]),
        "entries": rows("entries"),
        "orders": rows("orders", seq=6),
        "refs": rows("refs"),
        "ranges": rows("ranges", seq=5),
        "rollups": rows("rollups"),
    }


def _seqless(answers: list[Any]) -> list[Any]:
    """`test_store_sql_load._answers` (pages, lookups, a record) without the record's seq (the load's draw)."""
    record = dict(answers[-1])
    record.pop("seq", None)
    return [*answers[:-1], record]


def _total(account: dict[str, Any]) -> int:
    return sum(account["counts"].values())


@contextmanager
def _loader(compiled: CompiledSpec, state: str) -> Iterator[subprocess.Popen[str]]:
    """A loading process stopped mid-load (after STOP_AFTER committed batches); killed (-9) at the end."""
    args = [str(compiled.patched_json), state, str(PROFILES), str(STOP_AFTER)]
    child = subprocess.Popen([sys.executable, "-m", _loader_process.__name__, *args], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "stopped"
        yield child
    finally:
        child.kill()
        child.wait()


def _state(kind: str, open_any_store: Callable[[str], Store]) -> tuple[str, Store]:
    """A fresh state's URL (as `--state` or `_loader_process` takes it) and a store open on it."""
    store = open_any_store(kind)
    state = str(store.path) if isinstance(store, SqliteStore) else store.url  # type: ignore[attr-defined]
    return state, store


@dataclass
class _Crash:
    """A state an uninterrupted load filled (`reference`, `expected`: what it holds) and one to load into."""

    kind: str
    reference: Store
    expected: dict[str, Any]
    state: str  # where the loading process writes
    store: Store  # the same state, seen from here


@pytest.fixture(params=SQL_KINDS)
def crash(
    request: pytest.FixtureRequest, index: ResourceIndex, open_any_store: Callable[[str], Store], tmp_path: Path
) -> Iterator[_Crash]:
    kind = str(request.param)
    reference = SqliteStore(tmp_path / "reference.db") if kind == "sqlite" else open_any_store("postgresql-reference")
    reference.configure(build_plan(index, ROLLUPS))
    load_demo(index, reference, PROFILES)
    state, store = _state(kind, open_any_store)
    yield _Crash(kind, reference, _account(reference), state, store)
    if kind == "sqlite":
        reference.close()


def test_a_load_killed_mid_way_is_loaded_whole_at_the_next_start(
    crash: _Crash, index: ResourceIndex, compiled: CompiledSpec, open_any_store: Callable[[str], Store]
) -> None:
    expected = crash.expected
    with _loader(compiled, crash.state) as child:
        partial = _account(crash.store)
        assert 0 < _total(partial) < _total(expected)  # killed mid-load: a part of the account is stored
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    restarted = open_any_store(crash.kind)  # the next start
    restarted.configure(build_plan(index, ROLLUPS))
    assert load_demo(index, restarted, PROFILES) == sum(expected["counts"].values())
    assert _account(restarted) == expected
    assert LOAD_TYPE not in _account(restarted)["counts"]
    assert _seqless(_answers(restarted)) == _seqless(_answers(crash.reference))
    assert load_demo(index, restarted, PROFILES) == 0  # loaded: the start after is left alone


def test_a_start_while_another_process_loads_waits_for_it(
    crash: _Crash, index: ResourceIndex, compiled: CompiledSpec, open_any_store: Callable[[str], Store]
) -> None:
    second = open_any_store(crash.kind)  # a second worker starting while the first one loads
    second.configure(build_plan(index, ROLLUPS))
    loaded: list[int] = []
    with _loader(compiled, crash.state) as child:
        partial = _account(crash.store)
        worker = threading.Thread(target=lambda: loaded.append(load_demo(index, second, PROFILES)))
        worker.start()
        worker.join(3)
        # It waits for the running load: neither loads a second time beside it nor takes the part as the whole.
        assert worker.is_alive() and loaded == []
        assert _account(crash.store) == partial
        os.kill(child.pid, signal.SIGKILL)  # the first worker dies mid-load: the waiting one loads the account
        child.wait()
        worker.join(120)
    assert loaded == [_total(crash.expected)]
    assert _account(second) == crash.expected


def _profiles(count: int, bad_at: int | None = None) -> Iterator[dict[str, Any]]:
    """A streamed account (a generator, stored batch by batch); a resource without a type at `bad_at`."""
    for n in range(count):
        if n == bad_at:
            yield {"attributes": {}}
        yield {"type": "profile", "id": f"P{n:04d}", "attributes": {"email": f"p{n}@seed.example.com"}}


@pytest.mark.parametrize("kind", ("memory", *SQL_KINDS))
def test_a_seed_load_cut_short_is_loaded_again_whole(
    kind: str, index: ResourceIndex, open_any_store: Callable[[str], Store]
) -> None:
    store = open_any_store(kind)
    store.configure(build_plan(index, ROLLUPS))
    settings = {"api_key:pk_seeded": {"scopes": "read-only"}}
    cut = {"accounts": {"api_key:pk_seeded": _profiles(50, bad_at=30)}, "settings": settings}
    with pytest.raises(SeedError, match=r"\[30\]"):  # the load stops after three batches of 10
        apply_seed(index, store, cut, only_empty=True, batch_size=10)
    account = str(account_for_name("api_key:pk_seeded"))
    with store.transaction(write=False) as tx:
        assert len(tx.scan(account, "profile")) == 30
    whole = {"accounts": {"api_key:pk_seeded": _profiles(50)}, "settings": settings}
    assert apply_seed(index, store, whole, only_empty=True, batch_size=10) == 50  # not left as it was
    with store.transaction(write=False) as tx:
        assert [r["id"] for r in tx.scan(account, "profile")] == [f"P{n:04d}" for n in range(50)]
        assert LOAD_TYPE not in tx.types(account)
        assert read_settings(tx, account) is not None
    assert export_state(store, account)["accounts"][account][0]["id"] == "P0000"
    assert apply_seed(index, store, whole, only_empty=True, batch_size=10) == 0  # whole: left alone


CLI_PROFILES = 2_000  # ~22,000 resources: several of `kdk mock`'s batches (DEMO_BATCH), a few seconds to load


@pytest.mark.slow
def test_kdk_mock_killed_while_it_loads_loads_the_account_whole_when_started_again(
    index: ResourceIndex, tmp_path: Path
) -> None:
    """The real `kdk mock --demo-data` killed (-9, its process group) at whatever point of its load it is once its
    first batch is committed; the next `kdk mock` on the same file says so and loads the whole account."""
    path = tmp_path / "state.db"
    args = ["--state", f"sqlite:{path}", "--demo-data", str(CLI_PROFILES)]
    command = [sys.executable, "-c", "from kdk.cli import main; main()", "mock", "--port", str(free_port()), *args]
    loader = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        stored = 0
        while not stored and loader.poll() is None:
            time.sleep(0.02)
            with contextlib.suppress(sqlite3.OperationalError), contextlib.closing(sqlite3.connect(path)) as db:
                stored = db.execute("SELECT count(*) FROM resources").fetchone()[0]
        os.killpg(loader.pid, signal.SIGKILL)
    finally:
        loader.kill()
        loader.wait()
    expected = Counter(resource["type"] for resource in demo_resources(index, CLI_PROFILES))
    with contextlib.closing(sqlite3.connect(path)) as db:
        counts = dict(db.execute("SELECT rtype, count(*) FROM resources GROUP BY rtype").fetchall())
    assert 0 < sum(counts.values()) < sum(expected.values()), counts  # killed mid-load
    with served_mock(args[:2], "pk_test") as unloaded:  # a start that loads nothing serves the part, not silently
        assert unloaded.request("GET", "/api/profiles?page[size]=1").status_code == 200
        assert "holds part of a load (demo data: 2,000 profiles, seed 0) that has not ended" in unloaded.output()
    with served_mock(args, "pk_test") as again:
        assert again.request("GET", "/api/profiles?page[size]=1").status_code == 200
        assert "did not end" in again.output()
        assert "has not ended" not in again.output()
    with contextlib.closing(sqlite3.connect(path)) as db:
        counts = dict(db.execute("SELECT rtype, count(*) FROM resources GROUP BY rtype").fetchall())
    assert counts == dict(expected)


def test_an_account_named_twice_in_one_seed_keeps_what_the_first_name_loaded(
    index: ResourceIndex, open_any_store: Callable[[str], Store]
) -> None:
    """The load's own marker is not a dead load's: the second name finds the account full and leaves it."""
    store = open_any_store("sqlite")
    store.configure(build_plan(index, ROLLUPS))
    account = str(account_for_name("api_key:pk_twice"))
    doc = {"accounts": {"api_key:pk_twice": list(_profiles(3)), account: list(_profiles(5))}}
    assert apply_seed(index, store, doc, only_empty=True) == 3
    with store.transaction(write=False) as tx:
        assert len(tx.scan(account, "profile")) == 3
        assert LOAD_TYPE not in tx.types(account)
