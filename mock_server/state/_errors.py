"""The one error type of the stateful layer: backends raise `MockError`; the dispatcher renders it once."""

from __future__ import annotations

from mock_server import MockError, error_object

__all__ = ["MockError", "conflict", "duplicate", "invalid", "not_found"]


def not_found(rtype: str, rid: str) -> MockError:
    return MockError(404, f"A {rtype} with id {rid} does not exist.", code="not_found", title="Not found.")


def invalid(detail: str, *, pointer: str | None = None, parameter: str | None = None) -> MockError:
    return MockError(400, detail, code="invalid", pointer=pointer, parameter=parameter)


def conflict(detail: str, *, pointer: str | None = None) -> MockError:
    return MockError(409, detail, code="conflict", pointer=pointer)


def duplicate(rtype: str, other_id: str) -> MockError:
    """Klaviyo's 409 for a second resource with a unique identifier, naming the existing one."""
    name = rtype.replace("-", "_")
    detail = f"A {rtype} already exists with one of these identifiers."
    error = error_object(
        409,
        detail,
        code=f"duplicate_{name}",
        title="Conflict.",
        pointer="/data/attributes",
        meta={f"duplicate_{name}_id": other_id},
    )
    return MockError(409, detail, errors=[error])
