"""Shared test helpers: a valid request for any operation, and schema checks for responses and errors."""

from __future__ import annotations

import json
from typing import Any

import httpx

from kdk.spec import Operation, deref, operation_parameters
from mock_server import generate_body
from mock_server._jsonschema import convert_schema, make_validator, schema_errors

JSON_API = "application/vnd.api+json"


class SchemaChecker:
    """Validates bodies against the spec's documented response schemas (converted once, validators cached)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        schemas = (spec.get("components") or {}).get("schemas") or {}
        self.components = {"schemas": {name: convert_schema(s) for name, s in schemas.items()}}
        self._validators: dict[str, Any] = {}

    def response_schema(self, op: Operation, status: int) -> dict[str, Any] | None:
        documented = self.response_media(op, status)
        return documented[1] if documented else None

    def response_media(self, op: Operation, status: int) -> tuple[str, dict[str, Any]] | None:
        """(media type, schema) documented for `status` (JSON:API first, then any JSON), None if no content."""
        responses = op.node.get("responses") or {}
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in responses:
                content = deref(self.spec, responses[key]).get("content") or {}
                media = JSON_API if JSON_API in content else next((m for m in content if "json" in m), None)
                return (media, content[media]["schema"]) if media else None
        raise AssertionError(f"{op.operation_id}: status {status} is not documented")

    def errors(self, schema: dict[str, Any], body: Any) -> list[str]:
        key = json.dumps(schema, sort_keys=True)
        validator = self._validators.get(key)
        if validator is None:
            validator = make_validator(convert_schema(schema), self.components)
            self._validators[key] = validator
        return [f"{e.pointer}: {e.message}" for e in schema_errors(validator, body)]

    def check_response(self, op: Operation, response: httpx.Response) -> list[str]:
        """Problems with a response: undocumented status, wrong content type, body not valid for the status."""
        documented = self.response_media(op, response.status_code)
        if documented is None:
            return [] if not response.content else [f"{response.status_code} documents no body but one was sent"]
        media, schema = documented
        if response.headers.get("content-type") != media:
            return [f"content-type {response.headers.get('content-type')!r}, documented {media!r}"]
        return self.errors(schema, response.json())

    def client_error_schema(self) -> dict[str, Any]:
        content = deref(self.spec, {"$ref": "#/components/responses/ClientError"})["content"]
        error: dict[str, Any] = content.get(JSON_API, next(iter(content.values())))["schema"]
        return error


def valid_request(spec: dict[str, Any], op: Operation, headers: dict[str, str]) -> dict[str, Any]:
    """httpx.request(**kwargs) for a request the operation accepts: path examples, required query, a body."""
    path = op.path
    params: dict[str, str] = {}
    for param in operation_parameters(spec, op):
        schema = deref(spec, param.get("schema") or {})
        if param["in"] == "path":
            value = schema.get("example") or (schema.get("enum") or ["abc123"])[0]
            path = path.replace("{" + param["name"] + "}", str(value))
        elif param["in"] == "query" and param.get("required"):
            if schema.get("type") == "array":
                value = (deref(spec, schema.get("items") or {}).get("enum") or ["x"])[0]
            else:
                value = schema.get("example") or (schema.get("enum") or [None])[0] or "x"
            params[param["name"]] = str(value)
    request: dict[str, Any] = {"method": op.method.upper(), "url": path, "params": params, "headers": dict(headers)}
    body = op.node.get("requestBody")
    if body:
        media, holder = next(iter(deref(spec, body)["content"].items()))
        if "json" in media:
            document = generate_body(spec, holder["schema"], seed=op.operation_id)
            request["content"] = json.dumps(document).encode()
            request["headers"]["content-type"] = media
        else:
            form = deref(spec, holder["schema"])
            files, data = {}, {}
            for name in form.get("required") or []:
                prop = deref(spec, (form.get("properties") or {}).get(name) or {})
                if prop.get("format") == "binary":
                    files[name] = ("pixel.png", b"\x89PNG\r\n\x1a\n", "image/png")
                else:
                    data[name] = str(generate_body(spec, prop, seed=name)).lower()
            request["files"], request["data"] = files, data
    return request
