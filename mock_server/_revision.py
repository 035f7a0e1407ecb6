"""The `revision` request header: required (unless the operation says otherwise), shaped YYYY-MM-DD[.pre]."""

from __future__ import annotations

import re

from ._compile import Operation
from ._errors import MockError

__all__ = ["REVISION_HEADER", "choose_revision", "requested_revision"]

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


def choose_revision(requested: str | None, loaded: list[str], default: str) -> tuple[str, MockError | None]:
    """Which loaded revision serves a request, per Klaviyo's versioning policy; (revision, error to raise or None).

    Klaviyo serves a date that is not itself a revision with the newest revision released on or before it; a
    beta (`.pre`) is served only as itself. A request without a (well-formed) revision header is routed with
    `default` and gets its 400 from `requested_revision`; a date before every loaded revision, or a beta that
    is not loaded, gets a 400 naming the revisions this mock serves.
    """
    value = (requested or "").strip()
    if not _REVISION_RE.match(value):
        return default, None
    if value in loaded:
        return value, None
    served = ", ".join(sorted(loaded))
    if not value.endswith(".pre"):
        earlier = [r for r in loaded if not r.endswith(".pre") and r <= value]
        if earlier:
            return max(earlier), None
        detail = f"Revision '{value}' is older than every revision this mock serves ({served})."
    else:
        detail = f"Beta revision '{value}' is not served by this mock (it serves {served})."
    return default, MockError(400, detail, code="invalid_revision", parameter="revision")
