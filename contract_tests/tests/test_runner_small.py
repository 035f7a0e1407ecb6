"""run_contract on a hand-written spec and a deliberately broken ASGI app: failures are found and reproducible."""

from __future__ import annotations

from typing import Any

from contract_tests._schemathesis import ContractOptions, run_contract

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
                    "200": {
                        "description": "ok",
                        "content": {
                            "application/vnd.api+json": {
                                "schema": {"type": "object", "required": ["data"], "properties": {"data": {}}}
                            }
                        },
                    }
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
