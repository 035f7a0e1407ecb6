"""CRUD through the core app: create/get/update/delete, errors, schema validity, derived for any type."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mock_server._compile import CompiledSpec

from .conftest import API_KEY, JSONAPI, list_body, profile_body, response_errors

H = {**API_KEY, **JSONAPI}


async def test_create_returns_what_get_returns(client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any) -> None:
    created = await client.post(
        "/api/profiles/", json=profile_body(email="sarah@example.com", first_name="Sarah"), headers=H
    )
    assert created.status_code == 201
    data = created.json()["data"]
    assert len(data["id"]) == 26 and data["id"].isalnum()
    assert data["links"]["self"] == f"http://mock.test/api/profiles/{data['id']}/"
    assert response_errors(compiled, spec, "/api/profiles", "post", 201, created.json()) == []

    got = await client.get(f"/api/profiles/{data['id']}", headers=API_KEY)
    assert got.status_code == 200
    assert response_errors(compiled, spec, "/api/profiles/{id}", "get", 200, got.json()) == []
    read = got.json()["data"]
    assert {k: read[k] for k in ("type", "id", "attributes", "links")} == {
        k: data[k] for k in ("type", "id", "attributes", "links")
    }
    # Relationship links agree wherever both schemas document the relationship.
    for name, rel in data["relationships"].items():
        assert read["relationships"][name] == rel


async def test_short_list_ids_and_required_attributes(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    created = await client.post("/api/lists", json=list_body("Newsletter"), headers=H)
    assert created.status_code == 201
    assert len(created.json()["data"]["id"]) == 6
    assert response_errors(compiled, spec, "/api/lists", "post", 201, created.json()) == []


async def test_get_missing_is_404_envelope(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/profiles/01GDDKASAP8TKDDA2GRZDSVP4H", headers=API_KEY)
    assert response.status_code == 404
    error = response.json()["errors"][0]
    assert error["code"] == "not_found" and error["status"] == 404 and "detail" in error


async def test_patch_merges_attributes(client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any) -> None:
    pid = (
        await client.post(
            "/api/profiles", json=profile_body(email="a@example.com", first_name="A", properties={"x": 1}), headers=H
        )
    ).json()["data"]["id"]
    patch = {"data": {"type": "profile", "id": pid, "attributes": {"last_name": "B", "properties": {"y": 2}}}}
    updated = await client.patch(f"/api/profiles/{pid}", json=patch, headers=H)
    assert updated.status_code == 200, updated.text
    attrs = updated.json()["data"]["attributes"]
    assert (attrs["first_name"], attrs["last_name"], attrs["properties"]) == ("A", "B", {"x": 1, "y": 2})
    assert response_errors(compiled, spec, "/api/profiles/{id}", "patch", 200, updated.json()) == []
    again = (await client.get(f"/api/profiles/{pid}", headers=API_KEY)).json()["data"]["attributes"]
    assert again == attrs


async def test_patch_missing_404_and_id_mismatch_409(client: httpx.AsyncClient) -> None:
    missing = {"data": {"type": "profile", "id": "01GDDKASAP8TKDDA2GRZDSVP4H", "attributes": {"first_name": "x"}}}
    assert (await client.patch("/api/profiles/01GDDKASAP8TKDDA2GRZDSVP4H", json=missing, headers=H)).status_code == 404
    pid = (await client.post("/api/profiles", json=profile_body(email="m@example.com"), headers=H)).json()["data"]["id"]
    wrong = {"data": {"type": "profile", "id": "01GDDKASAP8TKDDA2GRZDSVP4H", "attributes": {}}}
    assert (await client.patch(f"/api/profiles/{pid}", json=wrong, headers=H)).status_code == 409


async def test_delete_then_404(client: httpx.AsyncClient) -> None:
    lid = (await client.post("/api/lists", json=list_body("Gone"), headers=H)).json()["data"]["id"]
    deleted = await client.delete(f"/api/lists/{lid}", headers=API_KEY)
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await client.get(f"/api/lists/{lid}", headers=API_KEY)).status_code == 404
    assert (await client.delete(f"/api/lists/{lid}", headers=API_KEY)).status_code == 404


@pytest.mark.parametrize(
    "identifier", [{"email": "dup@example.com"}, {"phone_number": "+15005550006"}, {"external_id": "ext-1"}]
)
async def test_duplicate_profile_is_409_with_existing_id(client: httpx.AsyncClient, identifier: dict[str, str]) -> None:
    first = await client.post("/api/profiles", json=profile_body(**identifier), headers=H)
    second = await client.post("/api/profiles", json=profile_body(first_name="Other", **identifier), headers=H)
    assert second.status_code == 409
    error = second.json()["errors"][0]
    assert error["code"] == "duplicate_profile"
    assert error["meta"]["duplicate_profile_id"] == first.json()["data"]["id"]


async def test_patch_into_a_duplicate_is_409(client: httpx.AsyncClient) -> None:
    await client.post("/api/profiles", json=profile_body(email="one@example.com"), headers=H)
    pid = (await client.post("/api/profiles", json=profile_body(email="two@example.com"), headers=H)).json()["data"][
        "id"
    ]
    patch = {"data": {"type": "profile", "id": pid, "attributes": {"email": "one@example.com"}}}
    response = await client.patch(f"/api/profiles/{pid}", json=patch, headers=H)
    assert response.status_code == 409 and response.json()["errors"][0]["code"] == "duplicate_profile"


async def test_other_resource_types_work_without_per_endpoint_code(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    body = {"data": {"type": "tag", "attributes": {"name": "VIP"}}}
    created = await client.post("/api/tags", json=body, headers=H)
    assert created.status_code == 201, created.text
    tid = created.json()["data"]["id"]
    got = await client.get(f"/api/tags/{tid}", headers=API_KEY)
    assert got.json()["data"]["attributes"]["name"] == "VIP"
    assert response_errors(compiled, spec, "/api/tags/{id}", "get", 200, got.json()) == []


async def test_bulk_job_is_complete_and_applies_its_profiles(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    lid = (await client.post("/api/lists", json=list_body("Imported"), headers=H)).json()["data"]["id"]
    job = {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {
                "profiles": {
                    "data": [
                        {"type": "profile", "attributes": {"email": "bulk1@example.com"}},
                        {"type": "profile", "attributes": {"email": "bulk2@example.com"}},
                    ]
                }
            },
            "relationships": {"lists": {"data": [{"type": "list", "id": lid}]}},
        }
    }
    created = await client.post("/api/profile-bulk-import-jobs", json=job, headers=H)
    assert created.status_code == 202, created.text
    listed = await client.get("/api/profile-bulk-import-jobs", headers=API_KEY)
    job_id = listed.json()["data"][0]["id"]
    got = await client.get(f"/api/profile-bulk-import-jobs/{job_id}", headers=API_KEY)
    assert got.status_code == 200
    attrs = got.json()["data"]["attributes"]
    assert attrs["status"] == "complete"
    assert attrs["total_count"] == attrs["completed_count"] == 2
    assert response_errors(compiled, spec, "/api/profile-bulk-import-jobs/{job_id}", "get", 200, got.json()) == []
    members = await client.get(f"/api/lists/{lid}/profiles", headers=API_KEY)
    assert sorted(p["attributes"]["email"] for p in members.json()["data"]) == [
        "bulk1@example.com",
        "bulk2@example.com",
    ]


async def test_unstateful_types_fall_back_to_generated_bodies(client: httpx.AsyncClient) -> None:
    # Metrics cannot be created through the API: the core's schema-generated body answers.
    response = await client.get("/api/metrics/AbCdEf", headers=API_KEY)
    assert response.status_code == 200
    assert response.json()["data"]["id"] == "AbCdEf"


async def test_bulk_delete_job_deletes(client: httpx.AsyncClient, spec: Any) -> None:
    from mock_server._generate import generate_body

    schema = spec["paths"]["/api/catalog-items"]["post"]["requestBody"]["content"]["application/vnd.api+json"]["schema"]
    created = await client.post("/api/catalog-items", json=generate_body(spec, schema, seed="x"), headers=H)
    assert created.status_code == 201, created.text
    iid = created.json()["data"]["id"]
    job = {
        "data": {
            "type": "catalog-item-bulk-delete-job",
            "attributes": {"items": {"data": [{"type": "catalog-item", "id": iid}]}},
        }
    }
    assert (await client.post("/api/catalog-item-bulk-delete-jobs", json=job, headers=H)).status_code == 202
    assert (await client.get(f"/api/catalog-items/{iid}", headers=API_KEY)).status_code == 404
    jobs = (await client.get("/api/catalog-item-bulk-delete-jobs", headers=API_KEY)).json()["data"]
    assert jobs[0]["attributes"]["status"] == "complete"


async def test_a_domain_rule_refusal_says_so_and_a_schema_refusal_does_not(client: httpx.AsyncClient) -> None:
    """Past schema validation, a 400 enforces a rule beyond the schemas: `x-kdk-mock-rule: domain` says so."""
    empty = {"data": {"type": "profile-subscription-bulk-create-job", "attributes": {"profiles": {"data": []}}}}
    refused = await client.post("/api/profile-subscription-bulk-create-jobs", json=empty, headers=H)
    assert refused.status_code == 400 and refused.headers.get("x-kdk-mock-rule") == "domain", refused.text
    malformed = await client.post("/api/profiles", json={"data": {"type": "profile", "attributes": 5}}, headers=H)
    assert malformed.status_code == 400 and "x-kdk-mock-rule" not in malformed.headers, malformed.text
