"""The request pipeline as one ASGI middleware: route, authenticate, check the revision, validate, answer.

Why not Connexion's own routing/validation middlewares: building them for Klaviyo's 3 MB spec takes seconds
(the ~3.2 s start the issue mentions) and their per-request work caps a worker far below 2,500 req/s. This
core works from the precompiled, cached `CompiledSpec` instead; the Connexion AsyncApp around it supplies the
outer error handling, Swagger UI and lifespan (see `_app.py`).

Order of checks, as Klaviyo does: route (404/405) -> credentials (401) -> revision (400) -> parameters (400)
-> body (413/415/400) -> `Prefer: code=` fault injection -> behaviours -> the schema-generated body.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from ._compile import CompiledSpec, Operation, PathEntry
from ._errors import MockError, error_response, standard_code
from ._params import check_params
from ._types import AdminRoute, Behaviour, MockRequest, MockResponse

__all__ = ["DEFAULT_MAX_BODY_BYTES", "JSON_API", "REVISION_HEADER", "MockCore"]

log = logging.getLogger("mock_server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_API = "application/vnd.api+json"
REVISION_HEADER = "revision"  # response header: the revision this mock served (the spec's info.version)
DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024  # Klaviyo's image upload limit is 5 MB
_REVISION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(\.pre)?$")
_PLACEHOLDER_BASE = "https://a.klaviyo.com"
_RENDER_CACHE_SIZE = 4096
_MAX_DELAY_MS = 60_000
_CONNEXION_ROUTING = "connexion_routing"
# Characters left as-is in ids inside links (Klaviyo's compound catalog ids keep `$` and `:` unescaped).
_ID_SAFE = "$:@!*'(),;=+-._~"
_PATH_SAFE = _ID_SAFE + "/"  # connexion.middleware.abstract.ROUTING_CONTEXT


class MockCore:
    """The mock's ASGI middleware. `app` is what non-API paths (Swagger UI, lifespan) fall through to."""

    def __init__(
        self,
        app: ASGIApp | None,
        *,
        compiled: CompiledSpec,
        behaviours: Sequence[Behaviour] = (),
        admin_routes: Sequence[AdminRoute] = (),
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        self.app = app
        self.compiled = compiled
        self.behaviours = list(behaviours)
        self.max_body_bytes = max_body_bytes
        self._admin: list[tuple[PathEntry, AdminRoute]] = []
        self._validators: dict[str, Any] = {}
        self._rendered: dict[tuple[str, ...], bytes] = {}
        self._spec_bytes: bytes | None = None
        for behaviour in self.behaviours:
            offered = getattr(behaviour, "admin_routes", None)
            if callable(offered):
                for route in offered():
                    self.add_admin_route(route)
        for route in admin_routes:
            self.add_admin_route(route)
        if self._admin:  # an admin API to look at (the stateful mock): the inspector page shows it
            from ._inspector import inspector_routes

            for route in inspector_routes():
                self.add_admin_route(route)

    # -- extension points -------------------------------------------------------------------------------

    def add_admin_route(self, route: AdminRoute) -> None:
        if not route.path.startswith("/__mock__/"):
            raise ValueError(f"admin routes live under /__mock__/: {route.path}")
        from ._compile import path_entry

        self._admin.append((path_entry(route.path), route))

    def generated_response(self, request: MockRequest, status: int | None = None) -> MockResponse:
        """The schema-generated answer for a request (what the core sends when no behaviour answers)."""
        op = self._operation(request.path_template, request.method)
        status = status or op.success
        key = _documented_key(op, status)
        if key is None or key not in op.templates:
            return MockResponse(status)  # no content documented (204, or a status without a body)
        return MockResponse(status, self._personalize(op, key, request.path_params, request.base_url, request.base_url))

    # -- ASGI -------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if self.app is not None:
                await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(("/api/", "/client/")) or path in ("/api", "/client"):
            await self._answer(scope, receive, send, self._api)
        elif path.startswith("/__mock__/"):
            await self._answer(scope, receive, send, self._admin_call)
        elif path == "/openapi.json" and scope["method"] in ("GET", "HEAD"):
            await self._send_bytes(send, 200, self._served_spec(), "application/json", {})
        elif path == "/openapi.json":
            await self._answer(scope, receive, send, self._spec_method_not_allowed)
        elif self.app is not None:
            # Connexion's AsyncApp router expects the routing context its (here absent) RoutingMiddleware sets.
            scope.setdefault("extensions", {}).setdefault(_CONNEXION_ROUTING, {})
            revision = self.compiled.revision.encode()

            async def send_with_revision(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), (b"revision", revision)]
                await send(message)

            await self.app(scope, receive, send_with_revision)
        else:
            await self._answer(scope, receive, send, self._not_found)

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        pipeline: Callable[[Scope, Receive, dict[str, str]], Awaitable[MockResponse | bytes]],
    ) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or ()}
        delay, prefer_error = _prefer_delay(headers.get("prefer"))
        try:
            if prefer_error:
                raise MockError(400, prefer_error, parameter="Prefer")
            result = await pipeline(scope, receive, headers)
        except MockError as exc:
            result = exc.response()
        except Exception:
            # Never a traceback on the wire: log it here, answer in Klaviyo's envelope.
            log.exception("mock failed on %s %s", scope.get("method"), scope.get("path"))
            result = error_response(500, "The mock server failed to answer this request (a bug in the mock).")
        if delay:
            await asyncio.sleep(delay / 1000)
        if isinstance(result, bytes):
            await self._send_bytes(send, 200, result, JSON_API, {})
            return
        if isinstance(result, _RawResponse):
            await self._send_bytes(send, result.status, result.raw, JSON_API, result.headers)
            return
        if isinstance(result.body, bytes):  # a page or script (the inspector): its own content type
            extra = {k: v for k, v in result.headers.items() if k.lower() != "content-type"}
            media = result.headers.get("content-type", "application/octet-stream")
            await self._send_bytes(send, result.status, result.body, media, extra)
            return
        body = b"" if result.body is None else json.dumps(result.body, separators=(",", ":")).encode()
        await self._send_bytes(send, result.status, body, JSON_API, result.headers)

    async def _send_bytes(self, send: Send, status: int, body: bytes, media: str, extra: dict[str, str]) -> None:
        headers = [(b"revision", self.compiled.revision.encode())]
        if body:
            headers.append((b"content-type", media.encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        headers.extend((k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in extra.items())
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _served_spec(self) -> bytes:
        if self._spec_bytes is None:
            self._spec_bytes = self.compiled.patched_json.read_bytes()
        return self._spec_bytes

    async def _spec_method_not_allowed(self, scope: Scope, receive: Receive, headers: dict[str, str]) -> MockResponse:
        raise MockError(405, f'Method "{scope["method"]}" not allowed.', headers={"Allow": "GET, HEAD"})

    async def _not_found(self, scope: Scope, receive: Receive, headers: dict[str, str]) -> MockResponse:
        raise MockError(404, f"No route matches {scope.get('path')}.")

    # -- the API pipeline -------------------------------------------------------------------------------

    async def _api(self, scope: Scope, receive: Receive, headers: dict[str, str]) -> MockResponse | bytes:
        method = scope["method"].lower()
        segments = _segments(scope)
        entry, path_params = self._route(segments, self.compiled.static, self.compiled.dynamic)
        if entry is None:
            raise MockError(404, f"No route matches {scope['path']}.")
        op = entry.methods.get(method)
        if op is None:
            allow = ", ".join(m.upper() for m in entry.methods)
            raise MockError(405, f'Method "{method.upper()}" not allowed.', headers={"Allow": allow})
        query = dict(parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True))
        account, auth_kind = _authenticate(op, headers, query)
        revision = self._revision(op, headers)
        check_params(op.params, query, path_params, headers)
        body = await self._body(op, scope, receive, headers)
        base_url = _base_url(scope, headers)
        request = MockRequest(
            operation_id=op.operation_id,
            method=method,
            path_template=op.path,
            path_params=path_params,
            query=query,
            headers=headers,
            body=body,
            account=account,
            auth_kind=auth_kind,
            revision=revision,
            base_url=base_url,
        )
        forced = _prefer_code(headers.get("prefer"), op)
        if forced is not None:
            return self._forced(op, forced, request, scope)
        for behaviour in self.behaviours:
            answer = await behaviour.handle(request)
            if answer is not None:
                return answer
        return self._generated_bytes(op, str(op.success), request, scope)

    def _route(
        self,
        segments: list[str],
        static: dict[str, PathEntry],
        dynamic: dict[tuple[int, str, str], list[PathEntry]],
    ) -> tuple[PathEntry | None, dict[str, str]]:
        entry = static.get("/" + "/".join(segments))
        if entry is not None:
            return entry, {}
        key = (len(segments), segments[0] if segments else "", segments[1] if len(segments) > 1 else "")
        candidates = dynamic.get(key, [])
        if not candidates and len(segments) > 1:
            candidates = dynamic.get((len(segments), segments[0], ""), [])
        for candidate in candidates:
            values: dict[str, str] = {}
            names = iter(candidate.param_names)
            for want, got in zip(candidate.segments, segments, strict=True):
                if want is None:
                    if not got:
                        break
                    values[next(names)] = got
                elif want != got:
                    break
            else:
                return candidate, values
        return None, {}

    def _operation(self, template: str, method: str) -> Operation:
        entry = self.compiled.static.get(template.rstrip("/") or "/")
        if entry is None:
            for bucket in self.compiled.dynamic.values():
                for candidate in bucket:
                    if candidate.template == template:
                        entry = candidate
        if entry is None or method not in entry.methods:
            raise KeyError(f"{method} {template} is not in the spec")
        return entry.methods[method]

    def _revision(self, op: Operation, headers: dict[str, str]) -> str:
        value = headers.get("revision")
        if value is None:
            required = next((p.required for p in op.params if p.name.lower() == "revision"), True)
            if required:
                raise MockError(
                    400,
                    "The 'revision' header is required (format: YYYY-MM-DD or YYYY-MM-DD.pre).",
                    code="missing_revision",
                    parameter="revision",
                )
            return self.compiled.revision
        if not _REVISION_RE.match(value.strip()):
            raise MockError(
                400,
                f"Invalid revision '{value}': expected YYYY-MM-DD or YYYY-MM-DD.pre.",
                code="invalid_revision",
                parameter="revision",
            )
        return value.strip()

    async def _body(self, op: Operation, scope: Scope, receive: Receive, headers: dict[str, str]) -> Any:
        spec = op.body
        if spec is None:
            return None
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise _too_large(self.max_body_bytes)
        raw = await _read_all(receive, self.max_body_bytes)
        if not raw:
            if spec.required:
                raise MockError(400, "A request body is required.", pointer="/data")
            return None
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if spec.multipart_schema is not None and media in spec.media_types:
            from ._multipart import parse_multipart

            return await parse_multipart(scope, raw, spec.multipart_schema)
        if spec.json_schema is None or media not in (JSON_API, "application/json", *spec.media_types):
            expected = ", ".join(spec.media_types)
            raise MockError(415, f'Unsupported media type "{media}" in request. Expected: {expected}.')
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MockError(400, "The request body is not valid UTF-8.", code="parse_error") from None
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise MockError(400, f"JSON parse error - {exc}", code="parse_error", title="Malformed request.") from None
        self._validate_body(op, document)
        return document

    def _validate_body(self, op: Operation, document: Any) -> None:
        from ._errors import error_object
        from ._jsonschema import make_validator, schema_errors

        validator = self._validators.get(op.operation_id)
        if validator is None:
            assert op.body is not None
            validator = make_validator(op.body.json_schema, self.compiled.components)
            self._validators[op.operation_id] = validator
        problems = schema_errors(validator, document)
        if problems:
            errors = [error_object(400, p.message, pointer=p.pointer) for p in problems]
            raise MockError(400, problems[0].message, errors=errors)

    # -- answers ----------------------------------------------------------------------------------------

    def _forced(self, op: Operation, status: int, request: MockRequest, scope: Scope) -> MockResponse | bytes:
        key = _documented_key(op, status)
        if status >= 400:
            code, title = standard_code(status)
            headers = {"Retry-After": "1"} if status == 429 else {}
            return error_response(
                status, f"Simulated by 'Prefer: code={status}'.", code=code, title=title, headers=headers
            )
        if key in op.templates:
            return self._generated_bytes(op, key, request, scope, status=status)
        return MockResponse(status)

    def _generated_bytes(
        self, op: Operation, key: str, request: MockRequest, scope: Scope, *, status: int | None = None
    ) -> MockResponse | bytes:
        if status is None:
            status = int(key) if key.isdigit() else 200
        if key not in op.templates:
            return MockResponse(status)
        query = scope.get("query_string", b"").decode("latin-1")
        raw_path = scope.get("raw_path")
        path = (
            raw_path.decode("latin-1").split("?", 1)[0] if raw_path else quote(scope.get("path", ""), safe=_PATH_SAFE)
        )
        self_url = request.base_url + path + (f"?{query}" if query else "")
        cache_key = (op.operation_id, key, self_url)
        cached = self._rendered.get(cache_key)
        if cached is None:
            body = self._personalize(op, key, request.path_params, request.base_url, self_url)
            cached = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            if len(self._rendered) >= _RENDER_CACHE_SIZE:
                self._rendered.clear()
            self._rendered[cache_key] = cached
        if status == 200:
            return cached
        return _RawResponse(status, cached)

    def _personalize(self, op: Operation, key: str, path_params: dict[str, str], base: str, self_url: str) -> Any:
        body = _rebase(op.templates[key], base)  # a fresh copy: templates are shared
        if not isinstance(body, dict):
            return body
        data = body.get("data")
        if isinstance(data, dict) and "id" in data and op.path.endswith("/{id}") and "id" in path_params:
            data["id"] = path_params["id"]
        if isinstance(body.get("links"), dict) and "self" in body["links"]:
            body["links"]["self"] = self_url
        for resource in _resources(body):
            self._link_resource(resource, base)
        return body

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

    # -- /__mock__/ -------------------------------------------------------------------------------------

    async def _admin_call(self, scope: Scope, receive: Receive, headers: dict[str, str]) -> MockResponse | bytes:
        method = scope["method"].lower()
        segments = _segments(scope)
        allowed: list[str] = []
        for entry, route in self._admin:
            params = _match(entry, segments)
            if params is None:
                continue
            if route.method.lower() != method:
                allowed.append(route.method.upper())
                continue
            raw = await _read_all(receive, self.max_body_bytes)
            try:
                body = json.loads(raw) if raw else None
            except ValueError as exc:
                raise MockError(400, f"JSON parse error - {exc}", code="parse_error") from None
            query = dict(parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True))
            account, auth_kind = _credentials(headers.get("authorization"))
            request = MockRequest(
                operation_id="admin",
                method=method,
                path_template=route.path,
                path_params=params,
                query=query,
                headers=headers,
                body=body,
                account=account or "",
                auth_kind=auth_kind,
                revision=headers.get("revision", self.compiled.revision),
                base_url=_base_url(scope, headers),
            )
            return await route.handler(request)
        if allowed:
            raise MockError(405, f'Method "{method.upper()}" not allowed.', headers={"Allow": ", ".join(allowed)})
        raise MockError(404, f"No admin route matches {scope['path']}.")


class _RawResponse(MockResponse):
    """Pre-serialized body bytes with a non-200 status (cached generated bodies)."""

    def __init__(self, status: int, raw: bytes) -> None:
        super().__init__(status, None, {})
        self.raw = raw


def _segments(scope: Scope) -> list[str]:
    raw = scope.get("raw_path")
    path = raw.decode("latin-1").split("?", 1)[0] if raw else scope["path"]
    return [unquote(s) for s in path.strip("/").split("/")]


def _match(entry: PathEntry, segments: list[str]) -> dict[str, str] | None:
    if len(entry.segments) != len(segments):
        return None
    values: dict[str, str] = {}
    names = iter(entry.param_names)
    for want, got in zip(entry.segments, segments, strict=True):
        if want is None:
            values[next(names)] = got
        elif want != got:
            return None
    return values


def _credentials(header: str | None) -> tuple[str | None, str]:
    if not header:
        return None, "none"
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if not credential or " " in credential:
        return None, "invalid"
    if scheme.lower() == "klaviyo-api-key":
        return f"api_key:{credential}", "api_key"
    if scheme.lower() == "bearer":
        return f"oauth:{credential}", "oauth"
    return None, "invalid"


def _authenticate(op: Operation, headers: dict[str, str], query: dict[str, str]) -> tuple[str, str]:
    if op.public:
        company = query.get("company_id")
        return (f"company:{company}" if company else "company:"), "none"
    account, kind = _credentials(headers.get("authorization"))
    if kind == "none":
        raise MockError(401, "Authentication credentials were not provided.", code="not_authenticated")
    if account is None:
        raise MockError(
            401,
            "Incorrect authentication credentials: use 'Authorization: Klaviyo-API-Key <key>' or 'Bearer <token>'.",
            code="authentication_failed",
            title="Incorrect authentication credentials.",
        )
    return account, kind


def _base_url(scope: Scope, headers: dict[str, str]) -> str:
    host = headers.get("host")
    if not host:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    return f"{scope.get('scheme', 'http')}://{host}"


async def _read_all(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _too_large(limit: int) -> MockError:
    return MockError(413, f"Request body is larger than {limit} bytes.")


def _prefer_tokens(header: str | None) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for part in re.split(r"[,;]", header or ""):
        name, sep, value = part.strip().partition("=")
        if sep:
            tokens[name.strip().lower()] = value.strip().strip('"')
    return tokens


def _prefer_delay(header: str | None) -> tuple[int, str | None]:
    if not header:
        return 0, None
    raw = _prefer_tokens(header).get("delay")
    if raw is None:
        return 0, None
    if not raw.isdigit():
        return 0, f"'Prefer: delay={raw}' must be a whole number of milliseconds."
    return min(int(raw), _MAX_DELAY_MS), None


def _prefer_code(header: str | None, op: Operation) -> int | None:
    if not header:
        return None
    raw = _prefer_tokens(header).get("code")
    if raw is None:
        return None
    if re.fullmatch(r"[1-5]XX", raw, re.IGNORECASE):
        raw = f"{raw[0]}00"
    if not raw.isdigit() or not 100 <= int(raw) <= 599:
        raise MockError(400, f"'Prefer: code={raw}' is not an HTTP status.", parameter="Prefer")
    status = int(raw)
    if _documented_key(op, status) is None:
        documented = ", ".join(op.statuses)
        raise MockError(
            400,
            f"'Prefer: code={status}' is not documented for {op.operation_id} (documented: {documented}).",
            parameter="Prefer",
        )
    return status


def _documented_key(op: Operation, status: int) -> str | None:
    for key in (str(status), f"{status // 100}XX", "default"):
        if key in op.statuses:
            return key
    return None


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
