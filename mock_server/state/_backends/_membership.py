"""Who was a member of a list or segment, and when: the history segment reports count from.

A group's current members carry the time each joined (`ListsBackend.members`). What the current membership
cannot tell is who left: so every removal (a list's remove or replace, an unsubscribe that takes a profile off
its list, a deleted profile) stores one small record of the internal type `kdk-membership-removal` naming the
group, the profile, when it joined and when it left. A profile that joins, leaves and joins again has two
intervals: the closed one in a removal record and the open one in the current membership.

A segment whose members are computed from its definition has no write to hook: its members are compared with
the snapshot taken by the previous report (`kdk-membership-snapshot`, one record per segment), and a profile
that no longer matches is recorded as removed when the profile last changed (its `updated`), else when the
report noticed; one that newly matches joined when it last changed (never before the snapshot's time).

Both types are the mock's own (no Klaviyo operation reads them): they stay in the account's store, so an
export (`GET /__mock__/state`) carries them and a load (`POST /__mock__/state`, `--seed-data`) restores them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from .._models import Record, now
from .._store import StoreTx

__all__ = [
    "REMOVAL_TYPE",
    "SNAPSHOT_TYPE",
    "Interval",
    "intervals",
    "leaving",
    "reconcile_snapshot",
    "record_removals",
]

REMOVAL_TYPE = "kdk-membership-removal"
SNAPSHOT_TYPE = "kdk-membership-snapshot"

# (joined, left); left is None while the profile is still a member.
Interval = tuple[dt.datetime, dt.datetime | None]
_LONG_AGO = dt.datetime.min.replace(tzinfo=dt.UTC)


def leaving(members: dict[str, str | None], refs: Iterable[dict[str, str]]) -> dict[str, str | None]:
    """The profiles of `refs` that are members (profile id -> when each joined): who a removal takes off."""
    return {r["id"]: members[r["id"]] for r in refs if r.get("type") == "profile" and r["id"] in members}


def record_removals(tx: StoreTx, account: str, group: Record, left: dict[str, str | None], at: str) -> None:
    """Store that each profile of `left` (profile id -> when it had joined) left `group` at `at`."""
    since = (group.get("attributes") or {}).get("created")
    for profile_id, joined in left.items():
        tx.put(
            account,
            {
                "type": REMOVAL_TYPE,
                "id": uuid.uuid4().hex,
                "attributes": {
                    "group_type": group["type"],
                    "group_id": group["id"],
                    "profile_id": profile_id,
                    "joined_at": joined or since or at,
                    "removed_at": at,
                },
                "relationships": {},
            },
        )


def reconcile_snapshot(tx: StoreTx, account: str, segment: Record, current: dict[str, str | None]) -> dict[str, str]:
    """For a segment computed from its definition: record who stopped matching since the last snapshot, store
    the new snapshot, and answer the current members with the time each joined."""
    stamp = now()
    stored = tx.get(account, SNAPSHOT_TYPE, segment["id"])
    attrs = (stored or {}).get("attributes") or {}
    raw = attrs.get("members")
    before: dict[str, str] = raw if isinstance(raw, dict) else {}
    taken = str(attrs.get("taken_at") or "")
    since = str((segment.get("attributes") or {}).get("created") or stamp)
    joined: dict[str, str] = {}
    for profile_id, computed in current.items():
        if profile_id in before:
            joined[profile_id] = before[profile_id]
        elif stored is None:
            joined[profile_id] = computed or since
        else:  # matched after the snapshot: when the profile last changed, between the snapshot and now
            joined[profile_id] = _clamp(_changed_at(tx, account, profile_id), taken, stamp)
    left = {pid: when for pid, when in before.items() if pid not in current}
    for profile_id, when in left.items():
        # When the profile last changed (a deleted one: now), not before it joined nor before the snapshot.
        removed = _clamp(_changed_at(tx, account, profile_id), max(taken, when, key=_order), stamp)
        record_removals(tx, account, segment, {profile_id: when}, removed)
    if stored is None or left or joined != before:
        snapshot: Record = {
            "type": SNAPSHOT_TYPE,
            "id": segment["id"],
            "attributes": {"members": joined, "taken_at": stamp},
            "relationships": {},
        }
        tx.put(account, snapshot)
    return joined


def intervals(tx: StoreTx, account: str, group: Record, current: dict[str, str]) -> list[Interval]:
    """Every membership interval of a group: the removed ones, then the current members' open ones."""
    out: list[Interval] = []
    for removal in _removals(tx.scan(account, REMOVAL_TYPE), group):
        left = _moment(removal.get("removed_at"))
        if left is not None:
            out.append((_moment(removal.get("joined_at")) or _LONG_AGO, left))
    # A member whose join time nobody recorded (seed data without `joined` or `created`) has been one all along:
    # counted in every total, never as added.
    out.extend((_moment(when) or _LONG_AGO, None) for when in current.values())
    return out


def _removals(records: Iterable[Record], group: Record) -> Iterable[dict[str, Any]]:
    for record in records:
        attrs = record.get("attributes") or {}
        if attrs.get("group_id") == group["id"] and attrs.get("group_type") == group["type"]:
            yield attrs


def _changed_at(tx: StoreTx, account: str, profile_id: str) -> str | None:
    profile = tx.get(account, "profile", profile_id)
    attrs = (profile or {}).get("attributes") or {}
    changed = attrs.get("updated") or attrs.get("created")
    return str(changed) if changed else None


def _clamp(value: str | None, low: str, high: str) -> str:
    """`value` (a time; None: `high`) kept within [low, high], compared as times, not as text."""
    if value is None:
        return high
    return min(max(value, low, key=_order), high, key=_order)


def _order(value: str) -> dt.datetime:
    return _moment(value) or _LONG_AGO


def _moment(value: Any) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
