"""`kdk spec diff OLD NEW`: what changed between two revisions, classified breaking / warning / info.
`kdk spec changelog`: the same changes as a human changelog, for one pair or every consecutive pair of a mirror."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer

from ._app import spec_app
from ._options import SpecChannel

__all__ = ["changelog", "diff"]


class OutputFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"
    changelog = "changelog"


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


@spec_app.command("changelog")
def changelog(
    old: str | None = typer.Argument(None, help="Old revision (a ref or a spec file); omit both for a whole mirror."),
    new: str | None = typer.Argument(None, help="New revision (a ref or a spec file)."),
    channel: SpecChannel = typer.Option(
        SpecChannel.all,
        "--channel",
        help="With two refs: their channel (all: beta for `.pre` refs); else which to list.",
    ),
    source: str | None = typer.Option(
        None, "--source", help="Where refs are fetched from (URL or mirror dir); default as `kdk spec fetch`."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the changelog here instead of stdout."),
) -> None:
    """A human changelog: per revision, its breaking changes, new operations and other changes, by resource.

    With OLD and NEW: that pair. Without them: every consecutive pair of revisions in the mirror (`--source`
    directory, default the local mirror), stable then beta, newest first within each.

    Exit 0; 2 when a side cannot be read or there is nothing to compare.
    """
    from kdk._paths import mirror_revisions
    from kdk.spec import SpecLoadError
    from kdk.spec.diff import (
        DiffReport,
        Severity,
        SourceError,
        SpecSide,
        consecutive_pairs,
        diff_specs,
        load_side,
        render_changelog,
        spec_source,
    )

    wanted = None if channel is SpecChannel.all else channel.value
    if (old is None) != (new is None):
        typer.echo("kdk spec changelog: give both OLD and NEW, or neither (a whole mirror)", err=True)
        raise typer.Exit(2)
    if old is not None and new is not None:
        pairs: list[tuple[tuple[str, str | None], tuple[str, str | None]]] = [((old, wanted), (new, wanted))]
    else:
        resolved = spec_source(source)
        if not Path(resolved).is_dir():
            typer.echo(f"kdk spec changelog: {resolved} is not a mirror directory: name OLD and NEW", err=True)
            raise typer.Exit(2)
        held = [(ref, ch) for ref, ch in mirror_revisions(Path(resolved)) if wanted in (None, ch)]
        newest_first = list(reversed(consecutive_pairs(held)))
        pairs = sorted(newest_first, key=lambda pair: pair[1][1] != "stable")  # stable, then beta
        source = resolved
    if not pairs:
        typer.echo("kdk spec changelog: fewer than two revisions to compare", err=True)
        raise typer.Exit(2)
    reports: list[DiffReport] = []
    loaded: dict[tuple[str, str | None], SpecSide] = {}
    try:
        for (old_ref, old_channel), (new_ref, new_channel) in pairs:
            keys = [(old_ref, old_channel), (new_ref, new_channel)]
            # Consecutive pairs share a revision: keep the last pair's sides (3 MB specs), load the other one.
            loaded = {key: loaded[key] if key in loaded else load_side(key[0], key[1], source) for key in keys}
            before, after = (loaded[key] for key in keys)
            reports.append(diff_specs(before.spec, after.spec, old_label=before.label, new_label=after.label))
    except (SourceError, SpecLoadError) as exc:
        typer.echo(f"kdk spec changelog: {exc}", err=True)
        raise typer.Exit(2) from None
    text = render_changelog(reports)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        breaking = sum(len(r.of(Severity.BREAKING)) for r in reports)
        typer.echo(f"wrote {output} ({len(reports)} revision pairs, {breaking} breaking changes)", err=True)
    else:
        typer.echo(text, nl=False)
