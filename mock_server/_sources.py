"""Where the raw spec of a revision comes from: the pinned one, or any revision fetched into the spec cache.

`kdk mock --revisions 2024-07-15,2026-07-15` needs revisions that are not pinned. They are fetched through
`kdk.spec.fetch_spec` (the same verified cache, files named by sha256; the lock is not touched) once, and
found again by a small index (source, ref, channel -> sha256) so a restart does not fetch again.
"""

from __future__ import annotations

import json
from pathlib import Path

__all__ = ["channel_of", "revision_spec_path"]


def channel_of(ref: str) -> str:
    """Klaviyo publishes betas (`YYYY-MM-DD.pre`) as beta.json, everything else as stable.json."""
    return "beta" if ref.endswith(".pre") else "stable"


def revision_spec_path(ref: str) -> Path:
    """The raw spec of revision `ref`, from the spec cache; fetched from the spec source if it is not there."""
    from kdk import cache_dir
    from kdk.spec import fetch_spec, resolve_source

    source = resolve_source()
    channel = channel_of(ref)
    index_path = cache_dir() / "mock" / "revisions.json"
    try:
        index: dict[str, str] = json.loads(index_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        index = {}
    key = f"{source}|{ref}|{channel}"
    sha = index.get(key)
    if isinstance(sha, str):
        cached = cache_dir() / "specs" / f"{sha}.json"
        if cached.is_file():
            return cached
    fetched = fetch_spec(source, ref, channel)
    index[key] = fetched.sha256
    index_path.parent.mkdir(parents=True, exist_ok=True)
    index_path.write_text(json.dumps(index, indent=1, sort_keys=True), encoding="utf-8")
    return fetched.path
