"""The SQL stores' request journal: each account keeps its newest entries within both bounds (count and bytes),
with its sizes kept alongside (an append does not walk the journal), across a restart, a clear, and a file
written before the sizes were kept."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from mock_server.state import SqliteStore, Store
from mock_server.state._postgres import PostgresStore

SQL_KINDS = ("sqlite", "postgresql")


def _sizes(store: Store, account: str) -> tuple[int, int] | None:
    sql = "SELECT entries, bytes FROM journal_sizes WHERE account=?"
    if isinstance(store, SqliteStore):
        row = store._conn.execute(sql, (account,)).fetchone()
    else:
        assert isinstance(store, PostgresStore)
        with store._transaction() as dialect:
            row = dialect.run(sql, (account,)).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


@pytest.mark.parametrize("kind", SQL_KINDS)
def test_journal_keeps_the_newest_within_both_bounds(kind: str, open_any_store: Callable[[str], Store]) -> None:
    store = open_any_store(kind)
    for i in range(6):
        store.append_journal("a", {"n": i}, max_entries=4)
    store.append_journal("b", {"n": 99})
    assert [e["n"] for e in store.journal("a")] == [2, 3, 4, 5]
    assert _sizes(store, "a") == (4, 4 * len('{"n": 0}'))
    store.append_journal("a", {"n": 6, "pad": "x" * 130}, max_bytes=150)  # 149 bytes of JSON
    assert [e["n"] for e in store.journal("a")] == [6]  # the older ones no longer fit in 150 bytes
    assert _sizes(store, "a") == (1, 149)
    store.append_journal("a", {"n": 7, "pad": "x" * 200}, max_bytes=150)  # alone too big: nothing is kept
    assert store.journal("a") == [] and _sizes(store, "a") == (0, 0)
    store.close()
    store = open_any_store(kind)  # a restart: the sizes are the file's
    for i in range(3):
        store.append_journal("a", {"n": i}, max_entries=2)
    assert [e["n"] for e in store.journal("a")] == [1, 2]
    store.clear_journal("a")
    assert store.journal("a") == [] and _sizes(store, "a") is None
    assert store.journal("b") == [{"n": 99}]
    store.append_journal("a", {"n": 8})
    assert _sizes(store, "a") == (1, len('{"n": 8}'))


@pytest.mark.parametrize("kind", SQL_KINDS)
def test_journal_written_without_sizes_is_counted_once(kind: str, open_any_store: Callable[[str], Store]) -> None:
    """A journal from a version that kept no sizes: the first append counts it, then trims it to its bounds."""
    store = open_any_store(kind)
    for i in range(5):
        store.append_journal("a", {"n": i})
    delete = "DELETE FROM journal_sizes"
    if isinstance(store, SqliteStore):
        store._conn.execute(delete)
    else:
        assert isinstance(store, PostgresStore)
        with store._transaction() as dialect:
            dialect.run(delete)
    store.append_journal("a", {"n": 5}, max_entries=3)
    assert [e["n"] for e in store.journal("a")] == [3, 4, 5]
    assert _sizes(store, "a") == (3, 3 * len('{"n": 0}'))
