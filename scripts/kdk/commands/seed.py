"""`kdk seed generate`: a realistic, deterministic demo account as a seed file (mock_server.state._demo)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ._app import app
from ._options import LockOption, apply_lock

__all__ = ["generate", "seed_app"]

seed_app = typer.Typer(
    help="Demo accounts for the mock. `kdk seed generate SIZE --out FILE` writes one as a seed file, which "
    "`kdk mock --seed-data FILE` loads; `kdk mock --demo-data SIZE` loads the same account directly.\n\n"
    "Accounts are named as in seed files: `api_key:<key>` is the account that "
    "`Authorization: Klaviyo-API-Key <key>` reaches (`oauth:<token>` for a Bearer token). Both load into "
    "api_key:pk_test unless told otherwise (--account, --demo-account), and only into an account that is still "
    "empty, so a restart or a second worker on one SQLite file does not load it twice.",
    no_args_is_help=True,
)
app.add_typer(seed_app, name="seed")


@seed_app.command()
def generate(
    size: Annotated[
        str,
        typer.Argument(
            help="small (~50 profiles, for tests), 1k, 10k, 100k, 1m, or a number of profiles (250k, 2500)."
        ),
    ],
    out: Annotated[
        Path | None, typer.Option(help="Write the seed file here (JSON; .yaml/.yml: YAML). Default: stdout (JSON).")
    ] = None,
    account: Annotated[str, typer.Option(help="The account the resources belong to.")] = "api_key:pk_test",
    seed: Annotated[int, typer.Option(help="Another seed gives another account of the same size.")] = 0,
    lock_file: LockOption = None,
) -> None:
    """Write a demo account as a seed file: profiles with locations and consent, lists and segments with
    members, metrics and ~10 events per profile over the year before 2026-12-01, campaigns with messages,
    templates, flows and catalog items. The same SIZE and --seed always give the same resources.
    """
    import json

    from mock_server import load_compiled
    from mock_server.state import DemoSizeError, build_index, demo_resources, parse_demo_size, write_demo_seed

    from .mock import _spec_to_serve

    try:
        profiles = parse_demo_size(size)
    except DemoSizeError as exc:
        typer.echo(f"kdk seed generate: {exc}", err=True)
        raise typer.Exit(2) from None
    apply_lock(lock_file)
    index = build_index(json.loads(load_compiled(_spec_to_serve()).patched_json.read_bytes()))
    if out is not None and out.suffix in (".yaml", ".yml"):
        import yaml

        doc = {"accounts": {account: list(demo_resources(index, profiles, seed=seed))}}
        out.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
        count = len(doc["accounts"][account])
    elif out is not None:
        with out.open("w", encoding="utf-8") as stream:
            count = write_demo_seed(stream, index, profiles, account=account, seed=seed)
    else:
        count = write_demo_seed(sys.stdout, index, profiles, account=account, seed=seed)
    typer.echo(f"kdk seed generate: {count:,} resources for {profiles:,} profiles in {account}", err=True)
