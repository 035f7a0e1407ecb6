"""Drift injected into the mock's answers on purpose must be found by the proxy, at the right pointer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mock_server._drift import DRIFT_HEADER, UNKNOWN_ENUM_VALUE

from .conftest import API_KEY, AUTH, asgi_client, proxy_for

# Reads of several shapes: a collection, one resource, a nested relationship collection.
READS = ["/api/profiles/", "/api/lists/", "/api/metrics/", "/api/campaigns/?filter=equals(messages.channel,'email')"]
EXPECTED_KEYWORD = {"null": "type", "number": "type", "enum": "enum"}


async def _run(proxy: Any, paths: list[str]) -> list[str]:
    """GET each path through the proxy; the injected drift each answer says it carries."""
    injected = []
    async with asgi_client(proxy, "http://proxy.test") as client:
        for path in paths:
            response = await client.get(path, headers=AUTH)
            injected += [f"{path} {item}" for item in response.headers.get(DRIFT_HEADER, "").split(", ") if item]
    await proxy.flush()  # the checks run after each answer, in the background
    return injected


async def test_clean_mock_has_no_drift(mock_factory: Callable[..., Any], tmp_path: Path) -> None:
    proxy = proxy_for(mock_factory(stateful=False), log=tmp_path / "drift.jsonl")
    created: list[str] = []
    async with asgi_client(proxy, "http://proxy.test") as client:
        for path in READS:
            response = await client.get(path, headers=AUTH)
            assert response.status_code == 200, response.text
            created.append(response.json()["data"][0]["id"])
        one = await client.get(f"/api/profiles/{created[0]}/", headers=AUTH)
        assert one.status_code == 200
    await proxy.aclose()
    report = proxy.report.to_json()
    assert report["exchanges"] == len(READS) + 1
    assert report["violations"] == 0, json.dumps(report["groups"], indent=1)


@pytest.mark.parametrize("kind", ["null", "number", "enum"])
async def test_body_drift_found_at_its_pointer(kind: str, mock_factory: Callable[..., Any], tmp_path: Path) -> None:
    proxy = proxy_for(mock_factory(stateful=False, inject_drift=[kind]), log=tmp_path / "drift.jsonl")
    injected = await _run(proxy, [*READS, "/api/profiles/01GDDKASAP8TKDDA2GRZDSVP4H/"])
    await proxy.aclose()
    assert len(injected) >= len(READS), injected
    records = [json.loads(line) for line in (tmp_path / "drift.jsonl").read_text().splitlines()]
    found = {(r["path"], v["pointer"], v["keyword"]) for r in records for v in r["violations"]}
    for item in injected:
        path, applied = item.split(" ")
        pointer = applied.split("@", 1)[1]
        assert (path.split("?")[0], pointer, EXPECTED_KEYWORD[kind]) in found, (item, found)
    # One example per group, with the offending value.
    groups = proxy.report.to_json()["groups"]
    values = {g["example"]["value"] for g in groups if g["kind"] == "schema"}
    assert {"null": None, "number": 12345, "enum": UNKNOWN_ENUM_VALUE}[kind] in values


async def test_undocumented_status_found(mock_factory: Callable[..., Any]) -> None:
    proxy = proxy_for(mock_factory(stateful=False, inject_drift=["status"]))
    injected = await _run(proxy, READS)
    assert all(item.endswith("status@299") for item in injected) and len(injected) == len(READS)
    groups = proxy.report.to_json()["groups"]
    assert {g["operation"] for g in groups if g["kind"] == "status" and g["where"] == "response 299"} == {
        "get_profiles",
        "get_lists",
        "get_metrics",
        "get_campaigns",
    }


async def test_all_kinds_at_once_grouped_and_masked(mock_factory: Callable[..., Any], tmp_path: Path) -> None:
    proxy = proxy_for(mock_factory(stateful=False, inject_drift=["null", "number", "enum"]), log=tmp_path / "d.jsonl")
    await _run(proxy, ["/api/profiles/"] * 3)
    await proxy.aclose()
    report = proxy.report.to_json()
    groups = [g for g in report["groups"] if g["operation"] == "get_profiles"]
    pointers = {g["example"]["pointer"]: g["count"] for g in groups}
    assert pointers == {"/data/0/links/self": 3, "/data/0/type": 3, "/links/self": 3}
    assert all(g["location"].startswith("#/paths/~1api~1profiles/get/responses/200/") for g in groups)
    markdown = proxy.report.to_markdown()
    assert "## `get_profiles`" in markdown and "/data/*/links/self" in markdown
    assert API_KEY not in (tmp_path / "d.jsonl").read_text()


async def test_request_drift_and_unknown_operation(mock_factory: Callable[..., Any]) -> None:
    proxy = proxy_for(mock_factory(stateful=False))
    async with asgi_client(proxy, "http://proxy.test") as client:
        await client.get("/api/profiles/?page[size]=5000", headers=AUTH)  # above the documented maximum
        await client.get("/api/no-such-thing/", headers=AUTH)
        await client.post(
            "/api/profiles/",
            headers={**AUTH, "content-type": "application/vnd.api+json"},
            content=json.dumps({"data": {"type": "profile", "attributes": {"email": "ann.lee@gmail.com", "x": 1}}}),
        )
        await client.get("/api/profiles/")  # no revision header, no credentials
    await proxy.flush()
    report = proxy.report.to_json()
    kinds = {(g["operation"], g["kind"], g["example"]["pointer"]) for g in report["groups"]}
    assert ("get_profiles", "parameter", "/query/page[size]") in kinds
    assert ("GET /api/no-such-thing/", "operation", "") in kinds
    assert ("get_profiles", "parameter", "/header/revision") in kinds
    # The mock answered 4XX: documented as a range, so not a status violation.
    assert not any(g["kind"] == "status" for g in report["groups"])
