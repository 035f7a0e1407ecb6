"""What each operation of the spec does to state, worked out once per spec from its shape.

An operation's *kind* comes from its method and path shape (`/api/profiles`, `/api/profiles/{id}`,
`/api/lists/{id}/relationships/profiles`, `/api/lists/{id}/profiles`) and the `data.type` enums of its
request and response schemas; nothing here names a particular endpoint. Filters come from the
operation's `x-klaviyo-filters` extension, else from the filter parameter's "Allowed field(s)/operator(s)"
description; sorts, page sizes, includes and rate limits from their parameters and extensions.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from kdk.spec import iter_operations, operation_parameters
from mock_server import IdShape, id_rules

from ._schema import Spec, flatten, json_body_schema, success_response

__all__ = ["FieldFilter", "Kind", "OpInfo", "ResourceIndex", "TypeInfo", "build_index"]


class Kind(enum.Enum):
    CREATE = "create"
    GET = "get"
    LIST = "list"
    UPDATE = "update"
    DELETE = "delete"
    REL_GET = "relationship-get"
    REL_ADD = "relationship-add"
    REL_REMOVE = "relationship-remove"
    REL_REPLACE = "relationship-replace"
    RELATED = "related"
    UPSERT = "upsert"
    ACTION = "action"  # POST /api/<type>-<verb> on one stored resource: `campaign-clone`, `template-render`


@dataclass(frozen=True)
class FieldFilter:
    single: frozenset[str]  # operators allowed with a single value
    many: frozenset[str]  # operators allowed with a list value


@dataclass
class OpInfo:
    operation_id: str
    kind: Kind
    method: str
    path: str
    collection: str  # "/api/profiles": the collection the path starts with
    resource_type: str  # the type at the collection (the parent for relationship/related operations)
    related_type: str | None = None
    relationship: str | None = None
    action: str | None = None  # the verb of an ACTION (`clone`, `render`, `assign-template`)
    id_param: str | None = None
    status: int = 200
    response: dict[str, Any] | None = None
    data_schema: dict[str, Any] | None = None  # one resource object of the response, flattened
    data_is_list: bool = False
    filters: dict[str, FieldFilter] = field(default_factory=dict)
    filter_documented: bool = False
    filter_required: str | None = None  # why a request without a filter is refused (the spec's own words)
    filter_required_fields: frozenset[str] = frozenset()  # one of these must be filtered on, when named
    sorts: frozenset[str] = frozenset()
    page_default: int | None = None
    page_max: int | None = None
    includes: frozenset[str] = frozenset()
    additional_fields: frozenset[str] = frozenset()
    ratelimit: dict[str, str] = field(default_factory=dict)
    oauth_only: bool = False


@dataclass
class TypeInfo:
    name: str
    collection: str  # "/api/profiles"
    id_shape: IdShape = "ulid"
    creatable: bool = False
    get_op: str | None = None
    list_op: str | None = None


@dataclass
class ResourceIndex:
    spec: Spec
    ops: dict[str, OpInfo]
    types: dict[str, TypeInfo]
    ratelimits: dict[str, dict[str, str]]  # every operation's x-klaviyo-ratelimit, by operation id
    oauth_only: frozenset[str]  # operation ids reachable only with an OAuth token
    posts_by_request_type: dict[str, frozenset[str]] = field(default_factory=dict)

    def resource_schema(self, rtype: str) -> dict[str, Any] | None:
        """The schema of one `rtype` resource as its get (else list) operation returns it."""
        info = self.types.get(rtype)
        for op_id in (info.get_op, info.list_op) if info else ():
            if op_id and self.ops[op_id].data_schema:
                return self.ops[op_id].data_schema
        return None


_RELATIONSHIP_KINDS = {"get": Kind.REL_GET, "post": Kind.REL_ADD, "delete": Kind.REL_REMOVE, "patch": Kind.REL_REPLACE}
_PATH = re.compile(r"^(/(?:api|client)/[^/{}]+)(?:/\{([^}]+)\}(?:/relationships/([^/{}]+)|/([^/{}]+))?)?/?$")
_DESCRIBED = re.compile(r"`([^`]+)`:\s*((?:`[^`]+`(?:,\s*)?)+)")


def _type_enum(spec: Spec, schema: Any) -> str | None:
    node = flatten(spec, schema)
    if node.get("type") == "array" or "items" in node:
        node = flatten(spec, node.get("items"))
    tnode = flatten(spec, (node.get("properties") or {}).get("type"))
    values = tnode.get("enum") or []
    return str(values[0]) if len(values) == 1 else None


def _data(spec: Spec, body: dict[str, Any] | None) -> tuple[dict[str, Any] | None, bool]:
    if not body:
        return None, False
    data = flatten(spec, (body.get("properties") or {}).get("data"))
    if data.get("type") == "array" or "items" in data:
        return flatten(spec, data.get("items")), True
    if not data.get("properties") and data.get("oneOf"):
        return flatten(spec, data["oneOf"][0]), False
    return (data or None), False


def _filters(spec: Spec, node: dict[str, Any], params: list[dict[str, Any]]) -> tuple[dict[str, FieldFilter], bool]:
    declared = node.get("x-klaviyo-filters")
    if isinstance(declared, dict):
        out = {}
        for name, rule in declared.items():
            ops = (rule or {}).get("operators") or {}
            # `none` holds the operators without a value (`has(profile)`).
            single = frozenset(ops.get("single") or []) | frozenset(ops.get("none") or [])
            out[name] = FieldFilter(single, frozenset(ops.get("list") or []))
        return out, True
    for param in params:
        if param.get("name") == "filter" and param.get("in") == "query":
            text = str(param.get("description") or "")
            if "Allowed field" not in text:
                return {}, False
            out = {}
            for name, ops_text in _DESCRIBED.findall(text.split("Allowed field", 1)[1]):
                ops = frozenset(re.findall(r"`([^`]+)`", ops_text))
                out[name] = FieldFilter(ops, ops)
            return out, True
    return {}, False


_REQUIRED_FIELD = re.compile(r"filter=[a-z-]+\(([\w.$-]+),")


def _required_filter(
    node: dict[str, Any], params: list[dict[str, Any]], fields: frozenset[str]
) -> tuple[str | None, frozenset[str]]:
    """Whether the spec marks the filter parameter required, the sentence of the operation's description
    that says so (Klaviyo's 400 reads the same), and the fields its examples name (`messages.channel`) or,
    without examples, the allowed fields the sentence names ("A coupon/coupons or a profile/profiles must be
    provided": `coupon.id`, `profile.id`)."""
    param = next((p for p in params if p.get("name") == "filter" and p.get("in") == "query"), None)
    if not param or not param.get("required"):
        return None, frozenset()
    text = str(node.get("description") or "")
    sentences = [s.strip() for s in re.split(r"(?<=\.)\s+|<br>|\n", text) if "required" in s.lower()]
    detail = sentences[0] if sentences else "A filter is required for this endpoint."
    named = frozenset(_REQUIRED_FIELD.findall(text)) & fields
    if not named and sentences:
        words = set(re.findall(r"[a-z_]+", detail.lower())) - {"id", "ids"}
        named = frozenset(f for f in fields if words & set(re.split(r"[._]", f.lower())))
    return detail, named


def _enum_param(spec: Spec, params: list[dict[str, Any]], name: str) -> frozenset[str]:
    for param in params:
        if param.get("name") == name:
            schema = flatten(spec, param.get("schema"))
            if schema.get("type") == "array":
                schema = flatten(spec, schema.get("items"))
            return frozenset(str(v) for v in schema.get("enum") or [])
    return frozenset()


DEFAULT_PAGE_SIZE = 20  # a page when the operation states no size
_PAGE_LIMIT_RE = re.compile(r"maximum of (\d+) [\w ]{1,40}? per (?:page|request)", re.IGNORECASE)


def _page(spec: Spec, params: list[dict[str, Any]], description: str) -> tuple[int | None, int | None]:
    """(default, maximum) page size: from `page[size]`; an operation that pages by cursor alone has a fixed size,
    stated in its description ("Returns a maximum of 200 events per page", most operations of older revisions)
    or else the usual default, so a first request without a cursor still gets one page, never everything."""
    for param in params:
        if param.get("name") == "page[size]":
            schema = flatten(spec, param.get("schema"))
            return schema.get("default"), schema.get("maximum")
    if any(param.get("name") == "page[cursor]" for param in params):
        stated = _PAGE_LIMIT_RE.search(description)
        size = int(stated.group(1)) if stated else DEFAULT_PAGE_SIZE
        return size, size
    return None, None


def build_index(spec: Spec) -> ResourceIndex:
    """Classify every operation; cheap enough to run at start-up (one pass over the paths)."""
    ops: dict[str, OpInfo] = {}
    types: dict[str, TypeInfo] = {}
    ratelimits: dict[str, dict[str, str]] = {}
    oauth_only: set[str] = set()
    posts: dict[str, set[str]] = {}
    pending: list[tuple[Any, re.Match[str], int, dict[str, Any] | None, str | None, str | None]] = []

    for op in iter_operations(spec):
        node = op.node
        op_id = op.operation_id
        if isinstance(node.get("x-klaviyo-ratelimit"), dict):
            ratelimits[op_id] = {str(k): str(v) for k, v in node["x-klaviyo-ratelimit"].items()}
        if "Conversations" in (node.get("tags") or []) or node.get("x-klaviyo-subtag") == "Conversations":
            oauth_only.add(op_id)
        request = json_body_schema(spec, node.get("requestBody")) if node.get("requestBody") else None
        req_type = _type_enum(spec, (request or {}).get("properties", {}).get("data")) if request else None
        if op.method == "post" and req_type:
            posts.setdefault(req_type, set()).add(op_id)
        match = _PATH.match(op.path)
        if not match:
            continue
        status, response = success_response(spec, node)
        rtype = _type_enum(spec, (response or {}).get("properties", {}).get("data")) if response else None
        collection, id_param, rel, related = match.groups()
        if id_param and not rel and not related and op.method == "get" and rtype:
            info = types.setdefault(rtype, TypeInfo(rtype, collection))
            info.collection, info.get_op = collection, op_id
        pending.append((op, match, status, response, rtype or req_type, req_type))

    for op, match, status, response, rtype, req_type in pending:
        collection, id_param, rel, related = match.groups()
        method = op.method
        params = operation_parameters(spec, op)
        parent = next((t.name for t in types.values() if t.collection == collection), None)
        kind: Kind | None = None
        related_type = None
        if not id_param:
            if method == "get" and rtype and (parent in (None, rtype)):
                kind, parent = Kind.LIST, rtype
                types.setdefault(rtype, TypeInfo(rtype, collection)).list_op = op.operation_id
            elif method == "post" and rtype and parent == rtype:
                kind = Kind.CREATE
                types[rtype].creatable = True
        elif parent is None:
            continue
        elif rel:
            kind = _RELATIONSHIP_KINDS.get(method)
            related_type = rtype
        elif related:
            if method == "get":
                kind, related_type = Kind.RELATED, rtype
        else:
            kind = {"get": Kind.GET, "patch": Kind.UPDATE, "delete": Kind.DELETE}.get(method)
            if rtype and rtype != parent:
                kind = None
        if kind is None and method == "post" and not id_param and rtype in types and parent != rtype:
            # Create-or-update under another path (`/api/profile-import` documents 200 and 201;
            # `/client/profiles` answers 202): the same type, matched by id or identifiers.
            statuses = {str(s) for s in op.node.get("responses") or {}}
            if {"200", "201"} <= statuses or (collection.startswith("/client/") and status == 202):
                kind, parent = Kind.UPSERT, rtype
        action = None
        if kind is None and method == "post" and not id_param and parent is None and rtype in types:
            # An action on one stored resource: the path names the type and a verb (`/api/template-render`),
            # the body names the resource (`data.type` of that type, `data.id`).
            verb = collection.rsplit("/", 1)[-1]
            if req_type == rtype and verb.startswith(f"{rtype}-"):
                kind, parent, action = Kind.ACTION, rtype, verb[len(rtype) + 1 :]
        if kind is None or parent is None:
            continue
        data_schema, is_list = _data(spec, response)
        filters, documented = _filters(spec, op.node, params)
        filter_required, required_fields = _required_filter(op.node, params, frozenset(filters))
        page_default, page_max = _page(spec, params, str(op.node.get("description") or ""))
        additional: set[str] = set()
        for param in params:
            if str(param.get("name", "")).startswith("additional-fields["):
                additional |= _enum_param(spec, [param], param["name"])
        ops[op.operation_id] = OpInfo(
            operation_id=op.operation_id,
            kind=kind,
            method=method,
            path=op.path,
            collection=collection,
            resource_type=parent,
            related_type=related_type,
            relationship=rel or related,
            action=action,
            id_param=id_param,
            status=status,
            response=response,
            data_schema=data_schema,
            data_is_list=is_list,
            filters=filters,
            filter_documented=documented,
            filter_required=filter_required,
            filter_required_fields=required_fields,
            sorts=_enum_param(spec, params, "sort"),
            page_default=page_default,
            page_max=page_max,
            includes=_enum_param(spec, params, "include"),
            additional_fields=frozenset(additional),
            ratelimit=ratelimits.get(op.operation_id, {}),
            oauth_only=op.operation_id in oauth_only,
        )
    ids = id_rules(spec)
    for info in types.values():
        info.id_shape = ids.shape(info.name)  # the one place id shapes are decided: mock_server's id rules
    by_type = {t: frozenset(op_ids) for t, op_ids in posts.items()}
    return ResourceIndex(spec, ops, types, ratelimits, frozenset(oauth_only), by_type)
