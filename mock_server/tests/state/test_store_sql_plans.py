"""The reads a list request makes of a SQL store (a page in creation order, a `sort=-updated` page and the page
after it, a filter by email, a record by id) and the list of its accounts are index searches: their cost
follows the page, not the account.
Proven by the plans (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN after ANALYZE), never by time."""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any

from mock_server.state import ResourceIndex, SqliteStore, Store
from mock_server.state._plan import build_plan, key_text
from mock_server.state._postgres import PostgresStore, _Postgres
from mock_server.state._sqlite import _Sqlite
from mock_server.state._store import Record

from .conftest import recorded_statements

ACCOUNT = "api_key:pk_plans"
TABLE_SCANS = tuple(f"SCAN {table}" for table in ("resources", "entries", "orders", "refs", "ranges"))
PROFILES = 2_000  # enough rows that a planner with statistics prefers a scan where no index fits


def _profile(n: int) -> Record:
    return {
        "type": "profile",
        "id": f"P{n:05d}",
        "attributes": {
            "email": f"p{n}@example.com",
            "created": f"2025-01-01T00:00:{n % 60:02d}+00:00",
            "updated": f"2025-{1 + n % 12:02d}-01T00:00:00+00:00",
        },
    }


def _reads(store: Store, dialect: type[Any], index: ResourceIndex) -> list[tuple[str, tuple[Any, ...]]]:
    """Fill `store`, then record the statements of the reads a list request makes."""
    store.configure(build_plan(index))
    with store.transaction() as tx:
        tx.put_many(ACCOUNT, [_profile(n) for n in range(PROFILES)])
    with recorded_statements(dialect) as statements, store.transaction(write=False) as tx:
        for field, descending in ((None, False), ("updated", True), ("email", False)):
            page = list(islice(tx.walk(ACCOUNT, "profile", field, descending=descending, after=None), 21))
            assert len(page) == 21
            after = page[-1][0]
            assert len(list(islice(tx.walk(ACCOUNT, "profile", field, descending=descending, after=after), 21))) == 21
        found = tx.candidates(ACCOUNT, "profile", "email", [key_text("p77@example.com") or ""])
        assert [r["id"] for r in found or []] == ["P00077"]
        # A bulk job's lookup of its identifiers: many keys at once, stored and new ones.
        emails = [key_text(f"p{n}@example.com") or "" for n in range(0, 2 * PROFILES, 4)]
        found = tx.candidates(ACCOUNT, "profile", "email", emails)
        assert sorted(r["id"] for r in found or []) == [f"P{n:05d}" for n in range(0, PROFILES, 4)]
        assert tx.get(ACCOUNT, "profile", "P01234") is not None
    with recorded_statements(dialect) as listed:
        assert store.accounts() == [ACCOUNT]  # read at every start: one seek per account, not every record
    statements += listed
    assert any("FROM orders" in sql for sql, _ in statements)
    assert any("FROM entries" in sql for sql, _ in statements)
    return statements


def test_sqlite_reads_a_page_by_index(index: ResourceIndex, tmp_path: Any) -> None:
    store = SqliteStore(tmp_path / "state.db")
    try:
        statements = _reads(store, _Sqlite, index)
        with store.transaction(write=False):
            for sql, args in statements:
                plan = [row[-1] for row in store._conn.execute(f"EXPLAIN QUERY PLAN {sql}", args)]
                assert not any(line.startswith(TABLE_SCANS) for line in plan), (sql, plan)
                assert not any("TEMP B-TREE" in line for line in plan), (sql, plan)  # no sort of the rows read
            # Bodies are read by primary key.
            plan = [
                row[-1]
                for row in store._conn.execute(
                    "EXPLAIN QUERY PLAN SELECT rid, body, seq FROM resources WHERE account=? AND rtype=? "
                    "AND rid IN (?, ?)",
                    (ACCOUNT, "profile", "P00001", "P00002"),
                )
            ]
            assert plan and all(line.startswith("SEARCH resources USING INDEX") for line in plan), plan
    finally:
        store.close()


def test_postgres_reads_a_page_by_index(index: ResourceIndex, open_any_store: Callable[[str], Store]) -> None:
    store = open_any_store("postgresql")
    assert isinstance(store, PostgresStore)
    statements = _reads(store, _Postgres, index)
    bodies = [sql for sql, _ in statements if "FROM resources" in sql and "unnest" in sql]  # the bodies, by id
    keyed = [sql for sql, _ in statements if "FROM entries" in sql and "unnest" in sql]  # many keys at once
    assert bodies and keyed
    with store._transaction() as dialect:
        # Freshly loaded (no statistics yet: a demo account just stored), then analyzed.
        for analyzed in (False, True):
            if analyzed:
                dialect.run("ANALYZE")
            for sql, args in statements:
                plan = "\n".join(r[0] for r in dialect.run(f"EXPLAIN {sql}", args).fetchall())
                assert "Seq Scan" not in plan, (analyzed, sql, plan)
                assert "Sort" not in plan, (analyzed, sql, plan)  # the index gives the order
                if sql in bodies:  # each id is a seek: not the type's records filtered by the ids
                    assert "(rid = u.value)" in plan and "Filter" not in plan, (analyzed, sql, plan)
                if sql in keyed:  # each key is a seek: not the field's entries filtered by the keys (1M at 1M)
                    assert "(key = u.value)" in plan and "Filter" not in plan, (analyzed, sql, plan)
