"""Klaviyo's official Node SDK (`klaviyo-api` 23.0.0 on npm), unmodified, against the default (stateful,
in-memory) mock started as a real process: node/session.js runs a broad session (every API class's
`basePath` set to the mock) and reports each step; each step is asserted here."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contract_tests import running_mock

from .conftest import NODE_DIR

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

MIN_CALLS = 30
API_KEY = "pk_node_sdk_session_00000000000000"


def _step_names() -> list[str]:
    """The steps of session.js, in order (its `steps` object's async methods)."""
    names = []
    inside = False
    for line in (NODE_DIR / "session.js").read_text().splitlines():
        if line.startswith("const steps = {"):
            inside = True
        elif inside and line.startswith("};"):
            break
        elif inside and line.startswith("  async ") and line.endswith("() {"):
            names.append(line[len("  async ") : -len("() {")])
    return names


STEPS = _step_names()


@pytest.fixture(scope="module")
def node_session(node_executable: str, node_sdk: Path) -> Iterator[tuple[dict[str, dict[str, Any]], list[Any]]]:
    with running_mock(state="memory", api_key=API_KEY) as mock:
        done = subprocess.run(
            [node_executable, str(node_sdk / "session.js"), mock.base_url, mock.api_key],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            cwd=node_sdk,
        )
        assert done.returncode == 0, f"node exited {done.returncode}:\n{done.stderr[-3000:]}"
        results = {}
        for line in done.stdout.splitlines():
            if line.startswith("{"):
                result = json.loads(line)
                results[result["step"]] = result
        yield results, mock.journal(limit=5000)


def test_steps_are_found() -> None:
    assert len(STEPS) >= 25


@pytest.mark.parametrize("step", STEPS)
def test_step(step: str, node_session: tuple[dict[str, dict[str, Any]], list[Any]]) -> None:
    results, _ = node_session
    assert step in results, f"session.js did not report step {step}"
    assert results[step]["ok"], results[step]["detail"]


def test_session_is_broad_and_journaled(node_session: tuple[dict[str, dict[str, Any]], list[Any]]) -> None:
    results, journal = node_session
    assert list(results) == STEPS
    assert len(journal) >= MIN_CALLS
    assert all(isinstance(entry.get("status"), int) for entry in journal)
    assert len({entry["operation_id"] for entry in journal}) >= MIN_CALLS
    # Page 2 onwards came with the whole links.next URL as page[cursor] and was answered 200.
    cursors = [e for e in journal if str((e.get("query") or {}).get("page[cursor]", "")).startswith("http")]
    assert cursors and all(e["status"] == 200 for e in cursors)
