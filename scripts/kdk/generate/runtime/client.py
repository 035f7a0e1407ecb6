"""`KlaviyoClient`: credentials, revision, base URL, timeout and retries, shared by every endpoint function.

`Klaviyo` / `AsyncKlaviyo` (in `_client.py`, generated) add one resource namespace per tag on top of it.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar, cast

from ._logs import setup_logging
from ._retry_policy import DEFAULT_RETRY, RetryPolicy
from ._version import REVISION, __version__

if TYPE_CHECKING:
    import httpx

__all__ = ["API_KEY_ENV", "BASE_URL_ENV", "DEFAULT_BASE_URL", "KlaviyoClient"]

DEFAULT_BASE_URL = "https://a.klaviyo.com"
JSON_API = "application/vnd.api+json"
API_KEY_ENV = "KLAVIYO_API_KEY"
BASE_URL_ENV = "KLAVIYO_BASE_URL"  # e.g. a `kdk mock` server: http://127.0.0.1:4010
_NOT_GIVEN: Any = object()
ResourceT = TypeVar("ResourceT")


class _Pool:
    """The httpx clients (connection pools), shared by a client and every copy `with_options` makes of it."""

    def __init__(self) -> None:
        self.sync: httpx.Client | None = None
        self.async_: httpx.AsyncClient | None = None
        # (revision, timeout, retry policy) each httpx client was made with: a request states only what differs
        self.sync_defaults: tuple[Any, ...] = ()
        self.async_defaults: tuple[Any, ...] = ()


class KlaviyoClient:
    """A connection to the Klaviyo API, sync and async.

    Authenticate with a private API key (`Authorization: Klaviyo-API-Key <key>`) or an OAuth access token
    (`Authorization: Bearer <token>`; the Conversations API accepts only OAuth). Client-side endpoints
    (`/client/...`) need neither. Every request carries `Accept: application/vnd.api+json` and the
    `revision` header; the revision defaults to the one this package was generated from.

    Without `api_key` and `oauth_token`, the key is read from the `KLAVIYO_API_KEY` environment variable;
    without `base_url`, `KLAVIYO_BASE_URL` (e.g. a `kdk mock` server) or https://a.klaviyo.com.

    Retries (429, 503, 504, connection errors; see `RetryPolicy`) happen in the httpx transport, below
    every endpoint function. Pass `retry=None` to turn them off, `transport=`/`async_transport=` to plug
    in a mock (e.g. `httpx.MockTransport`); retries wrap whatever transport is used.
    `strict=True` makes response parsing raise `ResponseValidationError` on any deviation from the spec
    (the default keeps the values the live API sends; see `klaviyo_client._drift`).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        oauth_token: str | None = None,
        base_url: str | None = None,
        revision: str = REVISION,
        timeout: httpx.Timeout | float | None = 30.0,
        retry: RetryPolicy | None = DEFAULT_RETRY,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        async_transport: httpx.AsyncBaseTransport | None = None,
        httpx_args: Mapping[str, Any] | None = None,
        strict: bool = False,
    ) -> None:
        if api_key is not None and oauth_token is not None:
            raise ValueError("pass either api_key or oauth_token, not both")
        if api_key is None and oauth_token is None:
            api_key = os.environ.get(API_KEY_ENV) or None
        setup_logging()
        self._api_key = api_key
        self._oauth_token = oauth_token
        self._base_url = base_url or os.environ.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        self._revision = revision
        self._timeout = timeout
        self._retry = retry
        self._extra_headers = dict(headers or {})
        self._transport = transport
        self._async_transport = async_transport
        self._httpx_args = dict(httpx_args or {})
        self._strict = strict
        self._pool = _Pool()
        self._resources: dict[str, Any] = {}

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def retry(self) -> RetryPolicy | None:
        return self._retry

    @property
    def timeout(self) -> httpx.Timeout | float | None:
        return self._timeout

    @property
    def strict(self) -> bool:
        """Whether response parsing reports deviations from the spec (`ResponseValidationError`)."""
        return self._strict

    @property
    def revision(self) -> str:
        """The API revision sent with every request (the `revision` header)."""
        return self._revision

    @revision.setter
    def revision(self, value: str) -> None:
        self._revision = value

    @property
    def headers(self) -> dict[str, str]:
        """The headers every request carries (credentials included)."""
        headers = {
            "Accept": JSON_API,
            "revision": self._revision,
            "User-Agent": f"klaviyo-client-python/{__version__}",
        }
        if self._api_key is not None:
            headers["Authorization"] = f"Klaviyo-API-Key {self._api_key}"
        elif self._oauth_token is not None:
            headers["Authorization"] = f"Bearer {self._oauth_token}"
        headers.update(self._extra_headers)
        return headers

    def with_options(
        self,
        *,
        timeout: httpx.Timeout | float | None = _NOT_GIVEN,
        max_retries: int | None = None,
        revision: str | None = None,
        retry: RetryPolicy | None = _NOT_GIVEN,
        strict: bool | None = None,
    ) -> Self:
        """A copy with other per-call options, sharing this client's connection pool:
        `client.with_options(timeout=5, max_retries=0).profiles.get_profiles()`.

        `max_retries` is the number of retries (0: none) under the current policy's backoff; `retry`
        replaces the whole policy.
        """
        new = copy.copy(self)
        new._resources = {}
        if timeout is not _NOT_GIVEN:
            new._timeout = timeout
        if retry is not _NOT_GIVEN:
            new._retry = retry
        if max_retries is not None:
            if max_retries < 0:
                raise ValueError("max_retries must not be negative")
            new._retry = dataclasses.replace(new._retry or DEFAULT_RETRY, max_attempts=max_retries + 1)
        if revision is not None:
            new._revision = revision
        if strict is not None:
            new._strict = strict
        return new

    def with_revision(self, revision: str) -> Self:
        """A copy, identical but for the revision (shares the connection pool)."""
        return self.with_options(revision=revision)

    def request_options(self, request: dict[str, Any], *, is_async: bool = False) -> dict[str, Any]:
        """`request` (keyword arguments of `httpx.Client.request`) with this client's per-call options added where
        they differ from the connection pool's (a `with_options` copy): the revision header, the timeout and the
        retry policy (read by the retry transport)."""
        defaults = self._pool.async_defaults if is_async else self._pool.sync_defaults
        if defaults == (self._revision, self._timeout, self._retry):
            return request
        from ._retry import RETRY_EXTENSION

        headers = request.get("headers")
        options = {**request, "headers": {**headers, "revision": self._revision} if headers else self._revision_header}
        options["timeout"] = self._timeout
        options["extensions"] = {RETRY_EXTENSION: self._retry}
        return options

    def _resource(self, name: str, factory: Callable[[KlaviyoClient], ResourceT]) -> ResourceT:
        """The namespace `name` of this client, made on first use (`Klaviyo.profiles` and the like)."""
        found = self._resources.get(name)
        if found is None:
            found = self._resources[name] = factory(self)
        return cast(ResourceT, found)

    @property
    def _revision_header(self) -> dict[str, str]:
        return {"revision": self._revision}

    def get_httpx_client(self) -> httpx.Client:
        """The underlying `httpx.Client`, created on first use."""
        if self._pool.sync is None:
            # httpx (and the retry transports built on it) load here, not at import: see the package docstring.
            import httpx

            from ._retry import RetryTransport

            inner = self._transport or httpx.HTTPTransport()
            self._pool.sync_defaults = (self._revision, self._timeout, self._retry)
            self._pool.sync = httpx.Client(
                base_url=self._base_url,
                headers=self.headers,
                timeout=self._timeout,
                transport=RetryTransport(inner, self._retry),
                **self._httpx_args,
            )
        return self._pool.sync

    def get_async_httpx_client(self) -> httpx.AsyncClient:
        """The underlying `httpx.AsyncClient`, created on first use."""
        if self._pool.async_ is None:
            import httpx

            from ._retry import AsyncRetryTransport

            inner = self._async_transport or httpx.AsyncHTTPTransport()
            self._pool.async_defaults = (self._revision, self._timeout, self._retry)
            self._pool.async_ = httpx.AsyncClient(
                base_url=self._base_url,
                headers=self.headers,
                timeout=self._timeout,
                transport=AsyncRetryTransport(inner, self._retry),
                **self._httpx_args,
            )
        return self._pool.async_

    def close(self) -> None:
        if self._pool.sync is not None:
            self._pool.sync.close()
            self._pool.sync = None

    async def aclose(self) -> None:
        if self._pool.async_ is not None:
            await self._pool.async_.aclose()
            self._pool.async_ = None

    def __enter__(self) -> Self:
        self.get_httpx_client()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        self.get_async_httpx_client()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
