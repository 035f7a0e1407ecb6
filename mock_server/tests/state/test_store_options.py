"""`--state postgresql://...`: opened like the other stores, shareable by workers, refused clearly."""

from __future__ import annotations

from mock_server.state import StateOptionError, check_workers, open_store, validate_options

from ..postgres_cluster import PostgresCluster


def test_postgresql_state_opens_and_allows_workers(postgres: PostgresCluster) -> None:
    url = postgres.database("options")
    store = open_store(url)
    assert (store.kind, store.shareable) == ("postgresql", True)
    store.close()
    assert validate_options(url, None, 4) is None
    assert check_workers(url, 4) is None
    assert check_workers("memory", 4) is not None


def test_unreachable_postgresql_is_a_clear_error_without_the_password(postgres: PostgresCluster) -> None:
    url = f"postgresql://kdk:s3cret@/nope?host={postgres.directory}&port={postgres.port}"
    problem = validate_options(url, None, 1) or ""
    assert "cannot open the PostgreSQL state" in problem and "s3cret" not in problem
    try:
        open_store(url)
    except StateOptionError as exc:
        assert "s3cret" not in str(exc)
    else:
        raise AssertionError("a missing database must be refused")
    assert "postgresql://" in (validate_options("mysql://x", None, 1) or "")


def test_postgresql_journal_keeps_the_newest_within_its_bounds(postgres: PostgresCluster) -> None:
    from mock_server.state._postgres import PostgresStore

    store = PostgresStore(postgres.database("journal"))
    for i in range(6):
        store.append_journal("a", {"n": i}, max_entries=4)
    store.append_journal("b", {"n": 99})
    assert [e["n"] for e in store.journal("a")] == [2, 3, 4, 5]
    store.append_journal("a", {"n": 6, "pad": "x" * 130}, max_bytes=150)  # 149 bytes of JSON
    assert [e["n"] for e in store.journal("a")] == [6]  # the older ones no longer fit in 150 bytes
    assert [e["n"] for e in store.journal(None)] == [99, 6]
    store.clear_journal("a")
    assert store.journal("a") == [] and store.journal("b") == [{"n": 99}]
    store.close()
