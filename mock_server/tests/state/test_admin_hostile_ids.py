"""Client-chosen ids with control characters: a Klaviyo-style 400 pointing at the field, in bodies only.

Ids in paths are only looked up (a NUL there is simply not found: 404, which schemathesis'
`positive_data_acceptance` accepts); the 400 for a body is excluded from that check with its reason in
contract_tests/exclusions.py.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from mock_server.state import SeedError, StatefulBehaviour, apply_seed

from .conftest import API_KEY, JSONAPI


@pytest.mark.parametrize("text", ["A\x00B", "tab\there", "bell\x07", "del\x7f", "c1\x85"])
async def test_control_characters_in_a_chosen_id_are_a_400(client: httpx.AsyncClient, text: str) -> None:
    headers = {**API_KEY, **JSONAPI}
    coupon = await client.post(
        "/api/coupons", json={"data": {"type": "coupon", "attributes": {"external_id": text}}}, headers=headers
    )
    assert coupon.status_code == 400, coupon.text
    error = coupon.json()["errors"][0]
    assert error["source"] == {"pointer": "/data/attributes/external_id"}
    control = next(c for c in text if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F)
    assert f"control character U+{ord(control):04X}" in error["detail"]
    item = {
        "data": {
            "type": "catalog-item",
            "attributes": {"external_id": text, "title": "T", "description": "D", "url": "https://x.example"},
        }
    }
    answered = await client.post("/api/catalog-items", json=item, headers=headers)
    assert (
        answered.status_code == 400
        and answered.json()["errors"][0]["source"]["pointer"] == "/data/attributes/external_id"
    )
    assert (await client.get("/api/coupons", headers=API_KEY)).json()["data"] == []


async def test_ids_in_paths_are_looked_up_not_refused(client: httpx.AsyncClient) -> None:
    for path in ("/api/coupons/A%00B", "/api/profiles/%01x", "/api/lists/%7F"):
        assert (await client.get(path, headers=API_KEY)).status_code == 404, path


async def test_printable_and_unicode_ids_still_work(client: httpx.AsyncClient) -> None:
    headers = {**API_KEY, **JSONAPI}
    for external_id in ("DIWALI-20", "été 2026", "∑-x y"):
        body = {"data": {"type": "coupon", "attributes": {"external_id": external_id}}}
        created = await client.post("/api/coupons", json=body, headers=headers)
        assert created.status_code == 201 and created.json()["data"]["id"] == external_id, created.text


def test_a_seed_with_such_an_id_is_a_seed_error(make_behaviour: Callable[..., StatefulBehaviour]) -> None:
    behaviour = make_behaviour()
    doc = {"accounts": {"api_key:pk_x": [{"type": "list", "id": "a\x00b", "attributes": {"name": "L"}}]}}
    with pytest.raises(SeedError, match=r"accounts\.api_key:pk_x\[0\]: An id cannot hold"):
        apply_seed(behaviour.index, behaviour.store, doc)
