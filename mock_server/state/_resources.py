"""Spec-derived CRUD, collections and relationships for every resource type the index knows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from mock_server import MockRequest, MockResponse, error_response

from ._collections import QueryError, page_link, run_query
from ._ids import new_id
from ._index import Kind, OpInfo, ResourceIndex
from ._render import conform, related_ids, related_type_of, render_resource
from ._schema import flatten, value_for_schema
from ._store import Record, Store, StoreTx

__all__ = ["UNIQUE_IDENTIFIERS", "ResourceHandler", "find_duplicate", "request_path"]

# Identifiers Klaviyo keeps unique per account (its docs, not the spec, say so): a second profile with
# one of them is a 409 `duplicate_profile` naming the existing profile.
UNIQUE_IDENTIFIERS: dict[str, tuple[str, ...]] = {"profile": ("email", "phone_number", "external_id")}
_SWITCHES = ("enabled", "active", "is_active")
_TIMESTAMPS_CREATED = ("created", "created_at")
_TIMESTAMPS_UPDATED = ("updated", "updated_at")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def request_path(req: MockRequest) -> str:
    path = req.path_template
    for name, value in req.path_params.items():
        path = path.replace("{" + name + "}", value)
    return path


def find_duplicate(tx: StoreTx, account: str, record: Record) -> tuple[str, Record] | None:
    keys = UNIQUE_IDENTIFIERS.get(record["type"], ())
    mine = record.get("attributes") or {}
    wanted = {k: mine[k] for k in keys if mine.get(k) not in (None, "")}
    if not wanted:
        return None
    for key, value in wanted.items():
        other = tx.find(account, record["type"], key, value)
        if other is not None and other["id"] != record["id"]:
            return key, other
    return None


def _body_data(req: MockRequest) -> dict[str, Any] | None:
    """The JSON:API document's `data` object, or None when the body has none."""
    data = req.body.get("data") if isinstance(req.body, dict) else None
    return data if isinstance(data, dict) else None


def _missing_data() -> MockResponse:
    return error_response(400, code="invalid", detail="The request body must be a JSON:API document with `data`.")


def _duplicate(rtype: str, key: str, other: Record) -> MockResponse:
    return error_response(
        409,
        f"A {rtype} already exists with one of these identifiers.",
        code=f"duplicate_{rtype}".replace("-", "_"),
        title="Conflict.",
        pointer="/data/attributes",
        meta={f"duplicate_{rtype}_id".replace("-", "_"): other["id"]},
    )


def _not_found(rtype: str, rid: str) -> MockResponse:
    return error_response(404, code="not_found", detail=f"A {rtype} with id {rid} does not exist.", title="Not found.")


def _relationships_from_body(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, rel in (data.get("relationships") or {}).items():
        value = (rel or {}).get("data") if isinstance(rel, dict) else None
        if isinstance(value, list):
            out[name] = {"many": True, "data": [{"type": v["type"], "id": v["id"]} for v in value if "id" in v]}
        elif isinstance(value, dict) and "id" in value:
            out[name] = {"many": False, "data": [{"type": value["type"], "id": value["id"]}]}
    return out


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    out = dict(old)
    for key, value in new.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


class ResourceHandler:
    def __init__(self, index: ResourceIndex, store: Store) -> None:
        self.index = index
        self.store = store
        # Attributes a type returns only on request (`additional-fields[type]`), from its operations.
        self.additional: dict[str, frozenset[str]] = {}
        for op in index.ops.values():
            if op.additional_fields:
                self.additional[op.resource_type] = (
                    self.additional.get(op.resource_type, frozenset()) | op.additional_fields
                )

    # -- helpers -----------------------------------------------------------------------------------
    def _attr_schema(self, op: OpInfo | None, rtype: str) -> dict[str, Any]:
        schema = (op.data_schema if op else None) or self.index.resource_schema(rtype) or {}
        return flatten(self.index.spec, (schema.get("properties") or {}).get("attributes"))

    def _complete(self, record: Record, op: OpInfo) -> None:
        """Fill what the type's responses require, once, so every later read returns the same values."""
        spec = self.index.spec
        attrs = record.setdefault("attributes", {})
        for schema in (self._attr_schema(op, record["type"]), self._attr_schema(None, record["type"])):
            props = schema.get("properties") or {}
            for name in props:
                if name in _TIMESTAMPS_CREATED + _TIMESTAMPS_UPDATED and attrs.get(name) is None:
                    attrs[name] = now()
            if record["type"].endswith("-job"):
                self._complete_job(attrs, props)
            for name in schema.get("required") or []:
                if name in props and name not in attrs:
                    if name in _SWITCHES and flatten(spec, props[name]).get("type") == "boolean":
                        attrs[name] = True  # what you create is switched on unless you say otherwise
                    else:
                        attrs[name] = value_for_schema(spec, props[name], seed=f"{record['id']}:{name}")
            for name, value in list(attrs.items()):
                if name in props:
                    attrs[name] = conform(spec, props[name], value)

    def _complete_job(self, attrs: dict[str, Any], props: dict[str, Any]) -> None:
        # Bulk jobs finish at once: status complete, every item counted as done.
        spec = self.index.spec
        status = flatten(spec, props.get("status"))
        if "status" in props:
            values = [str(v) for v in status.get("enum") or []]
            attrs["status"] = next((v for v in values if v.lower() in ("complete", "completed")), "complete")
        total = sum(len(v.get("data") or []) for v in attrs.values() if isinstance(v, dict) and "data" in v)
        for name in props:
            if name in ("total_count", "completed_count", "completed_items", "total_items"):
                attrs[name] = total
            elif name in ("failed_count", "errored_count", "failed_items"):
                attrs[name] = 0
            elif name in ("completed_at", "started_at") and attrs.get(name) is None:
                attrs[name] = now()

    def _render(self, req: MockRequest, op: OpInfo, tx: StoreTx, records: list[Record], schema: Any) -> dict[str, Any]:
        """Primary data plus `included` for `include=...`."""
        fields = {k[7:-1]: v for k, v in req.query.items() if k.startswith("fields[") and k.endswith("]")}
        additional = {
            k[18:-1]: frozenset(v.split(",")) for k, v in req.query.items() if k.startswith("additional-fields[")
        }
        includes = [n for n in (req.query.get("include") or "").split(",") if n]
        included: dict[tuple[str, str], dict[str, Any]] = {}
        out = []
        for record in records:
            rel_data: dict[str, Any] = {}
            for name in includes:
                target = related_type_of(self.index.spec, schema, name)
                ids = related_ids(tx, req.account, record, name, target)
                many = self._rel_is_many(schema, name)
                rel_data[name] = ids if many else (ids[0] if ids else None)
                for ref in ids:
                    if (ref["type"], ref["id"]) in included:
                        continue
                    other = tx.get(req.account, ref["type"], ref["id"])
                    if other:
                        included[(ref["type"], ref["id"])] = self._one(req, other, None, fields, additional)
            out.append(self._one(req, record, schema, fields, additional, rel_data))
        document: dict[str, Any] = {"data": out}
        if includes:
            document["included"] = list(included.values())
        return document

    def _one(
        self,
        req: MockRequest,
        record: Record,
        schema: Any,
        fields: dict[str, str],
        additional: dict[str, frozenset[str]],
        rel_data: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        rtype = record["type"]
        schema = schema or self.index.resource_schema(rtype)
        allowed = self.additional.get(rtype, frozenset())
        wanted = fields.get(rtype)
        return render_resource(
            self.index,
            record,
            schema,
            req.base_url,
            fields=[f for f in wanted.split(",") if f] if wanted else None,
            additional=additional.get(rtype, frozenset()),
            additional_allowed=allowed,
            relationship_data=rel_data,
        )

    def _rel_is_many(self, schema: Any, name: str) -> bool:
        spec = self.index.spec
        rels = flatten(spec, ((schema or {}).get("properties") or {}).get("relationships"))
        rel = flatten(spec, (rels.get("properties") or {}).get(name))
        data = flatten(spec, (rel.get("properties") or {}).get("data"))
        return data.get("type") == "array" or "items" in data or not data

    def _ok(self, status: int, body: Any) -> MockResponse:
        return MockResponse(status, body)

    # -- dispatch ----------------------------------------------------------------------------------
    def is_stateful(self, op: OpInfo, account: str) -> bool:
        info = self.index.types.get(op.resource_type)
        if info and info.creatable:
            return True
        with self.store.transaction(write=False) as tx:
            return op.resource_type in tx.types(account)

    async def handle(self, req: MockRequest, op: OpInfo) -> MockResponse | None:
        if not self.is_stateful(op, req.account):
            return None
        try:
            handler = {
                Kind.CREATE: self.create,
                Kind.GET: self.get,
                Kind.LIST: self.list,
                Kind.UPDATE: self.update,
                Kind.DELETE: self.delete,
                Kind.REL_GET: self.relationship_get,
                Kind.REL_ADD: self.relationship_change,
                Kind.REL_REMOVE: self.relationship_change,
                Kind.REL_REPLACE: self.relationship_change,
                Kind.RELATED: self.related,
                Kind.UPSERT: self.upsert,
            }[op.kind]
            return handler(req, op)
        except QueryError as exc:
            return error_response(400, code="invalid", detail=exc.detail, parameter=exc.parameter)

    def create(self, req: MockRequest, op: OpInfo) -> MockResponse:
        data = _body_data(req)
        if data is None:
            return _missing_data()
        info = self.index.types[op.resource_type]
        record: Record = {
            "type": op.resource_type,
            "id": str(data.get("id") or new_id(info.id_shape)),
            "attributes": dict(data.get("attributes") or {}),
            "relationships": _relationships_from_body(data),
        }
        with self.store.transaction() as tx:
            if tx.get(req.account, record["type"], record["id"]):
                return error_response(
                    409, code="conflict", detail=f"A {record['type']} with id {record['id']} already exists."
                )
            duplicate = find_duplicate(tx, req.account, record)
            if duplicate:
                return _duplicate(record["type"], *duplicate)
            if record["type"].endswith("-job"):
                self._run_job(tx, req.account, record)
            self._complete(record, op)
            tx.put(req.account, record)
            if op.response is None or op.data_schema is None:
                return self._ok(op.status, None)
            document = self._render(req, op, tx, [record], op.data_schema)
        document["data"] = document["data"][0]
        document["links"] = {"self": f"{req.base_url}{self.index.types[record['type']].collection}/{record['id']}/"}
        return self._ok(op.status, document)

    def upsert(self, req: MockRequest, op: OpInfo) -> MockResponse:
        """Create-or-update: the resource with the body's id, else with one of its unique identifiers,
        gets the attributes merged in (200); otherwise a new one is created (201)."""
        data = _body_data(req)
        if data is None:
            return _missing_data()
        info = self.index.types[op.resource_type]
        incoming: Record = {
            "type": op.resource_type,
            "id": "",
            "attributes": dict(data.get("attributes") or {}),
            "relationships": _relationships_from_body(data),
        }
        with self.store.transaction() as tx:
            record = tx.get(req.account, op.resource_type, str(data["id"])) if data.get("id") else None
            if record is None:
                found = find_duplicate(tx, req.account, incoming)
                record = found[1] if found else None
            created = record is None
            if record is None:
                record = {**incoming, "id": new_id(info.id_shape)}
            else:
                record["attributes"] = _merge(record.get("attributes") or {}, incoming["attributes"])
                record.setdefault("relationships", {}).update(incoming["relationships"])
                for name in _TIMESTAMPS_UPDATED:
                    if name in record["attributes"]:
                        record["attributes"][name] = now()
            get_op = self.index.ops.get(info.get_op or "")
            self._complete(record, get_op or op)
            tx.put(req.account, record)
            status = op.status if op.status not in (200, 201) else (201 if created else 200)
            if op.data_schema is None:
                return self._ok(status, None)
            document = self._render(req, op, tx, [record], op.data_schema)
        document["data"] = document["data"][0]
        document["links"] = {"self": f"{req.base_url}{info.collection}/{record['id']}/"}
        return self._ok(status, document)

    def _run_job(self, tx: StoreTx, account: str, job: Record) -> None:
        """A bulk job's nested resources (`attributes.X.data[]` of a stored type) are applied at once, as
        its type name says: `*-delete-*` jobs delete them; `*-create-*`/`*-import-*` jobs create them or
        merge into the resource with the same id/identifiers; other jobs (update, suppress...) merge into
        existing resources only."""
        words = set(job["type"].split("-"))
        deleting = "delete" in words
        creating = bool(words & {"create", "import"})
        made: dict[str, list[dict[str, str]]] = {}
        for value in (job.get("attributes") or {}).values():
            items = value.get("data") if isinstance(value, dict) else None
            if not isinstance(items, list):
                continue
            for item in items:
                rtype = item.get("type") if isinstance(item, dict) else None
                info = self.index.types.get(str(rtype))
                if not info or not info.creatable:
                    continue
                record: Record = {
                    "type": info.name,
                    "id": str(item.get("id") or new_id(info.id_shape)),
                    "attributes": dict(item.get("attributes") or {}),
                    "relationships": {},
                }
                existing = tx.get(account, info.name, record["id"]) if item.get("id") else None
                if deleting:
                    if existing:
                        tx.delete(account, info.name, record["id"])
                        made.setdefault(info.name, []).append({"type": info.name, "id": record["id"]})
                    continue
                duplicate = None if existing else find_duplicate(tx, account, record)
                if not (existing or duplicate or creating):
                    continue
                if existing or duplicate:
                    base = existing or (duplicate[1] if duplicate else record)
                    base["attributes"] = _merge(base.get("attributes") or {}, record["attributes"])
                    record = base
                else:
                    get_op = self.index.ops.get(info.get_op or "")
                    if get_op:
                        self._complete(record, get_op)
                tx.put(account, record)
                made.setdefault(info.name, []).append({"type": info.name, "id": record["id"]})
        rels = job.setdefault("relationships", {})
        for rtype, refs in made.items() if not deleting else ():
            name = f"{rtype}s"
            rels[name] = {"many": True, "data": refs}
            # Lists (etc.) named in the job's relationships gain the resources it made.
            for rel in list(rels.values()):
                for target in rel.get("data") or []:
                    other = tx.get(account, target["type"], target["id"])
                    if other is None or target["type"] == rtype:
                        continue
                    bucket = other.setdefault("relationships", {}).setdefault(name, {"many": True, "data": []})
                    bucket["data"] += [r for r in refs if r not in bucket["data"]]
                    tx.put(account, other)

    def get(self, req: MockRequest, op: OpInfo) -> MockResponse:
        rid = req.path_params.get(op.id_param or "id", "")
        with self.store.transaction(write=False) as tx:
            record = tx.get(req.account, op.resource_type, rid)
            if record is None:
                return _not_found(op.resource_type, rid)
            document = self._render(req, op, tx, [record], op.data_schema)
        document["data"] = document["data"][0]
        document["links"] = {"self": page_link(req.base_url, request_path(req), req.query)}
        return self._ok(op.status, document)

    def list(self, req: MockRequest, op: OpInfo) -> MockResponse:
        with self.store.transaction(write=False) as tx:
            page = run_query(op, tx.scan(req.account, op.resource_type), req.query)
            document = self._render(req, op, tx, page.records, op.data_schema)
        document["links"] = self._links(req, page.next_cursor, page.prev_cursor)
        return self._ok(op.status, document)

    def _links(self, req: MockRequest, next_cursor: str | None, prev_cursor: str | None) -> dict[str, str]:
        path = request_path(req)
        links = {"self": page_link(req.base_url, path, req.query, req.query.get("page[cursor]"))}
        if next_cursor:
            links["next"] = page_link(req.base_url, path, req.query, next_cursor)
        if prev_cursor:
            links["prev"] = page_link(req.base_url, path, req.query, prev_cursor)
        return links

    def update(self, req: MockRequest, op: OpInfo) -> MockResponse:
        rid = req.path_params.get(op.id_param or "id", "")
        data = _body_data(req)
        if data is None:
            return _missing_data()
        if data.get("id") not in (None, rid):
            return error_response(
                409,
                code="conflict",
                detail=f"The id in the body ({data.get('id')}) does not match the URL ({rid}).",
                pointer="/data/id",
            )
        with self.store.transaction() as tx:
            record = tx.get(req.account, op.resource_type, rid)
            if record is None:
                return _not_found(op.resource_type, rid)
            record["attributes"] = _merge(record.get("attributes") or {}, dict(data.get("attributes") or {}))
            record.setdefault("relationships", {}).update(_relationships_from_body(data))
            duplicate = find_duplicate(tx, req.account, record)
            if duplicate:
                return _duplicate(record["type"], *duplicate)
            for name in _TIMESTAMPS_UPDATED:
                if name in record["attributes"]:
                    record["attributes"][name] = now()
            self._complete(record, op)
            tx.put(req.account, record)
            if op.data_schema is None:
                return self._ok(op.status, None)
            document = self._render(req, op, tx, [record], op.data_schema)
        document["data"] = document["data"][0]
        document["links"] = {"self": page_link(req.base_url, request_path(req), {})}
        return self._ok(op.status, document)

    def delete(self, req: MockRequest, op: OpInfo) -> MockResponse:
        rid = req.path_params.get(op.id_param or "id", "")
        with self.store.transaction() as tx:
            if not tx.delete(req.account, op.resource_type, rid):
                return _not_found(op.resource_type, rid)
        return self._ok(op.status, None)

    def _parent(self, tx: StoreTx, req: MockRequest, op: OpInfo) -> Record | MockResponse:
        rid = req.path_params.get(op.id_param or "id", "")
        record = tx.get(req.account, op.resource_type, rid)
        return record if record is not None else _not_found(op.resource_type, rid)

    def relationship_get(self, req: MockRequest, op: OpInfo) -> MockResponse:
        with self.store.transaction(write=False) as tx:
            parent = self._parent(tx, req, op)
            if isinstance(parent, MockResponse):
                return parent
            ids = related_ids(tx, req.account, parent, op.relationship or "", op.related_type)
            existing = [r for r in ids if tx.get(req.account, r["type"], r["id"]) is not None]
        links = {"self": page_link(req.base_url, request_path(req), req.query)}
        if not op.data_is_list:
            # A to-one relationship with several candidates (a profile's SMS and WhatsApp conversations)
            # names the newest, as the related endpoint does.
            return self._ok(op.status, {"data": existing[-1] if existing else None, "links": links})
        return self._ok(op.status, {"data": existing, "links": links})

    def relationship_change(self, req: MockRequest, op: OpInfo) -> MockResponse:
        body = req.body if isinstance(req.body, dict) else {}
        data = body.get("data")
        refs = data if isinstance(data, list) else ([data] if isinstance(data, dict) else [])
        refs = [{"type": r["type"], "id": str(r["id"])} for r in refs if isinstance(r, dict) and "id" in r]
        name = op.relationship or ""
        with self.store.transaction() as tx:
            parent = self._parent(tx, req, op)
            if isinstance(parent, MockResponse):
                return parent
            current = related_ids(tx, req.account, parent, name, op.related_type)
            if op.kind is Kind.REL_ADD:
                current += [r for r in refs if r not in current]
            elif op.kind is Kind.REL_REMOVE:
                current = [r for r in current if r not in refs]
            else:
                current = refs
            parent.setdefault("relationships", {})[name] = {"many": isinstance(data, list), "data": current}
            tx.put(req.account, parent)
        return self._ok(op.status if op.status != 200 else 204, None)

    def related(self, req: MockRequest, op: OpInfo) -> MockResponse:
        with self.store.transaction(write=False) as tx:
            parent = self._parent(tx, req, op)
            if isinstance(parent, MockResponse):
                return parent
            refs = related_ids(tx, req.account, parent, op.relationship or "", op.related_type)
            records = [r for ref in refs if (r := tx.get(req.account, ref["type"], ref["id"])) is not None]
            if not op.data_is_list:
                document = self._render(req, op, tx, records[-1:], op.data_schema)
                document["data"] = document["data"][0] if document["data"] else None
                document["links"] = {"self": page_link(req.base_url, request_path(req), req.query)}
                return self._ok(op.status, document)
            page = run_query(op, records, req.query)
            document = self._render(req, op, tx, page.records, op.data_schema)
        document["links"] = self._links(req, page.next_cursor, page.prev_cursor)
        return self._ok(op.status, document)
