"""Catalogs: items, variants and categories.

- ids are Klaviyo's `$custom:::$default:::EXTERNAL_ID` (integration type, catalog type, external id), built by
  `mock_server`'s id rules from the spec's examples; a second item/variant/category with the same
  `external_id` is a 409 naming the first (its id would be the same);
- an item's categories and a category's items are one relation seen from both sides: it is kept on the items
  (`categories`), whichever side a create or a relationship endpoint names it from, so both read the same;
- a variant points at its item (`item`); the item's `variants` are found from them;
- deleting an item deletes its variants; deleting a category takes it off its items.
The bulk create/update/delete jobs apply their items through this backend's rules (`_jobs.py`).
"""

from __future__ import annotations

from typing import Any, ClassVar

from .._errors import not_found
from .._index import Kind
from .._models import Outcome, Record, ref, refs_of
from .._store import StoreTx
from ._base import Backend, Call

__all__ = ["CatalogsBackend"]

ITEM, VARIANT, CATEGORY = "catalog-item", "catalog-variant", "catalog-category"
ITEM_CATEGORIES, CATEGORY_ITEMS = "categories", "items"


class CatalogsBackend(Backend):
    types: ClassVar[tuple[str, ...]] = (ITEM, VARIANT, CATEGORY)
    holds_state: ClassVar[bool] = True

    def find_existing(self, tx: StoreTx, account: str, record: Record) -> Record | None:
        external = (record.get("attributes") or {}).get("external_id")
        if external in (None, ""):
            return None
        other = tx.find(account, record["type"], "external_id", external)
        return other if other is not None and other["id"] != record["id"] else None

    def before_write(self, call: Call, tx: StoreTx, record: Record, *, created: bool) -> None:
        if record["type"] == CATEGORY and CATEGORY_ITEMS in (record.get("relationships") or {}):
            items = refs_of(record, CATEGORY_ITEMS)
            del record["relationships"][CATEGORY_ITEMS]
            self.set_items(call.account, tx, record, items, replace=not created)

    def set_items(
        self, account: str, tx: StoreTx, category: Record, items: list[dict[str, str]], *, replace: bool
    ) -> None:
        """Put `category` on these items (and, when replacing, off every other item)."""
        wanted = {r["id"] for r in items}
        me = ref(category)
        for item in tx.scan(account, ITEM):
            has = me in refs_of(item, ITEM_CATEGORIES)
            if (item["id"] in wanted) == has or (has and not replace):
                continue
            found = tx.get(account, ITEM, item["id"])
            if found is None:
                continue
            current = [r for r in refs_of(found, ITEM_CATEGORIES) if r != me]
            if item["id"] in wanted:
                current.append(me)
            found.setdefault("relationships", {})[ITEM_CATEGORIES] = {"many": True, "data": current}
            tx.put(account, found)

    def relationship_change(self, call: Call) -> Outcome:
        if call.op.resource_type != CATEGORY or call.op.relationship != CATEGORY_ITEMS:
            return super().relationship_change(call)
        body = call.req.body if isinstance(call.req.body, dict) else {}
        data: Any = body.get("data")
        items = data if isinstance(data, list) else ([data] if isinstance(data, dict) else [])
        refs = [{"type": ITEM, "id": str(r["id"])} for r in items if isinstance(r, dict) and "id" in r]
        with self.store.transaction() as tx:
            category = self.stored(tx, call.account, CATEGORY, call.rid)
            me = ref(category)
            if call.op.kind is Kind.REL_REPLACE:
                self.set_items(call.account, tx, category, refs, replace=True)
            for target in refs if call.op.kind is not Kind.REL_REPLACE else []:
                item = tx.get(call.account, ITEM, target["id"])
                if item is None:
                    raise not_found(ITEM, target["id"])
                current = [r for r in refs_of(item, ITEM_CATEGORIES) if r != me]
                if call.op.kind is Kind.REL_ADD:
                    current.append(me)
                item.setdefault("relationships", {})[ITEM_CATEGORIES] = {"many": True, "data": current}
                tx.put(call.account, item)
        return Outcome(call.op.status if call.op.status != 200 else 204)

    def remove(self, tx: StoreTx, account: str, record: Record) -> None:
        me = ref(record)
        if record["type"] == ITEM:
            for variant in tx.scan(account, VARIANT):
                if me in refs_of(variant, "item"):
                    tx.delete(account, VARIANT, variant["id"])
        elif record["type"] == CATEGORY:
            self.set_items(account, tx, record, [], replace=True)
        super().remove(tx, account, record)
