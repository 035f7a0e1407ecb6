"""The mock held to the pinned spec by schemathesis: every operation, every default check, 0 failures.

In-process over ASGI (all 345 operations, the `default` profile: ~3 min on 2 cores) and over HTTP against a
running `kdk mock`. KDK_CONTRACT_PROFILE=deep for many more cases per operation. A failure prints the
summary: operations x checks and a curl line per failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from contract_tests import ContractOptions, run_contract, running_mock

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

# Over HTTP the same suite runs on a sample by default (every Nth operation, stable), all with the deep profile.
HTTP_SAMPLE_EVERY = int(os.environ.get("KDK_CONTRACT_HTTP_EVERY", "0") or 0) or (
    1 if os.environ.get("KDK_CONTRACT_PROFILE") == "deep" else 10
)


def test_every_operation_in_process(pinned_spec: dict[str, Any], tmp_path: Path) -> None:
    """`kdk contract` (the mock in-process over ASGI) in a child process.

    A child process because inside pytest the same run takes 3-4x longer (pytest's per-test warnings capture
    and the plugins' hooks sit on every request schemathesis makes); it also tests the CLI and its JUnit report.
    """
    junit = tmp_path / "junit.xml"
    command = [sys.executable, "-c", "from kdk.cli import main; main()", "contract", "--junit", str(junit)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1700, check=False)
    print(done.stdout[-20000:], done.stderr[-5000:])
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    from kdk.spec import iter_operations

    count = sum(1 for _ in iter_operations(pinned_spec))
    assert f"{count}/{count} operations tested" in done.stdout
    suite = ElementTree.parse(junit).getroot()
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    assert len({case.get("classname") for case in suite.iter("testcase")}) >= count


@pytest.mark.parametrize("state", ["memory", "stateless", "sqlite"])
def test_operations_over_http_against_kdk_mock(pinned_spec: dict[str, Any], state: str, tmp_path: Path) -> None:
    """A sample of operations over HTTP against each kind of `kdk mock` state: every check green, no 5xx.
    The >= 10,000-request runs of every operation are scripts/bench_reliability.py's (docs/reliability.md)."""
    from kdk.spec import iter_operations

    operations = sorted(op.operation_id for op in iter_operations(pinned_spec))[::HTTP_SAMPLE_EVERY]
    statuses: list[int] = []

    def on_event(event: Any) -> None:
        if type(event).__name__ == "ScenarioFinished":
            statuses.extend(i.response.status_code for i in event.recorder.interactions.values() if i.response)

    chosen = {"memory": "memory", "stateless": None, "sqlite": f"sqlite:{tmp_path / 'state.db'}"}[state]
    with running_mock(state=chosen) as mock:
        options = ContractOptions(target=mock.base_url, spec=pinned_spec, operation_ids=operations, on_event=on_event)
        result = run_contract(options)
        assert mock.process is not None and mock.process.poll() is None, mock.output()[-3000:]
    print(result.summary(), f"{len(statuses)} requests")
    assert result.tested_operations == sorted(operations), result.summary()
    assert result.ok, result.summary()
    assert statuses and not [s for s in statuses if s >= 500]
