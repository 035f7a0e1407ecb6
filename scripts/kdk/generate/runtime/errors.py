"""What a call raises: one hierarchy, rooted at `KlaviyoError`; no raw httpx exception leaks out of a call.

```
KlaviyoError
├── APIConnectionError            the request did not get an answer (DNS, refused, reset, TLS, ...)
│   └── APITimeoutError           ... because it took longer than the timeout
├── APIStatusError (KlaviyoApiError)   the API answered 4XX/5XX; one subclass per status
│   ├── BadRequestError 400, AuthenticationError 401, PermissionDeniedError 403, NotFoundError 404,
│   ├── MethodNotAllowedError 405, ConflictError 409, PayloadTooLargeError 413,
│   ├── UnsupportedMediaTypeError 415, RateLimitError 429 (`retry_after`), InternalServerError 5XX
├── UnexpectedStatus              an undocumented non-error status
└── ResponseValidationError       strict parsing: the answer deviates from the spec
```
Every status error carries the parsed JSON:API `errors`, the `request_id` and the raw `response`.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._retry_policy import parse_retry_after

if TYPE_CHECKING:
    import httpx

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "ApiErrorDetail",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "InternalServerError",
    "KlaviyoApiError",
    "KlaviyoError",
    "MethodNotAllowedError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitError",
    "ResponseValidationError",
    "UnexpectedStatus",
    "UnsupportedMediaTypeError",
    "parse_error_list",
]

# Response headers that carry the id of the request on Klaviyo's side (the first one present wins).
REQUEST_ID_HEADERS = ("x-klaviyo-request-id", "x-request-id", "cf-ray")


@dataclass(frozen=True)
class ApiErrorDetail:
    """One entry of a JSON:API `errors` array (https://jsonapi.org/format/#error-objects)."""

    status: int | None
    code: str | None
    title: str | None
    detail: str | None
    source_pointer: str | None = None
    source_parameter: str | None = None
    id: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ApiErrorDetail:
        source = data.get("source")
        source = source if isinstance(source, dict) else {}
        return cls(
            status=_as_int(data.get("status")),
            code=_as_str(data.get("code")),
            title=_as_str(data.get("title")),
            detail=_as_str(data.get("detail")),
            source_pointer=_as_str(source.get("pointer")),
            source_parameter=_as_str(source.get("parameter")),
            id=_as_str(data.get("id")),
        )


class KlaviyoError(Exception):
    """Base of every error this client raises."""


class APIConnectionError(KlaviyoError):
    """No answer: the connection failed or broke (after the retries the policy allows)."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request | None = None) -> None:
        self.request = request
        super().__init__(message)


class APITimeoutError(APIConnectionError):
    """No answer within the timeout (after the retries the policy allows)."""

    def __init__(self, message: str = "Request timed out.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class KlaviyoApiError(KlaviyoError):
    """The API answered 4XX or 5XX (`APIStatusError` is the same class).

    `errors` is the parsed JSON:API error list (empty when the body is not JSON:API); `response` is the raw
    answer; `request_id` comes from the response headers or, failing that, the first error's `id`.
    """

    def __init__(self, status_code: int, errors: list[ApiErrorDetail], response: httpx.Response | None = None) -> None:
        self.status_code = status_code
        self.errors = errors
        self.response = response
        self.request_id = _request_id(response, errors)
        super().__init__(self._message())

    @classmethod
    def from_response(cls, response: httpx.Response) -> KlaviyoApiError:
        """The subclass for the response's status (`KlaviyoApiError` itself for an unlisted one)."""
        status = response.status_code
        kind = _BY_STATUS.get(status) or (InternalServerError if status >= 500 else KlaviyoApiError)
        return kind(status, parse_error_list(response.content), response)

    @property
    def first(self) -> ApiErrorDetail | None:
        return self.errors[0] if self.errors else None

    def _message(self) -> str:
        if not self.errors:
            return f"HTTP {self.status_code}"
        parts = []
        for error in self.errors:
            text = " - ".join(p for p in (error.code, error.title, error.detail) if p)
            if error.source_pointer:
                text += f" (at {error.source_pointer})"
            elif error.source_parameter:
                text += f" (parameter {error.source_parameter})"
            parts.append(text)
        return f"HTTP {self.status_code}: " + "; ".join(parts)


APIStatusError = KlaviyoApiError


class BadRequestError(KlaviyoApiError):
    """400: the request is malformed or invalid (see `errors[i].source_pointer`)."""


class AuthenticationError(KlaviyoApiError):
    """401: missing or invalid API key / OAuth token."""


class PermissionDeniedError(KlaviyoApiError):
    """403: the key lacks a scope the operation needs."""


class NotFoundError(KlaviyoApiError):
    """404: no such resource."""


class MethodNotAllowedError(KlaviyoApiError):
    """405: the path does not accept this method."""


class ConflictError(KlaviyoApiError):
    """409: the resource exists already or changed meanwhile."""


class PayloadTooLargeError(KlaviyoApiError):
    """413: the body is larger than the API accepts."""


class UnsupportedMediaTypeError(KlaviyoApiError):
    """415: wrong Content-Type."""


class RateLimitError(KlaviyoApiError):
    """429: rate limited (after the retries the policy allows). `retry_after`: seconds the API asked to wait."""

    @property
    def retry_after(self) -> float | None:
        if self.response is None:
            return None
        return parse_retry_after(self.response.headers.get("Retry-After"), now=time.time())


class InternalServerError(KlaviyoApiError):
    """5XX: the API failed (after the retries the policy allows)."""


_BY_STATUS: dict[int, type[KlaviyoApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    429: RateLimitError,
}


class UnexpectedStatus(KlaviyoError):  # noqa: N818 - openapi-python-client's name, kept for callers
    """The API answered a status code the spec does not document for this operation (and it is not an error)."""

    def __init__(self, status_code: int, content: bytes) -> None:
        self.status_code = status_code
        self.content = content
        super().__init__(
            f"Unexpected status code: {status_code}\n\nResponse content:\n{content.decode(errors='ignore')}"
        )


class ResponseValidationError(KlaviyoError):
    """Strict parsing only: the answer deviates from the spec. `deviations` lists each one (`where: what`)."""

    def __init__(self, deviations: list[str]) -> None:
        self.deviations = deviations
        super().__init__("response deviates from the spec: " + "; ".join(deviations))


def parse_error_list(body: bytes) -> list[ApiErrorDetail]:
    """The `errors` array of a JSON:API error document; [] for anything else (HTML error pages, empty bodies)."""
    try:
        document = json.loads(body)
    except ValueError:
        return []
    if not isinstance(document, dict) or not isinstance(document.get("errors"), list):
        return []
    return [ApiErrorDetail.from_dict(item) for item in document["errors"] if isinstance(item, dict)]


def _request_id(response: httpx.Response | None, errors: list[ApiErrorDetail]) -> str | None:
    if response is not None:
        for name in REQUEST_ID_HEADERS:
            value = response.headers.get(name)
            if value:
                return str(value)
    return next((e.id for e in errors if e.id), None)


def _as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _as_int(value: object) -> int | None:
    # JSON:API says `status` is a string ("404"); be lenient and accept a number too.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None
