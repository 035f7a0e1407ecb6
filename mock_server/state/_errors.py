"""Errors of the stateful layer, in Klaviyo's envelope: a thin door onto the core's one builder."""

from __future__ import annotations

from typing import Any

from .._errors import error_response as _core_error_response
from .._types import MockResponse

__all__ = ["error_response"]


def error_response(
    status: int,
    code: str | None,
    detail: str,
    *,
    title: str | None = None,
    pointer: str | None = None,
    parameter: str | None = None,
    meta: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> MockResponse:
    """One error (`errors[0]` has id/status/code/title/detail/source[/meta]) as a JSON:API response."""
    return _core_error_response(
        status,
        detail,
        code=code,
        title=title,
        pointer=pointer,
        parameter=parameter,
        meta=meta,
        headers=headers,
    )
