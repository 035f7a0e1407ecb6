"""`kdk spec validate`: report every problem in a spec (located, named), or say why it cannot be read."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from ._app import spec_app

__all__ = ["OutputFormat", "validate"]


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


@spec_app.command("validate")
def validate(
    path: Annotated[
        Path | None,
        typer.Argument(help="Spec file (JSON; YAML by .yaml/.yml extension). (default: the pinned spec in the cache)"),
    ] = None,
    raw: Annotated[
        bool, typer.Option("--raw", help="Validate the spec as it is, instead of after the overlay (kdk spec patch).")
    ] = False,
    output: Annotated[OutputFormat, typer.Option("--format", help="text: one line per finding; json: a list.")] = (
        OutputFormat.text
    ),
    lenient: Annotated[
        bool,
        typer.Option("--lenient", help="Read JSON with raw control characters inside strings, then validate the rest."),
    ] = False,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on warnings too (errors always fail; info never does).")
    ] = False,
) -> None:
    """Validate a spec: OpenAPI structure (openapi-spec-validator), $ref resolution (prance), Klaviyo conventions,
    and the shapes the overlay fixes (each fix's own detector).

    Every finding has a severity: error (breaks the generator, the mock or a validator), warning, info (a
    convention of the revision's era). Exit 0 when nothing fails, 1 when an error does (or a warning, with
    --strict), 2 when the spec cannot be read.
    """
    from kdk.spec import (
        Finding,
        LockError,
        Severity,
        SpecLoadError,
        apply_overlay,
        failing,
        load_spec,
        pinned_spec_path,
        validate_spec,
    )

    try:
        source = path if path is not None else pinned_spec_path()
        spec = load_spec(source, lenient=lenient)
    except (SpecLoadError, LockError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    overlay_failure: list[Finding] = []
    if not raw:
        try:
            spec = apply_overlay(spec).spec
        except Exception as exc:  # a spec too broken to patch: say so, and validate it as it is
            message = f"the overlay cannot patch this spec ({type(exc).__name__}: {exc}); validated raw"
            overlay_failure.append(Finding("#", "overlay", message))
            raw = True
    findings = overlay_failure + validate_spec(spec)
    failed = failing(findings, strict=strict)

    what = "raw" if raw else "patched"
    if output is OutputFormat.json:
        typer.echo(json.dumps([f.as_dict() for f in findings], indent=2))
    else:
        for finding in findings:
            typer.echo(f"{finding.pointer}: {finding.severity}: {finding.rule}: {finding.message}")
    counts = {s: sum(f.severity is s for f in findings) for s in Severity}
    tally = ", ".join(f"{n} {s}{'s' if n != 1 and s is not Severity.info else ''}" for s, n in counts.items())
    by_rule: dict[str, int] = {}
    for finding in findings:
        by_rule[finding.rule] = by_rule.get(finding.rule, 0) + 1
    rules = f" ({', '.join(f'{rule} {n}' for rule, n in sorted(by_rule.items()))})" if by_rule else ""
    verdict = f"{len(failed)} failing{' (--strict)' if strict else ''}" if failed else "valid"
    typer.echo(f"{source} ({what}): {verdict}; {tally}{rules}", err=True)
    raise typer.Exit(1 if failed else 0)
