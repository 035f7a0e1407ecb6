"""The report as text (terminal), markdown (PR comments, UPGRADE files) or JSON (tools)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from itertools import groupby

from ._changelog import render_changelog
from ._model import Change, DiffReport, Severity

__all__ = ["FORMATS", "markdown_changes", "render", "render_json", "render_markdown", "render_text"]

_ICON = {Severity.BREAKING: "❌", Severity.WARNING: "⚠️", Severity.INFO: "ℹ️"}  # noqa: RUF001


def _summary(report: DiffReport) -> str:
    counts = report.counts()
    return ", ".join(f"{counts[s]} {s.value}" for s in Severity)


def render_text(report: DiffReport) -> str:
    lines = [
        f"{report.old_label} -> {report.new_label}: {len(report.changes)} changes ({_summary(report)})",
        f"operations: {report.old_operations} -> {report.new_operations}",
    ]
    for change in report.changes:
        lines.append(
            f"{change.severity.value.upper():8} {change.rule}  {change.method.upper()} {change.path}"
            f" ({change.operation_id}): {change.message}"
        )
        lines.append(f"{'':9}old: {change.old_pointer or '-'}")
        lines.append(f"{'':9}new: {change.new_pointer or '-'}")
    return "\n".join(lines) + "\n"


def _by_operation(changes: Iterable[Change]) -> Iterable[tuple[tuple[str, str, str], list[Change]]]:
    ordered = sorted(changes, key=lambda c: c.sort_key)
    for key, group in groupby(ordered, key=lambda c: (c.path, c.method, c.operation_id)):
        yield key, list(group)


def markdown_changes(changes: Iterable[Change], heading: str = "###") -> str:
    """The per-operation bullet lists, reused by `kdk upgrade`'s UPGRADE file."""
    out: list[str] = []
    for (path, method, operation_id), group in _by_operation(changes):
        out.append(f"{heading} `{method.upper()} {path}` — `{operation_id}`\n")
        for c in group:
            out.append(f"- {_ICON[c.severity]} **{c.rule}**: {c.message}  ")
            out.append(f"  old `{c.old_pointer or '-'}` · new `{c.new_pointer or '-'}`")
        out.append("")
    return "\n".join(out)


def render_markdown(report: DiffReport) -> str:
    counts = report.counts()
    out = [
        f"# API changes: {report.old_label} → {report.new_label}\n",
        f"Operations: {report.old_operations} → {report.new_operations}.\n",
        "| severity | changes |",
        "| --- | --- |",
        *(f"| {_ICON[s]} {s.value} | {counts[s]} |" for s in Severity),
        "",
    ]
    if not report.changes:
        out.append("No changes.\n")
    for severity in Severity:
        changes = report.of(severity)
        if changes:
            out.append(f"## {_ICON[severity]} {severity.value.capitalize()} ({len(changes)})\n")
            out.append(markdown_changes(changes))
    return "\n".join(out)


def render_json(report: DiffReport) -> str:
    document = {
        "old": report.old_label,
        "new": report.new_label,
        "operations": {"old": report.old_operations, "new": report.new_operations},
        "summary": {s.value: n for s, n in report.counts().items()},
        "changes": [c.to_dict() for c in report.changes],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _changelog(report: DiffReport) -> str:
    return render_changelog([report])


FORMATS = {"text": render_text, "markdown": render_markdown, "json": render_json, "changelog": _changelog}


def render(report: DiffReport, fmt: str) -> str:
    return FORMATS[fmt](report)
