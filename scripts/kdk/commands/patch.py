"""`kdk spec patch`: run the overlay on a spec, write the patched spec to the cache, print what each fix did."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

import typer

from ._app import spec_app

__all__ = ["patch"]


@spec_app.command("patch")
def patch(
    path: Annotated[
        Path | None,
        typer.Argument(help="Raw spec file. (default: the pinned spec in the cache)"),
    ] = None,
    lenient: Annotated[
        bool, typer.Option("--lenient", help="Read JSON with raw control characters inside strings.")
    ] = False,
) -> None:
    """Apply the overlay (named, shape-based fixes) and write the patched spec to openapi/.cache/patched/<sha256>.json.

    The cache key is the sha256 of the raw spec's bytes. Prints one line per fix: name, count, reason.
    """
    from kdk.spec import LockError, SpecLoadError, apply_overlay, load_spec, pinned_spec_path, write_patched

    try:
        source = path if path is not None else pinned_spec_path()
        spec = load_spec(source, lenient=lenient)
        sha256 = hashlib.sha256(source.read_bytes()).hexdigest()  # the cache key: the raw bytes
    except (SpecLoadError, LockError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    result = apply_overlay(spec, copy_spec=False)
    written = write_patched(result, sha256)
    width = max(len(r.name) for r in result.report) if result.report else 0
    for fix in result.report:
        typer.echo(f"{fix.name:<{width}}  {fix.count:>5}  {fix.reason}")
    typer.echo(f"{result.total} changes by {len(result.report)} fixes -> {written}")
