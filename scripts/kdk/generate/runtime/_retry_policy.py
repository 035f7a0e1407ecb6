"""When to retry and how long to wait: `RetryPolicy` and `Retry-After` parsing.

Kept apart from the transports in `_retry.py` so that `import klaviyo_client` does not import httpx: the
transports (and httpx) load when the client makes its first httpx client.
"""

from __future__ import annotations

import email.utils
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import httpx

__all__ = ["DEFAULT_RETRY", "IDEMPOTENT_METHODS", "RetryPolicy", "parse_retry_after"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    `max_attempts` counts the first try (1 = never retry). The n-th wait is drawn from
    [d/2, d] with d = min(max_delay, backoff * 2**(n-1)) ("equal jitter").
    """

    max_attempts: int = 4
    backoff: float = 0.5
    max_delay: float = 30.0
    retry_statuses: frozenset[int] = field(default=frozenset({429, 503, 504}))
    # Statuses retried even for non-idempotent methods: the server did not act on the request.
    retry_statuses_any_method: frozenset[int] = field(default=frozenset({429}))
    respect_retry_after: bool = True

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.backoff < 0 or self.max_delay < 0:
            raise ValueError("backoff and max_delay must not be negative")

    def backoff_delay(self, retry_number: int, rng: random.Random) -> float:
        """The wait before retry number `retry_number` (1-based), without a Retry-After header."""
        ceiling = min(self.max_delay, self.backoff * 2.0 ** (retry_number - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def should_retry_status(self, method: str, status_code: int) -> bool:
        if status_code not in self.retry_statuses:
            return False
        return method.upper() in IDEMPOTENT_METHODS or status_code in self.retry_statuses_any_method

    def delay_for_response(
        self, response: httpx.Response, retry_number: int, rng: random.Random, now: float
    ) -> float | None:
        """Seconds to wait before retrying after `response`; None when the wait would exceed `max_delay`."""
        if self.respect_retry_after:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
            if retry_after is not None:
                return retry_after if retry_after <= self.max_delay else None
        return self.backoff_delay(retry_number, rng)


DEFAULT_RETRY = RetryPolicy()


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """`Retry-After` as seconds to wait: delta-seconds ("120") or an HTTP date; None if absent or unreadable.

    `now` is the current Unix time (injected so tests can use a fake clock). Dates in the past mean 0.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is not a wait
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP dates are GMT by definition
        return None
    return max(0.0, when.timestamp() - now)
