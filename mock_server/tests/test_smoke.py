"""Every operation of the pinned spec, once, with a valid request: documented success status, valid body."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kdk.spec import iter_operations
from mock_server import CompiledSpec

from ._checks import SchemaChecker, valid_request
from .conftest import AUTH, asgi_client


def test_every_operation_is_compiled(compiled: CompiledSpec, pinned_spec: dict[str, Any]) -> None:
    assert compiled.operations == len(list(iter_operations(pinned_spec))) == 345
    assert compiled.revision == "2026-07-15"


async def test_every_operation_answers_with_a_schema_valid_success(mock_app: Any, pinned_spec: dict[str, Any]) -> None:
    checker = SchemaChecker(pinned_spec)
    failures: list[str] = []
    async with asgi_client(mock_app) as client:
        for op in iter_operations(pinned_spec):
            response = await client.request(**valid_request(pinned_spec, op, AUTH))
            success = min(int(s) for s in op.node["responses"] if s.isdigit() and s.startswith("2"))
            if response.status_code != success:
                failures.append(f"{op.operation_id}: {response.status_code} {response.text[:200]}")
                continue
            failures.extend(f"{op.operation_id}: {p}" for p in checker.check_response(op, response))
            assert response.headers["revision"] == "2026-07-15"
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("status", [400, 404, 429, 500, 503])
async def test_forced_errors_are_valid_for_every_operation(
    mock_app: Any, pinned_spec: dict[str, Any], status: int
) -> None:
    checker = SchemaChecker(pinned_spec)
    failures: list[str] = []
    async with asgi_client(mock_app) as client:
        for op in list(iter_operations(pinned_spec))[::7]:
            request = valid_request(pinned_spec, op, {**AUTH, "Prefer": f"code={status}"})
            response: httpx.Response = await client.request(**request)
            if response.status_code != status:
                failures.append(f"{op.operation_id}: {response.status_code}")
                continue
            failures.extend(f"{op.operation_id}: {p}" for p in checker.check_response(op, response))
    assert not failures, "\n".join(failures)
