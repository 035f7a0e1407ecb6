"""Stored records -> JSON:API resource objects shaped by the operation's response schema.

Attributes are projected onto the schema (absent nullable ones come back as null, as Klaviyo does;
required ones missing from the record are filled from the schema), additional fields appear only when
asked for, sparse fieldsets trim them, and relationships carry `links` (plus `data` when included).
"""

from __future__ import annotations

import functools
from typing import Any

from kdk.spec import iter_operations, operation_parameters
from mock_server import MockError, MockRequest, MockResponse, on_request_fields, requested_fields

from ._collections import bare_cursor, page_link, quote_path
from ._index import OpInfo, ResourceIndex
from ._models import Outcome
from ._schema import Spec, flatten, value_for_schema
from ._store import Record, Store, StoreTx

__all__ = [
    "Renderer",
    "conform",
    "may_conform",
    "object_links",
    "related_ids",
    "related_type_of",
    "render_resource",
    "request_path",
    "sparse",
]


def request_path(req: MockRequest) -> str:
    path = req.path_template
    for name, value in req.path_params.items():
        path = path.replace("{" + name + "}", value)
    return path


def conform(spec: Spec, schema: Any, value: Any, *, depth: int = 0) -> Any:
    """`value` with every property its (object) schema requires filled in, recursively: a new object where
    anything is filled in, else `value` itself."""
    if not isinstance(value, dict):
        return value  # only an object has members to fill (every attribute of every answer passes here)
    return _conform(spec, _conform_plan(spec, schema, depth), value, depth)


def _conform(spec: Spec, plan: _ConformPlan, value: dict[str, Any], depth: int) -> Any:
    """`conform` of an object by the plan of its schema at `depth` (the walk reaches each member's plan from
    its parent's, not through the plan cache: every stored object of every answer and write is walked)."""
    if plan.choices is not None:
        # A choice (a push message's `definition` among the channels'): conform to the alternative the value's
        # enum-valued members select (`channel: mobile_push`), so a partly given value still matches one.
        chosen = _alternative_for(spec, plan.choices, value)
        return value if chosen is None else conform(spec, chosen, value, depth=depth + 1)
    props = plan.props
    if props is None:
        return value
    # Copied only when a member changes: a value that already conforms (most stored ones) comes back as it is.
    out = value
    for name in plan.required:
        if name not in out:
            if out is value:
                out = dict(value)
            moved = _moved_member(spec, props, value, name)
            out[name] = value_for_schema(spec, props[name]) if moved is _ABSENT else moved
    children = plan.children
    for position, (name, sub) in enumerate(plan.walked):
        child = out.get(name)
        if isinstance(child, dict):
            child_plan = children[position]
            if child_plan is None:
                child_plan = children[position] = _conform_plan(spec, sub, depth + 1)
            conformed = _conform(spec, child_plan, child, depth + 1)
            if conformed is not child:
                if out is value:
                    out = dict(value)
                out[name] = conformed
    return out


class _ConformPlan:
    """What `conform` does at one schema and depth, worked out once (bulk imports conform thousands of records):
    the alternatives of a choice, or the object's properties, its required members, and the members whose
    values `conform` may change (in property order; only those are walked), with their plans once first used."""

    __slots__ = ("children", "choices", "props", "required", "walked")

    def __init__(self, spec: Spec, schema: Any, depth: int) -> None:
        node = flatten(spec, schema)
        choices = node.get("oneOf") or node.get("anyOf")
        self.choices: list[Any] | None = choices if depth <= 10 and isinstance(choices, list) else None
        props = node.get("properties")
        self.props: dict[str, Any] | None = props if self.choices is None and depth <= 10 and props else None
        self.required: tuple[str, ...] = ()
        self.walked: tuple[tuple[str, Any], ...] = ()
        if self.props is not None:
            self.required = tuple(n for n in node.get("required") or [] if n in self.props)
            self.walked = tuple((n, sub) for n, sub in self.props.items() if may_conform(spec, sub, depth + 1))
        self.children: list[_ConformPlan | None] = [None] * len(self.walked)  # the plan of each walked member


def _conform_plan(spec: Spec, schema: Any, depth: int) -> _ConformPlan:
    key = (id(schema), depth)
    hit = _CONFORM_PLANS.get(key)
    if hit is not None and hit[0] is schema:
        return hit[1]
    plan = _ConformPlan(spec, schema, depth)
    if isinstance(schema, dict):  # kept with its schema: its id is not reused meanwhile
        if len(_CONFORM_PLANS) > _PLANS_KEPT:
            _CONFORM_PLANS.clear()
        _CONFORM_PLANS[key] = (schema, plan)
    return plan


_CONFORM_PLANS: dict[tuple[int, int], tuple[Any, _ConformPlan]] = {}
_PLANS_KEPT = 65_536  # far more than a spec has schemas: a bound against schemas made on the fly
_ABSENT = object()


def _moved_member(spec: Spec, props: dict[str, Any], value: dict[str, Any], name: str) -> Any:
    """A required member `name` the stored `value` lacks, rebuilt from what it holds in another shape: the
    records of one account are served by every loaded revision, and revisions move members in and out of
    nested objects (a campaign message's `channel` and `content` went under `definition`). `_ABSENT` when the
    value holds nothing for it; the caller then generates one, as for any missing member.

    Only members this schema does not know are read, so nothing the schema places elsewhere is taken."""
    unknown = {k: v for k, v in value.items() if k not in props}
    if not unknown:
        return _ABSENT
    target = flatten(spec, props[name])
    wanted: set[str] = set(target.get("properties") or {})
    for choice in target.get("oneOf") or target.get("anyOf") or []:
        wanted |= set(flatten(spec, choice).get("properties") or {})
    gathered = {k: v for k, v in unknown.items() if k in wanted}
    if gathered:  # members that moved into a new object: the object, from them
        return gathered
    for child in unknown.values():  # a member that moved out of an object this schema no longer has
        if isinstance(child, dict) and name in child:
            return child[name]
    return _ABSENT


def may_conform(spec: Spec, schema: Any, depth: int = 0) -> bool:
    """Can `conform` change a value of this schema? Only where some object in it requires members, or offers a
    choice among object alternatives: most values (strings, objects of optional members) need no walk, and a
    bulk import conforms thousands of records."""
    if depth > 10:
        return False
    node = flatten(spec, schema)
    key = (id(node), depth)  # flatten's results live as long as the spec: their ids stay theirs
    known = _MAY_CONFORM.get(key)
    if known is None:
        choices = node.get("oneOf") or node.get("anyOf")
        props: dict[str, Any] = node.get("properties") or {}
        if isinstance(choices, list):
            known = any(flatten(spec, choice).get("properties") for choice in choices)
        else:
            known = bool(props) and (
                bool(node.get("required")) or any(may_conform(spec, sub, depth + 1) for sub in props.values())
            )
        _MAY_CONFORM[key] = known
    return known


_MAY_CONFORM: dict[tuple[int, int], bool] = {}


def _alternative_for(spec: Spec, choices: list[Any], value: dict[str, Any]) -> dict[str, Any] | None:
    """The object alternative whose enum-valued properties agree with `value` most (None: none agrees)."""
    best: tuple[int, dict[str, Any]] | None = None
    for choice in choices:
        node = flatten(spec, choice)
        props = node.get("properties") or {}
        if not props:
            continue
        score = 0
        for name, given in value.items():
            enum = flatten(spec, props[name]).get("enum") if name in props else None
            if enum is None:
                continue
            if given not in enum:
                score = -1
                break
            score += 1
        if score > 0 and (best is None or score > best[0]):
            best = (score, node)
    return None if best is None else best[1]


def sparse(
    attributes: dict[str, Any], fields: list[str], spec: Spec | None = None, schema: Any = None
) -> dict[str, Any]:
    """Keep only the named fields; `location.city` keeps that one key of a nested object.

    With the attributes' `schema`, a nested object keeps the members its schema requires, and a value whose
    schema is a choice (`oneOf`/`anyOf`: which alternative a trimmed object matches is unknowable) stays whole,
    so a sparse answer still validates against the response schema.
    """
    props = (flatten(spec, schema).get("properties") or {}) if spec is not None else {}
    out: dict[str, Any] = {}
    for name in fields:
        head, _, rest = name.partition(".")
        if head not in attributes:
            continue
        value = attributes[head]
        node = flatten(spec, props.get(head)) if spec is not None else {}
        if not rest or not isinstance(value, dict) or node.get("oneOf") or node.get("anyOf"):
            out[head] = value
            continue
        previous = out.get(head)
        nested: dict[str, Any] = previous if isinstance(previous, dict) else {}
        kept = [rest, *(str(n) for n in node.get("required") or () if n in value)]
        out[head] = {**nested, **sparse(value, kept, spec, node or None)}
    return out


def object_links(base_url: str, collection: str, rid: str) -> dict[str, str]:
    return {"self": f"{base_url}{quote_path(f'{collection}/{rid}/')}"}


def related_type_of(spec: Spec, data_schema: dict[str, Any] | None, name: str) -> str | None:
    """The resource type a relationship of `data_schema` points at, from its `data.type` enum."""
    rels = flatten(spec, ((data_schema or {}).get("properties") or {}).get("relationships"))
    rel = flatten(spec, (rels.get("properties") or {}).get(name))
    data = flatten(spec, (rel.get("properties") or {}).get("data"))
    if data.get("type") == "array" or "items" in data:
        data = flatten(spec, data.get("items"))
    enum = flatten(spec, (data.get("properties") or {}).get("type")).get("enum") or []
    return str(enum[0]) if enum else None


def related_ids(tx: StoreTx, account: str, record: Record, name: str, related_type: str | None) -> list[dict[str, str]]:
    """The resources `record` points at through relationship `name`: stored on the record itself, or
    (for the inverse side, e.g. a profile's lists) found on the other records pointing back at it."""
    own = (record.get("relationships") or {}).get(name)
    if own is not None:
        return list(own.get("data") or [])
    if not related_type:
        return []
    return [
        {"type": other["type"], "id": other["id"]}
        for other in tx.referencing(account, related_type, record["type"], record["id"])
    ]


def render_resource(
    index: ResourceIndex,
    record: Record,
    data_schema: dict[str, Any] | None,
    base_url: str,
    *,
    fields: list[str] | None = None,
    additional: frozenset[str] = frozenset(),
    additional_allowed: frozenset[str] = frozenset(),
    relationship_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    spec = index.spec
    schema = data_schema or index.resource_schema(record["type"]) or {}
    plan = _resource_plan(spec, schema)
    info = index.types.get(record["type"])
    collection = info.collection if info else f"/api/{record['type']}s"
    out: dict[str, Any] = {"type": record["type"], "id": record["id"]}

    stored = record.get("attributes") or {}
    attr_props = plan.attr_props
    if attr_props is None and plan.has_attributes:
        attributes = dict(stored)
    elif attr_props is not None:
        attributes = {}
        required = plan.required
        # Members this schema does not know (another revision wrote the record): only then can one have moved.
        foreign = not stored.keys() <= attr_props.keys()
        for name, prop, nullable in plan.attributes:
            if name in additional_allowed and name not in additional and name not in required:
                continue
            # A stored null the schema does not allow (a create sent `name: null`) is treated as absent.
            if name in stored and ((value := stored[name]) is not None or nullable):
                # (only an object has members to fill in: the rest, most attributes, is kept as stored)
                attributes[name] = conform(spec, prop, value) if isinstance(value, dict) else value
            elif (
                foreign
                and name not in stored
                and (moved := _moved_member(spec, attr_props, stored, name)) is not _ABSENT
            ):
                attributes[name] = conform(spec, prop, moved)
            elif name in required or (name in additional and name in additional_allowed):
                attributes[name] = conform(spec, prop, value_for_schema(spec, prop))
            elif nullable:
                attributes[name] = None
    else:
        attributes = None
    if attributes is not None:
        # A sparse fieldset trims what the schema lets it trim: attributes it requires stay.
        kept = None if fields is None else [*fields, *(n for n in plan.required_order if n not in fields)]
        out["attributes"] = sparse(attributes, kept, spec, plan.attrs_schema) if kept is not None else attributes

    # Quoting works character by character, so the resource's own URL is quoted once and the links extend it.
    here = base_url + quote_path(f"{collection}/{record['id']}/")
    if plan.relationships:
        relationships: dict[str, Any] = {}
        for name, quoted, data_required, data_is_array, data_nullable in plan.relationships:
            rel_out: dict[str, Any] = {}
            if quoted is not None:
                rel_out["links"] = {"self": f"{here}relationships/{quoted}/", "related": f"{here}{quoted}/"}
            if relationship_data and name in relationship_data:
                rel_out["data"] = relationship_data[name]
            elif data_required:
                rel_out["data"] = [] if data_is_array else None
            if rel_out.get("data", ()) is None and not data_nullable and not data_required:
                del rel_out["data"]  # no linkage and the schema has no null for it: leave the member out
            relationships[name] = rel_out
        out["relationships"] = relationships
    if plan.has_links:
        out["links"] = {"self": here}  # object_links
    return out


class _ResourcePlan:
    """How `render_resource` reads one data schema, worked out once per schema: its attributes (name, schema,
    nullable) and required ones, and per relationship (name, quoted name when it has `links`, whether `data`
    is required, an array, nullable)."""

    __slots__ = (
        "attr_props",
        "attributes",
        "attrs_schema",
        "has_attributes",
        "has_links",
        "relationships",
        "required",
        "required_order",
    )

    def __init__(self, spec: Spec, schema: dict[str, Any]) -> None:
        props = schema.get("properties") or {}
        self.has_attributes = "attributes" in props
        self.has_links = "links" in props
        self.attrs_schema = flatten(spec, props.get("attributes"))
        self.attr_props: dict[str, Any] | None = self.attrs_schema.get("properties")
        self.required_order: list[str] = list(self.attrs_schema.get("required") or [])
        self.required = frozenset(self.required_order)
        self.attributes = tuple(
            (name, prop, bool(flatten(spec, prop).get("nullable"))) for name, prop in (self.attr_props or {}).items()
        )
        rels: list[tuple[str, str | None, bool, bool, bool]] = []
        for name, rel_schema in (flatten(spec, props.get("relationships")).get("properties") or {}).items():
            rel_node = flatten(spec, rel_schema)
            rel_members = rel_node.get("properties") or {}
            data_node = flatten(spec, rel_members.get("data"))
            rels.append(
                (
                    name,
                    _quoted_name(name) if "links" in rel_members else None,
                    "data" in (rel_node.get("required") or []),
                    data_node.get("type") == "array",
                    bool(data_node.get("nullable")),
                )
            )
        self.relationships = tuple(rels)


def _resource_plan(spec: Spec, schema: dict[str, Any]) -> _ResourcePlan:
    hit = _RESOURCE_PLANS.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    plan = _ResourcePlan(spec, schema)
    if schema:  # the spec's schemas (an empty one may be a fresh `{}`: not worth keeping)
        if len(_RESOURCE_PLANS) > _PLANS_KEPT:
            _RESOURCE_PLANS.clear()
        _RESOURCE_PLANS[id(schema)] = (schema, plan)  # kept with its schema: its id is not reused meanwhile
    return plan


_RESOURCE_PLANS: dict[int, tuple[dict[str, Any], _ResourcePlan]] = {}


@functools.lru_cache(maxsize=1024)
def _quoted_name(name: str) -> str:
    """A relationship name as a path segment (the spec's few names, quoted once)."""
    return quote_path(name)


def _check_nothing_related(op: OpInfo) -> None:
    """A to-one answer with nothing to show: `data: null` where the operation's schema allows it, else a 404
    (the spec documents 4XX for every operation; a null its schema forbids is no answer at all)."""
    if op.data_schema is not None and not op.data_schema.get("nullable"):
        raise MockError(404, "There is no related resource.", code="not_found", title="Not found.")


class Renderer:
    """Backends' outcomes -> JSON:API documents: primary data, `included`, sparse fieldsets, links."""

    def __init__(self, index: ResourceIndex, store: Store) -> None:
        self.index = index
        self.store = store
        # Attributes a type returns only on request (`additional-fields[type]`), from every operation.
        self.additional = _on_request(index.spec)

    def response(self, req: MockRequest, op: OpInfo, outcome: Outcome) -> MockResponse:
        if outcome.refs is not None:
            links = self.links(req, outcome)
            data: Any = outcome.refs if outcome.many else (outcome.refs[-1] if outcome.refs else None)
            if data is None:
                _check_nothing_related(op)
            return MockResponse(outcome.status, {"data": data, "links": links})
        if outcome.records is None or op.data_schema is None:
            return MockResponse(outcome.status, None)
        if req.query.get("include"):
            with self.store.transaction(write=False) as tx:
                document = self.document(req, tx, outcome.records, op.data_schema)
        else:  # no other record to read
            document = self.document(req, None, outcome.records, op.data_schema)
        shown = None
        if not outcome.many:
            if not document["data"]:
                _check_nothing_related(op)
            shown = document["data"] = document["data"][0] if document["data"] else None
        # A created resource's document links to the resource: the link its rendering already holds, if it has one.
        own = shown.get("links") if outcome.links == "resource" and isinstance(shown, dict) else None
        document["links"] = {"self": own["self"]} if own and "self" in own else self.links(req, outcome)
        return MockResponse(outcome.status, document)

    def links(self, req: MockRequest, outcome: Outcome) -> dict[str, str]:
        path = request_path(req)
        if outcome.links == "resource" and outcome.records:
            record = outcome.records[0]
            info = self.index.types.get(record["type"])
            collection = info.collection if info else f"/api/{record['type']}s"
            return object_links(req.base_url, collection, record["id"])
        if outcome.links == "path":
            return {"self": page_link(req.base_url, path, {})}
        if outcome.links != "page":
            return {"self": page_link(req.base_url, path, req.query)}
        cursor = req.query.get("page[cursor]")
        links = {"self": page_link(req.base_url, path, req.query, bare_cursor(cursor) if cursor else None)}
        if outcome.next_cursor:
            links["next"] = page_link(req.base_url, path, req.query, outcome.next_cursor)
        if outcome.prev_cursor:
            links["prev"] = page_link(req.base_url, path, req.query, outcome.prev_cursor)
        return links

    def document(self, req: MockRequest, tx: StoreTx | None, records: list[Record], schema: Any) -> dict[str, Any]:
        """Primary data plus `included` for `include=...` (read through `tx`, which only then is needed)."""
        fields = {k[7:-1]: v for k, v in req.query.items() if k.startswith("fields[") and k.endswith("]")}
        additional = requested_fields(req.query)
        includes = [n for n in (req.query.get("include") or "").split(",") if n]
        included: dict[tuple[str, str], dict[str, Any]] = {}
        out = []
        for record in records:
            rel_data: dict[str, Any] = {}
            for name in includes:
                assert tx is not None
                target = related_type_of(self.index.spec, schema, name)
                ids = related_ids(tx, req.account, record, name, target)
                rel_data[name] = ids if self._rel_is_many(schema, name) else (ids[0] if ids else None)
                for reference in ids:
                    if (reference["type"], reference["id"]) in included:
                        continue
                    other = tx.get(req.account, reference["type"], reference["id"])
                    if other:
                        included[(reference["type"], reference["id"])] = self.resource(
                            req, other, None, fields, additional
                        )
            out.append(self.resource(req, record, schema, fields, additional, rel_data))
        document: dict[str, Any] = {"data": out}
        if includes:
            document["included"] = list(included.values())
        return document

    def resource(
        self,
        req: MockRequest,
        record: Record,
        schema: Any,
        fields: dict[str, str],
        additional: dict[str, frozenset[str]],
        rel_data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        rtype = record["type"]
        wanted = fields.get(rtype)
        return render_resource(
            self.index,
            record,
            schema or self.index.resource_schema(rtype),
            req.base_url,
            fields=[f for f in wanted.split(",") if f] if wanted else None,
            additional=additional.get(rtype, frozenset()),
            additional_allowed=self.additional.get(rtype, frozenset()),
            relationship_data=rel_data,
        )

    def _rel_is_many(self, schema: Any, name: str) -> bool:
        spec = self.index.spec
        rels = flatten(spec, ((schema or {}).get("properties") or {}).get("relationships"))
        rel = flatten(spec, (rels.get("properties") or {}).get(name))
        data = flatten(spec, (rel.get("properties") or {}).get("data"))
        return data.get("type") == "array" or "items" in data or not data


def _on_request(spec: Spec) -> dict[str, frozenset[str]]:
    pairs: list[tuple[str, Any]] = []
    for op in iter_operations(spec):
        for param in operation_parameters(spec, op):
            name = str(param.get("name", ""))
            if name.startswith("additional-fields["):
                schema = flatten(spec, param.get("schema"))
                if schema.get("type") == "array":
                    schema = flatten(spec, schema.get("items"))
                pairs.append((name, schema.get("enum")))
    return on_request_fields(pairs)
