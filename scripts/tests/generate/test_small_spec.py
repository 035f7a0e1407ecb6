"""Generation of a small hand-written spec: golden output, determinism, completeness, mypy --strict, ruff.

Golden files: regenerate with `KDK_UPDATE_GOLDEN=1 uv run pytest scripts/tests/generate/test_small_spec.py`
after an intended template change, and review the diff.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kdk.generate import PACKAGE_NAME, GenerateResult, check_imports, check_mypy, check_ruff, generate_project

GOLDEN = Path(__file__).parent / "golden"
GOLDEN_FILES = [
    "api/profiles/get_profiles.py",
    "api/profiles/create_profile.py",
    "api/profiles/delete_profile.py",
    "models/_index.py",
    "_version.py",
]


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not {"__pycache__", ".ruff_cache", ".mypy_cache"} & set(p.parts)
    }


def test_small_spec_is_complete(small_project: GenerateResult) -> None:
    assert small_project.operations_generated == small_project.operations_expected == 4
    assert small_project.missing_operations == [] and small_project.dropped_schemas == []
    assert small_project.warnings == []
    assert small_project.version == "2026.7.15"
    assert (small_project.package_dir / "py.typed").is_file()
    # one shared error model each for 4XX and 5XX, not a copy per operation
    models = {p.name for p in (small_project.package_dir / "models").glob("*.py")}
    assert {"client_error.py", "server_error.py"} <= models
    assert not [m for m in models if "4xx" in m or "5xx" in m]


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden_output(small_project: GenerateResult, name: str) -> None:
    actual = (small_project.package_dir / name).read_text(encoding="utf-8")
    golden = GOLDEN / (name.replace("/", "__") + ".txt")
    if os.environ.get("KDK_UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8"), f"{name} differs from {golden} (KDK_UPDATE_GOLDEN=1 to accept)"


def test_golden_file_list(small_project: GenerateResult) -> None:
    actual = "\n".join(_tree(small_project.project_dir)) + "\n"
    golden = GOLDEN / "files.txt"
    if os.environ.get("KDK_UPDATE_GOLDEN"):
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")


def test_generation_is_deterministic_across_processes(
    small_project: GenerateResult, small_patched_spec: dict[str, Any], tmp_path: Path
) -> None:
    """A second run in another interpreter, with another hash seed, writes byte-identical files."""
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(small_patched_spec), encoding="utf-8")
    out = tmp_path / "again" / "klaviyo-client"
    code = (
        "import json, sys; from pathlib import Path; from kdk.generate import generate_project; "
        "generate_project(json.loads(Path(sys.argv[1]).read_text()), Path(sys.argv[2]))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(spec_file), str(out)], check=True, env=env)
    assert _tree(out) == _tree(small_project.project_dir)


def test_generation_is_deterministic_in_process(
    small_project: GenerateResult, small_patched_spec: dict[str, Any], tmp_path: Path
) -> None:
    again = generate_project(small_patched_spec, tmp_path / "klaviyo-client")
    assert _tree(again.project_dir) == _tree(small_project.project_dir)


def test_small_client_passes_ruff_imports_and_mypy_strict(small_project: GenerateResult) -> None:
    for result in (check_ruff(small_project.project_dir), check_imports(small_project.project_dir)):
        assert result.ok, result.problems
    mypy = check_mypy(small_project.project_dir, cache_dir=small_project.project_dir.parent / ".mypy_cache")
    assert mypy.ok, mypy.problems


def test_revision_is_not_an_argument_and_lists_are_joined(small_project: GenerateResult) -> None:
    source = (small_project.package_dir / "api/profiles/get_profiles.py").read_text(encoding="utf-8")
    assert "revision" not in source.split("def _get_kwargs")[1].split(")")[0]
    assert 'params["fields[profile]"] = ",".join(' in source
    assert "page_cursor: str | Unset" in source and "fields_profile: list[" in source


def test_package_is_importable_name(small_project: GenerateResult) -> None:
    assert small_project.package_dir.name == PACKAGE_NAME
    pyproject = (small_project.project_dir / "pyproject.toml").read_text(encoding="utf-8")
    assert 'version = "2026.7.15"' in pyproject and 'packages = ["klaviyo_client"]' in pyproject
