"""The generic backend: CRUD, upserts, relationships and related collections for any resource type the
spec index knows. Domain backends subclass it and override its hooks (`find_existing`, `before_write`,
`after_write`, `new_id`, `remove`), so a Klaviyo rule lives in the backend of the type it is about."""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, ClassVar

from mock_server import IdRules, MockError, MockRequest, job_effect

from .._collections import Page, RecordSource, StoreSource, run_query
from .._errors import conflict, duplicate, invalid, not_found
from .._fields import FieldReader
from .._index import Kind, OpInfo, ResourceIndex
from .._models import Outcome, Record, ResourceInput, merge, now
from .._render import conform, may_conform, related_ids, related_type_of
from .._schema import flatten, value_for_schema
from .._store import BatchingTx, Store, StoreTx

if TYPE_CHECKING:
    from . import Backends

__all__ = ["TIMESTAMPS_CREATED", "TIMESTAMPS_UPDATED", "Backend", "Call"]

_SWITCHES = ("enabled", "active", "is_active")
TIMESTAMPS_CREATED = ("created", "created_at")
TIMESTAMPS_UPDATED = ("updated", "updated_at")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _refuse_control_characters(value: str, pointer: str) -> None:
    found = _CONTROL_CHARACTERS.search(value)
    if found:
        raise invalid(f"An id cannot hold the control character U+{ord(found.group()):04X}.", pointer=pointer)


@dataclass(frozen=True)
class _Completion:
    """What `complete` does for one attributes schema, worked out once (a bulk job completes thousands of
    records against the same schema)."""

    props: dict[str, Any]
    timestamps: tuple[str, ...]  # created/updated members, filled with now() when absent
    draft: Any  # the `status` a new record starts with where the type has drafts, else None
    required: tuple[tuple[str, bool], ...]  # (required member, a boolean switch turned on by default?)
    conformed: tuple[str, ...]  # members whose schema `conform` can change (requires members, or a choice)


_COMPLETIONS: dict[int, tuple[Any, _Completion]] = {}  # by id of the schema, kept alongside (as flatten does)


def _completion(spec: dict[str, Any], schema: dict[str, Any]) -> _Completion:
    hit = _COMPLETIONS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    props = schema.get("properties") or {}
    status = flatten(spec, props.get("status")) if "status" in props else {}
    drafts = [v for v in status.get("enum") or [] if str(v).lower() == "draft"]
    plan = _Completion(
        props=props,
        timestamps=tuple(n for n in props if n in TIMESTAMPS_CREATED + TIMESTAMPS_UPDATED),
        draft=drafts[0] if drafts else None,
        required=tuple(
            (n, n in _SWITCHES and flatten(spec, props[n]).get("type") == "boolean")
            for n in schema.get("required") or []
            if n in props
        ),
        conformed=tuple(n for n, sub in props.items() if may_conform(spec, sub)),
    )
    _COMPLETIONS[id(schema)] = (schema, plan)
    return plan


@dataclass
class Call:
    """One request as a backend sees it."""

    req: MockRequest
    op: OpInfo

    @property
    def account(self) -> str:
        return self.req.account

    @property
    def rid(self) -> str:
        return self.req.path_params.get(self.op.id_param or "id", "")

    def resource(self) -> ResourceInput:
        return ResourceInput.from_body(self.req.body, self.op.resource_type)


class Backend:
    """Spec-derived behaviour for every type; `types` names the types a subclass owns."""

    types: ClassVar[tuple[str, ...]] = ()
    actions: ClassVar[frozenset[str]] = frozenset()  # the verbs of `Kind.ACTION` operations it answers
    # Its types are answered from state even before one is stored (a domain backend that makes them itself:
    # a campaign's messages, a flow's actions); otherwise a type never stored gets schema-generated answers.
    holds_state: ClassVar[bool] = False

    def __init__(self, index: ResourceIndex, store: Store, ids: IdRules, backends: Backends) -> None:
        self.index = index
        self.store = store
        self.ids = ids
        self.backends = backends
        self._completion_plans: dict[tuple[str, str], tuple[_Completion, ...]] = {}  # see `_completions`

    # -- hooks a domain backend overrides ----------------------------------------------------------
    def new_id(self, tx: StoreTx, account: str, incoming: ResourceInput) -> str:
        """The id of a new resource: the body's, else built as the spec's id example shows, else fresh.
        A client-chosen id (or an attribute it is built from) with a control character is a 400: no URL or
        store holds it faithfully. Ids in paths are only looked up, so such an id there is simply not found."""
        if incoming.id:
            _refuse_control_characters(incoming.id, "/data/id")
            return incoming.id
        rule = self.ids.rule(incoming.type)
        if not rule.parts:  # a fresh id (most types): nothing of the resource to build it from or to check
            return rule.new()
        for part in rule.parts:
            value = incoming.attributes.get(part.value) if part.kind == "attribute" else None
            if isinstance(value, str):
                _refuse_control_characters(value, f"/data/attributes/{part.value}")
        return rule.new(incoming.attributes, incoming.related_ids())

    def find_existing(self, tx: StoreTx, account: str, record: Record) -> Record | None:
        """Another stored resource this one must not duplicate (by a unique identifier); none by default."""
        return None

    def prefetch_existing(self, tx: BatchingTx, account: str, records: list[Record]) -> None:
        """Look up ahead, together, what `find_existing` will ask for these records (a bulk job's)."""

    def before_write(self, call: Call, tx: StoreTx, record: Record, *, created: bool) -> None:
        """Domain rules applied to a resource about to be stored (after the schema completed it)."""

    def after_write(self, call: Call, tx: StoreTx, record: Record, *, created: bool) -> None:
        """Effects on other resources once `record` is stored."""

    # -- schema-derived completion -----------------------------------------------------------------
    def attribute_schema(self, op: OpInfo | None, rtype: str) -> dict[str, Any]:
        schema = (op.data_schema if op else None) or self.index.resource_schema(rtype) or {}
        return flatten(self.index.spec, (schema.get("properties") or {}).get("attributes"))

    def complete(self, record: Record, op: OpInfo | None) -> None:
        """Fill what the type's responses require, once, so every later read returns the same values."""
        spec = self.index.spec
        attrs = record.setdefault("attributes", {})
        stamp = ""
        for plan in self._completions(op, record["type"]):
            for name in plan.timestamps:
                if attrs.get(name) is None:
                    stamp = stamp or now()  # one moment: a new record's created and updated agree
                    attrs[name] = stamp
            self.complete_attributes(attrs, plan.props)
            if plan.draft is not None and attrs.get("status") is None:
                attrs["status"] = plan.draft  # what you create starts as a draft where the type has drafts
            for name, switch in plan.required:
                if name not in attrs:
                    if switch:
                        attrs[name] = True  # what you create is switched on unless you say otherwise
                    else:
                        attrs[name] = value_for_schema(spec, plan.props[name], seed=f"{record['id']}:{name}")
            for name in plan.conformed:
                if name in attrs:
                    attrs[name] = conform(spec, plan.props[name], attrs[name])

    def _completions(self, op: OpInfo | None, rtype: str) -> tuple[_Completion, ...]:
        """The completion plans of the operation's attribute schema and the type's (often one and the same),
        worked out once per operation and type: a bulk import completes thousands of records."""
        key = (op.operation_id if op else "", rtype)
        plans = self._completion_plans.get(key)
        if plans is None:
            first = self.attribute_schema(op, rtype)
            second = self.attribute_schema(None, rtype)
            # The same schema twice (one object, or two equal copies in the spec): completing a record against
            # it again changes nothing, so once.
            schemas = (first,) if second is first or second == first else (first, second)
            plans = self._completion_plans[key] = tuple(_completion(self.index.spec, s) for s in schemas)
        return plans

    def complete_attributes(self, attrs: dict[str, Any], props: dict[str, Any]) -> None:
        """Type-specific defaults before the schema fills the rest (a job's status, a campaign's...)."""

    def write(self, call: Call, tx: StoreTx, record: Record, *, created: bool, op: OpInfo | None = None) -> Record:
        if created and job_effect(record["type"]) is None:
            self.create_inline(call.account, tx, record)
        self.complete(record, op or call.op)
        self.before_write(call, tx, record, created=created)
        tx.put(call.account, record)
        self.after_write(call, tx, record, created=created)
        return record

    def create_inline(self, account: str, tx: StoreTx, record: Record) -> None:
        """Resources created inline (`attributes.campaign-messages.data[]` of a campaign create): each is
        stored through its own backend, points back at its parent, and the parent's relationship lists it."""
        attrs = record.get("attributes") or {}
        for key, value in list(attrs.items()):
            items = value.get("data") if isinstance(value, dict) else None
            if not isinstance(items, list) or not items:
                continue
            kinds = {item.get("type") for item in items if isinstance(item, dict)}
            if len(kinds) != 1 or next(iter(kinds)) not in self.index.types or record["type"] in kinds:
                continue
            child_type = str(next(iter(kinds)))
            backend = self.backends.for_type(child_type)
            child_schema = self.index.resource_schema(child_type) or {}
            spec = self.index.spec
            rels = flatten(spec, (child_schema.get("properties") or {}).get("relationships")).get("properties") or {}
            pointing_back = [n for n in rels if related_type_of(spec, child_schema, n) == record["type"]]
            back = pointing_back[0] if pointing_back else record["type"]
            refs = []
            for item in items:
                incoming = ResourceInput.from_data(item, child_type)
                child = incoming.record(backend.new_id(tx, account, incoming))
                child["relationships"][back] = {"many": False, "data": [{"type": record["type"], "id": record["id"]}]}
                info = self.index.types[child_type]
                backend.complete(child, self.index.ops.get(info.get_op or ""))
                tx.put(account, child)
                refs.append({"type": child_type, "id": child["id"]})
            del attrs[key]
            record.setdefault("relationships", {})[key] = {"many": True, "data": refs}

    def check_unique(self, tx: StoreTx, account: str, record: Record) -> None:
        other = self.find_existing(tx, account, record)
        if other is not None and other["id"] != record["id"]:
            raise duplicate(record["type"], other["id"])

    def stored(self, tx: StoreTx, account: str, rtype: str, rid: str) -> Record:
        record = tx.get(account, rtype, rid)
        if record is None:
            raise not_found(rtype, rid)
        return record

    # -- operations --------------------------------------------------------------------------------
    def create(self, call: Call) -> Outcome:
        incoming = call.resource()
        incoming.type = call.op.resource_type
        with self.store.transaction() as tx:
            record = incoming.record(self.new_id(tx, call.account, incoming))
            if tx.get(call.account, record["type"], record["id"]):
                raise conflict(f"A {record['type']} with id {record['id']} already exists.")
            self.check_unique(tx, call.account, record)
            self.write(call, tx, record, created=True)
        return Outcome(call.op.status, [record], links="resource")

    def upsert(self, call: Call) -> Outcome:
        """Create-or-update: the resource with the body's id, else with one of its unique identifiers,
        gets the attributes merged in (200); otherwise a new one is created (201)."""
        incoming = call.resource()
        incoming.type = call.op.resource_type
        info = self.index.types[call.op.resource_type]
        with self.store.transaction() as tx:
            record = tx.get(call.account, incoming.type, incoming.id) if incoming.id else None
            if record is None:
                record = self.find_existing(tx, call.account, incoming.record(""))
            created = record is None
            if record is None:
                record = incoming.record(self.new_id(tx, call.account, replace(incoming, id=None)))
            else:
                record["attributes"] = merge(record.get("attributes") or {}, incoming.attributes)
                record.setdefault("relationships", {}).update(incoming.record("")["relationships"])
                for name in TIMESTAMPS_UPDATED:
                    if name in record["attributes"]:
                        record["attributes"][name] = now()
            self.write(call, tx, record, created=created, op=self.index.ops.get(info.get_op or "") or call.op)
        status = call.op.status if call.op.status not in (200, 201) else (201 if created else 200)
        return Outcome(status, [record], links="resource")

    def get(self, call: Call) -> Outcome:
        with self.store.transaction(write=False) as tx:
            record = self.stored(tx, call.account, call.op.resource_type, call.rid)
        return Outcome(call.op.status, [record])

    def list(self, call: Call) -> Outcome:
        with self.store.transaction(write=False) as tx:
            # Through the store's indexes: a page walks the sort order, an indexed filter narrows first.
            page = self.query(call, tx, StoreSource(tx, call.account, call.op.resource_type))
        return _page_outcome(call.op.status, page)

    def query(self, call: Call, tx: StoreTx, records: builtins.list[Record] | RecordSource) -> Page:
        reader = FieldReader(self.index, tx, call.account)
        return run_query(
            call.op,
            records,
            call.req.query,
            lookup=reader,
            unreadable=lambda rows, fields: reader.unreadable(call.op.data_schema, rows, fields),
        )

    def update(self, call: Call) -> Outcome:
        incoming = call.resource()
        if incoming.id not in (None, call.rid):
            raise conflict(
                f"The id in the body ({incoming.id}) does not match the URL ({call.rid}).", pointer="/data/id"
            )
        with self.store.transaction() as tx:
            record = self.stored(tx, call.account, call.op.resource_type, call.rid)
            record["attributes"] = merge(record.get("attributes") or {}, incoming.attributes)
            record.setdefault("relationships", {}).update(incoming.record(call.rid)["relationships"])
            self.check_unique(tx, call.account, record)
            for name in TIMESTAMPS_UPDATED:
                if name in record["attributes"]:
                    record["attributes"][name] = now()
            self.write(call, tx, record, created=False)
        return Outcome(call.op.status, [record], links="path")

    def delete(self, call: Call) -> Outcome:
        with self.store.transaction() as tx:
            self.remove(tx, call.account, self.stored(tx, call.account, call.op.resource_type, call.rid))
        return Outcome(call.op.status)

    def remove(self, tx: StoreTx, account: str, record: Record) -> None:
        """Delete a stored resource (a `DELETE` or a bulk delete job); a domain backend adds what goes with it."""
        tx.delete(account, record["type"], record["id"])

    def action(self, call: Call) -> Outcome:
        """`POST /api/<type>-<verb>` (one of `actions`); a domain backend that lists a verb answers it."""
        raise MockError(501, f"The mock does not model `{call.op.action}` on {call.op.resource_type}.")

    def relationship_get(self, call: Call) -> Outcome:
        with self.store.transaction(write=False) as tx:
            parent = self.stored(tx, call.account, call.op.resource_type, call.rid)
            ids = related_ids(tx, call.account, parent, call.op.relationship or "", call.op.related_type)
            records = [r for ref in ids if (r := tx.get(call.account, ref["type"], ref["id"])) is not None]
            if call.op.data_is_list:
                # The related records, filtered, sorted and paged as the endpoint documents (never ignored).
                page = self.query(call, tx, records)
                refs = [{"type": r["type"], "id": r["id"]} for r in page.records]
                return Outcome(
                    call.op.status,
                    refs=refs,
                    many=True,
                    links="page",
                    next_cursor=page.next_cursor,
                    prev_cursor=page.prev_cursor,
                )
        # A to-one relationship with several candidates (a profile's SMS and WhatsApp conversations) names
        # the newest, as the related endpoint does.
        return Outcome(call.op.status, refs=[{"type": r["type"], "id": r["id"]} for r in records], many=False)

    def relationship_change(self, call: Call) -> Outcome:
        body = call.req.body if isinstance(call.req.body, dict) else {}
        data = body.get("data")
        items = data if isinstance(data, list) else ([data] if isinstance(data, dict) else [])
        refs = [{"type": r["type"], "id": str(r["id"])} for r in items if isinstance(r, dict) and "id" in r]
        name = call.op.relationship or ""
        with self.store.transaction() as tx:
            parent = self.stored(tx, call.account, call.op.resource_type, call.rid)
            current = related_ids(tx, call.account, parent, name, call.op.related_type)
            # Sets of (type, id): a list of 100k members gains or loses a batch in linear time.
            if call.op.kind is Kind.REL_ADD:
                present = {(r["type"], r["id"]) for r in current}
                for r in refs:
                    if (r["type"], r["id"]) not in present:
                        present.add((r["type"], r["id"]))
                        current.append(r)
            elif call.op.kind is Kind.REL_REMOVE:
                gone = {(r["type"], r["id"]) for r in refs}
                current = [r for r in current if (r["type"], r["id"]) not in gone]
            else:
                current = refs
            parent.setdefault("relationships", {})[name] = {"many": isinstance(data, list), "data": current}
            tx.put(call.account, parent)
        return Outcome(call.op.status if call.op.status != 200 else 204)

    def related(self, call: Call) -> Outcome:
        with self.store.transaction(write=False) as tx:
            parent = self.stored(tx, call.account, call.op.resource_type, call.rid)
            refs = related_ids(tx, call.account, parent, call.op.relationship or "", call.op.related_type)
            records = [r for ref in refs if (r := tx.get(call.account, ref["type"], ref["id"])) is not None]
            if not call.op.data_is_list:
                return Outcome(call.op.status, records[-1:])
            page = self.query(call, tx, records)
        return _page_outcome(call.op.status, page)


def _page_outcome(status: int, page: Page) -> Outcome:
    """A collection answer: one page of records, with next/prev links."""
    return Outcome(
        status, page.records, many=True, links="page", next_cursor=page.next_cursor, prev_cursor=page.prev_cursor
    )
