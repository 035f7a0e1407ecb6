"""One behaviour suite for every store (memory, SQLite, PostgreSQL), through the mock's HTTP surface:
CRUD, identifier uniqueness, pagination and sorting, relationships both ways, persistence, concurrency."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mock_server._compile import CompiledSpec
from mock_server.state import StatefulBehaviour, Store

from .conftest import API_KEY, JSONAPI, STORE_KINDS, core_client, list_body, profile_body

H = {**API_KEY, **JSONAPI}
pytestmark = pytest.mark.parametrize("kind", STORE_KINDS)


async def _every_page(client: httpx.AsyncClient, url: str) -> tuple[list[str], list[dict[str, Any]]]:
    ids: list[str] = []
    pages = []
    next_url: str | None = url
    while next_url:
        page = (await client.get(next_url, headers=API_KEY)).json()
        pages.append(page)
        ids += [d["id"] for d in page["data"]]
        next_url = page["links"].get("next")
    return ids, pages


async def test_crud(
    kind: str,
    compiled: CompiledSpec,
    make_behaviour: Callable[..., StatefulBehaviour],
    open_any_store: Callable[[str], Store],
) -> None:
    async with core_client(compiled, make_behaviour(open_any_store(kind))) as client:
        created = await client.post("/api/profiles", json=profile_body(email="crud@example.com"), headers=H)
        assert created.status_code == 201, created.text
        pid = created.json()["data"]["id"]
        got = await client.get(f"/api/profiles/{pid}", headers=API_KEY)
        assert got.json()["data"]["attributes"]["email"] == "crud@example.com"
        patch = {"data": {"type": "profile", "id": pid, "attributes": {"first_name": "Ada"}}}
        assert (await client.patch(f"/api/profiles/{pid}", json=patch, headers=H)).status_code == 200
        listed = (await client.get("/api/profiles?filter=equals(email,'crud@example.com')", headers=API_KEY)).json()
        assert [(d["id"], d["attributes"]["first_name"]) for d in listed["data"]] == [(pid, "Ada")]
        lid = (await client.post("/api/lists", json=list_body("Doomed"), headers=H)).json()["data"]["id"]
        assert (await client.delete(f"/api/lists/{lid}", headers=API_KEY)).status_code == 204
        assert (await client.get(f"/api/lists/{lid}", headers=API_KEY)).status_code == 404
        listed = (await client.get("/api/lists?filter=equals(name,'Doomed')", headers=API_KEY)).json()
        assert listed["data"] == []


async def test_identifiers_are_unique(
    kind: str,
    compiled: CompiledSpec,
    make_behaviour: Callable[..., StatefulBehaviour],
    open_any_store: Callable[[str], Store],
) -> None:
    async with core_client(compiled, make_behaviour(open_any_store(kind))) as client:
        first = (await client.post("/api/profiles", json=profile_body(email="u@example.com"), headers=H)).json()
        second = (await client.post("/api/profiles", json=profile_body(phone_number="+15005550006"), headers=H)).json()
        again = await client.post("/api/profiles", json=profile_body(email="u@example.com"), headers=H)
        assert again.status_code == 409
        assert again.json()["errors"][0]["meta"]["duplicate_profile_id"] == first["data"]["id"]
        sid = second["data"]["id"]
        into = {"data": {"type": "profile", "id": sid, "attributes": {"email": "u@example.com"}}}
        assert (await client.patch(f"/api/profiles/{sid}", json=into, headers=H)).status_code == 409
        fid = first["data"]["id"]
        away = {"data": {"type": "profile", "id": fid, "attributes": {"email": "moved@example.com"}}}
        assert (await client.patch(f"/api/profiles/{fid}", json=away, headers=H)).status_code == 200
        reused = await client.post("/api/profiles", json=profile_body(email="u@example.com"), headers=H)
        assert reused.status_code == 201  # the identifier left the index with its profile
        # Another account is another namespace.
        other = {**H, "Authorization": "Klaviyo-API-Key pk_test_two"}
        assert (
            await client.post("/api/profiles", json=profile_body(email="u@example.com"), headers=other)
        ).status_code == 201


async def test_pages_and_sorts(
    kind: str,
    compiled: CompiledSpec,
    make_behaviour: Callable[..., StatefulBehaviour],
    open_any_store: Callable[[str], Store],
) -> None:
    async with core_client(compiled, make_behaviour(open_any_store(kind))) as client:
        emails = [f"{chr(ord('a') + (i * 7) % 26)}{i}@example.com" for i in range(45)]
        created = [
            (await client.post("/api/profiles", json=profile_body(email=e), headers=H)).json()["data"]["id"]
            for e in emails
        ]
        ids, pages = await _every_page(client, "/api/profiles?page[size]=10")
        assert ids == created and [len(p["data"]) for p in pages] == [10, 10, 10, 10, 5]
        ids, _ = await _every_page(client, "/api/profiles?page[size]=10&sort=-email")
        by_email = dict(zip(created, emails, strict=True))
        assert [by_email[i] for i in ids] == sorted(emails, reverse=True)
        # Back from the last page with `prev` gives the same pages in reverse.
        back = []
        page = pages[-1]
        while page["links"].get("prev"):
            page = (await client.get(page["links"]["prev"], headers=API_KEY)).json()
            back.append([d["id"] for d in page["data"]])
        assert back == [[d["id"] for d in p["data"]] for p in pages[-2::-1]]
        wanted = ",".join(f"'{e}'" for e in emails[3:8])
        ids, _ = await _every_page(client, f"/api/profiles?page[size]=2&filter=any(email,[{wanted}])")
        assert ids == created[3:8]


async def test_relationships_both_ways(
    kind: str,
    compiled: CompiledSpec,
    make_behaviour: Callable[..., StatefulBehaviour],
    open_any_store: Callable[[str], Store],
) -> None:
    async with core_client(compiled, make_behaviour(open_any_store(kind))) as client:
        pids = [
            (await client.post("/api/profiles", json=profile_body(email=f"m{i}@example.com"), headers=H)).json()[
                "data"
            ]["id"]
            for i in range(3)
        ]
        lids = [
            (await client.post("/api/lists", json=list_body(f"L{i}"), headers=H)).json()["data"]["id"] for i in range(2)
        ]
        for lid, members in ((lids[0], pids), (lids[1], pids[1:2])):
            body = {"data": [{"type": "profile", "id": p} for p in members]}
            assert (
                await client.post(f"/api/lists/{lid}/relationships/profiles", json=body, headers=H)
            ).status_code == 204
        members = (await client.get(f"/api/lists/{lids[0]}/profiles", headers=API_KEY)).json()["data"]
        assert [m["id"] for m in members] == pids
        lists = (await client.get(f"/api/profiles/{pids[1]}/lists", headers=API_KEY)).json()["data"]
        assert sorted(x["id"] for x in lists) == sorted(lids)
        body = {"data": [{"type": "profile", "id": pids[1]}]}
        await client.request("DELETE", f"/api/lists/{lids[1]}/relationships/profiles", json=body, headers=H)
        lists = (await client.get(f"/api/profiles/{pids[1]}/lists", headers=API_KEY)).json()["data"]
        assert [x["id"] for x in lists] == [lids[0]]


async def test_concurrent_creates_lose_nothing(
    kind: str,
    compiled: CompiledSpec,
    make_behaviour: Callable[..., StatefulBehaviour],
    open_any_store: Callable[[str], Store],
) -> None:
    async with core_client(compiled, make_behaviour(open_any_store(kind))) as client:
        responses = await asyncio.gather(
            *(client.post("/api/profiles", json=profile_body(email=f"c{i}@example.com"), headers=H) for i in range(60)),
            *(client.post("/api/profiles", json=profile_body(email="same@example.com"), headers=H) for _ in range(10)),
        )
        statuses = [r.status_code for r in responses]
        assert statuses.count(201) == 61 and statuses.count(409) == 9
        ids, _ = await _every_page(client, "/api/profiles?page[size]=100")
    assert sorted(ids) == sorted(r.json()["data"]["id"] for r in responses if r.status_code == 201)


async def test_state_survives_a_restart(
    kind: str,
    compiled: CompiledSpec,
    make_behaviour: Callable[..., StatefulBehaviour],
    open_any_store: Callable[[str], Store],
) -> None:
    if kind == "memory":
        # In-memory state is per process by design: a new store starts empty.
        async with core_client(compiled, make_behaviour(open_any_store(kind))) as client:
            await client.post("/api/profiles", json=profile_body(email="gone@example.com"), headers=H)
        async with core_client(compiled, make_behaviour(open_any_store(kind))) as client:
            assert (await client.get("/api/profiles", headers=API_KEY)).json()["data"] == []
        return
    first = open_any_store(kind)
    async with core_client(compiled, make_behaviour(first)) as client:
        pid = (await client.post("/api/profiles", json=profile_body(email="keep@example.com"), headers=H)).json()[
            "data"
        ]["id"]
        lid = (await client.post("/api/lists", json=list_body("Kept"), headers=H)).json()["data"]["id"]
        body = {"data": [{"type": "profile", "id": pid}]}
        await client.post(f"/api/lists/{lid}/relationships/profiles", json=body, headers=H)
    first.close()
    async with core_client(compiled, make_behaviour(open_any_store(kind))) as client:
        found = (await client.get("/api/profiles?filter=equals(email,'keep@example.com')", headers=API_KEY)).json()
        assert [d["id"] for d in found["data"]] == [pid]
        lists = (await client.get(f"/api/profiles/{pid}/lists", headers=API_KEY)).json()["data"]
        assert [x["id"] for x in lists] == [lid]
        again = await client.post("/api/profiles", json=profile_body(email="keep@example.com"), headers=H)
        assert again.status_code == 409
        journal = (await client.get("/__mock__/journal", headers=API_KEY)).json()["requests"]
        assert journal[0]["path"] == "/api/profiles"  # the journal is kept with the state


async def test_bulk_import_writes_in_one_batch(
    kind: str,
    compiled: CompiledSpec,
    make_behaviour: Callable[..., StatefulBehaviour],
    open_any_store: Callable[[str], Store],
) -> None:
    async with core_client(compiled, make_behaviour(open_any_store(kind))) as client:
        existing = (await client.post("/api/profiles", json=profile_body(email="old@example.com"), headers=H)).json()
        lid = (await client.post("/api/lists", json=list_body("Imported"), headers=H)).json()["data"]["id"]
        items = [{"type": "profile", "attributes": {"email": f"b{i}@example.com"}} for i in range(150)]
        items += [
            {"type": "profile", "attributes": {"email": "b7@example.com", "first_name": "Twice"}},  # same job
            {"type": "profile", "attributes": {"email": "old@example.com", "first_name": "Old"}},  # stored before
        ]
        job = {
            "data": {
                "type": "profile-bulk-import-job",
                "attributes": {"profiles": {"data": items}},
                "relationships": {"lists": {"data": [{"type": "list", "id": lid}]}},
            }
        }
        assert (await client.post("/api/profile-bulk-import-jobs", json=job, headers=H)).status_code == 202
        ids, _ = await _every_page(client, "/api/profiles?page[size]=100")
        assert len(ids) == 151 and ids[0] == existing["data"]["id"]
        twice = (await client.get("/api/profiles?filter=equals(email,'b7@example.com')", headers=API_KEY)).json()
        assert [d["attributes"]["first_name"] for d in twice["data"]] == ["Twice"]
        old = (await client.get("/api/profiles?filter=equals(email,'old@example.com')", headers=API_KEY)).json()
        assert [(d["id"], d["attributes"]["first_name"]) for d in old["data"]] == [(existing["data"]["id"], "Old")]
        members, _ = await _every_page(client, f"/api/lists/{lid}/profiles?page[size]=100")
        assert sorted(members) == sorted(ids)
