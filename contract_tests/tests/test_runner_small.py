"""run_contract on a hand-written spec and a deliberately broken ASGI app: failures are found and reproducible."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from contract_tests import ContractOptions, run_contract
from kdk.spec import PatchedSpec

SPEC: dict[str, Any] = {
    "openapi": "3.0.2",
    "info": {"title": "tiny", "version": "2026-07-15"},
    "servers": [{"url": "https://a.klaviyo.com"}],
    "security": [{"Klaviyo-API-Key": []}],
    "components": {"securitySchemes": {"Klaviyo-API-Key": {"type": "apiKey", "in": "header", "name": "Authorization"}}},
    "paths": {
        "/api/things": {
            "get": {
                "operationId": "get_things",
                "parameters": [{"name": "revision", "in": "header", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    # Like every Klaviyo operation, it documents its errors by range (the mock answers only
                    # documented statuses, so an undocumented 401 would be sent as the documented success).
                    "4XX": {"description": "client error"},
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/vnd.api+json": {
                                "schema": {"type": "object", "required": ["data"], "properties": {"data": {}}}
                            }
                        },
                    },
                },
            }
        }
    },
}


async def broken_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 500, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Traceback (most recent call last): ..."})


def test_a_server_error_is_reported_with_a_curl_line() -> None:
    result = run_contract(ContractOptions(app=broken_app, spec=SPEC, profile="smoke", workers=1))
    assert result.operations == ["get_things"]
    assert not result.ok
    checks = {f.check for f in result.failures}
    assert "not_a_server_error" in checks
    failure = next(f for f in result.failures if f.check == "not_a_server_error")
    assert failure.operation == "get_things"
    assert failure.curl.startswith("curl") and "http://127.0.0.1:4010/api/things" in failure.curl
    assert "revision: 2026-07-15" in failure.curl  # the pinned revision is sent, not generated
    assert "Klaviyo-API-Key" in failure.curl


def test_the_mock_fuzzed_is_built_from_the_spec_given_not_from_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A project with no lock at all: anything that read "the pinned spec" behind run_contract's back would fail.
    monkeypatch.setenv("KDK_PROJECT_ROOT", str(tmp_path))
    spec = PatchedSpec.from_content(copy.deepcopy(SPEC), source="hand-written")
    result = run_contract(ContractOptions(spec=spec, profile="smoke", workers=1))
    assert result.operations == ["get_things"]
    assert result.tested_operations == ["get_things"]
    assert result.ok, result.summary()
    assert not (tmp_path / "openapi" / "klaviyo.lock.json").exists()
    assert list((tmp_path / "openapi" / ".cache" / "mock").glob(f"patched-{spec.sha256[:40]}-*.pickle"))
