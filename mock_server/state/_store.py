"""The store: one small interface, two backends (in-memory default, SQLite for restarts and workers).

Every read-modify-write runs inside `store.transaction()`, which is exclusive: in memory under a lock,
in SQLite under `BEGIN IMMEDIATE` (so several worker processes sharing one file lose no write).
Resources are plain JSON dicts: `{"type", "id", "seq", "attributes", "relationships"}`, where
`relationships` maps a name to `{"many": bool, "data": [{"type", "id"}, ...]}` and `seq` is the
insertion order that keeps cursors stable.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol

__all__ = ["JOURNAL_LIMIT", "JOURNAL_MAX_BYTES", "MemoryStore", "Record", "Store", "StoreTx", "journal_size"]

Record = dict[str, Any]
JOURNAL_LIMIT = 1000  # entries kept per account
JOURNAL_MAX_BYTES = 4 * 1024 * 1024  # bytes of entries (as JSON) kept per account


def journal_size(entry: dict[str, Any]) -> int:
    """What an entry counts against the journal's byte bound: its JSON, as stored."""
    return len(json.dumps(entry).encode("utf-8", "surrogatepass"))


class StoreTx(Protocol):
    def get(self, account: str, rtype: str, rid: str) -> Record | None: ...
    def put(self, account: str, record: Record) -> Record: ...  # assigns `seq` to a new record
    def delete(self, account: str, rtype: str, rid: str) -> bool: ...
    def scan(self, account: str, rtype: str) -> list[Record]: ...  # in `seq` order; read-only results
    def find(self, account: str, rtype: str, attribute: str, value: Any) -> Record | None: ...
    def types(self, account: str) -> list[str]: ...


class Store(Protocol):
    kind: str  # "memory" | "sqlite"
    shareable: bool  # may several worker processes use it at once?

    def transaction(self, *, write: bool = True) -> Any: ...  # a context manager yielding a StoreTx
    def reset(self, account: str | None = None) -> None: ...
    def accounts(self) -> list[str]: ...
    def append_journal(  # keeps the newest `max_entries` entries, at most `max_bytes` of them (journal_size)
        self, account: str, entry: dict[str, Any], *, max_entries: int = ..., max_bytes: int = ...
    ) -> None: ...
    def journal(self, account: str | None = None, limit: int = JOURNAL_LIMIT) -> list[dict[str, Any]]: ...
    def clear_journal(self, account: str | None = None) -> None: ...
    def close(self) -> None: ...


class _MemoryTx:
    def __init__(self, store: MemoryStore) -> None:
        self._s = store

    def get(self, account: str, rtype: str, rid: str) -> Record | None:
        found = self._s.data.get(account, {}).get(rtype, {}).get(rid)
        return copy.deepcopy(found) if found else None

    def put(self, account: str, record: Record) -> Record:
        bucket = self._s.data.setdefault(account, {}).setdefault(record["type"], {})
        old = bucket.get(record["id"])
        if old is not None:
            record["seq"] = old["seq"]
        elif "seq" not in record:
            self._s.seq += 1
            record["seq"] = self._s.seq
        bucket[record["id"]] = copy.deepcopy(record)
        return record

    def delete(self, account: str, rtype: str, rid: str) -> bool:
        return self._s.data.get(account, {}).get(rtype, {}).pop(rid, None) is not None

    def scan(self, account: str, rtype: str) -> list[Record]:
        # No copies (a collection read would otherwise copy every record): callers only read these,
        # and `put` stores its own copy, so nothing a caller does later reaches the store.
        rows = self._s.data.get(account, {}).get(rtype, {}).values()
        return sorted(rows, key=lambda r: r["seq"])

    def find(self, account: str, rtype: str, attribute: str, value: Any) -> Record | None:
        for record in self._s.data.get(account, {}).get(rtype, {}).values():
            if (record.get("attributes") or {}).get(attribute) == value:
                return copy.deepcopy(record)
        return None

    def types(self, account: str) -> list[str]:
        return [t for t, rows in self._s.data.get(account, {}).items() if rows]


class MemoryStore:
    """The default: fast, per process, gone on restart."""

    kind = "memory"
    shareable = False

    def __init__(self) -> None:
        self.data: dict[str, dict[str, dict[str, Record]]] = {}
        self.seq = 0
        self._journal: dict[str, list[dict[str, Any]]] = {}
        self._journal_sizes: dict[str, list[int]] = {}  # parallel to _journal: each entry's journal_size
        self._lock = threading.RLock()

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreTx]:
        with self._lock:
            yield _MemoryTx(self)

    def reset(self, account: str | None = None) -> None:
        with self._lock:
            if account is None:
                self.data.clear()
            else:
                self.data.pop(account, None)
            self.clear_journal(account)

    def accounts(self) -> list[str]:
        with self._lock:
            return sorted(a for a, types in self.data.items() if any(types.values()))

    def append_journal(
        self,
        account: str,
        entry: dict[str, Any],
        *,
        max_entries: int = JOURNAL_LIMIT,
        max_bytes: int = JOURNAL_MAX_BYTES,
    ) -> None:
        size = journal_size(entry)
        with self._lock:
            entries = self._journal.setdefault(account, [])
            sizes = self._journal_sizes.setdefault(account, [])
            entries.append(entry)
            sizes.append(size)
            total, keep = 0, 0
            for size in reversed(sizes):
                if keep == max_entries or total + size > max_bytes:
                    break
                total, keep = total + size, keep + 1
            del entries[: len(entries) - keep]
            del sizes[: len(sizes) - keep]

    def journal(self, account: str | None = None, limit: int = JOURNAL_LIMIT) -> list[dict[str, Any]]:
        with self._lock:
            if account is not None:
                return list(self._journal.get(account, [])[-limit:])
            merged = [e for entries in self._journal.values() for e in entries]
            return sorted(merged, key=lambda e: e.get("seq", 0))[-limit:]

    def clear_journal(self, account: str | None = None) -> None:
        with self._lock:
            if account is None:
                self._journal.clear()
                self._journal_sizes.clear()
            else:
                self._journal.pop(account, None)
                self._journal_sizes.pop(account, None)

    def close(self) -> None:
        return None
