"""Turn a diff argument (a revision ref or a spec file) into a patched spec."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._paths import shared_mirror
from .._fetch import SOURCE_ENV, FetchError, fetch_spec, resolve_source
from .._load import load_spec
from .._lock import Lock, LockError, read_lock
from .._overlay import apply_overlay

__all__ = ["SourceError", "SpecSide", "default_channel", "load_side", "locate_ref", "spec_source"]

Spec = dict[str, Any]


class SourceError(Exception):
    pass


@dataclass(frozen=True)
class SpecSide:
    label: str  # what the report calls it: "2026-04-15 (stable)" or the file path
    path: Path
    spec: Spec  # patched through the overlay


def default_channel(ref: str) -> str:
    """Betas are published as `<date>.pre`; everything else defaults to the stable spec."""
    return "beta" if ".pre" in ref else "stable"


def spec_source(explicit: str | None = None) -> str:
    """Where refs are fetched from: `--source`, else $KDK_SPEC_SOURCE, else the local mirror beside the
    checkout (offline first), else the lock's source, else GitHub -- `kdk spec fetch`'s order plus the mirror."""
    if explicit or os.environ.get(SOURCE_ENV):
        return resolve_source(explicit)
    mirror = shared_mirror()
    if mirror is not None:
        return str(mirror)
    try:
        lock: Lock | None = read_lock()
    except LockError:
        lock = None
    return resolve_source(None, lock)


def locate_ref(ref: str, channel: str, source: str | None = None) -> Path:
    """The cached spec of revision `ref`, fetched (verified, into the sha256-keyed cache) the way
    `kdk spec fetch` does; the lock is not touched."""
    try:
        return fetch_spec(spec_source(source), ref, channel).path
    except FetchError as exc:
        raise SourceError(str(exc)) from None


def load_side(arg: str, channel: str | None = None, source: str | None = None) -> SpecSide:
    """A path to a spec file wins; anything else is a ref of github.com/klaviyo/openapi."""
    path = Path(arg)
    if path.is_file():
        label = str(path)
    else:
        resolved_channel = channel or default_channel(arg)
        path = locate_ref(arg, resolved_channel, source)
        label = f"{arg} ({resolved_channel})"
    # load_spec raises SpecLoadError (located) for an unreadable file; callers report it as is.
    patched = apply_overlay(load_spec(path), copy_spec=False).spec
    return SpecSide(label, path, patched)
