"""Fixtures for the mock: an in-process app on the pinned spec and an httpx client talking to it over ASGI.

    async def test_something(client: httpx.AsyncClient) -> None:
        r = await client.get("/api/profiles", headers=AUTH)

`mock_app_factory(behaviours=[...], max_body_bytes=...)` builds more apps on the same compiled spec.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kdk._paths import shared_mirror
from mock_server import CompiledSpec, create_app, load_compiled

REVISION = "2026-07-15"
API_KEY = "pk_test_0123456789abcdef"
AUTH = {"Authorization": f"Klaviyo-API-Key {API_KEY}", "revision": REVISION}
JSON_API = "application/vnd.api+json"


@pytest.fixture(scope="session")
def compiled() -> CompiledSpec:
    from kdk.spec import LockError, pinned_spec_path

    try:
        path = pinned_spec_path()
    except (LockError, OSError) as exc:
        pytest.skip(f"the pinned spec is not available: {exc}")
    return load_compiled(path)


@pytest.fixture(scope="session")
def pinned_spec() -> dict[str, Any]:
    """The patched spec as served (for schema checks in tests)."""
    from kdk.spec import LockError, load_pinned_spec

    try:
        return load_pinned_spec()
    except (LockError, OSError) as exc:
        pytest.skip(f"the pinned spec is not available: {exc}")


@pytest.fixture
def mock_app_factory(compiled: CompiledSpec) -> Callable[..., Any]:
    def build(**kwargs: Any) -> Any:
        return create_app(compiled=compiled, **kwargs)

    return build


@pytest.fixture
def mock_app(mock_app_factory: Callable[..., Any]) -> Any:
    return mock_app_factory()


def asgi_client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock.test")


@pytest.fixture
async def client(mock_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(mock_app) as http:
        yield http


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = shared_mirror()
    if path is None:
        pytest.skip("no spec mirror (set KDK_SPEC_SOURCE or put ../shared/klaviyo-openapi beside the checkout)")
    return path
