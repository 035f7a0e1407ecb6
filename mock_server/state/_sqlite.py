"""The SQLite backend: state that survives a restart and is shared by `kdk mock --workers N`."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._store import JOURNAL_LIMIT, JOURNAL_MAX_BYTES, Record, StoreTx

__all__ = ["SqliteStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    account TEXT NOT NULL, rtype TEXT NOT NULL, rid TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (account, rtype, rid)
);
CREATE INDEX IF NOT EXISTS resources_scan ON resources (account, rtype, seq);
CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, entry TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS journal_account ON journal (account, seq);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class _SqliteTx:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._c = conn

    def get(self, account: str, rtype: str, rid: str) -> Record | None:
        row = self._c.execute(
            "SELECT body, seq FROM resources WHERE account=? AND rtype=? AND rid=?", (account, rtype, rid)
        ).fetchone()
        return _load(row) if row else None

    def put(self, account: str, record: Record) -> Record:
        row = self._c.execute(
            "SELECT seq FROM resources WHERE account=? AND rtype=? AND rid=?", (account, record["type"], record["id"])
        ).fetchone()
        if row:
            record["seq"] = row[0]
        elif "seq" not in record:
            self._c.execute("INSERT OR IGNORE INTO counters VALUES ('seq', 0)")
            self._c.execute("UPDATE counters SET value = value + 1 WHERE name = 'seq'")
            record["seq"] = self._c.execute("SELECT value FROM counters WHERE name = 'seq'").fetchone()[0]
        self._c.execute(
            "INSERT OR REPLACE INTO resources VALUES (?, ?, ?, ?, ?)",
            (account, record["type"], record["id"], record["seq"], json.dumps(record)),
        )
        return record

    def delete(self, account: str, rtype: str, rid: str) -> bool:
        cur = self._c.execute("DELETE FROM resources WHERE account=? AND rtype=? AND rid=?", (account, rtype, rid))
        return cur.rowcount > 0

    def scan(self, account: str, rtype: str) -> list[Record]:
        rows = self._c.execute(
            "SELECT body, seq FROM resources WHERE account=? AND rtype=? ORDER BY seq", (account, rtype)
        ).fetchall()
        return [_load(r) for r in rows]

    def types(self, account: str) -> list[str]:
        return [r[0] for r in self._c.execute("SELECT DISTINCT rtype FROM resources WHERE account=?", (account,))]

    def find(self, account: str, rtype: str, attribute: str, value: Any) -> Record | None:
        row = self._c.execute(
            "SELECT body, seq FROM resources WHERE account=? AND rtype=? AND json_extract(body, ?) = ? LIMIT 1",
            (account, rtype, f'$.attributes."{attribute}"', value),
        ).fetchone()
        return _load(row) if row else None


def _load(row: tuple[str, int]) -> Record:
    record: Record = json.loads(row[0])
    record["seq"] = row[1]
    return record


class SqliteStore:
    kind = "sqlite"
    shareable = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection per process, used under a lock; `BEGIN IMMEDIATE` serialises writers across processes.
        self._conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._setup()
        self._lock = threading.RLock()

    def _setup(self) -> None:
        # Switching to WAL needs a moment alone with the file; workers opening it together can get
        # SQLITE_BUSY without the busy handler being consulted, so retry briefly.
        for attempt in range(200):
            try:
                self._conn.execute("PRAGMA journal_mode=WAL")
                self._conn.execute("PRAGMA synchronous=NORMAL")
                self._conn.executescript(_SCHEMA)
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 199:
                    raise
                time.sleep(0.05)

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreTx]:
        """Exclusive across processes for writes (`BEGIN IMMEDIATE`); a consistent snapshot for reads."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield _SqliteTx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(sql, args)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def reset(self, account: str | None = None) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            if account is None:
                self._conn.execute("DELETE FROM resources")
                self._conn.execute("DELETE FROM journal")
            else:
                self._conn.execute("DELETE FROM resources WHERE account=?", (account,))
                self._conn.execute("DELETE FROM journal WHERE account=?", (account,))
            self._conn.execute("COMMIT")

    def accounts(self) -> list[str]:
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT DISTINCT account FROM resources ORDER BY account")]

    def append_journal(
        self,
        account: str,
        entry: dict[str, Any],
        *,
        max_entries: int = JOURNAL_LIMIT,
        max_bytes: int = JOURNAL_MAX_BYTES,
    ) -> None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("INSERT INTO journal (account, entry) VALUES (?, ?)", (account, json.dumps(entry)))
                # Newest first: keep while both the count and the running byte total stay within bounds.
                self._conn.execute(
                    "DELETE FROM journal WHERE seq IN (SELECT seq FROM (SELECT seq, "
                    "ROW_NUMBER() OVER w AS n, SUM(length(CAST(entry AS BLOB))) OVER w AS bytes "
                    "FROM journal WHERE account=? WINDOW w AS (ORDER BY seq DESC)) WHERE n > ? OR bytes > ?)",
                    (account, max_entries, max_bytes),
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def journal(self, account: str | None = None, limit: int = JOURNAL_LIMIT) -> list[dict[str, Any]]:
        with self._lock:
            if account is None:
                rows = self._conn.execute("SELECT entry FROM journal ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
            else:
                rows = self._conn.execute(
                    "SELECT entry FROM journal WHERE account=? ORDER BY seq DESC LIMIT ?", (account, limit)
                ).fetchall()
        return [json.loads(r[0]) for r in reversed(rows)]

    def clear_journal(self, account: str | None = None) -> None:
        if account is None:
            self._write("DELETE FROM journal")
        else:
            self._write("DELETE FROM journal WHERE account=?", (account,))

    def close(self) -> None:
        with self._lock:
            self._conn.close()
