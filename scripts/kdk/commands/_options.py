"""Options and output helpers several verbs share: `--lock`, `--json`, progress bars on a terminal."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["JsonOption", "LockOption", "SpecChannel", "apply_lock", "download_bar", "echo_json", "status_bar"]

LockOption = Annotated[
    Path | None,
    typer.Option(
        "--lock",
        help="The project's lock file. (default: [tool.kdk] lock in pyproject.toml, else klaviyo.lock.json "
        "found from the working directory upward)",
        show_default=False,
    ),
]


class SpecChannel(StrEnum):
    """`--channel` of the verbs that cover many revisions (diff, changelog, matrix): one channel, or both."""

    stable = "stable"
    beta = "beta"
    all = "all"


JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as one JSON document on stdout.")]


def apply_lock(lock: Path | None) -> None:
    if lock is not None:
        from kdk._paths import use_lock

        use_lock(lock)


def echo_json(document: Any) -> None:
    typer.echo(json.dumps(document, indent=2, sort_keys=True, default=str))


def _enabled() -> bool:
    return sys.stderr.isatty()


@contextmanager
def download_bar(label: str) -> Iterator[Callable[[int, int | None], None] | None]:
    """A rich download bar on stderr when it is a terminal; None otherwise (CI logs and pipes stay clean)."""
    if not _enabled():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    columns = (TextColumn(label), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            progress.update(task, completed=done, total=total)

        yield update


@contextmanager
def status_bar(label: str) -> Iterator[Callable[[str], None]]:
    """A spinner with elapsed time and a changing detail line on stderr when it is a terminal; the callback
    sets the detail (a no-op without a terminal)."""
    if not _enabled():
        yield lambda _detail: None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn(label), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("", total=None)

        def update(detail: str) -> None:
            progress.update(task, description=detail)

        yield update
