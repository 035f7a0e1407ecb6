"""Relationship endpoints: 204, idempotent, reflected by related collections from both sides."""

from __future__ import annotations

from typing import Any

import httpx

from mock_server._compile import CompiledSpec

from .conftest import API_KEY, JSONAPI, list_body, profile_body, response_errors

H = {**API_KEY, **JSONAPI}


async def test_add_remove_profiles_to_list(client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any) -> None:
    pids = [
        (await client.post("/api/profiles", json=profile_body(email=f"r{i}@example.com"), headers=H)).json()["data"][
            "id"
        ]
        for i in range(3)
    ]
    lid = (await client.post("/api/lists", json=list_body("Members"), headers=H)).json()["data"]["id"]
    body = {"data": [{"type": "profile", "id": pid} for pid in pids[:2]]}
    for _ in range(2):  # idempotent
        response = await client.post(f"/api/lists/{lid}/relationships/profiles/", json=body, headers=H)
        assert response.status_code == 204 and response.content == b""

    ids = await client.get(f"/api/lists/{lid}/relationships/profiles", headers=API_KEY)
    assert ids.json()["data"] == [{"type": "profile", "id": pid} for pid in pids[:2]]
    assert response_errors(compiled, spec, "/api/lists/{id}/relationships/profiles", "get", 200, ids.json()) == []

    members = await client.get(f"/api/lists/{lid}/profiles", headers=API_KEY)
    assert [p["id"] for p in members.json()["data"]] == pids[:2]
    assert response_errors(compiled, spec, "/api/lists/{id}/profiles", "get", 200, members.json()) == []
    filtered = await client.get(
        f"/api/lists/{lid}/profiles", params={"filter": 'equals(email,"r1@example.com")'}, headers=API_KEY
    )
    assert [p["id"] for p in filtered.json()["data"]] == [pids[1]]

    # The other side: the profile's lists.
    lists = await client.get(f"/api/profiles/{pids[0]}/lists", headers=API_KEY)
    assert [item["id"] for item in lists.json()["data"]] == [lid]
    rel = await client.get(f"/api/profiles/{pids[2]}/relationships/lists", headers=API_KEY)
    assert rel.json()["data"] == []

    remove = {"data": [{"type": "profile", "id": pids[0]}]}
    for _ in range(2):
        assert (
            await client.request("DELETE", f"/api/lists/{lid}/relationships/profiles", json=remove, headers=H)
        ).status_code == 204
    members = await client.get(f"/api/lists/{lid}/profiles", headers=API_KEY)
    assert [p["id"] for p in members.json()["data"]] == [pids[1]]


async def test_relationship_on_missing_parent_is_404(client: httpx.AsyncClient) -> None:
    body = {"data": [{"type": "profile", "id": "01GDDKASAP8TKDDA2GRZDSVP4H"}]}
    assert (await client.post("/api/lists/AbCdEf/relationships/profiles", json=body, headers=H)).status_code == 404
    assert (await client.get("/api/lists/AbCdEf/profiles", headers=API_KEY)).status_code == 404


async def test_deleted_members_disappear_from_related_collections(client: httpx.AsyncClient) -> None:
    pid = (await client.post("/api/profiles", json=profile_body(email="gone@example.com"), headers=H)).json()["data"][
        "id"
    ]
    lid = (await client.post("/api/lists", json=list_body("L"), headers=H)).json()["data"]["id"]
    await client.post(
        f"/api/lists/{lid}/relationships/profiles", json={"data": [{"type": "profile", "id": pid}]}, headers=H
    )
    # Profiles have no DELETE in the API; use a tag instead.
    tid = (
        await client.post("/api/tags", json={"data": {"type": "tag", "attributes": {"name": "T"}}}, headers=H)
    ).json()["data"]["id"]
    await client.post(f"/api/tags/{tid}/relationships/lists", json={"data": [{"type": "list", "id": lid}]}, headers=H)
    assert len((await client.get(f"/api/lists/{lid}/tags", headers=API_KEY)).json()["data"]) == 1
    assert (await client.delete(f"/api/tags/{tid}", headers=API_KEY)).status_code == 204
    assert (await client.get(f"/api/lists/{lid}/tags", headers=API_KEY)).json()["data"] == []
    assert (await client.get(f"/api/lists/{lid}/relationships/tags", headers=API_KEY)).json()["data"] == []
