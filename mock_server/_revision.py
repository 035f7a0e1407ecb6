"""The `revision` request header: required (unless the operation says otherwise), shaped YYYY-MM-DD[.pre]."""

from __future__ import annotations

import re

from ._compile import Operation
from ._errors import MockError

__all__ = ["REVISION_HEADER", "requested_revision"]

REVISION_HEADER = "revision"  # response header: the revision this mock served (the spec's info.version)
_REVISION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}(\.pre)?$")


def requested_revision(op: Operation, headers: dict[str, str], default: str) -> str:
    """The revision a request asks for; raises MockError 400 when it is missing (and required) or malformed."""
    value = headers.get(REVISION_HEADER)
    if value is None:
        required = next((p.required for p in op.params if p.name.lower() == REVISION_HEADER), True)
        if required:
            raise MockError(
                400,
                "The 'revision' header is required (format: YYYY-MM-DD or YYYY-MM-DD.pre).",
                code="missing_revision",
                parameter="revision",
            )
        return default
    if not _REVISION_RE.match(value.strip()):
        raise MockError(
            400,
            f"Invalid revision '{value}': expected YYYY-MM-DD or YYYY-MM-DD.pre.",
            code="invalid_revision",
            parameter="revision",
        )
    return value.strip()
