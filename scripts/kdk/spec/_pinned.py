"""The spec stages as types, and the pinned spec from the cache.

    PinnedSpec   the raw Klaviyo spec, exactly the bytes a lock pins (sha256 of the file)
        │ .patch()   the overlay (kdk.spec.apply_overlay)
        ▼
    PatchedSpec  what the generator, the mock, the contract runner, diff and upgrade take

Both carry their content, a sha256, the revision (`info.version`) and where they came from, so a consumer never
re-reads "the pinned spec" behind its caller's back: whoever holds the object decides which spec is meant.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .._paths import cache_dir
from ._load import load_spec
from ._lock import Lock, LockError, read_lock, spec_cache_path
from ._overlay import FixReport, OverlayResult, apply_overlay

__all__ = [
    "PatchedSpec",
    "PinnedSpec",
    "content_of",
    "content_sha256",
    "load_patched",
    "load_pinned",
    "load_pinned_spec",
    "patched_spec_path",
    "pinned_spec_path",
    "write_patched",
]

Spec = dict[str, Any]


def _revision(content: Spec) -> str:
    return str((content.get("info") or {}).get("version") or "")


def content_sha256(content: Spec) -> str:
    """A hash of the spec's content (canonical JSON: sorted keys, no whitespace), whatever file it came from."""
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, eq=False)
class PinnedSpec:
    """A raw spec as fetched: `sha256` is the file's (the lock's) hash; `source` the file or URL it came from."""

    content: Spec = field(repr=False)
    sha256: str
    revision: str
    source: str

    @classmethod
    def from_file(cls, path: str | Path, *, source: str | None = None) -> PinnedSpec:
        path = Path(path)
        content = load_spec(path)  # SpecLoadError with file:line:col for a bad file
        sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        return cls(content, sha256, _revision(content), source or str(path))

    def patch(self) -> PatchedSpec:
        """The spec through the overlay (on a copy: this object stays the raw spec)."""
        result = apply_overlay(self.content)
        return PatchedSpec.from_content(result.spec, source=self.source, fixes=result.report)


@dataclass(frozen=True, eq=False)
class PatchedSpec:
    """A spec ready for use: patched by the overlay (or written by hand to need no patching, as in tests).

    `sha256` hashes the patched content itself, so caches keyed by it (generated client, compiled mock) hold
    for any spec, pinned or not.
    """

    content: Spec = field(repr=False)
    sha256: str
    revision: str
    source: str
    fixes: tuple[FixReport, ...] = ()

    @classmethod
    def from_content(
        cls, content: Spec, *, source: str = "<memory>", fixes: list[FixReport] | tuple[FixReport, ...] = ()
    ) -> PatchedSpec:
        """Wrap a spec that is already patched (the overlay is not applied again)."""
        return cls(content, content_sha256(content), _revision(content), source, tuple(fixes))

    @classmethod
    def of(cls, spec: PatchedSpec | Spec) -> PatchedSpec:
        """`spec` itself, or a plain dict taken as an already patched spec (for callers holding a dict)."""
        return spec if isinstance(spec, PatchedSpec) else cls.from_content(spec)


def content_of(spec: PatchedSpec | Spec) -> Spec:
    """The spec's content, for functions that take a `PatchedSpec` or a plain (already patched) dict."""
    return spec.content if isinstance(spec, PatchedSpec) else spec


def pinned_spec_path(lock: Lock | None = None) -> Path:
    lock = lock or read_lock()
    path = spec_cache_path(lock.sha256)
    if not path.is_file():
        raise LockError(f"the pinned spec is not in the cache ({path}): run `kdk spec fetch --check`")
    return path


def load_pinned(lock: Lock | None = None) -> PinnedSpec:
    """The raw spec the lock pins (default: the project's lock), from the cache."""
    lock = lock or read_lock()
    content = load_spec(pinned_spec_path(lock))
    return PinnedSpec(content, lock.sha256, lock.info_version or _revision(content), lock.url)


def load_patched(lock: Lock | None = None) -> PatchedSpec:
    """The pinned spec through the overlay."""
    pinned = load_pinned(lock)
    result = apply_overlay(pinned.content, copy_spec=False)  # nobody else holds this freshly loaded content
    return PatchedSpec.from_content(result.spec, source=pinned.source, fixes=result.report)


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
    """The pinned spec's content from the cache, patched through the overlay unless `patched=False`
    (a plain dict; `load_pinned()` / `load_patched()` give the typed stages)."""
    raw = load_spec(pinned_spec_path(lock))
    return apply_overlay(raw, copy_spec=False).spec if patched else raw
