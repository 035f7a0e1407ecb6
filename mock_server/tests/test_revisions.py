"""Every revision in the spec mirror (stable and beta) compiles and serves every operation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kdk import mirror_revisions
from kdk.spec import apply_overlay, iter_operations, load_spec
from mock_server import create_app
from mock_server._compile import compile_spec

from ._checks import SchemaChecker, valid_request
from .conftest import asgi_client

MIRROR_SPECS = mirror_revisions()  # every (ref, channel) in the mirror


@pytest.mark.mirror
@pytest.mark.slow
@pytest.mark.parametrize(("ref", "channel"), MIRROR_SPECS, ids=[f"{r}-{c}" for r, c in MIRROR_SPECS])
async def test_revision_serves_every_operation(mirror: Path, tmp_path: Path, ref: str, channel: str) -> None:
    source = mirror / ref / "openapi" / f"{channel}.json"
    if not source.is_file():
        pytest.skip(f"{source} is not in the mirror")
    spec = apply_overlay(load_spec(source), copy_spec=False).spec
    served = tmp_path / "served.json"
    served.write_text(json.dumps(spec))
    compiled = compile_spec(spec, key=f"test-{ref}-{channel}", patched_json=served)
    operations = list(iter_operations(spec))
    assert compiled.operations == len(operations) > 0
    revision = compiled.revision
    headers = {"Authorization": "Klaviyo-API-Key pk_test", "revision": revision}
    checker = SchemaChecker(spec)
    failures: list[str] = []
    async with asgi_client(create_app(compiled=compiled)) as client:
        for op in operations:
            response = await client.request(**valid_request(spec, op, headers))
            success = min(int(s) for s in op.node["responses"] if s.isdigit() and s.startswith("2"))
            if response.status_code != success:
                failures.append(f"{op.operation_id}: {response.status_code} {response.text[:200]}")
                continue
            failures.extend(f"{op.operation_id}: {p}" for p in checker.check_response(op, response))
    assert not failures, "\n".join(failures[:20])
