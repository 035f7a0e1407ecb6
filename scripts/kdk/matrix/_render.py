"""The matrix as a text table (terminal), Markdown (README, PR comments) or JSON (tools)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ._model import MatrixRow

__all__ = [
    "BEGIN_MARKER",
    "END_MARKER",
    "FORMATS",
    "HEADERS",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
    "splice",
    "table_cells",
]

HEADERS = (
    "revision",
    "channel",
    "operations",
    "validate errors/warnings",
    "generate operations/models/warnings",
    "generate s",
    "mock start s",
    "contract operations/failures",
    "contract s",
    "result",
)
_NOT_RUN = "-"


def _seconds(value: float | None) -> str:
    return _NOT_RUN if value is None else f"{value:.1f}"


def _failed(row: MatrixRow, stage: str) -> bool:
    return any(p.stage == stage for p in row.problems)


def _missing(row: MatrixRow, stage: str) -> str:
    """A stage with no measurement: it crashed (`error`) or did not run (`-`)."""
    return "error" if _failed(row, stage) else _NOT_RUN


def table_cells(row: MatrixRow) -> list[str]:
    v, g, m, c = row.validate, row.generate, row.mock, row.contract
    generate = _missing(row, "generate")
    if g is not None:
        generate = f"{g.operations}/{g.models}/{g.warnings}"
        if g.operations != g.operations_expected:
            generate = f"{g.operations} of {g.operations_expected}/{g.models}/{g.warnings}"
        if g.dropped_schemas:
            generate += f" ({g.dropped_schemas} schemas dropped)"
        if g.mypy_errors is not None:
            generate += " mypy ok" if g.mypy_errors == 0 else f" mypy {g.mypy_errors} errors"
    contract = _missing(row, "contract")
    if c is not None:
        tested = (
            str(c.operations) if c.operations == c.operations_expected else f"{c.operations} of {c.operations_expected}"
        )
        contract = f"{tested}/{c.failures}"
    failed = ", ".join(dict.fromkeys(p.stage for p in row.problems))
    return [
        row.revision.ref,
        row.revision.channel,
        _NOT_RUN if row.operations is None else str(row.operations),
        f"{v.errors}/{v.warnings}" if v is not None else _missing(row, "validate"),
        generate,
        _seconds(g.seconds if g is not None else None),
        _seconds(m.seconds) if m is not None else _missing(row, "mock"),
        contract,
        _seconds(c.seconds if c is not None else None),
        "ok" if row.ok else f"FAILED ({failed})",
    ]


def _summary(rows: Sequence[MatrixRow]) -> str:
    failed = sum(not r.ok for r in rows)
    total = sum(r.seconds for r in rows)
    return f"{len(rows)} revisions: {len(rows) - failed} ok, {failed} failed ({total:.0f} s of work)"


def _problem_lines(rows: Sequence[MatrixRow]) -> list[str]:
    return [f"{row.revision.label} {p.stage}: {p.message}" for row in rows for p in row.problems]


def render_text(rows: Sequence[MatrixRow]) -> str:
    table = [list(HEADERS), *(table_cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    right = {2, 5, 6, 8}  # numbers line up on the right
    lines = [
        "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ).rstrip()
        for line in table
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    problems = _problem_lines(rows)
    if problems:
        lines += ["", "problems:", *(f"  {p}" for p in problems)]
    return "\n".join([*lines, "", _summary(rows)]) + "\n"


def _md(cell: str) -> str:
    return cell.replace("|", "\\|")


def render_markdown(rows: Sequence[MatrixRow]) -> str:
    lines = [
        "| " + " | ".join(HEADERS) + " |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        cells = table_cells(row)
        cells[-1] = "✅ ok" if row.ok else f"❌ {cells[-1]}"
        lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
    problems = _problem_lines(rows)
    if problems:
        lines += ["", "Problems:", "", *(f"- {_md(p)}" for p in problems)]
    return "\n".join([*lines, "", _summary(rows)]) + "\n"


def render_json(rows: Sequence[MatrixRow]) -> str:
    document = {
        "summary": {"revisions": len(rows), "ok": sum(r.ok for r in rows), "failed": sum(not r.ok for r in rows)},
        "revisions": [r.to_dict() for r in rows],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


FORMATS = {"text": render_text, "markdown": render_markdown, "json": render_json}


def render(rows: Sequence[MatrixRow], fmt: str) -> str:
    return FORMATS[fmt](rows)


BEGIN_MARKER = "<!-- matrix:begin -->"
END_MARKER = "<!-- matrix:end -->"


def splice(document: str, table: str) -> str | None:
    """`document` with the text between its matrix markers replaced by `table` (how the README's table is
    refreshed); None when the document has no such markers."""
    start, end = document.find(BEGIN_MARKER), document.find(END_MARKER)
    if start < 0 or end < start:
        return None
    return document[: start + len(BEGIN_MARKER)] + "\n" + table.rstrip("\n") + "\n" + document[end:]
