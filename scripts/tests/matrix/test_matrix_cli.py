"""`kdk spec matrix` end to end on a tiny hand-written mirror: every stage really runs, in worker processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytestmark = pytest.mark.slow


def _invoke(*args: str) -> tuple[int, str, str]:
    import kdk.commands.matrix  # noqa: F401  (registers the verb)
    from kdk.commands._app import app

    result = CliRunner().invoke(app, ["spec", "matrix", *args])
    return result.exit_code, result.stdout, result.stderr


def test_two_revisions_one_green_one_red(project: Path, tiny_mirror: Path, tmp_path: Path) -> None:
    out = tmp_path / "matrix.json"
    code, stdout, stderr = _invoke(
        "--source", str(tiny_mirror), "--format", "json", "--output", str(out), "--jobs", "2"
    )
    assert code == 1, stderr  # one revision failed: the run says so
    assert stdout == ""
    assert f"wrote {out} (2 revisions, 1 failed)" in stderr
    document = json.loads(out.read_text(encoding="utf-8"))
    green, red = document["revisions"]

    assert (green["ref"], green["channel"], green["ok"], green["operations"]) == ("2026-01-15", "stable", True, 3)
    assert green["problems"] == []
    assert (green["validate"]["errors"], green["validate"]["warnings"]) == (0, 0)
    generate = green["generate"]
    assert (generate["operations"], generate["operations_expected"], generate["warnings"]) == (3, 3, 0)
    assert generate["models"] > 0 and generate["seconds"] > 0
    assert green["mock"]["seconds"] > 0
    contract = green["contract"]
    assert (contract["operations"], contract["operations_expected"], contract["failures"]) == (3, 3, 0)
    assert contract["profile"] == "default"

    # The red row is reported, not hidden, and the later stages still ran where they could.
    assert (red["ref"], red["ok"]) == ("2026-04-15", False)
    assert red["validate"]["errors"] >= 1
    assert any(p["stage"] == "validate" and "not unique" in p["message"] for p in red["problems"]), red["problems"]
    assert red["mock"] is not None or any(p["stage"] == "mock" for p in red["problems"])

    # Nothing of the project changed: no lock, no generated client; only the content-keyed cache.
    assert not (project / "openapi" / "klaviyo.lock.json").exists()
    assert not (project / "generated").exists()
    assert {p.name for p in (project / "openapi").iterdir()} <= {".cache", "generator"}


def test_text_table_and_a_missing_ref(project: Path, tiny_mirror: Path) -> None:
    code, stdout, _ = _invoke("--source", str(tiny_mirror), "--refs", "2026-01-15,1999-01-01", "--skip-contract")
    assert code == 1
    lines = stdout.splitlines()
    assert lines[0].split()[:3] == ["revision", "channel", "operations"]
    row = next(line for line in lines if line.startswith("2026-01-15"))
    assert row.split()[-1] == "ok" and " - " in row  # the contract column: not run
    missing = next(line for line in lines if line.startswith("1999-01-01"))
    assert missing.endswith("FAILED (fetch)")
    assert any(line.strip().startswith("1999-01-01 (stable) fetch:") for line in lines)
    assert "2 revisions: 1 ok, 1 failed" in stdout


def test_no_revisions_is_a_usage_error(project: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, _, stderr = _invoke("--source", str(tmp_path / "empty"))
    assert code == 2
    assert "no all revisions" not in stderr and "no revisions" in stderr


@pytest.mark.mirror
def test_a_real_revision_through_the_cli(project: Path, mirror: Path, tmp_path: Path) -> None:
    """One real mirror revision, every stage (the contract with the quick `smoke` profile): the newest dated beta,
    a green revision today that is small enough to keep this test short."""
    from kdk._paths import mirror_revisions

    ref = max(ref for ref, channel in mirror_revisions(mirror) if channel == "beta" and ref != "main")
    out = tmp_path / "matrix.json"
    code, _, stderr = _invoke(
        "--source", str(mirror), "--refs", ref, "--profile", "smoke", "--format", "json", "-o", str(out)
    )
    (row,) = json.loads(out.read_text(encoding="utf-8"))["revisions"]
    assert code == 0, row["problems"] or stderr
    assert (row["ref"], row["channel"], row["ok"]) == (ref, "beta", True)
    operations = row["operations"]
    assert operations > 0
    assert row["generate"]["operations"] == row["generate"]["operations_expected"] == operations
    assert row["contract"]["operations"] == operations and row["contract"]["failures"] == 0
    assert row["contract"]["profile"] == "smoke"
    assert not (project / "openapi" / "klaviyo.lock.json").exists()
