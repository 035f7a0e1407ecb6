"""The client generated from the pinned spec (generated/klaviyo_client, shared with the contract tests).

Generated once per cache key (~30-60 s on 2 cores), then reused. mypy --strict over its ~4,000 modules takes
~1.5 min with a cold cache (kept under openapi/.cache/mypy-client), seconds when warm.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kdk import cache_dir
from kdk.generate import Report, check_imports, check_mypy, check_ruff
from kdk.spec import iter_operations, load_pinned_spec

FullClient = tuple[Path, Report]


def test_every_operation_and_schema_generated_without_warnings(full_client: FullClient) -> None:
    _, report = full_client
    expected = sum(1 for _ in iter_operations(load_pinned_spec()))
    assert report.operations_expected == expected
    assert report.operations_generated == expected
    assert report.missing_operations == []
    assert report.dropped_schemas == []
    assert report.warnings == []


def test_version_and_typed_marker(full_client: FullClient) -> None:
    package, report = full_client
    assert report.version == "2026.7.15"
    assert (package / "py.typed").is_file()
    assert 'version = "2026.7.15"' in (package.parent / "pyproject.toml").read_text(encoding="utf-8")


def test_one_shared_error_model(full_client: FullClient) -> None:
    package, _ = full_client
    names = [p.name for p in (package / "models").glob("*.py")]
    assert not [n for n in names if n.endswith(("_response_4xx.py", "_response_5xx.py"))]
    assert "client_error.py" in names and "server_error.py" in names


def test_ruff_clean_with_its_own_config(full_client: FullClient) -> None:
    result = check_ruff(full_client[0].parent)
    assert result.ok, result.problems[:20]


def test_every_module_imports(full_client: FullClient) -> None:
    result = check_imports(full_client[0].parent)
    assert result.ok, result.problems[:20]


def test_models_load_lazily(full_client: FullClient) -> None:
    """Importing one endpoint loads a handful of model modules, not thousands, and no httpx until a client
    needs it (times are in bench_client.py)."""
    code = (
        "import sys, klaviyo_client.api.profiles.get_profiles; "
        "print(sum(m.startswith('klaviyo_client.models.') for m in sys.modules), 'httpx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=full_client[0].parent, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    models, httpx_loaded = out.stdout.split()
    assert int(models) < 40
    assert httpx_loaded == "False"


@pytest.mark.slow
def test_mypy_strict(full_client: FullClient) -> None:
    result = check_mypy(full_client[0].parent, cache_dir=cache_dir() / "mypy-client")
    assert result.ok, result.problems[:20]
