"""Klaviyo's JSON:API error envelope: `{"errors": [{"id", "status", "code", "title", "detail", "source"}]}`.

Every error the mock sends is built here, so each one is valid against the spec's ClientError/ServerError
schema and carries `application/vnd.api+json` — never problem+json, never a traceback.
"""

from __future__ import annotations

import uuid
from typing import Any

from ._types import MockResponse

__all__ = ["MockError", "error_object", "error_response", "standard_code"]

# status -> (code, title) as Klaviyo words them (its API is DRF-based, so these follow DRF's defaults).
_STANDARD: dict[int, tuple[str, str]] = {
    400: ("invalid", "Invalid input."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("permission_denied", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    406: ("not_acceptable", "Could not satisfy the request Accept header."),
    409: ("conflict", "Conflict."),
    410: ("gone", "Gone."),
    413: ("request_too_large", "Request entity too large."),
    415: ("unsupported_media_type", "Unsupported media type."),
    422: ("unprocessable_entity", "Unprocessable entity."),
    429: ("throttled", "Request was throttled."),
    500: ("error", "A server error occurred."),
    502: ("bad_gateway", "Bad gateway."),
    503: ("service_unavailable", "Service temporarily unavailable."),
    504: ("gateway_timeout", "Gateway timeout."),
}
_ERROR_NAMESPACE = uuid.UUID("6f1c2f0e-5a51-4c36-9a55-4b2f3c7d9e10")


def standard_code(status: int) -> tuple[str, str]:
    """Klaviyo's (code, title) for a status; unknown ones fall back to their class (4xx invalid, 5xx error)."""
    if status in _STANDARD:
        return _STANDARD[status]
    return _STANDARD[500] if status >= 500 else ("error", "Request failed.")


def error_object(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    title: str | None = None,
    pointer: str | None = None,
    parameter: str | None = None,
    meta: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One error object; its id is derived from its content so the same request gets the same body."""
    default_code, default_title = standard_code(status)
    obj: dict[str, Any] = {
        "id": str(uuid.uuid5(_ERROR_NAMESPACE, f"{status}|{code}|{detail}|{pointer}|{parameter}")),
        "status": status,
        "code": code or default_code,
        "title": title or default_title,
        "detail": detail,
        # Klaviyo always names a source; errors not about one field point at the document (`/data/`).
        "source": {"parameter": parameter} if parameter is not None else {"pointer": pointer or "/data/"},
    }
    if meta:
        obj["meta"] = meta
    return obj


def error_response(
    status: int,
    detail: str,
    *,
    code: str | None = None,
    title: str | None = None,
    pointer: str | None = None,
    parameter: str | None = None,
    meta: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> MockResponse:
    """A whole error response (one error); behaviours return this for their own 4xx/5xx."""
    body = {
        "errors": [
            error_object(status, detail, code=code, title=title, pointer=pointer, parameter=parameter, meta=meta)
        ]
    }
    return MockResponse(status, body, dict(headers or {}))


class MockError(Exception):
    """Raised inside the request pipeline; the core turns it into the envelope response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str | None = None,
        title: str | None = None,
        pointer: str | None = None,
        parameter: str | None = None,
        headers: dict[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.headers = dict(headers or {})
        self.errors = errors or [
            error_object(status, detail, code=code, title=title, pointer=pointer, parameter=parameter)
        ]

    def response(self) -> MockResponse:
        return MockResponse(self.status, {"errors": self.errors}, self.headers)
