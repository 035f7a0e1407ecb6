"""The store: one small interface, three backends (in-memory default, SQLite, PostgreSQL).

Every read-modify-write runs inside `store.transaction()`, which is exclusive for writers: in memory under
a lock, in SQLite under `BEGIN IMMEDIATE`, in PostgreSQL under a per-account transaction lock (so several
worker processes or machines sharing one database lose no write).
Resources are plain JSON dicts: `{"type", "id", "seq", "attributes", "relationships"}`, where
`relationships` maps a name to `{"many": bool, "data": [{"type", "id"}, ...]}` and `seq` is the
insertion order that keeps cursors stable.

Besides get/put/delete/scan, a transaction answers from indexes (see `_plan.py` for what is indexed):
`candidates` (equality on a field), `find` (one record by an identifier), `referencing` (the records
pointing at one resource), `walk` (records in sort order from a cursor position) and `between` (a parent's
children in a range of a field: a metric's events in a time window), so that a page, a lookup or a window
costs the same in a small and in a large account.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
import marshal
import math
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from fractions import Fraction
from typing import Any, Protocol, TypeVar, cast

from sortedcontainers import SortedKeyList, SortedList  # type: ignore[import-untyped]

from ._creation import CreationOrder
from ._plan import IndexPlan, Range, SortKey, key_text, range_resume, ref_text, sort_key
from ._records import RecordCodec

__all__ = [
    "EXACT_SCALE",
    "HOUR",
    "JOURNAL_LIMIT",
    "JOURNAL_MAX_BYTES",
    "BatchingTx",
    "MemoryStore",
    "Record",
    "Rollup",
    "SortKey",
    "Store",
    "StoreTx",
    "add_total",
    "clone",
    "exact_units",
    "journal_size",
    "merge_sorted",
]

Record = dict[str, Any]
# `rollup`'s answer: per slot (count, exact sum), and the records the caller places and measures itself
Rollup = tuple[list[tuple[int, Fraction]], list[Record]]
HOUR = 3600  # the span of a rollup's totals, in seconds: slots in any whole-hour timezone are whole hours
JOURNAL_LIMIT = 1000  # entries kept per account
JOURNAL_MAX_BYTES = 4 * 1024 * 1024  # bytes of entries (as JSON) kept per account
_NEWEST = 1 << 62  # where a held record without a `seq` yet sorts: after every stored one
_UNKNOWN: Any = object()  # not looked up ahead
# A creation-order page of a window walks the parents' children by seq, skipping those outside the window, when a
# page is expected within a few chunks: window**2 >= _SEQ_WALK * parent (a page of ~_SEQ_WALK passes ~parent/window
# entries each); else it sorts the window's entries. A seq walk that passes as many entries as the window holds
# without the page done (a window at the other end of the parent's history) sorts the rest of the window instead.
_SEQ_WALK = 64
_T = TypeVar("_T")


def journal_size(entry: dict[str, Any]) -> int:
    """What an entry counts against the journal's byte bound: its JSON, as stored."""
    return len(json_text(entry))  # (ASCII: one byte a character)


def json_text(value: Any) -> str:
    """`json.dumps(value)` exactly (ASCII, the default separators), without building an encoder per call (the
    journal writes every request). A value JSON cannot hold raises TypeError, as `json.dumps` does."""
    if _ITERENCODE is None or isinstance(value, str):
        return json.dumps(value)
    return "".join(_ITERENCODE(value, 0))


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
# (markers, default, encoder, indent, key separator, item separator, sort_keys, skipkeys, allow_nan): json.dumps'
# own, without the circular-reference markers (a JSON value has no cycles; a shared markers dict would keep
# the ids of a value that failed half-way)
_ITERENCODE: Any = (
    _c_make_encoder(None, _refuse, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True)
    if _c_make_encoder is not None
    else None
)


def clone(value: _T) -> _T:
    """A copy of a JSON value (several times faster than `copy.deepcopy`)."""
    return cast(_T, _clone(value))


def _clone(value: Any) -> Any:
    kind = type(value)
    if kind is dict:
        return {k: _clone(v) for k, v in value.items()}
    if kind is list:
        return [_clone(v) for v in value]
    return value


class _Rows:
    """The records of one table, each kept encoded (`_records`: marshal bytes, compressed with a dictionary
    trained on the table; a demo profile ~120 bytes, an event ~90, where the same record as dicts takes ~4 KB
    and ~2.5 KB). Reads decode a fresh copy (faster than `clone`), so a caller can change what it got without
    reaching the store; its `id` is the very string the table is keyed by when the reader asks by that string
    (indexes built from `values()` share it)."""

    __slots__ = ("_blobs", "_codec")

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}
        self._codec = RecordCodec()

    def __len__(self) -> int:
        return len(self._blobs)

    def __contains__(self, rid: object) -> bool:
        return rid in self._blobs

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __getitem__(self, rid: str) -> Record:
        return self._codec.decode(rid, self._blobs[rid])

    def __setitem__(self, rid: str, record: Record) -> None:
        self._blobs[rid] = self._codec.encode(rid, record)
        if self._codec.wants_training(len(self._blobs)):
            self._codec.train(self._blobs)

    def get(self, rid: str) -> Record | None:
        blob = self._blobs.get(rid)
        return None if blob is None else self._codec.decode(rid, blob)

    def pop(self, rid: str, default: None = None) -> Record | None:
        blob = self._blobs.pop(rid, None)
        return None if blob is None else self._codec.decode(rid, blob)

    def values(self) -> Iterator[Record]:
        decode = self._codec.decode
        return (decode(rid, blob) for rid, blob in self._blobs.items())


class StoreTx(Protocol):
    def get(self, account: str, rtype: str, rid: str) -> Record | None: ...
    def put(self, account: str, record: Record) -> Record: ...  # assigns `seq` to a new record
    def put_many(self, account: str, records: list[Record]) -> None: ...
    def delete(self, account: str, rtype: str, rid: str) -> bool: ...
    def scan(self, account: str, rtype: str) -> list[Record]: ...  # in `seq` order; read-only results
    def find(self, account: str, rtype: str, attribute: str, value: Any) -> Record | None: ...
    def types(self, account: str) -> list[str]: ...
    def assume_new(self, account: str) -> None:
        """The caller vouches that every record it puts for `account` in this transaction is new (an empty
        account loading records unique by construction): a SQL store appends them without looking for stored
        versions (a record stored after all fails on its primary key); the memory store has nothing to skip."""
        ...

    def candidates(self, account: str, rtype: str, field: str, keys: list[str]) -> list[Record] | None:
        """Records whose `field` has one of these keys (`_plan.key_text`), plus those whose value is not
        known without other records; None when the store has no index for the field. Read-only."""
        ...

    def referencing(self, account: str, rtype: str, target_type: str, target_id: str) -> list[Record]:
        """The `rtype` records holding a reference to the target in some relationship, in `seq` order."""
        ...

    def walk(
        self, account: str, rtype: str, sort_field: str | None, *, descending: bool, after: SortKey | None
    ) -> Iterator[tuple[SortKey, Record]]:
        """Records in sort order, strictly after `after` (in the walk's direction). Read-only."""
        ...

    def between(
        self, account: str, rtype: str, parent: tuple[str, list[str]], field: str, bounds: Range
    ) -> list[Record] | None:
        """Records whose `parent` field has one of these keys and whose `field` lies within `bounds`
        (`_plan.range_keys`), plus those whose values are not known, in `field` order; None when the plan
        has no such range index. Read-only."""
        ...

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
        """`between`'s records (a superset of the window) in the order of `sort_field` (None: creation
        order; else the range field itself), strictly after `after`, read lazily so that a page costs a
        page; None when the index cannot walk in that order (read `between` whole instead). Read-only."""
        ...

    def rollup(
        self,
        account: str,
        rtype: str,
        parent: tuple[str, str],
        field: str,
        edges: list[float],
        measure: Callable[[Record], float],
    ) -> Rollup | None:
        """Per slot [edges[i], edges[i+1]) of one parent's window: how many regular children lie there and the
        exact sum of `measure` over them, from hourly totals (kept from the index's build on by every write, for
        the plan's `measures` only), plus the records the caller must place itself (unknown, odd, and those in
        the parts of a slot that are not whole hours); None when the store keeps no totals of `measure` there
        (the caller reads the window). Read-only."""
        ...


class Store(Protocol):
    kind: str  # "memory" | "sqlite" | "postgresql"
    shareable: bool  # may several worker processes use it at once?
    concurrent: bool  # do transactions on several threads of one process run at once (not one after another)?

    def configure(self, plan: IndexPlan) -> None: ...  # what to index (from the spec); before serving
    def loading(self) -> AbstractContextManager[None]: ...  # around a bulk load (a demo account)
    def load_lock(self) -> AbstractContextManager[None]: ...  # one load at a time across processes (`_seed`)
    def transaction(self, *, write: bool = True) -> Any: ...  # a context manager yielding a StoreTx
    def reset(self, account: str | None = None) -> None: ...
    def accounts(self) -> list[str]: ...
    def append_journal(  # keeps the newest `max_entries` entries, at most `max_bytes` of them (journal_size)
        self, account: str, entry: dict[str, Any] | str, *, max_entries: int = ..., max_bytes: int = ...
    ) -> None: ...  # `entry`: an entry, or its JSON as `json_text` writes it
    def journal(self, account: str | None = None, limit: int = JOURNAL_LIMIT) -> list[dict[str, Any]]: ...
    def clear_journal(self, account: str | None = None) -> None: ...
    def close(self) -> None: ...


def merge_sorted(
    placed: Iterator[tuple[SortKey, Record]],
    side: list[Record],
    sort_field: str | None,
    *,
    descending: bool,
    after: SortKey | None,
) -> Iterator[tuple[SortKey, Record]]:
    """An ordered walk of a range index (`placed`, already in sort order and after the cursor) with the
    records it cannot place in order (unknown, odd) merged in by their sort keys."""
    keyed = [(sort_key(r, sort_field), r) for r in side]
    if after is not None:
        keyed = [(key, r) for key, r in keyed if (key < after if descending else key > after)]
    if not keyed:
        return placed
    keyed.sort(key=lambda kr: kr[0], reverse=descending)
    return heapq.merge(placed, keyed, key=lambda kr: kr[0], reverse=descending)


def first_match(records: Iterable[Record], attribute: str, value: Any) -> Record | None:
    """`find`'s answer among candidates: the oldest record whose attribute equals `value`."""
    hits = [r for r in records if (r.get("attributes") or {}).get(attribute) == value]
    return min(hits, key=lambda r: r["seq"]) if hits else None


class BatchingTx:
    """A transaction whose writes are held and stored together by `flush()` (`put_many`: one round of
    statements in SQL instead of one per record), for bulk endpoints that write many records in a loop.

    Reads see the held writes: `get`, `find` and `referencing` answer from them and the store; the other
    reads flush them first. Over the memory store, where a write costs no round trip, writes go straight
    through (nothing is held).
    """

    def __init__(self, tx: StoreTx) -> None:
        self._tx = tx
        self._direct = isinstance(tx, _MemoryTx)
        # (account, type, id) -> the record encoded as `_Rows` keeps it (cheaper than a copy), first put first
        self._held: dict[tuple[str, str, str], bytes] = {}
        self._by_key: dict[tuple[str, str, str, str], tuple[str, str, str]] = {}  # (account, type, attr, key)
        # (account, type, target) -> held records pointing there; built on the first `referencing` (a profile
        # import never asks, so it never pays for it)
        self._by_ref: dict[tuple[str, str, str], dict[tuple[str, str, str], None]] | None = None
        # (account, type, attr, key) -> the stored record `find` answers for it (None: none), looked up ahead
        self._found: dict[tuple[str, str, str, str], Record | None] = {}

    @property
    def looks_ahead(self) -> bool:
        """Does `prefetch` look anything up (not over the memory store, where a `find` costs no round trip)?"""
        return not self._direct

    def prefetch(self, account: str, rtype: str, attribute: str, values: Iterable[Any]) -> None:
        """Look up the stored records `find` would answer for many values of one attribute at once (a bulk job's
        identifiers: one indexed query on SQL, where one `find` each costs a round trip per value). Later `find`s
        answer from these, after the held writes; over the memory store nothing is looked up ahead."""
        if self._direct:
            return
        wanted: dict[str, Any] = {}
        for value in values:
            key = key_text(value)
            if key is not None and (account, rtype, attribute, key) not in self._found:
                wanted[key] = value
        if not wanted:
            return
        found = self._tx.candidates(account, rtype, attribute, list(wanted))
        if found is None:
            return  # no index on the field: each `find` asks the store
        by_key: dict[str, list[Record]] = {}
        for record in found:
            held = (record.get("attributes") or {}).get(attribute)
            key = key_text(held) if type(held) in (str, int, float, bool) else None  # only a scalar can `==` one
            if key in wanted:
                by_key.setdefault(key, []).append(record)
        for key, value in wanted.items():
            self._found[(account, rtype, attribute, key)] = first_match(by_key.get(key, ()), attribute, value)

    def flush(self) -> None:
        by_account: dict[str, list[Record]] = {}
        for (account, _, _), held in self._held.items():
            by_account.setdefault(account, []).append(cast(Record, marshal.loads(held)))
        self._held.clear()
        self._by_key.clear()
        self._by_ref = None
        self._found.clear()  # stored now: what was held may answer what was looked up ahead
        for account, records in by_account.items():
            self._tx.put_many(account, records)

    def get(self, account: str, rtype: str, rid: str) -> Record | None:
        held = self._held.get((account, rtype, rid))
        return cast(Record, marshal.loads(held)) if held is not None else self._tx.get(account, rtype, rid)

    def put(self, account: str, record: Record) -> Record:
        if self._direct:
            return self._tx.put(account, record)
        where = (account, record["type"], record["id"])
        self._held[where] = marshal.dumps(record)
        for attribute, value in (record.get("attributes") or {}).items():
            key = key_text(value)
            if key is not None:
                self._by_key[(account, record["type"], attribute, key)] = where
        if self._by_ref is not None:
            self._hold_refs(where, record)
        return record

    def _hold_refs(self, where: tuple[str, str, str], record: Record) -> None:
        assert self._by_ref is not None
        for target in _refs(record):
            self._by_ref.setdefault((where[0], where[1], target), {})[where] = None

    def put_many(self, account: str, records: list[Record]) -> None:
        for record in records:
            self.put(account, record)

    def find(self, account: str, rtype: str, attribute: str, value: Any) -> Record | None:
        if not self._held and not self._found:  # (always so over the memory store: nothing is held)
            return self._tx.find(account, rtype, attribute, value)
        key = key_text(value)
        where = self._by_key.get((account, rtype, attribute, key)) if key is not None else None
        blob = self._held.get(where) if where else None
        held = marshal.loads(blob) if blob is not None else None
        if held is not None and (held.get("attributes") or {}).get(attribute) == value:
            return cast(Record, held)
        ahead = self._found.get((account, rtype, attribute, key), _UNKNOWN) if key is not None else _UNKNOWN
        if ahead is _UNKNOWN:
            stored = self._tx.find(account, rtype, attribute, value)
        else:
            stored = clone(cast(Record, ahead)) if ahead is not None else None  # a copy: callers change theirs
        if stored is not None and (account, rtype, stored["id"]) in self._held:
            return None  # changed since: its held version no longer has this value
        return stored

    def delete(self, account: str, rtype: str, rid: str) -> bool:
        held = self._held.pop((account, rtype, rid), None)
        self.flush()
        return self._tx.delete(account, rtype, rid) or held is not None

    def scan(self, account: str, rtype: str) -> list[Record]:
        self.flush()
        return self._tx.scan(account, rtype)

    def assume_new(self, account: str) -> None:
        self._tx.assume_new(account)

    def types(self, account: str) -> list[str]:
        self.flush()
        return self._tx.types(account)

    def candidates(self, account: str, rtype: str, field: str, keys: list[str]) -> list[Record] | None:
        self.flush()
        return self._tx.candidates(account, rtype, field, keys)

    def referencing(self, account: str, rtype: str, target_type: str, target_id: str) -> list[Record]:
        stored = self._tx.referencing(account, rtype, target_type, target_id)
        target = ref_text(target_type, target_id)
        if not self._held:
            return stored
        if self._by_ref is None:
            self._by_ref = {}
            for where, blob in self._held.items():
                self._hold_refs(where, cast(Record, marshal.loads(blob)))
        out = [r for r in stored if (account, rtype, r["id"]) not in self._held]  # a held version replaces it
        wheres = self._by_ref.get((account, rtype, target), ())
        held = [cast(Record, marshal.loads(self._held[w])) for w in wheres if w in self._held]  # fresh copies
        out += [r for r in held if target in _refs(r)]  # (still pointing there)
        return sorted(out, key=lambda r: int(r.get("seq") or _NEWEST))  # new ones: after every stored one

    def walk(
        self, account: str, rtype: str, sort_field: str | None, *, descending: bool, after: SortKey | None
    ) -> Iterator[tuple[SortKey, Record]]:
        self.flush()
        return self._tx.walk(account, rtype, sort_field, descending=descending, after=after)

    def between(
        self, account: str, rtype: str, parent: tuple[str, list[str]], field: str, bounds: Range
    ) -> list[Record] | None:
        self.flush()
        return self._tx.between(account, rtype, parent, field, bounds)

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
        self.flush()
        return self._tx.walk_between(
            account, rtype, parent, field, bounds, sort_field, descending=descending, after=after
        )

    def rollup(
        self,
        account: str,
        rtype: str,
        parent: tuple[str, str],
        field: str,
        edges: list[float],
        measure: Callable[[Record], float],
    ) -> Rollup | None:
        self.flush()
        return self._tx.rollup(account, rtype, parent, field, edges, measure)


class _Table:
    """The records of one type in one account, with indexes built on first use and kept up to date; its type's
    identifiers (`IndexPlan.lookups`) and its measured range indexes (`IndexPlan.measures`: hourly totals) are
    kept from its first record (a create's uniqueness check and a window's aggregate ask for them: built later,
    they would cost a pass decoding every record of a large account; a demo load builds them as it adds)."""

    __slots__ = ("created", "eq", "order", "ranges", "refs", "rows", "unknown", "waiting")

    def __init__(self, plan: IndexPlan, rtype: str) -> None:
        self.rows = _Rows()  # id -> record
        identifiers = plan.lookups.get(rtype, ())
        self.eq: dict[str, dict[str, Any]] = {path: {} for path in identifiers}  # field -> key -> id | set of ids
        self.unknown: dict[str, set[str]] = {path: set() for path in self.eq}  # ids whose key needs other records
        self.created = CreationOrder()  # creation order (a page without `sort`): kept from the first record
        self.order: dict[str | None, Any] = {}  # sort field -> SortedList of (rank, value, seq, id)
        # sort field -> entries of records added since, not in its SortedList yet: merged together when the order
        # is next read or a record leaves it (a bulk job's 10,000 records: one merge, not 10,000 inserts)
        self.waiting: dict[str | None, list[tuple[Any, ...]]] = {}
        self.refs: dict[str, set[str]] | None = None  # referenced resource -> ids of records here
        self.ranges: dict[tuple[str, str], _RangeIndex] = {}  # (parent field, range field) -> its index
        for measured, parent, field in plan.measures:
            if measured == rtype:
                self.ranged(plan, rtype, parent, field)

    def add(self, plan: IndexPlan, record: Record) -> None:
        rid = record["id"]
        self.created.add(int(record.get("seq") or 0), rid)
        for path in self.eq:
            self._add_keys(plan, path, record)
        for sort_field, waiting in self.waiting.items():
            waiting.append((*sort_key(record, sort_field), rid))
            if len(waiting) >= _WAITING_MAX:
                self._settle(sort_field)
        if self.refs is not None:
            for target in _refs(record):
                self.refs.setdefault(target, set()).add(rid)
        for (parent, field), ranged in self.ranges.items():
            ranged.add(plan, parent, field, record)

    def remove(self, plan: IndexPlan, record: Record) -> None:
        rid = record["id"]
        self.created.remove(int(record.get("seq") or 0), rid)
        for path, index in self.eq.items():
            self.unknown[path].discard(rid)
            for key in plan.equality_keys(record, path) or ():
                held = index.get(key)
                if held == rid:
                    del index[key]
                elif isinstance(held, set):
                    held.discard(rid)
                    if len(held) == 1:
                        index[key] = next(iter(held))
        for sort_field, ordered in self.order.items():
            self._settle(sort_field)  # (an update within a bulk job: the record may still be waiting)
            ordered.discard((*sort_key(record, sort_field), rid))
        if self.refs is not None:
            for target in _refs(record):
                holders = self.refs.get(target)
                if holders is not None:
                    holders.discard(rid)
                    if not holders:
                        del self.refs[target]
        for (parent, field), ranged in self.ranges.items():
            ranged.remove(plan, parent, field, record)

    def _add_keys(self, plan: IndexPlan, path: str, record: Record) -> None:
        rid = record["id"]
        keys = plan.equality_keys(record, path)
        if keys is None:
            self.unknown[path].add(rid)
            return
        index = self.eq[path]
        for key in keys:
            held = index.get(key)  # one id, or a set once several records share the key
            if held is None:
                index[key] = rid
            elif isinstance(held, set):
                held.add(rid)
            elif held != rid:
                index[key] = {held, rid}

    def equality(self, plan: IndexPlan, path: str, rtype: str) -> dict[str, Any]:
        if path not in self.eq:
            # An identifier's index is built with the other identifiers' (a uniqueness check asks for each): one
            # pass over the records (a large account decodes each record once, not once per identifier).
            lookups = plan.lookups.get(rtype, frozenset())
            paths = (
                [path, *(p for p in sorted(lookups) if p != path and p not in self.eq)] if path in lookups else [path]
            )
            for built in paths:
                self.eq[built], self.unknown[built] = {}, set()
            for record in self.rows.values():
                for built in paths:
                    self._add_keys(plan, built, record)
        return self.eq[path]

    def ordered(self, sort_field: str | None) -> Any:
        if sort_field not in self.order:
            self.order[sort_field] = SortedList((*sort_key(r, sort_field), r["id"]) for r in self.rows.values())
            self.waiting[sort_field] = []
        self._settle(sort_field)
        return self.order[sort_field]

    def _settle(self, sort_field: str | None) -> None:
        waiting = self.waiting[sort_field]
        if waiting:
            merge_into(self.order[sort_field], waiting)
            waiting.clear()

    def ranged(self, plan: IndexPlan, rtype: str, parent: str, field: str) -> _RangeIndex:
        index = self.ranges.get((parent, field))
        if index is None:
            measure = plan.measures.get((rtype, parent, field))
            index = self.ranges[(parent, field)] = _RangeIndex(measure)
            for record in self.rows.values():
                index.add(plan, parent, field, record)
        return index

    def referencing(self) -> dict[str, set[str]]:
        if self.refs is None:
            self.refs = {}
            for record in self.rows.values():
                for target in _refs(record):
                    self.refs.setdefault(target, set()).add(record["id"])
        return self.refs


class _RangeIndex:
    """One range index of a table: per parent key, the children's (number, seq, id) in order, the regular
    ones (`_plan.sorts_as_ranged`: their sort position is their number's) apart from the odd ones; and the
    ids whose parent or number is unknown (always candidates). With a `measure` (the plan's `measures`), per
    parent key and hour the regular children's totals, kept from the index's build on by every write."""

    __slots__ = ("by_parent", "by_seq", "measure", "odd", "rollups", "unknown")

    def __init__(self, measure: Callable[[Record], float] | None = None) -> None:
        self.by_parent: dict[str, Any] = {}  # parent key -> SortedList of (number, seq, id), regular
        # parent key -> the same entries (the same tuples) ordered by seq: kept from the first entry on for a
        # measured index (a metric's events, kept from load: made on a walk's first use, sorting a metric of a
        # 1M account's ~1M events cost ~3 s), else made on a creation-order walk's first use; kept by writes after
        self.by_seq: dict[str, Any] = {}
        self.odd: dict[str, Any] = {}  # parent key -> SortedList of (number, seq, id), not sorted as ranged
        self.unknown: set[str] = set()
        self.measure = measure
        self.rollups: dict[str, dict[int, list[int]]] = {}  # parent key -> hour -> totals (`add_total`)

    def _roll(self, record: Record, keys: list[str], number: float, sign: int) -> None:
        assert self.measure is not None
        hour, value = math.floor(number / HOUR), self.measure(record)
        for key in dict.fromkeys(keys):
            by_hour = self.rollups.get(key)
            if by_hour is None:
                by_hour = self.rollups[key] = {}
            totals = by_hour.get(hour)
            if totals is None:
                totals = by_hour[hour] = [0, 0, 0]
            add_total(totals, value, sign)
            if not totals[0]:
                del by_hour[hour]

    def totals(self, key: str, hours: range) -> Iterator[list[int]]:
        """The totals (`add_total`) of each of these hours of one parent's regular children."""
        by_hour = self.rollups.get(key) or {}
        none = [0, 0, 0]
        for hour in hours:
            yield by_hour.get(hour, none)

    def add(self, plan: IndexPlan, parent: str, field: str, record: Record) -> None:
        place = plan.range_place(record, parent, field)
        if place is None:
            self.unknown.add(record["id"])
            return
        keys, numbers, regular = place
        into = self.by_parent if regular else self.odd
        rid, seq = record["id"], int(record.get("seq") or 0)
        for key in dict.fromkeys(keys):
            ordered = into.get(key)
            if ordered is None:
                ordered = into[key] = SortedList()
            by_seq = self.by_seq.get(key) if regular else None
            if by_seq is None and regular and self.measure is not None:
                by_seq = self.by_seq[key] = SortedKeyList(key=_seq_of)
            for number in dict.fromkeys(numbers):
                entry = (number, seq, rid)
                ordered.add(entry)
                if by_seq is not None:
                    by_seq.add(entry)
        if regular and self.measure is not None:
            self._roll(record, keys, numbers[0], 1)

    def remove(self, plan: IndexPlan, parent: str, field: str, record: Record) -> None:
        self.unknown.discard(record["id"])
        place = plan.range_place(record, parent, field)
        if place is None:
            return
        keys, numbers, regular = place
        into = self.by_parent if regular else self.odd
        rid, seq = record["id"], int(record.get("seq") or 0)
        for key in dict.fromkeys(keys):
            ordered = into.get(key)
            if ordered is not None:
                for number in dict.fromkeys(numbers):
                    ordered.discard((number, seq, rid))
                if not ordered:
                    del into[key]
            by_seq = self.by_seq.get(key) if regular else None
            if by_seq is not None:
                for number in dict.fromkeys(numbers):
                    by_seq.discard((number, seq, rid))
                if not by_seq:
                    del self.by_seq[key]
        if regular and self.measure is not None:
            self._roll(record, keys, numbers[0], -1)

    @staticmethod
    def _span(ordered: Any, bounds: Range, after: tuple[float, int] | None, descending: bool) -> Iterator[Any]:
        """The entries of one parent within `bounds` (inclusive), strictly after `after` (number, seq)."""
        low, high = bounds
        # (number,) sorts before every (number, seq, id) and (number, inf) after them: inclusive bounds.
        lowest: tuple[Any, ...] | None = None if low is None else (low,)
        highest: tuple[Any, ...] | None = None if high is None else (high, float("inf"))
        if after is not None and descending:  # (number, seq) sorts before its own (number, seq, id)
            highest = after if highest is None else min(highest, after)
        elif after is not None:
            start = (after[0], after[1] + 1)
            lowest = start if lowest is None else max(lowest, start)
        if lowest is not None and highest is not None and lowest > highest:
            return iter(())
        return cast(Iterator[Any], ordered.irange(minimum=lowest, maximum=highest, reverse=descending))

    def ids(self, keys: list[str], bounds: Range) -> list[str]:
        found: dict[str, None] = dict.fromkeys(sorted(self.unknown))
        hits: list[tuple[float, int, str]] = []
        for key in dict.fromkeys(keys):
            for into in (self.by_parent, self.odd):
                ordered = into.get(key)
                if ordered is not None:
                    hits += self._span(ordered, bounds, None, False)
        if len(keys) > 1 or any(k in self.odd for k in keys):
            hits.sort()
        found.update((rid, None) for _, _, rid in hits)
        return list(found)

    def side(self, keys: list[str], bounds: Range) -> list[str]:
        """What an ordered walk merges by sort key: the unknown ids and the odd ones in the window."""
        found: dict[str, None] = dict.fromkeys(sorted(self.unknown))
        for key in dict.fromkeys(keys):
            ordered = self.odd.get(key)
            if ordered is not None:
                found.update((rid, None) for _, _, rid in self._span(ordered, bounds, None, False))
        return list(found)

    def walk(
        self, keys: list[str], bounds: Range, *, by_seq: bool, descending: bool, after: tuple[float, int] | None
    ) -> Iterator[str]:
        """The regular ids in the window in order: by (number, seq), lazily, so a page reads a page; or by
        seq (creation order), which the window's entries are sorted into first (tuples, no record read)."""
        parents = [o for k in dict.fromkeys(keys) if (o := self.by_parent.get(k)) is not None]
        if by_seq:
            yield from self._walk_by_seq(keys, parents, bounds, descending, None if after is None else after[1])
            return
        spans = [self._span(ordered, bounds, after, descending) for ordered in parents]
        if len(spans) == 1:
            for _, _, rid in spans[0]:
                yield rid
            return
        seen: set[str] = set()  # a child of several of these parents is in each one's list
        for _, _, rid in heapq.merge(*spans, reverse=descending):
            if rid not in seen:
                seen.add(rid)
                yield rid

    def _walk_by_seq(
        self, keys: list[str], parents: list[Any], bounds: Range, descending: bool, after: int | None
    ) -> Iterator[str]:
        """The window's regular ids by seq, strictly after seq `after`: the parents' children walked by seq and
        kept when in the window, while a page costs less that way (a window that is a large share of its parents);
        else (and once a walk has passed as many entries as the window holds) the window's entries sorted."""
        window = sum(self._count(ordered, bounds) for ordered in parents)
        if window and window * window >= _SEQ_WALK * sum(len(ordered) for ordered in parents):
            low, high = bounds
            walks = []
            for key in dict.fromkeys(keys):
                by_seq = self.by_seq.get(key)
                if by_seq is None and key in self.by_parent:
                    by_seq = self.by_seq[key] = SortedKeyList(self.by_parent[key], key=_seq_of)
                if by_seq is not None:
                    walks.append(
                        by_seq.irange_key(max_key=after, inclusive=(True, False), reverse=True)
                        if descending
                        else by_seq.irange_key(min_key=after, inclusive=(False, True))
                    )
            merged = walks[0] if len(walks) == 1 else heapq.merge(*walks, key=_seq_of, reverse=descending)
            budget, last = window, None
            for entry in merged:
                number, seq, rid = entry
                if seq == last:
                    continue  # a child of several of these parents is in each one's list
                if (low is None or number >= low) and (high is None or number <= high):
                    last = seq
                    yield rid
                budget -= 1
                if budget < 0:  # the window is not where the walk is: sort the rest of it
                    after = seq
                    break
            else:
                return
        sign = -1 if descending else 1  # a heap of the window's (seq, id): a record handed out costs a pop
        heap = [(sign * seq, rid) for ordered in parents for _, seq, rid in self._span(ordered, bounds, None, False)]
        if after is not None:
            heap = [e for e in heap if e[0] > sign * after]
        heapq.heapify(heap)
        previous = None
        while heap:
            entry = heapq.heappop(heap)
            if entry != previous:  # a child of several of these parents is in each one's list
                previous = entry
                yield entry[1]

    @staticmethod
    def _count(ordered: Any, bounds: Range) -> int:
        """How many of one parent's entries lie in `bounds` (inclusive): two bisects."""
        low, high = bounds
        first = 0 if low is None else ordered.bisect_left((low,))
        end = len(ordered) if high is None else ordered.bisect_left((high, math.inf))
        return max(0, int(end) - int(first))


def _seq_of(entry: tuple[float, int, str]) -> int:
    return entry[1]


_WAITING_MAX = 65_536  # entries an order holds back at most (an account written to but never read in that order)
_MERGE_FROM = 32  # fewer waiting entries are inserted one by one


def merge_into(ordered: Any, entries: list[Any]) -> None:
    """Add `entries` to a `SortedList` as its `update` would, in one pass: `update` inserts them one by one unless
    they are a quarter of the list, while here each of the list's sublists that gains entries takes them in one
    C-level merge (`sort` of two sorted runs) and is split to the list's load, as its `add` would split it.
    (It keeps `SortedList`'s own invariants: sorted sublists, `_maxes` their last entries, `_len`, and a
    positional index rebuilt on its next use.)"""
    if len(entries) < _MERGE_FROM or not ordered._maxes:
        ordered.update(entries)
        return
    entries = sorted(entries)
    lists, maxes, load = ordered._lists, ordered._maxes, ordered._load
    last = len(maxes) - 1
    grown: list[int] = []
    start = 0
    while start < len(entries):
        # Where `add` puts an entry: the first sublist whose last entry is greater (else the last sublist); the
        # entries up to that last one go there too.
        at = min(bisect.bisect_right(maxes, entries[start]), last)
        end = len(entries) if at == last else bisect.bisect_left(entries, maxes[at], start)
        sublist = lists[at]
        sublist += entries[start:end]
        sublist.sort()
        maxes[at] = sublist[-1]
        grown.append(at)
        start = end
    for at in reversed(grown):  # (from the end: splitting shifts the positions after it)
        sublist = lists[at]
        if len(sublist) > load << 1:  # into pieces of `load` or more entries, under twice it (as `add` keeps them)
            count, extra = divmod(len(sublist), len(sublist) // load)
            edges = [i * count + min(i, extra) for i in range(len(sublist) // load + 1)]
            pieces = [sublist[low:high] for low, high in itertools.pairwise(edges)]
            lists[at : at + 1] = pieces
            maxes[at : at + 1] = [piece[-1] for piece in pieces]
    ordered._len += len(entries)
    del ordered._index[:]


EXACT_SCALE = 1 << 1074  # every finite float is a whole number of 2**-1074: sums of them are exact integers


def exact_units(value: float) -> int:
    """A finite float as a whole number of 2**-1074 (exact: `Fraction(units, EXACT_SCALE) == value`)."""
    numerator, denominator = value.as_integer_ratio()
    return numerator * (EXACT_SCALE // denominator)


def add_total(totals: list[int], value: float, sign: int) -> None:
    """Count a value in (sign 1) or out of (sign -1) an hour's totals: [count, exact sum in `exact_units`,
    non-finite values]."""
    totals[0] += sign
    if value == 0:
        return
    if math.isfinite(value):
        totals[1] += sign * exact_units(value)
    else:
        totals[2] += sign


def _refs(record: Record) -> set[str]:
    return {
        ref_text(ref["type"], ref["id"])
        for rel in (record.get("relationships") or {}).values()
        if isinstance(rel, dict)
        for ref in rel.get("data") or ()
        if isinstance(ref, dict) and "type" in ref and "id" in ref
    }


def _walk_created(table: _Table, *, descending: bool, after: SortKey | None) -> Iterator[tuple[SortKey, Record]]:
    """`walk` in creation order, where every record's key is (0, 0, seq): strictly after `after` in the walk's
    direction, as a sorted list of (0, 0, seq, id) entries answers it."""
    since: int | None = None
    if after is not None:
        rank, value, seq = after
        if (rank, value) == (0, 0):
            since = seq
        elif ((rank, value) > (0, 0)) != descending:  # no record lies past `after` in this direction
            return
    rows = table.rows
    for seq, rid in table.created.walk(descending=descending, after=since):
        yield (0, 0, seq), rows[rid]


def _ids(held: Any) -> Iterable[str]:
    if held is None:
        return ()
    return held if isinstance(held, set) else (held,)


class _MemoryTx:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    def _table(self, account: str, rtype: str) -> _Table | None:
        return self._s.data.get(account, {}).get(rtype)

    def get(self, account: str, rtype: str, rid: str) -> Record | None:
        table = self._table(account, rtype)
        return table.rows.get(rid) if table else None  # a fresh copy

    def put(self, account: str, record: Record) -> Record:
        tables = self._s.data.setdefault(account, {})
        table = tables.get(record["type"])
        if table is None:
            table = tables[record["type"]] = _Table(self._s.plan, record["type"])
        rid = record["id"]
        old = table.rows.get(rid)
        if old is not None:
            record["seq"] = old["seq"]
            table.remove(self._s.plan, old)
        elif "seq" not in record:
            self._s.seq += 1
            record["seq"] = self._s.seq
        else:
            self._s.seq = max(self._s.seq, int(record["seq"]))
        table.rows[rid] = record  # encoded: later changes to `record` do not reach the store
        table.add(self._s.plan, record)
        return record

    def put_many(self, account: str, records: list[Record]) -> None:
        for record in records:
            self.put(account, record)

    def delete(self, account: str, rtype: str, rid: str) -> bool:
        table = self._table(account, rtype)
        old = table.rows.pop(rid, None) if table else None
        if table is None or old is None:
            return False
        table.remove(self._s.plan, old)
        return True

    def scan(self, account: str, rtype: str) -> list[Record]:
        table = self._table(account, rtype)
        return sorted(table.rows.values(), key=lambda r: r["seq"]) if table else []

    def candidates(self, account: str, rtype: str, field: str, keys: list[str]) -> list[Record] | None:
        table = self._table(account, rtype)
        if table is None:
            return []
        index = table.equality(self._s.plan, field, rtype)
        ids = {rid for key in keys for rid in _ids(index.get(key))} | table.unknown[field]
        return [table.rows[rid] for rid in ids]

    def find(self, account: str, rtype: str, attribute: str, value: Any) -> Record | None:
        key = key_text(value)  # (scan and candidates decode fresh copies: nothing to clone)
        if key is None:
            return first_match(self.scan(account, rtype), attribute, value)
        table = self._table(account, rtype)
        if table is None:
            return None
        held = table.equality(self._s.plan, attribute, rtype).get(key)
        unknown = table.unknown[attribute]
        if held is None and not unknown:
            return None  # the common answer of a uniqueness check: nothing to decode
        if isinstance(held, str) and not unknown:
            record = table.rows[held]
            return record if (record.get("attributes") or {}).get(attribute) == value else None
        return first_match(self.candidates(account, rtype, attribute, [key]) or [], attribute, value)

    def referencing(self, account: str, rtype: str, target_type: str, target_id: str) -> list[Record]:
        table = self._table(account, rtype)
        if table is None:
            return []
        ids = table.referencing().get(ref_text(target_type, target_id), ())
        return sorted((table.rows[rid] for rid in ids), key=lambda r: r["seq"])

    def walk(
        self, account: str, rtype: str, sort_field: str | None, *, descending: bool, after: SortKey | None
    ) -> Iterator[tuple[SortKey, Record]]:
        table = self._table(account, rtype)
        if table is None:
            return
        if sort_field is None:  # creation order: (0, 0, seq) keys
            yield from _walk_created(table, descending=descending, after=after)
            return
        ordered = table.ordered(sort_field)
        if after is None:
            entries = ordered.irange(reverse=descending)
        elif descending:  # entries (r, v, s, id) sort after (r, v, s): `maximum=after` excludes the bound
            entries = ordered.irange(maximum=tuple(after), reverse=True)
        else:
            rank, value, seq = after
            entries = ordered.irange(minimum=(rank, value, seq + 1))
        for rank, value, seq, rid in entries:
            yield (rank, value, seq), table.rows[rid]

    def between(
        self, account: str, rtype: str, parent: tuple[str, list[str]], field: str, bounds: Range
    ) -> list[Record] | None:
        if (parent[0], field) not in self._s.plan.ranges.get(rtype, ()):
            return None
        table = self._table(account, rtype)
        if table is None:
            return []
        return [table.rows[rid] for rid in table.ranged(self._s.plan, rtype, parent[0], field).ids(parent[1], bounds)]

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
        plan = self._s.plan
        if (parent[0], field) not in plan.ranges.get(rtype, ()) or sort_field not in (None, field):
            return None
        resume = range_resume(plan.range_ranks.get((rtype, field), 2), sort_field, after, descending)
        if resume is None:
            return None
        table = self._table(account, rtype)
        if table is None:
            return iter(())
        index = table.ranged(plan, rtype, parent[0], field)
        side = [table.rows[rid] for rid in index.side(parent[1], bounds)]
        rids = (
            iter(())
            if resume[0] == "none"
            else index.walk(parent[1], bounds, by_seq=sort_field is None, descending=descending, after=resume[1])
        )
        rows = table.rows
        placed = ((sort_key(r, sort_field), r) for r in (rows[rid] for rid in rids))
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
        plan = self._s.plan
        if plan.measures.get((rtype, parent[0], field)) is not measure or len(edges) < 2:
            return None
        table = self._table(account, rtype)
        if table is None:
            return [(0, Fraction(0)) for _ in edges[1:]], []
        index = table.ranged(plan, rtype, parent[0], field)
        ordered = index.by_parent.get(parent[1])
        slots: list[tuple[int, Fraction]] = []
        loose: list[str] = index.side([parent[1]], (edges[0], edges[-1]))
        for low, high in itertools.pairwise(edges):
            first, last = math.ceil(low / HOUR), math.floor(high / HOUR)  # the whole hours in [low, high)
            count, units = 0, 0
            parts = [(low, high)]
            if first < last:
                for totals in index.totals(parent[1], range(first, last)):
                    if totals[2]:
                        return None  # a value no exact sum holds (inf, nan): the caller adds them up
                    count += totals[0]
                    units += totals[1]
                parts = [(low, first * HOUR), (last * HOUR, high)]
            for part_low, part_high in parts:  # a slot's ends that are not whole hours: the caller's
                if ordered is not None and part_low < part_high:
                    span = ordered.irange(minimum=(part_low,), maximum=(part_high,))
                    loose += [rid for number, _, rid in span if number < part_high]
            slots.append((count, Fraction(units, EXACT_SCALE)))
        return slots, [table.rows[rid] for rid in dict.fromkeys(loose)]

    def assume_new(self, account: str) -> None:
        pass  # a memory write looks nothing up

    def types(self, account: str) -> list[str]:
        return [t for t, table in self._s.data.get(account, {}).items() if table.rows]


class _MemoryTransaction:
    """`MemoryStore.transaction()`: the store's lock held while the block runs (a plain context manager: a
    request opens several, and a generator-based one costs several calls each)."""

    __slots__ = ("_lock", "_tx")

    def __init__(self, store: MemoryStore) -> None:
        self._lock = store._lock
        self._tx = _MemoryTx(store)

    def __enter__(self) -> StoreTx:
        self._lock.acquire()
        return self._tx

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


class MemoryStore:
    """The default: fast, per process, gone on restart."""

    kind = "memory"
    shareable = False
    concurrent = False

    def __init__(self) -> None:
        self.data: dict[str, dict[str, _Table]] = {}
        self.seq = 0
        self.plan = IndexPlan()
        self._journal: dict[str, list[str]] = {}  # account -> its entries as JSON, oldest first
        self._journal_sizes: dict[str, list[int]] = {}  # parallel to _journal: each entry's journal_size
        self._journal_bytes: dict[str, int] = {}  # the sum of each account's _journal_sizes
        self._lock = threading.RLock()

    def configure(self, plan: IndexPlan) -> None:
        with self._lock:
            self.plan = plan
            for tables in self.data.values():  # indexes are rebuilt on first use with the new plan
                for table in tables.values():
                    table.eq, table.unknown, table.order, table.refs, table.ranges = {}, {}, {}, None, {}
                    table.waiting = {}

    def loading(self) -> AbstractContextManager[None]:
        return nullcontext()  # records are stored as they come; indexes are kept as they go

    def load_lock(self) -> AbstractContextManager[None]:
        return nullcontext()  # one process holds the state: its loads run one after another

    def transaction(self, *, write: bool = True) -> _MemoryTransaction:
        return _MemoryTransaction(self)

    def reset(self, account: str | None = None) -> None:
        with self._lock:
            if account is None:
                self.data.clear()
            else:
                self.data.pop(account, None)
            self.clear_journal(account)

    def accounts(self) -> list[str]:
        with self._lock:
            return sorted(a for a, tables in self.data.items() if any(t.rows for t in tables.values()))

    def append_journal(
        self,
        account: str,
        entry: dict[str, Any] | str,
        *,
        max_entries: int = JOURNAL_LIMIT,
        max_bytes: int = JOURNAL_MAX_BYTES,
    ) -> None:
        # Kept as its JSON, as the SQL stores keep it: a snapshot (later changes to what the entry holds do not
        # reach the journal), whose length is its journal_size.
        text = entry if isinstance(entry, str) else json_text(entry)
        size = len(text)  # (ASCII: its journal_size)
        with self._lock:
            entries = self._journal.setdefault(account, [])
            sizes = self._journal_sizes.setdefault(account, [])
            entries.append(text)
            sizes.append(size)
            # The oldest entries go until the newest fit both bounds (a running total: no walk over the journal).
            total, drop = self._journal_bytes.get(account, 0) + size, 0
            while len(sizes) - drop > max_entries or total > max_bytes:
                total -= sizes[drop]
                drop += 1
            del entries[:drop]
            del sizes[:drop]
            self._journal_bytes[account] = total

    def journal(self, account: str | None = None, limit: int = JOURNAL_LIMIT) -> list[dict[str, Any]]:
        with self._lock:
            if account is not None:
                return [json.loads(text) for text in self._journal.get(account, [])[-limit:]]
            merged = [json.loads(text) for entries in self._journal.values() for text in entries]
        return sorted(merged, key=lambda e: e.get("seq", 0))[-limit:]

    def clear_journal(self, account: str | None = None) -> None:
        with self._lock:
            if account is None:
                self._journal.clear()
                self._journal_sizes.clear()
                self._journal_bytes.clear()
            else:
                self._journal.pop(account, None)
                self._journal_sizes.pop(account, None)
                self._journal_bytes.pop(account, None)

    def close(self) -> None:
        return None
