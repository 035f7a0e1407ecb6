"""Tracking events: metric by name, profile by identifiers, time/value/properties/unique_id, relationships."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server import account_for_name
from mock_server._compile import CompiledSpec
from mock_server.state import SqliteStore, StatefulBehaviour, Store
from mock_server.state._store import BatchingTx, Record, StoreTx

from .conftest import ADMIN, API_KEY, JSONAPI, STORE_KINDS, core_client

H = {**API_KEY, **JSONAPI}


def event_body(
    metric: str, profile: dict[str, Any], *, unique_id: str | None = None, value: float | None = None, **extra: Any
) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "properties": {"Brand": "Kids Book", "ProductID": 1111},
        "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
        "profile": {"data": {"type": "profile", "attributes": profile}},
        **extra,
    }
    if unique_id is not None:
        attributes["unique_id"] = unique_id
    if value is not None:
        attributes["value"] = value
    return {"data": {"type": "event", "attributes": attributes}}


async def test_an_event_creates_its_metric_and_profile_and_reads_back(client: httpx.AsyncClient) -> None:
    body = event_body(
        "Placed Order",
        {"email": "priya@example.com", "first_name": "Priya"},
        unique_id="order-1",
        value=9.99,
        time="2026-03-01T12:30:45.678+05:30",
    )
    assert (await client.post("/api/events", json=body, headers=H)).status_code == 202

    metrics = (await client.get("/api/metrics", headers=API_KEY)).json()["data"]
    assert [m["attributes"]["name"] for m in metrics] == ["Placed Order"]
    profiles = (await client.get("/api/profiles", headers=API_KEY)).json()["data"]
    assert [(p["attributes"]["email"], p["attributes"]["first_name"]) for p in profiles] == [
        ("priya@example.com", "Priya")
    ]

    events = (await client.get("/api/events", headers=API_KEY)).json()["data"]
    assert len(events) == 1
    event = events[0]["attributes"]
    assert event["datetime"] == "2026-03-01T07:00:45+00:00"  # truncated to the second, in UTC
    assert event["timestamp"] == 1772348445
    assert event["uuid"] and event["event_properties"]["Brand"] == "Kids Book"
    assert event["event_properties"]["$value"] == 9.99

    eid = events[0]["id"]
    metric = (await client.get(f"/api/events/{eid}/metric", headers=API_KEY)).json()["data"]
    profile = (await client.get(f"/api/events/{eid}/profile", headers=API_KEY)).json()["data"]
    assert metric["id"] == metrics[0]["id"] and profile["id"] == profiles[0]["id"]
    by_metric = await client.get(
        "/api/events", params={"filter": f'equals(metric_id,"{metric["id"]}")'}, headers=API_KEY
    )
    assert [e["id"] for e in by_metric.json()["data"]] == [eid]
    by_profile = await client.get(
        "/api/events", params={"filter": f'equals(profile_id,"{profile["id"]}")'}, headers=API_KEY
    )
    assert [e["id"] for e in by_profile.json()["data"]] == [eid]


async def test_the_same_metric_and_profile_are_reused_and_unique_id_counts_once(client: httpx.AsyncClient) -> None:
    first = event_body("Opened Email", {"email": "sam@example.com"}, unique_id="u-1")
    for _ in range(2):
        assert (await client.post("/api/events", json=first, headers=H)).status_code == 202
    second = event_body("Opened Email", {"email": "sam@example.com", "last_name": "Lee"}, unique_id="u-2")
    assert (await client.post("/api/events", json=second, headers=H)).status_code == 202

    assert len((await client.get("/api/metrics", headers=API_KEY)).json()["data"]) == 1
    profiles = (await client.get("/api/profiles", headers=API_KEY)).json()["data"]
    assert len(profiles) == 1 and profiles[0]["attributes"]["last_name"] == "Lee"
    assert len((await client.get("/api/events", headers=API_KEY)).json()["data"]) == 2


async def test_an_event_for_an_existing_profile_by_id(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/profiles", json={"data": {"type": "profile", "attributes": {"email": "a@example.com"}}}, headers=H
    )
    pid = created.json()["data"]["id"]
    body = event_body("Viewed Product", {})
    body["data"]["attributes"]["profile"]["data"]["id"] = pid
    assert (await client.post("/api/events", json=body, headers=H)).status_code == 202
    events = await client.get("/api/events", params={"filter": f'equals(profile_id,"{pid}")'}, headers=API_KEY)
    assert len(events.json()["data"]) == 1
    assert len((await client.get("/api/profiles", headers=API_KEY)).json()["data"]) == 1


async def test_bulk_create_job_tracks_every_event(client: httpx.AsyncClient) -> None:
    def events(email: str, *metrics: str) -> tuple[str, list[tuple[str, str]]]:
        return email, [(m, f"{email}-{m}") for m in metrics]

    body = _bulk_job(events("a@example.com", "Opened Email", "Clicked Email"), events("b@example.com", "Opened Email"))
    assert (await client.post("/api/event-bulk-create-jobs", json=body, headers=H)).status_code == 202
    assert len((await client.get("/api/events", headers=API_KEY)).json()["data"]) == 3
    assert len((await client.get("/api/metrics", headers=API_KEY)).json()["data"]) == 2
    assert len((await client.get("/api/profiles", headers=API_KEY)).json()["data"]) == 2


async def test_an_event_without_a_profile_identifier_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/events", json=event_body("Opened Email", {}), headers=H)
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"]["pointer"].startswith("/data/attributes/profile")


async def test_client_events_track_into_the_company_account(client: httpx.AsyncClient) -> None:
    body = event_body("Viewed Product", {"email": "web@example.com"}, unique_id="v-1")
    body["data"]["attributes"]["metric"]["data"]["type"] = "metric"
    sent = await client.post(
        "/client/events",
        params={"company_id": "XyZ123"},
        json=body,
        headers=JSONAPI | {"revision": API_KEY["revision"]},
    )
    assert sent.status_code == 202, sent.text
    state = (await client.get("/__mock__/state", params={"account": "company:XyZ123"}, headers=ADMIN)).json()
    kinds = sorted({r["type"] for r in state["accounts"][account_for_name("company:XyZ123")]})
    assert kinds == ["event", "metric", "metric-property", "profile"]


async def test_client_bulk_create_tracks_each_event(client: httpx.AsyncClient) -> None:
    def event(metric: str, n: int) -> dict[str, Any]:
        return {
            "type": "event",
            "attributes": {
                "properties": {"n": n},
                "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
                "unique_id": f"c-{n}",
            },
        }

    body = {
        "data": {
            "type": "event-bulk-create",
            "attributes": {
                "profile": {"data": {"type": "profile", "attributes": {"email": "web@example.com"}}},
                "events": {"data": [event("Viewed Product", 1), event("Added to Cart", 2), event("Added to Cart", 2)]},
            },
        }
    }
    sent = await client.post(
        "/client/event-bulk-create", params={"company_id": "XyZ123"}, json=body,
        headers=JSONAPI | {"revision": API_KEY["revision"]},
    )  # fmt: skip
    assert sent.status_code == 202, sent.text
    state = (await client.get("/__mock__/state", params={"account": "company:XyZ123"}, headers=ADMIN)).json()
    records = state["accounts"][account_for_name("company:XyZ123")]
    assert sorted(r["attributes"]["name"] for r in records if r["type"] == "metric") == [
        "Added to Cart",
        "Viewed Product",
    ]
    assert len([r for r in records if r["type"] == "event"]) == 2  # the repeated unique_id counted once
    assert len([r for r in records if r["type"] == "profile"]) == 1


async def test_events_metrics_and_properties_read_back_through_every_endpoint(client: httpx.AsyncClient) -> None:
    body = event_body("Placed Order", {"email": "priya@example.com"}, unique_id="o-1", value=12.5)
    assert (await client.post("/api/events", json=body, headers=H)).status_code == 202
    listed = await client.get("/api/events", params={"include": "metric,profile"}, headers=API_KEY)
    document = listed.json()
    event = document["data"][0]
    assert event["attributes"]["timestamp"] and event["attributes"]["datetime"] and event["attributes"]["uuid"]
    assert event["attributes"]["event_properties"]["ProductID"] == 1111
    metric_id = event["relationships"]["metric"]["data"]["id"]
    profile_id = event["relationships"]["profile"]["data"]["id"]
    assert {(r["type"], r["id"]) for r in document["included"]} == {("metric", metric_id), ("profile", profile_id)}

    eid = event["id"]
    for path, expected in (
        (f"/api/events/{eid}/relationships/metric", {"type": "metric", "id": metric_id}),
        (f"/api/events/{eid}/relationships/profile", {"type": "profile", "id": profile_id}),
    ):
        assert (await client.get(path, headers=API_KEY)).json()["data"] == expected

    # A metric tracked through the API shows the API integration, and filters on it.
    by_integration = await client.get(
        "/api/metrics", params={"filter": "equals(integration.name,'API')"}, headers=API_KEY
    )
    assert [m["id"] for m in by_integration.json()["data"]] == [metric_id]
    none = await client.get("/api/metrics", params={"filter": "equals(integration.name,'Shopify')"}, headers=API_KEY)
    assert none.json()["data"] == []

    # The metric's properties are the event properties seen, with their types and sample values.
    properties = await client.get(
        f"/api/metrics/{metric_id}/metric-properties", params={"additional-fields[metric-property]": "sample_values"},
        headers=API_KEY,
    )  # fmt: skip
    assert properties.status_code == 200, properties.text
    seen = {p["attributes"]["property"]: p["attributes"] for p in properties.json()["data"]}
    assert seen["ProductID"]["inferred_type"] == "Number" and seen["ProductID"]["sample_values"] == [1111]
    assert seen["Brand"]["sample_values"] == ["Kids Book"]
    one = next(iter(properties.json()["data"]))
    back = await client.get(f"/api/metric-properties/{one['id']}/relationships/metric", headers=API_KEY)
    assert back.json()["data"] == {"type": "metric", "id": metric_id}

    # A filter the relationship endpoint does not take is refused, not ignored.
    refused = await client.get(
        f"/api/events/{eid}/relationships/metric", params={"filter": "equals(name,'x')"}, headers=API_KEY
    )
    assert refused.status_code == 400


async def test_a_seeded_event_reads_back_without_nulls(client: httpx.AsyncClient) -> None:
    seed = [
        {"type": "event", "id": "EV1", "attributes": {"timestamp": 1767348000}},
        {"type": "event", "id": "EV2", "attributes": {"datetime": "2026-01-02T10:00:00+02:00", "uuid": None}},
    ]
    loaded = await client.post("/__mock__/state", json={"accounts": {"api_key:pk_test_one": seed}}, headers=API_KEY)
    assert loaded.status_code == 200, loaded.text
    events = {e["id"]: e["attributes"] for e in (await client.get("/api/events", headers=API_KEY)).json()["data"]}
    assert events["EV1"]["datetime"] == "2026-01-02T10:00:00+00:00" and events["EV2"]["timestamp"] == 1767340800
    for attributes in events.values():
        assert all(attributes[k] is not None for k in ("timestamp", "datetime", "uuid", "event_properties"))


async def test_an_event_time_outside_the_calendar_is_400(client: httpx.AsyncClient) -> None:
    for time in ("0001-01-01T00:00:00+05:00", "not a time"):
        body = event_body("Opened Email", {"email": "a@example.com"}, time=time)
        response = await client.post("/api/events", json=body, headers=H)
        assert response.status_code == 400, (time, response.text)
        assert response.json()["errors"][0]["source"]["pointer"] == "/data/attributes/time"


class _WriteCounting(SqliteStore):
    """A SQLite store that counts the writes its transactions make (`put` one by one, `put_many` batches).
    (SQL is where batching pays: over the memory store a batching transaction writes straight through.)"""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.writes: dict[str, int] = {"put": 0, "put_many": 0}

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[StoreTx]:
        with super().transaction(write=write) as tx:
            put, put_many = tx.put, tx.put_many

            inside = [False]  # (in case `put_many` calls `put` for each record)

            def counted_put(account: str, record: Record) -> Record:
                self.writes["put"] += not inside[0]
                return put(account, record)

            def counted_put_many(account: str, records: list[Record]) -> None:
                self.writes["put_many"] += 1
                inside[0] = True
                try:
                    put_many(account, records)
                finally:
                    inside[0] = False

            tx.put, tx.put_many = counted_put, counted_put_many  # type: ignore[method-assign]
            yield tx


def _bulk_job(*entries: tuple[str, list[tuple[str, str]]]) -> dict[str, Any]:
    def entry(email: str, events: list[tuple[str, str]]) -> dict[str, Any]:
        return {
            "type": "event-bulk-create",
            "attributes": {
                "profile": {"data": {"type": "profile", "attributes": {"email": email}}},
                "events": {
                    "data": [
                        {
                            "type": "event",
                            "attributes": {
                                "properties": {"n": unique},
                                "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
                                "unique_id": unique,
                            },
                        }
                        for metric, unique in events
                    ]
                },
            },
        }

    data = [entry(email, events) for email, events in entries]
    return {"data": {"type": "event-bulk-create-job", "attributes": {"events-bulk-create": {"data": data}}}}


async def test_bulk_create_is_one_batched_write(
    compiled: CompiledSpec, make_behaviour: Callable[..., StatefulBehaviour], tmp_path: Path
) -> None:
    store = _WriteCounting(tmp_path / "state.db")
    async with core_client(compiled, make_behaviour(store)) as client:
        body = _bulk_job(
            ("a@example.com", [("Opened Email", "o-1"), ("Clicked Email", "c-1"), ("Opened Email", "o-1")]),
            ("b@example.com", [("Opened Email", "o-1"), ("Opened Email", "o-2")]),
        )
        store.writes = {"put": 0, "put_many": 0}
        assert (await client.post("/api/event-bulk-create-jobs", json=body, headers=H)).status_code == 202
        # Everything the job made (events, profiles, metrics, metric properties) went in one `put_many`.
        assert store.writes == {"put": 0, "put_many": 1}
        events = (await client.get("/api/events", headers=API_KEY, params={"include": "profile"})).json()
        # The repeated unique_id of a's Opened Email counts once, also inside one batch; b's o-1 is its own.
        assert len(events["data"]) == 4
        assert len((await client.get("/api/metrics", headers=API_KEY)).json()["data"]) == 2
        assert len((await client.get("/api/profiles", headers=API_KEY)).json()["data"]) == 2
        properties = (await client.get("/__mock__/state", headers=ADMIN)).json()["accounts"]
        kinds = [r["type"] for records in properties.values() for r in records]
        assert kinds.count("metric-property") == 2  # `n` of each metric, once
        # A second job sees what the first stored (the same profiles, metrics and unique ids).
        assert (await client.post("/api/event-bulk-create-jobs", json=body, headers=H)).status_code == 202
        assert len((await client.get("/api/events", headers=API_KEY)).json()["data"]) == 4


@pytest.mark.parametrize("kind", STORE_KINDS)
def test_batched_referencing_answers_from_held_writes(kind: str, open_any_store: Callable[[str], Store]) -> None:
    """What the bulk path relies on: inside a batch, `referencing` sees the held records (new ones after the
    stored ones), a held version replaces the stored one, and nothing is written before `flush`."""

    def event(rid: str, profile: str) -> Record:
        rel = {"many": False, "data": [{"type": "profile", "id": profile}]}
        return {"type": "event", "id": rid, "attributes": {}, "relationships": {"profile": rel}}

    store = open_any_store(kind)
    with store.transaction() as tx:
        tx.put("a", event("E1", "P1"))
        tx.put("a", event("E2", "P1"))
    with store.transaction() as tx:
        batch = BatchingTx(tx)
        batch.put("a", event("E3", "P1"))
        batch.put("a", event("E2", "P2"))  # moved away from P1
        assert [r["id"] for r in batch.referencing("a", "event", "profile", "P1")] == ["E1", "E3"]
        assert [r["id"] for r in batch.referencing("a", "event", "profile", "P2")] == ["E2"]
        # Not yet stored in SQL; over the memory store a batch writes straight through (no round trip to save).
        direct = ["E1", "E3"] if kind == "memory" else ["E1", "E2"]
        assert [r["id"] for r in tx.referencing("a", "event", "profile", "P1")] == direct
        batch.put("a", event("E4", "P1"))
        assert [r["id"] for r in batch.referencing("a", "event", "profile", "P1")] == ["E1", "E3", "E4"]
        batch.flush()
    with store.transaction(write=False) as tx:
        assert [r["id"] for r in tx.referencing("a", "event", "profile", "P1")] == ["E1", "E3", "E4"]
