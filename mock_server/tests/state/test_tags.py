"""Tags and tag groups: the default group, exclusive groups, associations seen from both sides, cascades."""

from __future__ import annotations

from typing import Any

import httpx

from mock_server._compile import CompiledSpec
from mock_server.state import ResourceIndex, StatefulBehaviour

from .conftest import API_KEY, JSONAPI, list_body, response_errors

H = {**API_KEY, **JSONAPI}


def tag_body(name: str, group: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "tag", "attributes": {"name": name}}
    if group:
        data["relationships"] = {"tag-group": {"data": {"type": "tag-group", "id": group}}}
    return {"data": data}


def group_body(name: str, **attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "tag-group", "attributes": {"name": name, **attributes}}}


async def _made(response: httpx.Response) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


async def test_default_group_exists_and_receives_ungrouped_tags(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    groups = await client.get("/api/tag-groups", headers=API_KEY)
    assert response_errors(compiled, spec, "/api/tag-groups", "get", 200, groups.json()) == []
    (default,) = groups.json()["data"]
    assert default["attributes"]["default"] is True and default["attributes"]["exclusive"] is False
    tid = await _made(await client.post("/api/tags", json=tag_body("Promo"), headers=H))
    group = await client.get(f"/api/tags/{tid}/relationships/tag-group", headers=API_KEY)
    assert group.json()["data"] == {"type": "tag-group", "id": default["id"]}
    in_default = await client.get(f"/api/tag-groups/{default['id']}/tags", headers=API_KEY)
    assert [t["id"] for t in in_default.json()["data"]] == [tid]
    refused = await client.delete(f"/api/tag-groups/{default['id']}", headers=API_KEY)
    assert refused.status_code == 409  # refused for the group's state (documented: it cannot be deleted)
    # Nobody else can make a default group; a new group is non-exclusive unless asked.
    other = await client.post("/api/tag-groups", json=group_body("Other", default=True), headers=H)
    assert other.status_code == 201, other.text
    assert other.json()["data"]["attributes"] == {"name": "Other", "exclusive": False, "default": False}


async def test_tagging_lists_from_both_sides_and_exclusive_groups(client: httpx.AsyncClient) -> None:
    lid = await _made(await client.post("/api/lists", json=list_body("VIP"), headers=H))
    season = await _made(await client.post("/api/tag-groups", json=group_body("Season", exclusive=True), headers=H))
    summer = await _made(await client.post("/api/tags", json=tag_body("Summer", season), headers=H))
    winter = await _made(await client.post("/api/tags", json=tag_body("Winter", season), headers=H))
    free = await _made(await client.post("/api/tags", json=tag_body("Free"), headers=H))
    ref = {"data": [{"type": "list", "id": lid}]}
    assert (await client.post(f"/api/tags/{summer}/relationships/lists", json=ref, headers=H)).status_code == 204
    assert (await client.post(f"/api/tags/{free}/relationships/lists", json=ref, headers=H)).status_code == 204
    second = await client.post(f"/api/tags/{winter}/relationships/lists", json=ref, headers=H)
    assert second.status_code == 400  # one tag per resource from an exclusive group
    tags = await client.get(f"/api/lists/{lid}/relationships/tags", headers=API_KEY)
    assert sorted(t["id"] for t in tags.json()["data"]) == sorted([summer, free])
    names = await client.get(f"/api/lists/{lid}/tags", headers=API_KEY)
    assert sorted(t["attributes"]["name"] for t in names.json()["data"]) == ["Free", "Summer"]
    lists = await client.get(f"/api/tags/{summer}/relationships/lists", headers=API_KEY)
    assert lists.json()["data"] == [{"type": "list", "id": lid}]
    unknown = await client.post(
        f"/api/tags/{free}/relationships/lists", json={"data": [{"type": "list", "id": "NOPE00"}]}, headers=H
    )
    assert unknown.status_code == 404
    removed = await client.request("DELETE", f"/api/tags/{free}/relationships/lists", json=ref, headers=H)
    assert removed.status_code == 204
    tags = await client.get(f"/api/lists/{lid}/relationships/tags", headers=API_KEY)
    assert [t["id"] for t in tags.json()["data"]] == [summer]
    # Deleting the group deletes its tags and their associations; the list stays.
    assert (await client.delete(f"/api/tag-groups/{season}", headers=API_KEY)).status_code == 204
    assert (await client.get(f"/api/tags/{summer}", headers=API_KEY)).status_code == 404
    assert (await client.get(f"/api/lists/{lid}/relationships/tags", headers=API_KEY)).json()["data"] == []
    assert (await client.get(f"/api/lists/{lid}", headers=API_KEY)).status_code == 200


async def test_tag_relationships_for_every_taggable_type_by_shape(
    client: httpx.AsyncClient, index: ResourceIndex
) -> None:
    """Every `tags/{id}/relationships/X` add/remove the spec has works the same way (flows, campaigns...)."""
    tid = await _made(await client.post("/api/tags", json=tag_body("Any"), headers=H))
    adds = [op for op in index.ops.values() if op.resource_type == "tag" and op.kind.value == "relationship-add"]
    assert {op.related_type for op in adds} >= {"list", "segment", "flow", "campaign"}
    for op in adds:
        path = op.path.replace("{id}", tid)
        # An id the account does not hold is refused by name, whatever the type.
        refused = await client.post(path, json={"data": [{"type": op.related_type, "id": "NOPE00"}]}, headers=H)
        assert refused.status_code == 404, (op.operation_id, refused.text)
    updated = await client.patch(
        f"/api/tags/{tid}", json={"data": {"type": "tag", "id": tid, "attributes": {"name": "Renamed"}}}, headers=H
    )
    assert updated.status_code == 204
    assert (await client.get(f"/api/tags/{tid}", headers=API_KEY)).json()["data"]["attributes"]["name"] == "Renamed"
    assert (await client.delete(f"/api/tags/{tid}", headers=API_KEY)).status_code == 204
    assert (await client.get("/api/tags", headers=API_KEY)).json()["data"] == []


async def test_a_tagged_flow_sees_its_tags(client: httpx.AsyncClient, behaviour: StatefulBehaviour) -> None:
    tid = await _made(await client.post("/api/tags", json=tag_body("Welcome"), headers=H))
    (account,) = behaviour.store.accounts()
    with behaviour.store.transaction() as tx:  # a flow of the account (however it was made)
        tx.put(account, {"type": "flow", "id": "XyZfLw", "attributes": {"name": "Welcome"}, "relationships": {}})
    ref = {"data": [{"type": "flow", "id": "XyZfLw"}]}
    assert (await client.post(f"/api/tags/{tid}/relationships/flows", json=ref, headers=H)).status_code == 204
    ids = await client.get("/api/flows/XyZfLw/relationships/tags", headers=API_KEY)
    assert ids.json()["data"] == [{"type": "tag", "id": tid}]
    tags = await client.get("/api/flows/XyZfLw/tags", headers=API_KEY)
    assert [t["attributes"]["name"] for t in tags.json()["data"]] == ["Welcome"]
    assert (await client.delete(f"/api/tags/{tid}", headers=API_KEY)).status_code == 204
    assert (await client.get("/api/flows/XyZfLw/relationships/tags", headers=API_KEY)).json()["data"] == []
