"""Check literal values in a spec (`default`, `example`) against the schema they sit in.

Used by the overlay's fixes, whose detectors `kdk spec validate` calls (examples and defaults that fail their
schema, `oneOf` defaults that match several branches), so everything agrees on what "valid" means: OpenAPI 3.0
semantics (Draft 4 core + `nullable`), with local `$ref`s resolved against the whole spec.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["SchemaValueChecker"]

Spec = dict[str, Any]
# A base URI for the spec document so `#/components/...` references resolve against the whole spec,
# whichever subschema a validator starts from.
_SPEC_URI = "urn:kdk:spec"


def _oas30_validator_class() -> Any:
    """Draft 4 (the base of OpenAPI 3.0 schemas) plus `nullable` on `type`, as openapi-schema-validator does.

    Plain jsonschema rather than openapi-schema-validator: same verdicts here, and it imports in a fifth
    of the time (the overlay runs at every mock start and generation)."""
    from jsonschema import Draft4Validator
    from jsonschema.validators import extend

    draft4_type = Draft4Validator.VALIDATORS["type"]

    def nullable_type(validator: Any, types: Any, instance: Any, schema: dict[str, Any]) -> Iterator[Any]:
        if instance is None and schema.get("nullable") is True:
            return
        yield from draft4_type(validator, types, instance, schema)

    return extend(Draft4Validator, {"type": nullable_type})


class SchemaValueChecker:
    """Validate values against subschemas of one spec (references resolve within that spec)."""

    def __init__(self, spec: Spec) -> None:
        from jsonschema import Draft4Validator
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT4

        resource = Resource.from_contents(spec, default_specification=DRAFT4)
        self._resolver = Registry().with_resource(_SPEC_URI, resource).resolver(base_uri=_SPEC_URI)
        self._validator_cls = _oas30_validator_class()
        self._format_checker = Draft4Validator.FORMAT_CHECKER

    def first_error(self, schema: Any, value: Any) -> str | None:
        """The best error message for `value` against `schema`, or None when it is valid."""
        from jsonschema.exceptions import best_match

        validator = self._validator_cls(schema, _resolver=self._resolver, format_checker=self._format_checker)
        try:
            error = best_match(validator.iter_errors(value))
        except Exception as exc:  # a broken $ref inside the schema: say so instead of crashing
            return f"cannot check: {exc}"
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path)
        return f"{error.message} (at {where})" if where else str(error.message)

    def is_valid(self, schema: Any, value: Any) -> bool:
        return self.first_error(schema, value) is None

    def iter_errors(self, schema: Any, value: Any) -> Iterator[Any]:
        """Every jsonschema `ValidationError` of `value` against `schema`, for callers that report each
        failure with its instance path (`kdk proxy`'s drift report)."""
        validator = self._validator_cls(schema, _resolver=self._resolver, format_checker=self._format_checker)
        yield from validator.iter_errors(value)
