"""The PostgreSQL store's connection pool: transactions on several threads of one process run at once, each on
its own connection; writers of one account still wait for one another (the advisory lock), so a
read-check-write stays atomic; and a PostgreSQL-backed mock answers requests off the event loop."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from mock_server._compile import CompiledSpec
from mock_server.state import StatefulBehaviour, Store
from mock_server.state._postgres import PostgresStore

from ..postgres_cluster import PostgresCluster
from .conftest import API_KEY, JSONAPI, core_client, profile_body


def _profile(rid: str, **attributes: Any) -> dict[str, Any]:
    return {"type": "profile", "id": rid, "attributes": attributes, "relationships": {}}


@pytest.mark.timeout(60)
def test_other_accounts_do_not_wait_for_a_writer(open_any_store: Callable[[str], Store]) -> None:
    store = open_any_store("postgresql")
    assert store.concurrent and isinstance(store, PostgresStore)
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with store.transaction() as tx:
            tx.put("a", _profile("P1", email="one@example.com"))
            holding.set()
            release.wait(30)

    first = threading.Thread(target=writer)
    first.start()
    try:
        assert holding.wait(30)
        # Meanwhile, on this thread: another account's write and a read commit while "a"'s writer is open
        # (one shared connection would wait for it, and a lock around it would deadlock this test).
        with store.transaction() as tx:
            tx.put("b", _profile("P2", email="two@example.com"))
        with store.transaction(write=False) as tx:
            assert tx.get("a", "profile", "P1") is None  # not committed yet: not seen
            assert tx.get("b", "profile", "P2") is not None
    finally:
        release.set()
        first.join(30)
    with store.transaction(write=False) as tx:
        assert tx.get("a", "profile", "P1") is not None


@pytest.mark.timeout(60)
def test_writers_of_one_account_still_take_turns(open_any_store: Callable[[str], Store]) -> None:
    store = open_any_store("postgresql")
    holding, release = threading.Event(), threading.Event()
    seen: list[dict[str, Any] | None] = []

    def first() -> None:
        with store.transaction() as tx:
            tx.get("a", "profile", "P1")  # takes the account's lock
            holding.set()
            release.wait(30)
            tx.put("a", _profile("P1", email="first@example.com"))

    def second() -> None:
        with store.transaction() as tx:
            seen.append(tx.get("a", "profile", "P1"))  # waits for the first writer's commit

    one = threading.Thread(target=first)
    one.start()
    assert holding.wait(30)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.5)
    assert two.is_alive() and not seen  # still waiting for the lock
    release.set()
    one.join(30)
    two.join(30)
    assert seen and seen[0] is not None and seen[0]["attributes"]["email"] == "first@example.com"


async def test_a_postgres_mock_answers_concurrent_duplicates_once(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour], postgres: PostgresCluster
) -> None:
    store = PostgresStore(postgres.database(f"t_{uuid.uuid4().hex[:12]}"))
    try:
        async with core_client(compiled, make_behaviour(store)) as client:
            headers = {**API_KEY, **JSONAPI}
            body = profile_body(email="race@example.com")
            responses = await asyncio.gather(
                *(client.post("/api/profiles", json=body, headers=headers) for _ in range(12))
            )
            assert sorted(r.status_code for r in responses) == [201] + [409] * 11
    finally:
        store.close()
