"""The stateful behaviour the mock core consults for every request, and its `/__mock__/` admin API."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from mock_server import AdminRoute, Exchange, MockRequest, MockResponse, error_response

from ._backends import BODY_LIMITS
from ._dispatch import Dispatcher
from ._index import ResourceIndex, build_index
from ._plan import build_plan
from ._ratelimit import RateLimiter
from ._schema import Spec
from ._seed import SeedError, apply_seed, export_state
from ._store import MemoryStore, Store
from ._webhooks import WebhookSender

__all__ = ["ADMIN_PREFIX", "StatefulBehaviour"]

ADMIN_PREFIX = "/__mock__"
_ADMIN_ENDPOINTS = (
    ("post", "/reset"),
    ("get", "/state"),
    ("post", "/state"),
    ("get", "/accounts"),
    ("get", "/journal"),
    ("delete", "/journal"),
    ("get", "/webhook-deliveries"),
    ("post", "/inbound"),
)


class StatefulBehaviour:
    """Answers every operation the index can give state semantics; returns None for the rest."""

    def __init__(
        self,
        spec: Spec,
        store: Store | None = None,
        *,
        rate_limits: bool = False,
        clock: Callable[[], float] = time.monotonic,
        webhooks: WebhookSender | None = None,
        index: ResourceIndex | None = None,
        stateful: bool = True,
    ) -> None:
        self.stateful = stateful  # False: only rate limits and the journal (stateless bodies from the core)
        self.index = index or build_index(spec)
        self.store = store or MemoryStore()
        self.store.configure(build_plan(self.index))  # what to index comes from the spec
        self.webhooks = webhooks or WebhookSender()
        self.dispatcher = Dispatcher(self.index, self.store, self.webhooks)
        self.limiter = RateLimiter(self.index.ratelimits, clock=clock) if rate_limits else None

    async def handle(self, request: MockRequest) -> MockResponse | None:
        return await self._answer(request)

    def observe(self, exchange: Exchange) -> None:
        """The journal: every API request of an account with its final status (validation errors, `Prefer:`
        faults and generated answers included) and, for an error, the JSON:API errors it was answered with."""
        self.store.append_journal(
            exchange.account,
            {
                "seq": time.time_ns(),
                "time": dt.datetime.now(dt.UTC).isoformat(),
                "account": exchange.account,
                "operation_id": exchange.operation_id,
                "method": exchange.method,
                "path": exchange.path,
                "query": exchange.query,
                "body": _jsonable(exchange.body),
                "auth_kind": exchange.auth_kind,
                "status": exchange.status,
                "errors": exchange.errors,
            },
        )

    async def _answer(self, req: MockRequest) -> MockResponse | None:
        if self.limiter is not None:
            throttled = self.limiter.take(req.account, req.operation_id)
            if throttled:
                return error_response(
                    429,
                    code="throttled",
                    detail=f"Request was throttled. Expected available in {throttled.retry_after} second"
                    f"{'s' if throttled.retry_after != 1 else ''}.",
                    headers={"retry-after": str(throttled.retry_after)},
                )
        if not self.stateful:
            return None
        return self.dispatcher.handle(req)

    # -- /__mock__/ --------------------------------------------------------------------------------
    def admin_routes(self) -> list[AdminRoute]:
        """Served by the core under /__mock__/; the account is `?account=`, else the body's `account`,
        else the tenant of the credentials sent (the same header an API call would carry)."""

        def route(method: str, path: str) -> AdminRoute:
            async def handler(req: MockRequest) -> MockResponse:
                query = dict(req.query)
                from_body = req.body.get("account") if isinstance(req.body, dict) else None
                if not query.get("account") and not from_body and req.account:
                    query["account"] = req.account
                return await self.admin(method, path, query, req.body)

            return AdminRoute(method, ADMIN_PREFIX + path, handler)

        return [route(method, path) for method, path in _ADMIN_ENDPOINTS]

    async def admin(self, method: str, path: str, query: dict[str, str], body: Any) -> MockResponse:
        """The admin API; `path` is what follows `/__mock__` (e.g. `/reset`)."""
        method = method.upper()
        route = path.rstrip("/") or "/"
        account = query.get("account") or (body.get("account") if isinstance(body, dict) else None)
        json_headers: dict[str, str] = {}  # the core sends its own content type
        if (method, route) == ("POST", "/reset"):
            self.store.reset(account)
            if self.limiter:
                self.limiter.reset(account)
            return MockResponse(200, {"reset": account or "all"}, json_headers)
        if (method, route) == ("GET", "/state"):
            return MockResponse(200, export_state(self.store, account), json_headers)
        if (method, route) == ("POST", "/state"):
            try:
                loaded = apply_seed(self.index, self.store, body if isinstance(body, dict) else {})
            except (SeedError, KeyError, TypeError) as exc:
                return _admin_error(400, str(exc))
            return MockResponse(200, {"loaded": loaded}, json_headers)
        if (method, route) == ("GET", "/accounts"):
            return MockResponse(200, {"accounts": self.store.accounts()}, json_headers)
        if (method, route) == ("GET", "/journal"):
            raw_limit = query.get("limit") or "1000"
            if not raw_limit.isdigit() or int(raw_limit) < 1:
                return _admin_error(400, f"limit must be a positive whole number, not {raw_limit[:40]!r}")
            limit = int(raw_limit)
            return MockResponse(200, {"requests": self.store.journal(account, limit)}, json_headers)
        if (method, route) == ("DELETE", "/journal"):
            self.store.clear_journal(account)
            return MockResponse(204, None, {})
        if (method, route) == ("GET", "/webhook-deliveries"):
            deliveries = [d for d in self.webhooks.deliveries if account in (None, d["account"])]
            return MockResponse(200, {"deliveries": deliveries}, json_headers)
        if (method, route) == ("POST", "/inbound"):
            return self._inbound(account, body)
        return _admin_error(404, f"No admin endpoint {method} {ADMIN_PREFIX}{route}.")

    def _inbound(self, account: str | None, body: Any) -> MockResponse:
        if not isinstance(body, dict) or not account:
            return _admin_error(
                400, "Send JSON with `account`, `phone_number`, `body` and optional `channel`/`consent`."
            )
        phone, text = body.get("phone_number"), body.get("body")
        channel = str(body.get("channel") or "sms").lower()
        if not isinstance(phone, str) or not phone or not isinstance(text, str):
            return _admin_error(400, "`phone_number` and `body` are required strings.")
        if channel not in BODY_LIMITS:
            return _admin_error(400, f"`channel` must be one of {sorted(BODY_LIMITS)}.")
        consent = body.get("consent")
        result = self.dispatcher.backends.conversations.simulate_inbound(
            account,
            phone_number=phone,
            body=text,
            channel=channel,
            consent=consent if isinstance(consent, bool) else None,
        )
        return MockResponse(201, result)


def _jsonable(value: Any) -> Any:
    """The body as JSON can hold it (a multipart upload carries bytes: those become a short note)."""

    def note(obj: Any) -> Any:
        if isinstance(obj, bytes | bytearray):
            return f"<{len(obj)} bytes>"
        return repr(obj)

    return json.loads(json.dumps(value, default=note))


def _admin_error(status: int, detail: str) -> MockResponse:
    return error_response(status, code=None, detail=detail)
