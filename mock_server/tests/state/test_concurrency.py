"""Concurrent writers lose nothing: many creates at once (in-process, and across SQLite and PostgreSQL
connections in several threads and processes); an identifier raced from all of them is created once."""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server._compile import CompiledSpec
from mock_server._types import MockRequest
from mock_server.state import ResourceIndex, SqliteStore, StatefulBehaviour, open_store

from ..postgres_cluster import PostgresCluster
from .conftest import API_KEY, JSONAPI, core_client, profile_body

H = {**API_KEY, **JSONAPI}


async def _all_ids(client: httpx.AsyncClient) -> list[str]:
    ids: list[str] = []
    url: str | None = "/api/profiles?page[size]=100"
    while url:
        page = (await client.get(url, headers=API_KEY)).json()
        ids += [d["id"] for d in page["data"]]
        url = page["links"].get("next")
    return ids


async def test_many_concurrent_creates(compiled: CompiledSpec, behaviour: StatefulBehaviour) -> None:
    async with core_client(compiled, behaviour) as client:
        responses = await asyncio.gather(
            *(client.post("/api/profiles", json=profile_body(email=f"c{i}@example.com"), headers=H) for i in range(200))
        )
        assert {r.status_code for r in responses} == {201}
        created = [r.json()["data"]["id"] for r in responses]
        ids = await _all_ids(client)
    assert len(set(created)) == 200
    assert sorted(ids) == sorted(created)


async def test_concurrent_duplicates_make_exactly_one_profile(
    compiled: CompiledSpec, behaviour: StatefulBehaviour
) -> None:
    async with core_client(compiled, behaviour) as client:
        responses = await asyncio.gather(
            *(client.post("/api/profiles", json=profile_body(email="race@example.com"), headers=H) for _ in range(30))
        )
        ids = await _all_ids(client)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 29
    winner = next(r for r in responses if r.status_code == 201).json()["data"]["id"]
    assert {r.json()["errors"][0]["meta"]["duplicate_profile_id"] for r in responses if r.status_code == 409} == {
        winner
    }
    assert ids == [winner]


def _create_many(spec: dict[str, Any], db: str, prefix: str, n: int, duplicate: bool) -> list[int]:
    behaviour = StatefulBehaviour(spec, open_store(db if "://" in db else f"sqlite:{db}"))

    async def run() -> list[int]:
        statuses = []
        for i in range(n):
            email = "shared@example.com" if duplicate and i == 0 else f"{prefix}{i}@example.com"
            request = MockRequest(
                "create_profile",
                "post",
                "/api/profiles",
                {},
                {},
                {},
                profile_body(email=email),
                "api_key:pk",
                "api_key",
                "2026-07-15",
                "http://mock",
            )
            response = await behaviour.handle(request)
            assert response is not None
            statuses.append(response.status)
        return statuses

    try:
        return asyncio.run(run())
    finally:
        behaviour.store.close()


def _worker(spec: dict[str, Any], db: str, prefix: str, queue: Any) -> None:
    queue.put(_create_many(spec, db, prefix, 40, duplicate=True))


@pytest.mark.timeout(120)
def test_sqlite_writers_in_threads_and_processes_lose_nothing(tmp_path: Path, spec: dict[str, Any]) -> None:
    db = str(tmp_path / "shared.db")
    results: list[list[int]] = []
    threads = [
        threading.Thread(target=lambda p=p: results.append(_create_many(spec, db, p, 40, duplicate=True)))
        for p in ("t1-", "t2-")
    ]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [context.Process(target=_worker, args=(spec, db, p, queue)) for p in ("p1-", "p2-")]
    # Fork first: forking a process that already runs threads can copy a held lock into the child.
    for worker in [*processes, *threads]:
        worker.start()
    for thread in threads:
        thread.join(60)
    results += [queue.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    statuses = [s for r in results for s in r]
    assert statuses.count(201) == 4 * 39 + 1 and statuses.count(409) == 3  # one "shared@" profile in all

    store = SqliteStore(db)
    with store.transaction() as tx:
        records = tx.scan("api_key:pk", "profile")
    store.close()
    emails = [r["attributes"]["email"] for r in records]
    assert len(records) == len(set(emails)) == 4 * 39 + 1
    assert len({r["id"] for r in records}) == len({r["seq"] for r in records}) == len(records)


def _racer(spec: dict[str, Any], index: ResourceIndex, option: str, name: str, barrier: Any, n: int) -> list[int]:
    """One connection: wait for everyone, create the contested profile, then `n` of its own."""
    behaviour = StatefulBehaviour(spec, open_store(option), index=index)

    def request(email: str) -> MockRequest:
        body = profile_body(email=email)
        return MockRequest(
            "create_profile",
            "post",
            "/api/profiles",
            {},
            {},
            {},
            body,
            "api_key:race",
            "api_key",
            "2026-07-15",
            "http://mock",
        )

    async def run() -> list[int]:
        statuses = []
        for email in ["race@example.com", *(f"{name}-{i}@example.com" for i in range(n))]:
            response = await behaviour.handle(request(email))
            assert response is not None
            statuses.append(response.status)
        return statuses

    barrier.wait(60)
    try:
        return asyncio.run(run())
    finally:
        behaviour.store.close()


def _race_process(spec: dict[str, Any], index: ResourceIndex, option: str, name: str, barrier: Any, queue: Any) -> None:
    results: list[list[int]] = []
    threads = [
        threading.Thread(target=lambda t=t: results.append(_racer(spec, index, option, f"{name}t{t}", barrier, 10)))
        for t in range(THREADS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    queue.put(results)


PROCESSES, THREADS = 3, 4


@pytest.mark.timeout(180)
@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_same_email_from_every_connection_is_created_once(
    kind: str, tmp_path: Path, spec: dict[str, Any], index: ResourceIndex, request: pytest.FixtureRequest
) -> None:
    if kind == "sqlite":
        option = f"sqlite:{tmp_path / 'race.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        option = cluster.database("race")
    open_store(option).close()  # the tables exist before the racers open them
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(PROCESSES * THREADS)
    queue = context.Queue()
    processes = [
        context.Process(target=_race_process, args=(spec, index, option, f"p{p}", barrier, queue))
        for p in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    results = [r for _ in processes for r in queue.get(timeout=150)]
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    assert len(results) == PROCESSES * THREADS
    contested = sorted(r[0] for r in results)
    assert contested == [201] + [409] * (PROCESSES * THREADS - 1)
    assert all(s == 201 for r in results for s in r[1:])
    store = open_store(option)
    with store.transaction(write=False) as tx:
        emails = [r["attributes"]["email"] for r in tx.scan("api_key:race", "profile")]
        found = tx.find("api_key:race", "profile", "email", "race@example.com")
    store.close()
    assert len(emails) == len(set(emails)) == 1 + PROCESSES * THREADS * 10  # no write lost
    assert found is not None
