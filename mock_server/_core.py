"""The request pipeline as one ASGI middleware: route, authenticate, check the revision, validate, answer.

Why not Connexion's own routing/validation middlewares: building them for Klaviyo's 3 MB spec takes seconds
and their per-request work caps a worker far below 2,500 req/s. This core works from the precompiled,
cached `CompiledSpec` instead; the Connexion AsyncApp around it supplies the outer error handling, Swagger UI
and lifespan (see `_app.py`). Each job is its own module:

    _routing (operations and /__mock__/ routes) -> _auth (401) -> _revision (400) -> _params (400)
    -> _body (413/415/400) -> _faults (`Prefer: code=` / `delay=`) -> behaviours -> _render
    -> _documented (only documented statuses, in the documented media type)

Every step produces or raises one response type, `MockResponse`; this module only sends it.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import math
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from ._admin_access import AdminAccess, refuse_cross_site
from ._auth import authenticate, credentials, incorrect_credentials
from ._body import DEFAULT_MAX_BODY_BYTES, BodyReader, parse_json, read_all
from ._compile import CompiledSpec, Operation, documented_key
from ._documented import conform
from ._errors import MockError, error_response, standard_code
from ._faults import prefer_code, prefer_delay
from ._params import check_params
from ._render import Renderer, request_path
from ._revision import REVISION_HEADER, choose_revision, requested_revision
from ._routing import ADMIN_PREFIX, Match, Router, path_segments
from ._types import AdminRoute, Behaviour, Exchange, MockRequest, MockResponse

__all__ = ["DEFAULT_MAX_BODY_BYTES", "JSON_API", "REVISION_HEADER", "MockCore", "ServedRevision"]

log = logging.getLogger("mock_server")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_API = "application/vnd.api+json"
_CONNEXION_ROUTING = "connexion_routing"
_API_PREFIXES = ("/api/", "/client/", ADMIN_PREFIX)


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
        revisions: Sequence[tuple[CompiledSpec, Sequence[Behaviour]]] = (),
        admin_access: AdminAccess | None = None,
    ) -> None:
        """`compiled` is the default revision; `revisions` are more (compiled spec, its behaviours) served by
        the same mock, each chosen by the request's `revision` header (see `_revision.choose_revision`).
        `admin_access` is the admin token policy of the `/__mock__/` routes (default: no token, not open)."""
        self.app = app
        self.admin_access = admin_access or AdminAccess()
        self.max_body_bytes = max_body_bytes
        default = ServedRevision(compiled, behaviours, max_body_bytes)
        self.served: dict[str, ServedRevision] = {compiled.revision: default}
        for other, other_behaviours in revisions:
            self.served.setdefault(other.revision, ServedRevision(other, other_behaviours, max_body_bytes))
        self.default = default
        self.compiled = compiled
        self.behaviours = default.behaviours
        self.router = default.router
        for behaviour in self.behaviours:
            offered = getattr(behaviour, "admin_routes", None)
            if callable(offered):
                for route in offered():
                    self.add_admin_route(route)
        for route in admin_routes:
            self.add_admin_route(route)
        if self.router.has_admin_routes:  # an admin API to look at (the stateful mock): the inspector page shows it
            from ._inspector import inspector_routes

            for route in inspector_routes():
                self.add_admin_route(route)

    # -- extension points -------------------------------------------------------------------------------

    def add_admin_route(self, route: AdminRoute) -> None:
        self.router.add_admin_route(route)

    def generated_response(self, request: MockRequest, status: int | None = None) -> MockResponse:
        """The schema-generated answer for a request (what the core sends when no behaviour answers)."""
        served, _ = self._choose(request.revision)
        op = served.router.operation(request.path_template, request.method)
        status = status or op.success
        key = documented_key(op, status)
        if key is None or key not in op.templates:
            return MockResponse(status)  # no content documented (204, or a status without a body)
        base = request.base_url
        return MockResponse(status, served.renderer.body(op, key, request.path_params, base, base, request.query))

    # -- ASGI -------------------------------------------------------------------------------------------

    @staticmethod
    def answers(path: str) -> bool:
        """Whether the core answers `path` itself (API, admin and spec paths), whatever app it is in front of."""
        return path.startswith(_API_PREFIXES) or path in ("/api", "/client", "/openapi.json")

    async def send_error(self, send: Send, status: int, detail: str) -> None:
        await self._send(send, error_response(status, detail), self.compiled.revision)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if self.app is not None:
                await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(_API_PREFIXES) or path in ("/api", "/client"):
            response, served, exchange = await self._answer(scope, receive)
            await self._send(send, response, served.compiled.revision)
            if exchange is not None:
                # Journalled once the answer is on its way (in the same step of the event loop, so before any
                # other request is read): a sequential client's next request does not wait for the bookkeeping.
                for observe in served.observers:
                    observe(exchange)
        elif path == "/openapi.json":
            served, _ = self._choose(_header(scope, b"revision"))
            await self._send(send, served.spec_response(scope["method"]), served.compiled.revision)
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
            await self._send(send, MockError(404, f"No route matches {path}.").response(), self.compiled.revision)

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[MockResponse, ServedRevision, Exchange | None]:
        """The response to an API or admin request, the revision that served it, and the exchange its observers
        are still to see (None: none, or seen already)."""
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers") or ()}
        delay, prefer_error = prefer_delay(headers.get("prefer"))
        admin = scope["path"].startswith(ADMIN_PREFIX)
        served, revision_error = (self.default, None) if admin else self._choose(headers.get(REVISION_HEADER))
        op: Operation | None = None
        seen = _Seen()
        try:
            method = scope["method"].lower()
            match = served.router.match(method, scope["path"], path_segments(scope.get("raw_path"), scope["path"]))
            if prefer_error:
                raise MockError(400, prefer_error, parameter="Prefer")
            if isinstance(match.target, AdminRoute):
                response = await self._admin(match.target, match, scope, receive, headers)
            else:
                op = match.target
                response = await self._operation(
                    served, op, match.params, scope, receive, headers, revision_error, seen
                )
        except MockError as exc:
            response = exc.response()
        except Exception:
            # Never a traceback on the wire: log it here, answer in Klaviyo's envelope.
            log.exception("mock failed on %s %s", scope.get("method"), scope.get("path"))
            response = error_response(500, "The mock server failed to answer this request (a bug in the mock).")
        exchange = None
        if op is not None:
            response = conform(op, response)
            if seen.account and served.observers:
                exchange = seen.exchange(op, scope, response)
        if delay:
            if exchange is not None:  # journalled before the delay, as a request still being answered
                for observe in served.observers:
                    observe(exchange)
                exchange = None
            await asyncio.sleep(delay / 1000)
        return response, served, exchange

    def _choose(self, requested: str | None) -> tuple[ServedRevision, MockError | None]:
        if len(self.served) == 1:
            return self.default, None
        revision, error = choose_revision(requested, list(self.served), self.compiled.revision)
        return self.served[revision], error

    async def _send(self, send: Send, response: MockResponse, revision: str) -> None:
        if response.raw is not None:
            body = response.raw
        elif response.body is not None:
            body = json_bytes(response.body)
        else:
            body = b""
        headers = [(b"revision", _encoded(revision))]
        if body:
            headers.append((b"content-type", _encoded(response.media_type or JSON_API)))
        headers.append((b"content-length", str(len(body)).encode()))
        if response.headers:
            headers.extend((k.lower().encode("latin-1"), str(v).encode("latin-1")) for k, v in response.headers.items())
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    # -- the pipeline -----------------------------------------------------------------------------------

    async def _admin(
        self, route: AdminRoute, match: Match, scope: Scope, receive: Receive, headers: dict[str, str]
    ) -> MockResponse:
        base_url = _base_url(scope, headers)
        if route.public:
            admin, account, auth_kind = False, None, "none"
        else:
            refuse_cross_site(scope["method"], headers, base_url)
            admin = self.admin_access.is_admin(headers)
            account, auth_kind = credentials(headers.get("authorization"))
            if auth_kind == "invalid":
                raise incorrect_credentials()
        raw = await read_all(receive, self.max_body_bytes)
        request = MockRequest(
            operation_id="admin",
            method=scope["method"].lower(),
            path_template=match.template,
            path_params=match.params,
            query=_query(scope),
            headers=headers,
            body=parse_json(raw) if raw else None,
            account=account or "",
            auth_kind=auth_kind,
            revision=headers.get(REVISION_HEADER, self.compiled.revision),
            base_url=base_url,
            admin=admin,
        )
        return await route.handler(request)

    async def _operation(
        self,
        served: ServedRevision,
        op: Operation,
        path_params: dict[str, str],
        scope: Scope,
        receive: Receive,
        headers: dict[str, str],
        revision_error: MockError | None,
        seen: _Seen,
    ) -> MockResponse:
        query = _query(scope)
        seen.query = query
        account, auth_kind = authenticate(op, headers, query)
        seen.account, seen.auth_kind = account, auth_kind
        revision = requested_revision(op, headers, served.compiled.revision)
        if revision_error is not None:
            raise revision_error
        check_params(op.params, query, path_params, headers)
        body = await served.bodies.read(op, scope, receive, headers) if op.body is not None else None
        seen.body = body
        length = headers.get("content-length")  # (the server holds a body to it)
        seen.body_bytes = int(length) if body is not None and length and length.isdigit() else None
        base_url = _base_url(scope, headers)
        forced = prefer_code(headers.get("prefer"), op)
        if forced is not None:
            return self._forced(served, op, forced, path_params, base_url, scope)
        if served.behaviours:  # the stateless mock has none: no request object to build
            request = MockRequest(
                operation_id=op.operation_id,
                method=op.method,
                path_template=op.path,
                path_params=path_params,
                query=query,
                headers=headers,
                body=body,
                account=account,
                auth_kind=auth_kind,
                revision=revision,
                base_url=base_url,
                served_revision=served.compiled.revision,
            )
            for behaviour in served.behaviours:
                answer = await behaviour.handle(request)
                if answer is not None:
                    return answer
        return self._generated(served, op, str(op.success), op.success, path_params, base_url, scope)

    def _forced(
        self,
        served: ServedRevision,
        op: Operation,
        status: int,
        path_params: dict[str, str],
        base_url: str,
        scope: Scope,
    ) -> MockResponse:
        if status >= 400:
            code, title = standard_code(status)
            headers = {"Retry-After": "1"} if status == 429 else {}
            return error_response(
                status, f"Simulated by 'Prefer: code={status}'.", code=code, title=title, headers=headers
            )
        key = documented_key(op, status)
        return self._generated(served, op, key or "", status, path_params, base_url, scope)

    def _generated(
        self,
        served: ServedRevision,
        op: Operation,
        key: str,
        status: int,
        path_params: dict[str, str],
        base_url: str,
        scope: Scope,
    ) -> MockResponse:
        path = request_path(scope.get("raw_path"), scope.get("path", ""))
        query = scope.get("query_string", b"").decode("latin-1")
        return served.renderer.response(op, key, status, path_params, base_url, path, query)


@dataclass
class _Seen:
    """What an API request showed before it was answered (or refused): enough to journal it."""

    account: str = ""
    auth_kind: str = "none"
    query: dict[str, str] = field(default_factory=dict)
    body: Any | None = None
    body_bytes: int | None = None  # the body's size as received

    def exchange(self, op: Operation, scope: Scope, response: MockResponse) -> Exchange:
        errors = None
        if response.status >= 400:
            document = response.body
            if document is None and response.raw:
                try:
                    document = json.loads(response.raw)
                except ValueError:
                    document = None
            found = document.get("errors") if isinstance(document, dict) else None
            errors = found if isinstance(found, list) else None
        return Exchange(
            account=self.account,
            auth_kind=self.auth_kind,
            operation_id=op.operation_id,
            method=op.method.upper(),
            path=scope.get("path", ""),
            query=self.query,
            body=self.body,
            body_bytes=self.body_bytes,
            status=response.status,
            errors=errors,
        )


class ServedRevision:
    """One revision the mock serves: its compiled spec, router, body validators, renderer and behaviours."""

    def __init__(self, compiled: CompiledSpec, behaviours: Sequence[Behaviour], max_body_bytes: int) -> None:
        self.compiled = compiled
        self.behaviours = list(behaviours)
        # Behaviours that watch finished exchanges (the journal): an optional `observe`, like `admin_routes`.
        # Without one (the stateless mock) no exchange is built at all.
        self.observers: list[Callable[[Exchange], object]] = [
            observe for b in self.behaviours if callable(observe := getattr(b, "observe", None))
        ]
        self.router = Router(compiled)
        self.bodies = BodyReader(compiled, max_body_bytes)
        self.renderer = Renderer(compiled)
        self._spec_bytes: bytes | None = None

    def spec_response(self, method: str) -> MockResponse:
        """`/openapi.json`: the patched spec of this revision."""
        if method not in ("GET", "HEAD"):
            return MockError(405, f'Method "{method}" not allowed.', headers={"Allow": "GET, HEAD"}).response()
        if self._spec_bytes is None:
            self._spec_bytes = self.compiled.patched_json.read_bytes()
        return MockResponse(200, raw=self._spec_bytes, media_type="application/json")


@functools.lru_cache(maxsize=64)
def _encoded(value: str) -> bytes:
    """A revision or media type as header bytes (a handful of values, sent with every answer)."""
    return value.encode("latin-1")


def json_bytes(value: Any) -> bytes:
    """`value` as compact UTF-8 JSON: orjson (an answer's body in a tenth of the stdlib's time); what orjson
    refuses (non-string keys, integers past 64 bits, lone surrogates) as the stdlib writes it. A non-finite
    float (which JSON cannot hold) is written `null` on both paths, not the stdlib's `Infinity`/`NaN`."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(_finite(value), separators=(",", ":")).encode()


def _finite(value: Any) -> Any:
    """`value` with each non-finite float `null`, as orjson writes it (the stdlib would write `Infinity`)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None


def _query(scope: Scope) -> dict[str, str]:
    raw = scope.get("query_string")
    if not raw:
        return {}
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _base_url(scope: Scope, headers: dict[str, str]) -> str:
    host = headers.get("host")
    if not host:
        server = scope.get("server")
        host = f"{server[0]}:{server[1]}" if server else "localhost"
    return f"{scope.get('scheme', 'http')}://{host}"
