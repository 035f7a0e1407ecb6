"""Ids in Klaviyo's shape per resource type, read from the spec (one module for the generator and state)."""

from __future__ import annotations

import os
import re
import time
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from mock_server import _ids, id_rules, id_shape_for_example, new_id, seeded_id

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


def test_new_ulids_are_unique_and_sort_in_the_order_they_were_made() -> None:
    """Monotonic ULIDs: many in one millisecond stay distinct and ordered; each carries the time it was made
    (its first 48 bits: Unix milliseconds) in Crockford base 32."""
    before = time.time_ns() // 1_000_000
    made = [new_id("ulid") for _ in range(20_000)]
    after = time.time_ns() // 1_000_000
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    for ulid in (made[0], made[-1]):
        assert re.fullmatch(f"[{crockford}]{{26}}", ulid)
        number = 0
        for char in ulid:
            number = number * 32 + crockford.index(char)
        assert before <= number >> 80 <= after + 1  # (+1: an id may borrow the next millisecond)


def test_a_forked_process_draws_its_own_ulids(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker forked from a process that made ids continues nothing of its parent's sequence: in the same
    millisecond (a stopped clock here) the parent's next id and the child's differ."""
    if not hasattr(os, "fork"):
        return
    stopped = time.time_ns()
    monkeypatch.setattr(_ids, "time", SimpleNamespace(time_ns=lambda: stopped, time=time.time))
    new_id("ulid")
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next id, sent to the parent
        os.write(write, new_id("ulid").encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 100).decode()
    os.waitpid(pid, 0)
    os.close(read)
    mine = new_id("ulid")
    assert len(child) == 26 and child[:10] == mine[:10]  # the same millisecond
    assert child != mine


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


# Klaviyo's documented id shapes of well-known types (its docs and examples), to hold the spec-derived rules to.
_KLAVIYO_SHAPES = {
    "profile": "ulid",
    "campaign": "ulid",
    "webhook": "ulid",
    "list": "short",
    "segment": "short",
    "flow": "short",
    "template": "short",
    "form": "short",
    "metric": "short",
    "flow-action": "digits",
    "image": "digits",
    "tag": "uuid",
}


def test_every_creatable_type_has_a_documented_id_shape(spec: dict[str, Any], index: Any) -> None:
    """Each creatable type of the pinned spec: its rule agrees with every id example the spec gives it, a fresh
    id has the rule's shape, and ids built from attributes are built from parts the type's create accepts."""
    from mock_server._ids import _collect

    rules = id_rules(spec)
    evidence = _collect(spec)
    creatable = sorted(t.name for t in index.types.values() if t.creatable)
    assert creatable
    problems = []
    for rtype in creatable:
        rule = rules.rule(rtype)
        assert index.types[rtype].id_shape == rule.shape  # the index asks the one module
        made = rule.new()
        if not re.fullmatch(_SHAPES[rule.shape], made):
            problems.append(f"{rtype}: fresh id {made!r} is not {rule.shape}")
        for example in evidence[rtype].id_examples if rtype in evidence else []:
            if rule.parts:
                continue  # an id built from attributes has no shape of its own
            if ":::" not in example and id_shape_for_example(example) != rule.shape:
                problems.append(f"{rtype}: example {example!r} is {id_shape_for_example(example)}, rule {rule.shape}")
        if rule.parts:
            attributes = {p.value: "X1" for p in rule.parts if p.kind == "attribute"}
            related = {p.value: "R1" for p in rule.parts if p.kind == "relationship"}
            built = rule.new(attributes, related)
            if "X1" not in built:
                problems.append(f"{rtype}: built id {built!r} ignores its attributes")
    assert problems == []
    known = {rtype: rules.shape(rtype) for rtype in _KLAVIYO_SHAPES}
    assert known == _KLAVIYO_SHAPES
    built = {rtype for rtype in creatable if rules.rule(rtype).parts}
    assert {"coupon", "coupon-code", "catalog-item", "catalog-variant", "catalog-category"} <= built


async def test_created_ids_follow_the_rules(client: httpx.AsyncClient, spec: dict[str, Any]) -> None:
    """Over HTTP: a list's id is 6 characters, a profile's a ULID, a tag's a UUID, a category's built."""
    headers = {**API_KEY, **JSONAPI}
    made = {
        "list": await client.post(
            "/api/lists", json={"data": {"type": "list", "attributes": {"name": "L"}}}, headers=headers
        ),
        "profile": await client.post(
            "/api/profiles",
            json={"data": {"type": "profile", "attributes": {"email": "ids@example.com"}}},
            headers=headers,
        ),
        "tag": await client.post(
            "/api/tags", json={"data": {"type": "tag", "attributes": {"name": "T"}}}, headers=headers
        ),
    }
    for rtype, answer in made.items():
        assert answer.status_code == 201, answer.text
        assert re.fullmatch(_SHAPES[_KLAVIYO_SHAPES[rtype]], answer.json()["data"]["id"]), (rtype, answer.json())
