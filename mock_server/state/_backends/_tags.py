"""Tags and tag groups, with Klaviyo's documented rules (the operations' descriptions):

- every account has one Default Tag Group (`default: true`), made on first use; it cannot be deleted and no
  other default group can be made; a tag created without `relationships.tag-group` joins it;
- a new tag group is non-exclusive unless `exclusive: true`; a resource may carry only one tag of an
  exclusive group (a second is a 400);
- the numeric limits (tags per account, tag groups per account, tags per resource) are read from the
  descriptions ("cannot have more than **500** unique tags"), not written here;
- deleting a tag removes its associations; deleting a group removes its tags and theirs.

Associations are stored on the tag (`relationships.flows/lists/segments/campaigns`), so a tagged resource's
`tags` relationship is found by the generic inverse lookup.
"""

from __future__ import annotations

import builtins
import re
from typing import Any, ClassVar

from .._errors import MockError, conflict, invalid
from .._index import Kind
from .._models import Outcome, Record, Ref
from .._store import StoreTx
from ._base import Backend, Call
from ._lists import body_refs, check_refs_exist, drop_references

__all__ = ["TagsBackend"]

_GROUP = "tag-group"
_MORE_THAN = re.compile(r"more than \**(\d[\d,]*)\**", re.IGNORECASE)


def _limit(description: str) -> int | None:
    match = _MORE_THAN.search(description)
    return int(match.group(1).replace(",", "")) if match else None


class TagsBackend(Backend):
    types: ClassVar[tuple[str, ...]] = ("tag", _GROUP)

    # -- the default group ------------------------------------------------------------------------
    def default_group(self, tx: StoreTx, account: str) -> Record:
        for group in tx.scan(account, _GROUP):
            if (group.get("attributes") or {}).get("default") is True:
                return group
        rid = self.ids.rule(_GROUP).new({"name": "Default"}, {})
        made: Record = {
            "type": _GROUP,
            "id": rid,
            "attributes": {"name": "Default", "exclusive": False, "default": True},
            "relationships": {},
        }
        tx.put(account, made)
        return made

    def _ensure_default(self, account: str) -> None:
        with self.store.transaction(write=False) as tx:
            if any((g.get("attributes") or {}).get("default") is True for g in tx.scan(account, _GROUP)):
                return
        with self.store.transaction() as tx:
            self.default_group(tx, account)

    def _description(self, call: Call) -> str:
        return self.backends.lists.description(call.op)

    # -- hooks ---------------------------------------------------------------------------------------
    def before_write(self, call: Call, tx: StoreTx, record: Record, *, created: bool) -> None:
        attrs = record.setdefault("attributes", {})
        if record["type"] == _GROUP:
            if created:
                attrs["default"] = False  # the only default group is the account's own
                attrs["exclusive"] = attrs.get("exclusive") is True
                self._check_count(call, tx, _GROUP)
            attrs.pop("return_fields", None)
            return
        if created:
            self._check_count(call, tx, "tag")
            rel = (record.get("relationships") or {}).get(_GROUP)
            refs = (rel or {}).get("data") or []
            if refs:
                if tx.get(call.account, _GROUP, refs[0]["id"]) is None:
                    raise MockError(
                        404,
                        f"A tag-group with id {refs[0]['id']} does not exist.",
                        code="not_found",
                        title="Not found.",
                        pointer="/data/relationships/tag-group/data/id",
                    )
            else:
                group = self.default_group(tx, call.account)
                record.setdefault("relationships", {})[_GROUP] = {
                    "many": False,
                    "data": [{"type": _GROUP, "id": group["id"]}],
                }

    def _check_count(self, call: Call, tx: StoreTx, rtype: str) -> None:
        limit = _limit(self._description(call))
        if limit is not None and len(tx.scan(call.account, rtype)) >= limit:
            raise invalid(f"An account cannot have more than {limit} {rtype}s.", pointer="/data")

    # -- operations ----------------------------------------------------------------------------------
    def create(self, call: Call) -> Outcome:
        self._ensure_default(call.account)
        return super().create(call)

    def get(self, call: Call) -> Outcome:
        self._ensure_default(call.account)
        return super().get(call)

    def list(self, call: Call) -> Outcome:
        self._ensure_default(call.account)
        return super().list(call)

    def related(self, call: Call) -> Outcome:
        self._ensure_default(call.account)
        return super().related(call)

    def update(self, call: Call) -> Outcome:
        incoming = call.resource().attributes
        if call.op.resource_type == _GROUP and {"default", "exclusive"} & set(incoming):
            raise invalid("Only a tag group's name can be changed.", pointer="/data/attributes")
        return super().update(call)

    def delete(self, call: Call) -> Outcome:
        with self.store.transaction() as tx:
            record = self.stored(tx, call.account, call.op.resource_type, call.rid)
            if call.op.resource_type == _GROUP:
                if (record.get("attributes") or {}).get("default") is True:
                    # Documented ("The default tag group cannot be deleted"); refused for the group's state: 409.
                    raise conflict("The default tag group cannot be deleted.")
                me = {"type": _GROUP, "id": call.rid}
                for tag in tx.scan(call.account, "tag"):
                    if me in ((tag.get("relationships") or {}).get(_GROUP) or {}).get("data", []):
                        tx.delete(call.account, "tag", tag["id"])
            tx.delete(call.account, call.op.resource_type, call.rid)
            drop_references(tx, call.account, {"type": call.op.resource_type, "id": call.rid})
        return Outcome(call.op.status)

    def relationship_change(self, call: Call) -> Outcome:
        if call.op.resource_type != "tag" or call.op.relationship == _GROUP:
            return super().relationship_change(call)
        refs = body_refs(call)
        name = call.op.relationship or ""
        with self.store.transaction() as tx:
            tag = self.stored(tx, call.account, "tag", call.rid)
            for n, reference in enumerate(refs):
                if call.op.related_type and reference["type"] != call.op.related_type:
                    raise invalid(f"Expected {call.op.related_type}, not {reference['type']}.", pointer=f"/data/{n}")
            rel = tag.setdefault("relationships", {}).setdefault(name, {"many": True, "data": []})
            current: builtins.list[Ref] = list(rel.get("data") or [])
            if call.op.kind is Kind.REL_REMOVE:
                current = [r for r in current if r not in refs]
            else:
                check_refs_exist(tx, call.account, refs)
                added = [r for r in refs if r not in current]
                self._check_tagging(call, tx, tag, added)
                current = (current if call.op.kind is Kind.REL_ADD else []) + added
            rel["data"] = current
            rel["many"] = True
            tx.put(call.account, tag)
        return Outcome(call.op.status if call.op.status != 200 else 204)

    def _check_tagging(self, call: Call, tx: StoreTx, tag: Record, added: builtins.list[Ref]) -> None:
        """Exclusive groups allow one of their tags per resource; a resource carries at most N tags."""
        limit = _limit(self._description(call))
        group_ref = (((tag.get("relationships") or {}).get(_GROUP) or {}).get("data") or [None])[0]
        group = tx.get(call.account, _GROUP, group_ref["id"]) if group_ref else None
        exclusive = bool(group and (group.get("attributes") or {}).get("exclusive"))
        others = [t for t in tx.scan(call.account, "tag") if t["id"] != tag["id"]]
        for n, reference in enumerate(added):
            tagged_with = [t for t in others if reference in _tagged(t)]
            if limit is not None and len(tagged_with) + 1 > limit:
                raise invalid(
                    f"A {reference['type']} cannot be associated with more than {limit} tags.", pointer=f"/data/{n}"
                )
            if exclusive and any(_group_id(t) == group_ref["id"] for t in tagged_with if group_ref):
                raise invalid(
                    f"{reference['type']} {reference['id']} already has a tag from the exclusive tag group "
                    f"{group_ref['id'] if group_ref else ''}.",
                    pointer=f"/data/{n}",
                )


def _tagged(tag: Record) -> builtins.list[Any]:
    return [
        r for name, rel in (tag.get("relationships") or {}).items() if name != _GROUP for r in rel.get("data") or []
    ]


def _group_id(tag: Record) -> str | None:
    refs = ((tag.get("relationships") or {}).get(_GROUP) or {}).get("data") or []
    return str(refs[0]["id"]) if refs else None
