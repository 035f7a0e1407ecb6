"""Bulk jobs (`*-bulk-create-job`, `profile-bulk-import-job`, `*-bulk-delete-job`...): they finish at once.

The resources a job carries (`attributes.X.data[]` of a stored type) are applied when it is created, as its
type's name says (`job_effect`): delete them, create-or-merge them, or merge into existing ones only. Each
item goes through the backend of its own type, so its domain rules (unique identifiers...) hold.
"""

from __future__ import annotations

from typing import Any, ClassVar

from mock_server import job_effect, relationship_name

from .._collector import collector_paused
from .._index import OpInfo, TypeInfo
from .._models import Record, ResourceInput, merge, now
from .._schema import flatten
from .._store import BatchingTx, StoreTx
from ._base import Backend, Call
from ._lists import ListsBackend

__all__ = ["JobsBackend"]

_TOTALS = ("total_count", "completed_count", "completed_items", "total_items")
_FAILURES = ("failed_count", "errored_count", "failed_items")


class JobsBackend(Backend):
    types: ClassVar[tuple[str, ...]] = ()  # chosen by name convention (`job_effect`), not listed

    def complete_attributes(self, attrs: dict[str, Any], props: dict[str, Any]) -> None:
        # Bulk jobs finish at once: status complete, every item counted as done.
        if "status" in props:
            values = [str(v) for v in flatten(self.index.spec, props.get("status")).get("enum") or []]
            attrs["status"] = next((v for v in values if v.lower() in ("complete", "completed")), "complete")
        total = sum(len(v.get("data") or []) for v in attrs.values() if isinstance(v, dict) and "data" in v)
        for name in props:
            if name in _TOTALS:
                attrs[name] = total
            elif name in _FAILURES:
                attrs[name] = 0
            elif name in ("completed_at", "started_at") and attrs.get(name) is None:
                attrs[name] = now()

    def before_write(self, call: Call, tx: StoreTx, record: Record, *, created: bool) -> None:
        if created:
            self.run(call, tx, record)

    def run(self, call: Call, tx: StoreTx, job: Record) -> None:
        batch = BatchingTx(tx)  # the job's records are stored together (one round of statements in SQL)
        with collector_paused():  # 10,000 resources in hand: full collections would walk them again and again
            # (over the memory store a BatchingTx holds nothing back: the job writes through the store's own
            # transaction, without a layer of calls around each lookup and write)
            self.apply(call, batch if batch.looks_ahead else tx, job)
            batch.flush()
        # The resources it carried are stored now (and listed in its relationships); a job's responses do not show
        # them, so the job does not keep a copy (10,000 profiles a job: megabytes each).
        shown = self.attribute_schema(None, job["type"]).get("properties") or {}
        attrs = job.get("attributes") or {}
        for name in [n for n, v in attrs.items() if n not in shown and isinstance(v, dict) and "data" in v]:
            del attrs[name]

    def apply(self, call: Call, tx: StoreTx, job: Record) -> None:
        effect = job_effect(job["type"])
        account = call.account
        made: dict[str, list[dict[str, str]]] = {}
        per_type: dict[str, tuple[TypeInfo, Backend, OpInfo | None]] = {}  # a job's items share a few types
        if isinstance(tx, BatchingTx) and tx.looks_ahead and effect != "delete":
            self._prefetch(tx, account, job)
        for value in (job.get("attributes") or {}).values():
            items = value.get("data") if isinstance(value, dict) else None
            if not isinstance(items, list):
                continue
            for item in items:
                if not isinstance(item, dict):
                    continue
                rtype = item.get("type")
                known = per_type.get(rtype) if type(rtype) is str else None
                if known is None:
                    info = self.index.types.get(str(rtype))
                    if not info or not info.creatable:
                        continue
                    known = per_type[str(rtype)] = (
                        info,
                        self.backends.for_type(info.name),
                        self.index.ops.get(info.get_op or ""),
                    )
                info, backend, get_op = known
                incoming = ResourceInput.from_data(item, info.name)
                existing = tx.get(account, info.name, incoming.id) if incoming.id else None
                if effect == "delete":
                    if existing and incoming.id:
                        backend.remove(tx, account, existing)
                        made.setdefault(info.name, []).append({"type": info.name, "id": incoming.id})
                    continue
                record = incoming.record(incoming.id or "")
                found = existing or backend.find_existing(tx, account, record)
                if found is None and effect != "create":
                    continue
                if found is not None:
                    found["attributes"] = merge(found.get("attributes") or {}, record["attributes"])
                    record = found
                    tx.put(account, record)
                else:
                    record["id"] = backend.new_id(tx, account, incoming)
                    if get_op:
                        backend.complete(record, get_op)
                    tx.put(account, record)
                made.setdefault(info.name, []).append({"type": info.name, "id": record["id"]})
        for rtype, refs in made.items():  # once each, however often the job names it
            made[rtype] = list({r["id"]: r for r in refs}.values())
        if effect == "delete":
            return
        rels = job.setdefault("relationships", {})
        for rtype, refs in made.items():
            name = relationship_name(rtype)
            rels[name] = {"many": True, "data": refs}
            # Lists (etc.) named in the job's relationships gain the resources it made.
            for rel in list(rels.values()):
                for target in rel.get("data") or []:
                    if target["type"] == rtype:  # the job's own resources (10,000 of them): not a target
                        continue
                    other = tx.get(account, target["type"], target["id"])
                    if other is None:
                        continue
                    target_backend = self.backends.for_type(other["type"])
                    if isinstance(target_backend, ListsBackend) and rtype == "profile":
                        target_backend.add_members(tx, account, other, refs)  # with the time each joined
                    else:
                        bucket = other.setdefault("relationships", {}).setdefault(name, {"many": True, "data": []})
                        present = {(r["type"], r["id"]) for r in bucket["data"]}
                        bucket["data"] += [r for r in refs if (r["type"], r["id"]) not in present]
                    tx.put(account, other)

    def _prefetch(self, tx: BatchingTx, account: str, job: Record) -> None:
        """What the job's resources are matched against (their unique identifiers), looked up together per type
        and field before the loop: on SQL one indexed query each instead of one round trip per resource."""
        by_type: dict[str, list[Record]] = {}
        for value in (job.get("attributes") or {}).values():
            items = value.get("data") if isinstance(value, dict) else None
            for item in items if isinstance(items, list) else ():
                info = self.index.types.get(str(item.get("type"))) if isinstance(item, dict) else None
                if info and info.creatable:
                    by_type.setdefault(info.name, []).append(item)
        for rtype, items in by_type.items():
            self.backends.for_type(rtype).prefetch_existing(tx, account, items)
