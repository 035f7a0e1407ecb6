"""Every revision in the mirror (stable and beta) indexes, and profiles work wherever the spec has them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kdk.spec import apply_overlay, deref, iter_operations, load_spec
from mock_server import MockRequest
from mock_server.state import Kind, ResourceIndex, StatefulBehaviour

from .test_filters_generated import check_every_filter


def _lists_one_type(spec: dict[str, Any], node: dict[str, Any]) -> bool:
    """Does this operation answer 200 with `data: [...]` of one resource type (a collection read)?"""
    response = deref(spec, (node.get("responses") or {}).get("200"))
    for content in ((response or {}).get("content") or {}).values():
        schema = deref(spec, (content or {}).get("schema")) or {}
        data = deref(spec, (schema.get("properties") or {}).get("data")) or {}
        items = deref(spec, data.get("items")) if data.get("type") == "array" else None
        rtype = deref(spec, ((items or {}).get("properties") or {}).get("type")) or {}
        return len(rtype.get("enum") or []) == 1
    return False


def assert_index_covers(spec: dict[str, Any], index: ResourceIndex, where: Path) -> None:
    """What the index must hold, derived from the spec's own operations (never one revision's counts)."""
    operations = list(iter_operations(spec))
    assert set(index.ops) <= {op.operation_id for op in operations}, where
    limited = {op.operation_id for op in operations if isinstance(op.node.get("x-klaviyo-ratelimit"), dict)}
    assert set(index.ratelimits) == limited, where
    collections = {
        op.operation_id
        for op in operations
        if op.method == "get" and op.path.startswith("/api/") and "{" not in op.path and _lists_one_type(spec, op.node)
    }
    missing = {op_id for op_id in collections if index.ops.get(op_id) is None or index.ops[op_id].kind is not Kind.LIST}
    assert not missing, (where, sorted(missing))


@pytest.mark.mirror
async def test_every_mirrored_revision(mirror: Path) -> None:
    paths = sorted(mirror.glob("*/openapi/*.json"))
    assert paths
    for path in paths:
        spec = apply_overlay(load_spec(path), copy_spec=False).spec
        behaviour = StatefulBehaviour(spec)
        assert_index_covers(spec, behaviour.index, path)
        await check_every_filter(spec, behaviour.index)  # every allowed filter selects the right record
        if "create_profile" not in behaviour.index.ops:
            continue  # beta specs carry beta operations only

        def request(
            op: str, method: str, template: str, body: object = None, query: dict[str, str] | None = None
        ) -> MockRequest:
            return MockRequest(op, method, template, {}, query or {}, {}, body, "a", "api_key", "x", "http://m")

        created = await behaviour.handle(
            request(
                "create_profile",
                "post",
                "/api/profiles",
                {"data": {"type": "profile", "attributes": {"email": "a@b.co"}}},
            )
        )
        found = await behaviour.handle(
            request("get_profiles", "get", "/api/profiles", query={"filter": "equals(email,'a@b.co')"})
        )
        assert created is not None and created.status == 201, path
        assert found is not None and [p["id"] for p in found.body["data"]] == [created.body["data"]["id"]], path
