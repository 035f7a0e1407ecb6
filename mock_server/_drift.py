"""Test-only: corrupt the mock's successful JSON answers in known ways, the drift `kdk proxy` must find.

    null    the first resource's `links.self` becomes null  (a string that is not nullable)
    number  the top-level `links.self` becomes 12345        (a number where a string is documented)
    enum    the first resource's `type` becomes an unknown value  (a value outside the enum)
    status  the status becomes 299                          (a status the operation does not document)

Each corruption that applied is listed in the `x-kdk-injected-drift` response header (`null@/data/id, ...`),
so a test knows which pointers the proxy has to report.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

__all__ = ["DRIFT_HEADER", "DRIFT_KINDS", "UNKNOWN_ENUM_VALUE", "DriftInjector", "parse_drift_kinds"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DRIFT_KINDS = ("null", "number", "enum", "status")
DRIFT_HEADER = "x-kdk-injected-drift"
UNKNOWN_ENUM_VALUE = "kdk-drifted-enum-value"
_UNDOCUMENTED_STATUS = 299


def parse_drift_kinds(text: str | Sequence[str]) -> tuple[str, ...]:
    kinds = [k.strip() for k in (text.split(",") if isinstance(text, str) else text) if k.strip()]
    unknown = [k for k in kinds if k not in DRIFT_KINDS]
    if unknown:
        raise ValueError(f"--inject-drift takes {', '.join(DRIFT_KINDS)}, not {', '.join(unknown)}")
    return tuple(kinds)


class DriftInjector:
    def __init__(self, app: ASGIApp, *, kinds: str | Sequence[str] = DRIFT_KINDS) -> None:
        self.app = app
        self.kinds = parse_drift_kinds(kinds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(("/api/", "/client/")):
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def buffer(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, buffer)
        status, body = int(start["status"]), b"".join(chunks)
        headers = [(k, v) for k, v in start.get("headers") or () if k.lower() != b"content-length"]
        applied: list[str] = []
        if 200 <= status < 300 and body:
            try:
                document = json.loads(body)
            except ValueError:
                document = None
            if isinstance(document, dict):
                applied = self._corrupt(document)
                body = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
            if "status" in self.kinds:
                status = _UNDOCUMENTED_STATUS
                applied.append(f"status@{_UNDOCUMENTED_STATUS}")
        if applied:
            headers.append((DRIFT_HEADER.encode(), ", ".join(applied).encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _corrupt(self, document: dict[str, Any]) -> list[str]:
        applied = []
        data = document.get("data")
        resource, pointer = (data, "/data") if isinstance(data, dict) else (None, "")
        if isinstance(data, list) and data and isinstance(data[0], dict):
            resource, pointer = data[0], "/data/0"
        if resource is not None:
            own_links = resource.get("links")
            if "null" in self.kinds and isinstance(own_links, dict) and isinstance(own_links.get("self"), str):
                own_links["self"] = None
                applied.append(f"null@{pointer}/links/self")
            if "enum" in self.kinds and isinstance(resource.get("type"), str):
                resource["type"] = UNKNOWN_ENUM_VALUE
                applied.append(f"enum@{pointer}/type")
        links = document.get("links")
        if "number" in self.kinds and isinstance(links, dict) and isinstance(links.get("self"), str):
            links["self"] = 12345
            applied.append("number@/links/self")
        return applied
