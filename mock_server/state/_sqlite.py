"""The SQLite backend: state that survives a restart and is shared by `kdk mock --workers N` (one file)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from . import _sql_rollups as rollups
from ._plan import IndexPlan
from ._sql import (
    INDEX_TABLES,
    WINDOW_SCHEMA,
    Row,
    append_journal,
    index_names,
    read_journal,
    reindex,
    stored_accounts,
)
from ._sql_load import LoadLock, LoadTotals, file_lock
from ._sql_rollups import TABLE as ROLLUPS
from ._store import JOURNAL_LIMIT, JOURNAL_MAX_BYTES, StoreTx

__all__ = ["INDEX_TABLES", "INDEX_VERSION", "SqliteStore", "retry_while_locked"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    account TEXT NOT NULL, rtype TEXT NOT NULL, rid TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (account, rtype, rid)
);
CREATE TABLE IF NOT EXISTS entries (
    account TEXT NOT NULL, rtype TEXT NOT NULL, field TEXT NOT NULL, key TEXT, rid TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_key ON entries (account, rtype, field, key);
CREATE INDEX IF NOT EXISTS entries_rid ON entries (rid, rtype, account);
CREATE TABLE IF NOT EXISTS orders (
    account TEXT NOT NULL, rtype TEXT NOT NULL, field TEXT NOT NULL, rank INTEGER NOT NULL, num NUMERIC NOT NULL,
    txt TEXT NOT NULL, seq INTEGER NOT NULL, rid TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_walk ON orders (account, rtype, field, rank, num, txt, seq);
CREATE INDEX IF NOT EXISTS orders_rid ON orders (rid, rtype, account);
CREATE TABLE IF NOT EXISTS refs (account TEXT NOT NULL, rtype TEXT NOT NULL, target TEXT NOT NULL, rid TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS refs_target ON refs (account, rtype, target);
CREATE INDEX IF NOT EXISTS refs_rid ON refs (rid, rtype, account);
CREATE TABLE IF NOT EXISTS ranges (
    account TEXT NOT NULL, rtype TEXT NOT NULL, field TEXT NOT NULL, key TEXT, num NUMERIC, seq INTEGER NOT NULL,
    rid TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ranges_window ON ranges (account, rtype, field, key, num, seq);
CREATE INDEX IF NOT EXISTS ranges_rid ON ranges (rid, rtype, account);
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, entry TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS journal_account ON journal (account, seq);
CREATE TABLE IF NOT EXISTS journal_sizes (account TEXT PRIMARY KEY, entries INTEGER NOT NULL, bytes INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_DEFERRED = [name for name in index_names(_SCHEMA + WINDOW_SCHEMA) if name != "journal_account"]
CACHE_KB = 131_072  # page cache per connection (a ceiling: pages are cached as they are read)
INDEX_VERSION = ":5"  # bumped when the index rows of a record change shape (files are reindexed once)


class _Sqlite:
    """The SQLite dialect of `SqlTx` (writers are serialised by `BEGIN IMMEDIATE`: no account lock)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def run(self, sql: str, args: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, args)

    def write(self, statements: list[tuple[str, list[Row]]], appends: list[tuple[str, list[Row]]]) -> None:
        for sql, rows in statements:
            if rows:
                self.conn.executemany(sql, rows)
        for table, rows in appends:
            if rows:
                self.conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in rows[0])})", rows)

    def next_seqs(self, count: int) -> list[int]:
        if not count:
            return []
        self.conn.execute("INSERT OR IGNORE INTO counters VALUES ('seq', 0)")
        row = self.conn.execute(
            "UPDATE counters SET value = value + ? WHERE name = 'seq' RETURNING value", (count,)
        ).fetchone()
        return list(range(int(row[0]) - count + 1, int(row[0]) + 1))

    def number(self, value: Any) -> Any:
        return value

    def lock_account(self, account: str) -> None:
        return None

    def records(self, account: str, rtype: str, rids: list[str], columns: str = "rid, body, seq") -> list[Any]:
        return self.matching("resources", columns, "account=? AND rtype=?", (account, rtype), "rid", rids)

    def matching(
        self, table: str, columns: str, where: str, args: Sequence[Any], column: str, values: list[str]
    ) -> list[Any]:
        rows: list[Any] = []
        for start in range(0, len(values), 500):  # SQLite plans an IN list as one index seek per value
            chunk = values[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows += self.conn.execute(
                f"SELECT {columns} FROM {table} WHERE {where} AND {column} IN ({marks})", (*args, *chunk)
            ).fetchall()
        return rows


def retry_while_locked(setup: Callable[[], None]) -> None:
    """Run `setup` (WAL switch, schema) on a shared file. Switching to WAL needs a moment alone with the file;
    workers opening it together can get SQLITE_BUSY without the busy handler being consulted, so retry briefly."""
    for attempt in range(200):
        try:
            setup()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == 199:
                raise
            time.sleep(0.05)


class SqliteStore:
    kind = "sqlite"
    shareable = True
    concurrent = False  # one connection per process, under a lock

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection per process, used under a lock; `BEGIN IMMEDIATE` serialises writers across processes.
        self._conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout=30000")
        # SQLite's default page cache is 2 MB: at 100k profiles the index B-trees are hundreds of MB, and a load
        # or a walk would read most pages back from the OS for each statement.
        self._conn.execute(f"PRAGMA cache_size=-{CACHE_KB}")
        self._setup()
        self._lock = threading.RLock()
        self._dialect = _Sqlite(self._conn)
        self.plan = IndexPlan()
        self._totals = LoadTotals()  # a load's hourly totals, written when it ends
        self._load_lock = LoadLock(
            nullcontext if str(path) == ":memory:" else lambda: file_lock(Path(f"{self.path}-load.lock"))
        )

    def configure(self, plan: IndexPlan) -> None:
        """Index for `plan`; a file indexed for another plan (or none) is reindexed once, in one transaction."""
        with self._lock:
            with self._begun():
                row = self._conn.execute("SELECT value FROM meta WHERE name = 'plan'").fetchone()
                if row is None or row[0] != plan.fingerprint() + INDEX_VERSION:
                    reindex(self._dialect, plan)
                    self._conn.execute(
                        "INSERT INTO meta VALUES ('plan', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        (plan.fingerprint() + INDEX_VERSION,),
                    )
                rollups.recover_held(self._dialect, plan)
            self.plan = plan

    def load_lock(self) -> AbstractContextManager[None]:
        """Held by one process at a time for a whole load (`_sql_load.LoadLock`): an flock on a file beside the
        database (SQLite's own locks are fcntl locks on the file itself, which a second descriptor would drop)."""
        return self._load_lock()

    @contextmanager
    def loading(self) -> Iterator[None]:
        """A bulk load (a demo account): into an empty file, the index tables' indexes are dropped while it runs
        and built after it, by a sort each, not by millions of B-tree inserts. A process opening the file
        meanwhile creates them again (its schema setup), as does the next start after a crash. The hourly totals
        of the accounts it fills are added up meanwhile and written once, when it ends (`HeldTotals`: crash-safe)."""
        with self._lock, self._begun():
            empty = not stored_accounts(self._dialect)
            for name in _DEFERRED if empty else ():
                self._conn.execute(f"DROP INDEX IF EXISTS {name}")
        try:
            with self._totals.holding(self.transaction):
                yield
        finally:
            if empty:
                with self._lock:
                    retry_while_locked(self._create_tables)

    def _create_tables(self) -> None:
        self._conn.executescript(_SCHEMA + WINDOW_SCHEMA)

    def _setup(self) -> None:
        def setup() -> None:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._create_tables()

        retry_while_locked(setup)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreTx]:
        """Exclusive across processes for writes (`BEGIN IMMEDIATE`); a consistent snapshot for reads."""
        with self._lock, self._totals.transaction(self._begun(write), self.plan, write=write) as tx:
            yield tx

    @contextmanager
    def _begun(self, write: bool = True) -> Iterator[_Sqlite]:
        """A transaction on the connection (the caller holds `_lock`): committed, or rolled back if the block raises."""
        self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield self._dialect
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _write(self, *statements: str, args: tuple[Any, ...] = ()) -> None:
        with self._lock, self._begun():
            for sql in statements:
                self._conn.execute(sql, args)

    def reset(self, account: str | None = None) -> None:
        with self._lock, self._begun():
            for table in ("resources", "journal", "journal_sizes", *INDEX_TABLES, ROLLUPS):
                if account is None:
                    self._conn.execute(f"DELETE FROM {table}")
                else:
                    self._conn.execute(f"DELETE FROM {table} WHERE account=?", (account,))

    def accounts(self) -> list[str]:
        with self._lock:
            return stored_accounts(self._dialect)

    def append_journal(
        self,
        account: str,
        entry: dict[str, Any] | str,
        *,
        max_entries: int = JOURNAL_LIMIT,
        max_bytes: int = JOURNAL_MAX_BYTES,
    ) -> None:
        with self._lock, self._begun():
            append_journal(self._dialect, account, entry, max_entries, max_bytes, length="length(CAST(entry AS BLOB))")

    def journal(self, account: str | None = None, limit: int = JOURNAL_LIMIT) -> list[dict[str, Any]]:
        with self._lock:
            return read_journal(self._dialect, account, limit)

    def clear_journal(self, account: str | None = None) -> None:
        if account is None:
            self._write("DELETE FROM journal", "DELETE FROM journal_sizes")
        else:
            where = " WHERE account=?"
            self._write(f"DELETE FROM journal{where}", f"DELETE FROM journal_sizes{where}", args=(account,))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
