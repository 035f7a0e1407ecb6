"""Lists and segments: membership, join times, profile_count on request, a profile's lists and segments."""

from __future__ import annotations

from typing import Any

import httpx

from mock_server._compile import CompiledSpec
from mock_server.state import StatefulBehaviour

from .conftest import API_KEY, JSONAPI, list_body, profile_body, response_errors

H = {**API_KEY, **JSONAPI}


async def _profile(client: httpx.AsyncClient, **attributes: Any) -> str:
    made = await client.post("/api/profiles", json=profile_body(**attributes), headers=H)
    assert made.status_code == 201, made.text
    return str(made.json()["data"]["id"])


async def _list(client: httpx.AsyncClient, name: str = "Newsletter") -> str:
    made = await client.post("/api/lists", json=list_body(name), headers=H)
    assert made.status_code == 201, made.text
    return str(made.json()["data"]["id"])


def _refs(*ids: str) -> dict[str, Any]:
    return {"data": [{"type": "profile", "id": i} for i in ids]}


async def _member_ids(client: httpx.AsyncClient, lid: str) -> list[str]:
    got = await client.get(f"/api/lists/{lid}/relationships/profiles", headers=API_KEY)
    assert got.status_code == 200, got.text
    return [r["id"] for r in got.json()["data"]]


async def test_add_is_idempotent_and_remove_takes_out(client: httpx.AsyncClient) -> None:
    lid = await _list(client)
    a, b = await _profile(client, email="a@example.com"), await _profile(client, email="b@example.com")
    for _ in range(2):  # Klaviyo answers the repeat with 204 again and adds nothing twice
        added = await client.post(f"/api/lists/{lid}/relationships/profiles", json=_refs(a, b), headers=H)
        assert (added.status_code, added.content) == (204, b"")
    assert await _member_ids(client, lid) == [a, b]
    removed = await client.request("DELETE", f"/api/lists/{lid}/relationships/profiles", json=_refs(a), headers=H)
    assert removed.status_code == 204
    assert await _member_ids(client, lid) == [b]
    # Removing someone who is not a member changes nothing and is not an error.
    again = await client.request("DELETE", f"/api/lists/{lid}/relationships/profiles", json=_refs(a), headers=H)
    assert again.status_code == 204
    assert await _member_ids(client, lid) == [b]


async def test_adding_an_unknown_profile_is_a_404_naming_it(client: httpx.AsyncClient) -> None:
    lid = await _list(client)
    a = await _profile(client, email="a@example.com")
    bad = await client.post(f"/api/lists/{lid}/relationships/profiles", json=_refs(a, "01NOSUCHPROFILE"), headers=H)
    assert bad.status_code == 404
    assert bad.json()["errors"][0]["source"]["pointer"] == "/data/1/id"
    assert await _member_ids(client, lid) == []  # nothing of a refused call is kept
    missing = await client.post("/api/lists/NOPE00/relationships/profiles", json=_refs(a), headers=H)
    assert missing.status_code == 404


async def test_per_call_maximum_comes_from_the_description(client: httpx.AsyncClient) -> None:
    lid = await _list(client)
    # "This endpoint accepts a maximum of 1000 profiles per call."
    body = _refs(*(f"01PROFILE{n:05d}" for n in range(1001)))
    refused = await client.post(f"/api/lists/{lid}/relationships/profiles", json=body, headers=H)
    assert refused.status_code == 400
    assert "1000" in refused.json()["errors"][0]["detail"]


async def test_members_endpoint_shows_join_time_and_filters(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    lid = await _list(client)
    a, b = await _profile(client, email="a@example.com"), await _profile(client, email="b@example.com")
    await client.post(f"/api/lists/{lid}/relationships/profiles", json=_refs(a), headers=H)
    await client.post(f"/api/lists/{lid}/relationships/profiles", json=_refs(b), headers=H)
    got = await client.get(f"/api/lists/{lid}/profiles", headers=API_KEY)
    assert got.status_code == 200
    assert response_errors(compiled, spec, "/api/lists/{id}/profiles", "get", 200, got.json()) == []
    rows = got.json()["data"]
    assert [r["id"] for r in rows] == [a, b]
    joined = [r["attributes"]["joined_group_at"] for r in rows]
    assert joined[0] <= joined[1] and joined[0] >= rows[0]["attributes"]["created"]
    newest_first = await client.get(f"/api/lists/{lid}/profiles", params={"sort": "-joined_group_at"}, headers=API_KEY)
    assert [r["id"] for r in newest_first.json()["data"]] == [b, a]
    only_b = await client.get(
        f"/api/lists/{lid}/profiles", params={"filter": 'equals(email,"b@example.com")'}, headers=API_KEY
    )
    assert [r["id"] for r in only_b.json()["data"]] == [b]
    ids_b = await client.get(
        f"/api/lists/{lid}/relationships/profiles", params={"filter": 'equals(email,"b@example.com")'}, headers=API_KEY
    )
    assert [r["id"] for r in ids_b.json()["data"]] == [b]


async def test_profile_count_only_on_request_and_true(client: httpx.AsyncClient) -> None:
    lid = await _list(client)
    ids = [await _profile(client, email=f"p{n}@example.com") for n in range(3)]
    await client.post(f"/api/lists/{lid}/relationships/profiles", json=_refs(*ids), headers=H)
    plain = (await client.get(f"/api/lists/{lid}", headers=API_KEY)).json()["data"]["attributes"]
    assert "profile_count" not in plain
    asked = await client.get(f"/api/lists/{lid}", params={"additional-fields[list]": "profile_count"}, headers=API_KEY)
    assert asked.json()["data"]["attributes"]["profile_count"] == 3
    listed = await client.get("/api/lists", params={"additional-fields[list]": "profile_count"}, headers=API_KEY)
    # get_lists offers no `additional-fields[list]` (only get_list does): nothing is computed there.
    assert ["profile_count" in r["attributes"] for r in listed.json()["data"]] == [False]


async def test_a_profiles_lists_and_list_deletion(client: httpx.AsyncClient) -> None:
    one, two = await _list(client, "One"), await _list(client, "Two")
    a = await _profile(client, email="a@example.com")
    for lid in (one, two):
        await client.post(f"/api/lists/{lid}/relationships/profiles", json=_refs(a), headers=H)
    ids = await client.get(f"/api/profiles/{a}/relationships/lists", headers=API_KEY)
    assert [r["id"] for r in ids.json()["data"]] == [one, two]
    names = await client.get(f"/api/profiles/{a}/lists", headers=API_KEY)
    assert [r["attributes"]["name"] for r in names.json()["data"]] == ["One", "Two"]
    assert (await client.delete(f"/api/lists/{one}", headers=API_KEY)).status_code == 204
    ids = await client.get(f"/api/profiles/{a}/relationships/lists", headers=API_KEY)
    assert [r["id"] for r in ids.json()["data"]] == [two]
    assert (await client.get(f"/api/lists/{one}/profiles", headers=API_KEY)).status_code == 404
    assert (await client.get(f"/api/profiles/{a}", headers=API_KEY)).status_code == 200  # the profile stays


def _segment_body(name: str, groups: list[list[dict[str, Any]]]) -> dict[str, Any]:
    definition = {"condition_groups": [{"conditions": conditions} for conditions in groups]}
    return {"data": {"type": "segment", "attributes": {"name": name, "definition": definition}}}


async def test_segment_members_come_from_a_simple_definition(client: httpx.AsyncClient) -> None:
    lid = await _list(client, "VIP")
    vip = await _profile(client, email="vip@example.com", first_name="Asha")
    other = await _profile(client, email="other@example.com", first_name="Ben")
    await _profile(client, email="nobody@example.com")
    await client.post(f"/api/lists/{lid}/relationships/profiles", json=_refs(vip), headers=H)
    in_list = {"type": "profile-group-membership", "is_member": True, "group_ids": [lid]}
    named_ben = {
        "type": "profile-property",
        "property": "first_name",
        "filter": {"type": "string", "operator": "equals", "value": "Ben"},
    }
    has_email = {"type": "profile-property", "property": "email", "filter": {"type": "existence", "operator": "is-set"}}
    made = await client.post(
        "/api/segments", json=_segment_body("VIP or Ben", [[in_list, named_ben], [has_email]]), headers=H
    )
    assert made.status_code == 201, made.text
    sid = made.json()["data"]["id"]
    members = await client.get(f"/api/segments/{sid}/relationships/profiles", headers=API_KEY)
    assert sorted(r["id"] for r in members.json()["data"]) == sorted([vip, other])
    count = await client.get(
        f"/api/segments/{sid}", params={"additional-fields[segment]": "profile_count"}, headers=API_KEY
    )
    assert count.json()["data"]["attributes"]["profile_count"] == 2
    mine = await client.get(f"/api/profiles/{other}/relationships/segments", headers=API_KEY)
    assert [r["id"] for r in mine.json()["data"]] == [sid]
    included = await client.get(f"/api/profiles/{other}", params={"include": "segments,lists"}, headers=API_KEY)
    assert included.json()["data"]["relationships"]["segments"]["data"] == [{"type": "segment", "id": sid}]
    assert [r["id"] for r in included.json()["included"]] == [sid]
    # Membership follows the data: leaving the list leaves the segment.
    await client.request("DELETE", f"/api/lists/{lid}/relationships/profiles", json=_refs(vip), headers=H)
    members = await client.get(f"/api/segments/{sid}/profiles", headers=API_KEY)
    assert [r["id"] for r in members.json()["data"]] == [other]


async def test_segment_with_an_unevaluable_definition_uses_stored_membership(
    client: httpx.AsyncClient, behaviour: StatefulBehaviour
) -> None:
    a = await _profile(client, email="a@example.com")
    await _profile(client, email="b@example.com")
    metric = {
        "type": "profile-metric",
        "metric_id": "ABC123",
        "measurement": "count",
        "measurement_filter": {"type": "numeric", "operator": "greater-than", "value": 0},
        "timeframe_filter": {"type": "date", "operator": "alltime"},
    }
    made = await client.post("/api/segments", json=_segment_body("Buyers", [[metric]]), headers=H)
    assert made.status_code == 201, made.text
    sid = made.json()["data"]["id"]
    assert (await client.get(f"/api/segments/{sid}/profiles", headers=API_KEY)).json()["data"] == []
    (account,) = behaviour.store.accounts()
    with behaviour.store.transaction() as tx:  # what `--seed-data` or the admin state API would load
        segment = tx.get(account, "segment", sid)
        assert segment is not None
        segment["relationships"]["profiles"] = {"many": True, "data": [{"type": "profile", "id": a}]}
        tx.put(account, segment)
    members = await client.get(f"/api/segments/{sid}/profiles", headers=API_KEY)
    assert [r["id"] for r in members.json()["data"]] == [a]


async def test_bulk_import_into_a_list_records_when_existing_profiles_joined(client: httpx.AsyncClient) -> None:
    lid = await _list(client, "Imported")
    old = await _profile(client, email="old@example.com")
    job = {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {"profiles": {"data": [{"type": "profile", "attributes": {"email": "old@example.com"}}]}},
            "relationships": {"lists": {"data": [{"type": "list", "id": lid}]}},
        }
    }
    assert (await client.post("/api/profile-bulk-import-jobs", json=job, headers=H)).status_code == 202
    (member,) = (await client.get(f"/api/lists/{lid}/profiles", headers=API_KEY)).json()["data"]
    assert member["id"] == old
    assert member["attributes"]["joined_group_at"] > member["attributes"]["created"]  # joined now, made before


async def test_segments_defined_through_each_other_do_not_loop(client: httpx.AsyncClient) -> None:
    await _profile(client, email="a@example.com")
    has_email = {"type": "profile-property", "property": "email", "filter": {"type": "existence", "operator": "is-set"}}
    a = (await client.post("/api/segments", json=_segment_body("A", [[has_email]]), headers=H)).json()["data"]["id"]
    in_a = {"type": "profile-group-membership", "is_member": True, "group_ids": [a]}
    b = (await client.post("/api/segments", json=_segment_body("B", [[in_a]]), headers=H)).json()["data"]["id"]
    in_b = {"type": "profile-group-membership", "is_member": True, "group_ids": [b]}
    patch = {
        "data": {
            "type": "segment",
            "id": a,
            "attributes": {"definition": {"condition_groups": [{"conditions": [in_b]}]}},
        }
    }
    assert (await client.patch(f"/api/segments/{a}", json=patch, headers=H)).status_code == 200
    for sid in (a, b):
        members = await client.get(f"/api/segments/{sid}/relationships/profiles", headers=API_KEY)
        assert members.status_code == 200 and members.json()["data"] == []


async def test_include_segments_follows_the_data(client: httpx.AsyncClient) -> None:
    pid = await _profile(client, email="a@example.com")
    has_email = {"type": "profile-property", "property": "email", "filter": {"type": "existence", "operator": "is-set"}}
    sid = (await client.post("/api/segments", json=_segment_body("All", [[has_email]]), headers=H)).json()["data"]["id"]
    got = await client.get(f"/api/profiles/{pid}", params={"include": "segments"}, headers=API_KEY)
    assert got.json()["data"]["relationships"]["segments"]["data"] == [{"type": "segment", "id": sid}]
    # The profile no longer matches: the next read follows the data (nothing was frozen on the profile).
    patch = {"data": {"type": "profile", "id": pid, "attributes": {"email": None}}}
    assert (await client.patch(f"/api/profiles/{pid}", json=patch, headers=H)).status_code == 200
    got = await client.get(f"/api/profiles/{pid}", params={"include": "segments"}, headers=API_KEY)
    assert got.json()["data"]["relationships"]["segments"]["data"] == []
    assert (await client.get(f"/api/profiles/{pid}/relationships/segments", headers=API_KEY)).json()["data"] == []
