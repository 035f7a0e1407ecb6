"""A spec in the cache for the revision a command needs, fetched when missing: what `kdk mock`, `kdk generate`
and the pytest plugin start from in a user's project (where nothing may have been fetched yet).

- no revision asked for: the project's pinned revision (the cache is checked against the lock and restored
  from the lock's source when missing); with no lock, the newest stable revision the source has, unpinned;
- a revision asked for: the pinned bytes when the lock pins that revision, else a fetch into the cache (the
  lock is never touched here: pinning is `kdk spec fetch`'s job).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .._paths import lock_path
from ._fetch import (
    CANONICAL_SOURCE,
    DEFAULT_CHANNEL,
    DEFAULT_REF,
    FetchError,
    ProgressCallback,
    check_cache,
    current_lock,
    fetch_spec,
    resolve_source,
)

__all__ = ["EnsuredSpec", "ensure_spec", "newest_stable_ref"]

_REVISION_REF = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_GITHUB_BRANCHES = "https://api.github.com/repos/klaviyo/openapi/branches?per_page=100"


@dataclass(frozen=True)
class EnsuredSpec:
    path: Path  # the raw spec in the cache
    ref: str
    channel: str
    pinned: bool  # these are the bytes the project's lock pins
    note: str = ""  # why this revision, when it is not the pinned one (printed by the caller)


def newest_stable_ref(source: str) -> str:
    """The newest `YYYY-MM-DD` ref with a stable spec: listed from a directory source, asked of GitHub for the
    canonical source; `DEFAULT_REF` (the newest revision this release knows) when the source cannot be listed."""
    if not source.startswith(("http://", "https://")):
        root = Path(source.removeprefix("file://")).expanduser()
        refs = [
            p.name for p in root.glob("*") if _REVISION_REF.match(p.name) and (p / "openapi" / "stable.json").is_file()
        ]
        return max(refs) if refs else DEFAULT_REF
    if source.rstrip("/") != CANONICAL_SOURCE:
        return DEFAULT_REF
    import httpx

    try:
        response = httpx.get(_GITHUB_BRANCHES, timeout=10, follow_redirects=True)
        names = [b.get("name", "") for b in response.json()] if response.status_code == 200 else []
    except (httpx.HTTPError, ValueError, AttributeError):
        names = []
    refs = [n for n in names if isinstance(n, str) and _REVISION_REF.match(n)]
    return max([*refs, DEFAULT_REF])


def ensure_spec(
    ref: str | None = None,
    channel: str | None = None,
    *,
    source: str | None = None,
    require_lock: bool = False,
    on_progress: ProgressCallback | None = None,
) -> EnsuredSpec:
    """The raw spec for `ref`/`channel` (default: the pinned revision) in the cache; raises `FetchError`."""
    lock = current_lock()
    if lock is not None and (ref is None or (ref == lock.ref and (channel or lock.channel) == lock.channel)):
        checked = check_cache(source, on_progress=on_progress)
        return EnsuredSpec(checked.path, lock.ref, lock.channel, pinned=True)
    if ref is None:
        if require_lock:
            raise FetchError(
                f"no lock file at {lock_path()}: run `kdk spec fetch --ref <revision>` in your project to pin one"
            )
        chosen_source = resolve_source(source)
        ref, channel = newest_stable_ref(chosen_source), DEFAULT_CHANNEL
        fetched = fetch_spec(chosen_source, ref, channel, on_progress=on_progress)
        note = (
            f"no lock file at {lock_path()}: serving the newest stable revision, {ref} (from {chosen_source}); "
            f"pin it with `kdk spec fetch --ref {ref}`"
        )
        return EnsuredSpec(fetched.path, ref, channel, pinned=False, note=note)
    channel = channel or (DEFAULT_CHANNEL if not ref.endswith(".pre") else "beta")
    fetched = fetch_spec(resolve_source(source, lock), ref, channel, on_progress=on_progress)
    return EnsuredSpec(fetched.path, ref, channel, pinned=False)
