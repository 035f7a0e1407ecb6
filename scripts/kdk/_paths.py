"""Where the project keeps things: the lock (committed), the spec cache and generated client (ignored)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "cache_dir",
    "generated_dir",
    "lock_path",
    "mirror_revisions",
    "openapi_dir",
    "project_root",
    "shared_mirror",
]


def project_root() -> Path:
    """The checkout this command works on.

    `KDK_PROJECT_ROOT` wins (tests point it at a temp dir); otherwise the nearest parent of the
    current directory holding our pyproject; otherwise the checkout this package was installed from.
    """
    env = os.environ.get("KDK_PROJECT_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and 'name = "klaviyo-devkit"' in pyproject.read_text(encoding="utf-8"):
            return candidate
    return Path(__file__).resolve().parents[2]


def openapi_dir() -> Path:
    return project_root() / "openapi"


def lock_path() -> Path:
    """The committed lock. (`kdk upgrade` hands the new revision to its steps as a `kdk.spec.PatchedSpec`;
    nothing redirects the lock through the environment.)"""
    return openapi_dir() / "klaviyo.lock.json"


def cache_dir() -> Path:
    """Git-ignored: fetched specs keyed by sha256, patched specs, derived caches."""
    return openapi_dir() / ".cache"


def generated_dir() -> Path:
    return project_root() / "generated"


def shared_mirror() -> Path | None:
    """The local mirror of github.com/klaviyo/openapi (`<ref>/openapi/<channel>.json`), if there is one:
    `KDK_SPEC_SOURCE` when it names a directory, else `../shared/klaviyo-openapi` beside the checkout."""
    env = os.environ.get("KDK_SPEC_SOURCE")
    if env and Path(env).is_dir():
        return Path(env).resolve()
    candidate = project_root().parent / "shared" / "klaviyo-openapi"
    return candidate.resolve() if candidate.is_dir() else None


def mirror_revisions(mirror: Path | None = None) -> list[tuple[str, str]]:
    """Every `(ref, channel)` a mirror holds (`<ref>/openapi/<channel>.json`), sorted; empty without a mirror.
    Tests parametrize over this, so a revision added to the mirror is covered without editing a list."""
    root = mirror or shared_mirror()
    if root is None:
        return []
    return sorted((p.parents[1].name, p.stem) for p in root.glob("*/openapi/*.json") if p.is_file())
