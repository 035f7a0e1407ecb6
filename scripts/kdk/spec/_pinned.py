"""The pinned spec, raw or patched: what `kdk generate`, `kdk mock` and the tests start from."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .._paths import cache_dir
from ._load import load_spec
from ._lock import Lock, LockError, read_lock, spec_cache_path
from ._overlay import OverlayResult, apply_overlay

__all__ = ["load_pinned_spec", "patched_spec_path", "pinned_spec_path", "write_patched"]

Spec = dict[str, Any]


def pinned_spec_path(lock: Lock | None = None) -> Path:
    lock = lock or read_lock()
    path = spec_cache_path(lock.sha256)
    if not path.is_file():
        raise LockError(f"the pinned spec is not in the cache ({path}): run `kdk spec fetch --check`")
    return path


def patched_spec_path(sha256: str) -> Path:
    return cache_dir() / "patched" / f"{sha256}.json"


def write_patched(result: OverlayResult, sha256: str) -> Path:
    """Write a patched spec into the cache atomically (sorted keys: stable bytes for caching)."""
    path = patched_spec_path(sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(result.spec, fh, indent=1, ensure_ascii=False)
    Path(tmp).replace(path)
    return path


def load_pinned_spec(*, patched: bool = True, lock: Lock | None = None) -> Spec:
    """The pinned spec from the cache; patched through the overlay unless `patched=False`."""
    raw = load_spec(pinned_spec_path(lock))
    return apply_overlay(raw, copy_spec=False).spec if patched else raw
