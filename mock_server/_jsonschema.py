"""OpenAPI 3.0 schemas -> JSON Schema (Draft 4) validators with Klaviyo's formats checked.

OpenAPI 3.0's `nullable` is not JSON Schema: it becomes `"type": [T, "null"]` (or an `anyOf` with null
around a `$ref`/`oneOf`, so `nullable` together with `oneOf` accepts null). References stay references and
resolve against the converted `components`, so recursive schemas (Klaviyo's flow `Step`) are fine.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

__all__ = ["SchemaError", "convert_schema", "make_validator", "schema_errors"]

# Annotations JSON Schema validation does not need (and `readOnly`/`writeOnly` Draft 4 does not know).
_DROPPED = frozenset({"example", "description", "readOnly", "writeOnly", "discriminator", "xml", "externalDocs"})


def convert_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [convert_schema(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or key.startswith("x-") or key == "nullable":
            continue
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: convert_schema(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "not") or key in ("allOf", "anyOf", "oneOf"):
            out[key] = convert_schema(value)
        else:
            out[key] = value
    if node.get("nullable") is True:
        out = _nullable(out)
    return out


def _nullable(out: dict[str, Any]) -> dict[str, Any]:
    kind = out.get("type")
    if isinstance(kind, str) and not any(k in out for k in ("$ref", "oneOf", "anyOf", "allOf")):
        out["type"] = [kind, "null"]
        # An `enum` that omits null still forbids null (OpenAPI 3.0.3; schemathesis' negative_data_rejection and
        # the generated client, which rejects None there, read it the same way): the enum is left as written.
        return out
    return {"anyOf": [out, {"type": "null"}]}


def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value and "t" not in value:
        raise ValueError("not an ISO 8601 date-time")
    datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    return True


def _is_date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


_FORMATS: Any = None


def _format_checker() -> Any:
    """Built on first use: importing jsonschema costs ~0.25 s the mock's start does not need to pay."""
    global _FORMATS
    if _FORMATS is None:
        import jsonschema

        checker = jsonschema.FormatChecker(formats=())
        checker.checks("date-time", raises=ValueError)(_is_date_time)
        checker.checks("date", raises=ValueError)(_is_date)
        _FORMATS = checker
    return _FORMATS


class SchemaError:
    """One validation failure: where in the instance, and why."""

    __slots__ = ("message", "pointer")

    def __init__(self, pointer: str, message: str) -> None:
        self.pointer = pointer
        self.message = message


def make_validator(schema: Any, components: dict[str, Any]) -> Any:
    """A Draft 4 validator for a converted schema whose `$ref`s point into converted `components`."""
    import jsonschema

    root = {"allOf": [schema], "components": components}
    return jsonschema.Draft4Validator(root, format_checker=_format_checker())


def schema_errors(validator: Any, instance: Any, *, limit: int = 10) -> list[SchemaError]:
    found: list[SchemaError] = []
    for error in validator.iter_errors(instance):
        best = _deepest(error)
        pointer = "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in best.absolute_path)
        found.append(SchemaError(pointer or "/", _message(best)))
        if len(found) >= limit:
            break
    return found


def _deepest(error: Any) -> Any:
    """For oneOf/anyOf failures the useful message is in the closest-matching branch."""
    best = error
    while best.context:
        best = max(best.context, key=lambda e: (len(e.absolute_path), -len(e.message)))
        if not best.context:
            break
    return best if len(best.absolute_path) >= len(error.absolute_path) else error


def _message(error: Any) -> str:
    message = str(error.message)
    return message if len(message) <= 300 else message[:297] + "..."
