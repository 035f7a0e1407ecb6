"""List membership is stored on the member profiles: adding or removing one profile writes that profile (and
the list's `updated`), never the whole membership; a list's members are read through the store's reference
index, not by scanning the account's profiles. Proven by counting the store's writes and reads."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from mock_server._compile import CompiledSpec
from mock_server.state import MemoryStore, StatefulBehaviour
from mock_server.state._store import Record, StoreTx

from .conftest import API_KEY, JSONAPI, core_client, list_body, profile_body

H = {**API_KEY, **JSONAPI}


class _Watched(MemoryStore):
    """A memory store that records the records written (type, id, JSON size) and the reads by kind."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[tuple[str, str, int]] = []
        self.scanned: list[str] = []

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreTx]:
        with super().transaction(write=write) as tx:
            put, scan = tx.put, tx.scan

            def watched_put(account: str, record: Record) -> Record:
                self.written.append((record["type"], record["id"], len(json.dumps(record))))
                return put(account, record)

            def watched_scan(account: str, rtype: str) -> list[Record]:
                self.scanned.append(rtype)
                return scan(account, rtype)

            tx.put, tx.scan = watched_put, watched_scan  # type: ignore[method-assign]
            yield tx


async def _made(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    made = await client.post(path, json=body, headers=H)
    assert made.status_code == 201, made.text
    return str(made.json()["data"]["id"])


def _refs(*ids: str) -> dict[str, Any]:
    return {"data": [{"type": "profile", "id": i} for i in ids]}


async def test_one_add_writes_one_profile_whatever_the_lists_size(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    store = _Watched()
    async with core_client(compiled, make_behaviour(store)) as client:
        lid = await _made(client, "/api/lists", list_body("Big"))
        pids = [await _made(client, "/api/profiles", profile_body(email=f"m{i}@example.com")) for i in range(120)]
        for start in range(0, 100, 50):
            added = await client.post(
                f"/api/lists/{lid}/relationships/profiles", json=_refs(*pids[start : start + 50]), headers=H
            )
            assert added.status_code == 204, added.text
        sizes = []
        for pid in pids[100:103]:
            store.written.clear()
            added = await client.post(f"/api/lists/{lid}/relationships/profiles", json=_refs(pid), headers=H)
            assert added.status_code == 204
            assert sorted(t for t, _, _ in store.written) == ["list", "profile"]  # the member and the list's `updated`
            sizes += [size for t, _, size in store.written if t == "list"]
        assert max(sizes) < 1000 and len(set(sizes)) == 1  # the list record does not grow with its members
        store.written.clear()
        removed = await client.request(
            "DELETE", f"/api/lists/{lid}/relationships/profiles", json=_refs(pids[0]), headers=H
        )
        assert removed.status_code == 204
        # The member, the list's `updated`, and the departure that segment/list growth reports count.
        assert sorted(t for t, _, _ in store.written) == ["kdk-membership-removal", "list", "profile"]

        store.scanned.clear()
        page = await client.get(f"/api/lists/{lid}/profiles", headers=API_KEY, params={"page[size]": "100"})
        assert page.status_code == 200
        assert "profile" not in store.scanned  # the members come from the reference index
        listed = [r["id"] for r in page.json()["data"]]
        assert listed == pids[1:101]  # in the order the profiles were made (as before)
        assert all(r["attributes"]["joined_group_at"] for r in page.json()["data"])
        nxt = await client.get(page.json()["links"]["next"], headers=API_KEY)
        assert [r["id"] for r in nxt.json()["data"]] == pids[101:103]
        # A profile names its lists; the list resource itself shows no member data.
        lists = await client.get(f"/api/profiles/{pids[5]}/relationships/lists", headers=API_KEY)
        assert lists.json()["data"] == [{"type": "list", "id": lid}]
        shown = (await client.get(f"/api/lists/{lid}", headers=API_KEY)).json()["data"]
        assert "data" not in (shown.get("relationships") or {}).get("profiles", {})
        counted = await client.get(
            f"/api/lists/{lid}", params={"additional-fields[list]": "profile_count"}, headers=API_KEY
        )
        assert counted.json()["data"]["attributes"]["profile_count"] == 102


async def test_lists_loaded_with_members_on_the_list_keep_them(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour]
) -> None:
    """Seed and demo data store a list's members on the list: they count with the members added later."""
    async with core_client(compiled, make_behaviour(_Watched())) as client:
        a, b = "PA", "PB"
        seed = [
            {"type": "profile", "id": a, "attributes": {"email": "a@example.com"}},
            {"type": "profile", "id": b, "attributes": {"email": "b@example.com"}},
            {
                "type": "list",
                "id": "SEEDED",
                "attributes": {"name": "Seeded"},
                "relationships": {"profiles": {"data": [{"type": "profile", "id": a}]}},
            },
        ]
        loaded = await client.post("/__mock__/state", json={"accounts": {"api_key:pk_test_one": seed}}, headers=API_KEY)
        assert loaded.status_code == 200, loaded.text
        assert (
            await client.post("/api/lists/SEEDED/relationships/profiles", json=_refs(a, b), headers=H)
        ).status_code == 204
        got = await client.get("/api/lists/SEEDED/relationships/profiles", headers=API_KEY)
        assert sorted(r["id"] for r in got.json()["data"]) == sorted([a, b])
        assert (
            await client.request("DELETE", "/api/lists/SEEDED/relationships/profiles", json=_refs(a), headers=H)
        ).status_code == 204
        got = await client.get("/api/lists/SEEDED/relationships/profiles", headers=API_KEY)
        assert [r["id"] for r in got.json()["data"]] == [b]
