"""Fixtures for the stateful layer: the pinned spec, a behaviour, and the core app around it in-process."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server import AdminAccess, account_for_name
from mock_server._compile import CompiledSpec
from mock_server._core import MockCore
from mock_server.state import MemoryStore, ResourceIndex, SqliteStore, StatefulBehaviour, Store, build_index
from mock_server.state._postgres import PostgresStore

API_KEY = {"Authorization": "Klaviyo-API-Key pk_test_one", "revision": "2026-07-15"}
OTHER_KEY = {"Authorization": "Klaviyo-API-Key pk_test_two", "revision": "2026-07-15"}
OAUTH = {"Authorization": "Bearer oauth-token-one", "revision": "2026-07-15"}
JSONAPI = {"content-type": "application/vnd.api+json"}
# The opaque account ids of the credentials above (never the credential: see mock_server._auth).
ACCOUNT_ONE = str(account_for_name("api_key:pk_test_one"))
ACCOUNT_TWO = str(account_for_name("api_key:pk_test_two"))
ADMIN_TOKEN = "kdk-test-admin-token"
ADMIN = {"KDK-Admin-Token": ADMIN_TOKEN}  # the in-process core below is started with this admin token


# `compiled` (the pinned spec, compiled; skips without it) comes from mock_server/tests/conftest.py.


@pytest.fixture(scope="session")
def spec(compiled: CompiledSpec) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(compiled.patched_json.read_bytes())
    return loaded


@pytest.fixture(scope="session")
def index(spec: dict[str, Any]) -> ResourceIndex:
    return build_index(spec)


@pytest.fixture
def make_behaviour(spec: dict[str, Any], index: ResourceIndex) -> Callable[..., StatefulBehaviour]:
    def make(store: Store | None = None, **kwargs: Any) -> StatefulBehaviour:
        return StatefulBehaviour(spec, store or MemoryStore(), index=index, **kwargs)

    return make


@pytest.fixture
def behaviour(make_behaviour: Callable[..., StatefulBehaviour]) -> StatefulBehaviour:
    return make_behaviour()


def core_client(compiled: CompiledSpec, behaviour: StatefulBehaviour) -> httpx.AsyncClient:
    core = MockCore(None, compiled=compiled, behaviours=[behaviour], admin_access=AdminAccess(ADMIN_TOKEN))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=core), base_url="http://mock.test")


@pytest.fixture
async def client(compiled: CompiledSpec, behaviour: StatefulBehaviour) -> AsyncIterator[httpx.AsyncClient]:
    async with core_client(compiled, behaviour) as c:
        yield c


def profile_body(**attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "profile", "attributes": attributes}}


def list_body(name: str) -> dict[str, Any]:
    return {"data": {"type": "list", "attributes": {"name": name}}}


def response_errors(
    compiled: CompiledSpec, spec: dict[str, Any], path: str, method: str, status: int, body: Any
) -> list[str]:
    """Why `body` is not valid against the spec's response schema for (path, method, status)."""
    from kdk.spec import deref
    from mock_server._jsonschema import convert_schema, make_validator, schema_errors

    responses = spec["paths"][path][method]["responses"]
    response = deref(spec, responses.get(str(status)) or responses.get(f"{str(status)[0]}XX"))
    content = (response or {}).get("content") or {}
    schema = next((c["schema"] for c in content.values() if "schema" in c), None)
    if schema is None:
        return []
    validator = make_validator(convert_schema(schema), compiled.components)
    return [f"{e.pointer}: {e.message}" for e in schema_errors(validator, body)]


STORE_KINDS = ("memory", "sqlite", "postgresql")


@pytest.fixture
def open_any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], Store]]:
    """`open_any_store(kind)`: an empty store of that kind (the PostgreSQL one on the session's cluster);
    calling it again with the same kind reopens the same state (a restart)."""
    opened: list[Store] = []
    names: dict[str, str] = {}

    def open_store(kind: str) -> Store:
        if kind == "memory":
            store: Store = MemoryStore()
        elif kind == "sqlite":
            store = SqliteStore(tmp_path / "state.db")
        else:
            if kind not in names:
                cluster = request.getfixturevalue("postgres")
                names[kind] = cluster.database(f"t_{uuid.uuid4().hex[:12]}")
            store = PostgresStore(names[kind])
        opened.append(store)
        return store

    yield open_store
    for store in opened:
        store.close()


@contextmanager
def recorded_statements(dialect: type[Any]) -> Iterator[list[tuple[str, tuple[Any, ...]]]]:
    """The statements a SQL dialect runs meanwhile (`run`: every read of `SqlTx` but the bodies by id)."""
    statements: list[tuple[str, tuple[Any, ...]]] = []
    run = dialect.run

    def recording(self: Any, sql: str, args: Any = ()) -> Any:
        statements.append((sql, tuple(args)))
        return run(self, sql, args)

    dialect.run = recording
    try:
        yield statements
    finally:
        dialect.run = run
