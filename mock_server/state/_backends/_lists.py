"""Lists and segments: who is a member, since when, and how many.

A list's membership is stored on each member profile (`relationships.lists`, with the time it joined each
under `joined`), so adding or removing one profile rewrites that profile only, never a list of 100k; a
list's members are the profiles pointing at it (the store's `referencing` index). Lists loaded with their
members (`relationships.profiles` on the list, from seed or demo data) keep them there as well: both count.
Add/remove/replace check that the profiles exist (404 naming the item) and keep the per-call maximum the
operation's description states.

Segments are read-mostly: when a segment's `definition` uses only conditions the mock can evaluate
(list/segment membership, profile properties compared as strings/numbers/booleans, existence), its members
are computed from the stored profiles on every read; any other definition falls back to the membership
stored on the segment (loaded with `--seed-data` or the admin state API), so nothing is guessed.
"""

from __future__ import annotations

import builtins
import re
from typing import Any, ClassVar

from kdk.spec import iter_operations
from mock_server import relationship_name

from .._errors import MockError, invalid, not_found
from .._index import Kind, OpInfo
from .._models import Outcome, Record, Ref, now
from .._store import StoreTx
from ._base import Backend, Call, _page_outcome
from ._membership import leaving, record_removals

__all__ = [
    "ListsBackend",
    "body_refs",
    "check_refs_exist",
    "drop_references",
    "is_computed",
    "per_call_limit",
]

_MEMBERS = "profiles"
_HELD = relationship_name("list")  # the relationship of a profile that holds the lists it joined
_JOINED = "joined_group_at"
_COUNT = "profile_count"
_LIMIT = re.compile(
    r"(?:maximum|limit)\D{0,80}?(\d[\d,]*)\s*(?:profiles|email|items|per)|"
    r"(?:maximum|limit)[^.:\n]{0,80}:\s*(\d[\d,]*)",
    re.IGNORECASE,
)


def per_call_limit(op_description: str) -> int | None:
    """The most items one call may carry, as the operation's description states it ("This endpoint accepts a
    maximum of 1000 profiles per call", "Email address per request limit: 100"); None when it states none."""
    for match in _LIMIT.finditer(op_description):
        number = match.group(1) or match.group(2)
        if number:
            return int(number.replace(",", ""))
    return None


def is_computed(group: Record) -> bool:
    """Whether a segment's members are computed from its definition (no stored membership to change)."""
    return _evaluable_groups(group) is not None


def drop_references(tx: StoreTx, account: str, gone: Ref) -> None:
    """Once a resource is deleted, no other stored resource points at it (a tag's lists, a job's lists)."""
    for rtype in tx.types(account):
        for other in tx.scan(account, rtype):
            rels = other.get("relationships") or {}
            if not any(gone in (rel.get("data") or []) for rel in rels.values() if isinstance(rel, dict)):
                continue
            changed = tx.get(account, rtype, other["id"])
            if changed is None:
                continue
            for rel in (changed.get("relationships") or {}).values():
                if isinstance(rel, dict) and gone in (rel.get("data") or []):
                    rel["data"] = [r for r in rel["data"] if r != gone]
                    joined = rel.get("joined")
                    if isinstance(joined, dict):
                        joined.pop(gone["id"], None)
            tx.put(account, changed)


def body_refs(call: Call) -> builtins.list[Ref]:
    body = call.req.body if isinstance(call.req.body, dict) else {}
    data = body.get("data")
    items = data if isinstance(data, list) else ([data] if isinstance(data, dict) else [])
    return [{"type": str(r.get("type")), "id": str(r["id"])} for r in items if isinstance(r, dict) and "id" in r]


def check_refs_exist(tx: StoreTx, account: str, refs: builtins.list[Ref]) -> None:
    """404 for the first reference to a resource the account does not hold (JSON:API's rule)."""
    for n, reference in enumerate(refs):
        if tx.get(account, reference["type"], reference["id"]) is None:
            raise MockError(
                404,
                f"A {reference['type']} with id {reference['id']} does not exist.",
                code="not_found",
                title="Not found.",
                pointer=f"/data/{n}/id",
            )


class ListsBackend(Backend):
    types: ClassVar[tuple[str, ...]] = ("list", "segment")
    _descriptions: dict[str, str] | None = None

    def complete_attributes(self, attrs: dict[str, Any], props: dict[str, Any]) -> None:
        if "is_processing" in props:
            attrs["is_processing"] = False  # membership is computed on every read: never still processing
        if "is_starred" in props and attrs.get("is_starred") is None:
            attrs["is_starred"] = False

    # -- membership --------------------------------------------------------------------------------
    def members(self, tx: StoreTx, account: str, group: Record) -> dict[str, str | None]:
        """Profile id -> when it joined, for a list or segment."""
        if group["type"] == "segment":
            computed = self._segment_members(tx, account, group)
            if computed is not None:
                return computed
        return {pid: joined for pid, (joined, _) in self._stored_members(tx, account, group).items()}

    def _stored_members(self, tx: StoreTx, account: str, group: Record) -> dict[str, tuple[str | None, Record | None]]:
        """Profile id -> (when it joined, the profile when already read): the members a list's profiles
        name (read through the store's index of references), and those stored on the group itself."""
        out: dict[str, tuple[str | None, Record | None]] = {pid: (j, None) for pid, j in _on_group(group).items()}
        if group["type"] == "list":
            for profile in tx.referencing(account, "profile", "list", group["id"]):
                held = _held_lists(profile)
                if group["id"] in held:
                    out[profile["id"]] = (held[group["id"]], profile)
        return out

    def add_members(self, tx: StoreTx, account: str, group: Record, refs: builtins.list[Ref]) -> None:
        """Add profiles to a stored list (already a member: nothing changes, as Klaviyo's repeat 204 says).
        A list's new members hold it on their profile (one profile written per member, whatever the list's
        size); a segment's (loaded membership) are stored on the segment."""
        stamp = now()
        if group["type"] != "list":
            _add_on_group(group, refs, stamp)
            return
        on_group = _on_group(group)
        for reference in refs:
            if reference["type"] != "profile" or reference["id"] in on_group:
                continue
            profile = tx.get(account, "profile", reference["id"])
            if profile is None or group["id"] in _held_lists(profile):
                continue
            rel = profile.setdefault("relationships", {}).setdefault(_HELD, {"many": True, "data": []})
            rel["many"] = True
            rel.setdefault("data", []).append({"type": "list", "id": group["id"]})
            rel.setdefault("joined", {})[group["id"]] = stamp
            tx.put(account, profile)

    def remove_members(self, tx: StoreTx, account: str, group: Record, refs: builtins.list[Ref]) -> None:
        """Take profiles off a list or segment (the caller stores `group`; the profiles are stored here).
        Each member taken off leaves a removal record (when it joined and left): segment reports count from it.
        A list reads and writes only the profiles removed: a removal costs what it removes, not the list's size."""
        stamp = now()
        if group["type"] != "list":
            record_removals(tx, account, group, leaving(self.members(tx, account, group), refs), stamp)
            _drop_on_group(group, refs)
            return
        on_group = _on_group(group)
        left = leaving(on_group, refs)
        for reference in refs:
            profile = tx.get(account, "profile", reference["id"]) if reference["type"] == "profile" else None
            held = _held_lists(profile) if profile is not None else {}
            if profile is None or group["id"] not in held:
                continue
            left.setdefault(reference["id"], held[group["id"]])
            rel = profile["relationships"][_HELD]
            rel["data"] = [r for r in rel.get("data") or [] if (r.get("type"), r.get("id")) != ("list", group["id"])]
            if isinstance(rel.get("joined"), dict):
                rel["joined"].pop(group["id"], None)
            tx.put(account, profile)
        record_removals(tx, account, group, left, stamp)
        _drop_on_group(group, refs)

    def groups_of(self, tx: StoreTx, account: str, rtype: str, profile_id: str) -> builtins.list[Ref]:
        """The lists (or segments) a profile belongs to."""
        profile = tx.get(account, "profile", profile_id)
        if profile is None:
            return []
        return [
            {"type": rtype, "id": group["id"]}
            for group in tx.scan(account, rtype)
            if self.is_member(tx, account, group, profile)
        ]

    def member_records(self, tx: StoreTx, account: str, group: Record) -> builtins.list[Record]:
        """The member profiles, each with the `joined_group_at` the members endpoints show (shallow copies:
        the stored profiles are never changed here)."""
        stored: dict[str, tuple[str | None, Record | None]]
        if is_computed(group):
            stored = {pid: (joined, None) for pid, joined in self.members(tx, account, group).items()}
        else:
            stored = self._stored_members(tx, account, group)
        since = (group.get("attributes") or {}).get("created")
        out = []
        for pid, (joined, read) in stored.items():
            profile = read if read is not None else tx.get(account, "profile", pid)
            if profile is None:
                continue
            attrs = dict(profile.get("attributes") or {})
            attrs[_JOINED] = joined or attrs.get("created") or since
            out.append({**profile, "attributes": attrs})
        return out

    # -- segments from their definition -------------------------------------------------------------
    def is_member(
        self, tx: StoreTx, account: str, group: Record, profile: Record, visiting: frozenset[str] = frozenset()
    ) -> bool:
        """Whether one profile belongs to a list or segment (a segment's definition evaluated for it alone)."""
        groups = _evaluable_groups(group)
        if groups is None:
            if group["type"] == "list" and group["id"] in _held_lists(profile):
                return True
            refs = ((group.get("relationships") or {}).get(_MEMBERS) or {}).get("data") or []
            return {"type": "profile", "id": profile["id"]} in refs
        if group["id"] in visiting:
            return False  # segments defined through each other: a cycle decides nothing
        inner = visiting | {group["id"]}
        # Condition groups are ANDed; the conditions inside one group are ORed (Klaviyo's segment builder).
        return all(any(self._holds(tx, account, profile, c, inner) for c in conditions) for conditions in groups)

    def _segment_members(self, tx: StoreTx, account: str, segment: Record) -> dict[str, str | None] | None:
        if _evaluable_groups(segment) is None:
            return None
        since = (segment.get("attributes") or {}).get("created")
        members: dict[str, str | None] = {}
        for profile in tx.scan(account, "profile"):
            if self.is_member(tx, account, segment, profile):
                created = (profile.get("attributes") or {}).get("created")
                members[profile["id"]] = max(str(since or ""), str(created or "")) or None
        return members

    def _holds(
        self, tx: StoreTx, account: str, profile: Record, condition: dict[str, Any], visiting: frozenset[str]
    ) -> bool:
        if condition.get("type") == "profile-group-membership":
            member = False
            for gid in {str(i) for i in condition.get("group_ids") or []}:
                group = tx.get(account, "list", gid) or tx.get(account, "segment", gid)
                if group is not None and self.is_member(tx, account, group, profile, visiting):
                    member = True
                    break
            return member is bool(condition.get("is_member"))
        value = _profile_property(profile, str(condition.get("property") or ""))
        return _matches(condition.get("filter") or {}, value)

    # -- operations --------------------------------------------------------------------------------
    def _with_count(self, call: Call, tx: StoreTx, records: builtins.list[Record]) -> builtins.list[Record]:
        asked = call.req.query.get(f"additional-fields[{call.op.resource_type}]", "")
        if _COUNT not in asked.split(",") or _COUNT not in call.op.additional_fields:
            return records
        out = []
        for record in records:
            copy = {**record, "attributes": {**(record.get("attributes") or {})}}
            copy["attributes"][_COUNT] = len(self.members(tx, call.account, record))
            out.append(copy)
        return out

    def get(self, call: Call) -> Outcome:
        with self.store.transaction(write=False) as tx:
            record = self.stored(tx, call.account, call.op.resource_type, call.rid)
            return Outcome(call.op.status, self._with_count(call, tx, [record]))

    def list(self, call: Call) -> Outcome:
        with self.store.transaction(write=False) as tx:
            page = self.query(call, tx, tx.scan(call.account, call.op.resource_type))
            page.records = self._with_count(call, tx, page.records)
        return _page_outcome(call.op.status, page)

    def delete(self, call: Call) -> Outcome:
        with self.store.transaction() as tx:
            if not tx.delete(call.account, call.op.resource_type, call.rid):
                raise not_found(call.op.resource_type, call.rid)
            drop_references(tx, call.account, {"type": call.op.resource_type, "id": call.rid})
        return Outcome(call.op.status)

    def relationship_get(self, call: Call) -> Outcome:
        if call.op.relationship != _MEMBERS:
            return super().relationship_get(call)
        with self.store.transaction(write=False) as tx:
            group = self.stored(tx, call.account, call.op.resource_type, call.rid)
            page = self.query(call, tx, self.member_records(tx, call.account, group))
        return Outcome(
            call.op.status,
            refs=[{"type": r["type"], "id": r["id"]} for r in page.records],
            many=True,
            links="page",
            next_cursor=page.next_cursor,
            prev_cursor=page.prev_cursor,
        )

    def related(self, call: Call) -> Outcome:
        if call.op.relationship != _MEMBERS:
            return super().related(call)
        with self.store.transaction(write=False) as tx:
            group = self.stored(tx, call.account, call.op.resource_type, call.rid)
            page = self.query(call, tx, self.member_records(tx, call.account, group))
        return _page_outcome(call.op.status, page)

    def relationship_change(self, call: Call) -> Outcome:
        if call.op.relationship != _MEMBERS or call.op.resource_type != "list":
            return super().relationship_change(call)
        refs = body_refs(call)
        limit = per_call_limit(self.description(call.op))
        if limit is not None and len(refs) > limit:
            raise invalid(f"At most {limit} profiles may be sent per call; {len(refs)} were sent.", pointer="/data")
        with self.store.transaction() as tx:
            group = self.stored(tx, call.account, "list", call.rid)
            for n, reference in enumerate(refs):
                if reference["type"] != "profile":
                    raise invalid(f"Only profiles can be list members, not {reference['type']}.", pointer=f"/data/{n}")
            if call.op.kind is not Kind.REL_REMOVE:
                check_refs_exist(tx, call.account, refs)
            if call.op.kind is Kind.REL_ADD:
                self.add_members(tx, call.account, group, refs)
            elif call.op.kind is Kind.REL_REMOVE:
                self.remove_members(tx, call.account, group, refs)
            else:
                current = [{"type": "profile", "id": pid} for pid in self.members(tx, call.account, group)]
                self.remove_members(tx, call.account, group, [r for r in current if r not in refs])
                self.add_members(tx, call.account, group, refs)
            group.setdefault("attributes", {})["updated"] = now()
            tx.put(call.account, group)
        return Outcome(call.op.status if call.op.status != 200 else 204)

    def description(self, op: OpInfo) -> str:
        node = self.index.spec["paths"].get(op.path, {}).get(op.method, {})
        return str(node.get("description") or "")

    def description_by_id(self, operation_id: str) -> str:
        if self._descriptions is None:
            self._descriptions = {
                op.operation_id: str(op.node.get("description") or "") for op in iter_operations(self.index.spec)
            }
        return self._descriptions.get(operation_id, "")


def _joined(record: Record, relationship: str, rtype: str) -> dict[str, str | None]:
    """The `rtype` ids a relationship holds, each with when it joined (its `joined` map beside `data`)."""
    rel = (record.get("relationships") or {}).get(relationship)
    if not isinstance(rel, dict):
        return {}
    raw = rel.get("joined")
    joined: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return {
        r["id"]: joined.get(r["id"]) for r in rel.get("data") or [] if isinstance(r, dict) and r.get("type") == rtype
    }


def _on_group(group: Record) -> dict[str, str | None]:
    """Members stored on the list or segment itself (seed and demo data): profile id -> when it joined."""
    return _joined(group, _MEMBERS, "profile")


def _add_on_group(group: Record, refs: builtins.list[Ref], stamp: str) -> None:
    rel = group.setdefault("relationships", {}).setdefault(_MEMBERS, {"many": True, "data": []})
    rel["many"] = True
    data = rel.setdefault("data", [])
    joined = rel.setdefault("joined", {})
    present = {(r.get("type"), r.get("id")) for r in data}
    for reference in refs:
        if (reference["type"], reference["id"]) not in present:
            present.add((reference["type"], reference["id"]))
            data.append(reference)
            joined[reference["id"]] = stamp


def _drop_on_group(group: Record, refs: builtins.list[Ref]) -> None:
    rel = (group.get("relationships") or {}).get(_MEMBERS)
    if not rel:
        return
    gone = {(r["type"], r["id"]) for r in refs}
    rel["data"] = [r for r in rel.get("data") or [] if (r.get("type"), r.get("id")) not in gone]
    joined = rel.get("joined") or {}
    for reference in refs:
        joined.pop(reference["id"], None)


def _held_lists(profile: Record) -> dict[str, str | None]:
    """The lists a profile holds itself: list id -> when it joined."""
    return _joined(profile, _HELD, "list")


def _evaluable_groups(group: Record) -> builtins.list[builtins.list[dict[str, Any]]] | None:
    """A segment's condition groups when the mock can evaluate every condition; None otherwise (and for lists)."""
    if group.get("type") != "segment":
        return None
    definition = (group.get("attributes") or {}).get("definition")
    raw = definition.get("condition_groups") if isinstance(definition, dict) else None
    if not isinstance(raw, list) or not raw:
        return None
    groups = [g.get("conditions") if isinstance(g, dict) else None for g in raw]
    if not all(isinstance(g, list) and g and all(_evaluable(c) for c in g) for g in groups):
        return None
    return [list(g) for g in groups if isinstance(g, list)]


def _evaluable(condition: Any) -> bool:
    if not isinstance(condition, dict):
        return False
    kind = condition.get("type")
    if kind == "profile-group-membership":
        return not condition.get("timeframe_filter")
    if kind == "profile-property":
        flt = condition.get("filter")
        return isinstance(flt, dict) and flt.get("type") in _FILTER_TYPES
    return False


def _profile_property(profile: Record, name: str) -> Any:
    attrs = profile.get("attributes") or {}
    custom = re.fullmatch(r"properties\[['\"](.+)['\"]\]", name)
    if custom:
        return (attrs.get("properties") or {}).get(custom.group(1))
    node: Any = attrs
    for part in name.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


_FILTER_TYPES = ("string", "numeric", "boolean", "existence")


def _matches(flt: dict[str, Any], value: Any) -> bool:
    op = str(flt.get("operator") or "")
    kind = flt.get("type")
    wanted = flt.get("value")
    if kind == "existence":
        present = value not in (None, "")
        return present if op in ("is-set", "exists") else not present
    if kind == "boolean":
        return isinstance(value, bool) and value is wanted
    if kind == "numeric":
        if not isinstance(value, int | float) or not isinstance(wanted, int | float):
            return False
        return {
            "equals": value == wanted,
            "not-equals": value != wanted,
            "greater-than": value > wanted,
            "greater-than-or-equal": value >= wanted,
            "less-than": value < wanted,
            "less-than-or-equal": value <= wanted,
        }.get(op, False)
    text, target = str(value) if value is not None else None, str(wanted or "")
    negated = op.startswith("not-") or op == "nregex"
    base = op[4:] if op.startswith("not-") else ("regex" if op == "nregex" else op)
    if text is None:
        return negated
    result = {
        "equals": text == target,
        "contains": target in text,
        "starts-with": text.startswith(target),
        "ends-with": text.endswith(target),
        "regex": base == "regex" and _search(target, text),
    }.get(base, False)
    return not result if negated else result


def _search(pattern: str, text: str) -> bool:
    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False
