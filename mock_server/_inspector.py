"""The inspector page at /__mock__/ui: look at an account instead of reading JSON.

A static page (`_inspector.html`) and its script (`_inspector.js`), served as admin routes; everything they show
comes from the admin API the stateful mock already has (`/__mock__/accounts`, `state`, `journal`, `reset`,
`inbound`), so the page holds no logic of its own about resources.
"""

from __future__ import annotations

from pathlib import Path

from ._types import AdminRoute, MockRequest, MockResponse

__all__ = ["INSPECTOR_PATH", "inspector_routes"]

INSPECTOR_PATH = "/__mock__/ui"
_FILES = {
    INSPECTOR_PATH: ("_inspector.html", "text/html; charset=utf-8"),
    f"{INSPECTOR_PATH}/inspector.js": ("_inspector.js", "application/javascript; charset=utf-8"),
}


def _route(path: str, name: str, media: str) -> AdminRoute:
    async def handler(request: MockRequest) -> MockResponse:
        body = (Path(__file__).parent / name).read_bytes()
        return MockResponse(200, raw=body, media_type=media, headers={"cache-control": "no-store"})

    return AdminRoute("get", path, handler, public=True)  # static files: the page asks for credentials itself


def inspector_routes() -> list[AdminRoute]:
    return [_route(path, name, media) for path, (name, media) in _FILES.items()]
