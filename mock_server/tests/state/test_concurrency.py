"""Concurrent writers lose nothing: many creates at once (in-process and across SQLite connections)."""

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
from mock_server.state import SqliteStore, StatefulBehaviour

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
    behaviour = StatefulBehaviour(spec, SqliteStore(db))

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
