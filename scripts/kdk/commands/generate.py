"""`kdk generate`: regenerate the typed client `generated/klaviyo_client` from the pinned, patched spec."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ._app import app
from ._options import JsonOption, LockOption, apply_lock, echo_json, status_bar

if TYPE_CHECKING:
    from kdk.generate import CheckResult, Report

__all__ = ["generate"]


def _print_report(report: Report, package: Path) -> None:
    source = "cached tree" if report.cached else "generated"
    typer.echo(f"klaviyo_client {report.version} (revision {report.revision}) -> {package}  [{source}]")
    typer.echo(f"  operations  {report.operations_generated}/{report.operations_expected}")
    typer.echo(f"  models      {report.models}  ({report.modules} modules)")
    typer.echo(f"  warnings    {len(report.warnings)}")
    typer.echo(f"  dropped     {len(report.dropped_schemas)} schema(s), {len(report.missing_operations)} operation(s)")
    phases = ", ".join(f"{k} {v:.1f}s" for k, v in report.timings.items())
    typer.echo(f"  time        {report.seconds:.1f}s ({phases})")
    for line in report.missing_operations:
        typer.echo(f"  missing operation: {line}", err=True)
    for line in report.dropped_schemas:
        typer.echo(f"  dropped schema: {line}", err=True)
    for line in report.warnings:
        typer.echo(f"  warning: {line.splitlines()[0][:200]}", err=True)


def _print_check(result: CheckResult) -> None:
    typer.echo(f"  check {result.name:<8} {'ok' if result.ok else 'FAILED'}  {result.summary} ({result.seconds:.1f}s)")
    for line in result.problems[:20]:
        typer.echo(f"    {line}", err=True)


@app.command("generate")
def generate(
    output: Annotated[
        Path | None,
        typer.Option(
            help="Directory to write the client project into (pyproject.toml + klaviyo_client/), e.g. in your "
            "own repository. (default: generated/ in the project, or [tool.kdk] generated)"
        ),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option(help="Generate from this raw spec file (patched through the overlay) instead of the pinned one."),
    ] = None,
    force: Annotated[bool, typer.Option(help="Regenerate even if the cache holds this exact tree.")] = False,
    check: Annotated[bool, typer.Option(help="Then run ruff (own config) and import every module.")] = False,
    mypy: Annotated[bool, typer.Option(help="Then run mypy --strict over the package (slow: minutes).")] = False,
    lock_file: LockOption = None,
    as_json: JsonOption = False,
) -> None:
    """Regenerate klaviyo_client and print a report (operations, models, warnings, time).

    Fails if any operation or schema was dropped or the generator warned. The tree is cached under
    <spec cache>/client/<key> (key: spec + generator + templates), so an unchanged spec is instant.
    """
    from kdk.generate import (
        GenerationIncompleteError,
        check_imports,
        check_mypy,
        check_ruff,
        ensure_generated_with_report,
    )
    from kdk.spec import FetchError, LockError, PinnedSpec, SpecLoadError, ensure_spec

    apply_lock(lock_file)
    try:
        with status_bar("kdk generate") as show:
            if spec is None:
                show("checking the pinned spec")
                ensure_spec(require_lock=True)  # a project's cache may be empty: fetch the pinned bytes
            show("generating klaviyo_client (cached trees are reused)")
            patched = PinnedSpec.from_file(spec).patch() if spec is not None else None
            package, report = ensure_generated_with_report(spec=patched, target=output, force=force)
    except (LockError, SpecLoadError, FetchError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except GenerationIncompleteError as exc:
        if as_json:
            echo_json({"ok": False, "error": str(exc), "report": dataclasses.asdict(exc.report)})
        else:
            _print_report(exc.report, output or Path("generated"))
            typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if not as_json:
        _print_report(report, package)
    results = []
    if check or mypy:
        with status_bar("kdk generate --check") as show:
            show("ruff")
            results = [check_ruff(package.parent)]
            show("importing every module")
            results.append(check_imports(package.parent))
            if mypy:
                show("mypy --strict")
                results.append(check_mypy(package.parent))
    if as_json:
        echo_json(
            {
                "ok": all(r.ok for r in results),
                "package": str(package.resolve()),
                "report": dataclasses.asdict(report),
                "checks": [dataclasses.asdict(r) for r in results],
            }
        )
    else:
        for result in results:
            _print_check(result)
    if not all(r.ok for r in results):
        raise typer.Exit(1)
