from __future__ import annotations

import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kdk.generate import GenerateResult, Report, ensure_generated_with_report, generate_project
from kdk.spec import apply_overlay

HERE = Path(__file__).parent
SMALL_SPEC = HERE / "small_spec.json"


@pytest.fixture(scope="session")
def small_patched_spec() -> dict[str, Any]:
    """A hand-written spec in Klaviyo's shape, through the real overlay."""
    return apply_overlay(json.loads(SMALL_SPEC.read_text(encoding="utf-8"))).spec


@pytest.fixture(scope="session")
def small_project(small_patched_spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> GenerateResult:
    """The small spec's client, generated once per session (never imported: the full client owns that name)."""
    return generate_project(small_patched_spec, tmp_path_factory.mktemp("small") / "klaviyo-client")


@pytest.fixture(scope="session")
def full_client() -> tuple[Path, Report]:
    """generated/klaviyo_client for the pinned spec: reused from the cache, generated on a cold cache (~1 min)."""
    return ensure_generated_with_report(strict=False)  # no pinned spec: LockError, a failure


@pytest.fixture(scope="session")
def kc(full_client: tuple[Path, Report]) -> ModuleType:
    """`import klaviyo_client` (the full pinned client)."""
    root = str(full_client[0].parent)
    if root not in sys.path:
        sys.path.insert(0, root)
    import klaviyo_client

    return klaviyo_client
