"""Which revisions a matrix covers: everything a mirror holds, or the refs asked for, in a stable order."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..spec.diff import CHANNELS, revision_order
from ._model import Revision

__all__ = ["CHANNELS", "ci_sample", "order_key", "select_revisions"]


def order_key(revision: Revision) -> tuple[int, bool, str]:
    """Release order, as the changelog uses it: stable before beta, dates in order, `main` last."""
    return revision_order(revision.ref, revision.channel)


def _listing(source: str) -> list[Revision] | None:
    """What a mirror directory holds; None for a URL source (it cannot be listed)."""
    from .._paths import mirror_revisions

    path = Path(source)
    if not path.is_dir():
        return None
    return [Revision(ref, channel) for ref, channel in mirror_revisions(path)]


def select_revisions(source: str, refs: Sequence[str] = (), channel: str = "all") -> list[Revision]:
    """The revisions to run. Without `refs`: every revision of the mirror at `source` (of `channel`).

    A ref the mirror does not hold is still returned (with its default channel), so its row reports the
    fetch error instead of the ref silently vanishing from the table. Raises ValueError when nothing can be
    listed (a URL source without refs) or the channel is unknown.
    """
    from ..spec.diff import default_channel

    if channel not in (*CHANNELS, "all"):
        raise ValueError(f"unknown channel {channel!r} (stable, beta or all)")
    wanted = [c for c in CHANNELS if channel in (c, "all")]
    available = _listing(source)
    if not refs:
        if available is None:
            raise ValueError(f"{source} is not a directory: name the revisions to run with --refs")
        return sorted((r for r in available if r.channel in wanted), key=order_key)
    chosen: list[Revision] = []
    for ref in dict.fromkeys(refs):
        held = [r for r in available or () if r.ref == ref and r.channel in wanted]
        if not held:
            held = [Revision(ref, channel if channel != "all" else default_channel(ref))]
        chosen += [r for r in held if r not in chosen]
    return sorted(chosen, key=order_key)


def ci_sample(held: Sequence[Revision], pinned: Revision | None) -> list[Revision]:
    """CI's representative sample of a mirror, chosen by shape so a new mirror needs no edit: the oldest stable
    revision, the newest 2024 stable one, the pinned revision and the newest dated beta (`main` is a copy)."""
    dated = sorted((r for r in held if r.ref != "main"), key=order_key)
    stable = [r for r in dated if r.channel == "stable"]
    beta = [r for r in dated if r.channel == "beta"]
    chosen = [*stable[:1], *[r for r in stable if r.ref.startswith("2024-")][-1:]]
    if pinned is not None and pinned in held:
        chosen.append(pinned)
    chosen += beta[-1:]
    return sorted(dict.fromkeys(chosen), key=order_key)
