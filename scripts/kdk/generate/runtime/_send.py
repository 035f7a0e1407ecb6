"""One request of an endpoint function: per-call options, logging, httpx errors mapped to ours, parsing.

The generated endpoint modules build the request (`_get_kwargs`) and the parser (`_parse_response`); these
functions do the rest, so that behaviour lives here, in one place, and not in the templates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, TypeVar

from ._drift import parse_with
from ._logs import logger
from .errors import APIConnectionError, APITimeoutError
from .types import Response

if TYPE_CHECKING:
    import httpx

    from .client import KlaviyoClient

__all__ = ["asend", "build_response", "parse", "send"]

T = TypeVar("T")
Parser = Callable[..., T]  # called as parse(response=...)


def send(client: KlaviyoClient, request: dict[str, Any]) -> httpx.Response:
    """Send `request` (keyword arguments of `httpx.Client.request`) with the client's options."""
    import httpx

    http = client.get_httpx_client()  # first: the pool's defaults decide what the request must state
    options = client.request_options(request)
    started = time.perf_counter()
    try:
        response = http.request(**options)
    except httpx.TimeoutException as exc:
        raise APITimeoutError(request=_request_of(exc)) from exc
    except httpx.HTTPError as exc:
        raise APIConnectionError(f"Connection error: {exc}", request=_request_of(exc)) from exc
    _log(response, started)
    return response


async def asend(client: KlaviyoClient, request: dict[str, Any]) -> httpx.Response:
    """Async twin of `send`."""
    import httpx

    http = client.get_async_httpx_client()
    options = client.request_options(request, is_async=True)
    started = time.perf_counter()
    try:
        response = await http.request(**options)
    except httpx.TimeoutException as exc:
        raise APITimeoutError(request=_request_of(exc)) from exc
    except httpx.HTTPError as exc:
        raise APIConnectionError(f"Connection error: {exc}", request=_request_of(exc)) from exc
    _log(response, started)
    return response


def parse(client: KlaviyoClient, response: httpx.Response, parser: Parser[T]) -> T:
    """The typed value of `response` (4XX/5XX raise), under the client's drift mode."""
    return parse_with(client.strict, lambda: parser(response=response))


def build_response(client: KlaviyoClient, response: httpx.Response, parser: Parser[T]) -> Response[T]:
    """`Response[T]`: status, headers, raw bytes and the parsed value (4XX/5XX raise)."""
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=parse(client, response, parser),
    )


def _request_of(exc: Exception) -> httpx.Request | None:
    try:
        request: httpx.Request = exc.request  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # httpx raises RuntimeError when no request is attached
        return None
    return request


def _log(response: httpx.Response, started: float) -> None:
    if logger.isEnabledFor(logging.DEBUG):
        request = response.request
        elapsed = (time.perf_counter() - started) * 1000
        logger.debug('HTTP %s %s "%d" %.1f ms', request.method, request.url, response.status_code, elapsed)
