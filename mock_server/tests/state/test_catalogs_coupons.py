"""Catalogs (items, variants, categories, their relationships and bulk jobs) and coupons (ids built from attributes)."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import API_KEY, JSONAPI

H = {**API_KEY, **JSONAPI}


def item(external_id: str, title: str = "Shirt", **relationships: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "catalog-item",
        "attributes": {
            "external_id": external_id,
            "title": title,
            "description": f"{title} description",
            "url": f"https://shop.example.com/{external_id}",
        },
    }
    if relationships:
        data["relationships"] = relationships
    return data


def category(external_id: str, name: str, **relationships: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "catalog-category", "attributes": {"external_id": external_id, "name": name}}
    if relationships:
        data["relationships"] = relationships
    return data


def variant(external_id: str, item_id: str) -> dict[str, Any]:
    return {
        "type": "catalog-variant",
        "attributes": {
            "external_id": external_id,
            "title": external_id,
            "description": "A size",
            "sku": external_id,
            "inventory_quantity": 5,
            "price": 20.0,
            "url": f"https://shop.example.com/{external_id}",
        },
        "relationships": {"item": {"data": {"type": "catalog-item", "id": item_id}}},
    }


def refs(answer: httpx.Response) -> list[str]:
    return [r["id"] for r in answer.json()["data"]]


async def test_catalog_ids_relationships_and_cascades(client: httpx.AsyncClient) -> None:
    made = await client.post("/api/catalog-items", json={"data": item("SHIRT-1")}, headers=H)
    assert made.status_code == 201, made.text
    shirt = made.json()["data"]["id"]
    assert shirt == "$custom:::$default:::SHIRT-1"
    assert (await client.get(f"/api/catalog-items/{shirt}", headers=API_KEY)).status_code == 200
    again = await client.post("/api/catalog-items", json={"data": item("SHIRT-1")}, headers=H)
    assert again.status_code == 409

    # A category created with items: both sides read the same relation.
    items_rel = {"items": {"data": [{"type": "catalog-item", "id": shirt}]}}
    apparel = (
        await client.post(
            "/api/catalog-categories", json={"data": category("APPAREL", "Apparel", **items_rel)}, headers=H
        )
    ).json()["data"]["id"]
    assert apparel == "$custom:::$default:::APPAREL"
    assert refs(await client.get(f"/api/catalog-items/{shirt}/relationships/categories", headers=API_KEY)) == [apparel]
    assert refs(await client.get(f"/api/catalog-categories/{apparel}/items", headers=API_KEY)) == [shirt]

    # An item created in a category, and the relationship endpoints of both sides.
    in_sale = {"categories": {"data": [{"type": "catalog-category", "id": apparel}]}}
    hat = (await client.post("/api/catalog-items", json={"data": item("HAT-1", "Hat", **in_sale)}, headers=H)).json()[
        "data"
    ]["id"]
    assert refs(await client.get(f"/api/catalog-categories/{apparel}/relationships/items", headers=API_KEY)) == [
        shirt,
        hat,
    ]
    sale = (await client.post("/api/catalog-categories", json={"data": category("SALE", "Sale")}, headers=H)).json()[
        "data"
    ]["id"]
    add = {"data": [{"type": "catalog-item", "id": hat}]}
    assert (
        await client.post(f"/api/catalog-categories/{sale}/relationships/items", json=add, headers=H)
    ).status_code == 204
    assert sorted(refs(await client.get(f"/api/catalog-items/{hat}/categories", headers=API_KEY))) == sorted(
        [apparel, sale]
    )
    removed = await client.request(
        "DELETE", f"/api/catalog-categories/{apparel}/relationships/items", json=add, headers=H
    )
    assert removed.status_code == 204
    assert refs(await client.get(f"/api/catalog-items/{hat}/relationships/categories", headers=API_KEY)) == [sale]
    assert refs(await client.get(f"/api/catalog-categories/{apparel}/items", headers=API_KEY)) == [shirt]
    replace = {"data": [{"type": "catalog-item", "id": shirt}]}
    assert (
        await client.patch(f"/api/catalog-categories/{sale}/relationships/items", json=replace, headers=H)
    ).status_code == 204
    assert refs(await client.get(f"/api/catalog-categories/{sale}/items", headers=API_KEY)) == [shirt]
    assert refs(await client.get(f"/api/catalog-items/{hat}/categories", headers=API_KEY)) == []
    by_item = {"data": [{"type": "catalog-category", "id": sale}]}
    assert (
        await client.post(f"/api/catalog-items/{hat}/relationships/categories", json=by_item, headers=H)
    ).status_code == 204
    assert sorted(refs(await client.get(f"/api/catalog-categories/{sale}/items", headers=API_KEY))) == sorted(
        [shirt, hat]
    )

    # Variants point at their item; deleting the item deletes them; deleting a category takes it off its items.
    medium = await client.post("/api/catalog-variants", json={"data": variant("SHIRT-1-M", shirt)}, headers=H)
    assert medium.status_code == 201, medium.text
    medium_id = medium.json()["data"]["id"]
    assert medium_id == "$custom:::$default:::SHIRT-1-M"
    assert refs(await client.get(f"/api/catalog-items/{shirt}/variants", headers=API_KEY)) == [medium_id]
    assert (await client.delete(f"/api/catalog-categories/{sale}", headers=API_KEY)).status_code == 204
    assert refs(await client.get(f"/api/catalog-items/{hat}/categories", headers=API_KEY)) == []
    assert (await client.delete(f"/api/catalog-items/{shirt}", headers=API_KEY)).status_code == 204
    assert (await client.get(f"/api/catalog-variants/{medium_id}", headers=API_KEY)).status_code == 404
    assert (await client.get("/api/catalog-variants/$custom:::$default:::NOPE", headers=API_KEY)).status_code == 404


async def test_catalog_bulk_jobs_apply_their_items(client: httpx.AsyncClient) -> None:
    create = {
        "data": {
            "type": "catalog-item-bulk-create-job",
            "attributes": {"items": {"data": [item("BULK-1", "One"), item("BULK-2", "Two")]}},
        }
    }
    job = await client.post("/api/catalog-item-bulk-create-jobs", json=create, headers=H)
    assert job.status_code == 202, job.text
    job_id = job.json()["data"]["id"]
    status = await client.get(f"/api/catalog-item-bulk-create-jobs/{job_id}", headers=API_KEY)
    assert status.json()["data"]["attributes"]["status"] == "complete"
    listed = await client.get("/api/catalog-items", headers=API_KEY)
    assert sorted(refs(listed)) == ["$custom:::$default:::BULK-1", "$custom:::$default:::BULK-2"]

    update = {
        "data": {
            "type": "catalog-item-bulk-update-job",
            "attributes": {
                "items": {
                    "data": [
                        {"type": "catalog-item", "id": "$custom:::$default:::BULK-1", "attributes": {"title": "Uno"}}
                    ]
                }
            },
        }
    }
    assert (await client.post("/api/catalog-item-bulk-update-jobs", json=update, headers=H)).status_code == 202
    one = await client.get("/api/catalog-items/$custom:::$default:::BULK-1", headers=API_KEY)
    assert one.json()["data"]["attributes"]["title"] == "Uno"

    small = await client.post(
        "/api/catalog-variants", json={"data": variant("BULK-2-S", "$custom:::$default:::BULK-2")}, headers=H
    )
    assert small.status_code == 201, small.text
    delete = {
        "data": {
            "type": "catalog-item-bulk-delete-job",
            "attributes": {"items": {"data": [{"type": "catalog-item", "id": "$custom:::$default:::BULK-2"}]}},
        }
    }
    assert (await client.post("/api/catalog-item-bulk-delete-jobs", json=delete, headers=H)).status_code == 202
    assert refs(await client.get("/api/catalog-items", headers=API_KEY)) == ["$custom:::$default:::BULK-1"]
    # A bulk delete deletes what a DELETE would: the item's variants go with it.
    assert (await client.get(f"/api/catalog-variants/{small.json()['data']['id']}", headers=API_KEY)).status_code == 404


def coupon(external_id: str) -> dict[str, Any]:
    return {"data": {"type": "coupon", "attributes": {"external_id": external_id, "description": "Festive"}}}


def code(unique_code: str, coupon_id: str) -> dict[str, Any]:
    return {
        "type": "coupon-code",
        "attributes": {"unique_code": unique_code},
        "relationships": {"coupon": {"data": {"type": "coupon", "id": coupon_id}}},
    }


async def test_coupons_and_codes_by_their_documented_ids(client: httpx.AsyncClient) -> None:
    made = await client.post("/api/coupons", json=coupon("DIWALI20"), headers=H)
    assert made.status_code == 201 and made.json()["data"]["id"] == "DIWALI20"
    assert (await client.get("/api/coupons/DIWALI20", headers=API_KEY)).json()["data"]["attributes"]["external_id"] == (
        "DIWALI20"
    )
    assert (await client.post("/api/coupons", json=coupon("DIWALI20"), headers=H)).status_code == 409

    created = await client.post("/api/coupon-codes", json={"data": code("PRIYA-001", "DIWALI20")}, headers=H)
    assert created.json()["data"]["id"] == "DIWALI20-PRIYA-001"
    attrs = created.json()["data"]["attributes"]
    assert attrs["status"] == "UNASSIGNED" and attrs["expires_at"]  # "automatically set to 1 year"
    bulk = {
        "data": {
            "type": "coupon-code-bulk-create-job",
            "attributes": {"coupon-codes": {"data": [code("A1", "DIWALI20"), code("B2", "DIWALI20")]}},
        }
    }
    assert (await client.post("/api/coupon-code-bulk-create-jobs", json=bulk, headers=H)).status_code == 202
    codes = await client.get("/api/coupons/DIWALI20/relationships/coupon-codes", headers=API_KEY)
    assert sorted(refs(codes)) == ["DIWALI20-A1", "DIWALI20-B2", "DIWALI20-PRIYA-001"]
    parent = await client.get("/api/coupon-codes/DIWALI20-A1/coupon", headers=API_KEY)
    assert parent.json()["data"]["id"] == "DIWALI20"
    filtered = await client.get("/api/coupon-codes", params={"filter": 'equals(coupon.id,"DIWALI20")'}, headers=API_KEY)
    assert len(refs(filtered)) == 3

    assert (await client.delete("/api/coupons/DIWALI20", headers=API_KEY)).status_code == 204
    assert (await client.get("/api/coupon-codes/DIWALI20-A1", headers=API_KEY)).status_code == 404
    assert (await client.get("/api/coupons/DIWALI20", headers=API_KEY)).status_code == 404
