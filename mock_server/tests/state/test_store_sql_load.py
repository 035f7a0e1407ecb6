"""A demo account's bulk load into a SQL store (records appended without looking for stored versions; an empty
store's index tables indexed after the load) stores what loading the same resources row by row stores: the
same records, the same index rows, the same indexes, the same answers."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from itertools import islice
from pathlib import Path
from typing import Any

import psycopg
import pytest

from mock_server.state import ResourceIndex, SqliteStore, Store, apply_seed, demo_resources, load_demo
from mock_server.state._backends import ROLLUPS
from mock_server.state._demo import DEMO_ACCOUNT
from mock_server.state._plan import build_plan, key_text
from mock_server.state._postgres import PostgresStore
from mock_server.state._sql import INDEX_TABLES, SqlTx
from mock_server.state._sql_rollups import TABLE as ROLLUPS_TABLE

SQL_KINDS = ("sqlite", "postgresql")
PROFILES = 40
TABLES = ("resources", *INDEX_TABLES, ROLLUPS_TABLE)  # the hourly totals too: a load keeps them like writes do


def _rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the resources and index tables, in one order (SQL NULLs and numbers as text)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for table in TABLES:
        sql = f"SELECT * FROM {table}"
        if isinstance(store, SqliteStore):
            found = store._conn.execute(sql).fetchall()
        else:
            assert isinstance(store, PostgresStore)
            with store._transaction() as dialect:
                found = dialect.run(sql).fetchall()
        rows[table] = sorted(tuple("" if v is None else str(v) for v in row) for row in found)
    return rows


def _indexes(store: Store) -> set[str]:
    if isinstance(store, SqliteStore):
        return {r[0] for r in store._conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert isinstance(store, PostgresStore)
    with store._transaction() as dialect:
        return {r[0] for r in dialect.run("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}


def _answers(store: Store) -> list[Any]:
    """What a list request, a filter by email, a relationship and a get read from the account."""
    account = next(iter(store.accounts()))
    out: list[Any] = []
    with store.transaction(write=False) as tx:
        for field, descending in ((None, False), ("updated", True), ("email", False)):
            page = list(islice(tx.walk(account, "profile", field, descending=descending, after=None), 21))
            out.append([record["id"] for _, record in page])
        first = page[0][1]
        found = tx.candidates(account, "profile", "email", [key_text(first["attributes"]["email"]) or ""])
        out.append(sorted(record["id"] for record in found or []))
        out.append([record["id"] for record in tx.referencing(account, "event", "profile", first["id"])])
        out.append(tx.get(account, "profile", first["id"]))
    return out


@pytest.mark.parametrize("kind", SQL_KINDS)
def test_a_bulk_load_stores_what_a_row_by_row_load_stores(
    kind: str, index: ResourceIndex, open_any_store: Callable[[str], Store], tmp_path: Path
) -> None:
    bulk = open_any_store(kind)
    bulk.configure(build_plan(index, ROLLUPS))
    indexes = _indexes(bulk)
    assert load_demo(index, bulk, PROFILES) > 10 * PROFILES
    row_by_row = SqliteStore(tmp_path / "rows.db") if kind == "sqlite" else open_any_store("postgresql-rows")
    row_by_row.configure(build_plan(index, ROLLUPS))
    # The ordinary seed path: each resource checked for one with its identifiers, stored versions looked for.
    doc = {"accounts": {DEMO_ACCOUNT: list(demo_resources(index, PROFILES))}}
    apply_seed(index, row_by_row, doc, batch_size=500)
    assert _indexes(bulk) == indexes == _indexes(row_by_row)
    loaded = _rows(bulk)
    assert loaded == _rows(row_by_row)
    assert all(loaded[table] for table in TABLES)
    assert _answers(bulk) == _answers(row_by_row)
    if kind == "sqlite":
        row_by_row.close()


def _autovacuum_off(store: Store) -> list[str]:
    assert isinstance(store, PostgresStore)
    with store._transaction() as dialect:
        rows = dialect.run(
            "SELECT relname FROM pg_class WHERE reloptions @> ARRAY['autovacuum_enabled=false'] "
            "AND pg_table_is_visible(oid)"
        ).fetchall()
    return sorted(r[0] for r in rows)


def test_autovacuum_is_off_only_while_a_load_runs(index: ResourceIndex, open_any_store: Callable[[str], Store]) -> None:
    store = open_any_store("postgresql")
    store.configure(build_plan(index, ROLLUPS))
    with store.loading():
        assert _autovacuum_off(store) == sorted(["resources", *INDEX_TABLES])
    assert _autovacuum_off(store) == []
    with store.loading():  # a process starting meanwhile (or the next start after a crash) turns it back on
        assert _autovacuum_off(store) != []
        assert _autovacuum_off(open_any_store("postgresql")) == []


@pytest.mark.parametrize("kind", SQL_KINDS)
def test_a_bulk_load_beside_another_account_keeps_the_indexes(
    kind: str, index: ResourceIndex, open_any_store: Callable[[str], Store]
) -> None:
    store = open_any_store(kind)
    store.configure(build_plan(index))
    indexes = _indexes(store)
    load_demo(index, store, 5, account="api_key:pk_other")
    dropped: list[str] = []
    if isinstance(store, SqliteStore):  # no index is dropped: another account is served meanwhile
        store._conn.set_trace_callback(lambda sql: dropped.append(sql) if "DROP INDEX" in sql else None)
    load_demo(index, store, 5)
    assert dropped == []
    assert _indexes(store) == indexes
    assert len(store.accounts()) == 2
    assert load_demo(index, store, 5) == 0  # a loaded account is left alone


@pytest.mark.parametrize("kind", SQL_KINDS)
def test_a_record_assumed_new_that_is_stored_fails_loudly(
    kind: str, index: ResourceIndex, open_any_store: Callable[[str], Store]
) -> None:
    store = open_any_store(kind)
    store.configure(build_plan(index))
    record = {"type": "profile", "id": "P1", "attributes": {"email": "a@example.com"}}
    with store.transaction() as tx:
        tx.put("api_key:pk_x", dict(record))
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.UniqueViolation)), store.transaction() as tx:
        assert isinstance(tx, SqlTx)
        tx.assume_new("api_key:pk_x")
        tx.put_many("api_key:pk_x", [dict(record)] + [{**record, "id": f"P{n}"} for n in range(2, 300)])
    with store.transaction(write=False) as tx:
        assert [r["id"] for r in tx.scan("api_key:pk_x", "profile")] == ["P1"]


def test_copy_text_escapes_what_copy_reads_specially(open_any_store: Callable[[str], Store]) -> None:
    store = open_any_store("postgresql")
    odd = ["tab\there", "new\nline", "back\\slash", "cr\rhere", "nul\x00here", "\\N", "plain", ""]
    rows = [("acct", "t", f"id{n}", n, text) for n, text in enumerate(odd)]
    rows += [("acct", "t", f"plain{n}", 100 + n, '{"a": 1}') for n in range(300)]  # COPY, not INSERTs
    assert isinstance(store, PostgresStore)
    with store._transaction() as dialect:
        dialect.write([], [("resources", rows)])
        stored = dict(dialect.run("SELECT rid, body FROM resources WHERE rtype = 't'").fetchall())
    assert [stored[f"id{n}"] for n in range(len(odd))] == [text.replace("\x00", "\ufffd") for text in odd]
    assert stored["plain0"] == '{"a": 1}'


def _totals(store: Store, account: str) -> list[tuple[Any, ...]]:
    rows = _rows(store)[ROLLUPS_TABLE]
    return [row for row in rows if row[0] == account]


@pytest.mark.parametrize("kind", SQL_KINDS)
def test_a_load_that_never_ends_leaves_exact_totals_after_a_restart(
    kind: str, index: ResourceIndex, open_any_store: Callable[[str], Store], tmp_path: Path
) -> None:
    """A load holds hourly totals in memory until it ends: a crash meanwhile, or a second process starting
    meanwhile, must not leave totals that miss (or count twice) the events it stored."""
    plan = build_plan(index, ROLLUPS)
    events = [
        {
            "type": "event",
            "id": f"e-{n}",
            "attributes": {"datetime": f"2026-05-0{1 + n % 3}T{n % 24:02d}:{n % 60:02d}:00+00:00", "value": n % 7},
            "relationships": {"metric": {"many": False, "data": [{"type": "metric", "id": f"M{n % 3}"}]}},
        }
        for n in range(300)
    ]
    first, second = events[: len(events) // 2], events[len(events) // 2 :]
    reference = SqliteStore(tmp_path / "reference.db") if kind == "sqlite" else open_any_store("postgresql-ref")
    reference.configure(plan)
    with reference.transaction() as tx:
        tx.put_many(DEMO_ACCOUNT, first)
    expected_first = _totals(reference, DEMO_ACCOUNT)
    with reference.transaction() as tx:
        tx.put_many(DEMO_ACCOUNT, second)
    expected_all = _totals(reference, DEMO_ACCOUNT)
    assert expected_first and expected_first != expected_all

    loader = open_any_store(kind)
    loader.configure(plan)
    loading = loader.loading()
    loading.__enter__()  # a load that has not ended (and, for the restart below, never will)
    with loader.transaction() as tx:
        tx.assume_new(DEMO_ACCOUNT)
        tx.put_many(DEMO_ACCOUNT, first)
    assert _totals(loader, DEMO_ACCOUNT) == []  # held back

    restarted = open_any_store(kind)  # the next start after a crash, or a second process meanwhile
    restarted.configure(plan)
    assert _totals(restarted, DEMO_ACCOUNT) == expected_first
    # The loader was alive after all: it goes on and ends; its totals are not added to the rebuilt ones twice.
    with loader.transaction() as tx:
        tx.assume_new(DEMO_ACCOUNT)
        tx.put_many(DEMO_ACCOUNT, second)
    loading.__exit__(None, None, None)
    assert _totals(loader, DEMO_ACCOUNT) == expected_all
    again = open_any_store(kind)
    again.configure(plan)  # nothing left to recover
    assert _totals(again, DEMO_ACCOUNT) == expected_all
    if kind == "sqlite":
        reference.close()
