"""`kdk spec matrix`: fetch, validate, generate, start the mock and run the contract on every revision."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import spec_app
from ._options import SpecChannel

if TYPE_CHECKING:
    from kdk.matrix import MatrixRow

__all__ = ["matrix"]


class OutputFormat(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


@contextmanager
def _progress(total: int) -> Iterator[Callable[[MatrixRow], None] | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise (CI logs stay clean)."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("matrix", total=total)
        failed = 0

        def finished(row: MatrixRow) -> None:
            nonlocal failed
            failed += not row.ok
            mark = "ok" if row.ok else "FAILED"
            progress.console.print(f"{row.revision.label}: {mark} ({row.seconds:.0f} s)")
            progress.update(task, advance=1, description=f"matrix ({failed} failed)" if failed else "matrix")

        yield finished


@spec_app.command("matrix")
def matrix(
    source: Annotated[
        str | None,
        typer.Option(help="Mirror directory (`<ref>/openapi/<channel>.json`) or base URL; default as `kdk spec diff`."),
    ] = None,
    refs: Annotated[
        list[str] | None,
        typer.Option("--refs", help="Only these refs (repeatable or comma-separated); default: all the mirror holds."),
    ] = None,
    channel: Annotated[SpecChannel, typer.Option(help="Which channel's specs.")] = SpecChannel.all,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="Table format.")] = OutputFormat.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the table here instead of stdout.")
    ] = None,
    skip_contract: Annotated[bool, typer.Option("--skip-contract", help="Stop after starting the mock.")] = False,
    profile: Annotated[str, typer.Option(help="Contract profile: default, full, deep or smoke.")] = "default",
    mypy: Annotated[bool, typer.Option(help="Run mypy --strict over each generated client (minutes each).")] = False,
    strict: Annotated[bool, typer.Option(help="Validation warnings fail a revision too.")] = False,
    jobs: Annotated[int, typer.Option(min=1, help="Revisions run side by side (one worker process each).")] = 1,
) -> None:
    """Run fetch -> validate -> generate -> mock start -> contract on each revision and print one row per revision.

    The lock and generated/ are never touched: specs go to the content-keyed cache, clients to temp dirs.

    Exit 0 when every row is green, 1 when any revision failed a stage, 2 when no revisions could be selected.
    """
    from kdk.matrix import MatrixOptions, render, run_matrix, select_revisions, splice
    from kdk.spec.diff import spec_source

    resolved = spec_source(source)
    wanted = [ref.strip() for value in refs or () for ref in value.split(",") if ref.strip()]
    try:
        revisions = select_revisions(resolved, wanted, channel.value)
    except ValueError as exc:
        typer.echo(f"kdk spec matrix: {exc}", err=True)
        raise typer.Exit(2) from None
    if not revisions:
        which = "" if channel is SpecChannel.all else f"{channel.value} "
        typer.echo(f"kdk spec matrix: no {which}revisions in {resolved}", err=True)
        raise typer.Exit(2)
    options = MatrixOptions(source=resolved, contract=not skip_contract, profile=profile, mypy=mypy, strict=strict)
    with _progress(len(revisions)) as on_row:
        rows = run_matrix(revisions, options, jobs=jobs, on_row=on_row)
    text = render(rows, output_format.value)
    if output is not None:
        existing = output.read_text(encoding="utf-8") if output.is_file() else None
        spliced = splice(existing, text) if existing is not None else None
        output.write_text(spliced if spliced is not None else text, encoding="utf-8")
        failed = sum(not r.ok for r in rows)
        typer.echo(f"wrote {output} ({len(rows)} revisions, {failed} failed)", err=True)
    else:
        typer.echo(text, nl=False)
    raise typer.Exit(0 if all(r.ok for r in rows) else 1)
