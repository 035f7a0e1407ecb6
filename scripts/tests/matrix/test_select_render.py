"""Which revisions a matrix runs, in which order, and how a row is shown (no pipeline runs here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kdk.matrix import (
    BEGIN_MARKER,
    END_MARKER,
    HEADERS,
    ContractStage,
    GenerateStage,
    MatrixRow,
    MockStage,
    Revision,
    ValidateStage,
    render,
    select_revisions,
    splice,
    table_cells,
)

from .conftest import small_spec, write_mirror


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    refs = [("main", "stable"), ("2026-01-15", "stable"), ("2023-06-15", "stable"), ("2026-01-15.pre", "beta")]
    return write_mirror(tmp_path / "m", {key: small_spec(key[0]) for key in [*refs, ("main", "beta")]})


def test_every_revision_stable_first_in_date_order_then_main(mirror: Path) -> None:
    assert select_revisions(str(mirror)) == [
        Revision("2023-06-15", "stable"),
        Revision("2026-01-15", "stable"),
        Revision("main", "stable"),
        Revision("2026-01-15.pre", "beta"),
        Revision("main", "beta"),
    ]


def test_channel_and_refs_filter(mirror: Path) -> None:
    assert select_revisions(str(mirror), channel="beta") == [
        Revision("2026-01-15.pre", "beta"),
        Revision("main", "beta"),
    ]
    assert select_revisions(str(mirror), ["main"]) == [Revision("main", "stable"), Revision("main", "beta")]
    assert select_revisions(str(mirror), ["main"], "stable") == [Revision("main", "stable")]


def test_a_ref_the_mirror_lacks_is_kept_so_its_row_reports_it(mirror: Path) -> None:
    assert select_revisions(str(mirror), ["1999-01-01", "2026-01-15.pre"]) == [
        Revision("1999-01-01", "stable"),
        Revision("2026-01-15.pre", "beta"),
    ]


def test_a_url_source_needs_refs() -> None:
    with pytest.raises(ValueError, match="--refs"):
        select_revisions("https://example.invalid/openapi")
    assert select_revisions("https://example.invalid/openapi", ["2026-07-15.pre"]) == [
        Revision("2026-07-15.pre", "beta")
    ]
    with pytest.raises(ValueError, match="unknown channel"):
        select_revisions("https://example.invalid/openapi", ["main"], "nightly")


def _green() -> MatrixRow:
    return MatrixRow(
        Revision("2026-07-15", "stable"),
        operations=12,
        validate=ValidateStage(errors=0, warnings=2, seconds=1.0),
        generate=GenerateStage(12, 12, 40, 0, 0, 31.25),
        mock=MockStage(2.5),
        contract=ContractStage(12, 12, 0, 60.0, "default"),
        seconds=95.0,
    )


def _red() -> MatrixRow:
    row = MatrixRow(
        Revision("2023-06-15", "stable"),
        operations=10,
        validate=ValidateStage(errors=3, warnings=0, seconds=1.0),
        generate=GenerateStage(9, 10, 30, 1, 2, 20.0),
        mock=MockStage(2.0),
    )
    row.fail("validate", "3 errors, 0 warnings after the overlay")
    row.fail("contract", "crashed: RuntimeError: boom")
    return row


def test_cells_say_what_each_stage_measured() -> None:
    assert table_cells(_green()) == [
        "2026-07-15", "stable", "12", "0/2", "12/40/0", "31.2", "2.5", "12/0", "60.0", "ok",
    ]  # fmt: skip
    assert table_cells(_red()) == [
        "2023-06-15", "stable", "10", "3/0", "9 of 10/30/1 (2 schemas dropped)", "20.0", "2.0", "error", "-",
        "FAILED (validate, contract)",
    ]  # fmt: skip


def test_a_row_that_never_got_going_shows_dashes() -> None:
    row = MatrixRow(Revision("1999-01-01", "stable"))
    row.fail("fetch", "no such ref")
    assert table_cells(row)[2:] == ["-", "-", "-", "-", "-", "-", "-", "FAILED (fetch)"]


def test_text_markdown_and_json() -> None:
    rows = [_green(), _red()]
    text = render(rows, "text")
    assert text.splitlines()[0].split()[:2] == ["revision", "channel"]
    assert "2023-06-15 (stable) contract: crashed: RuntimeError: boom" in text
    assert text.rstrip().endswith("2 revisions: 1 ok, 1 failed (95 s of work)")
    markdown = render(rows, "markdown")
    assert markdown.startswith("| " + " | ".join(HEADERS) + " |")
    assert "| ✅ ok |" in markdown and "| ❌ FAILED (validate, contract) |" in markdown
    document = json.loads(render(rows, "json"))
    assert document["summary"] == {"revisions": 2, "ok": 1, "failed": 1}
    first = document["revisions"][0]
    assert (first["ref"], first["channel"], first["ok"], first["generate"]["models"]) == (
        "2026-07-15",
        "stable",
        True,
        40,
    )
    assert document["revisions"][1]["problems"][0] == {
        "stage": "validate",
        "message": "3 errors, 0 warnings after the overlay",
    }


def test_splice_replaces_only_between_the_markers() -> None:
    document = f"# Title\n\nbefore\n{BEGIN_MARKER}\nold table\n{END_MARKER}\nafter\n"
    assert splice(document, "| new |\n") == f"# Title\n\nbefore\n{BEGIN_MARKER}\n| new |\n{END_MARKER}\nafter\n"
    assert splice("no markers here\n", "| new |\n") is None
