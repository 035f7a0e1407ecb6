"""`kdk mock`: serve the pinned, patched spec as a Klaviyo mock (mock_server)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app
from ._options import LockOption, apply_lock

__all__ = ["mock"]


@app.command()
def mock(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 4010,
    spec: Annotated[
        Path | None,
        typer.Option(help="Serve this raw Klaviyo spec (JSON/YAML) instead of the pinned one; the overlay is applied."),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (uvicorn).")] = 1,
    max_body_bytes: Annotated[int, typer.Option(min=1, help="Request bodies larger than this are answered 413.")] = 5
    * 1024
    * 1024,
    state: Annotated[
        str | None, typer.Option(help="Stateful mode store, e.g. 'memory' or 'sqlite:PATH' (mock_server.state).")
    ] = None,
    seed_data: Annotated[
        Path | None, typer.Option(help="JSON/YAML resources to load at start (stateful mode).")
    ] = None,
    rate_limits: Annotated[
        bool, typer.Option("--rate-limits/--no-rate-limits", help="Enforce x-klaviyo-ratelimit per account.")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    lock_file: LockOption = None,
) -> None:
    """Serve every operation of the spec with Klaviyo's auth, revision, validation and error envelope.

    Swagger UI at /ui, the served spec at /openapi.json. Fault injection: `Prefer: code=429`,
    `Prefer: delay=200` (milliseconds). Serves the project's pinned revision (fetched into the cache if
    missing); with no lock, the newest stable revision the spec source has.
    """
    from mock_server._serve import ServeOptions, serve

    apply_lock(lock_file)
    if spec is None:
        spec = _spec_to_serve()

    if state or seed_data or rate_limits:
        # Stateful mode (mock_server.state): refuse what cannot work before uvicorn starts, e.g. in-memory
        # state with several workers, a malformed --state, an unreadable --seed-data file. Imported only
        # here: the stateful layer costs ~0.3 s of start-up that the stateless mock does not need.
        from mock_server.state import validate_options

        problem = validate_options(state, str(seed_data) if seed_data else None, workers)
        if problem:
            typer.echo(f"kdk mock: {problem}", err=True)
            raise typer.Exit(2)

    options = ServeOptions(
        spec=str(spec) if spec else None,
        max_body_bytes=max_body_bytes,
        state=state,
        seed_data=str(seed_data) if seed_data else None,
        rate_limits=rate_limits,
        workers=workers,
    )
    typer.echo(f"kdk mock: http://{host}:{port}/  (Swagger UI: http://{host}:{port}/ui)", err=True)
    try:
        serve(options, host=host, port=port, workers=workers, log_level=log_level)
    except ValueError as exc:  # bad option values found while building the app (e.g. an unknown --state)
        typer.echo(f"kdk mock: {exc}", err=True)
        raise typer.Exit(2) from None


def _spec_to_serve() -> Path:
    """The pinned spec when it is cached (fast path: no fetch machinery imported); otherwise fetched now."""
    from mock_server._app import default_spec_path

    try:
        return default_spec_path()
    except Exception as exc:
        from kdk.spec._lock import LockError  # only now: kdk.spec costs start-up time the fast path avoids

        if not isinstance(exc, LockError):
            raise
    from kdk.spec._ensure import ensure_spec
    from kdk.spec._fetch import FetchError

    try:
        ensured = ensure_spec()
    except FetchError as exc:
        typer.echo(f"kdk mock: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    if ensured.note:
        typer.echo(f"kdk mock: {ensured.note}", err=True)
    return ensured.path
