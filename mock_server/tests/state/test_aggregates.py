"""`query_metric_aggregates` computed from tracked events, against values worked out by hand."""

from __future__ import annotations

import json
from typing import Any

import httpx

from kdk.spec import iter_operations
from mock_server._compile import CompiledSpec
from mock_server.state import ResourceIndex
from mock_server.state._backends._aggregates import AggregatesBackend, attribute_schema_of
from mock_server.state._schema import flatten, json_body_schema

from .conftest import API_KEY, JSONAPI, response_errors
from .test_events import event_body

H = {**API_KEY, **JSONAPI}

# (email, time, value, $message): Placed Order events.
EVENTS = [
    ("a@example.com", "2026-03-01T09:00:00+00:00", 10.0, "M1"),
    ("a@example.com", "2026-03-01T09:30:00+00:00", 5.5, "M1"),
    ("b@example.com", "2026-03-01T23:30:00+00:00", 2.0, "M2"),  # 18:30 in New York: still 1 March there
    ("b@example.com", "2026-03-02T04:59:59+00:00", 1.0, None),  # 23:59:59 on 1 March in New York
    ("c@example.com", "2026-03-03T12:00:00+00:00", 100.0, "M2"),
    ("c@example.com", "2026-03-10T12:00:00+00:00", 7.0, "M1"),  # outside the range below
]


async def tracked(client: httpx.AsyncClient) -> str:
    for n, (email, time, value, message) in enumerate(EVENTS):
        body = event_body("Placed Order", {"email": email}, unique_id=f"o-{n}", value=value, time=time)
        if message:
            body["data"]["attributes"]["properties"]["$message"] = message
        assert (await client.post("/api/events", json=body, headers=H)).status_code == 202
    other = event_body("Opened Email", {"email": "a@example.com"}, time="2026-03-01T09:00:00+00:00")
    assert (await client.post("/api/events", json=other, headers=H)).status_code == 202
    metrics = (await client.get("/api/metrics", headers=API_KEY)).json()["data"]
    return next(m["id"] for m in metrics if m["attributes"]["name"] == "Placed Order")


def query(metric_id: str, measurements: list[str], *filters: str, **extra: Any) -> dict[str, Any]:
    attributes = {"metric_id": metric_id, "measurements": measurements, "filter": list(filters), **extra}
    return {"data": {"type": "metric-aggregate", "attributes": attributes}}


MARCH = ("greater-or-equal(datetime,2026-03-01T00:00:00)", "less-than(datetime,2026-03-04T00:00:00)")


async def aggregate(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/api/metric-aggregates", json=body, headers=H)
    assert response.status_code == 200, response.text
    attributes: dict[str, Any] = response.json()["data"]["attributes"]
    return attributes


async def test_daily_count_sum_unique_in_utc(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: dict[str, Any]
) -> None:
    metric_id = await tracked(client)
    response = await client.post(
        "/api/metric-aggregates", json=query(metric_id, ["count", "sum_value", "unique"], *MARCH), headers=H
    )
    assert response.status_code == 200, response.text
    assert response_errors(compiled, spec, "/api/metric-aggregates", "post", 200, response.json()) == []
    result = response.json()["data"]["attributes"]
    assert result["dates"] == ["2026-03-01T00:00:00+00:00", "2026-03-02T00:00:00+00:00", "2026-03-03T00:00:00+00:00"]
    # 1 March: a (10, 5.5), b (2); 2 March: b (1); 3 March: c (100). The 10 March event is outside the range.
    assert result["data"] == [
        {"dimensions": [], "measurements": {"count": [3, 1, 1], "sum_value": [17.5, 1.0, 100.0], "unique": [2, 1, 1]}}
    ]


async def test_timezone_moves_the_day_boundaries(client: httpx.AsyncClient) -> None:
    metric_id = await tracked(client)
    body = query(metric_id, ["count", "sum_value"], *MARCH, timezone="America/New_York")
    result = await aggregate(client, body)
    # The range is read in New York time (UTC-5): 1 March 05:00 UTC .. 4 March 05:00 UTC, so the two 09:00
    # events, the 23:30 one and the 04:59:59 one are all 1 March; the 3 March 12:00 one is 3 March.
    assert result["dates"] == ["2026-03-01T00:00:00-05:00", "2026-03-02T00:00:00-05:00", "2026-03-03T00:00:00-05:00"]
    assert result["data"][0]["measurements"] == {"count": [4, 0, 1], "sum_value": [18.5, 0.0, 100.0]}


async def test_by_dimension_and_other_filters(client: httpx.AsyncClient) -> None:
    metric_id = await tracked(client)
    result = await aggregate(client, query(metric_id, ["count", "unique"], *MARCH, by=["$message"], interval="week"))
    # 2026-03-01 is a Sunday: the week bucket starts Monday 23 February.
    assert result["dates"] == ["2026-02-23T00:00:00+00:00", "2026-03-02T00:00:00+00:00"]
    assert result["data"] == [
        {"dimensions": [""], "measurements": {"count": [0, 1], "unique": [0, 1]}},
        {"dimensions": ["M1"], "measurements": {"count": [2, 0], "unique": [1, 0]}},
        {"dimensions": ["M2"], "measurements": {"count": [1, 1], "unique": [1, 1]}},
    ]
    only_m2 = await aggregate(
        client, query(metric_id, ["sum_value"], *MARCH, "equals($message,'M2')", interval="month")
    )
    assert only_m2["dates"] == ["2026-03-01T00:00:00+00:00"]
    assert only_m2["data"] == [{"dimensions": [], "measurements": {"sum_value": [102.0]}}]
    sorted_desc = await aggregate(client, query(metric_id, ["count"], *MARCH, by=["$message"], sort="-$message"))
    assert [row["dimensions"] for row in sorted_desc["data"]] == [["M2"], ["M1"], [""]]


async def test_hourly_buckets(client: httpx.AsyncClient) -> None:
    metric_id = await tracked(client)
    window = ("greater-or-equal(datetime,2026-03-01T08:00:00+00:00)", "less-than(datetime,2026-03-01T11:00:00Z)")
    result = await aggregate(client, query(metric_id, ["count"], *window, interval="hour"))
    assert len(result["dates"]) == 3 and result["data"][0]["measurements"] == {"count": [0, 2, 0]}


async def test_bad_queries_are_400_or_404(client: httpx.AsyncClient) -> None:
    metric_id = await tracked(client)
    cases = [
        (query(metric_id, ["count"], MARCH[0]), 400, "time range"),
        (query(metric_id, ["count"], *MARCH, timezone="Mars/Olympus"), 400, "timezone"),
        (query(metric_id, ["count"], *MARCH, "equals(nope,'x')"), 400, "nope"),
        (query("NOPE", ["count"], *MARCH), 404, "NOPE"),
        (
            query(
                metric_id,
                ["count"],
                "greater-or-equal(datetime,2020-01-01)",
                "less-than(datetime,2023-01-01)",
                interval="hour",
            ),
            400,
            "more than",
        ),  # refused, never cut short
        (
            query(metric_id, ["count"], "greater-or-equal(datetime,2026-03-02)", "less-than(datetime,2026-03-01)"),
            400,
            "empty",
        ),
    ]
    for body, status, word in cases:
        response = await client.post("/api/metric-aggregates", json=body, headers=H)
        assert response.status_code == status, (body, response.text)
        assert word in response.json()["errors"][0]["detail"]


async def test_the_ends_of_the_calendar_are_400_not_500(client: httpx.AsyncClient) -> None:
    metric_id = await tracked(client)
    for low, high, interval, tz in (
        ("0001-01-01T00:00:00+00:00", "0001-03-01T00:00:00+00:00", "week", "America/New_York"),
        ("9999-12-01T00:00:00+00:00", "9999-12-31T23:59:59.999999+00:00", "month", "UTC"),
        ("0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+00:00", "month", "UTC"),
    ):
        body = query(
            metric_id, ["count"], f"greater-or-equal(datetime,{low})", f"less-or-equal(datetime,{high})",
            interval=interval, timezone=tz,
        )  # fmt: skip
        response = await client.post("/api/metric-aggregates", json=body, headers=H)
        assert response.status_code in (200, 400), (low, high, response.text)


async def test_every_by_dimension_of_the_spec_groups_and_filters(
    client: httpx.AsyncClient, spec: dict[str, Any], index: ResourceIndex
) -> None:
    """Generated from the spec's `by` enum: each dimension groups the events by that property and filters on it."""
    schema = next(
        json_body_schema(spec, op.node.get("requestBody"))
        for op in iter_operations(spec)
        if AggregatesBackend.answers(spec, json_body_schema(spec, op.node.get("requestBody")))
    )
    by = flatten(spec, (attribute_schema_of(spec, schema).get("properties") or {}).get("by"))
    dimensions = [str(d) for d in flatten(spec, by.get("items")).get("enum") or [] if d is not None]
    assert dimensions
    for n, dimension in enumerate(dimensions):
        for m, value in enumerate(("a", "a", "b")):
            body = event_body(
                "Dimensioned", {"email": f"p{m}@example.com"}, unique_id=f"{n}-{m}", time="2026-03-02T10:00:00Z"
            )
            body["data"]["attributes"]["properties"] = {dimension: value}
            assert (await client.post("/api/events", json=body, headers=H)).status_code == 202
        metrics = (await client.get("/api/metrics", headers=API_KEY)).json()["data"]
        metric_id = next(m["id"] for m in metrics if m["attributes"]["name"] == "Dimensioned")
        # Every earlier dimension's events lack this property: they count under "".
        grouped = await aggregate(client, query(metric_id, ["count", "unique"], *MARCH, by=[dimension]))
        rows = {tuple(r["dimensions"]): r["measurements"] for r in grouped["data"]}
        assert rows[("a",)] == {"count": [0, 2, 0], "unique": [0, 2, 0]}, dimension
        assert rows[("b",)] == {"count": [0, 1, 0], "unique": [0, 1, 0]}, dimension
        literal = json.dumps("b")
        only_b = await aggregate(client, query(metric_id, ["count"], *MARCH, f"equals({dimension},{literal})"))
        assert only_b["data"][0]["measurements"] == {"count": [0, 1, 0]}, dimension
