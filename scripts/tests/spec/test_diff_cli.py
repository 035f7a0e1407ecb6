"""`kdk spec diff` on the command line: paths and refs, formats, --fail-on exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from ._diff_helpers import Spec, base_spec


def _run(*args: str) -> Result:
    import kdk.commands.diff  # noqa: F401  (registers the verb)
    from kdk.commands._app import app

    return CliRunner().invoke(app, ["spec", "diff", *args])


def _write(path: Path, spec: Spec) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec), encoding="utf-8")
    return str(path)


@pytest.fixture
def pair(tmp_path: Path) -> tuple[str, str]:
    new = base_spec()
    new["paths"]["/api/lists"]["get"]["parameters"].pop()  # warning: request-parameter-removed
    new["paths"]["/api/lists"]["get"]["x-klaviyo-scopes"].append("tags:read")  # breaking: api-scope-added
    return _write(tmp_path / "old.json", base_spec()), _write(tmp_path / "new.json", new)


def test_paths_text_report(pair: tuple[str, str]) -> None:
    result = _run(*pair)
    assert result.exit_code == 0, result.output
    assert "2 changes (1 breaking, 1 warning, 0 info)" in result.stdout
    assert "api-scope-added" in result.stdout


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [("breaking", 1), ("warning", 1)],
)
def test_fail_on(pair: tuple[str, str], fail_on: str, expected: int) -> None:
    assert _run(*pair, "--fail-on", fail_on).exit_code == expected


def test_fail_on_warning_only(tmp_path: Path) -> None:
    new = base_spec()
    new["paths"]["/api/lists"]["get"]["parameters"].pop()
    old_path, new_path = _write(tmp_path / "a.json", base_spec()), _write(tmp_path / "b.json", new)
    assert _run(old_path, new_path, "--fail-on", "breaking").exit_code == 0
    assert _run(old_path, new_path, "--fail-on", "warning").exit_code == 1


def test_json_to_file(pair: tuple[str, str], tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    result = _run(*pair, "--format", "json", "--output", str(out))
    assert result.exit_code == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["summary"] == {"breaking": 1, "warning": 1, "info": 0}
    assert f"wrote {out}" in result.stderr


def test_markdown(pair: tuple[str, str]) -> None:
    result = _run(*pair, "--format", "markdown")
    assert result.stdout.startswith("# API changes:")


def test_refs_are_fetched_from_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mirror = tmp_path / "mirror"
    _write(mirror / "2026-01-15" / "openapi" / "stable.json", base_spec())
    changed = base_spec()
    changed["paths"].pop("/api/lists/{id}")
    _write(mirror / "2026-04-15" / "openapi" / "stable.json", changed)
    _write(mirror / "2026-04-15.pre" / "openapi" / "beta.json", changed)
    (tmp_path / "project" / "openapi").mkdir(parents=True)
    monkeypatch.setenv("KDK_PROJECT_ROOT", str(tmp_path / "project"))
    monkeypatch.setenv("KDK_SPEC_SOURCE", str(mirror))
    result = _run("2026-01-15", "2026-04-15", "--format", "json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["old"] == "2026-01-15 (stable)"
    assert [c["rule"] for c in document["changes"]] == ["api-removed-without-deprecation"]
    # `.pre` refs default to the beta channel.
    beta = json.loads(_run("2026-04-15", "2026-04-15.pre", "--format", "json").stdout)
    assert beta["new"] == "2026-04-15.pre (beta)" and beta["changes"] == []
    # An unknown ref is a usage error (exit 2) with a one-line reason.
    missing = _run("2026-01-15", "1999-01-01")
    assert missing.exit_code == 2
    assert "1999-01-01" in missing.stderr


def test_unreadable_file_is_located(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"openapi": "3.0.2",\n  "paths": {,}}', encoding="utf-8")
    result = _run(str(bad), str(bad))
    assert result.exit_code == 2
    assert f"{bad}:2:" in result.stderr
