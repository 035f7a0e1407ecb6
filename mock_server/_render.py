"""The schema-generated answer: the compiled template for a status, personalized for the request, cached.

Templates are generated once at compile time (`_compile.py`); per request they get the mock's own base URL,
the path's `id` and `links.self` pointing at the request, and resource links pointing at their collections.
Rendered bytes are cached by (operation, status key, self URL): the same request renders once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote

from ._compile import CompiledSpec, Operation
from ._on_request import on_request_fields, requested_fields, strip_unrequested
from ._types import MockResponse

__all__ = ["Renderer", "request_path"]

_PLACEHOLDER_BASE = "https://a.klaviyo.com"
_RENDER_CACHE_SIZE = 4096
# Characters left as-is in ids inside links (Klaviyo's compound catalog ids keep `$` and `:` unescaped).
_ID_SAFE = "$:@!*'(),;=+-._~"
_PATH_SAFE = _ID_SAFE + "/"  # connexion.middleware.abstract.ROUTING_CONTEXT


class Renderer:
    def __init__(self, compiled: CompiledSpec) -> None:
        self.compiled = compiled
        self._rendered: dict[tuple[str, ...], bytes] = {}
        operations = [
            op
            for entry in [*compiled.static.values(), *(e for b in compiled.dynamic.values() for e in b)]
            for op in entry.methods.values()
        ]
        # Attributes sent only on request (`additional-fields[type]`): templates carry them, answers do not.
        self.on_request = on_request_fields((p.name, p.item_enum or p.enum) for op in operations for p in op.params)

    def body(
        self,
        op: Operation,
        key: str,
        path_params: dict[str, str],
        base: str,
        self_url: str,
        query: Mapping[str, str] | None = None,
    ) -> Any:
        """The template for response `key`, personalized (a fresh copy: templates are shared)."""
        body = _rebase(op.templates[key], base)
        if not isinstance(body, dict):
            return body
        data = body.get("data")
        if isinstance(data, dict) and "id" in data and op.path.endswith("/{id}") and "id" in path_params:
            data["id"] = path_params["id"]
        if isinstance(body.get("links"), dict) and "self" in body["links"]:
            body["links"]["self"] = self_url
        requested = requested_fields(query or {})
        for resource in _resources(body):
            self._link_resource(resource, base)
            strip_unrequested(resource, self.on_request, requested)
        return body

    def response(
        self, op: Operation, key: str, status: int, path_params: dict[str, str], base: str, path: str, query: str
    ) -> MockResponse:
        """The serialized answer for `status` (documented as `key`); no body when none is documented."""
        if key not in op.templates:
            return MockResponse(status)
        self_url = base + path + (f"?{query}" if query else "")
        cache_key = (op.operation_id, key, self_url)
        cached = self._rendered.get(cache_key)
        if cached is None:
            query_params = dict(parse_qsl(query, keep_blank_values=True))
            body = self.body(op, key, path_params, base, self_url, query_params)
            cached = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            if len(self._rendered) >= _RENDER_CACHE_SIZE:
                self._rendered.clear()
            self._rendered[cache_key] = cached
        return MockResponse(status, raw=cached)

    def _link_resource(self, resource: dict[str, Any], base: str) -> None:
        rtype, rid = resource.get("type"), resource.get("id")
        if not isinstance(rtype, str) or not isinstance(rid, str):
            return
        collection = self.compiled.collection_paths.get(rtype, f"/api/{rtype}s/")
        here = f"{base}{collection}{quote(rid, safe=_ID_SAFE)}/"
        links = resource.get("links")
        if isinstance(links, dict) and "self" in links:
            links["self"] = here
        for name, rel in (resource.get("relationships") or {}).items():
            rel_links = rel.get("links") if isinstance(rel, dict) else None
            if isinstance(rel_links, dict):
                if "self" in rel_links:
                    rel_links["self"] = f"{here}relationships/{name}/"
                if "related" in rel_links:
                    rel_links["related"] = f"{here}{name}/"


def request_path(raw_path: bytes | None, path: str) -> str:
    """The request path as sent (percent-encoding kept), for `links.self`."""
    return raw_path.decode("latin-1").split("?", 1)[0] if raw_path else quote(path, safe=_PATH_SAFE)


def _resources(body: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for member in ("data", "included"):
        value = body.get(member)
        items = value if isinstance(value, list) else [value]
        found.extend(item for item in items if isinstance(item, dict))
    return found


def _rebase(node: Any, base: str) -> Any:
    """Examples and generated URIs point at https://a.klaviyo.com; point them at this mock instead."""
    if isinstance(node, dict):
        return {k: _rebase(v, base) for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v, base) for v in node]
    if isinstance(node, str) and node.startswith(_PLACEHOLDER_BASE):
        return base + node[len(_PLACEHOLDER_BASE) :]
    return node
