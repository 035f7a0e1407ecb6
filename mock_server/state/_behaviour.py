"""The stateful behaviour the mock core consults for every request, and its `/__mock__/` admin API."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from mock_server import (
    AdminRoute,
    Exchange,
    MockError,
    MockRequest,
    MockResponse,
    account_for_name,
    admin_refusal,
    error_response,
)

from ._account_settings import (
    AccountSettings,
    SettingsError,
    feature_refusal,
    include_scopes,
    known_scopes,
    read_settings,
    required_scopes,
    scope_refusal,
    write_settings,
)
from ._backends import BODY_LIMITS, ROLLUPS
from ._dispatch import Dispatcher
from ._index import ResourceIndex, build_index
from ._limits import DEFAULT_LIMITS, AccountBound, ResourceLimits, account_limit_response
from ._plan import build_plan
from ._ratelimit import RateLimiter, bucket_store
from ._schema import Spec
from ._seed import SeedError, apply_seed, export_state
from ._store import MemoryStore, Store, json_text
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
    ("get", "/whoami"),
    ("get", "/settings"),
    ("post", "/settings"),
    ("delete", "/settings"),
)
_SCOPED_KINDS = frozenset({"api_key", "oauth"})  # credentials that carry scopes (not a public company id)


class StatefulBehaviour:
    """Answers every operation the index can give state semantics; returns None for the rest."""

    def __init__(
        self,
        spec: Spec,
        store: Store | None = None,
        *,
        rate_limits: bool = False,
        clock: Callable[[], float] = time.time,
        webhooks: WebhookSender | None = None,
        index: ResourceIndex | None = None,
        stateful: bool = True,
        limits: ResourceLimits = DEFAULT_LIMITS,
        configure_store: bool = True,
    ) -> None:
        self.stateful = stateful  # False: only rate limits and the journal (stateless bodies from the core)
        self.index = index or build_index(spec)
        self.store = store or MemoryStore()
        self.limits = limits
        if configure_store:  # False: a store shared with another revision's behaviour, indexed by its plan
            self.store.configure(build_plan(self.index, ROLLUPS))  # what to index comes from the spec
        self.accounts = AccountBound(limits.max_accounts, self.store.accounts)
        self.webhooks = webhooks or WebhookSender(log_limit=limits.webhook_deliveries)
        self.dispatcher = Dispatcher(self.index, self.store, self.webhooks, limits)
        self.scopes = required_scopes(self.index.spec)  # every operation's x-klaviyo-scopes
        self.known_scopes = known_scopes(self.index.spec)
        self.include_scopes = include_scopes(self.index)  # `include=lists` also needs `lists:read`
        self.limiter = (
            RateLimiter(self.index.ratelimits, clock=clock, buckets=bucket_store(self.store, limits.rate_limit_file))
            if rate_limits
            else None
        )

    async def handle(self, request: MockRequest) -> MockResponse | None:
        return await self._answer(request)

    def observe(self, exchange: Exchange) -> None:
        """The journal: every API request of an account with its final status (validation errors, `Prefer:`
        faults and generated answers included) and, for an error, the JSON:API errors it was answered with.
        Bounded per account (`ResourceLimits`): a body larger than `journal_body_bytes` is kept as its size.
        An account past `max_accounts` has no journal (nothing is kept for it)."""
        if not self.accounts.admit(exchange.account):
            return
        body, body_bytes = _journal_body(exchange.body, self.limits.journal_body_bytes, exchange.body_bytes)
        head = {
            "seq": time.time_ns(),
            "time": dt.datetime.now(dt.UTC).isoformat(),
            "account": exchange.account,
            "operation_id": exchange.operation_id,
            "method": exchange.method,
            "path": exchange.path,
            "query": exchange.query,
        }
        tail: dict[str, Any] = {"auth_kind": exchange.auth_kind, "status": exchange.status, "errors": exchange.errors}
        if body_bytes is not None:
            tail["body_omitted"] = {"bytes": body_bytes, "limit": self.limits.journal_body_bytes}
        self.store.append_journal(
            exchange.account,
            _journal_entry(head, body, tail),
            max_entries=self.limits.journal_entries,
            max_bytes=self.limits.journal_bytes,
        )

    async def _answer(self, req: MockRequest) -> MockResponse | None:
        if not self.accounts.admit(req.account):
            return account_limit_response(self.accounts.limit)
        refused = self._refusal(req)
        if refused is not None:
            return refused.response()
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
        if self.store.concurrent:  # round trips and other writers' locks: waited for off the event loop
            return await asyncio.to_thread(self.dispatcher.handle, req)
        return self.dispatcher.handle(req)

    def _refusal(self, req: MockRequest) -> MockError | None:
        """Klaviyo's 403 when the credential lacks a scope the operation needs or the account lacks the
        Conversations feature; None for an account with no settings (full access, every feature on)."""
        if req.auth_kind not in _SCOPED_KINDS:
            return None
        required = self.scopes.get(req.operation_id, ())
        includes = self.include_scopes.get(req.operation_id)
        if includes and req.query.get("include"):
            for name in req.query["include"].split(","):
                required += tuple(s for s in includes.get(name.strip(), ()) if s not in required)
        conversations = req.operation_id in self.index.oauth_only
        if not required and not conversations:
            return None
        with self.store.transaction(write=False) as tx:
            settings = read_settings(tx, req.account)
        if settings is None:
            return None
        if conversations and (refused := feature_refusal(settings, "conversations")):
            return refused
        return scope_refusal(settings, required, req.auth_kind)

    # -- /__mock__/ --------------------------------------------------------------------------------
    def admin_routes(self) -> list[AdminRoute]:
        """Served by the core under /__mock__/ (see README, "Admin endpoints", and mock_server._admin_access):
        each acts on the account of the credentials sent; another account (`?account=`, the body's `account`)
        or every account needs the admin token."""

        def route(method: str, path: str) -> AdminRoute:
            async def handler(req: MockRequest) -> MockResponse:
                try:
                    return await self._admin_call(method.upper(), path, req)
                except MockError as exc:
                    return exc.response()

            return AdminRoute(method, ADMIN_PREFIX + path, handler)

        images = self.dispatcher.backends.images
        # An uploaded image's `image_url`: public, like Klaviyo's CDN (its path holds no credential); HEAD for a
        # client that checks a URL before downloading it (the server drops the body).
        files = [
            AdminRoute(m, images.files_path + "/{account}/{file}", self._image_file, public=True)
            for m in ("get", "head")
        ]
        return [route(method, path) for method, path in _ADMIN_ENDPOINTS] + files

    async def _image_file(self, req: MockRequest) -> MockResponse:
        path = req.path_params
        found = self.dispatcher.backends.images.file(path.get("account", ""), path.get("file", ""))
        if found is None:
            return _admin_error(404, "No uploaded image has this URL.")
        content, media_type = found
        # The URL names its bytes for good (a new upload gets a new URL): a client or proxy may cache it.
        return MockResponse(200, raw=content, media_type=media_type, headers={"cache-control": "public, max-age=86400"})

    async def _admin_call(self, method: str, path: str, req: MockRequest) -> MockResponse:
        body = req.body
        if (method, path) == ("GET", "/whoami"):
            return MockResponse(200, {"account": req.account or None, "auth_kind": req.auth_kind, "admin": req.admin})
        if (method, path) == ("GET", "/accounts"):
            if req.admin:
                return MockResponse(200, {"accounts": self.store.accounts()})
            own = self._account(req, "The list of every account")
            return MockResponse(200, {"accounts": [own] if own in self.store.accounts() else []})
        if (method, path) == ("POST", "/state"):
            return self._load_state(req)
        if path == "/settings":
            return self._settings(method, req)
        if (method, path) == ("POST", "/inbound"):
            account = self._account(req, "Posting a message into another account")
            return self._inbound(account, body)
        what = {
            "/reset": "Resetting every account",
            "/state": "Exporting every account",
            "/journal": "Every account's journal",
            "/webhook-deliveries": "Every account's webhook deliveries",
        }[path]
        target = self._target(req, what)
        if (method, path) == ("POST", "/reset"):
            self.store.reset(target)
            if self.limiter:
                self.limiter.reset(target)
            self.webhooks.forget(target)
            self.accounts.forget(target)
            return MockResponse(200, {"reset": target or "all"})
        if (method, path) == ("GET", "/state"):
            return MockResponse(200, export_state(self.store, target))
        if (method, path) == ("GET", "/journal"):
            raw_limit = req.query.get("limit") or str(self.limits.journal_entries)
            if not raw_limit.isdigit() or int(raw_limit) < 1:
                return _admin_error(400, f"limit must be a positive whole number, not {raw_limit[:40]!r}")
            return MockResponse(200, {"requests": self.store.journal(target, int(raw_limit))})
        if (method, path) == ("DELETE", "/journal"):
            self.store.clear_journal(target)
            return MockResponse(204, None, {})
        return MockResponse(200, {"deliveries": self.webhooks.log(target)})

    def _target(self, req: MockRequest, what: str) -> str | None:
        """The account an admin call acts on; None (every account) only for an admin with no account named."""
        named = req.query.get("account") or (req.body.get("account") if isinstance(req.body, dict) else None)
        if named:
            return self._named(req, named)
        if req.account:
            return req.account
        if req.admin:
            return None
        raise admin_refusal(what)

    def _account(self, req: MockRequest, what: str) -> str:
        """The one account an admin call acts on (never every account)."""
        target = self._target(req, what)
        if target is None:
            raise MockError(400, "Name the account: send its credentials, or `?account=<account id>`.")
        return target

    def _named(self, req: MockRequest, name: Any) -> str:
        account = account_for_name(name) if isinstance(name, str) else None
        if account is None:
            raise MockError(
                400,
                "`account` must be an account id (`acct_` and 20 hex digits, as `GET /__mock__/whoami` shows) or "
                "a credential spelled `api_key:<key>`, `oauth:<token>` or `company:<company_id>`.",
                parameter="account",
            )
        if account != req.account and not req.admin:
            raise admin_refusal("Another account's admin data")
        return account

    def _load_state(self, req: MockRequest) -> MockResponse:
        body = req.body if isinstance(req.body, dict) else {}
        own, named = isinstance(body.get("resources"), list), isinstance(body.get("accounts"), dict)
        settings = body.get("settings")
        own_settings = isinstance(settings, dict) and set(settings) <= {"scopes", "features"}
        if own or (not named and own_settings):
            # The caller's own account (like the pytest plugin's seeds); `settings` are its own settings.
            account = self._account(req, "Loading resources")
            doc: dict[str, Any] = {"accounts": {account: body.get("resources") or []}}
            if settings is not None:
                doc["settings"] = {account: settings}
        elif named or isinstance(settings, dict):
            doc = {"accounts": {self._named(req, name): items for name, items in (body.get("accounts") or {}).items()}}
            if isinstance(settings, dict):
                doc["settings"] = {self._named(req, name): value for name, value in settings.items()}
        else:
            return _admin_error(
                400,
                'Send seed data: `{"accounts": {<account>: [...]}, "settings": {<account>: {...}}}` or '
                '`{"resources": [...], "settings": {...}}`.',
            )
        if not req.admin and not all(self.accounts.admit(account) for account in doc["accounts"]):
            return account_limit_response(self.accounts.limit)
        try:
            loaded = apply_seed(self.index, self.store, doc)
        except (SeedError, KeyError, TypeError) as exc:
            return _admin_error(400, str(exc))
        return MockResponse(200, {"loaded": loaded})

    def _settings(self, method: str, req: MockRequest) -> MockResponse:
        """`GET`/`POST`/`DELETE /__mock__/settings`: the account's key scopes and features (never its key)."""
        account = self._account(req, "Another account's settings")
        with self.store.transaction(write=method != "GET") as tx:
            current = read_settings(tx, account) or AccountSettings()
            if method == "POST":
                if not isinstance(req.body, dict):
                    return _admin_error(400, 'Send JSON: {"scopes": "full" | "read-only" | [...], "features": {...}}.')
                try:
                    current = current.merged(req.body, "settings", self.known_scopes)
                except SettingsError as exc:
                    return _admin_error(400, str(exc))
                write_settings(tx, account, current)
            elif method == "DELETE":
                current = AccountSettings()
                write_settings(tx, account, None)
        return MockResponse(200, {"account": account, **current.to_json()})

    def _inbound(self, account: str, body: Any) -> MockResponse:
        if not isinstance(body, dict):
            return _admin_error(400, "Send JSON with `phone_number`, `body` and optional `channel`/`consent`.")
        phone, text = body.get("phone_number"), body.get("body")
        channel = str(body.get("channel") or "sms").lower()
        if not isinstance(phone, str) or not phone or not isinstance(text, str):
            return _admin_error(400, "`phone_number` and `body` are required strings.")
        if channel not in BODY_LIMITS:
            return _admin_error(400, f"`channel` must be one of {sorted(BODY_LIMITS)}.")
        with self.store.transaction(write=False) as tx:
            settings = read_settings(tx, account)
        if settings is not None and not settings.enabled(channel):
            return _admin_error(
                409, f"This account has {channel} turned off (features.{channel}: false): no customer can write in."
            )
        consent = body.get("consent")
        result = self.dispatcher.backends.conversations.simulate_inbound(
            account,
            phone_number=phone,
            body=text,
            channel=channel,
            consent=consent if isinstance(consent, bool) else None,
        )
        return MockResponse(201, result)


def _journal_body(value: Any, limit: int, received: int | None = None) -> tuple[str, int | None]:
    """(the body's JSON text as the journal keeps it, None) or, when it is larger than `limit` bytes, ("null",
    its size): as received (`received`, its Content-Length), else as JSON. A multipart upload carries bytes:
    those become a short note. The text is the entry's (`_journal_entry`): the body is encoded once."""
    if received is not None and received > limit:
        return "null", received  # (a bulk job's 10,000 resources: not written out again only to be measured)
    try:
        text = json_text(value)  # a JSON body (the common case): the journal's own encoder
    except TypeError:
        text = json.dumps(value, default=_note)
    size = len(text)  # (ASCII JSON: one byte a character)
    return ("null", size) if size > limit else (text, None)


def _note(obj: Any) -> Any:
    """What the journal keeps of a value JSON cannot hold (an upload's bytes)."""
    return f"<{len(obj)} bytes>" if isinstance(obj, bytes | bytearray) else repr(obj)


def _journal_entry(head: dict[str, Any], body: str, tail: dict[str, Any]) -> str:
    """A journal entry's JSON, as `json_text` writes `{**head, "body": ..., **tail}`, with the body's text (already
    encoded, to be measured: `_journal_body`) spliced in rather than encoded a second time."""
    return f'{json_text(head)[:-1]}, "body": {body}, {json_text(tail)[1:]}'


def _admin_error(status: int, detail: str) -> MockResponse:
    return error_response(status, code=None, detail=detail)
