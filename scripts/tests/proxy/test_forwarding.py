"""Forwarding is transparent: every header and byte goes through unchanged both ways (gzip included), and
what the upstream gets wrong about media types and bodies is reported, not corrected."""

from __future__ import annotations

import gzip
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from .conftest import AUTH, asgi_client, proxy_for

Scope = MutableMapping[str, Any]


def upstream(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    """An upstream that answers every request the same way and remembers what it received."""
    received: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Callable[[], Awaitable[Any]], send: Callable[[Any], Awaitable[None]]) -> None:
        message = await receive()
        received.append(
            {
                "method": scope["method"],
                "raw_path": scope["raw_path"],
                "query": scope["query_string"],
                "headers": [(k.decode(), v.decode()) for k, v in scope["headers"]],
                "body": message.get("body", b""),
            }
        )
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    app.received = received  # type: ignore[attr-defined]
    return app


async def test_request_and_response_pass_unchanged() -> None:
    body = json.dumps({"data": [], "links": {"self": "x"}}).encode()
    answer_headers = [(b"content-type", b"application/vnd.api+json"), (b"ratelimit-remaining", b"9"), (b"x-odd", b"1")]
    fake = upstream(200, answer_headers, body)
    proxy = proxy_for(fake)
    sent_headers = {**AUTH, "X-Custom": "kept", "Accept": "application/vnd.api+json", "User-Agent": "sdk/1.0"}
    async with asgi_client(proxy, "http://proxy.test") as client:
        answer = await client.get("/api/lists/?filter=equals(name,%22a%20b%22)&page%5Bsize%5D=5", headers=sent_headers)
    await proxy.flush()
    got = fake.received[0]
    assert got["raw_path"] == b"/api/lists/" and got["query"] == b"filter=equals(name,%22a%20b%22)&page%5Bsize%5D=5"
    forwarded = dict(got["headers"])
    for name, value in sent_headers.items():
        assert forwarded[name.lower()] == value
    assert forwarded["host"] == "upstream.test"  # the upstream's own host, as a CDN expects
    assert answer.content == body and answer.headers["x-odd"] == "1" and answer.headers["ratelimit-remaining"] == "9"
    assert proxy.report.to_json()["rate_limits"]["get_lists"]["last_headers"] == {"ratelimit-remaining": "9"}


async def test_gzip_is_passed_through_and_checked_decoded() -> None:
    document = {"data": [{"type": "list", "id": None}], "links": {"self": "x"}}
    fake = upstream(
        200,
        [(b"content-type", b"application/vnd.api+json"), (b"content-encoding", b"gzip")],
        gzip.compress(json.dumps(document).encode(), mtime=0),
    )
    proxy = proxy_for(fake)
    async with asgi_client(proxy, "http://proxy.test") as client:
        answer = await client.get("/api/lists/", headers=AUTH)
    await proxy.flush()
    assert answer.headers["content-encoding"] == "gzip" and answer.json() == document
    pointers = {g["example"]["pointer"] for g in proxy.report.to_json()["groups"]}
    assert "/data/0/id" in pointers


async def test_wrong_media_type_and_undocumented_body_are_reported() -> None:
    proxy = proxy_for(upstream(200, [(b"content-type", b"text/html")], b"<html>maintenance</html>"))
    async with asgi_client(proxy, "http://proxy.test") as client:
        answer = await client.get("/api/lists/", headers=AUTH)
    await proxy.flush()
    assert answer.text == "<html>maintenance</html>"
    groups = proxy.report.to_json()["groups"]
    assert [(g["kind"], g["example"]["value"]) for g in groups] == [("media-type", "text/html")]


async def test_request_body_checked_against_its_schema() -> None:
    proxy = proxy_for(upstream(201, [(b"content-type", b"application/vnd.api+json")], b"{}"))
    bad = {"data": {"type": "list", "attributes": {"name": 42}}}
    headers = {**AUTH, "content-type": "application/vnd.api+json"}
    async with asgi_client(proxy, "http://proxy.test") as client:
        await client.post("/api/lists/", headers=headers, content=json.dumps(bad))
    await proxy.flush()
    request_side = [g for g in proxy.report.to_json()["groups"] if g["where"] == "request"]
    assert [(g["operation"], g["example"]["pointer"], g["keyword"]) for g in request_side] == [
        ("create_list", "/data/attributes/name", "type")
    ]
