"""Retries, as httpx transports: every endpoint function gets them without knowing.

What is retried, and why:
- 429 (rate limited) on every method: Klaviyo rejected the request before doing anything with it.
- 503 and 504 on idempotent methods only: a POST/PATCH may have been carried out before the gateway gave up.
- Connection errors raised before the request left (connect errors/timeouts) on every method;
  errors after the request may have been sent (read errors, dropped connections) on idempotent methods only,
  so a POST is never sent twice.
Waits grow exponentially with jitter, capped by `max_delay`; a `Retry-After` header (seconds or an HTTP date)
is honoured, and when it asks for longer than `max_delay` the answer is returned rather than waited out.
A request may carry its own policy in `request.extensions["klaviyo_retry"]` (set by `client.with_options`).
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable

import httpx

from ._logs import logger
from ._retry_policy import DEFAULT_RETRY, IDEMPOTENT_METHODS, RetryPolicy, parse_retry_after

__all__ = [
    "DEFAULT_RETRY",
    "RETRY_EXTENSION",
    "AsyncRetryTransport",
    "RetryPolicy",
    "RetryTransport",
    "parse_retry_after",
    "should_retry_error",
]

RETRY_EXTENSION = "klaviyo_retry"  # request extension: this request's RetryPolicy (None: no retries)
# Raised before any byte of the request reached the server: safe to resend whatever the method.
_NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# The request may have reached the server: only idempotent methods may be resent.
_MAYBE_SENT_ERRORS: tuple[type[Exception], ...] = (
    httpx.ReadError,
    httpx.ReadTimeout,
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
)


def should_retry_error(method: str, error: Exception) -> bool:
    """Connection trouble: always retryable before the request left, only for idempotent methods after."""
    if isinstance(error, _NOT_SENT_ERRORS):
        return True
    return isinstance(error, _MAYBE_SENT_ERRORS) and method.upper() in IDEMPOTENT_METHODS


class _Attempts:
    """The retry loop's state, shared by the sync and async transports."""

    def __init__(self, policy: RetryPolicy | None, rng: random.Random, clock: Callable[[], float]) -> None:
        self.policy = policy or _NO_RETRY
        self.rng = rng
        self.clock = clock
        self.number = 0  # attempts made so far

    def delay_after_response(self, request: httpx.Request, response: httpx.Response) -> float | None:
        if self.number >= self.policy.max_attempts:
            return None
        if not self.policy.should_retry_status(request.method, response.status_code):
            return None
        delay = self.policy.delay_for_response(response, self.number, self.rng, self.clock())
        if delay is not None:
            _log_retry(request, f"HTTP {response.status_code}", delay, self.number)
        return delay

    def delay_after_error(self, request: httpx.Request, error: Exception) -> float | None:
        if self.number >= self.policy.max_attempts or not should_retry_error(request.method, error):
            return None
        delay = self.policy.backoff_delay(self.number, self.rng)
        _log_retry(request, type(error).__name__, delay, self.number)
        return delay


_NO_RETRY = RetryPolicy(max_attempts=1)


def _policy(request: httpx.Request, default: RetryPolicy | None) -> RetryPolicy | None:
    if RETRY_EXTENSION in request.extensions:
        policy: RetryPolicy | None = request.extensions[RETRY_EXTENSION]
        return policy
    return default


def _log_retry(request: httpx.Request, reason: str, delay: float, attempt: int) -> None:
    logger.info("Retrying %s %s in %.2f s after %s (attempt %d)", request.method, request.url, delay, reason, attempt)


class RetryTransport(httpx.BaseTransport):
    """Wraps another sync transport and retries according to a `RetryPolicy` (None: passes requests through)."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        policy: RetryPolicy | None = DEFAULT_RETRY,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.inner = inner
        self.policy = policy
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        attempts = _Attempts(_policy(request, self.policy), self._rng, self._clock)
        while True:
            attempts.number += 1
            try:
                response = self.inner.handle_request(request)
            except httpx.TransportError as error:
                delay = attempts.delay_after_error(request, error)
                if delay is None:
                    raise
            else:
                delay = attempts.delay_after_response(request, response)
                if delay is None:
                    return response
                response.close()
            self._sleep(delay)

    def close(self) -> None:
        self.inner.close()


async def _asyncio_sleep(seconds: float) -> None:
    # asyncio is imported on first async retry, not at import time: it costs more than the rest of the client.
    import asyncio

    await asyncio.sleep(seconds)


class AsyncRetryTransport(httpx.AsyncBaseTransport):
    """Wraps another async transport and retries according to a `RetryPolicy`."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        policy: RetryPolicy | None = DEFAULT_RETRY,
        *,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.inner = inner
        self.policy = policy
        self._sleep = sleep or _asyncio_sleep
        self._clock = clock
        self._rng = rng or random.Random()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attempts = _Attempts(_policy(request, self.policy), self._rng, self._clock)
        while True:
            attempts.number += 1
            try:
                response = await self.inner.handle_async_request(request)
            except httpx.TransportError as error:
                delay = attempts.delay_after_error(request, error)
                if delay is None:
                    raise
            else:
                delay = attempts.delay_after_response(request, response)
                if delay is None:
                    return response
                await response.aclose()
            await self._sleep(delay)

    async def aclose(self) -> None:
        await self.inner.aclose()
