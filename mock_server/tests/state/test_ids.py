"""Ids in Klaviyo's shape per resource type, read from the spec (one module for the generator and state)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from mock_server import id_rules, id_shape_for_example, new_id, seeded_id

from .conftest import API_KEY, JSONAPI

_SHAPES = {
    "ulid": r"[0-9A-Z]{26}",
    "short": r"[A-Za-z0-9]{6}",
    "hex32": r"[0-9a-f]{32}",
    "hex12": r"[0-9a-f]{12}",
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "digits": r"[0-9]+",
}


def test_every_shape_round_trips() -> None:
    for shape, pattern in _SHAPES.items():
        for made in (new_id(shape), seeded_id(shape, "seed")):
            assert re.fullmatch(pattern, made), (shape, made)
            assert id_shape_for_example(made) == shape
    assert seeded_id("ulid", "x") == seeded_id("ulid", "x") != seeded_id("ulid", "y")


def _resource(rtype: str, id_example: str, attributes: dict[str, Any], relationships: dict[str, Any]) -> Any:
    return {
        "type": "object",
        "properties": {
            "type": {"type": "string", "enum": [rtype]},
            "id": {"type": "string", "example": id_example},
            "attributes": {"type": "object", "properties": attributes},
            "relationships": {"type": "object", "properties": relationships},
        },
    }


def test_ids_built_from_attributes_and_relationships_of_a_hand_written_spec() -> None:
    parent = {
        "properties": {
            "data": {"properties": {"type": {"enum": ["voucher"]}, "id": {"type": "string", "example": "SPRING"}}}
        }
    }
    spec = {
        "components": {
            "schemas": {
                "Voucher": _resource("voucher", "SPRING", {"handle": {"type": "string", "example": "SPRING"}}, {}),
                "VoucherCode": _resource(
                    "voucher-code", "SPRING::X7Q", {"code": {"type": "string", "example": "X7Q"}}, {"voucher": parent}
                ),
                "Plain": _resource("plain", "01GDDKASAP8TKDDA2GRZDSVP4H", {"name": {"example": "n"}}, {}),
            }
        }
    }
    rules = id_rules(spec)
    assert rules.rule("voucher").new({"handle": "AUTUMN"}) == "AUTUMN"
    assert rules.rule("voucher-code").new({"code": "ABC"}, {"voucher": "AUTUMN"}) == "AUTUMN::ABC"
    assert rules.shape("plain") == "ulid" and not rules.rule("plain").parts
    # A part missing from the new resource: a fresh id of the type's shape instead.
    assert re.fullmatch(_SHAPES["ulid"], rules.rule("voucher-code").new({"code": "ABC"}))


def test_pinned_spec_id_rules(spec: dict[str, Any]) -> None:
    rules = id_rules(spec)
    assert rules.rule("coupon").new({"external_id": "DIWALI20"}) == "DIWALI20"
    assert rules.rule("coupon-code").new({"unique_code": "A1B2"}, {"coupon": "DIWALI20"}) == "DIWALI20-A1B2"
    assert rules.rule("catalog-item").new({"external_id": "SKU-1"}) == "$custom:::$default:::SKU-1"
    assert rules.shape("list") == "short" and rules.shape("profile") == "ulid"


async def test_coupons_and_codes_are_found_by_their_documented_ids(client: httpx.AsyncClient) -> None:
    headers = {**API_KEY, **JSONAPI}
    coupon = {"data": {"type": "coupon", "attributes": {"external_id": "DIWALI20"}}}
    created = await client.post("/api/coupons", json=coupon, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["id"] == "DIWALI20"
    assert (await client.get("/api/coupons/DIWALI20", headers=API_KEY)).status_code == 200
    code = {
        "data": {
            "type": "coupon-code",
            "attributes": {"unique_code": "PRIYA-001"},
            "relationships": {"coupon": {"data": {"type": "coupon", "id": "DIWALI20"}}},
        }
    }
    made = await client.post("/api/coupon-codes", json=code, headers=headers)
    assert made.status_code == 200, made.text  # the status the spec documents for create_coupon_code
    assert made.json()["data"]["id"] == "DIWALI20-PRIYA-001"
    assert (await client.get("/api/coupon-codes/DIWALI20-PRIYA-001", headers=API_KEY)).status_code == 200


async def test_catalog_items_get_compound_ids(client: httpx.AsyncClient) -> None:
    body = {
        "data": {
            "type": "catalog-item",
            "attributes": {
                "external_id": "SKU-1",
                "title": "Shirt",
                "description": "A shirt",
                "url": "https://example.com/shirt",
            },
        }
    }
    created = await client.post("/api/catalog-items", json=body, headers={**API_KEY, **JSONAPI})
    assert created.status_code == 201, created.text
    rid = created.json()["data"]["id"]
    assert rid == "$custom:::$default:::SKU-1"
    assert (await client.get(f"/api/catalog-items/{rid}", headers=API_KEY)).status_code == 200
