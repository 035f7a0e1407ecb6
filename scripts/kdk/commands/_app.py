from __future__ import annotations

import typer

__all__ = ["app", "spec_app"]

app = typer.Typer(
    name="kdk",
    help="klaviyo-devkit: fetch, validate and patch Klaviyo's OpenAPI spec; generate a client; run a mock.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
spec_app = typer.Typer(help="Fetch, pin, validate, patch and diff Klaviyo spec revisions.", no_args_is_help=True)
app.add_typer(spec_app, name="spec")
