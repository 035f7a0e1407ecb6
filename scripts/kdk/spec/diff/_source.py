"""Turn a diff argument (a revision ref or a spec file) into a patched spec."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..._paths import shared_mirror
from .._load import load_spec
from .._overlay import apply_overlay

__all__ = ["SourceError", "SpecSide", "default_channel", "load_side", "locate_ref"]

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


def locate_ref(ref: str, channel: str) -> Path:
    """Where the spec of revision `ref` lives locally.

    Reads the local mirror (`<mirror>/<ref>/openapi/<channel>.json`), the same place `kdk spec fetch` reads
    when KDK_SPEC_SOURCE is set. One small function so it can be pointed at the fetch module's cache later.
    """
    mirror = shared_mirror()
    if mirror is None:
        raise SourceError(f"{ref!r} is not a file and there is no spec mirror (set KDK_SPEC_SOURCE)")
    path = mirror / ref / "openapi" / f"{channel}.json"
    if not path.is_file():
        known = sorted(p.name for p in mirror.iterdir() if (p / "openapi").is_dir())
        raise SourceError(f"no {channel} spec for {ref!r} in {mirror} (revisions there: {', '.join(known)})")
    return path


def load_side(arg: str, channel: str | None = None) -> SpecSide:
    """A path to a spec file wins; anything else is a ref of github.com/klaviyo/openapi."""
    path = Path(arg)
    if path.is_file():
        label = str(path)
    else:
        resolved_channel = channel or default_channel(arg)
        path = locate_ref(arg, resolved_channel)
        label = f"{arg} ({resolved_channel})"
    # load_spec raises SpecLoadError (located) for an unreadable file; callers report it as is.
    patched = apply_overlay(load_spec(path), copy_spec=False).spec
    return SpecSide(label, path, patched)
