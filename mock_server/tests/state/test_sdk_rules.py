"""Rules the official SDK sessions rely on, in both modes (stateful default and `--stateless`):
fields sent only on request (`additional-fields[type]`, read from the spec), `page[cursor]` given as the
whole `links.next` URL, and a journal that records every request with its final status."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from mock_server import CompiledSpec, MockCore, on_request_fields, requested_fields
from mock_server.state import StatefulBehaviour

from .conftest import API_KEY, JSONAPI, list_body, profile_body

AJ = {**API_KEY, **JSONAPI}


@pytest.fixture
async def stateless(compiled: CompiledSpec, make_behaviour: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Example mode as `kdk mock --stateless` serves it: generated bodies, journal and admin API kept."""
    core = MockCore(None, compiled=compiled, behaviours=[make_behaviour(stateful=False)])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=core), base_url="http://mock.test") as c:
        yield c


def _spec_rule(spec: dict[str, Any]) -> dict[str, frozenset[str]]:
    """The rule as the spec states it, computed independently of the mock: type -> enum of additional-fields[type]."""
    found: dict[str, set[str]] = {}
    for item in spec["paths"].values():
        for op in item.values():
            for param in (op.get("parameters") or []) if isinstance(op, dict) else []:
                if "$ref" in param:
                    name = param["$ref"].rsplit("/", 1)[-1]
                    param = spec["components"]["parameters"][name]
                if param.get("name", "").startswith("additional-fields["):
                    items = param["schema"].get("items", param["schema"])
                    found.setdefault(param["name"][18:-1], set()).update(items.get("enum") or [])
    return {k: frozenset(v) for k, v in found.items()}


def test_rule_is_read_from_the_spec(spec: dict[str, Any]) -> None:
    expected = _spec_rule(spec)
    assert expected, "the pinned spec has additional-fields parameters"
    assert on_request_fields((f"additional-fields[{t}]", sorted(v)) for t, v in expected.items()) == expected
    assert requested_fields({"additional-fields[profile]": "subscriptions, predictive_analytics", "x": "y"}) == {
        "profile": frozenset({"subscriptions", "predictive_analytics"})
    }


async def _create(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=AJ)
    assert response.status_code in (200, 201, 202), response.text
    created: dict[str, Any] = response.json()["data"]
    return created


@pytest.mark.parametrize("mode", ["stateful", "stateless"])
async def test_profile_fields_only_on_request(
    mode: str, client: httpx.AsyncClient, stateless: httpx.AsyncClient
) -> None:
    c = client if mode == "stateful" else stateless
    profile = await _create(c, "/api/profiles", profile_body(email="ana@example.com"))
    assert "subscriptions" not in profile["attributes"]
    plain = (await c.get(f"/api/profiles/{profile['id']}", headers=API_KEY)).json()["data"]["attributes"]
    assert "subscriptions" not in plain and "predictive_analytics" not in plain
    one = (
        await c.get(f"/api/profiles/{profile['id']}?additional-fields[profile]=subscriptions", headers=API_KEY)
    ).json()["data"]["attributes"]
    assert "subscriptions" in one and "predictive_analytics" not in one
    many = (
        await c.get("/api/profiles?additional-fields[profile]=subscriptions,predictive_analytics", headers=API_KEY)
    ).json()["data"]
    assert many and all({"subscriptions", "predictive_analytics"} <= set(p["attributes"]) for p in many)


@pytest.mark.parametrize("mode", ["stateful", "stateless"])
async def test_flow_definition_only_on_request(
    mode: str, client: httpx.AsyncClient, stateless: httpx.AsyncClient
) -> None:
    c = client if mode == "stateful" else stateless
    body = {
        "data": {
            "type": "flow",
            "attributes": {
                "name": "Welcome",
                "definition": {"triggers": [{"type": "list", "id": "Y6nRLr"}], "actions": [], "entry_action_id": None},
            },
        }
    }
    created = await _create(c, "/api/flows", body)
    assert "definition" not in created["attributes"]
    plain = (await c.get(f"/api/flows/{created['id']}", headers=API_KEY)).json()["data"]["attributes"]
    assert "definition" not in plain
    asked = await c.get(f"/api/flows/{created['id']}?additional-fields[flow]=definition", headers=API_KEY)
    assert asked.json()["data"]["attributes"].get("definition") is not None
    # get_flows documents no additional-fields: never a definition there.
    listed = (await c.get("/api/flows", headers=API_KEY)).json()["data"]
    assert all("definition" not in f["attributes"] for f in listed)


async def test_included_resources_follow_the_rule(client: httpx.AsyncClient) -> None:
    lst = await _create(client, "/api/lists", list_body("L"))
    profile = await _create(client, "/api/profiles", profile_body(email="inc@example.com"))
    added = await client.post(
        f"/api/lists/{lst['id']}/relationships/profiles",
        json={"data": [{"type": "profile", "id": profile["id"]}]},
        headers=AJ,
    )
    assert added.status_code == 204, added.text
    plain = (await client.get(f"/api/lists/{lst['id']}/profiles", headers=API_KEY)).json()["data"]
    assert [p["id"] for p in plain] == [profile["id"]] and "subscriptions" not in plain[0]["attributes"]
    asked = await client.get(
        f"/api/lists/{lst['id']}/profiles?additional-fields[profile]=subscriptions", headers=API_KEY
    )
    assert "subscriptions" in asked.json()["data"][0]["attributes"]


async def test_page_cursor_as_full_url_stateful(client: httpx.AsyncClient) -> None:
    for i in range(5):
        await _create(client, "/api/profiles", profile_body(email=f"p{i}@example.com"))
    first = (await client.get("/api/profiles?page[size]=2", headers=API_KEY)).json()
    seen = [p["id"] for p in first["data"]]
    next_url = first["links"]["next"]
    while next_url:
        # What the SDKs send: the whole links.next URL, percent-encoded, as the cursor.
        page = await client.get(f"/api/profiles?page[size]=2&page[cursor]={quote(next_url, safe='')}", headers=API_KEY)
        assert page.status_code == 200, page.text
        seen += [p["id"] for p in page.json()["data"]]
        next_url = page.json()["links"].get("next")
    assert len(seen) == len(set(seen)) == 5


async def test_page_cursor_as_full_url_stateless(stateless: httpx.AsyncClient) -> None:
    url = "http://mock.test/api/profiles?page%5Bsize%5D=2&page%5Bcursor%5D=bmV4dDo6YWJj"
    for cursor in ("bmV4dDo6YWJj", url):
        page = await stateless.get(f"/api/profiles?page[cursor]={quote(cursor, safe='')}", headers=API_KEY)
        assert page.status_code == 200, page.text
        assert isinstance(page.json()["data"], list)


@pytest.mark.parametrize("mode", ["stateful", "stateless"])
async def test_journal_records_every_request_with_its_final_status(
    mode: str, client: httpx.AsyncClient, stateless: httpx.AsyncClient
) -> None:
    c = client if mode == "stateful" else stateless
    calls = [
        ("POST", "/api/profiles", {"json": profile_body(email="j@example.com"), "headers": AJ}, 201),
        ("GET", "/api/profiles?page[size]=1000", {"headers": API_KEY}, 400),  # a validation error
        # Filters are parsed by the stateful layer; example mode answers its example.
        ("GET", "/api/profiles?filter=nonsense(", {"headers": API_KEY}, 400 if mode == "stateful" else 200),
        ("POST", "/api/profiles", {"json": {"data": {"type": "list"}}, "headers": AJ}, 400),  # a bad body
        ("GET", "/api/profiles", {"headers": {**API_KEY, "Prefer": "code=429"}}, 429),  # injected faults
        ("GET", "/api/lists", {"headers": {**API_KEY, "Prefer": "code=500"}}, 500),
        ("GET", "/api/lists", {"headers": {**API_KEY, "Prefer": "code=200"}}, 200),
        ("GET", "/api/profiles/does-not-exist", {"headers": API_KEY}, 404 if mode == "stateful" else 200),
    ]
    for method, path, kwargs, status in calls:
        response = await c.request(method, path, **kwargs)
        assert response.status_code == status, (method, path, response.text)
    journal = (await c.get("/__mock__/journal", headers=API_KEY)).json()["requests"]
    assert [(e["method"], e["status"]) for e in journal] == [(m, s) for m, _, _, s in calls]
    assert all(e["operation_id"] for e in journal)
    refused = [e for e in journal if e["status"] >= 400]
    assert all(e.get("errors") for e in refused), refused


def test_stateful_behaviour_is_the_default(behaviour: StatefulBehaviour) -> None:
    assert behaviour.stateful
