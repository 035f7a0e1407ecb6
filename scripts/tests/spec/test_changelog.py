"""`kdk spec changelog` and `kdk spec diff --format changelog`: headings per revision, Breaking / Added / Changed,
operation names and plain sentences; a whole mirror newest first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from kdk.spec.diff import consecutive_pairs, resource_of, revision_order

from ._diff_helpers import Spec, base_spec


def _run(*args: str) -> Result:
    import kdk.commands.diff  # noqa: F401  (registers the verbs)
    from kdk.commands._app import app

    return CliRunner().invoke(app, ["spec", *args])


def _spec(version: str) -> Spec:
    spec = base_spec()
    spec["info"]["version"] = version
    return spec


def _april() -> Spec:
    spec = _spec("2026-04-15")
    spec["paths"].pop("/api/lists/{id}")  # breaking: delete_list removed
    spec["paths"]["/api/lists"]["get"]["parameters"].pop()  # warning: a parameter removed
    spec["paths"]["/api/tags"] = {
        "get": {
            "operationId": "get_tags",
            "responses": {"200": {"description": "ok"}},
            "x-klaviyo-ratelimit": {"burst": "3/s", "steady": "60/m"},
            "x-klaviyo-scopes": ["tags:read"],
        }
    }
    return spec


def _july() -> Spec:
    spec = _april()
    spec["info"]["version"] = "2026-07-15"
    spec["paths"]["/api/tags"]["get"]["x-klaviyo-scopes"].append("lists:read")  # breaking: scope added
    return spec


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KDK_PROJECT_ROOT", str(tmp_path / "project"))  # the fetched specs' cache
    specs = {
        ("2026-01-15", "stable"): _spec("2026-01-15"),
        ("2026-04-15", "stable"): _april(),
        ("2026-07-15", "stable"): _july(),
        ("2026-04-15.pre", "beta"): _spec("2026-04-15.pre"),
        ("2026-07-15.pre", "beta"): _spec("2026-07-15.pre"),
    }
    for (ref, channel), spec in specs.items():
        path = tmp_path / "mirror" / ref / "openapi" / f"{channel}.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(spec), encoding="utf-8")
    return tmp_path / "mirror"


def _section(text: str, heading: str, title: str) -> str:
    """The body of `### title` under `## heading`."""
    body = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return body.split(f"### {title}\n", 1)[1].split("\n### ", 1)[0]


def test_one_pair(mirror: Path) -> None:
    result = _run("changelog", "2026-01-15", "2026-04-15", "--source", str(mirror))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("# Klaviyo API changelog\n")
    assert "## 2026-04-15 (stable)\n" in text
    assert "Compared with 2026-01-15 (stable): 4 → 4 operations; 1 breaking changes, 1 new operations" in text
    breaking = _section(text, "2026-04-15 (stable)", "Breaking")
    assert "- **Lists**" in breaking
    assert "`delete_list` (`DELETE /api/lists/{id}`): Removed, without being deprecated first." in breaking
    added = _section(text, "2026-04-15 (stable)", "Added")
    assert "- **Tags**: `get_tags` (`GET /api/tags`)" in added
    changed = _section(text, "2026-04-15 (stable)", "Changed")
    assert "`get_lists` (`GET /api/lists`): Deleted the query request parameter" in changed
    assert text.index("### Breaking") < text.index("### Added") < text.index("### Changed")


def test_diff_format_changelog_is_the_same_text(mirror: Path) -> None:
    old, new = (str(mirror / ref / "openapi" / "stable.json") for ref in ("2026-01-15", "2026-04-15"))
    result = _run("diff", old, new, "--format", "changelog")
    assert result.exit_code == 0, result.output
    assert f"## {new}\n" in result.stdout and "### Breaking" in result.stdout and "`delete_list`" in result.stdout


def test_whole_mirror_newest_first_stable_then_beta(mirror: Path, tmp_path: Path) -> None:
    out = tmp_path / "CHANGELOG.md"
    result = _run("changelog", "--source", str(mirror), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "3 revision pairs, 2 breaking changes" in result.stderr
    text = out.read_text(encoding="utf-8")
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == ["## 2026-07-15 (stable)", "## 2026-04-15 (stable)", "## 2026-07-15.pre (beta)"]
    july = _section(text, "2026-07-15 (stable)", "Breaking")
    assert "`get_tags` (`GET /api/tags`): The scope lists:read is now required." in july
    assert "No changes to operations, parameters or schemas." in text.split("## 2026-07-15.pre (beta)")[1]


def test_channel_filter_and_usage_errors(mirror: Path) -> None:
    result = _run("changelog", "--source", str(mirror), "--channel", "beta")
    assert result.exit_code == 0, result.output
    assert [line for line in result.stdout.splitlines() if line.startswith("## ")] == ["## 2026-07-15.pre (beta)"]
    assert _run("changelog", "2026-01-15").exit_code == 2
    missing = _run("changelog", "2026-01-15", "1999-01-01", "--source", str(mirror))
    assert missing.exit_code == 2 and "1999-01-01" in missing.stderr


def test_release_order_and_pairs() -> None:
    refs = [("main", "stable"), ("2026-07-15", "stable"), ("2023-06-15", "stable"), ("main", "beta")]
    refs += [("2026-07-15.pre", "beta"), ("2025-01-15.pre", "beta")]
    assert sorted(refs, key=lambda r: revision_order(*r))[:3] == [
        ("2023-06-15", "stable"),
        ("2026-07-15", "stable"),
        ("main", "stable"),
    ]
    assert consecutive_pairs(refs) == [
        (("2023-06-15", "stable"), ("2026-07-15", "stable")),
        (("2026-07-15", "stable"), ("main", "stable")),
        (("2025-01-15.pre", "beta"), ("2026-07-15.pre", "beta")),
        (("2026-07-15.pre", "beta"), ("main", "beta")),
    ]


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/api/data-source-records/{id}", "Data source records"),
        ("/api/profiles", "Profiles"),
        ("/client/subscriptions", "Client subscriptions"),
        ("/{id}", "Other"),
    ],
)
def test_resource_of(path: str, resource: str) -> None:
    assert resource_of(path) == resource
