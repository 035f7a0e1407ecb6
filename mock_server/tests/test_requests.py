"""Routing, credentials, revision, parameter and body validation, and Klaviyo's error envelope."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from kdk.spec import iter_operations

from ._checks import SchemaChecker, valid_request
from .conftest import AUTH, JSON_API, REVISION, asgi_client

PROFILE_ID = "01GMTZY2TEKN4KFRP30JZ59KGB"


def assert_envelope(response: httpx.Response, status: int, spec: dict[str, Any]) -> dict[str, Any]:
    """A Klaviyo JSON:API error: right status and content type, valid against ClientError/ServerError."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == JSON_API
    assert "problem" not in response.text and "Traceback" not in response.text
    body = response.json()
    checker = SchemaChecker(spec)
    assert checker.errors(checker.client_error_schema(), body) == []
    error: dict[str, Any] = body["errors"][0]
    assert set(error) >= {"id", "status", "code", "title", "detail", "source"}
    assert error["status"] == status
    assert set(error["source"]) & {"pointer", "parameter"}
    return error


# -- routing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/profiles", "/api/profiles/", f"/api/profiles/{PROFILE_ID}/"])
async def test_paths_with_and_without_trailing_slash(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path, headers=AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"] == JSON_API
    assert response.headers["revision"] == REVISION


async def test_unknown_path_is_a_404_envelope(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    for path in ("/api/no-such-thing", "/nothing-here"):
        error = assert_envelope(await client.get(path, headers=AUTH), 404, pinned_spec)
        assert error["code"] == "not_found"


async def test_405_lists_every_method_of_the_path(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    response = await client.put(f"/api/profiles/{PROFILE_ID}", headers=AUTH)
    assert_envelope(response, 405, pinned_spec)
    documented = {m.upper() for m in pinned_spec["paths"]["/api/profiles/{id}"] if m != "parameters"}
    assert set(response.headers["allow"].split(", ")) == documented


async def test_path_ids_are_url_decoded(client: httpx.AsyncClient) -> None:
    compound = "$custom:::$default:::SKU-1"
    response = await client.get("/api/catalog-items/%24custom%3A%3A%3A%24default%3A%3A%3ASKU-1", headers=AUTH)
    assert response.status_code == 200
    assert response.json()["data"]["id"] == compound


# -- credentials ----------------------------------------------------------------------------------


async def test_missing_credentials_401(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    error = assert_envelope(await client.get("/api/profiles", headers={"revision": REVISION}), 401, pinned_spec)
    assert error["code"] == "not_authenticated"


@pytest.mark.parametrize("header", ["Klaviyo-API-Key", "Klaviyo-API-Key ", "Basic dXNlcjpwYXNz", "pk_abc", "Bearer"])
async def test_malformed_credentials_401(client: httpx.AsyncClient, pinned_spec: dict[str, Any], header: str) -> None:
    response = await client.get("/api/profiles", headers={"revision": REVISION, "Authorization": header})
    assert assert_envelope(response, 401, pinned_spec)["code"] in {"not_authenticated", "authentication_failed"}


async def test_oauth_bearer_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/profiles", headers={"revision": REVISION, "Authorization": "Bearer tok_123"})
    assert response.status_code == 200


async def test_client_endpoints_need_no_credentials_but_a_company_id(
    client: httpx.AsyncClient, pinned_spec: dict[str, Any]
) -> None:
    op = next(o for o in iter_operations(pinned_spec) if o.operation_id == "create_client_subscription")
    request = valid_request(pinned_spec, op, {"revision": REVISION})
    assert request["params"] == {"company_id": "AbC123"} or "company_id" in request["params"]
    ok = await client.request(**request)
    assert ok.status_code == 202, ok.text
    missing = await client.request(**{**request, "params": {}})
    assert assert_envelope(missing, 400, pinned_spec)["source"] == {"parameter": "company_id"}


# -- revision -------------------------------------------------------------------------------------


async def test_missing_revision_400(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    response = await client.get("/api/profiles", headers={"Authorization": AUTH["Authorization"]})
    assert assert_envelope(response, 400, pinned_spec)["source"] == {"parameter": "revision"}


@pytest.mark.parametrize("revision", ["2026-7-15", "latest", "2026-07-15.beta", "20260715", "2026-07-15 "])
async def test_malformed_revision_400(client: httpx.AsyncClient, pinned_spec: dict[str, Any], revision: str) -> None:
    response = await client.get("/api/profiles", headers={**AUTH, "revision": revision})
    if revision.strip() != revision and revision.strip() == REVISION:
        assert response.status_code == 200  # header values are trimmed on the wire
        return
    assert_envelope(response, 400, pinned_spec)


@pytest.mark.parametrize("revision", ["2024-10-15", "2026-07-15.pre", "2027-01-15"])
async def test_other_well_formed_revisions_are_served_and_say_what_was_served(
    client: httpx.AsyncClient, revision: str
) -> None:
    response = await client.get("/api/profiles", headers={**AUTH, "revision": revision})
    assert response.status_code == 200
    assert response.headers["revision"] == REVISION


async def test_every_response_names_the_served_revision(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get("/api/profiles", headers=AUTH),
        await client.get("/api/profiles"),
        await client.get("/nowhere"),
        await client.get("/openapi.json"),
    ):
        assert response.headers["revision"] == REVISION


# -- parameters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ({"page[size]": "1000"}, "page[size]"),
        ({"page[size]": "0"}, "page[size]"),
        ({"page[size]": "ten"}, "page[size]"),
        ({"fields[profile]": "email,not_a_field"}, "fields[profile]"),
        ({"sort": "shoe_size"}, "sort"),
        ({"include": "nothing"}, "include"),
    ],
)
async def test_invalid_query_parameters_400_naming_the_parameter(
    client: httpx.AsyncClient, pinned_spec: dict[str, Any], query: dict[str, str], parameter: str
) -> None:
    response = await client.get("/api/profiles", params=query, headers=AUTH)
    assert assert_envelope(response, 400, pinned_spec)["source"] == {"parameter": parameter}


async def test_valid_query_parameters(client: httpx.AsyncClient) -> None:
    query = {"page[size]": "20", "fields[profile]": "email,first_name", "sort": "-created", "include": "push-tokens"}
    assert (await client.get("/api/profiles", params=query, headers=AUTH)).status_code == 200


async def test_empty_sparse_fieldset_is_no_fieldset(client: httpx.AsyncClient) -> None:
    # The real API treats `fields[profile]=` like an absent parameter; a naive array/enum check would 400.
    response = await client.get("/api/profiles?fields[profile]=&include=", headers=AUTH)
    assert response.status_code == 200


async def test_path_enum_is_checked(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    ok = await client.get("/api/mapped-metrics/revenue", headers=AUTH)
    assert ok.status_code == 200
    bad = await client.get("/api/mapped-metrics/not-a-mapping", headers=AUTH)
    assert assert_envelope(bad, 400, pinned_spec)["source"] == {"parameter": "id"}


# -- bodies ---------------------------------------------------------------------------------------

EVENT = {
    "data": {
        "type": "event",
        "attributes": {
            "properties": {"value": 10},
            "time": "2026-07-15T12:00:00+00:00",
            "metric": {"data": {"type": "metric", "attributes": {"name": "Viewed Product"}}},
            "profile": {"data": {"type": "profile", "attributes": {"email": "sarah.mason@klaviyo-demo.com"}}},
        },
    }
}
JSON_HEADERS = {**AUTH, "content-type": JSON_API}


async def test_valid_body_accepted(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/events", json=EVENT, headers=JSON_HEADERS)).status_code == 202
    plain_json = {**AUTH, "content-type": "application/json"}
    assert (await client.post("/api/events", json=EVENT, headers=plain_json)).status_code == 202


async def test_date_time_format_is_checked(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    bad = json.loads(json.dumps(EVENT))
    bad["data"]["attributes"]["time"] = "yesterday"
    response = await client.post("/api/events", json=bad, headers=JSON_HEADERS)
    assert assert_envelope(response, 400, pinned_spec)["source"] == {"pointer": "/data/attributes/time"}


async def test_schema_violations_point_at_the_member(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    bad = {"data": {"type": "profil", "attributes": {"email": 42}}}
    response = await client.post("/api/profiles", json=bad, headers=JSON_HEADERS)
    assert_envelope(response, 400, pinned_spec)
    pointers = {e["source"]["pointer"] for e in response.json()["errors"]}
    assert {"/data/type", "/data/attributes/email"} <= pointers


async def test_nullable_one_of_accepts_null(client: httpx.AsyncClient) -> None:
    body = {
        "data": {
            "type": "campaign",
            "id": "01GDDKASAP8TKDDA2GRZDSVP4H",
            "attributes": {"send_strategy": None, "send_options": None, "tracking_options": None},
        }
    }
    response = await client.patch("/api/campaigns/01GDDKASAP8TKDDA2GRZDSVP4H", json=body, headers=JSON_HEADERS)
    assert response.status_code == 200, response.text


async def test_wrong_content_type_415(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    headers = {**AUTH, "content-type": "text/plain"}
    response = await client.post("/api/events", content=json.dumps(EVENT), headers=headers)
    assert_envelope(response, 415, pinned_spec)


async def test_non_utf8_body_400(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    response = await client.post("/api/events", content=b'{"data": "\xff\xfe"}', headers=JSON_HEADERS)
    assert assert_envelope(response, 400, pinned_spec)["code"] == "parse_error"


@pytest.mark.parametrize("raw", [b"{", b"{'data': 1}", b"[1, 2", b"nul"])
async def test_malformed_json_400(client: httpx.AsyncClient, pinned_spec: dict[str, Any], raw: bytes) -> None:
    response = await client.post("/api/events", content=raw, headers=JSON_HEADERS)
    assert assert_envelope(response, 400, pinned_spec)["code"] == "parse_error"


async def test_missing_required_body_400(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    assert_envelope(await client.post("/api/events", headers=JSON_HEADERS), 400, pinned_spec)


async def test_body_over_the_limit_413(mock_app_factory: Any, pinned_spec: dict[str, Any]) -> None:
    async with asgi_client(mock_app_factory(max_body_bytes=1024)) as small:
        big = json.loads(json.dumps(EVENT))
        big["data"]["attributes"]["properties"]["blob"] = "x" * 2048
        assert_envelope(await small.post("/api/events", json=big, headers=JSON_HEADERS), 413, pinned_spec)
        assert (await small.post("/api/events", json=EVENT, headers=JSON_HEADERS)).status_code == 202


async def test_multipart_image_upload(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    files = {"file": ("pixel.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")}
    response = await client.post(
        "/api/image-upload", files=files, data={"name": "Pixel", "hidden": "true"}, headers=AUTH
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["type"] == "image"
    missing = await client.post("/api/image-upload", data={"name": "no file"}, files={"x": ("a", b"1")}, headers=AUTH)
    assert assert_envelope(missing, 400, pinned_spec)["source"] == {"pointer": "/file"}


async def test_never_problem_json_even_outside_the_api(client: httpx.AsyncClient, pinned_spec: dict[str, Any]) -> None:
    for response in (await client.post("/ui"), await client.delete("/openapi.json"), await client.get("/ui/nope.js")):
        assert response.headers["content-type"] == JSON_API or response.status_code == 404
        assert "problem" not in response.headers.get("content-type", "")
