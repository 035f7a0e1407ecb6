"""`kdk contract`: schemathesis with every default check against the mock (in-process) or a URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ._app import app

__all__ = ["contract"]


@app.command()
def contract(
    target: Annotated[
        str, typer.Option(help="`mock` (the mock app in-process over ASGI) or a base URL, e.g. http://127.0.0.1:4010.")
    ] = "mock",
    live: Annotated[
        bool,
        typer.Option(
            "--live", help="Read-only checks (GET, valid data only) against https://a.klaviyo.com with KLAVIYO_API_KEY."
        ),
    ] = False,
    junit: Annotated[Path | None, typer.Option(help="Write a JUnit XML report here.")] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            help="default (CI, no coverage phase), full (+coverage), deep (+many examples) or smoke; "
            "env KDK_CONTRACT_PROFILE."
        ),
    ] = None,
    operation: Annotated[
        list[str] | None, typer.Option("--operation", "-o", help="Only this operationId (repeatable).")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="schemathesis worker threads.")] = 1,
    seed: Annotated[int | None, typer.Option(help="Hypothesis seed (default 0: reproducible runs).")] = 0,
    spec: Annotated[
        Path | None,
        typer.Option(help="Hold the mock to this raw Klaviyo spec (any revision) instead of the pinned one."),
    ] = None,
) -> None:
    """Hold a server to the pinned, patched spec: every operation, every default schemathesis check.

    Prints operations x checks and each failure with a curl line to reproduce it; exits 1 on any failure.
    """
    from contract_tests import ContractOptions, run_contract

    options = ContractOptions(target=target, profile=profile, operation_ids=operation, workers=workers, seed=seed)
    if spec is not None:
        from contract_tests import revision_options

        options = revision_options(spec, options)
    if live:
        key = os.environ.get("KLAVIYO_API_KEY")
        if not key:
            typer.echo("kdk contract --live: KLAVIYO_API_KEY is not set; nothing to check against.", err=True)
            raise typer.Exit(2)
        options.target = target if target != "mock" else "https://a.klaviyo.com"
        options.api_key = key
        options.read_only = True
        options.workers = 1
    result = run_contract(options)
    typer.echo(result.summary())
    if junit is not None:
        result.write_junit(junit)
        typer.echo(f"JUnit report: {junit}")
    raise typer.Exit(0 if result.ok else 1)
