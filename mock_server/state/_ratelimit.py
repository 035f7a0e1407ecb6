"""Opt-in rate limits: each operation's `x-klaviyo-ratelimit` as token buckets per account.

`burst` (per second), `steady` (per minute) and `daily` (per day) each become a bucket that holds that
many tokens and refills continuously; a request takes one token from every bucket of its operation or,
if any is empty, gets 429 with `Retry-After` (whole seconds until a token is back). The clock is
injectable so tests can move time by hand.

Buckets live where every worker of one mock sees them: in memory for one process, else in a SQLite file
(`SqliteBuckets`: the `--state sqlite:` file, or a temporary file `kdk mock --workers N` creates), each
take a single `BEGIN IMMEDIATE` transaction, so two workers never hand out the same token.
"""

from __future__ import annotations

import math
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ._sqlite import retry_while_locked

__all__ = ["Bucket", "MemoryBuckets", "RateLimiter", "SqliteBuckets", "Throttled", "bucket_store", "parse_limit"]

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_limit(text: str) -> tuple[int, float] | None:
    """`"75/s"` -> (75, 1.0 seconds); None if it is not a limit."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*([smhd])\w*\s*", text)
    return (int(match.group(1)), _UNITS[match.group(2)]) if match else None


@dataclass
class Bucket:
    capacity: int
    period: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        rate = self.capacity / self.period
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * rate)
        self.updated = now

    def wait(self) -> float:
        """Seconds until one token is available (0 if one is)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) * self.period / self.capacity


@dataclass(frozen=True)
class Throttled:
    retry_after: int
    limit: int
    window: str


Limits = list[tuple[str, tuple[int, float]]]  # (window name, (capacity, period seconds))


class BucketStore(Protocol):
    def take(self, account: str, operation_id: str, limits: Limits, now: float) -> Throttled | None: ...
    def reset(self, account: str | None = None) -> None: ...


def _take(buckets: list[tuple[str, Bucket]], now: float) -> Throttled | None:
    """Refill, then take one token from every bucket or, if one is empty, say how long to wait."""
    for _, bucket in buckets:
        bucket.refill(now)
    blocked = [(bucket.wait(), name, bucket) for name, bucket in buckets if bucket.tokens < 1]
    if blocked:
        wait, name, bucket = max(blocked, key=lambda b: b[0])
        return Throttled(max(1, math.ceil(wait)), bucket.capacity, name)
    for _, bucket in buckets:
        bucket.tokens -= 1
    return None


class MemoryBuckets:
    """One process's buckets."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, str, str], Bucket] = {}
        self._lock = threading.Lock()

    def take(self, account: str, operation_id: str, limits: Limits, now: float) -> Throttled | None:
        with self._lock:
            buckets = []
            for name, (capacity, period) in limits:
                key = (account, operation_id, name)
                bucket = self._buckets.get(key)
                if bucket is None:
                    bucket = self._buckets[key] = Bucket(capacity, period, float(capacity), now)
                buckets.append((name, bucket))
            return _take(buckets, now)

    def reset(self, account: str | None = None) -> None:
        with self._lock:
            if account is None:
                self._buckets.clear()
            else:
                for key in [k for k in self._buckets if k[0] == account]:
                    del self._buckets[key]


_BUCKETS_SCHEMA = """
CREATE TABLE IF NOT EXISTS rate_buckets (
    account TEXT NOT NULL, operation TEXT NOT NULL, window TEXT NOT NULL, tokens REAL NOT NULL, updated REAL NOT NULL,
    PRIMARY KEY (account, operation, window)
)
"""


class SqliteBuckets:
    """Buckets in a SQLite file shared by the worker processes of one mock (its own table and connection)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA busy_timeout=30000")
        self._lock = threading.Lock()

        def setup() -> None:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(_BUCKETS_SCHEMA)

        retry_while_locked(setup)  # workers opening the file together may find it locked for a moment

    def take(self, account: str, operation_id: str, limits: Limits, now: float) -> Throttled | None:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                rows = {
                    window: (tokens, updated)
                    for window, tokens, updated in self._conn.execute(
                        "SELECT window, tokens, updated FROM rate_buckets WHERE account=? AND operation=?",
                        (account, operation_id),
                    )
                }
                buckets = []
                for name, (capacity, period) in limits:
                    tokens, updated = rows.get(name, (float(capacity), now))
                    # A clock behind the stored time (another host's file, a reboot) refills nothing, takes no time.
                    buckets.append((name, Bucket(capacity, period, tokens, min(updated, now))))
                throttled = _take(buckets, now)
                if throttled is None:
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO rate_buckets VALUES (?, ?, ?, ?, ?)",
                        [(account, operation_id, name, b.tokens, b.updated) for name, b in buckets],
                    )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return throttled

    def reset(self, account: str | None = None) -> None:
        with self._lock:
            if account is None:
                self._conn.execute("DELETE FROM rate_buckets")
            else:
                self._conn.execute("DELETE FROM rate_buckets WHERE account=?", (account,))


def bucket_store(store: Any, shared_file: str | None = None) -> BucketStore:
    """Where the buckets of a mock live: `shared_file` if given, else the SQLite state's file, else memory."""
    if shared_file:
        return SqliteBuckets(shared_file)
    if getattr(store, "kind", None) == "sqlite" and str(getattr(store, "path", ":memory:")) != ":memory:":
        return SqliteBuckets(store.path)
    return MemoryBuckets()


class RateLimiter:
    def __init__(
        self,
        limits: dict[str, dict[str, str]],
        *,
        clock: Callable[[], float] = time.time,
        buckets: BucketStore | None = None,
    ) -> None:
        self._limits: dict[str, Limits] = {
            op: [(name, parsed) for name, text in spec.items() if (parsed := parse_limit(text))]
            for op, spec in limits.items()
        }
        self._clock = clock
        self.buckets = buckets or MemoryBuckets()

    def take(self, account: str, operation_id: str) -> Throttled | None:
        """Take a token for this request, or say how long to wait (nothing is taken then)."""
        limits = self._limits.get(operation_id)
        if not limits:
            return None
        return self.buckets.take(account, operation_id, limits, self._clock())

    def reset(self, account: str | None = None) -> None:
        self.buckets.reset(account)
