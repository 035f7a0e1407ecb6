"""Generated from the spec: every (collection, field, operator) that `x-klaviyo-filters` allows selects
exactly the right record of a seeded account: one record made to match, one made not to, one without the field.

Values come from the field's schema (string, enum, number, boolean, date-time; through arrays, where any
element may match) or, for relationship and id fields, from a related resource. Nothing here names an
endpoint or a field.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from mock_server import MockRequest, type_of_id_field
from mock_server.state import Kind, MemoryStore, OpInfo, ResourceIndex, StatefulBehaviour
from mock_server.state._fields import FieldReader
from mock_server.state._schema import flatten

_T0 = dt.datetime(2026, 1, 2, 10, 0, tzinfo=dt.UTC)


def _literal(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ",".join(_literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone(dt.timedelta(hours=2))).isoformat()  # another offset on purpose
    return json.dumps(value)


def _values(kind: str, enum: list[Any], operator: str) -> tuple[Any, Any, Any] | None:
    """(stored in the matching record, stored in the other, the filter's value) for one operator."""
    if kind == "date-time":
        early, late = _T0, _T0 + dt.timedelta(days=2)
        mid = _T0 + dt.timedelta(days=1)
        table = {
            "equals": (late, early, late),
            "greater-than": (late, early, mid),
            "greater-or-equal": (late, early, late),
            "less-than": (early, late, mid),
            "less-or-equal": (early, late, early),
        }
        found = table.get(operator)
        return None if found is None else (found[0].isoformat(), found[1].isoformat(), found[2])
    if kind in ("number", "integer"):
        table_n: dict[str, tuple[Any, Any, Any]] = {
            "equals": (10, 20, 10),
            "greater-than": (20, 10, 15),
            "greater-or-equal": (20, 10, 20),
            "less-than": (10, 20, 15),
            "less-or-equal": (10, 20, 10),
            "any": (10, 20, [10, 30]),
        }
        return table_n.get(operator)
    if kind == "boolean":
        return {"equals": (True, False, True), "any": (True, False, [True])}.get(operator)
    if operator in ("greater-than", "greater-or-equal", "less-than", "less-or-equal"):
        return _values("date-time", [], operator)  # an ordered plain string: ISO datetimes (older specs)
    match, other = (str(enum[0]), str(enum[1])) if len(enum) >= 2 else ("alpha", "beta")
    table_s: dict[str, tuple[Any, Any, Any]] = {
        "equals": (match, other, match),
        "any": (match, other, [match, "zeta"]),
        "contains": (f"x{match}x", other, match),
        "contains-any": (f"x{match}x", other, [match, "zeta"]),
        "contains-all": (f"x{match}x", other, [match]),
        "starts-with": (f"{match}z", f"z{match}", match),
        "ends-with": (f"z{match}", f"{match}z", match),
    }
    return table_s.get(operator)


def _attribute_path(reader: FieldReader, op: OpInfo, path: str) -> tuple[str, list[bool], dict[str, Any]] | None:
    """Where `path` is stored in the attributes (a bare member may nest: `name` under `definition`), whether
    an array holds each segment, and the leaf schema."""
    for attributes in reader.attribute_schemas(_record_type(op), op.data_schema):
        found = _located(reader.index, attributes, path)
        if found is None and "." not in path:
            nested = reader.member_path(attributes, path) or []
            found = _located(reader.index, attributes, ".".join(nested)) if len(nested) > 1 else None
            if found is not None:
                return ".".join(nested), *found
        if found is not None:
            return path, *found
    return None


def _located(index: ResourceIndex, attributes: Any, path: str) -> tuple[list[bool], dict[str, Any]] | None:
    spec = index.spec
    node = flatten(spec, attributes)
    arrays: list[bool] = []
    for part in path.split("."):
        in_array = False
        while node.get("type") == "array" or "items" in node:
            node, in_array = flatten(spec, node.get("items")), True
        props = dict(node.get("properties") or {})
        for branch in (node.get("oneOf") or []) + (node.get("anyOf") or []):
            props.update(flatten(spec, branch).get("properties") or {})
        if part not in props:
            if not props and node.get("type") in (None, "object") and node:
                arrays += [False] * (len(path.split(".")) - len(arrays))
                return arrays, {"type": "string"}  # a free-form object holds whatever is stored
            return None
        arrays.append(in_array)
        node = flatten(spec, props[part])
    return arrays, node


def _nest(path: str, arrays: list[bool], value: Any) -> dict[str, Any]:
    parts = path.split(".")
    out: Any = value
    for i in range(len(parts) - 1, -1, -1):
        out = {parts[i]: out}
        if i > 0 and arrays[i]:
            out = [out]
    return out  # type: ignore[no-any-return]


def _any_expression(field: str, operator: str) -> str:
    """A well-formed filter on `field` with `operator` (its value does not matter)."""
    if operator == "has":
        return f"has({field})"
    return f"{operator}({field},{_literal(['x'] if operator in ('any', 'contains-any', 'contains-all') else 'x')})"


def _record_type(op: OpInfo) -> str:
    """The type of the records an operation filters: the collection's, or the related one's."""
    return op.related_type if op.kind in (Kind.RELATED, Kind.REL_GET) and op.related_type else op.resource_type


def _filtered_ops(index: ResourceIndex) -> list[OpInfo]:
    """Every operation that filters a collection: lists, related resources and relationships (to-many)."""
    kinds = (Kind.LIST, Kind.RELATED, Kind.REL_GET)
    ops = [
        op for op in index.ops.values() if op.kind in kinds and op.filters and (op.data_is_list or op.kind is Kind.LIST)
    ]
    return sorted(ops, key=lambda o: o.operation_id)


class _Case:
    def __init__(self, index: ResourceIndex, op: OpInfo, field: str, operator: str) -> None:
        self.index, self.op, self.field, self.operator = index, op, field, operator
        self.records: list[dict[str, Any]] = []
        self.membership: dict[str, Any] = {}

    def build(self, reader: FieldReader) -> tuple[str, str] | None:
        """Seed records into `self.records`; the filter expression and the id it must select."""
        rtype, field, operator = _record_type(self.op), self.field, self.operator
        match: dict[str, Any] = {"type": rtype, "id": "match", "attributes": {}, "relationships": {}}
        other: dict[str, Any] = {"type": rtype, "id": "other", "attributes": {}, "relationships": {}}
        bare = {"type": rtype, "id": "bare", "attributes": {}, "relationships": {}}  # holds nothing: never selected
        self.records = [other, match, bare]
        if field in ("id", "ids"):
            values = _values("string", [], operator)
            if values is None or operator not in ("equals", "any"):
                return None
            return f"{operator}({field},{_literal(['match'] if operator == 'any' else 'match')})", "match"
        located = _attribute_path(reader, self.op, field)
        if located is not None:
            stored_as, arrays, leaf = located
            if operator == "has":
                match["attributes"] = _nest(stored_as, arrays, "present")
                return f"has({field})", "match"
            kind = "date-time" if leaf.get("format") == "date-time" else str(leaf.get("type") or "string")
            if kind == "array":
                kind = str(flatten(self.index.spec, leaf.get("items")).get("type") or "string")
            values = _values(kind, list(leaf.get("enum") or []), operator)
            if values is None:
                return None
            mine, theirs, wanted = values
            match["attributes"] = _nest(stored_as, arrays, mine)
            other["attributes"] = _nest(stored_as, arrays, theirs)
            own = flatten(self.index.spec, reader.attribute_schemas(rtype, None)[0]).get("properties") or {}
            if self.op.kind is not Kind.LIST and stored_as.split(".")[0] not in own:
                # A value of the membership, not of the resource (a list member's `joined_group_at`): the
                # parent may keep it per member too.
                self.membership = {"match": mine, "other": theirs}
            return f"{operator}({field},{_literal(wanted)})", "match"
        # A relationship: `<type>_id`, `<rel>.id`, `has(<rel>)`, or `<rel>.<attribute>` of the related resource.
        head, _, rest = field.partition(".")
        named = type_of_id_field(head) if not rest else None
        if named == rtype:  # `profile_id` on profiles: the record's own id
            if operator not in ("equals", "any"):
                return None
            return f"{operator}({field},{_literal(['match', 'zeta'] if operator == 'any' else 'match')})", "match"
        found = reader.relationship(match, named or head)
        if found is None:
            return None
        name, target = found
        target = target or (named or head)
        for record, rid in ((match, "rel-match"), (other, "rel-other")):
            record["relationships"][name] = {"many": False, "data": [{"type": target, "id": rid}]}
        if operator == "has":
            other["relationships"].pop(name)
            return f"has({field})", "match"
        if named or rest in ("", "id"):  # the relationship itself names the related id (older specs)
            if operator not in ("equals", "any"):
                return None
            wanted: Any = ["rel-match", "zeta"] if operator == "any" else "rel-match"
            return f"{operator}({field},{_literal(wanted)})", "match"
        values = _values("string", [], operator)
        if values is None:
            return None
        mine, theirs, wanted = values
        for rid, value in (("rel-match", mine), ("rel-other", theirs)):
            self.records.append({"type": target, "id": rid, "attributes": _nest(rest, [False] * 9, value)})
        return f"{operator}({field},{_literal(wanted)})", "match"


async def test_every_allowed_filter_selects_exactly_the_matching_record(
    spec: dict[str, Any], index: ResourceIndex
) -> None:
    proven, refused = await check_every_filter(spec, index)
    assert len(proven) > 4 * len(refused), (len(proven), refused)


async def check_every_filter(spec: dict[str, Any], index: ResourceIndex) -> tuple[list[str], list[str]]:
    """(proven, refused) cases: every allowed (operation, field, operator) on a list, related-resource or
    relationship endpoint either selects exactly the matching record, or (a field the mock cannot read, and no
    record holds) is a 400 that says so. Fails on any wrong selection or silent answer."""
    behaviour = StatefulBehaviour(spec, MemoryStore(), index=index)
    proven: list[str] = []
    unproven: list[str] = []
    wrong: list[str] = []
    for op in _filtered_ops(index):
        rtype = _record_type(op)
        for field, rule in sorted(op.filters.items()):
            for operator in sorted(rule.single | rule.many):
                account = f"{op.operation_id}/{field}/{operator}"
                case = _Case(index, op, field, operator)
                with behaviour.store.transaction() as tx:
                    reader = FieldReader(index, tx, account)
                    built = case.build(reader)
                    if built is None:
                        # Only a field the mock cannot read may go unproven, and then it is refused out loud
                        # (a 400 that says why) over records that do not hold it: never a silent `[]`.
                        assert not reader.readable(rtype, field, op.data_schema), account
                        case.records = [{"type": rtype, "id": rid, "attributes": {}} for rid in ("other", "match")]
                        built = (_any_expression(field, operator), "")
                    for record in case.records:
                        tx.put(account, record)
                    required = sorted(op.filter_required_fields - {field})
                    if required:
                        extra = _Case(index, op, required[0], "equals")
                        clause = extra.build(FieldReader(index, tx, account))
                        assert clause is not None, account
                        for record in extra.records:  # both seeded records satisfy the required clause
                            if record["type"] == rtype:
                                for rid in ("match", "other"):
                                    mine = tx.get(account, rtype, rid) or {}
                                    mine.setdefault("relationships", {}).update(record.get("relationships") or {})
                                    mine["attributes"] = {**(mine.get("attributes") or {}), **record["attributes"]}
                                    tx.put(account, mine)
                            elif record["id"].endswith("match"):
                                tx.put(account, record)
                                tx.put(account, {**record, "id": record["id"].replace("match", "other")})
                    path_params = {}
                    if op.kind is not Kind.LIST:  # the parent names both records under the relationship
                        refs = [{"type": rtype, "id": rid} for rid in ("other", "match", "bare")]
                        parent = {"type": op.resource_type, "id": "parent", "attributes": {}, "relationships": {}}
                        rel = {"many": True, "data": refs, **({"joined": case.membership} if case.membership else {})}
                        parent["relationships"][op.relationship] = rel
                        tx.put(account, parent)
                        path_params = {op.id_param or "id": "parent"}
                expression, expected = built
                if required:
                    expression = f"and({expression},{clause[0]})"
                request = MockRequest(
                    op.operation_id, "get", op.path, path_params, {"filter": expression}, {}, None,
                    account, "oauth", "x", "http://m",
                )  # fmt: skip
                response = await behaviour.handle(request)
                got = (
                    sorted(d["id"] for d in response.body["data"])
                    if response and response.status == 200
                    else (response.status, response.body)
                    if response
                    else None
                )
                if not expected:
                    refused = response is not None and response.status == 400
                    if refused and "cannot evaluate" in response.body["errors"][0]["detail"]:
                        unproven.append(account)
                    else:
                        wrong.append(f"{account}: {expression} must be refused (400) -> {got}")
                elif got == [expected]:
                    proven.append(account)
                else:
                    wrong.append(f"{account}: {expression} -> {got}")
    assert wrong == [], "\n".join(wrong[:40])
    return proven, unproven
