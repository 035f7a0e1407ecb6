"""Coupons and coupon codes.

- a coupon's id is its `external_id` and a coupon code's id is `<coupon id>-<unique_code>`, as the spec's
  examples show (`10OFF`, `10OFF-ASD325FHK324UJDOI2M3JNES99`): `mock_server`'s id rules build them, so
  `GET /api/coupons/DIWALI20` finds the coupon made with that `external_id`. A second one is a 409;
- a new code is `UNASSIGNED` and expires in a year unless told ("automatically set to 1 year");
- deleting a coupon deletes its codes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from .._models import Record, ref, refs_of
from .._store import StoreTx
from ._base import Backend

__all__ = ["CouponsBackend"]

COUPON, CODE = "coupon", "coupon-code"


class CouponsBackend(Backend):
    types: ClassVar[tuple[str, ...]] = (COUPON, CODE)
    holds_state: ClassVar[bool] = True

    def find_existing(self, tx: StoreTx, account: str, record: Record) -> Record | None:
        key = "external_id" if record["type"] == COUPON else "unique_code"
        value = (record.get("attributes") or {}).get(key)
        if value in (None, ""):
            return None
        other = tx.find(account, record["type"], key, value)
        if other is None or other["id"] == record["id"]:
            return None
        if record["type"] == CODE and refs_of(other, "coupon") != refs_of(record, "coupon"):
            return None  # the same code under another coupon is another code
        return other

    def complete(self, record: Record, op: Any) -> None:
        attrs = record.setdefault("attributes", {})
        if record["type"] == CODE:
            attrs.setdefault("status", "UNASSIGNED")
            if attrs.get("expires_at") is None:
                attrs["expires_at"] = (dt.datetime.now(dt.UTC) + dt.timedelta(days=365)).isoformat(timespec="seconds")
        super().complete(record, op)

    def remove(self, tx: StoreTx, account: str, record: Record) -> None:
        if record["type"] == COUPON:
            me = ref(record)
            for code in tx.scan(account, CODE):
                if me in refs_of(code, "coupon"):
                    tx.delete(account, CODE, code["id"])
        super().remove(tx, account, record)
