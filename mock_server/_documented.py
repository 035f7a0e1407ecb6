"""Answer only what the operation documents: a documented status, in the media type documented for it.

Klaviyo's revisions differ here: current ones document `application/vnd.api+json` bodies, older ones
`application/json`; most operations document `4XX`/`5XX` ranges, a few only their success status. Whatever
produced a response (validation, a behaviour, fault injection), it leaves the mock through `conform`.
"""

from __future__ import annotations

import json
from typing import Any

from ._compile import Operation, documented_key
from ._types import MockResponse

__all__ = ["UNDOCUMENTED_DETAIL_HEADER", "UNDOCUMENTED_STATUS_HEADER", "conform", "documented_status"]

# When the operation documents no status for an error, the mock answers a documented status and names the
# status it would have sent here, so the error is not silent.
UNDOCUMENTED_STATUS_HEADER = "x-kdk-mock-undocumented-status"
UNDOCUMENTED_DETAIL_HEADER = "x-kdk-mock-error-detail"


def documented_status(op: Operation, status: int) -> int:
    """`status` if `op` documents it (exactly, by range or by `default`), else the nearest documented status.

    Nearest: the lowest explicitly documented code of the same class, then any documented error class (an
    error stays an error), then the success status (an operation that documents no error at all).
    """
    if documented_key(op, status) is not None:
        return status
    explicit = sorted(int(k) for k in op.statuses if k.isdigit())
    same_class = [code for code in explicit if code // 100 == status // 100]
    if same_class:
        return same_class[0]
    if status >= 400:
        for key in sorted(op.statuses):
            if key[0] in "45" and key[1:].isdigit():
                return int(key)
            if key[0] in "45" and key[1:].upper() == "XX":
                return int(key[0]) * 100
    return op.success


def conform(op: Operation, response: MockResponse) -> MockResponse:
    """`response` with a documented status, in the media type documented for it.

    A new response when anything changes: behaviours may hand out responses they keep.
    """
    status = documented_status(op, response.status)
    key = documented_key(op, status)
    media = op.media_types.get(key) if key is not None else None
    headers = response.headers
    if status != response.status:
        headers = {**headers, UNDOCUMENTED_STATUS_HEADER: str(response.status)}
        detail = _error_detail(response)
        if detail:
            headers[UNDOCUMENTED_DETAIL_HEADER] = detail.encode("ascii", "replace").decode()[:500]
    if media is None and status != response.status:  # an error body under a status documented without one
        return MockResponse(status, None, headers, None, response.media_type)
    if media is None:
        # A behaviour's body where the spec documents none (e.g. the stateful 202 of a sent message): kept, in
        # the revision's own JSON media type.
        media = next(iter(op.media_types.values()), None)
        if media is None or response.media_type is not None:
            return response
    if status == response.status and response.media_type is not None:
        return response
    # Built directly, not with `dataclasses.replace` (which inspects the fields on every call): every answer
    # passes here.
    return MockResponse(status, response.body, headers, response.raw, response.media_type or media)


def _error_detail(response: MockResponse) -> str | None:
    body: Any = response.body
    if body is None and response.raw:
        try:
            body = json.loads(response.raw)
        except ValueError:
            return None
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("detail") or "")
    return None
