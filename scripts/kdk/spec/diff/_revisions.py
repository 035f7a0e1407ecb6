"""Revisions in release order, and which revision follows which (for changelogs across a whole mirror)."""

from __future__ import annotations

from collections.abc import Iterable
from itertools import pairwise

__all__ = ["CHANNELS", "consecutive_pairs", "revision_order"]

CHANNELS = ("stable", "beta")
RefChannel = tuple[str, str]


def revision_order(ref: str, channel: str) -> tuple[int, bool, str]:
    """Stable before beta; within a channel, dated refs in date order (ISO dates, with or without `.pre`,
    sort as text), then `main`, the branch ahead of every dated revision."""
    rank = CHANNELS.index(channel) if channel in CHANNELS else len(CHANNELS)
    return (rank, ref == "main", ref)


def consecutive_pairs(revisions: Iterable[RefChannel]) -> list[tuple[RefChannel, RefChannel]]:
    """Each revision paired with the one before it in the same channel, oldest pair first."""
    ordered = sorted(set(revisions), key=lambda r: revision_order(*r))
    return [(old, new) for old, new in pairwise(ordered) if old[1] == new[1]]
