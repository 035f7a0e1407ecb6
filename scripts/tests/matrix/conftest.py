"""A tiny hand-written mirror (`<ref>/openapi/<channel>.json`) and an empty project for the matrix tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kdk.spec import iter_operations

SMALL_SPEC = Path(__file__).parents[1] / "generate" / "small_spec.json"
GENERATOR_DIR = Path(__file__).parents[3] / "openapi" / "generator"
Spec = dict[str, Any]


def small_spec(version: str) -> Spec:
    """The generator tests' hand-written spec, with what Klaviyo puts on every operation (it validates clean).

    Without its DELETE: the contract's stateful phase would delete a profile and read it back, and the mock the
    contract runs (stateless) still answers (`use_after_free`), which is the mock's business, not the matrix's.
    """
    spec: Spec = json.loads(SMALL_SPEC.read_text(encoding="utf-8"))
    spec["info"]["version"] = version
    for item in spec["paths"].values():
        item.pop("delete", None)
    for op in iter_operations(spec):
        op.node["x-klaviyo-ratelimit"] = {"burst": "10/s", "steady": "150/m"}
        op.node.setdefault("x-klaviyo-scopes", ["profiles:read"])
    return spec


def broken_spec(version: str) -> Spec:
    """Two operations share an operationId: a validation error no overlay fix removes."""
    spec = small_spec(version)
    operations = list(iter_operations(spec))
    operations[1].node["operationId"] = operations[0].operation_id
    return spec


def write_mirror(root: Path, specs: dict[tuple[str, str], Spec]) -> Path:
    for (ref, channel), spec in specs.items():
        path = root / ref / "openapi" / f"{channel}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    return root


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty checkout: whatever the matrix caches lands here, and nothing else may appear."""
    root = tmp_path / "project"
    (root / "openapi").mkdir(parents=True)
    # The generator's config and templates are part of the checkout the matrix runs in.
    (root / "openapi" / "generator").symlink_to(GENERATOR_DIR, target_is_directory=True)
    monkeypatch.setenv("KDK_PROJECT_ROOT", str(root))
    monkeypatch.delenv("KDK_LOCK_PATH", raising=False)
    return root


@pytest.fixture
def tiny_mirror(tmp_path: Path) -> Path:
    return write_mirror(
        tmp_path / "mirror",
        {
            ("2026-01-15", "stable"): small_spec("2026-01-15"),
            ("2026-04-15", "stable"): broken_spec("2026-04-15"),
        },
    )
