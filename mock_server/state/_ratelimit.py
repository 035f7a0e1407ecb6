"""Opt-in rate limits: each operation's `x-klaviyo-ratelimit` as token buckets per account.

`burst` (per second), `steady` (per minute) and `daily` (per day) each become a bucket that holds that
many tokens and refills continuously; a request takes one token from every bucket of its operation or,
if any is empty, gets 429 with `Retry-After` (whole seconds until a token is back). The clock is
injectable so tests can move time by hand.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Bucket", "RateLimiter", "Throttled", "parse_limit"]

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


class RateLimiter:
    def __init__(self, limits: dict[str, dict[str, str]], *, clock: Callable[[], float] = time.monotonic) -> None:
        self._limits = {
            op: [(name, parsed) for name, text in spec.items() if (parsed := parse_limit(text))]
            for op, spec in limits.items()
        }
        self._clock = clock
        self._buckets: dict[tuple[str, str, str], Bucket] = {}
        self._lock = threading.Lock()

    def take(self, account: str, operation_id: str) -> Throttled | None:
        """Take a token for this request, or say how long to wait (nothing is taken then)."""
        limits = self._limits.get(operation_id)
        if not limits:
            return None
        with self._lock:
            now = self._clock()
            buckets = []
            for name, (capacity, period) in limits:
                key = (account, operation_id, name)
                bucket = self._buckets.get(key)
                if bucket is None:
                    bucket = self._buckets[key] = Bucket(capacity, period, float(capacity), now)
                bucket.refill(now)
                buckets.append((name, bucket))
            blocked = [(bucket.wait(), name, bucket) for name, bucket in buckets if bucket.tokens < 1]
            if blocked:
                wait, name, bucket = max(blocked, key=lambda b: b[0])
                return Throttled(max(1, math.ceil(wait)), bucket.capacity, name)
            for _, bucket in buckets:
                bucket.tokens -= 1
            return None

    def reset(self, account: str | None = None) -> None:
        with self._lock:
            if account is None:
                self._buckets.clear()
            else:
                for key in [k for k in self._buckets if k[0] == account]:
                    del self._buckets[key]
