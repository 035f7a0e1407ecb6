"""A client session through proxy -> mock behaves exactly as against the mock directly."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx

from ._session import run_session
from .conftest import UPSTREAM, asgi_client, proxy_for

_ID = re.compile(r"\b01[0-9A-HJKMNP-TV-Z]{24}\b")
_CURSOR = re.compile(r"(page\[cursor\]|page%5Bcursor%5D)=[^&\"]+")  # it encodes a creation time
_NOW = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)")


def _normalized(seen: list[tuple[str, httpx.Response]]) -> list[tuple[str, int, str, str]]:
    """Ids, timestamps and cursors (which encode a time) differ per run: ids are numbered by first
    appearance, the others blanked; the rest (status, media type, every other byte of the body) is compared."""
    names: dict[str, str] = {}

    def rename(text: str) -> str:
        text = _ID.sub(lambda m: names.setdefault(m.group(0), f"<id{len(names)}>"), text)
        return _CURSOR.sub(r"\1=<cursor>", _NOW.sub("<now>", text))

    return [(rename(call), r.status_code, r.headers.get("content-type", ""), rename(r.text)) for call, r in seen]


async def test_session_through_proxy_equals_direct(mock_factory: Callable[..., Any]) -> None:
    async with asgi_client(mock_factory(), UPSTREAM) as direct:
        expected = await run_session(direct)
    proxy = proxy_for(mock_factory())
    async with asgi_client(proxy, "http://proxy.test") as through:
        got = await run_session(through)
    await proxy.aclose()
    assert [s for _, s, _, _ in _normalized(expected)] == [
        201,
        201,
        201,
        409,
        200,
        200,
        200,
        200,
        200,
        200,
        404,
        400,
        400,
        401,
    ]
    assert _normalized(got) == _normalized(expected)
    # Every answer was the mock's own (valid): the proxy saw no response drift in the whole session.
    drift = [g for g in proxy.report.to_json()["groups"] if g["where"].startswith("response")]
    assert drift == []
