"""The mock held to the pinned spec by schemathesis: every operation, every default check, 0 failures.

In-process over ASGI (all 345 operations, the `default` profile: ~3 min on 2 cores) and over HTTP against a
running `kdk mock`. KDK_CONTRACT_PROFILE=deep for many more cases per operation. A failure prints the
summary: operations x checks and a curl line per failure.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from contract_tests._mock_process import running_mock
from contract_tests._schemathesis import ContractOptions, run_contract

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

# Over HTTP the same suite runs on a sample by default (every Nth operation, stable), all with the deep profile.
HTTP_SAMPLE_EVERY = int(os.environ.get("KDK_CONTRACT_HTTP_EVERY", "0") or 0) or (
    1 if os.environ.get("KDK_CONTRACT_PROFILE") == "deep" else 10
)


def test_every_operation_in_process(pinned_spec: dict[str, Any]) -> None:
    result = run_contract(ContractOptions(spec=pinned_spec))
    print(result.summary())
    assert len(result.operations) == len(result.tested_operations) == 345, result.summary()
    assert result.ok, result.summary()


def test_operations_over_http_against_kdk_mock(pinned_spec: dict[str, Any]) -> None:
    from kdk.spec import iter_operations

    operations = sorted(op.operation_id for op in iter_operations(pinned_spec))[::HTTP_SAMPLE_EVERY]
    with running_mock(state=None) as mock:
        result = run_contract(ContractOptions(target=mock.base_url, spec=pinned_spec, operation_ids=operations))
    print(result.summary())
    assert result.tested_operations == sorted(operations), result.summary()
    assert result.ok, result.summary()
