"""Cursor pagination: page objects that know how to fetch the page after them (from `links.next`).

`client.profiles.get_profiles(...)` returns a `SyncPage` (`AsyncPage` on `AsyncKlaviyo`):
- `page.data` / `for item in page.data`: the items of this page; `page.model`: the whole typed answer;
- `for item in page` / `async for item in page`: every item of this page and of all the pages after it;
- `page.has_next_page()`, `page.next_page()` (`await page.next_page()`), `page.iter_pages()`.
The cursor is taken from `links.next` (which carries every query parameter), followed as is.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._send import asend, parse, send

if TYPE_CHECKING:
    from .client import KlaviyoClient

__all__ = ["AsyncPage", "SyncPage", "iter_pages", "iter_pages_async", "next_link"]

PageT = TypeVar("PageT")
ModelT = TypeVar("ModelT")
ItemT = TypeVar("ItemT")
ParsePage = Callable[..., PageT]  # called as parse(response=...)


def next_link(page: object) -> str | None:
    """`page.links.next` when it is a non-empty string, else None (last page, or no links at all)."""
    links = getattr(page, "links", None)
    link = getattr(links, "next_", getattr(links, "next", None))  # the model spells it `next_` (a builtin)
    return link if isinstance(link, str) and link else None


def _next_request(first: dict[str, Any], url: str) -> dict[str, Any]:
    # links.next already carries every query parameter (cursor, filters, fields), so it is followed as is.
    request: dict[str, Any] = {"method": "get", "url": url}
    if "headers" in first:
        request["headers"] = first["headers"]
    return request


class _Page(Generic[ModelT, ItemT]):
    def __init__(
        self,
        client: KlaviyoClient,
        request: dict[str, Any],
        parser: ParsePage[ModelT],
        model: ModelT,
        seen: frozenset[str] = frozenset(),
    ) -> None:
        self.model = model
        self._client = client
        self._request = request
        self._parser = parser
        self._seen = seen

    @property
    def data(self) -> list[ItemT]:
        """The items of this page."""
        items: list[ItemT] = getattr(self.model, "data", None) or []
        return items

    @property
    def next_link(self) -> str | None:
        """`links.next` of this page, unless it is missing, null, empty or already followed (a loop)."""
        link = next_link(self.model)
        return None if link is None or link in self._seen else link

    def has_next_page(self) -> bool:
        return self.next_link is not None

    def _next_args(self) -> tuple[dict[str, Any], frozenset[str]]:
        link = self.next_link
        if link is None:
            raise RuntimeError("no next page: this is the last one (check has_next_page() first)")
        return _next_request(self._request, link), self._seen | {link}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(items={len(self.data)}, has_next_page={self.has_next_page()})"


class SyncPage(_Page[ModelT, ItemT]):
    """One page of a cursor-paginated answer (sync). Iterating it walks every page from here on."""

    @classmethod
    def first(
        cls, client: KlaviyoClient, request: dict[str, Any], parser: ParsePage[ModelT]
    ) -> SyncPage[ModelT, ItemT]:
        return cls(client, request, parser, parse(client, send(client, request), parser))

    def next_page(self) -> SyncPage[ModelT, ItemT]:
        """Fetch the page `links.next` points to (RuntimeError on the last page)."""
        request, seen = self._next_args()
        model = parse(self._client, send(self._client, request), self._parser)
        return SyncPage(self._client, request, self._parser, model, seen)

    def iter_pages(self) -> Iterator[SyncPage[ModelT, ItemT]]:
        page = self
        yield page
        while page.has_next_page():
            page = page.next_page()
            yield page

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.iter_pages():
            yield from page.data


class AsyncPage(_Page[ModelT, ItemT]):
    """One page of a cursor-paginated answer (async). `async for` walks every page from here on."""

    @classmethod
    async def first(
        cls, client: KlaviyoClient, request: dict[str, Any], parser: ParsePage[ModelT]
    ) -> AsyncPage[ModelT, ItemT]:
        return cls(client, request, parser, parse(client, await asend(client, request), parser))

    async def next_page(self) -> AsyncPage[ModelT, ItemT]:
        """Fetch the page `links.next` points to (RuntimeError on the last page)."""
        request, seen = self._next_args()
        model = parse(self._client, await asend(self._client, request), self._parser)
        return AsyncPage(self._client, request, self._parser, model, seen)

    async def iter_pages(self) -> AsyncIterator[AsyncPage[ModelT, ItemT]]:
        page = self
        yield page
        while page.has_next_page():
            page = await page.next_page()
            yield page

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.iter_pages():
            for item in page.data:
                yield item


def iter_pages(client: KlaviyoClient, first: dict[str, Any], parser: ParsePage[PageT]) -> Iterator[PageT]:
    """Every page's model, starting with the request `first` (the free functions' `paginate`)."""
    page: SyncPage[PageT, Any] = SyncPage.first(client, first, parser)
    for each in page.iter_pages():
        yield each.model


async def iter_pages_async(
    client: KlaviyoClient, first: dict[str, Any], parser: ParsePage[PageT]
) -> AsyncIterator[PageT]:
    """Async twin of `iter_pages`."""
    page: AsyncPage[PageT, Any] = await AsyncPage.first(client, first, parser)
    async for each in page.iter_pages():
        yield each.model
