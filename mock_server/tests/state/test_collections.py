"""Collections through the core app: filter grammar and allow-lists, sort, page[size], cursors, fields, include."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mock_server._compile import CompiledSpec

from .conftest import API_KEY, JSONAPI, list_body, profile_body, response_errors

H = {**API_KEY, **JSONAPI}


async def _profiles(client: httpx.AsyncClient, n: int, prefix: str = "p") -> list[str]:
    ids = []
    for i in range(n):
        body = profile_body(email=f"{prefix}{i:03d}@example.com", external_id=f"{prefix}-{i}")
        response = await client.post("/api/profiles", json=body, headers=H)
        ids.append(response.json()["data"]["id"])
    return ids


async def _ids(client: httpx.AsyncClient, url: str, **params: str) -> list[str]:
    response = await client.get(url, params=params, headers=API_KEY)
    assert response.status_code == 200, response.text
    return [d["id"] for d in response.json()["data"]]


async def test_filter_equals_any_and_datetimes(client: httpx.AsyncClient) -> None:
    ids = await _profiles(client, 4)
    assert await _ids(client, "/api/profiles", filter='equals(email,"p002@example.com")') == [ids[2]]
    assert await _ids(client, "/api/profiles", filter="equals(email,'p002@example.com')") == [ids[2]]
    assert await _ids(client, "/api/profiles", filter=f"any(id,['{ids[0]}','{ids[3]}'])") == [ids[0], ids[3]]
    assert await _ids(client, "/api/profiles", filter="greater-than(created,2000-01-01T00:00:00+00:00)") == ids
    assert await _ids(client, "/api/profiles", filter="less-than(created,2000-01-01T00:00:00Z)") == []


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("equals(first_name,'x')", "not a valid field"),  # not an allowed field
        ("contains(email,'x')", "not a valid operator"),  # allowed field, operator not allowed
        ("equals(email,", "Invalid filter"),  # grammar
        ("wobble(email,'x')", "Invalid filter"),
    ],
)
async def test_filter_outside_the_documented_fields_is_400(
    client: httpx.AsyncClient, expression: str, why: str
) -> None:
    response = await client.get("/api/profiles", params={"filter": expression}, headers=API_KEY)
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["source"] == {"parameter": "filter"}
    assert why in error["detail"]


async def test_filter_combinators_on_lists(client: httpx.AsyncClient) -> None:
    a = (await client.post("/api/lists", json=list_body("Alpha"), headers=H)).json()["data"]["id"]
    b = (await client.post("/api/lists", json=list_body("Beta"), headers=H)).json()["data"]["id"]
    assert await _ids(client, "/api/lists", filter="equals(name,'Alpha')") == [a]
    assert await _ids(client, "/api/lists", filter="any(name,['Alpha','Beta'])") == [a, b]
    assert set(await _ids(client, "/api/lists", filter="greater-than(created,2000-01-01T00:00:00Z)")) == {a, b}


async def test_sort_only_documented_values(client: httpx.AsyncClient) -> None:
    ids = await _profiles(client, 3)
    assert await _ids(client, "/api/profiles", sort="-email") == ids[::-1]
    assert await _ids(client, "/api/profiles", sort="email") == ids
    response = await client.get("/api/profiles", params={"sort": "first_name"}, headers=API_KEY)
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["parameter"] == "sort"


async def test_page_size_limits(client: httpx.AsyncClient) -> None:
    await _profiles(client, 3)
    assert len(await _ids(client, "/api/profiles", **{"page[size]": "2"})) == 2
    for bad in ("0", "101"):
        response = await client.get("/api/profiles", params={"page[size]": bad}, headers=API_KEY)
        assert response.status_code == 400
        assert response.json()["errors"][0]["source"]["parameter"] == "page[size]"


async def test_cursor_pagination_walks_everything_and_is_stable_under_inserts(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    ids = await _profiles(client, 7)
    first = await client.get("/api/profiles", params={"page[size]": "3"}, headers=API_KEY)
    assert response_errors(compiled, spec, "/api/profiles", "get", 200, first.json()) == []
    links = first.json()["links"]
    assert "prev" not in links and "next" in links
    seen = [d["id"] for d in first.json()["data"]]
    # Inserting while paging neither repeats nor skips what was there.
    await _profiles(client, 2, prefix="late")
    url: str | None = links["next"]
    pages = 1
    last: dict[str, Any] = {}
    while url:
        page = await client.get(url, headers=API_KEY)
        assert page.status_code == 200
        last = page.json()
        seen += [d["id"] for d in last["data"]]
        url = last["links"].get("next")
        pages += 1
    assert seen[:7] == ids and len(seen) == len(set(seen)) == 9
    assert pages == 3
    back = await client.get(last["links"]["prev"], headers=API_KEY)
    assert [d["id"] for d in back.json()["data"]] == seen[3:6]


async def test_cursor_is_opaque_and_checked(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/profiles", params={"page[cursor]": "not-a-cursor"}, headers=API_KEY)
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["parameter"] == "page[cursor]"


async def test_sparse_fieldsets(client: httpx.AsyncClient) -> None:
    pid = (await _profiles(client, 1))[0]
    response = await client.get(
        f"/api/profiles/{pid}", params={"fields[profile]": "email,external_id"}, headers=API_KEY
    )
    assert response.json()["data"]["attributes"] == {"email": "p000@example.com", "external_id": "p-0"}


async def test_include_returns_compound_document(client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any) -> None:
    tag = (
        await client.post("/api/tags", json={"data": {"type": "tag", "attributes": {"name": "VIP"}}}, headers=H)
    ).json()
    lid = (await client.post("/api/lists", json=list_body("Tagged"), headers=H)).json()["data"]["id"]
    rel = {"data": [{"type": "list", "id": lid}]}
    assert (
        await client.post(f"/api/tags/{tag['data']['id']}/relationships/lists", json=rel, headers=H)
    ).status_code == 204
    response = await client.get(f"/api/lists/{lid}", params={"include": "tags"}, headers=API_KEY)
    document = response.json()
    assert document["data"]["relationships"]["tags"]["data"] == [{"type": "tag", "id": tag["data"]["id"]}]
    assert [(i["type"], i["id"]) for i in document["included"]] == [("tag", tag["data"]["id"])]
    assert response_errors(compiled, spec, "/api/lists/{id}", "get", 200, document) == []
    listed = await client.get("/api/lists", params={"include": "tags", "fields[tag]": "name"}, headers=API_KEY)
    assert listed.json()["included"][0]["attributes"] == {"name": "VIP"}


async def test_forged_cursors_are_400_not_500(client: httpx.AsyncClient) -> None:
    import base64
    import json

    await _profiles(client, 2)
    for key in (["a", {}, 1], [2, 5, 1], [1, "x", 1], [2, "x"], "nope"):
        cursor = base64.urlsafe_b64encode(json.dumps({"k": key, "d": "n"}).encode()).decode()
        response = await client.get("/api/profiles", params={"page[cursor]": cursor}, headers=API_KEY)
        assert response.status_code == 400, key


async def test_page_cursor_takes_the_bare_cursor_or_the_whole_next_link(client: httpx.AsyncClient) -> None:
    """Klaviyo's official SDKs pass the whole `links.next` URL as `page[cursor]`; both forms give page 2."""
    await _profiles(client, 5)
    first = await client.get("/api/profiles", params={"page[size]": "2"}, headers=API_KEY)
    next_url = first.json()["links"]["next"]
    by_link = await client.get(next_url, headers=API_KEY)
    assert by_link.status_code == 200
    bare = parse_qs(urlsplit(next_url).query)["page[cursor]"][0]
    for cursor in (bare, next_url):
        page = await client.get("/api/profiles", params={"page[size]": "2", "page[cursor]": cursor}, headers=API_KEY)
        assert page.status_code == 200, (cursor, page.text)
        assert [d["id"] for d in page.json()["data"]] == [d["id"] for d in by_link.json()["data"]]
        assert page.json()["links"]["self"] == by_link.json()["links"]["self"]
        assert parse_qs(urlsplit(page.json()["links"]["next"]).query)["page[cursor]"][0] != cursor
