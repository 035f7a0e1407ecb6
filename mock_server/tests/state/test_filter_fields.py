"""Filters on what is not a plain attribute: relationship and id fields, nested attributes across a
relationship, list-valued fields (any element matches), datetimes with offsets; required filters."""

from __future__ import annotations

from typing import Any

import httpx

from mock_server import MockRequest
from mock_server.state import Kind, MemoryStore, ResourceIndex, StatefulBehaviour
from mock_server.state._fields import FieldReader

from .conftest import API_KEY


def rel(rtype: str, *ids: str, many: bool = False) -> dict[str, Any]:
    refs = [{"type": rtype, "id": i} for i in ids]
    return {"data": refs if many else refs[0]}


SEED: list[dict[str, Any]] = [
    {"type": "metric", "id": "RCOPEN", "attributes": {"name": "Opened Email"}},
    {"type": "metric", "id": "RCPLAC", "attributes": {"name": "Placed Order"}},
    {"type": "profile", "id": "01PRIYA0000000000000000000", "attributes": {"email": "priya@example.com"}},
    {
        "type": "profile",
        "id": "01SAM00000000000000000000A",
        "attributes": {
            "email": "sam@example.com",
            "subscriptions": {
                "email": {
                    "marketing": {
                        "suppression": [
                            {"reason": "USER_SUPPRESSED", "timestamp": "2026-01-01T00:00:00+00:00"},
                            {"reason": "HARD_BOUNCE", "timestamp": "2026-02-01T00:00:00+00:00"},
                        ]
                    }
                }
            },
        },
    },
    {
        "type": "event",
        "id": "EV1",
        "attributes": {"datetime": "2026-01-02T10:00:00+00:00", "timestamp": 1767348000},
        "relationships": {"metric": rel("metric", "RCOPEN"), "profile": rel("profile", "01PRIYA0000000000000000000")},
    },
    {
        "type": "event",
        "id": "EV2",
        "attributes": {"datetime": "2026-01-02T10:00:00+02:00", "timestamp": 1767340800},
        "relationships": {"metric": rel("metric", "RCPLAC"), "profile": rel("profile", "01SAM00000000000000000000A")},
    },
    {"type": "campaign-message", "id": "CM1", "attributes": {"definition": {"channel": "email", "label": "a"}}},
    {"type": "campaign-message", "id": "CM2", "attributes": {"definition": {"channel": "sms", "label": "b"}}},
    {
        "type": "campaign",
        "id": "C1",
        "attributes": {"name": "Spring", "status": "Draft"},
        "relationships": {"campaign-messages": rel("campaign-message", "CM1", many=True)},
    },
    {
        "type": "campaign",
        "id": "C2",
        "attributes": {"name": "Summer", "status": "Sent"},
        "relationships": {"campaign-messages": rel("campaign-message", "CM2", many=True)},
    },
    {"type": "coupon", "id": "DIWALI20", "attributes": {"external_id": "DIWALI20"}},
    {"type": "coupon", "id": "EID10", "attributes": {"external_id": "EID10"}},
    {
        "type": "coupon-code",
        "id": "DIWALI20-A",
        "attributes": {"unique_code": "A"},
        "relationships": {"coupon": rel("coupon", "DIWALI20")},
    },
    {
        "type": "coupon-code",
        "id": "EID10-B",
        "attributes": {"unique_code": "B"},
        "relationships": {"coupon": rel("coupon", "EID10")},
    },
]


async def ids(client: httpx.AsyncClient, path: str, expression: str | None) -> list[str]:
    params = {"filter": expression} if expression else {}
    response = await client.get(path, params=params, headers=API_KEY)
    assert response.status_code == 200, (path, expression, response.text)
    return sorted(d["id"] for d in response.json()["data"])


async def seeded(client: httpx.AsyncClient) -> None:
    loaded = await client.post("/__mock__/state", json={"accounts": {"api_key:pk_test_one": SEED}}, headers=API_KEY)
    assert loaded.status_code == 200, loaded.text


async def test_relationship_id_fields_filter_events(client: httpx.AsyncClient) -> None:
    await seeded(client)
    assert await ids(client, "/api/events", 'equals(metric_id,"RCOPEN")') == ["EV1"]
    assert await ids(client, "/api/events", 'equals(profile_id,"01SAM00000000000000000000A")') == ["EV2"]
    assert await ids(client, "/api/events", "has(profile)") == ["EV1", "EV2"]
    assert await ids(client, "/api/events", 'equals(metric_id,"NOPE")') == []


async def test_datetimes_compare_as_instants_whatever_their_offset(client: httpx.AsyncClient) -> None:
    await seeded(client)
    # EV2 is 08:00 UTC, EV1 10:00 UTC.
    assert await ids(client, "/api/events", "greater-than(datetime,2026-01-02T09:00:00+00:00)") == ["EV1"]
    assert await ids(client, "/api/events", "less-than(datetime,2026-01-02T10:30:00+02:00)") == ["EV2"]
    assert await ids(client, "/api/events", "greater-or-equal(datetime,2026-01-02T08:00:00Z)") == ["EV1", "EV2"]


async def test_nested_attribute_across_a_relationship(client: httpx.AsyncClient) -> None:
    await seeded(client)
    assert await ids(client, "/api/campaigns", "equals(messages.channel,'email')") == ["C1"]
    assert await ids(client, "/api/campaigns", "equals(messages.channel,'sms')") == ["C2"]
    both = "and(equals(messages.channel,'email'),equals(status,'Sent'))"
    assert await ids(client, "/api/campaigns", both) == []


async def test_related_id_with_dot(client: httpx.AsyncClient) -> None:
    await seeded(client)
    assert await ids(client, "/api/coupon-codes", 'equals(coupon.id,"DIWALI20")') == ["DIWALI20-A"]
    assert await ids(client, "/api/coupon-codes", 'any(coupon.id,["DIWALI20","EID10"])') == ["DIWALI20-A", "EID10-B"]


async def test_list_valued_fields_match_on_any_element(client: httpx.AsyncClient) -> None:
    await seeded(client)
    field = "subscriptions.email.marketing.suppression"
    assert await ids(client, "/api/profiles", f"equals({field}.reason,'HARD_BOUNCE')") == ["01SAM00000000000000000000A"]
    assert await ids(client, "/api/profiles", f"greater-than({field}.timestamp,2026-01-15T00:00:00Z)") == [
        "01SAM00000000000000000000A"
    ]
    assert await ids(client, "/api/profiles", f"equals({field}.reason,'SPAM_COMPLAINT')") == []


async def test_required_filters_are_klaviyos_400(client: httpx.AsyncClient) -> None:
    await seeded(client)
    for path, other in (("/api/campaigns", "equals(status,'Draft')"), ("/api/coupon-codes", "equals(status,'x')")):
        missing = await client.get(path, headers=API_KEY)
        assert missing.status_code == 400, (path, missing.text)
        error = missing.json()["errors"][0]
        assert error["source"]["parameter"] == "filter" and "required" in error["detail"]
        if other:
            # The description names the field that is required (`messages.channel`; a coupon or a profile for
            # coupon codes): another one is not enough.
            assert (await client.get(path, params={"filter": other}, headers=API_KEY)).status_code == 400


def _expression(field: str, operator: str) -> str:
    if operator == "has":
        return f"has({field})"
    if operator in ("any", "contains-any", "contains-all"):
        return f"{operator}({field},['x'])"
    return f"{operator}({field},'x')"


async def test_every_allowed_filter_is_evaluated_or_refused_out_loud(
    spec: dict[str, Any], index: ResourceIndex
) -> None:
    """Generated from the spec: every (collection, field, operator) the spec allows either reads its field
    (from the type's attributes, its relationships or its id) or, with nothing stored under it, is a 400
    that says why. Never a silent `[]` because the mock did not know where to look."""
    behaviour = StatefulBehaviour(spec, MemoryStore(), index=index)
    checked = 0
    for op in index.ops.values():
        if op.kind is not Kind.LIST or not op.filters:
            continue
        with behaviour.store.transaction() as tx:
            tx.put("a", {"type": op.resource_type, "id": f"{op.resource_type}-1", "attributes": {}})
            reader = FieldReader(index, tx, "a")
        for field, rule in op.filters.items():
            for operator in sorted(rule.single | rule.many):
                expression = _expression(field, operator)
                for required in sorted(op.filter_required_fields - {field})[:1]:  # e.g. campaigns' channel
                    needed = op.filters[required]
                    expression = f"and({expression},{_expression(required, sorted(needed.single | needed.many)[0])})"
                request = MockRequest(
                    op.operation_id, "get", op.path, {}, {"filter": expression}, {}, None,
                    "a", "oauth", "x", "http://m",
                )  # fmt: skip
                response = await behaviour.handle(request)
                assert response is not None, (op.operation_id, field, operator)
                if reader.readable(op.resource_type, field, op.data_schema):
                    assert response.status == 200, (op.operation_id, field, operator, response.body)
                else:
                    assert response.status == 400, (op.operation_id, field, operator, response.body)
                    assert "cannot evaluate" in response.body["errors"][0]["detail"]
                checked += 1
    assert checked >= sum(len(o.filters) for o in index.ops.values() if o.kind is Kind.LIST and o.filters)


async def test_an_epoch_timestamp_compares_with_a_datetime(client: httpx.AsyncClient) -> None:
    await seeded(client)
    # EV1's timestamp is 2026-01-02T10:00:00Z, EV2's 08:00Z.
    assert await ids(client, "/api/events", "greater-than(timestamp,2026-01-02T09:00:00Z)") == ["EV1"]
    assert await ids(client, "/api/events", "less-or-equal(timestamp,1767340800)") == ["EV2"]
