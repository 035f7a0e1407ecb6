"""Copies of stored resources (`campaign-clone`, `template-clone`, a template assigned to a message): a new
id of the type's shape, the source's attributes without its lifecycle (timestamps, status, send times)."""

from __future__ import annotations

import copy
from typing import Any

from .._models import Record

__all__ = ["LIFECYCLE", "copy_record", "new_name"]

# What a copy never inherits: it is a new resource, created now, in its type's first state.
LIFECYCLE = frozenset(
    {"created", "created_at", "updated", "updated_at", "status", "scheduled_at", "send_time", "archived"}
)


def copy_record(source: Record, rid: str, **attributes: Any) -> Record:
    kept = {k: copy.deepcopy(v) for k, v in (source.get("attributes") or {}).items() if k not in LIFECYCLE}
    kept.update({k: v for k, v in attributes.items() if v is not None})
    return {"type": source["type"], "id": rid, "attributes": kept, "relationships": {}}


def new_name(call_attributes: dict[str, Any], source: Record, *keys: str) -> str:
    """The name the request gives the copy (`new_name`, `name`), else Klaviyo's `<name> (Clone)`."""
    for key in keys:
        value = call_attributes.get(key)
        if isinstance(value, str) and value:
            return value
    return f"{(source.get('attributes') or {}).get('name') or source['id']} (Clone)"
