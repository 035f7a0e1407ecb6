"""A third-party ELT connector's full sync against the default mock, holding every stream to the account's state.

Nobody here wrote the connectors users point at the mock. This test reads a demo account the way the declarative
Klaviyo connectors of ELT tools do (Airbyte's `source-klaviyo` is the model: its request shapes, not its code),
which differ from the official SDKs in ways a mock can get wrong:
- an older revision header (`2024-10-15`) and `Accept: application/json`;
- incremental windows as a comma-joined filter, `greater-or-equal(datetime,A),less-than(datetime,B)`, with
  offsets spelled `+0000` (no colon);
- partitions by filter (`equals(messages.channel,'sms')` x `equals(archived,true)`), whose union must be
  the whole collection;
- the next page requested as the full `links.next` URL, until there is none; a 429 waits `Retry-After`.
A stream that silently drops records looks like a successful sync, so each stream is compared, id for id, with
the account's own state (`GET /__mock__/state`), never only with "not empty".
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from contract_tests import MockProcess, running_mock

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

CONNECTOR_REVISION = "2024-10-15"
START = datetime(2012, 1, 1, tzinfo=UTC)  # a connector's default start date: before anything in the account
OFFSET_FORMAT = "%Y-%m-%dT%H:%M:%S+0000"


class Connector:
    """The HTTP side of a declarative connector: fixed headers, cursor pagination by URL, Retry-After."""

    def __init__(self, mock: MockProcess) -> None:
        self.client = httpx.Client(
            base_url=mock.base_url + "/api/",
            headers={
                "Authorization": f"Klaviyo-API-Key {mock.api_key}",
                "Accept": "application/json",
                "Revision": CONNECTOR_REVISION,
            },
            timeout=60,
        )
        self.requests = 0
        self.pages: Counter[str] = Counter()

    def get(self, url: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        for _ in range(20):
            self.requests += 1
            response = self.client.get(url, params=params)
            if response.status_code == 429:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            assert response.status_code == 200, f"GET {response.request.url}: {response.status_code} {response.text}"
            body: dict[str, Any] = response.json()
            return body
        raise AssertionError(f"GET {url}: still rate limited after 20 attempts")

    def read(self, path: str, params: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every page of a stream: the first by path and parameters, then each `links.next` URL as it is."""
        body = self.get(path, params)
        while True:
            self.pages[path] += 1
            yield body
            following = (body.get("links") or {}).get("next")
            if not following:
                return
            body = self.get(following)

    def records(self, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        return [record for page in self.read(path, params) for record in page["data"]]


def _windows(start: datetime, end: datetime, step: timedelta) -> Iterator[tuple[str, str]]:
    while start < end:
        stop = min(start + step, end)
        yield start.strftime(OFFSET_FORMAT), stop.strftime(OFFSET_FORMAT)
        start = stop


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [str(record["id"]) for record in records]


# The connector's revision (2024-10-15) served by the pinned spec alone, and by the older revision that Klaviyo
# would serve it with (2024-07-15, the newest on or before it) when the mock loads several.
# (`kdk mock --revisions` is exercised here through the CLI, as a user starts it.)
SERVED = {"pinned": [], "2024-07-15": ["--revisions", "2024-07-15,2026-07-15"]}


@pytest.fixture(scope="module", params=list(SERVED))
def account(request: pytest.FixtureRequest) -> Iterator[tuple[Connector, dict[str, list[dict[str, Any]]]]]:
    """A 1,000-profile demo account (about 10,000 events: several pages per stream) and its state by type."""
    with running_mock(extra_args=["--demo-data", "1k", *SERVED[request.param]], api_key="pk_test") as mock:
        probe = mock.request("GET", "/api/metrics", headers={"revision": CONNECTOR_REVISION})
        served = mock.revision if request.param == "pinned" else request.param
        assert probe.status_code == 200 and probe.headers["revision"] == served, (probe.status_code, probe.headers)
        exported = mock.request("GET", "/__mock__/state")
        assert exported.status_code == 200, exported.text
        (records,) = exported.json()["accounts"].values()
        by_type: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_type.setdefault(record["type"], []).append(record)
        assert len(by_type["profile"]) >= 1_000 and len(by_type["event"]) >= 5_000, {
            t: len(v) for t, v in by_type.items()
        }
        yield Connector(mock), by_type


def test_profiles_incremental_with_subscriptions(account: tuple[Connector, dict[str, list[dict[str, Any]]]]) -> None:
    connector, state = account
    params = {
        "additional-fields[profile]": "subscriptions,predictive_analytics",
        "filter": f"greater-than(updated,{START.strftime(OFFSET_FORMAT)})",
        "sort": "updated",
        "page[size]": "100",
    }
    profiles = connector.records("profiles", params)
    assert sorted(_ids(profiles)) == sorted(_ids(state["profile"]))
    assert connector.pages["profiles"] >= 10
    updated = [p["attributes"]["updated"] for p in profiles]
    assert updated == sorted(updated, key=datetime.fromisoformat)
    assert all("subscriptions" in p["attributes"] for p in profiles)


def test_global_exclusions_are_the_suppressed_profiles(
    account: tuple[Connector, dict[str, list[dict[str, Any]]]],
) -> None:
    connector, state = account
    profiles = connector.records("profiles", {"additional-fields[profile]": "subscriptions", "page[size]": "100"})
    suppressed = {p["id"] for p in profiles if p["attributes"]["subscriptions"]["email"]["marketing"]["suppression"]}
    expected = {
        p["id"]
        for p in state["profile"]
        if ((p["attributes"].get("subscriptions") or {}).get("email") or {}).get("marketing", {}).get("suppression")
    }
    assert expected and suppressed == expected


def test_events_in_weekly_windows_add_up_to_every_event(
    account: tuple[Connector, dict[str, list[dict[str, Any]]]],
) -> None:
    connector, state = account
    times = [datetime.fromisoformat(e["attributes"]["datetime"]) for e in state["event"]]
    # Start at the week of the oldest event (from 2012 a weekly sync would be ~770 windows of nothing).
    first = min(times).replace(hour=0, minute=0, second=0, microsecond=0)
    seen: list[str] = []
    metrics: set[str] = set()
    for low, high in _windows(first, max(times) + timedelta(days=1), timedelta(days=7)):
        params = {
            "fields[event]": "event_properties,timestamp,uuid,datetime",
            "fields[metric]": "name,created,updated,integration",
            "include": "metric,attributions",
            "filter": f"greater-or-equal(datetime,{low}),less-than(datetime,{high})",
            "sort": "datetime",
        }
        for page in connector.read("events", params):
            stamps = [datetime.fromisoformat(e["attributes"]["datetime"]) for e in page["data"]]
            assert stamps == sorted(stamps)
            lower, upper = datetime.strptime(low, "%Y-%m-%dT%H:%M:%S%z"), datetime.strptime(high, "%Y-%m-%dT%H:%M:%S%z")
            assert all(lower <= s < upper for s in stamps), (low, high)
            for event in page["data"]:
                assert set(event["attributes"]) <= {"event_properties", "timestamp", "uuid", "datetime"}
                metrics.add(event["relationships"]["metric"]["data"]["id"])
            included = {(r["type"], r["id"]) for r in page.get("included") or []}
            for event in page["data"]:
                assert ("metric", event["relationships"]["metric"]["data"]["id"]) in included
            seen += _ids(page["data"])
    assert len(seen) == len(set(seen)), "an event was read in two windows"
    assert sorted(seen) == sorted(_ids(state["event"]))
    assert metrics <= set(_ids(state["metric"]))
    # One window over everything (a first sync with a long step): page after page by `links.next`.
    before = connector.pages["events"]
    low, high = first.strftime(OFFSET_FORMAT), (max(times) + timedelta(days=1)).strftime(OFFSET_FORMAT)
    window = {"filter": f"greater-or-equal(datetime,{low}),less-than(datetime,{high})", "sort": "datetime"}
    everything = connector.records("events", window)
    assert connector.pages["events"] - before >= 10
    assert len(set(_ids(everything))) == len(everything)  # no record on two pages
    assert sorted(_ids(everything)) == sorted(_ids(state["event"]))


def _partitioned(
    connector: Connector, path: str, cursor: str, partitions: list[str], step: timedelta
) -> dict[str, set[str]]:
    """partition filter -> the ids its windows read."""
    out: dict[str, set[str]] = {}
    for partition in partitions:
        found = out.setdefault(partition, set())
        for low, high in _windows(START, datetime.now(UTC) + timedelta(days=1), step):
            window = f"greater-or-equal({cursor},{low}),less-or-equal({cursor},{high})"
            found |= set(_ids(connector.records(path, {"filter": f"and({window},{partition})", "sort": cursor})))
    return out


def test_campaign_partitions_hold_exactly_their_campaigns(
    account: tuple[Connector, dict[str, list[dict[str, Any]]]],
) -> None:
    connector, state = account
    channels = {m["id"]: m["attributes"]["definition"]["channel"] for m in state["campaign-message"]}
    expected: dict[str, set[str]] = {}
    for campaign in state["campaign"]:
        (message,) = campaign["relationships"]["campaign-messages"]["data"]
        archived = str(campaign["attributes"]["archived"]).lower()
        key = f"equals(messages.channel,'{channels[message['id']]}'),equals(archived,{archived})"
        expected.setdefault(key, set()).add(campaign["id"])
    partitions = [
        f"equals(messages.channel,'{channel}'),equals(archived,{archived})"
        for channel in ("sms", "email")
        for archived in ("true", "false")
    ]
    assert len(expected) >= 3  # the demo account has SMS, email and archived campaigns
    read = _partitioned(connector, "campaigns", "updated_at", partitions, timedelta(days=60))
    assert read == {p: expected.get(p, set()) for p in partitions}


def test_flow_partitions_hold_exactly_their_flows(account: tuple[Connector, dict[str, list[dict[str, Any]]]]) -> None:
    connector, state = account
    partitions = ["equals(archived,true)", "equals(archived,false)"]
    read = _partitioned(connector, "flows", "updated", partitions, timedelta(days=30))
    expected: dict[str, set[str]] = {p: set() for p in partitions}
    for flow in state["flow"]:
        expected[f"equals(archived,{str(flow['attributes']['archived']).lower()})"].add(flow["id"])
    assert all(expected.values()) and read == expected


def test_flow_actions_and_messages(account: tuple[Connector, dict[str, list[dict[str, Any]]]]) -> None:
    """Each flow's actions (`include=flow-actions`) and each action's messages, as the state holds them."""
    connector, state = account
    actions = {a["id"]: a for a in state["flow-action"]}
    for flow in connector.records("flows", {"include": "flow-actions"}):
        held = {r["id"] for r in flow["relationships"]["flow-actions"]["data"]}
        assert held and held <= set(actions), flow["id"]
        for action_id in held:
            messages = connector.records(f"flow-actions/{action_id}/flow-messages")
            stored = actions[action_id]["relationships"].get("flow-messages", {}).get("data") or []
            assert sorted(_ids(messages)) == sorted(r["id"] for r in stored)


FULL_REFRESH = [("metrics", "metric"), ("lists", "list"), ("templates", "template")]


@pytest.mark.parametrize(("path", "resource_type"), FULL_REFRESH)
def test_full_refresh_streams(
    account: tuple[Connector, dict[str, list[dict[str, Any]]]], path: str, resource_type: str
) -> None:
    connector, state = account
    assert sorted(_ids(connector.records(path))) == sorted(_ids(state[resource_type]))


def test_list_profile_counts_match_their_members(
    account: tuple[Connector, dict[str, list[dict[str, Any]]]],
) -> None:
    connector, state = account
    counts = []
    for group in state["list"]:
        detailed = connector.get(f"lists/{group['id']}", {"additional-fields[list]": "profile_count"})
        members = connector.records(f"lists/{group['id']}/profiles", {"page[size]": "100"})
        counts.append(detailed["data"]["attributes"]["profile_count"])
        assert counts[-1] == len(members) == len(set(_ids(members))), group["id"]
    assert any(counts)
