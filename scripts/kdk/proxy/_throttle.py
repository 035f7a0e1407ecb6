"""`--throttle`: pace requests under each operation's documented `x-klaviyo-ratelimit` (burst/steady/daily).

The buckets are the mock's own (`mock_server.state.RateLimiter`, one implementation of Klaviyo's limits);
here a request that would be refused waits for its token instead, so a recording session never sees a 429.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

__all__ = ["Throttle"]

_POLL_S = 0.05


class Throttle:
    def __init__(self) -> None:
        self._limiters: dict[str, Any] = {}  # operation id -> RateLimiter for its limits

    async def wait(self, operation_id: str, limits: dict[str, str], account: str) -> float:
        """Wait until `account` may call `operation_id` again (taking its token); returns the seconds waited."""
        if not limits:
            return 0.0
        limiter = self._limiters.get(operation_id)
        if limiter is None:
            from mock_server.state import RateLimiter

            limiter = self._limiters[operation_id] = RateLimiter({operation_id: limits})
        started = time.monotonic()
        while (refused := limiter.take(account, operation_id)) is not None:
            await asyncio.sleep(min(float(refused.retry_after), _POLL_S))
        return time.monotonic() - started
