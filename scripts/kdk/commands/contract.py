"""`kdk contract`: schemathesis with every default check against the mock (in-process) or a URL."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._app import app
from ._options import JsonOption, LockOption, apply_lock, echo_json, status_bar

if TYPE_CHECKING:
    from contract_tests import ContractResult

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
    stateless: Annotated[
        bool,
        typer.Option(
            "--stateless", help="With target `mock`: the example-mode mock instead of the stateful (in-memory) default."
        ),
    ] = False,
    workers: Annotated[int, typer.Option(min=1, help="schemathesis worker threads.")] = 1,
    seed: Annotated[int | None, typer.Option(help="Hypothesis seed (default 0: reproducible runs).")] = 0,
    spec: Annotated[
        Path | None,
        typer.Option(help="Hold the mock to this raw Klaviyo spec (any revision) instead of the pinned one."),
    ] = None,
    lock_file: LockOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hold a server to the pinned, patched spec: every operation, every default schemathesis check.

    Prints operations x checks and each failure with a curl line to reproduce it; exits 1 on any failure.
    """
    from contract_tests import ContractOptions, run_contract

    options = ContractOptions(
        target=target, stateless=stateless, profile=profile, operation_ids=operation, workers=workers, seed=seed
    )
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
    apply_lock(lock_file)
    if spec is None:
        _ensure_pinned_spec()
    with status_bar("kdk contract") as show:
        options.on_event = _progress(show)
        result = run_contract(options)
    if junit is not None:
        result.write_junit(junit)
    if as_json:
        echo_json(_as_document(result, junit))
    else:
        typer.echo(result.summary())
        if junit is not None:
            typer.echo(f"JUnit report: {junit}")
    raise typer.Exit(0 if result.ok else 1)


def _progress(show: Callable[[str], None]) -> Callable[[Any], None]:
    """Counts the operations schemathesis has finished (its engine events) for the status bar."""
    done: set[str] = set()

    def on_event(event: Any) -> None:
        if type(event).__name__ == "ScenarioFinished":
            label = str(getattr(event, "label", "") or "")
            done.add(label)
            show(f"{len(done)} operation(s) done, last: {label}")

    return on_event


def _as_document(result: ContractResult, junit: Path | None) -> dict[str, Any]:
    totals = result.check_totals()
    return {
        "ok": result.ok,
        "target": result.target,
        "profile": result.profile,
        "elapsed": round(result.elapsed, 2),
        "operations": len(result.operations),
        "tested_operations": len(result.tested_operations),
        "checks": {name: {"passed": t.passed, "failed": t.failed} for name, t in totals.items()},
        "failures": [dataclasses.asdict(f) for f in result.failures],
        "errors": result.errors,
        "junit": str(junit) if junit else None,
    }


def _ensure_pinned_spec() -> None:
    """The pinned spec in the cache (fetched again if missing), or one `error:` line saying how to pin one."""
    from kdk.spec import FetchError, ensure_spec

    try:
        ensure_spec(require_lock=True)
    except FetchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
