"""Fixtures for the mock: an in-process app on the pinned spec and an httpx client talking to it over ASGI.

    async def test_something(client: httpx.AsyncClient) -> None:
        r = await client.get("/api/profiles", headers=AUTH)

`mock_app_factory(behaviours=[...], max_body_bytes=...)` builds more apps on the same compiled spec.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kdk import shared_mirror
from mock_server import CompiledSpec, create_app, load_compiled

from .postgres_cluster import PostgresCluster, postgres_cluster

REVISION = "2026-07-15"
API_KEY = "pk_test_0123456789abcdef"
AUTH = {"Authorization": f"Klaviyo-API-Key {API_KEY}", "revision": REVISION}
JSON_API = "application/vnd.api+json"


@pytest.fixture(scope="session")
def compiled() -> CompiledSpec:
    from kdk.spec import pinned_spec_path

    # No lock or an empty cache fails (LockError says to run `kdk spec fetch --check`; scripts/test does).
    return load_compiled(pinned_spec_path())


@pytest.fixture(scope="session")
def pinned_spec() -> dict[str, Any]:
    """The patched spec as served (for schema checks in tests)."""
    from kdk.spec import load_pinned_spec

    return load_pinned_spec()


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
        reason = "no spec mirror (set KDK_SPEC_SOURCE or put ../shared/klaviyo-openapi beside the checkout)"
        if os.environ.get("CI"):  # CI always has ../shared beside the clone: its absence is a broken run
            pytest.fail(reason)
        pytest.skip(reason)
    return path


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A throwaway PostgreSQL cluster for the session (see postgres_cluster.py): fails, never skips, when
    PostgreSQL cannot start. `postgres.url` is a `--state` value; `postgres.database(name)` a fresh database."""
    with postgres_cluster() as cluster:
        yield cluster
