"""`scripts/bench_state.py` runs end to end at a tiny size and writes its table, docs section and plot.
(Only the shape is checked: speed is for the benchmark's table, never for a test.)"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bench_state.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_state", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_state", module)
    spec.loader.exec_module(module)
    return module


def test_a_tiny_run_writes_the_table_the_docs_section_and_the_plot(tmp_path: Path) -> None:
    docs, image = tmp_path / "benchmarks.md", tmp_path / "state.png"
    docs.write_text("# Benchmarks\n\nEarlier text stays.\n", encoding="utf-8")
    args = ["--sizes", "small", "--backends", "memory", "--requests", "3", "--max-seconds", "1", "--duration", "1"]
    run = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--docs", str(docs), "--plot", str(image)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    bench = _module()
    lines = run.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| backend | profiles | resources |"))
    latency_row, cpu_row = (line for line in lines if line.startswith("| memory |"))
    width = len(bench.COLUMNS) + 1  # every column, and `n`
    assert header.count("|") == latency_row.count("|") == width + 1
    assert cpu_row.count("|") == len(bench.CPU_COLUMNS) + 1
    cells = [c.strip() for c in latency_row.strip("|").split("|")]
    assert cells[1] == "50" and all(cells), cells
    assert "load average" in run.stdout and "CPUs" in run.stdout
    assert "bare ASGI app" in run.stdout
    text = docs.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks\n\nEarlier text stays.")
    assert text.count(bench.MARK_START) == 1 and header in text and "state.png" in text
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_docs_section_is_replaced_not_repeated(tmp_path: Path) -> None:
    bench = _module()
    docs = tmp_path / "benchmarks.md"
    docs.write_text("# Benchmarks\n", encoding="utf-8")
    bench.write_docs(docs, "first table", None)
    bench.write_docs(docs, "second table", None)
    text = docs.read_text(encoding="utf-8")
    assert text.count(bench.MARK_START) == 1 and "second table" in text and "first table" not in text


def test_results_kept_between_runs_are_merged_by_backend_and_size(tmp_path: Path) -> None:
    bench = _module()
    results = tmp_path / "rows.json"
    first = [{"backend": "memory", "profiles": 1000, "x": 1}, {"backend": "sqlite", "profiles": 1000, "x": 2}]
    bench.merge_results(results, first, ["memory", "sqlite"])
    merged = bench.merge_results(results, [{"backend": "memory", "profiles": 1000, "x": 3}], ["memory", "sqlite"])
    assert [(r["backend"], r["x"]) for r in merged] == [("memory", 3), ("sqlite", 2)]


def test_a_row_that_stops_half_way_keeps_its_figures_and_says_where_it_stopped(tmp_path: Path) -> None:
    """A 1M row takes hours: a figure that fails (or a run stopped meanwhile) loses none measured before it."""
    import argparse

    import pytest

    bench = _module()
    results = tmp_path / "rows.json"
    args = argparse.Namespace(
        requests=3, max_seconds=1.0, duration=1, connections=4, start_limit=600.0, bulk_profiles=10, results=results
    )

    def stalled(*_: object) -> dict[str, float]:
        raise RuntimeError("the import stalled")

    kept: list[dict[str, object]] = []

    def keep(row: dict[str, object]) -> None:
        kept.append(dict(row))
        bench.merge_results(results, [dict(row)], ["memory"])

    original, bench._bulk = bench._bulk, stalled
    try:
        with pytest.raises(RuntimeError, match="stalled"):
            bench.measure("memory", "memory", 50, "small", args, keep)
    finally:
        bench._bulk = original
    (row,) = bench.merge_results(results, [], ["memory"])
    assert row["unfinished"].startswith("bulk (RuntimeError: the import stalled")
    for figure in ("load", "create", "create_httpclient", "get_p50", "email_p50", "page_p50", "aggregates_p50", "rss"):
        assert row.get(figure) is not None, figure
    assert "bulk" not in row
    # Kept figure by figure, not only at the end.
    assert kept[0]["unfinished"] == "create" and kept[0]["load"] and "create" not in kept[0]
    assert any("get_p50" in r and "email_p50" not in r for r in kept)
    text = bench.table([row], {"mock": "1", "bare": "1", "ratio": "100%"}, args, None)
    assert "memory 50: unfinished at bulk (RuntimeError: the import stalled" in text
