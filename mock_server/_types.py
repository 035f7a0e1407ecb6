"""The seam between the stateless mock core and the stateful behaviour layer.

The core (routing, auth, validation, errors, generated bodies) turns each validated request into a
`MockRequest`; behaviours (`Behaviour.handle`) may answer it, or return None to let the core answer
with a schema-generated body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["AdminHandler", "AdminRoute", "Behaviour", "Exchange", "MockRequest", "MockResponse"]


@dataclass
class MockRequest:
    operation_id: str
    method: str  # lower case
    path_template: str  # as in the spec, e.g. "/api/profiles/{id}"
    path_params: dict[str, str]
    query: dict[str, str]  # wire names and raw values, e.g. {"fields[profile]": "email,first_name"}
    headers: dict[str, str]  # lower-cased names
    body: Any | None  # parsed JSON (or None)
    account: str  # tenant: the opaque id of its API key / OAuth token / company_id (see _auth.account_id)
    auth_kind: str  # "api_key", "oauth" or "none"
    revision: str  # as the client sent it
    base_url: str  # e.g. "http://127.0.0.1:4010", for links
    served_revision: str = ""  # the loaded revision answering it (a mock may serve several; see _revision.py)
    admin: bool = False  # admin routes only: the request may act on every account (see _admin_access.py)


@dataclass
class MockResponse:
    """The one response shape of the mock: behaviours, admin routes, errors and generated bodies all return it.

    `body` is a JSON value (serialized by the core); `raw` is an already-serialized body (the core's render cache)
    and wins over `body`. `media_type` defaults to the one the operation documents for `status`.
    """

    status: int
    body: Any | None = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    media_type: str | None = None


class Behaviour(Protocol):
    async def handle(self, request: MockRequest) -> MockResponse | None: ...


@dataclass
class Exchange:
    """A finished API request of a known account, as the journal keeps it: what came in, and the final answer
    after every check, fault and documented-status rule of the core (a 400 from validation, a `Prefer:` fault,
    a generated body). A behaviour sees it through an optional `observe(exchange)` method."""

    account: str
    auth_kind: str
    operation_id: str
    method: str  # upper case
    path: str  # as requested, without the query
    query: dict[str, str]
    body: Any | None  # the parsed request body, when it was read and parsed
    status: int
    errors: list[Any] | None = None  # the JSON:API `errors` of a 4xx/5xx answer
    body_bytes: int | None = None  # the request body's size as received (its Content-Length), when known


AdminHandler = Callable[[MockRequest], Awaitable[MockResponse]]


@dataclass
class AdminRoute:
    """An extra endpoint under `/__mock__/` (reset, export, journal, simulate...).

    `path` starts with `/__mock__/` and may hold `{name}` segments (they arrive in `path_params`). The handler
    gets a MockRequest with `operation_id` "admin", the parsed JSON body (unvalidated), the tenant of the
    credentials if any were sent (else account "") and `admin` (the admin token was sent, or the admin API is
    open): the handler decides what a caller may see. State-changing cross-site requests never reach it.
    A behaviour offers routes through an optional `admin_routes() -> list[AdminRoute]` method;
    `create_app(admin_routes=[...])` takes more.
    """

    method: str  # lower case
    path: str
    handler: AdminHandler
    public: bool = False  # served without looking at credentials or the admin token (the inspector's files)
