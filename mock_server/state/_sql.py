"""What the SQL stores (SQLite, PostgreSQL) share: the tables, index maintenance and indexed reads.

Tables: `resources` holds each record as JSON; `entries` holds its equality keys per indexed field (a NULL
key: the value depends on other records, always a candidate); `orders` its position per sort field
(`rank, num, txt, seq`: values of one kind compare among themselves, like `_plan.sort_key`; field '' is
the creation order); `refs` the resources it points at; `ranges` its place in each range index of the plan
(`field` is "parent>field", `key` the parent's key, `num` the number; a NULL key or number: unknown, always
a candidate). Every write replaces a record's rows in the same transaction as the record, so the indexes
are exactly as durable and as consistent as the data.
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from itertools import islice
from typing import Any, Protocol

from . import _sql_rollups as rollups
from ._filters import field_value
from ._plan import IndexPlan, Range, SortKey, key_text, range_keys, range_resume, ref_text, sort_key, sorts_as_ranged
from ._records import sql_record
from ._store import Record, Rollup, first_match, merge_sorted

__all__ = [
    "INDEX_TABLES",
    "ODD",
    "WALK_CHUNK",
    "WINDOW_SCHEMA",
    "Dialect",
    "Row",
    "SqlTx",
    "append_journal",
    "index_names",
    "index_rows",
    "read_journal",
    "reindex",
    "stored_accounts",
]

INDEX_TABLES = ("entries", "orders", "refs", "ranges")
WALK_CHUNK = 64  # index rows fetched at a time by a walk (a page of 20 needs one query)
BODY_GROUPS = (8, 24)  # the first bodies a walk reads, a group at a time (then the rest of its first chunk)
REINDEX_BATCH = 5_000  # records indexed at a time by `reindex`
# A creation-order page of a window walks its parents' rows by seq (`ranges_seq`), keeping those in the window, when
# the window holds at least SEQ_WINDOW rows (fewer are sorted at once by the database); a walk that passes SEQ_BUDGET
# rows (a window at the far end of a time-ordered history) sorts the rest of the window instead.
SEQ_WINDOW = 512
SEQ_CHUNK = 256  # rows passed per statement of such a walk
SEQ_BUDGET = 4096
WINDOW_PARENTS = 100  # parents per statement of a window's unplaced rows (3 UNION terms each)
# What the SQL stores create besides their tables: hourly totals, and the seq order of a range index's rows.
WINDOW_SCHEMA = (
    rollups.SCHEMA + "\nCREATE INDEX IF NOT EXISTS ranges_seq ON ranges (account, rtype, field, key, seq, num);\n"
)
ODD = "~"  # suffix of a range index's name for its placed rows that do not sort where their number puts them


Row = Sequence[Any]


class Cursor(Protocol):
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchmany(self, size: int) -> list[Any]: ...


class Dialect(Protocol):
    """How one SQL database runs a statement written with `?` placeholders."""

    def run(self, sql: str, args: Sequence[Any] = ()) -> Cursor: ...
    def write(self, statements: list[tuple[str, list[Sequence[Any]]]], appends: list[tuple[str, list[Row]]]) -> None:
        """Run each statement once per row (executemany), then add `appends`' rows to their tables (each row
        the table's columns in order; a bulk load's millions of rows: COPY where the database has it)."""

    def next_seqs(self, count: int) -> list[int]: ...
    def number(self, value: Any) -> Any: ...  # a sort value as the `num` column holds it
    def lock_account(self, account: str) -> None: ...  # serialise writers of one account (no-op if global)
    def records(self, account: str, rtype: str, rids: list[str], columns: str = "rid, body, seq") -> list[Any]: ...
    def matching(
        self, table: str, columns: str, where: str, args: Sequence[Any], column: str, values: list[str]
    ) -> list[Any]:
        """`SELECT columns FROM table WHERE where AND column = value` for each of `values`: one index seek per
        value, whatever statistics the planner has (or lacks)."""


def index_names(schema: str) -> list[str]:
    """The indexes a schema creates (`CREATE INDEX IF NOT EXISTS name ON ...`): the index tables' lookup and walk
    indexes, which a load into an empty store drops while it runs and builds after (see the stores' `loading`)."""
    return [line.split()[5] for line in schema.splitlines() if line.startswith("CREATE INDEX IF NOT EXISTS ")]


def index_rows(plan: IndexPlan, dialect: Dialect, account: str, record: Record) -> list[list[Sequence[Any]]]:
    """The `entries`, `orders`, `refs` and `ranges` rows of one record (the order of INDEX_TABLES)."""
    rtype, rid = record["type"], record["id"]
    entries: list[Sequence[Any]] = []
    known: dict[str, list[str] | None] = {}  # field -> its keys (the range rows reuse them)
    for path in plan.fields.get(rtype, ()):
        keys = known[path] = plan.equality_keys(record, path)
        for key in [None] if keys is None else dict.fromkeys(keys):
            entries.append((account, rtype, path, key, rid))
    orders: list[Sequence[Any]] = []
    for path in [None, *plan.sorts.get(rtype, ())]:  # None: creation order, field ''
        rank, value, seq = sort_key(record, path)
        number = dialect.number(value if rank in (0, 1) else 0)
        orders.append((account, rtype, path or "", rank, number, value if rank in (2, 3) else "", seq, rid))
    targets = {
        ref_text(ref["type"], ref["id"])
        for rel in (record.get("relationships") or {}).values()
        if isinstance(rel, dict)
        for ref in rel.get("data") or ()
        if isinstance(ref, dict) and "type" in ref and "id" in ref
    }
    refs: list[Sequence[Any]] = [(account, rtype, target, rid) for target in sorted(targets)]
    ranges: list[Sequence[Any]] = []
    numbers_of: dict[str, tuple[list[Any] | None, bool]] = {}  # path -> its numbers, and are they regular
    for parent, path in sorted(plan.ranges.get(rtype, ())):
        keys = known[parent] if parent in known else plan.equality_keys(record, parent)
        if path not in numbers_of:
            found = range_keys(record, path)
            regular = sorts_as_ranged(field_value(record, path), plan.range_ranks.get((rtype, path), 2))
            numbers_of[path] = (None if found is None else [dialect.number(n) for n in dict.fromkeys(found)], regular)
        numbers, regular = numbers_of[path]
        # Placed records not in sort order go under the index's odd name: a walk merges them by sort key.
        name = f"{parent}>{path}" + ("" if regular or keys is None or numbers is None else ODD)
        for key in [None] if keys is None else dict.fromkeys(keys):
            for num in [None] if numbers is None else numbers:
                ranges.append((account, rtype, name, key, num, record["seq"], rid))
    return [entries, orders, refs, ranges]


def _key(record: Record) -> tuple[str, str]:
    return record["type"], record["id"]


def _index_appends(
    plan: IndexPlan, dialect: Dialect, account: str, records: list[Record]
) -> list[tuple[str, list[Row]]]:
    """The index rows of `records`, per index table."""
    rows: list[list[Row]] = [[] for _ in INDEX_TABLES]
    for record in records:
        for into, new in zip(rows, index_rows(plan, dialect, account, record), strict=True):
            into += new
    return list(zip(INDEX_TABLES, rows, strict=True))


def reindex(dialect: Dialect, plan: IndexPlan) -> None:
    """Rebuild every index row for `plan` (an older file, or one last indexed for another spec), a batch of
    records at a time."""
    for table in INDEX_TABLES:
        dialect.run(f"DELETE FROM {table}")
    rollups.rebuilt(dialect, plan, None, [])
    cursor = dialect.run("SELECT account, body, seq FROM resources")
    while rows := cursor.fetchmany(REINDEX_BATCH):
        by_account: dict[str, list[Record]] = {}
        for account, body, seq in rows:
            by_account.setdefault(account, []).append(sql_record(body, seq))
        for account, records in by_account.items():
            dialect.write([], _index_appends(plan, dialect, account, records))
            rollups.rebuilt(dialect, plan, account, records)


class SqlTx:
    """One transaction of a SQL store (the dialect's connection is held for its duration)."""

    def __init__(
        self, dialect: Dialect, plan: IndexPlan, *, write: bool, held: rollups.HeldTotals | None = None
    ) -> None:
        self._d = dialect
        self._plan = plan
        self._write = write
        self._locked: set[str] = set()
        self._new: set[str] = set()  # accounts whose records written here are all new (see `assume_new`)
        # With `held` (a store's bulk load), the hourly totals of records assumed new are added up here, not
        # written: the store holds them once this commits and writes them when the load ends (`HeldTotals`).
        self._held = held
        self.held_totals: dict[str, rollups.Deltas] = {}

    def assume_new(self, account: str) -> None:
        """The caller vouches that every record `put_many` gets for `account` in this transaction is new (an
        empty account loading records unique by construction: a demo account): they are appended without
        looking for stored versions (a lookup per batch that grows with the account). A record stored after all
        fails on the primary key, not silently."""
        self._new.add(account)

    def write_held(self, held: rollups.HeldTotals) -> None:
        """A load's end: the totals it held back written, account by account under each one's lock."""
        for account in sorted(held.accounts):
            self._account(account)
            held.write(self._d, self._plan, account)

    def _account(self, account: str) -> None:
        if self._write and account not in self._locked:
            self._d.lock_account(account)
            self._locked.add(account)

    def get(self, account: str, rtype: str, rid: str) -> Record | None:
        self._account(account)
        row = self._d.run(
            "SELECT body, seq FROM resources WHERE account=? AND rtype=? AND rid=?", (account, rtype, rid)
        ).fetchone()
        return sql_record(*row) if row else None

    def put(self, account: str, record: Record) -> Record:
        self.put_many(account, [record])
        return record

    def put_many(self, account: str, records: list[Record]) -> None:
        """Store records in one round of statements per table (the bulk endpoints' path)."""
        if not records:
            return
        self._account(account)
        if len({(r["type"], r["id"]) for r in records}) < len(records):  # the last version of each counts
            latest = {(r["type"], r["id"]): r for r in records}
            records = [r for r in records if latest[(r["type"], r["id"])] is r]
        known: dict[tuple[str, str], int] = {}
        for rtype in {r["type"] for r in records} if account not in self._new else ():
            rids = [r["id"] for r in records if r["type"] == rtype]
            # Only where each stored record stands (its body may be a list's megabytes).
            known.update(((rtype, rid), seq) for rid, seq in self._d.records(account, rtype, rids, "rid, seq"))
        fresh = [r for r in records if (r["type"], r["id"]) not in known and "seq" not in r]
        for record, seq in zip(fresh, self._d.next_seqs(len(fresh)), strict=True):
            record["seq"] = seq
        for record in records:
            if (record["type"], record["id"]) in known:  # a stored record keeps its place
                record["seq"] = known[(record["type"], record["id"])]
        stored: list[Row] = [(account, t, rid) for t, rid in known]  # their old index rows go first
        batch: list[tuple[str, list[Row]]] = []
        if stored:
            batch += [(f"DELETE FROM {t} WHERE account=? AND rtype=? AND rid=?", stored) for t in INDEX_TABLES]
            batch.append(
                (
                    "UPDATE resources SET seq=?, body=? WHERE account=? AND rtype=? AND rid=?",
                    [(r["seq"], json.dumps(r), account, r["type"], r["id"]) for r in records if _key(r) in known],
                )
            )
        # Records not found above are new: this transaction holds the account's writers off (see `_account`),
        # so they are appended (COPY in PostgreSQL), not upserted.
        new: list[Row] = [
            (account, r["type"], r["id"], r["seq"], json.dumps(r)) for r in records if _key(r) not in known
        ]
        if self._held is not None and account in self._new:  # all new: no stored version to count out
            self._held.mark(self._d, account)
            rollups.merged(self.held_totals, account, rollups.deltas_of(self._plan, records, 1, {}))
        else:
            rollups.written(self._d, self._plan, account, records, known)  # before the stored bodies change
        self._d.write(batch, [("resources", new), *_index_appends(self._plan, self._d, account, records)])

    def delete(self, account: str, rtype: str, rid: str) -> bool:
        self._account(account)
        rollups.deleted(self._d, self._plan, account, rtype, rid)
        where: list[Row] = [(account, rtype, rid)]  # the index rows in one round trip where the database can
        self._d.write(
            [(f"DELETE FROM {table} WHERE account=? AND rtype=? AND rid=?", where) for table in INDEX_TABLES], []
        )
        cur: Any = self._d.run("DELETE FROM resources WHERE account=? AND rtype=? AND rid=?", (account, rtype, rid))
        return bool(cur.rowcount > 0)

    def scan(self, account: str, rtype: str) -> list[Record]:
        self._account(account)
        rows = self._d.run("SELECT body, seq FROM resources WHERE account=? AND rtype=?", (account, rtype)).fetchall()
        return sorted((sql_record(*r) for r in rows), key=lambda r: r["seq"])

    def types(self, account: str) -> list[str]:
        self._account(account)
        # A skip scan of the primary key (one seek per type), not a DISTINCT over every record of the account.
        rows = self._d.run(
            "WITH RECURSIVE t(rtype) AS (SELECT min(rtype) FROM resources WHERE account=? UNION ALL "
            "SELECT (SELECT min(rtype) FROM resources WHERE account=? AND rtype > t.rtype) FROM t "
            "WHERE t.rtype IS NOT NULL) SELECT rtype FROM t WHERE rtype IS NOT NULL",
            (account, account),
        ).fetchall()
        return [r[0] for r in rows]

    def _records(self, account: str, rtype: str, rids: Sequence[str]) -> dict[str, Record]:
        """The records with these ids, by primary key (index rows are read first, bodies after)."""
        rows = self._d.records(account, rtype, list(dict.fromkeys(rids)))
        return {rid: sql_record(body, seq) for rid, body, seq in rows}

    def candidates(self, account: str, rtype: str, field: str, keys: list[str]) -> list[Record] | None:
        if field not in self._plan.fields.get(rtype, ()):
            return None
        self._account(account)
        where, head = "account=? AND rtype=? AND field=?", (account, rtype, field)
        # Values the index cannot key (NULL: checked by the caller), then one seek per key (a bulk job asks for
        # its 10,000 emails at once).
        rids = [r[0] for r in self._d.run(f"SELECT rid FROM entries WHERE {where} AND key IS NULL", head).fetchall()]
        rids += [r[0] for r in self._d.matching("entries", "rid", where, head, "key", keys)]
        return list(self._records(account, rtype, rids).values())

    def find(self, account: str, rtype: str, attribute: str, value: Any) -> Record | None:
        key = key_text(value)
        found = self.candidates(account, rtype, attribute, [key]) if key is not None else None
        if found is None:
            found = self.scan(account, rtype)
        return first_match(found, attribute, value)

    def referencing(self, account: str, rtype: str, target_type: str, target_id: str) -> list[Record]:
        self._account(account)
        rows = self._d.run(
            "SELECT rid FROM refs WHERE account=? AND rtype=? AND target=?",
            (account, rtype, ref_text(target_type, target_id)),
        ).fetchall()
        return sorted(self._records(account, rtype, [r[0] for r in rows]).values(), key=lambda r: r["seq"])

    def walk(
        self, account: str, rtype: str, sort_field: str | None, *, descending: bool, after: SortKey | None
    ) -> Iterator[tuple[SortKey, Record]]:
        self._account(account)
        if sort_field is not None and sort_field not in self._plan.sorts.get(rtype, ()):
            keyed = sorted(((sort_key(r, sort_field), r) for r in self.scan(account, rtype)), key=lambda kr: kr[0])
            for key, record in reversed(keyed) if descending else keyed:
                if after is None or (key < after if descending else key > after):
                    yield key, record
            return
        direction, compare = ("DESC", "<") if descending else ("ASC", ">")
        first = True
        while True:
            args: tuple[Any, ...] = (account, rtype, sort_field or "")
            bound = ""
            if after is not None:
                rank, value, seq = after
                number = self._d.number(value if rank in (0, 1) else 0)
                bound = f"AND (rank, num, txt, seq) {compare} (?, ?, ?, ?)"
                args += (rank, number, value if rank in (2, 3) else "", seq)
            order = ", ".join(f"{c} {direction}" for c in ("rank", "num", "txt", "seq"))
            rows = self._d.run(
                f"SELECT rid FROM orders WHERE account=? AND rtype=? AND field=? {bound} "
                f"ORDER BY {order} LIMIT {WALK_CHUNK}",
                args,
            ).fetchall()
            rids = [r[0] for r in rows]
            # Bodies are read a group at a time: a page of 20 reads ~32, a one-record sample 8, not the chunk.
            for start, end in _groups(len(rids), first=first):
                bodies = self._records(account, rtype, rids[start:end])
                for rid in rids[start:end]:
                    if rid in bodies:
                        after = sort_key(bodies[rid], sort_field)
                        yield after, bodies[rid]
            if len(rows) < WALK_CHUNK:
                return
            first = False

    def between(
        self, account: str, rtype: str, parent: tuple[str, list[str]], field: str, bounds: Range
    ) -> list[Record] | None:
        if (parent[0], field) not in self._plan.ranges.get(rtype, ()):
            return None
        self._account(account)
        keys = list(dict.fromkeys(parent[1]))
        rows = self._window_of(account, rtype, f"{parent[0]}>{field}", keys, bounds, "rid, num, seq", placed=True)
        if len(keys) > 1 or any(row[3] for row in rows):  # several parents' ranges, or odd rows: one order
            rows.sort(key=lambda row: (row[1] is not None, row[1] or 0, row[2]))  # unknown first
        rids = list(dict.fromkeys(row[0] for row in rows))
        found = self._records(account, rtype, rids)
        return [found[rid] for rid in rids if rid in found]

    def _window_of(
        self,
        account: str,
        rtype: str,
        name: str,
        keys: list[str],
        bounds: Range,
        columns: str,
        *,
        placed: bool = False,
    ) -> list[Any]:
        """The rows of a window that a walk cannot place in order (unknown first: a NULL parent key, or a
        NULL number under a wanted key; then the odd rows in the window), and with `placed` the window's
        regular rows after them: a UNION of ranges of the (account, rtype, field, key, num) index, not an OR.
        A last column tells the odd rows apart. WINDOW_PARENTS parents per statement (SQLite takes at most 500
        terms in a UNION)."""
        where = "account=? AND rtype=? AND field=?"
        head: list[Any] = [account, rtype, name]
        low, high = bounds
        span = "".join(f" AND num {op} ?" for op, bound in ((">=", low), ("<=", high)) if bound is not None)
        numbers = [self._d.number(b) for b in bounds if b is not None]
        rows: list[Any] = []
        for start in range(0, max(len(keys), 1), WINDOW_PARENTS):
            parts = [] if start else [f"SELECT {columns}, 0 FROM ranges WHERE {where} AND key IS NULL"]
            args: list[Any] = [] if start else [*head]
            # `key = ?` per parent, not `key IN (...)`: a planner without statistics filters by a list
            for key in keys[start : start + WINDOW_PARENTS]:
                parts.append(f"SELECT {columns}, 0 FROM ranges WHERE {where} AND key = ? AND num IS NULL")
                args += [*head, key]
                parts.append(f"SELECT {columns}, 1 FROM ranges WHERE {where} AND key = ?{span}")
                args += [account, rtype, name + ODD, key, *numbers]
                if placed:
                    parts.append(f"SELECT {columns}, 0 FROM ranges WHERE {where} AND key = ?{span}")
                    args += [*head, key, *numbers]
            rows += self._d.run(" UNION ALL ".join(parts), args).fetchall()
        return rows

    def walk_between(
        self,
        account: str,
        rtype: str,
        parent: tuple[str, list[str]],
        field: str,
        bounds: Range,
        sort_field: str | None,
        *,
        descending: bool,
        after: SortKey | None,
    ) -> Iterator[tuple[SortKey, Record]] | None:
        if (parent[0], field) not in self._plan.ranges.get(rtype, ()) or sort_field not in (None, field):
            return None
        resume = range_resume(self._plan.range_ranks.get((rtype, field), 2), sort_field, after, descending)
        if resume is None:
            return None
        self._account(account)
        name, keys = f"{parent[0]}>{field}", list(dict.fromkeys(parent[1]))
        unplaced = [r[0] for r in self._window_of(account, rtype, name, keys, bounds, "rid")]
        side = list(self._records(account, rtype, unplaced).values())
        if resume[0] == "none" or not keys:
            placed: Iterator[tuple[SortKey, Record]] = iter(())
        elif sort_field is None:  # creation order: walked by seq, or the window sorted by seq (`_by_seq`)
            rows = self._by_seq(name, account, rtype, keys, bounds, descending, resume[1])
            placed = self._placed(account, rtype, rows, sort_field)
        else:  # each parent's index range in order, merged
            spans = [self._window_rows(name, account, rtype, k, bounds, False, descending, resume[1]) for k in keys]
            rows = (
                spans[0]
                if len(spans) == 1
                else heapq.merge(*spans, key=lambda row: (row[1], row[2]), reverse=descending)
            )
            placed = self._placed(account, rtype, rows, sort_field)
        return merge_sorted(placed, side, sort_field, descending=descending, after=after)

    def rollup(
        self,
        account: str,
        rtype: str,
        parent: tuple[str, str],
        field: str,
        edges: list[float],
        measure: Callable[[Record], float],
    ) -> Rollup | None:
        if self._plan.measures.get((rtype, parent[0], field)) is not measure or len(edges) < 2:
            return None
        self._account(account)
        name = f"{parent[0]}>{field}"
        side = [row[0] for row in self._window_of(account, rtype, name, [parent[1]], (edges[0], edges[-1]), "rid")]
        found = rollups.read(self._d, account, rtype, name, parent[1], edges)
        if found is None:
            return None
        slots, loose = found
        rids = list(dict.fromkeys(side + loose))
        bodies = self._records(account, rtype, rids)
        return slots, [bodies[rid] for rid in rids if rid in bodies]

    def _window_rows(
        self,
        name: str,
        account: str,
        rtype: str,
        key: str,
        bounds: Range,
        by_seq: bool,
        descending: bool,
        after: tuple[float, int] | None,
        chunk: int | None = None,
    ) -> Iterator[tuple[str, Any, int]]:
        """(rid, num, seq) of the regular rows of one parent's window, strictly after `after`, in order (by seq, or
        by (num, seq): one range of the index read in its order), fetched `chunk` (WALK_CHUNK) at a time."""
        limit = chunk or WALK_CHUNK
        direction, compare = ("DESC", "<") if descending else ("ASC", ">")
        low, high = bounds
        span = "".join(f" AND num {op} ?" for op, bound in ((">=", low), ("<=", high)) if bound is not None)
        head = [account, rtype, name, key, *(self._d.number(b) for b in bounds if b is not None)]
        order = f"seq {direction}" if by_seq else f"num {direction}, seq {direction}"
        bound: tuple[Any, int] | None = None if after is None else (self._d.number(after[0]), after[1])
        while True:
            resume, extra = "", []
            if bound is not None:
                resume = f" AND seq {compare} ?" if by_seq else f" AND (num, seq) {compare} (?, ?)"
                extra = [bound[1]] if by_seq else [bound[0], bound[1]]
            rows = self._d.run(
                f"SELECT rid, num, seq FROM ranges WHERE account=? AND rtype=? AND field=? AND key = ?"
                f"{span}{resume} ORDER BY {order} LIMIT {limit}",
                [*head, *extra],
            ).fetchall()
            yield from rows
            if len(rows) < limit:
                return
            bound = (rows[-1][1], rows[-1][2])

    def _by_seq(
        self,
        name: str,
        account: str,
        rtype: str,
        keys: list[str],
        bounds: Range,
        descending: bool,
        after: tuple[float, int] | None,
    ) -> Iterator[tuple[str, Any, int]]:
        """(rid, num, seq) of the regular rows of a window by seq, strictly after `after`: its parents' rows walked
        in seq order and kept when in the window, while the window is large (SEQ_WINDOW rows or more: a page is
        near) and for at most SEQ_BUDGET rows; else, and after that, the window's rows sorted by the database.
        Each parent is read on its own and the parents merged (one range of the index each)."""
        low, high = (None if b is None else self._d.number(b) for b in bounds)
        span = "".join(f" AND num {op} ?" for op, bound in ((">=", low), ("<=", high)) if bound is not None)
        numbers = [b for b in (low, high) if b is not None]
        where = "account=? AND rtype=? AND field=? AND key = ?"
        last = None if after is None else after[1]
        size = 0
        for key in keys if SEQ_WINDOW > 0 else ():
            size += self._d.run(
                f"SELECT count(*) FROM (SELECT 1 FROM ranges WHERE {where}{span} LIMIT {SEQ_WINDOW - size}) AS w",
                [account, rtype, name, key, *numbers],
            ).fetchone()[0]
            if size >= SEQ_WINDOW:
                break
        by_seq = (lambda row: row[2]) if len(keys) > 1 else None
        if SEQ_WINDOW <= 0 or size >= SEQ_WINDOW:
            start = None if last is None else (0.0, last)
            # Each parent's rows in seq order, whatever their number (open bounds), SEQ_CHUNK at a time.
            walks = [
                self._window_rows(name, account, rtype, key, (None, None), True, descending, start, SEQ_CHUNK)
                for key in keys
            ]
            passed = 0
            for row in walks[0] if by_seq is None else heapq.merge(*walks, key=by_seq, reverse=descending):
                last, passed = row[2], passed + 1
                if row[1] is not None and (low is None or row[1] >= low) and (high is None or row[1] <= high):
                    yield row  # (a NULL number: unknown, merged by the caller)
                if passed >= SEQ_BUDGET:
                    break
            else:
                return
        start = None if last is None else (0.0, last)
        spans = [self._window_rows(name, account, rtype, key, bounds, True, descending, start) for key in keys]
        yield from spans[0] if by_seq is None else heapq.merge(*spans, key=by_seq, reverse=descending)

    def _placed(
        self, account: str, rtype: str, rows: Iterator[tuple[str, Any, int]], sort_field: str | None
    ) -> Iterator[tuple[SortKey, Record]]:
        """The records of walked rows, a chunk of bodies at a time, each once."""
        seen: set[str] = set()
        while True:
            chunk = [row[0] for row in islice(rows, WALK_CHUNK)]
            fresh = [rid for rid in dict.fromkeys(chunk) if rid not in seen]
            seen.update(fresh)
            bodies = self._records(account, rtype, fresh)
            for rid in fresh:
                if rid in bodies:
                    yield sort_key(bodies[rid], sort_field), bodies[rid]
            if len(chunk) < WALK_CHUNK:
                return


def _groups(count: int, *, first: bool) -> Iterator[tuple[int, int]]:
    """The (start, end) groups in which a walk reads `count` bodies: growing on its first chunk (most walks stop
    after a page), all at once after."""
    start = 0
    for size in BODY_GROUPS if first else ():
        if start < count:
            yield start, min(count, start + size)
        start += size
    if start < count:
        yield start, count


def decimal_number(value: Any) -> Decimal:
    return Decimal(repr(float(value))) if isinstance(value, float) else Decimal(int(value))


def append_journal(
    dialect: Dialect, account: str, entry: dict[str, Any] | str, max_entries: int, max_bytes: int, *, length: str
) -> None:
    """Append `entry` (or its JSON text) to the account's journal, then drop its oldest entries until the newest
    fit both bounds: both SQL stores' `append_journal` (`length`: the SQL of an entry's size in bytes). The
    account's entry count and bytes are kept in `journal_sizes`, so an append costs a few index seeks, not a walk
    over the journal."""
    text = entry if isinstance(entry, str) else json.dumps(entry)
    dialect.run("INSERT INTO journal (account, entry) VALUES (?, ?)", (account, text))
    row = dialect.run(
        "UPDATE journal_sizes SET entries = entries + 1, bytes = bytes + ? WHERE account=? RETURNING entries, bytes",
        (len(text.encode()), account),
    ).fetchone()
    if row is None:  # the first entry since the sizes are kept (a new account, a file from an older version)
        row = dialect.run(
            f"SELECT count(*), coalesce(sum({length}), 0) FROM journal WHERE account=?", (account,)
        ).fetchone()
        dialect.run("INSERT INTO journal_sizes VALUES (?, ?, ?)", (account, row[0], row[1]))
    entries, size = int(row[0]), int(row[1])
    dropped = False
    while entries > max_entries or size > max_bytes:
        gone = dialect.run(
            f"DELETE FROM journal WHERE seq = (SELECT min(seq) FROM journal WHERE account=?) RETURNING {length}",
            (account,),
        ).fetchone()
        if gone is None:
            break
        entries, size, dropped = entries - 1, size - int(gone[0]), True
    if dropped:
        dialect.run("UPDATE journal_sizes SET entries=?, bytes=? WHERE account=?", (entries, size, account))


def stored_accounts(dialect: Dialect) -> list[str]:
    """The accounts holding resources, in order: a skip scan of the primary key (one seek per account), not a
    DISTINCT over every stored record (seconds at a million profiles, paid at every start)."""
    rows = dialect.run(
        "WITH RECURSIVE a(account) AS (SELECT min(account) FROM resources UNION ALL "
        "SELECT (SELECT min(account) FROM resources WHERE account > a.account) FROM a "
        "WHERE a.account IS NOT NULL) SELECT account FROM a WHERE account IS NOT NULL"
    ).fetchall()
    return [r[0] for r in rows]


def read_journal(dialect: Dialect, account: str | None, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` journal entries (of one account, or of all), oldest first: both SQL stores' `journal`."""
    if account is None:
        rows = dialect.run("SELECT entry FROM journal ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
    else:
        rows = dialect.run(
            "SELECT entry FROM journal WHERE account=? ORDER BY seq DESC LIMIT ?", (account, limit)
        ).fetchall()
    return [json.loads(r[0]) for r in reversed(rows)]
