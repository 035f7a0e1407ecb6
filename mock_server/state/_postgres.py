"""The PostgreSQL backend: one state shared by several mock processes or machines (`--state postgresql://...`).

The tables and index rows are SQLite's (see `_sql.py`), with PostgreSQL types: `txt` sorts with the "C"
collation (code point order, as Python sorts), `num` is `numeric` (exact for every JSON number). Each
transaction runs on its own connection from a pool (`POOL_SIZE`), so requests served on several threads do
not queue behind one connection. A write transaction takes a transaction-scoped advisory lock per account
before it reads, so a read-check-write (an email's uniqueness, a list's members) is atomic across
connections and processes; the locks go with the transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from . import _sql_rollups as rollups
from ._plan import IndexPlan
from ._sql import (
    INDEX_TABLES,
    WINDOW_SCHEMA,
    Row,
    append_journal,
    decimal_number,
    index_names,
    read_journal,
    reindex,
    stored_accounts,
)
from ._sql_load import LoadLock, LoadTotals
from ._sql_rollups import TABLE as ROLLUPS
from ._sqlite import INDEX_VERSION
from ._store import JOURNAL_LIMIT, JOURNAL_MAX_BYTES, StoreTx

__all__ = ["PostgresStore"]

log = logging.getLogger(__name__)

# The `*_rid` indexes (for replacing a record's rows) start with the id, so no query by account and type can
# mistake them for the walk and lookup indexes.
_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    account TEXT NOT NULL, rtype TEXT NOT NULL, rid TEXT NOT NULL, seq BIGINT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (account, rtype, rid)
);
CREATE TABLE IF NOT EXISTS entries (
    account TEXT NOT NULL, rtype TEXT NOT NULL, field TEXT NOT NULL, key TEXT COLLATE "C", rid TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_key ON entries (account, rtype, field, key);
CREATE INDEX IF NOT EXISTS entries_rid ON entries (rid, rtype, account);
CREATE TABLE IF NOT EXISTS orders (
    account TEXT NOT NULL, rtype TEXT NOT NULL, field TEXT NOT NULL, rank INTEGER NOT NULL, num NUMERIC NOT NULL,
    txt TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL, rid TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_walk ON orders (account, rtype, field, rank, num, txt, seq);
CREATE INDEX IF NOT EXISTS orders_rid ON orders (rid, rtype, account);
CREATE TABLE IF NOT EXISTS refs (account TEXT NOT NULL, rtype TEXT NOT NULL, target TEXT NOT NULL, rid TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS refs_target ON refs (account, rtype, target);
CREATE INDEX IF NOT EXISTS refs_rid ON refs (rid, rtype, account);
CREATE TABLE IF NOT EXISTS ranges (
    account TEXT NOT NULL, rtype TEXT NOT NULL, field TEXT NOT NULL, key TEXT COLLATE "C", num NUMERIC,
    seq BIGINT NOT NULL, rid TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ranges_window ON ranges (account, rtype, field, key, num, seq);
CREATE INDEX IF NOT EXISTS ranges_rid ON ranges (rid, rtype, account);
CREATE TABLE IF NOT EXISTS journal (seq BIGSERIAL PRIMARY KEY, account TEXT NOT NULL, entry TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS journal_account ON journal (account, seq);
CREATE TABLE IF NOT EXISTS journal_sizes (account TEXT PRIMARY KEY, entries BIGINT NOT NULL, bytes BIGINT NOT NULL);
CREATE SEQUENCE IF NOT EXISTS resource_seq;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_DEFERRED = [name for name in index_names(_SCHEMA + WINDOW_SCHEMA) if name != "journal_account"]
_LOADED = ("resources", *INDEX_TABLES)  # the tables a load fills (autovacuum is off for them while it runs)
BUILD_MEMORY = "256MB"  # maintenance_work_mem while the indexes of a load are built (the default: 64 MB)
COPY_FROM = 200  # rows a write appends from which COPY is cheaper than pipelined INSERTs
_SETUP_LOCK = 7_357_001  # advisory lock key: one process at a time creates the tables / reindexes
_LOAD_LOCK = 7_357_002  # advisory lock key (session): one process at a time loads (`load_lock`)


def _clean(value: Any) -> Any:
    # PostgreSQL text cannot hold NUL; JSON bodies escape it, identifiers from a URL may not.
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


_COPY_ESCAPE = re.compile(r"[\\\t\n\r\x00]")  # what COPY's text format escapes (NUL: `_clean`)
_COPY_ESCAPES = {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\ufffd"}


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    text = value if isinstance(value, str) else str(value)
    return _COPY_ESCAPE.sub(lambda m: _COPY_ESCAPES[m.group()], text) if _COPY_ESCAPE.search(text) else text


def _copy_text(rows: list[Row]) -> str:
    """Rows in COPY's text format. Most rows need no escaping (JSON bodies hold no tab or newline): each is
    joined as it is and checked at once (a field holding a tab or a newline shows in the counts); only the rows
    that hold one, a backslash (a JSON body's escaped quote), a CR or a NUL are escaped field by field."""
    tabs = len(rows[0]) - 1
    lines: list[str] = []
    for row in rows:
        line = "\t".join(["\\N" if v is None else str(v) for v in row])
        # (each NULL's `\N` holds one backslash)
        if (
            line.count("\\") != row.count(None)
            or "\n" in line
            or "\r" in line
            or "\x00" in line
            or line.count("\t") != tabs
        ):
            line = "\t".join([_copy_field(v) for v in row])
        lines.append(line)
    lines.append("")
    return "\n".join(lines)


class _Postgres:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def run(self, sql: str, args: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        return self.conn.execute(sql.replace("?", "%s"), [_clean(a) for a in args])

    def write(self, statements: list[tuple[str, list[Row]]], appends: list[tuple[str, list[Row]]]) -> None:
        # A few rows (a single create): every statement in one pipelined round trip. A batch (a bulk import, a
        # demo account loading): COPY, which costs a fraction of a statement per row.
        copy = sum(len(rows) for _, rows in appends) >= COPY_FROM
        with self.conn.pipeline(), self.conn.cursor() as cur:
            for sql, rows in statements:
                if rows:
                    cur.executemany(sql.replace("?", "%s"), [[_clean(a) for a in row] for row in rows])
            for table, rows in [] if copy else appends:
                if rows:
                    marks = ", ".join("%s" for _ in rows[0])
                    cur.executemany(f"INSERT INTO {table} VALUES ({marks})", [[_clean(a) for a in r] for r in rows])
        if copy:
            with self.conn.cursor() as cur:
                for table, rows in appends:
                    if rows:
                        with cur.copy(f"COPY {table} FROM STDIN") as out:
                            out.write(_copy_text(rows))

    def next_seqs(self, count: int) -> list[int]:
        if not count:
            return []
        rows = self.conn.execute("SELECT nextval('resource_seq') FROM generate_series(1, %s)", [count]).fetchall()
        return sorted(int(r[0]) for r in rows)

    def number(self, value: Any) -> Any:
        return decimal_number(value)

    def records(self, account: str, rtype: str, rids: list[str], columns: str = "rid, body, seq") -> list[Any]:
        return self.matching("resources", columns, "account=? AND rtype=?", (account, rtype), "rid", rids)

    def matching(
        self, table: str, columns: str, where: str, args: Sequence[Any], column: str, values: list[str]
    ) -> list[Any]:
        # One statement whatever the count (a pipeline of one lookup per value costs the client ~40 us each): an
        # index seek per value. Not `column = ANY(...)` nor `IN (...)`: on tables without statistics yet (a demo
        # account just loaded) the planner seeks the `where` range and filters all of it by the list, which at 1M
        # profiles is a million index entries and heap rows for each bulk job's lookup of its emails.
        if not values:
            return []
        return self.run(
            f"SELECT r.* FROM unnest(?::text[]) AS u(value), LATERAL (SELECT {columns} FROM {table} "
            f"WHERE {where} AND {column} = u.value OFFSET 0) AS r",
            ([_clean(v) for v in values], *args),
        ).fetchall()

    def lock_account(self, account: str) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [_clean(account)])


def _create_schema(dialect: _Postgres) -> None:
    """The tables and indexes (those a load dropped, after it or a crash), autovacuum on for every table."""
    dialect.conn.execute(_SCHEMA + WINDOW_SCHEMA)
    off = dialect.run(
        "SELECT relname FROM pg_class WHERE relname = ANY(?) AND relkind = 'r' "
        "AND reloptions @> ARRAY['autovacuum_enabled=false'] AND pg_table_is_visible(oid)",
        (list(_LOADED),),
    ).fetchall()
    for (table,) in off:
        dialect.run(f"ALTER TABLE {table} RESET (autovacuum_enabled)")


POOL_SIZE = 8  # connections one process holds at most (requests on worker threads each take one)


class PostgresStore:
    kind = "postgresql"
    shareable = True
    concurrent = True  # each transaction has its own pooled connection: requests may run on several threads

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE) -> None:
        self.url = url
        # A pool, not one connection under a lock: concurrent requests of one process wait only for one
        # another's advisory locks (the writers of one account), as requests of other processes do.
        self._pool = ConnectionPool(
            url, min_size=1, max_size=pool_size, kwargs={"autocommit": True}, open=True, name="kdk-state"
        )
        self.plan = IndexPlan()
        self._totals = LoadTotals()  # a load's hourly totals, written when it ends
        self._load_lock = LoadLock(self._take_load_lock)
        with self._exclusive() as dialect:
            _create_schema(dialect)

    @contextmanager
    def _transaction(self, begin: str = "BEGIN") -> Iterator[_Postgres]:
        """A transaction on a pooled connection (explicit: the connections are in autocommit mode)."""
        with self._pool.connection() as conn:
            conn.execute(begin)
            try:
                yield _Postgres(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextmanager
    def _exclusive(self) -> Iterator[_Postgres]:
        with self._transaction() as dialect:
            dialect.conn.execute("SELECT pg_advisory_xact_lock(%s)", [_SETUP_LOCK])
            yield dialect

    def configure(self, plan: IndexPlan) -> None:
        with self._exclusive() as dialect:
            row = dialect.conn.execute("SELECT value FROM meta WHERE name = 'plan'").fetchone()
            if row is None or row[0] != plan.fingerprint() + INDEX_VERSION:
                reindex(dialect, plan)
                dialect.conn.execute(
                    "INSERT INTO meta VALUES ('plan', %s) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                    [plan.fingerprint() + INDEX_VERSION],
                )
            rollups.recover_held(dialect, plan)
            self.plan = plan

    def load_lock(self) -> AbstractContextManager[None]:
        """Held by one process at a time for a whole load (`_sql_load.LoadLock`): a session advisory lock on a
        connection of its own, which the server drops when the connection ends (the process died: a crash)."""
        return self._load_lock()

    @contextmanager
    def _take_load_lock(self) -> Iterator[None]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            # A loader's machine that vanishes (no FIN sent) is noticed by the server in about a minute, not after
            # the system's default two hours of TCP silence (over a unix socket: ignored, nothing to notice).
            conn.execute("SET tcp_keepalives_idle = 30")
            conn.execute("SET tcp_keepalives_interval = 10")
            conn.execute("SET tcp_keepalives_count = 3")
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", [_LOAD_LOCK]).fetchone()
            if not (row and row[0]):
                log.warning("waiting for a load into this database by another process to end")
                conn.execute("SELECT pg_advisory_lock(%s)", [_LOAD_LOCK])
            yield  # (closing the connection ends the lock)

    @contextmanager
    def loading(self) -> Iterator[None]:
        """A bulk load (a demo account): into an empty store, the index tables' indexes are dropped while it
        runs and built after it, by a sort each, not by millions of B-tree inserts (an 11M-resource account's
        index rows outgrow memory and each insert reads pages back). Other processes still read correctly
        meanwhile (by scans); one starting meanwhile creates them again (its schema setup), as does the next
        start after a crash. Autovacuum is off for the tables it fills meanwhile (it scanned each table again at
        every 20% of growth); it is back on after the load, and at the next start after a crash.

        The hourly totals of the accounts it fills are added up in memory meanwhile and written once, when it
        ends (`HeldTotals`: crash-safe)."""
        with self._exclusive() as dialect:
            empty = not stored_accounts(dialect)
            for name in _DEFERRED if empty else ():
                dialect.run(f"DROP INDEX IF EXISTS {name}")
            for table in _LOADED if empty else ():
                dialect.run(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        try:
            with self._totals.holding(self.transaction):
                yield
        finally:
            if empty:
                # No ANALYZE after: the reads' plans need no statistics (test_store_sql_plans.py), and sampling
                # the index tables right after a load took minutes at 100k profiles (autovacuum analyzes later).
                with self._exclusive() as dialect:
                    dialect.run(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'")
                    _create_schema(dialect)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreTx]:
        """Writers of one account are serialised (an advisory lock taken on first touch); readers see one
        snapshot."""
        begun = self._transaction("BEGIN" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ")
        with self._totals.transaction(begun, self.plan, write=write) as tx:
            yield tx

    def reset(self, account: str | None = None) -> None:
        with self._transaction() as dialect:
            for table in ("resources", "journal", "journal_sizes", *INDEX_TABLES, ROLLUPS):
                if account is None:
                    dialect.run(f"DELETE FROM {table}")
                else:
                    dialect.run(f"DELETE FROM {table} WHERE account=?", (account,))

    def accounts(self) -> list[str]:
        with self._transaction() as dialect:
            return stored_accounts(dialect)

    def append_journal(
        self,
        account: str,
        entry: dict[str, Any] | str,
        *,
        max_entries: int = JOURNAL_LIMIT,
        max_bytes: int = JOURNAL_MAX_BYTES,
    ) -> None:
        with self._transaction() as dialect:
            # Appends to one account's journal take turns (its sizes row is created by the first).
            dialect.run("SELECT pg_advisory_xact_lock(hashtextextended(?, 1))", (account,))
            append_journal(dialect, account, entry, max_entries, max_bytes, length="octet_length(entry)")

    def journal(self, account: str | None = None, limit: int = JOURNAL_LIMIT) -> list[dict[str, Any]]:
        with self._transaction() as dialect:
            return read_journal(dialect, account, limit)

    def clear_journal(self, account: str | None = None) -> None:
        with self._transaction() as dialect:
            for table in ("journal", "journal_sizes"):
                if account is None:
                    dialect.run(f"DELETE FROM {table}")
                else:
                    dialect.run(f"DELETE FROM {table} WHERE account=?", (account,))

    def close(self) -> None:
        self._pool.close()
