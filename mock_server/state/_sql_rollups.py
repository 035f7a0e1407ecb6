"""Hourly totals in the SQL stores: the `rollups` table, what `SqlTx.rollup` reads for metric aggregates.

Per range index with a measure (the plan's `measures`: a metric's events' values), parent key and hour: how many
regular children lie there (`_plan.sorts_as_ranged`, the ones the range index places by their number), the exact
sum of their values (`_store.exact_units`, as decimal text: no SQL number type is exact for every float) and how
many values have no exact sum (inf, nan). Every write of `SqlTx` (insert, update, move, delete of a record; the
reindex of a file) changes the rows of the hours it touches in its own transaction, which holds the account's other
writers off (`SqlTx._account`): a row's read-modify-write is exact across processes, and the totals are as durable
and as consistent as the records.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
import uuid
from collections.abc import Iterable
from fractions import Fraction
from typing import Any, Protocol

from ._plan import IndexPlan
from ._records import sql_record
from ._store import EXACT_SCALE, HOUR, Record, add_total

__all__ = [
    "SCHEMA",
    "TABLE",
    "HeldTotals",
    "deleted",
    "deltas_of",
    "measured",
    "merged",
    "read",
    "rebuild_account",
    "rebuilt",
    "recover_held",
    "write",
    "written",
]

TABLE = "rollups"
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rollups (account TEXT NOT NULL, rtype TEXT NOT NULL, field TEXT NOT NULL, "
    "key TEXT NOT NULL, hour BIGINT NOT NULL, count BIGINT NOT NULL, units TEXT NOT NULL, odd BIGINT NOT NULL, "
    "PRIMARY KEY (account, rtype, field, key, hour));"
)
_CHUNK = 500  # hours read at a time
_HELD = "held_totals:"  # `meta` name prefix: an account whose load holds totals back (value: the load's id)

log = logging.getLogger(__name__)

# (rtype, index name "parent>field", parent key, hour) -> [count, exact units, non-finite values]
Deltas = dict[tuple[str, str, str, int], list[int]]


class Dialect(Protocol):
    def run(self, sql: str, args: Any = ()) -> Any: ...
    def write(self, statements: list[tuple[str, list[Any]]], appends: list[tuple[str, list[Any]]]) -> None: ...
    def number(self, value: Any) -> Any: ...
    def records(self, account: str, rtype: str, rids: list[str], columns: str = "rid, body, seq") -> list[Any]: ...
    def lock_account(self, account: str) -> None: ...


class HeldTotals:
    """The hourly totals a bulk load (`Store.loading`) adds up in memory and writes once, when it ends: per batch,
    the same hours were read and upserted again and again (a third of a demo load's time).

    Crash-safe through a `meta` row per account, written with the account's first held batch: the totals of an
    account with such a row may lack held hours. A load ends by adding its totals only if the row is still its
    own, else it rebuilds the account's totals from its records; a start finding the row (the loader crashed, or
    still runs in another process) rebuilds them too (`recover_held`). Each happens under the account's lock, so
    whichever comes last leaves exact totals."""

    def __init__(self) -> None:
        self.load = uuid.uuid4().hex
        self.deltas: dict[str, Deltas] = {}
        self._marked: set[str] = set()
        self._lock = threading.Lock()  # transactions of a load may commit on several threads

    def mark(self, dialect: Dialect, account: str) -> None:
        """In the transaction of an account's first held batch: its `meta` row (once per load)."""
        with self._lock:
            if account in self._marked:
                return
            self._marked.add(account)  # (a rolled-back batch loses the row: the end then rebuilds, exact too)
        dialect.run(
            "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (_HELD + account, self.load),
        )

    def committed(self, account: str, deltas: Deltas) -> None:
        """A committed batch's totals, held for the end."""
        with self._lock:
            merged(self.deltas, account, deltas)

    def write(self, dialect: Dialect, plan: IndexPlan, account: str) -> None:
        """At the load's end, in a transaction holding the account's lock: its held totals added (or rebuilt)."""
        row = dialect.run("SELECT value FROM meta WHERE name=?", (_HELD + account,)).fetchone()
        if row is not None and row[0] == self.load:
            write(dialect, account, self.deltas.get(account, {}))
        else:  # another start rebuilt the totals meanwhile (from part of the load): count them all again
            rebuild_account(dialect, plan, account)
        dialect.run("DELETE FROM meta WHERE name=? AND value=?", (_HELD + account, self.load))

    @property
    def accounts(self) -> set[str]:
        return self._marked | set(self.deltas)


def recover_held(dialect: Dialect, plan: IndexPlan) -> None:
    """At a store's start: rebuild the totals of each account a load held totals back for and did not end (it
    crashed, or runs in another process: then it rebuilds them again when it ends, see `HeldTotals`)."""
    rows = dialect.run("SELECT name, value FROM meta WHERE name LIKE ?", (_HELD + "%",)).fetchall()
    for name, load in rows:
        account = name[len(_HELD) :]
        dialect.lock_account(account)
        log.warning("account %s: a load did not end; its hourly totals are rebuilt from its records", account)
        rebuild_account(dialect, plan, account)
        dialect.run("DELETE FROM meta WHERE name=? AND value=?", (name, load))


def measured(plan: IndexPlan, rtype: str) -> bool:
    """Does the plan keep totals of this type's records?"""
    return any(t == rtype for t, _, _ in plan.measures)


def deltas_of(plan: IndexPlan, records: Iterable[Record], sign: int, into: Deltas) -> Deltas:
    """Count `records` in (sign 1) or out of (sign -1) the totals of their hours."""
    for record in records:
        for (rtype, parent, field), measure in plan.measures.items():
            if rtype != record["type"]:
                continue
            place = plan.range_place(record, parent, field)
            if place is None or not place[2]:
                continue  # unknown or odd: not in any total (a reader places such records itself)
            keys, numbers, _ = place
            hour, value = math.floor(numbers[0] / HOUR), measure(record)
            for key in dict.fromkeys(keys):
                totals = into.get((rtype, f"{parent}>{field}", key, hour))
                if totals is None:
                    totals = into[(rtype, f"{parent}>{field}", key, hour)] = [0, 0, 0]
                add_total(totals, value, sign)
    return into


def merged(into: dict[str, Deltas], account: str, deltas: Deltas) -> None:
    """Add one account's `deltas` to `into` (the totals a load holds back until it ends: see `SqlTx`)."""
    held = into.setdefault(account, {})
    for place, totals in deltas.items():
        found = held.get(place)
        if found is None:
            held[place] = list(totals)
        else:
            for i, value in enumerate(totals):
                found[i] += value


def written(
    dialect: Dialect, plan: IndexPlan, account: str, records: list[Record], stored: Iterable[tuple[str, str]]
) -> None:
    """`SqlTx.put_many`'s share: the stored versions of these records (type, id) out, the new ones in."""
    if not any(measured(plan, r["type"]) for r in records):
        return
    deltas: Deltas = {}
    by_type: dict[str, list[str]] = {}
    for rtype, rid in stored:
        if measured(plan, rtype):
            by_type.setdefault(rtype, []).append(rid)
    for rtype, rids in by_type.items():
        old = [sql_record(body, seq) for _, body, seq in dialect.records(account, rtype, rids)]
        deltas_of(plan, old, -1, deltas)
    write(dialect, account, deltas_of(plan, records, 1, deltas))


def deleted(dialect: Dialect, plan: IndexPlan, account: str, rtype: str, rid: str) -> None:
    """`SqlTx.delete`'s share: the stored record out of its hours."""
    if measured(plan, rtype):
        old = [sql_record(body, seq) for _, body, seq in dialect.records(account, rtype, [rid])]
        write(dialect, account, deltas_of(plan, old, -1, {}))


def rebuilt(dialect: Dialect, plan: IndexPlan, account: str | None, records: list[Record]) -> None:
    """`reindex`'s share: with no account, the totals emptied (before the first batch); else a batch's in."""
    if account is None:
        dialect.run("DELETE FROM rollups")
    elif any(measured(plan, r["type"]) for r in records):
        write(dialect, account, deltas_of(plan, records, 1, {}))


def rebuild_account(dialect: Dialect, plan: IndexPlan, account: str, batch: int = 5_000) -> None:
    """One account's totals made again from its stored records (a load that appends records and index rows
    without `SqlTx`): its rows dropped, then its measured records read a batch at a time and added up in memory
    (the measure is Python's: an event's value is in its body), written once."""
    dialect.run("DELETE FROM rollups WHERE account=?", (account,))
    deltas: Deltas = {}
    for rtype in sorted({t for t, _, _ in plan.measures}):
        cursor = dialect.run("SELECT body, seq FROM resources WHERE account=? AND rtype=?", (account, rtype))
        while rows := cursor.fetchmany(batch):
            deltas_of(plan, [sql_record(body, seq) for body, seq in rows], 1, deltas)
    write(dialect, account, deltas)


def write(dialect: Dialect, account: str, deltas: Deltas) -> None:
    """Add `deltas` to the stored rows (an hour whose count falls to 0 is dropped)."""
    groups: dict[tuple[str, str, str], dict[int, list[int]]] = {}
    for (rtype, name, key, hour), totals in deltas.items():
        if any(totals):
            groups.setdefault((rtype, name, key), {})[hour] = totals
    upserts: list[Any] = []
    drops: list[Any] = []
    for (rtype, name, key), by_hour in groups.items():
        hours = sorted(by_hour)
        for start in range(0, len(hours), _CHUNK):
            chunk = hours[start : start + _CHUNK]
            marks = ", ".join("?" for _ in chunk)
            rows = dialect.run(
                f"SELECT hour, count, units, odd FROM rollups WHERE account=? AND rtype=? AND field=? AND key=? "
                f"AND hour IN ({marks})",
                (account, rtype, name, key, *chunk),
            ).fetchall()
            for hour, count, units, odd in rows:
                totals = by_hour[int(hour)]
                totals[0] += int(count)
                totals[1] += int(units)
                totals[2] += int(odd)
        for hour, (count, units, odd) in by_hour.items():
            if count:
                upserts.append((account, rtype, name, key, hour, count, str(units), odd))
            else:
                drops.append((account, rtype, name, key, hour))
    dialect.write(
        [
            (
                "INSERT INTO rollups VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (account, rtype, field, key, hour) "
                "DO UPDATE SET count = excluded.count, units = excluded.units, odd = excluded.odd",
                upserts,
            ),
            ("DELETE FROM rollups WHERE account=? AND rtype=? AND field=? AND key=? AND hour=?", drops),
        ],
        [],
    )


def read(
    dialect: Dialect, account: str, rtype: str, name: str, key: str, edges: list[float]
) -> tuple[list[tuple[int, Fraction]], list[str]] | None:
    """Per slot [edges[i], edges[i+1]): the count and exact sum of its whole hours' totals, and the ids of the
    regular children in the parts of slots that are not whole hours (the caller places them); None when a
    value has no exact sum."""
    first, last = math.ceil(edges[0] / HOUR), math.floor(edges[-1] / HOUR)
    held: dict[int, tuple[int, int, int]] = {}
    if first < last:
        rows = dialect.run(
            "SELECT hour, count, units, odd FROM rollups WHERE account=? AND rtype=? AND field=? AND key=? "
            "AND hour >= ? AND hour < ?",
            (account, rtype, name, key, first, last),
        ).fetchall()
        held = {int(hour): (int(count), int(units), int(odd)) for hour, count, units, odd in rows}
    slots: list[tuple[int, Fraction]] = []
    loose: list[str] = []
    for low, high in itertools.pairwise(edges):
        first, last = math.ceil(low / HOUR), math.floor(high / HOUR)  # the whole hours in [low, high)
        count, units = 0, 0
        parts = [(low, high)]
        if first < last:
            for hour in range(first, last):
                totals = held.get(hour)
                if totals is None:
                    continue
                if totals[2]:
                    return None
                count += totals[0]
                units += totals[1]
            parts = [(low, first * HOUR), (last * HOUR, high)]
        for part_low, part_high in parts:
            if part_low < part_high:
                rows = dialect.run(
                    "SELECT rid FROM ranges WHERE account=? AND rtype=? AND field=? AND key=? AND num >= ? AND num < ?",
                    (account, rtype, name, key, dialect.number(part_low), dialect.number(part_high)),
                ).fetchall()
                loose += [row[0] for row in rows]
        slots.append((count, Fraction(units, EXACT_SCALE)))
    return slots, loose
