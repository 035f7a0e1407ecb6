"""`kdk proxy`: a validating, recording proxy in front of Klaviyo (kdk.proxy)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._app import app

__all__ = ["proxy"]


@app.command()
def proxy(
    upstream: Annotated[str, typer.Option(help="Where requests go (the real API, or any Klaviyo-shaped server).")] = (
        "https://a.klaviyo.com"
    ),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 4011,
    log: Annotated[Path, typer.Option(help="JSONL drift log: one line per exchange with its violations.")] = Path(
        "kdk-proxy-drift.jsonl"
    ),
    report: Annotated[
        Path | None, typer.Option(help="Write the drift summary here on exit (.json for JSON, else Markdown).")
    ] = None,
    record: Annotated[
        Path | None,
        typer.Option(help="Record every exchange as a cassette in this directory (secrets and personal data faked)."),
    ] = None,
    throttle: Annotated[
        bool, typer.Option(help="Pace requests under each operation's documented x-klaviyo-ratelimit.")
    ] = False,
    fail_on_drift: Annotated[bool, typer.Option(help="Exit 1 on shutdown if any drift was seen.")] = False,
    spec: Annotated[
        Path | None,
        typer.Option(help="Judge every request against this raw spec (overlay applied) instead of its revision's."),
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="Where other revisions' specs are fetched from (default: KDK_SPEC_SOURCE, lock).")
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for the upstream.")] = 60.0,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Forward every request unchanged and check request and answer against the spec of its `revision`.

    Violations (operation, JSON pointer, offending value; secrets masked) go to --log; the summary grouped by
    operation and schema location is at /__proxy__/report (?format=json) and printed on exit (Ctrl-C).
    """
    import anyio
    import uvicorn

    from kdk.proxy import ProxyApp, ProxyOptions
    from mock_server import CassetteError

    try:
        proxy_app = ProxyApp(
            ProxyOptions(
                upstream=upstream, spec=spec, source=source, log=log, record=record, throttle=throttle, timeout=timeout
            )
        )
    except (CassetteError, OSError) as exc:
        typer.echo(f"kdk proxy: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"kdk proxy: http://{host}:{port}/ -> {upstream}  (report: http://{host}:{port}/__proxy__/report)", err=True
    )
    try:
        uvicorn.run(proxy_app, host=host, port=port, log_level=log_level, lifespan="on", access_log=False)
    finally:
        anyio.run(proxy_app.aclose)
        summary = proxy_app.report
        if report is not None:
            import json

            text = (
                json.dumps(summary.to_json(), indent=1, ensure_ascii=False, default=str)
                if report.suffix == ".json"
                else summary.to_markdown()
            )
            report.write_text(text + "\n", encoding="utf-8")
        elif summary.exchanges:
            typer.echo(summary.to_markdown())
        typer.echo(
            f"kdk proxy: {summary.exchanges} exchanges, {summary.exchanges_with_drift} with drift, "
            f"{summary.violations} violations (log: {log}{f', report: {report}' if report else ''})",
            err=True,
        )
    if fail_on_drift and summary.drift_seen:
        raise typer.Exit(1)
