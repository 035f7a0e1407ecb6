"""`kdk spec diff OLD NEW`: what changed between two revisions, classified breaking / warning / info."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from ._app import spec_app

__all__ = ["diff"]


class OutputFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


class FailOn(StrEnum):
    breaking = "breaking"
    warning = "warning"


@spec_app.command("diff")
def diff(
    old: str = typer.Argument(
        ..., help="Old revision: a ref of klaviyo/openapi (2026-04-15, main, 2026-07-15.pre) or a spec file."
    ),
    new: str = typer.Argument(..., help="New revision: a ref or a spec file."),
    channel: str | None = typer.Option(
        None, "--channel", help="stable or beta (default: beta for `.pre` refs, stable otherwise)."
    ),
    output_format: OutputFormat = typer.Option(OutputFormat.text, "--format", help="Report format."),
    fail_on: FailOn | None = typer.Option(
        None, "--fail-on", help="Exit 1 when a change at least this severe is found (for CI)."
    ),
    source: str | None = typer.Option(
        None, "--source", help="Where refs are fetched from (URL or mirror dir); default as `kdk spec fetch`."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the report here instead of stdout."),
) -> None:
    """Report per operation what changed from OLD to NEW, with oasdiff-style rule ids and JSON pointers.

    Both sides are patched through the overlay and read with `$ref`s resolved: moving a schema is no change.

    Exit 0; 1 with --fail-on when a change that severe is found; 2 when a side cannot be read.
    """
    from kdk.spec import SpecLoadError
    from kdk.spec.diff import Severity, SourceError, diff_specs, load_side, render

    try:
        before = load_side(old, channel, source)
        after = load_side(new, channel, source)
    except (SourceError, SpecLoadError) as exc:
        typer.echo(f"kdk spec diff: {exc}", err=True)
        raise typer.Exit(2) from None
    report = diff_specs(before.spec, after.spec, old_label=before.label, new_label=after.label)
    text = render(report, output_format.value)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        counts = ", ".join(f"{n} {s.value}" for s, n in report.counts().items())
        typer.echo(f"wrote {output} ({counts})", err=True)
    else:
        typer.echo(text, nl=False)
    if fail_on is not None and report.meets(Severity(fail_on.value)):
        raise typer.Exit(1)
