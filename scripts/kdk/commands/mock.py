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
    revisions: Annotated[
        str | None,
        typer.Option(
            help="Serve these revisions at once, comma-separated (e.g. 2024-07-15,2026-07-15); each request gets "
            "the revision its `revision` header names. Default: the pinned one. Missing ones are fetched."
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (uvicorn).")] = 1,
    max_body_bytes: Annotated[int, typer.Option(min=1, help="Request bodies larger than this are answered 413.")] = 5
    * 1024
    * 1024,
    state: Annotated[
        str | None,
        typer.Option(
            help="Where the account's state lives: 'memory' (the default), 'sqlite:PATH' or 'postgresql://USER@HOST/DB'"
            " (shared by --workers and by several mock processes)."
        ),
    ] = None,
    stateless: Annotated[
        bool, typer.Option("--stateless", help="Example mode: schema-generated answers, nothing is stored.")
    ] = False,
    seed_data: Annotated[
        Path | None, typer.Option(help="JSON/YAML resources to load at start (stateful mode).")
    ] = None,
    demo_data: Annotated[
        str | None,
        typer.Option(
            help="Fill the demo account with a realistic, deterministic account at start: small (~50 profiles), "
            "1k, 10k, 100k, 1m, or a number of profiles (about 10 events each). See `kdk seed --help`."
        ),
    ] = None,
    demo_account: Annotated[
        str | None,
        typer.Option(
            help="The account --demo-data fills, named as in seed files (api_key:<key> is the account of "
            "`Authorization: Klaviyo-API-Key <key>`). Default: api_key:pk_test."
        ),
    ] = None,
    key_scopes: Annotated[
        list[str] | None,
        typer.Option(
            help="Give a key Klaviyo's access level: KEY=full, KEY=read-only or KEY=profiles:read,lists:write "
            "(repeatable; keys not named keep full access). KEY is a private key or oauth:<token>.",
        ),
    ] = None,
    disable_feature: Annotated[
        list[str] | None,
        typer.Option(
            help="Turn an account feature off: KEY=sms, KEY=whatsapp or KEY=conversations (repeatable); "
            "its operations then answer Klaviyo's 403.",
        ),
    ] = None,
    rate_limits: Annotated[
        bool, typer.Option("--rate-limits/--no-rate-limits", help="Enforce x-klaviyo-ratelimit per account.")
    ] = False,
    replay: Annotated[
        Path | None,
        typer.Option(help="Answer requests recorded by `kdk proxy --record DIR` from the cassettes (stateful)."),
    ] = None,
    replay_match: Annotated[
        str,
        typer.Option(help="How a request matches a cassette: strict (method, path, query, body), ignore-body, path."),
    ] = "strict",
    inject_drift: Annotated[
        str | None, typer.Option(hidden=True, help="Test-only: corrupt answers (null,number,enum,status).")
    ] = None,
    admin_token: Annotated[
        str | None,
        typer.Option(
            envvar="KDK_MOCK_ADMIN_TOKEN",
            help="Token for the global /__mock__/ operations (every account), sent as `KDK-Admin-Token: TOKEN`. "
            "Without it, admin endpoints act only on the account of the credentials sent.",
        ),
    ] = None,
    insecure_open_admin: Annotated[
        bool,
        typer.Option(
            "--insecure-open-admin",
            help="Anyone who reaches the mock may list, read and reset every account (no admin token needed); "
            "also allows --host beyond loopback without --admin-token.",
        ),
    ] = False,
    image_bytes: Annotated[
        int, typer.Option(min=1, help="Images: the largest upload (file or data URI) kept and served; larger is a 400.")
    ] = 5 * 1024 * 1024,
    account_image_bytes: Annotated[
        int, typer.Option(min=1, help="Images: uploaded bytes kept per account; past it an upload is a 413.")
    ] = 64 * 1024 * 1024,
    journal_entries: Annotated[int, typer.Option(min=1, help="Journal: newest requests kept per account.")] = 1000,
    journal_bytes: Annotated[
        int, typer.Option(min=1, help="Journal: bytes (JSON) kept per account; the oldest go first.")
    ] = 4 * 1024 * 1024,
    journal_body_bytes: Annotated[
        int, typer.Option(min=1, help="Journal: a larger request body is recorded as its size only.")
    ] = 64 * 1024,
    webhook_deliveries: Annotated[int, typer.Option(min=1, help="Webhook delivery attempts kept per account.")] = 500,
    max_accounts: Annotated[
        int,
        typer.Option(
            min=1, help="Accounts (API keys, OAuth tokens, company ids) served; a new one past it gets a 403."
        ),
    ] = 1000,
    header_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds a client has to send its request headers (then 408).")
    ] = 10.0,
    body_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds a request body may stall before the connection is closed.")
    ] = 30.0,
    max_header_bytes: Annotated[
        int, typer.Option(min=1024, help="Request line plus headers larger than this are answered 431.")
    ] = 32 * 1024,
    max_connections: Annotated[
        int,
        typer.Option(
            min=0,
            help="Open connections before the longest-idle one is closed (0: from the open-files limit).",
        ),
    ] = 0,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
    lock_file: LockOption = None,
) -> None:
    """Serve every operation of the spec with Klaviyo's auth, revision, validation and error envelope.

    Swagger UI at /ui, the served spec at /openapi.json. Fault injection: `Prefer: code=429`,
    `Prefer: delay=200` (milliseconds). Serves the project's pinned revision (fetched into the cache if
    missing); with no lock, the newest stable revision the spec source has.
    """
    from mock_server import HttpLimits, ServeOptions, serve

    apply_lock(lock_file)
    refs = [r.strip() for r in (revisions or "").split(",") if r.strip()]
    if refs and spec is not None:
        typer.echo("kdk mock: --spec and --revisions cannot be combined.", err=True)
        raise typer.Exit(2)
    if spec is None and not refs:
        spec = _spec_to_serve()

    try:
        if inject_drift:
            from mock_server import parse_drift_kinds

            parse_drift_kinds(inject_drift)
        if replay is not None:
            # The recorded resources become seed data (merged with --seed-data), in memory unless --state says.
            from mock_server import prepare_replay

            state = state or "memory"
            seed_data = prepare_replay(replay, replay_match, seed_data)
    except ValueError as exc:
        typer.echo(f"kdk mock: {exc}", err=True)
        raise typer.Exit(2) from None

    if stateless and (state or seed_data or demo_data or key_scopes or disable_feature):
        typer.echo(
            "kdk mock: --stateless stores nothing: leave out --state, --seed-data, --demo-data, --key-scopes and "
            "--disable-feature",
            err=True,
        )
        raise typer.Exit(2)
    account_settings = None
    if key_scopes or disable_feature:
        from mock_server.state import SettingsError, settings_from_options

        try:
            account_settings = settings_from_options(key_scopes or (), disable_feature or ())
        except SettingsError as exc:
            typer.echo(f"kdk mock: {exc}", err=True)
            raise typer.Exit(2) from None
    if demo_data is not None:
        from mock_server.state import DemoSizeError, parse_demo_size

        try:
            parse_demo_size(demo_data)
        except DemoSizeError as exc:
            typer.echo(f"kdk mock: --demo-data: {exc}", err=True)
            raise typer.Exit(2) from None
    state = None if stateless else (state or "memory")  # stateful in memory unless told otherwise
    if state or seed_data or rate_limits:
        # Stateful mode (mock_server.state): refuse what cannot work before uvicorn starts, e.g. in-memory
        # state with several workers, a malformed --state, an unreadable --seed-data file. Imported only
        # here: the stateful layer costs ~0.3 s of start-up that the stateless mock does not need.
        from mock_server.state import validate_options

        problem = validate_options(state, str(seed_data) if seed_data else None, workers)
        if not problem and demo_data:
            from mock_server.state import check_workers

            problem = check_workers(state, workers, seed_data=demo_data)
        if problem:
            typer.echo(f"kdk mock: {problem}", err=True)
            raise typer.Exit(2)
        from mock_server import AdminAccess, exposure_problem

        problem = exposure_problem(host, AdminAccess(admin_token or None, insecure_open_admin))
        if problem:
            typer.echo(f"kdk mock: {problem}", err=True)
            raise typer.Exit(2)

    if refs:
        from kdk.spec import FetchError
        from mock_server import revision_spec_path

        try:
            for ref in refs:
                revision_spec_path(ref)  # fetched into the spec cache now, so a bad ref fails before serving
        except FetchError as exc:
            typer.echo(f"kdk mock: {exc}", err=True)
            raise typer.Exit(2) from None
    options = ServeOptions(
        spec=str(spec) if spec else None,
        revisions=refs or None,
        max_body_bytes=max_body_bytes,
        state=state,
        seed_data=str(seed_data) if seed_data else None,
        demo_data=demo_data,
        demo_account=demo_account,
        rate_limits=rate_limits,
        account_settings=account_settings,
        workers=workers,
        replay=str(replay) if replay else None,
        replay_match=replay_match,
        inject_drift=inject_drift.split(",") if inject_drift else [],
        admin_token=admin_token or None,
        insecure_open_admin=insecure_open_admin,
        image_bytes=image_bytes,
        account_image_bytes=account_image_bytes,
        journal_entries=journal_entries,
        journal_bytes=journal_bytes,
        journal_body_bytes=journal_body_bytes,
        webhook_deliveries=webhook_deliveries,
        max_accounts=max_accounts,
    )
    typer.echo(f"kdk mock: http://{host}:{port}/  (Swagger UI: http://{host}:{port}/ui)", err=True)
    try:
        limits = HttpLimits(header_timeout, body_timeout, max_header_bytes, max_connections)
        serve(options, host=host, port=port, workers=workers, log_level=log_level, limits=limits)
    except ValueError as exc:  # bad option values found while building the app (e.g. an unknown --state)
        typer.echo(f"kdk mock: {exc}", err=True)
        raise typer.Exit(2) from None


def _spec_to_serve() -> Path:
    """The pinned spec when it is cached (fast path: no fetch machinery imported); otherwise fetched now."""
    from mock_server import default_spec_path

    try:
        return default_spec_path()
    except Exception as exc:
        from kdk.spec import LockError  # only now: kdk.spec costs start-up time the fast path avoids

        if not isinstance(exc, LockError):
            raise
    from kdk.spec import FetchError, ensure_spec

    try:
        ensured = ensure_spec()
    except FetchError as exc:
        typer.echo(f"kdk mock: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    if ensured.note:
        typer.echo(f"kdk mock: {ensured.note}", err=True)
    return ensured.path
