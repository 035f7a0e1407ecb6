"""The pytest plugin in a project it cannot serve: every setup problem is an ERROR with the fix, never a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _pytest_in(project: Path, test_source: str, *args: str, mirror: Path | None = None) -> str:
    (project / "tests").mkdir(parents=True, exist_ok=True)
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0"\n', encoding="utf-8")
    (project / "tests" / "test_it.py").write_text(test_source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KDK_", "PYTEST_"))}
    env["KDK_CACHE_DIR"] = str(project / ".cache")
    if mirror is not None:
        env["KDK_SPEC_SOURCE"] = str(mirror)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rE", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 error" in proc.stdout and "skipped" not in proc.stdout, proc.stdout[-3000:]
    return proc.stdout


def test_no_lock_is_an_error_naming_the_fix(tmp_path: Path) -> None:
    out = _pytest_in(tmp_path, "def test_it(klaviyo_mock):\n    pass\n")
    assert "no lock file at" in out and "kdk spec fetch --ref" in out and "--klaviyo-revision" in out


@pytest.mark.mirror
def test_unknown_revision_is_an_error_naming_the_source(tmp_path: Path, mirror: Path) -> None:
    source = "import pytest\n\n@pytest.mark.klaviyo(revision='1999-01-01')\ndef test_it(klaviyo_mock):\n    pass\n"
    out = _pytest_in(tmp_path, source, mirror=mirror)
    assert "cannot get the spec for revision 1999-01-01" in out and "KDK_SPEC_SOURCE" in out


def test_bad_marker_arguments_are_an_error(tmp_path: Path) -> None:
    source = "import pytest\n\n@pytest.mark.klaviyo(revison='2026-07-15')\ndef test_it(klaviyo_mock):\n    pass\n"
    out = _pytest_in(tmp_path, source)
    assert "@pytest.mark.klaviyo got ['revison']" in out


def test_a_missing_seed_file_is_an_error(tmp_path: Path) -> None:
    out = _pytest_in(tmp_path, "def test_it(klaviyo_mock):\n    pass\n", "--klaviyo-seed", "nope.yaml")
    assert "cannot read the seed file" in out and "nope.yaml" in out


def test_a_seed_file_of_the_wrong_shape_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "seed.yaml").write_text("- just a list\n", encoding="utf-8")
    source = "import pytest\n\n@pytest.mark.klaviyo(seed='seed.yaml')\ndef test_it(klaviyo_mock):\n    pass\n"
    out = _pytest_in(tmp_path, source)
    assert "needs `resources: [...]`" in out
