"""Campaign, flow and form reports computed from tracked events, and segment reports from membership history,
against values worked out by hand."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest

from kdk.spec import apply_overlay, iter_operations, load_spec
from mock_server import MockRequest
from mock_server._auth import account_for_name
from mock_server._compile import CompiledSpec
from mock_server.state import StatefulBehaviour
from mock_server.state._backends._aggregates import attribute_schema_of
from mock_server.state._backends._membership import REMOVAL_TYPE
from mock_server.state._schema import json_body_schema

from .conftest import API_KEY, JSONAPI, response_errors
from .test_events import event_body

H = {**API_KEY, **JSONAPI}


def rel(rtype: str, *ids: str, many: bool = False) -> dict[str, Any]:
    refs = [{"type": rtype, "id": i} for i in ids]
    return {"data": refs if many else refs[0]}


SEED = [
    {"type": "campaign", "id": "C1", "attributes": {"name": "Spring"},
     "relationships": {"campaign-messages": rel("campaign-message", "CM1", many=True)}},
    {"type": "campaign-message", "id": "CM1",
     "attributes": {"definition": {"channel": "email", "label": "Spring email"}},
     "relationships": {"campaign": rel("campaign", "C1")}},
    {"type": "flow", "id": "F1", "attributes": {"name": "Welcome"}},
    {"type": "flow-message", "id": "FM1", "attributes": {"name": "Welcome 1", "channel": "email"}},
]  # fmt: skip

# (metric, email, time, properties, value)
CAMPAIGN_EVENTS = [
    ("Received Email", "a@example.com", "2026-03-01T10:00:00+00:00", {"$message": "CM1"}, None),
    ("Received Email", "b@example.com", "2026-03-01T10:00:00+00:00", {"$message": "CM1"}, None),
    ("Received Email", "c@example.com", "2026-03-01T10:00:00+00:00", {"$message": "CM1"}, None),
    ("Bounced Email", "d@example.com", "2026-03-01T10:00:00+00:00", {"$message": "CM1"}, None),
    ("Opened Email", "a@example.com", "2026-03-01T11:00:00+00:00", {"$message": "CM1"}, None),
    ("Opened Email", "a@example.com", "2026-03-01T12:00:00+00:00", {"$message": "CM1"}, None),
    ("Opened Email", "b@example.com", "2026-03-02T11:00:00+00:00", {"$message": "CM1"}, None),
    ("Clicked Email", "a@example.com", "2026-03-01T11:05:00+00:00", {"$message": "CM1"}, None),
    ("Placed Order", "a@example.com", "2026-03-01T13:00:00+00:00", {"$attributed_message": "CM1"}, 50.0),
    ("Placed Order", "b@example.com", "2026-03-01T13:00:00+00:00", {}, 20.0),  # not attributed
    ("Opened Email", "a@example.com", "2026-05-01T11:00:00+00:00", {"$message": "CM1"}, None),  # outside
    # A flow's email: not a campaign's.
    ("Received Email", "a@example.com", "2026-03-01T10:00:00+00:00", {"$message": "FM1", "$flow": "F1"}, None),
    ("Received Email", "b@example.com", "2026-03-02T10:00:00+00:00", {"$message": "FM1", "$flow": "F1"}, None),
    ("Opened Email", "b@example.com", "2026-03-02T10:30:00+00:00", {"$message": "FM1", "$flow": "F1"}, None),
    ("Placed Order", "b@example.com", "2026-03-03T09:00:00+00:00",
     {"$attributed_message": "FM1", "$attributed_flow": "F1"}, 30.0),
]  # fmt: skip

MARCH = {"start": "2026-03-01T00:00:00", "end": "2026-03-04T00:00:00"}


async def seeded(client: httpx.AsyncClient) -> str:
    loaded = await client.post("/__mock__/state", json={"accounts": {"api_key:pk_test_one": SEED}}, headers=API_KEY)
    assert loaded.status_code == 200, loaded.text
    for n, (metric, email, time, properties, value) in enumerate(CAMPAIGN_EVENTS):
        body = event_body(metric, {"email": email}, unique_id=f"e-{n}", value=value, time=time)
        body["data"]["attributes"]["properties"] = properties
        assert (await client.post("/api/events", json=body, headers=H)).status_code == 202
    metrics = (await client.get("/api/metrics", headers=API_KEY)).json()["data"]
    return next(m["id"] for m in metrics if m["attributes"]["name"] == "Placed Order")


def report(rtype: str, statistics: list[str], conversion: str, **extra: Any) -> dict[str, Any]:
    attributes = {"statistics": statistics, "timeframe": MARCH, "conversion_metric_id": conversion, **extra}
    return {"data": {"type": rtype, "attributes": attributes}}


async def test_campaign_values(client: httpx.AsyncClient, compiled: CompiledSpec, spec: dict[str, Any]) -> None:
    placed = await seeded(client)
    statistics = [
        "recipients", "delivered", "bounced", "delivery_rate", "opens", "opens_unique", "open_rate",
        "clicks_unique", "click_rate", "click_to_open_rate", "conversions", "conversion_value",
        "average_order_value", "revenue_per_recipient", "text_message_spend",
    ]  # fmt: skip
    response = await client.post(
        "/api/campaign-values-reports", json=report("campaign-values-report", statistics, placed), headers=H
    )
    assert response.status_code == 200, response.text
    assert response_errors(compiled, spec, "/api/campaign-values-reports", "post", 200, response.json()) == []
    results = response.json()["data"]["attributes"]["results"]
    assert results == [
        {
            "groupings": {"campaign_id": "C1", "campaign_message_id": "CM1", "send_channel": "email"},
            "statistics": {
                "recipients": 4,  # 3 received + 1 bounced
                "delivered": 3,
                "bounced": 1,
                "delivery_rate": 0.75,
                "opens": 3,  # the May open is outside the timeframe
                "opens_unique": 2,
                "open_rate": 0.666667,
                "clicks_unique": 1,
                "click_rate": 0.333333,
                "click_to_open_rate": 0.5,
                "conversions": 1,  # b's order is not attributed to the campaign
                "conversion_value": 50.0,
                "average_order_value": 50.0,
                "revenue_per_recipient": 16.666667,
                "text_message_spend": 0,
            },
        }
    ]


async def test_campaign_values_filters_and_groups(client: httpx.AsyncClient) -> None:
    placed = await seeded(client)
    body = report(
        "campaign-values-report", ["opens"], placed, group_by=["campaign_id", "campaign_message_id"],
        filter='equals(send_channel,"sms")',
    )  # fmt: skip
    response = await client.post("/api/campaign-values-reports", json=body, headers=H)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["attributes"]["results"] == []  # the campaign is an email one
    missing = report("campaign-values-report", ["opens"], placed, group_by=["send_channel"])
    refused = await client.post("/api/campaign-values-reports", json=missing, headers=H)
    assert refused.status_code == 400 and "campaign_id" in refused.json()["errors"][0]["detail"]
    unknown = await client.post(
        "/api/campaign-values-reports", json=report("campaign-values-report", ["opens"], "NOPE"), headers=H
    )
    assert unknown.status_code == 404


async def test_flow_values_and_series(client: httpx.AsyncClient, compiled: CompiledSpec, spec: dict[str, Any]) -> None:
    placed = await seeded(client)
    values = await client.post(
        "/api/flow-values-reports",
        json=report("flow-values-report", ["delivered", "opens_unique", "open_rate", "conversion_value"], placed),
        headers=H,
    )
    assert values.status_code == 200, values.text
    assert values.json()["data"]["attributes"]["results"] == [
        {
            "groupings": {"flow_id": "F1", "flow_message_id": "FM1", "send_channel": "email"},
            "statistics": {"delivered": 2, "opens_unique": 1, "open_rate": 0.5, "conversion_value": 30.0},
        }
    ]
    series = await client.post(
        "/api/flow-series-reports",
        json=report(
            "flow-series-report", ["delivered", "conversions"], placed, interval="daily",
            group_by=["flow_id", "flow_message_id", "flow_name"],
        ),
        headers=H,
    )  # fmt: skip
    assert series.status_code == 200, series.text
    assert response_errors(compiled, spec, "/api/flow-series-reports", "post", 200, series.json()) == []
    attributes = series.json()["data"]["attributes"]
    assert attributes["date_times"] == [
        "2026-03-01T00:00:00+00:00",
        "2026-03-02T00:00:00+00:00",
        "2026-03-03T00:00:00+00:00",
    ]
    assert attributes["results"] == [
        {
            "groupings": {"flow_id": "F1", "flow_message_id": "FM1", "flow_name": "Welcome"},
            "statistics": {"delivered": [1, 1, 0], "conversions": [0, 0, 1]},
        }
    ]


async def test_series_timeframe_limits_come_from_the_interval_description(client: httpx.AsyncClient) -> None:
    placed = await seeded(client)
    body = report("flow-series-report", ["delivered"], placed, interval="hourly")  # 3 days: fine
    assert (await client.post("/api/flow-series-reports", json=body, headers=H)).status_code == 200
    body["data"]["attributes"]["timeframe"] = {"start": "2026-03-01T00:00:00", "end": "2026-03-09T00:00:00"}
    refused = await client.post("/api/flow-series-reports", json=body, headers=H)
    assert refused.status_code == 400 and "7 days" in refused.json()["errors"][0]["detail"]


async def test_form_values_count_the_forms_events(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: dict[str, Any]
) -> None:
    form_events = [
        ("Viewed Form", "a@example.com", {"form_id": "FA", "form_version_id": "V1"}),
        ("Viewed Form", "a@example.com", {"form_id": "FA", "form_version_id": "V2"}),
        ("Viewed Form", "b@example.com", {"form_id": "FA", "form_version_id": "V1"}),
        ("Submitted Form", "b@example.com", {"form_id": "FA", "form_version_id": "V1"}),
        ("Viewed Form", "c@example.com", {"form_id": "FB", "form_version_id": "V9"}),
        ("Viewed Form", "c@example.com", {}),  # no form: not counted
    ]
    for n, (metric, email, properties) in enumerate(form_events):
        body = event_body(metric, {"email": email}, unique_id=f"f-{n}", time="2026-03-02T10:00:00+00:00")
        body["data"]["attributes"]["properties"] = properties
        assert (await client.post("/api/events", json=body, headers=H)).status_code == 202
    statistics = ["viewed_form", "viewed_form_uniques", "submits", "submit_rate"]
    body = {"data": {"type": "form-values-report", "attributes": {"statistics": statistics, "timeframe": MARCH}}}
    response = await client.post("/api/form-values-reports", json=body, headers=H)
    assert response.status_code == 200, response.text
    assert response_errors(compiled, spec, "/api/form-values-reports", "post", 200, response.json()) == []
    assert response.json()["data"]["attributes"]["results"] == [
        {"groupings": {"form_id": "FA"}, "statistics": {"viewed_form": 3, "viewed_form_uniques": 2, "submits": 1,
                                                        "submit_rate": 0.333333}},
        {"groupings": {"form_id": "FB"}, "statistics": {"viewed_form": 1, "viewed_form_uniques": 1, "submits": 0,
                                                        "submit_rate": 0.0}},
    ]  # fmt: skip
    body["data"]["attributes"] |= {"group_by": ["form_id", "form_version_id"], "filter": "equals(form_id,'FA')"}
    by_version = await client.post("/api/form-values-reports", json=body, headers=H)
    rows = {
        r["groupings"]["form_version_id"]: r["statistics"]["viewed_form"]
        for r in by_version.json()["data"]["attributes"]["results"]
    }
    assert rows == {"V1": 2, "V2": 1}


@pytest.mark.mirror
async def test_reports_on_a_revision_without_group_by(mirror: Path) -> None:
    """Older revisions have no `group_by`: the fields their filter's description allows group the rows."""
    spec = next((s for p in sorted(mirror.glob("*/openapi/stable.json")) if (s := _old_style(p))), None)
    assert spec is not None, "no mirrored revision with a campaign values report without group_by"
    behaviour = StatefulBehaviour(spec)
    with behaviour.store.transaction() as tx:
        for record in SEED:
            relationships = {}
            for name, value in (record.get("relationships") or {}).items():
                many = isinstance(value["data"], list)
                relationships[name] = {"many": many, "data": value["data"] if many else [value["data"]]}
            tx.put("a", {**record, "relationships": relationships})
        tx.put("a", {"type": "metric", "id": "RCV", "attributes": {"name": "Received Email"}})
        tx.put("a", {"type": "metric", "id": "PO", "attributes": {"name": "Placed Order"}})
        for n, pid in enumerate(("p1", "p2")):
            tx.put("a", {
                "type": "event", "id": f"e{n}",
                "attributes": {"datetime": "2026-03-01T10:00:00+00:00", "event_properties": {"$message": "CM1"}},
                "relationships": {"metric": {"many": False, "data": [{"type": "metric", "id": "RCV"}]},
                                  "profile": {"many": False, "data": [{"type": "profile", "id": pid}]}},
            })  # fmt: skip
    body = {"data": {"type": "campaign-values-report", "attributes": {
        "statistics": ["delivered"], "timeframe": MARCH, "conversion_metric_id": "PO"}}}  # fmt: skip
    request = MockRequest(
        "query_campaign_values", "post", "/api/campaign-values-reports", {}, {}, {}, body, "a", "api_key", "x",
        "http://m",
    )  # fmt: skip
    response = await behaviour.handle(request)
    assert response is not None and response.status == 200, response and response.body
    results = response.body["data"]["attributes"]["results"]
    assert [r["statistics"] for r in results] == [{"delivered": 2}]
    assert results[0]["groupings"]["campaign_id"] == "C1" and results[0]["groupings"]["send_channel"] == "email"


def _old_style(path: Path) -> dict[str, Any] | None:
    """The revision's spec when its campaign values report has no `group_by`."""
    spec = apply_overlay(load_spec(path), copy_spec=False).spec
    for op in iter_operations(spec):
        if op.operation_id == "query_campaign_values":
            schema = json_body_schema(spec, op.node.get("requestBody"))
            return spec if "group_by" not in (attribute_schema_of(spec, schema).get("properties") or {}) else None
    return None


# Segment reports: membership intervals (joined, left) worked out by hand. S1's members are stored (a definition
# the mock cannot evaluate); p2 left on Mar 1 08:00 and joined again on Mar 2 09:00, p4 left on Mar 2 12:00.
SEGMENT_SEED = [
    {"type": "segment", "id": "S1", "attributes": {"name": "Buyers", "created": "2026-02-01T00:00:00+00:00"},
     "relationships": {"profiles": {"many": True, "data": [{"type": "profile", "id": p} for p in ("p1", "p2", "p3")],
                                    "joined": {"p1": "2026-03-01T10:00:00+00:00", "p2": "2026-03-02T09:00:00+00:00",
                                               "p3": "2026-03-05T00:00:00+00:00"}}}},
    {"type": "segment", "id": "S2", "attributes": {"name": "Old", "created": "2026-02-01T00:00:00+00:00"},
     "relationships": {"profiles": {"many": True, "data": [{"type": "profile", "id": "p1"}],
                                    "joined": {"p1": "2026-02-10T00:00:00+00:00"}}}},
    *({"type": REMOVAL_TYPE, "id": f"r{n}", "attributes": {"group_type": "segment", "group_id": "S1",
                                                           "profile_id": pid, "joined_at": joined, "removed_at": left}}
      for n, (pid, joined, left) in enumerate([("p4", "2026-02-20T00:00:00+00:00", "2026-03-02T12:00:00+00:00"),
                                               ("p2", "2026-02-25T00:00:00+00:00", "2026-03-01T08:00:00+00:00")])),
]  # fmt: skip
SEGMENT_STATISTICS = ["total_members", "members_added", "members_removed", "net_members_changed"]


def _segment_history(behaviour: StatefulBehaviour) -> None:
    account = account_for_name("api_key:pk_test_one")
    assert account is not None
    with behaviour.store.transaction() as tx:
        for record in SEGMENT_SEED:
            tx.put(account, {"relationships": {}, **record})


def segment_report(rtype: str, **extra: Any) -> dict[str, Any]:
    return {"data": {"type": rtype, "attributes": {"statistics": SEGMENT_STATISTICS, "timeframe": MARCH, **extra}}}


async def test_segment_values_count_joins_and_departures(
    client: httpx.AsyncClient, behaviour: StatefulBehaviour, compiled: CompiledSpec, spec: dict[str, Any]
) -> None:
    _segment_history(behaviour)
    response = await client.post("/api/segment-values-reports", json=segment_report("segment-values-report"), headers=H)
    assert response.status_code == 200, response.text
    assert response_errors(compiled, spec, "/api/segment-values-reports", "post", 200, response.json()) == []
    assert response.json()["data"]["type"] == "segment-values-report"
    assert response.json()["data"]["attributes"]["results"] == [
        # Joined in March: p1, p2 (again); left in March: p2 (Mar 1), p4. Members on Mar 4: p1, p2 (p3 joins
        # on Mar 5). On Mar 1 there were p2 and p4: 2 + 0 = 2.
        {"groupings": {"segment_id": "S1"},
         "statistics": {"total_members": 2, "members_added": 2, "members_removed": 2, "net_members_changed": 0}},
        {"groupings": {"segment_id": "S2"},
         "statistics": {"total_members": 1, "members_added": 0, "members_removed": 0, "net_members_changed": 0}},
    ]  # fmt: skip


async def test_segment_series_and_filters(
    client: httpx.AsyncClient, behaviour: StatefulBehaviour, compiled: CompiledSpec, spec: dict[str, Any]
) -> None:
    _segment_history(behaviour)
    body = segment_report("segment-series-report", interval="daily", filter='equals(segment_id,"S1")')
    response = await client.post("/api/segment-series-reports", json=body, headers=H)
    assert response.status_code == 200, response.text
    assert response_errors(compiled, spec, "/api/segment-series-reports", "post", 200, response.json()) == []
    attributes = response.json()["data"]["attributes"]
    assert attributes["date_times"] == [f"2026-03-0{d}T00:00:00+00:00" for d in (1, 2, 3)]
    assert attributes["results"] == [
        # Mar 1: p1 joins, p2 leaves (members at its end: p1, p4); Mar 2: p2 joins, p4 leaves (p1, p2); Mar 3: -.
        {"groupings": {"segment_id": "S1"},
         "statistics": {"total_members": [2, 2, 2], "members_added": [1, 1, 0], "members_removed": [1, 1, 0],
                        "net_members_changed": [0, 0, 0]}},
    ]  # fmt: skip
    both = segment_report("segment-values-report", filter='any(segment_id,["S2","S9"])')
    rows = (await client.post("/api/segment-values-reports", json=both, headers=H)).json()["data"]["attributes"]
    assert [r["groupings"] for r in rows["results"]] == [{"segment_id": "S2"}]
    refused = {
        'equals(segment_id,"S1"),equals(segment_id,"S2")': "one filter",
        'contains(segment_id,"S")': "operator",
        'equals(segment_name,"Buyers")': "segment_name",
        "any(segment_id,[" + ",".join(f'"S{n}"' for n in range(101)) + "])": "100",
    }
    for text, why in refused.items():
        answer = await client.post(
            "/api/segment-values-reports", json=segment_report("segment-values-report", filter=text), headers=H
        )
        assert answer.status_code == 400, (text, answer.text)
        error = answer.json()["errors"][0]
        assert why in error["detail"] and error["source"]["pointer"] == "/data/attributes/filter", error
    too_long = segment_report("segment-series-report", interval="daily")
    too_long["data"]["attributes"]["timeframe"] = {"start": "2026-01-01T00:00:00", "end": "2026-03-15T00:00:00"}
    answer = await client.post("/api/segment-series-reports", json=too_long, headers=H)
    assert answer.status_code == 400 and "60 days" in answer.json()["errors"][0]["detail"]


async def test_segment_reports_follow_a_computed_segment(client: httpx.AsyncClient) -> None:
    """A segment defined by list membership: leaving the list is a departure the next report counts."""
    made = await client.post("/api/lists", json={"data": {"type": "list", "attributes": {"name": "VIP"}}}, headers=H)
    lid = made.json()["data"]["id"]
    pids = []
    for email in ("a@example.com", "b@example.com"):
        body = {"data": {"type": "profile", "attributes": {"email": email}}}
        pids.append((await client.post("/api/profiles", json=body, headers=H)).json()["data"]["id"])
    refs = {"data": [{"type": "profile", "id": pid} for pid in pids]}
    assert (await client.post(f"/api/lists/{lid}/relationships/profiles", json=refs, headers=H)).status_code == 204
    condition = {"type": "profile-group-membership", "is_member": True, "group_ids": [lid]}
    definition = {"condition_groups": [{"conditions": [condition]}]}
    segment = {"data": {"type": "segment", "attributes": {"name": "VIP members", "definition": definition}}}
    made = await client.post("/api/segments", json=segment, headers=H)
    assert made.status_code == 201, made.text
    now = dt.datetime.now(dt.UTC)
    window = {"start": (now - dt.timedelta(hours=1)).isoformat(), "end": (now + dt.timedelta(hours=1)).isoformat()}
    body = segment_report("segment-values-report", timeframe=window)

    async def statistics() -> dict[str, Any]:
        response = await client.post("/api/segment-values-reports", json=body, headers=H)
        assert response.status_code == 200, response.text
        (row,) = response.json()["data"]["attributes"]["results"]
        assert row["groupings"] == {"segment_id": made.json()["data"]["id"]}
        return dict(row["statistics"])

    assert await statistics() == {"total_members": 2, "members_added": 2, "members_removed": 0,
                                  "net_members_changed": 2}  # fmt: skip
    gone = {"data": [{"type": "profile", "id": pids[1]}]}
    assert (await client.request("DELETE", f"/api/lists/{lid}/relationships/profiles", json=gone, headers=H)).is_success
    assert await statistics() == {"total_members": 1, "members_added": 2, "members_removed": 1,
                                  "net_members_changed": 1}  # fmt: skip
    assert (await client.post(f"/api/lists/{lid}/relationships/profiles", json=gone, headers=H)).status_code == 204
    assert await statistics() == {"total_members": 2, "members_added": 3, "members_removed": 1,
                                  "net_members_changed": 2}  # fmt: skip


async def test_a_profile_that_stops_matching_leaves_when_it_changed(
    client: httpx.AsyncClient, behaviour: StatefulBehaviour
) -> None:
    pids = {}
    for name in ("Asha", "Ben"):
        body = {"data": {"type": "profile", "attributes": {"email": f"{name}@example.com", "first_name": name}}}
        pids[name] = (await client.post("/api/profiles", json=body, headers=H)).json()["data"]["id"]
    condition = {
        "type": "profile-property",
        "property": "first_name",
        "filter": {"type": "string", "operator": "equals", "value": "Asha"},
    }
    segment = {"data": {"type": "segment", "attributes": {"name": "Ashas", "definition": {
        "condition_groups": [{"conditions": [condition]}]}}}}  # fmt: skip
    assert (await client.post("/api/segments", json=segment, headers=H)).status_code == 201
    now = dt.datetime.now(dt.UTC)
    window = {"start": (now - dt.timedelta(hours=1)).isoformat(), "end": (now + dt.timedelta(hours=1)).isoformat()}
    body = segment_report("segment-values-report", timeframe=window)

    async def statistics() -> list[int]:
        (row,) = (await client.post("/api/segment-values-reports", json=body, headers=H)).json()["data"]["attributes"][
            "results"
        ]
        return [row["statistics"][s] for s in ("total_members", "members_added", "members_removed")]

    assert await statistics() == [1, 1, 0]
    rename = {"data": {"type": "profile", "id": pids["Asha"], "attributes": {"first_name": "Ana"}}}
    renamed = await client.patch(f"/api/profiles/{pids['Asha']}", json=rename, headers=H)
    assert await statistics() == [0, 1, 1]
    account = account_for_name("api_key:pk_test_one")
    assert account is not None
    with behaviour.store.transaction(write=False) as tx:
        (removal,) = tx.scan(account, REMOVAL_TYPE)
    assert removal["attributes"]["profile_id"] == pids["Asha"]
    assert removal["attributes"]["removed_at"] == renamed.json()["data"]["attributes"]["updated"]
    rename = {"data": {"type": "profile", "id": pids["Ben"], "attributes": {"first_name": "Asha"}}}
    await client.patch(f"/api/profiles/{pids['Ben']}", json=rename, headers=H)
    assert await statistics() == [1, 2, 1]


async def test_a_member_with_no_known_join_time_counts_all_along(
    client: httpx.AsyncClient, behaviour: StatefulBehaviour
) -> None:
    account = account_for_name("api_key:pk_test_one")
    assert account is not None
    with behaviour.store.transaction() as tx:
        members = {"many": True, "data": [{"type": "profile", "id": "p1"}]}  # no `joined`, no `created`
        tx.put(account, {"type": "segment", "id": "S3", "attributes": {}, "relationships": {"profiles": members}})
    response = await client.post("/api/segment-values-reports", json=segment_report("segment-values-report"), headers=H)
    assert response.json()["data"]["attributes"]["results"] == [
        {"groupings": {"segment_id": "S3"},
         "statistics": {"total_members": 1, "members_added": 0, "members_removed": 0, "net_members_changed": 0}},
    ]  # fmt: skip


async def test_leaving_a_list_is_recorded_with_its_join_time(
    client: httpx.AsyncClient, behaviour: StatefulBehaviour
) -> None:
    """The history a list-based report would count from: who left, when they had joined, and when they left."""
    lid = (
        await client.post("/api/lists", json={"data": {"type": "list", "attributes": {"name": "L"}}}, headers=H)
    ).json()["data"]["id"]
    body = {"data": {"type": "profile", "attributes": {"email": "a@example.com"}}}
    pid = (await client.post("/api/profiles", json=body, headers=H)).json()["data"]["id"]
    refs = {"data": [{"type": "profile", "id": pid}]}
    await client.post(f"/api/lists/{lid}/relationships/profiles", json=refs, headers=H)
    (member,) = (await client.get(f"/api/lists/{lid}/profiles", headers=API_KEY)).json()["data"]
    await client.request("DELETE", f"/api/lists/{lid}/relationships/profiles", json=refs, headers=H)
    await client.request("DELETE", f"/api/lists/{lid}/relationships/profiles", json=refs, headers=H)  # not a member
    account = account_for_name("api_key:pk_test_one")
    assert account is not None
    with behaviour.store.transaction(write=False) as tx:
        (removal,) = [r["attributes"] for r in tx.scan(account, REMOVAL_TYPE)]
    assert (removal["group_type"], removal["group_id"], removal["profile_id"]) == ("list", lid, pid)
    assert removal["joined_at"] == member["attributes"]["joined_group_at"] <= removal["removed_at"]
