"""Compile a patched spec into what the request pipeline needs, and cache it keyed by the spec's sha256.

Compiling (loading 3 MB of JSON, the overlay, converting schemas, generating one body per response) takes
seconds; unpickling the result takes tens of milliseconds, which is how `kdk mock` starts in under a second.
The cache key also covers the overlay and the compiler's own source, so editing either invalidates it.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._jsonschema import convert_schema

if TYPE_CHECKING:
    from kdk.spec import PatchedSpec

__all__ = [
    "BodySpec",
    "CompiledSpec",
    "Operation",
    "Param",
    "PathEntry",
    "bucket_key",
    "compile_patched",
    "compile_spec",
    "documented_key",
    "load_compiled",
    "path_entry",
]

Spec = dict[str, Any]
_JSON_MEDIA = "application/vnd.api+json"


@dataclass(slots=True)
class Param:
    name: str
    location: str  # query, path, header
    required: bool
    kind: str  # string, integer, number, boolean, array, object
    enum: list[Any] | None = None
    item_kind: str = "string"
    item_enum: list[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None
    fmt: str | None = None
    nullable: bool = False


@dataclass(slots=True)
class BodySpec:
    required: bool
    media_types: list[str]
    json_schema: Any | None  # converted schema for JSON bodies
    multipart_schema: dict[str, Any] | None  # resolved (OpenAPI) schema for multipart/form-data


@dataclass(slots=True)
class Operation:
    operation_id: str
    method: str
    path: str
    params: list[Param]
    public: bool  # `security: []`: no credentials, the tenant is `company_id`
    body: BodySpec | None
    statuses: list[str]  # documented response keys: "200", "4XX", "default", ...
    success: int
    templates: dict[str, Any]  # status key -> generated body (absent: no content)
    media_types: dict[str, str]  # status key -> the media type its body is documented in (absent: no content)
    resource_type: str | None  # `data.type` of the success body, for links


@dataclass(slots=True)
class PathEntry:
    template: str
    segments: tuple[str | None, ...]  # None marks a path parameter
    param_names: tuple[str, ...]
    methods: dict[str, Operation] = field(default_factory=dict)


@dataclass
class CompiledSpec:
    key: str
    revision: str
    title: str
    operations: int
    static: dict[str, PathEntry]
    dynamic: dict[tuple[int, str, str], list[PathEntry]]
    components: dict[str, Any]  # converted for JSON Schema validation
    collection_paths: dict[str, str]  # resource type -> "/api/profiles/"
    patched_json: Path  # the served spec (/openapi.json)


# Files whose content changes what `compile_spec` produces; part of the cache key. They are located, not
# imported: importing kdk.spec (yaml, httpx, the fetcher...) would cost the start-up ~0.1 s on a cache hit.
_COMPILER_SOURCES = ("_compile.py", "_generate.py", "_values.py", "_jsonschema.py")
_OVERLAY_SOURCES = ("_overlay.py", "_values.py", "_walk.py", "_load.py")
_COMPILER_VERSION = "1"


def _code_fingerprint() -> str:
    import kdk

    digest = hashlib.sha256(_COMPILER_VERSION.encode())
    here = Path(__file__).parent
    for name in _COMPILER_SOURCES:
        digest.update((here / name).read_bytes())
    spec_package = Path(kdk.__file__).parent / "spec"
    for name in _OVERLAY_SOURCES:
        source = spec_package / name
        digest.update(source.read_bytes() if source.is_file() else b"-")
    return digest.hexdigest()[:16]


def _cache_root() -> Path:
    from kdk import cache_dir

    return cache_dir() / "mock"


def load_compiled(spec_path: Path) -> CompiledSpec:
    """The compiled form of the spec at `spec_path` (raw Klaviyo spec; the overlay is applied here)."""
    raw_bytes = spec_path.read_bytes()

    def patched() -> Spec:
        from kdk.spec import apply_overlay, load_spec

        return apply_overlay(load_spec(spec_path), copy_spec=False).spec

    return _cached_compile(f"{hashlib.sha256(raw_bytes).hexdigest()}-{_code_fingerprint()}", patched)


def compile_patched(spec: PatchedSpec) -> CompiledSpec:
    """The compiled form of an already patched spec (`kdk.spec.PatchedSpec`), cached by its content hash."""
    return _cached_compile(f"patched-{spec.sha256[:40]}-{_code_fingerprint()}", lambda: spec.content)


def _cached_compile(key: str, patched: Callable[[], Spec]) -> CompiledSpec:
    root = _cache_root()
    pickled = root / f"{key}.pickle"
    if pickled.is_file():
        try:
            with pickled.open("rb") as fh:
                compiled = pickle.load(fh)
            if isinstance(compiled, CompiledSpec) and compiled.patched_json.is_file():
                return compiled
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError):
            pass  # a stale or torn cache entry: recompile below
    spec = patched()
    root.mkdir(parents=True, exist_ok=True)
    patched_json = root / f"{key}.json"
    # Served with this mock as its server, so Swagger UI's "Try it out" (and tools reading /openapi.json)
    # call the mock, not https://a.klaviyo.com.
    served = {**spec, "servers": [{"url": "/", "description": "kdk mock (this server)"}]}
    _atomic_write(patched_json, json.dumps(served, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    compiled = compile_spec(spec, key=key, patched_json=patched_json)
    _atomic_write(pickled, pickle.dumps(compiled, protocol=pickle.HIGHEST_PROTOCOL))
    return compiled


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    Path(tmp).replace(path)


def compile_spec(spec: Spec, *, key: str, patched_json: Path) -> CompiledSpec:
    from kdk.spec import deref, iter_operations, operation_parameters

    from ._generate import generate_body

    static: dict[str, PathEntry] = {}
    dynamic: dict[tuple[int, str, str], list[PathEntry]] = {}
    entries: dict[str, PathEntry] = {}
    collection_paths: dict[str, str] = {}
    count = 0
    global_security = spec.get("security")
    for op in iter_operations(spec):
        entry = entries.get(op.path)
        if entry is None:
            entry = path_entry(op.path)
            entries[op.path] = entry
            if entry.param_names:
                segs = entry.segments
                dynamic.setdefault(bucket_key(segs), []).append(entry)
            else:
                static[_normalize(op.path)] = entry
        params = [_param(spec, p) for p in operation_parameters(spec, op)]
        security = op.node.get("security", global_security)
        statuses = [str(s) for s in (op.node.get("responses") or {})]
        templates: dict[str, Any] = {}
        media_types: dict[str, str] = {}
        for status in statuses:
            media, schema = _response_schema(spec, op.node["responses"][status])
            if media is not None:
                media_types[status] = media
            if schema is not None and not status.startswith(("4", "5")):
                templates[status] = generate_body(spec, schema, seed=op.operation_id)
        success = min((int(s) for s in statuses if s.isdigit() and s.startswith("2")), default=200)
        resource_type = _data_type(templates.get(str(success)))
        operation = Operation(
            operation_id=op.operation_id,
            method=op.method,
            path=op.path,
            params=params,
            public=security == [],
            body=_body(spec, deref(spec, op.node["requestBody"])) if "requestBody" in op.node else None,
            statuses=statuses,
            media_types=media_types,
            success=success,
            templates=templates,
            resource_type=resource_type,
        )
        entry.methods[op.method] = operation
        count += 1
        if op.method == "get" and resource_type and op.path.endswith("/{id}") and op.path.count("{") == 1:
            collection_paths.setdefault(resource_type, op.path[: -len("{id}")])
    # Static paths are looked up first; among templates, more literal segments win (`/a/b/x` before `/a/{id}/x`).
    for bucket in dynamic.values():
        bucket.sort(key=lambda e: sum(s is None for s in e.segments))
    components = {
        "schemas": {
            name: convert_schema(s) for name, s in ((spec.get("components") or {}).get("schemas") or {}).items()
        }
    }
    info = spec.get("info") or {}
    return CompiledSpec(
        key=key,
        revision=str(info.get("version", "")),
        title=str(info.get("title", "")),
        operations=count,
        static=static,
        dynamic=dynamic,
        components=components,
        collection_paths=collection_paths,
        patched_json=patched_json,
    )


def _normalize(path: str) -> str:
    return path.rstrip("/") or "/"


def path_entry(template: str) -> PathEntry:
    segments: list[str | None] = []
    names: list[str] = []
    for seg in _normalize(template).strip("/").split("/"):
        if seg.startswith("{") and seg.endswith("}"):
            segments.append(None)
            names.append(seg[1:-1])
        else:
            segments.append(seg)
    return PathEntry(template, tuple(segments), tuple(names))


def bucket_key(segments: tuple[str | None, ...]) -> tuple[int, str, str]:
    first = segments[0] if segments and segments[0] is not None else ""
    second = segments[1] if len(segments) > 1 and segments[1] is not None else ""
    return (len(segments), first, second)


def _param(spec: Spec, raw: dict[str, Any]) -> Param:
    from kdk.spec import deref

    schema = deref(spec, raw.get("schema") or {})
    kind = schema.get("type") or ("array" if "items" in schema else "string")
    items = deref(spec, schema.get("items") or {})
    return Param(
        name=str(raw.get("name")),
        location=str(raw.get("in")),
        required=bool(raw.get("required")),
        kind=str(kind),
        enum=list(schema["enum"]) if isinstance(schema.get("enum"), list) else None,
        item_kind=str(items.get("type") or "string"),
        item_enum=list(items["enum"]) if isinstance(items.get("enum"), list) else None,
        minimum=schema.get("minimum"),
        maximum=schema.get("maximum"),
        fmt=schema.get("format"),
        nullable=bool(schema.get("nullable")),
    )


def _response_schema(spec: Spec, response: Any) -> tuple[str | None, dict[str, Any] | None]:
    """(media type, schema) of a documented response: JSON:API first, then any JSON, then whatever is there."""
    from kdk.spec import deref

    response = deref(spec, response)
    content = (response or {}).get("content") or {}
    if not isinstance(content, dict) or not content:
        return None, None
    media = next((m for m in content if m == _JSON_MEDIA), None) or next((m for m in content if "json" in m), None)
    media = media or next(iter(content))
    holder = content[media]
    schema = holder.get("schema") if isinstance(holder, dict) else None
    return media, schema if isinstance(schema, dict) else None


def _body(spec: Spec, body: dict[str, Any]) -> BodySpec:
    from kdk.spec import deref

    content = body.get("content") or {}
    json_schema = None
    multipart = None
    for media, holder in content.items():
        schema = (holder or {}).get("schema")
        if not isinstance(schema, dict):
            continue
        if "json" in media:
            json_schema = convert_schema(schema)
        elif media.startswith("multipart/") or media == "application/x-www-form-urlencoded":
            resolved = deref(spec, schema)
            multipart = {
                "required": list(resolved.get("required") or []),
                "properties": {k: deref(spec, v) for k, v in (resolved.get("properties") or {}).items()},
            }
    return BodySpec(
        required=bool(body.get("required")),
        media_types=list(content),
        json_schema=json_schema,
        multipart_schema=multipart,
    )


def _data_type(template: Any) -> str | None:
    if not isinstance(template, dict):
        return None
    data = template.get("data")
    if isinstance(data, list):
        data = data[0] if data else None
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        return str(data["type"])
    return None


def documented_key(op: Operation, status: int) -> str | None:
    """The response key documenting `status` for `op`: the exact code, its `4XX`-style range, or `default`."""
    for key in (str(status), f"{status // 100}XX", "default"):
        if key in op.statuses:
            return key
    return None
