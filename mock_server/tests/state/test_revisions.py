"""Every revision in the mirror (stable and beta) indexes, and profiles work wherever the spec has them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kdk.spec import apply_overlay, load_spec
from mock_server._types import MockRequest
from mock_server.state import StatefulBehaviour


@pytest.mark.mirror
async def test_every_mirrored_revision(mirror: Path) -> None:
    paths = sorted(mirror.glob("*/openapi/*.json"))
    assert paths
    for path in paths:
        behaviour = StatefulBehaviour(apply_overlay(load_spec(path), copy_spec=False).spec)
        assert len(behaviour.index.ops) > 100, path
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
