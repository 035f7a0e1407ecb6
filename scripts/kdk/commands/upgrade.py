"""`kdk upgrade --to REF`: fetch, validate, patch, diff, regenerate, contract-test, report, then pin."""

from __future__ import annotations

from pathlib import Path

import typer

from ._app import app
from ._options import status_bar

__all__ = ["upgrade"]


@app.command("upgrade")
def upgrade(
    to: str = typer.Option(
        ..., "--to", help="The revision to move to: a ref of klaviyo/openapi (2026-07-15, main, 2026-07-15.pre)."
    ),
    channel: str | None = typer.Option(
        None, "--channel", help="stable or beta (default: beta for `.pre` refs, stable otherwise)."
    ),
    source: str | None = typer.Option(
        None, "--source", help="Where to fetch from (URL or mirror dir); default as `kdk spec fetch`."
    ),
    report_dir: Path | None = typer.Option(
        None, "--report-dir", help="Where to write UPGRADE-<old>-to-<new>.md (default: the project root)."
    ),
    force: bool = typer.Option(False, "--force", help="Run every step even if the lock already pins this revision."),
) -> None:
    """Move the project to another spec revision, all or nothing.

    Steps: fetch, validate, patch, diff (against the locked revision), generate, contract, report, lock.

    The lock is updated only when every step passes.

    On failure the lock, the spec cache and the generated client stay exactly as they were; the failed step is named.

    Exit 0 on success, 1 when a step failed, 2 when there is no lock to upgrade from.
    """
    from kdk.spec import LockError
    from kdk.upgrade import StepResult, run_upgrade

    with status_bar(f"kdk upgrade --to {to}") as progress:

        def show(result: StepResult) -> None:
            mark = "ok  " if result.ok else "FAIL"
            typer.echo(f"{mark} {result.name:<9} {result.seconds:6.1f}s  {result.summary}", err=not result.ok)
            progress(f"{result.name} done, next step running")

        try:
            outcome = run_upgrade(to, channel=channel, source=source, report_dir=report_dir, on_step=show, force=force)
        except LockError as exc:
            typer.echo(f"kdk upgrade: {exc}", err=True)
            raise typer.Exit(2) from None
    if outcome.noop:
        typer.echo(f"nothing to do: {outcome.reason} (use --force to run every step anyway)")
        return
    if not outcome.ok:
        typer.echo(
            f"kdk upgrade: the {outcome.failed_step} step failed: {outcome.reason}\n"
            "the lock, the spec cache and the generated client are unchanged",
            err=True,
        )
        raise typer.Exit(1)
    ctx = outcome.context
    typer.echo(f"upgraded {ctx.old_label} -> {ctx.new_label}; report: {outcome.report_path}")
