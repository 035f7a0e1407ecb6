"""Generated bodies: deterministic, realistic (Klaviyo-shaped ids, formats), JSON:API links and types."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from kdk.spec import walk_nodes

from .conftest import AUTH, JSON_API

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
PROFILE_ID = "01GMTZY2TEKN4KFRP30JZ59KGB"


async def test_same_request_same_body(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/profiles?page[size]=5", headers=AUTH)
    second = await client.get("/api/profiles?page[size]=5", headers=AUTH)
    assert first.content == second.content


async def test_profile_and_list_ids_have_klaviyo_shapes(client: httpx.AsyncClient) -> None:
    profiles = (await client.get("/api/profiles", headers=AUTH)).json()
    assert all(ULID.match(p["id"]) for p in profiles["data"])
    lists = (await client.get("/api/lists", headers=AUTH)).json()
    assert all(len(item["id"]) == 6 and item["id"].isalnum() for item in lists["data"])
    assert all(item["type"] == "list" for item in lists["data"])


async def test_get_by_id_returns_that_id_with_links(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"/api/profiles/{PROFILE_ID}", headers=AUTH)).json()
    assert body["data"]["id"] == PROFILE_ID
    assert body["data"]["type"] == "profile"
    assert body["data"]["links"]["self"] == f"http://mock.test/api/profiles/{PROFILE_ID}/"
    assert body["links"]["self"] == f"http://mock.test/api/profiles/{PROFILE_ID}"
    lists = body["data"]["relationships"]["lists"]["links"]
    assert lists == {
        "self": f"http://mock.test/api/profiles/{PROFILE_ID}/relationships/lists/",
        "related": f"http://mock.test/api/profiles/{PROFILE_ID}/lists/",
    }


async def test_collection_links_point_at_the_request(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/lists?page[size]=3", headers=AUTH)).json()
    assert body["links"]["self"] == "http://mock.test/api/lists?page[size]=3"


async def test_formats_are_realistic(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"/api/profiles/{PROFILE_ID}", headers=AUTH)).json()
    attributes = body["data"]["attributes"]
    assert "@" in attributes["email"]
    assert re.match(r"^\+\d{8,15}$", attributes["phone_number"])
    datetime.fromisoformat(attributes["created"])

    def check(pointer: str, value: Any) -> None:
        if isinstance(value, str) and pointer.endswith(("/created", "/updated", "/datetime")):
            datetime.fromisoformat(value)

    walk_nodes(body, check)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/api/profiles", 201), ("/api/lists", 201), ("/api/events", 202)],
)
async def test_create_answers_with_the_documented_status(
    client: httpx.AsyncClient, pinned_spec: dict[str, Any], path: str, status: int
) -> None:
    from kdk.spec import iter_operations

    from ._checks import valid_request

    op = next(o for o in iter_operations(pinned_spec) if o.path == path and o.method == "post")
    response = await client.request(**valid_request(pinned_spec, op, AUTH))
    assert response.status_code == status
    if status == 201:
        assert response.headers["content-type"] == JSON_API
        assert response.json()["data"]["links"]["self"].startswith("http://mock.test/api/")


async def test_no_content_answers_have_no_body(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/lists/Y6nRLr", headers=AUTH)
    assert response.status_code == 204
    assert response.content == b""


async def test_prefer_code_any_documented_status(client: httpx.AsyncClient) -> None:
    throttled = await client.get("/api/profiles", headers={**AUTH, "Prefer": "code=429"})
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"]
    assert throttled.json()["errors"][0]["code"] == "throttled"
    # 404 and 503 are covered by the documented 4XX / 5XX range codes.
    assert (await client.get("/api/profiles", headers={**AUTH, "Prefer": "code=404"})).status_code == 404
    assert (await client.get("/api/profiles", headers={**AUTH, "Prefer": "code=503"})).status_code == 503
    assert (await client.get("/api/profiles", headers={**AUTH, "Prefer": "code=5XX"})).status_code == 500
    assert (await client.get("/api/profiles", headers={**AUTH, "Prefer": "code=200"})).status_code == 200


async def test_prefer_code_undocumented_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/profiles", headers={**AUTH, "Prefer": "code=302"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "Prefer"}


async def test_prefer_delay(client: httpx.AsyncClient) -> None:
    started = time.perf_counter()
    response = await client.get("/api/profiles", headers={**AUTH, "Prefer": "delay=200"})
    assert response.status_code == 200
    assert time.perf_counter() - started >= 0.2  # a lower bound on the injected delay, not a speed check
    both = await client.get("/api/profiles", headers={**AUTH, "Prefer": "code=429, delay=50"})
    assert both.status_code == 429


async def test_prefer_delay_must_be_milliseconds(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/profiles", headers={**AUTH, "Prefer": "delay=soon"})
    assert response.status_code == 400


async def test_openapi_json_is_the_served_spec(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert served["info"]["version"] == "2026-07-15"
    assert served["paths"].keys() == pinned_spec["paths"].keys()
    assert served["servers"][0]["url"] == "/"  # "Try it out" in Swagger UI calls the mock


async def test_swagger_ui_pages(client: httpx.AsyncClient) -> None:
    for path in ("/ui", "/ui/"):
        page = await client.get(path)
        assert page.status_code == 200
        assert "swagger-ui-bundle.js" in page.text
    assert (await client.get("/ui/swagger-ui-bundle.js")).status_code == 200


async def test_links_stay_valid_uris_for_unusual_ids(client: httpx.AsyncClient) -> None:
    body = (await client.get("/api/campaigns/%C2%BC%20x", headers=AUTH)).json()
    assert body["data"]["id"] == "\u00bc x"
    assert body["data"]["links"]["self"] == "http://mock.test/api/campaigns/%C2%BC%20x/"
    assert body["links"]["self"] == "http://mock.test/api/campaigns/%C2%BC%20x"
    compound = (await client.get("/api/catalog-items/%24custom%3A%3A%3A%24default%3A%3A%3ASKU-1", headers=AUTH)).json()
    assert compound["data"]["links"]["self"] == "http://mock.test/api/catalog-items/$custom:::$default:::SKU-1/"
