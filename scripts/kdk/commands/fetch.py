"""`kdk spec fetch`: pin a revision of Klaviyo's spec, or check the cache against the pin (kdk.spec.fetch_and_pin)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import Annotated

import typer

from ._app import spec_app
from ._options import JsonOption, LockOption, apply_lock, download_bar, echo_json

__all__ = ["Channel", "fetch"]


class Channel(StrEnum):
    stable = "stable"
    beta = "beta"


@contextmanager
def _terminate_unwinds() -> Iterator[None]:
    """SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C, so the temp file goes and the lock stays as it was."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.1f} kB"


@spec_app.command("fetch")
def fetch(
    ref: Annotated[
        str | None,
        typer.Option(
            help="Branch of klaviyo/openapi: a revision date such as 2026-07-15, or main. (default: the lock's)"
        ),
    ] = None,
    channel: Annotated[
        Channel | None, typer.Option(help="Spec channel. (default: the lock's, else stable)", show_default=False)
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="Base URL or local directory laid out as <ref>/openapi/<channel>.json. "
            "(default: $KDK_SPEC_SOURCE, else the lock's source, else raw.githubusercontent.com/klaviyo/openapi)",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Verify the cached spec against the lock (exit 1 on mismatch); fetch it again if missing.",
        ),
    ] = False,
    sha256: Annotated[
        str | None, typer.Option("--sha256", help="Expect exactly these bytes; fail if the source serves others.")
    ] = None,
    attempts: Annotated[
        int | None, typer.Option(min=1, help="Attempts for transient errors. (default: $KDK_FETCH_ATTEMPTS or 4)")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(min=0.001, help="Seconds to connect / between bytes. (default: $KDK_FETCH_TIMEOUT or 30)"),
    ] = None,
    lock_file: LockOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch a spec revision into the spec cache and pin it in the project's lock (atomic, sha256-pinned).

    The lock is the project's klaviyo.lock.json (see --lock); the cache is the user cache directory
    ($KDK_CACHE_DIR, or [tool.kdk] cache). Without a lock, --ref defaults to 2026-07-15, --channel to stable.
    """
    import dataclasses

    from kdk.spec import FetchError, RetryPolicy, check_cache, fetch_and_pin

    apply_lock(lock_file)

    try:
        with _terminate_unwinds():
            policy = RetryPolicy.from_env()
            policy = dataclasses.replace(
                policy,
                attempts=attempts if attempts is not None else policy.attempts,
                timeout=timeout if timeout is not None else policy.timeout,
            )
            if check:
                if ref or channel or sha256:
                    raise FetchError("--check uses the lock's ref, channel and sha256; drop --ref/--channel/--sha256")
                with download_bar("fetching spec") as on_progress:
                    checked = check_cache(source, policy=policy, on_progress=on_progress)
                lock = checked.lock
                what = f"restored from {checked.restored.url}" if checked.restored else "ok"
                if as_json:
                    status = "restored" if checked.restored else "ok"
                    echo_json({"status": status, "lock": dataclasses.asdict(lock), "spec_path": str(checked.path)})
                    return
                typer.echo(
                    f"spec cache {what}: {lock.ref}/{lock.channel} sha256 {lock.sha256[:12]} ({_size(lock.size)})"
                )
                return
            with download_bar("fetching spec") as on_progress:
                pinned = fetch_and_pin(
                    ref,
                    channel.value if channel else None,
                    source,
                    expected_sha256=sha256,
                    policy=policy,
                    on_progress=on_progress,
                )
    except FetchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("error: interrupted; the lock and cache are unchanged", err=True)
        raise typer.Exit(130) from None

    lock, previous = pinned.lock, pinned.previous
    if not pinned.changed:
        status = "unchanged"
    elif previous is None:
        status = "pinned"
    else:
        status = f"pinned (was {previous.ref}/{previous.channel} sha256 {previous.sha256[:12]})"
    if as_json:
        from kdk import lock_path

        echo_json(
            {
                "status": "unchanged" if not pinned.changed else "pinned",
                "lock": dataclasses.asdict(lock),
                "previous": dataclasses.asdict(previous) if previous else None,
                "lock_path": str(lock_path()),
                "spec_path": str(pinned.fetched.path),
                "fetched_from": pinned.fetched.url,
            }
        )
        return
    typer.echo(
        f"{status}: {lock.ref}/{lock.channel}, info.version {lock.info_version}, {lock.operations} operations, "
        f"sha256 {lock.sha256[:12]}, {_size(lock.size)} from {pinned.fetched.url}"
    )
