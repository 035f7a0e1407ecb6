"""OpenAPI 3.0 schemas -> JSON Schema (Draft 4) validators with Klaviyo's formats checked.

OpenAPI 3.0's `nullable` is not JSON Schema: it becomes `"type": [T, "null"]` (or an `anyOf` with null
around a `$ref`/`oneOf`, so `nullable` together with `oneOf` accepts null). References stay references and
resolve against the converted `components`, so recursive schemas (Klaviyo's flow `Step`) are fine.

`BodyValidator` is what the mock validates request bodies with: a compiled Rust validator (jsonschema-rs)
answers the common case, a valid body, in about a microsecond; only a body it refuses goes through the Python
validator, which finds the errors (messages and pointers) the mock reports, or accepts the body after all.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

__all__ = ["BodyValidator", "SchemaError", "convert_schema", "make_validator", "schema_errors"]

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


class BodyValidator:
    """`errors(instance)`: what `schema_errors` finds, with the Python validator built and run only for an instance
    the compiled one refuses. The compiled one never decides alone that a body is invalid, so the answer is always
    the Python validator's: where jsonschema-rs is stricter (it also checks formats such as `email`, and its
    regular expressions are ECMA 262), the body is still accepted."""

    def __init__(self, schema: Any, components: dict[str, Any]) -> None:
        self._schema = schema
        self._components = components
        self._python: Any = None
        self._compiled = _compiled_validator(schema, components)

    def errors(self, instance: Any, *, limit: int = 10) -> list[SchemaError]:
        if self._compiled is not None:
            try:
                if self._compiled.is_valid(instance):
                    return []
            except Exception:  # a value Rust cannot hold (an integer past 64 bits): the Python validator decides
                pass
        if self._python is None:
            self._python = make_validator(self._schema, self._components)
        return schema_errors(self._python, instance, limit=limit)


def _compiled_validator(schema: Any, components: dict[str, Any]) -> Any:
    """jsonschema-rs over the schema and only the components it references (compiling all of them would cost
    ~70 ms per operation), with our date and date-time checks; None if it cannot compile the schema."""
    try:
        import jsonschema_rs

        root = {"allOf": [schema], "components": {"schemas": _referenced(schema, components)}}
        formats = {"date-time": _is_format(_is_date_time), "date": _is_format(_is_date)}
        return jsonschema_rs.Draft4Validator(root, formats=formats, validate_formats=True)
    except Exception:  # not installed, or a schema (a pattern) it does not take: the Python validator alone
        return None


def _referenced(schema: Any, components: dict[str, Any]) -> dict[str, Any]:
    """The component schemas `schema` reaches through `#/components/schemas/...` references, transitively."""
    schemas: dict[str, Any] = components.get("schemas") or {}
    found: dict[str, Any] = {}
    pending = _references(schema)
    while pending:
        name = pending.pop()
        if name not in found and name in schemas:
            found[name] = schemas[name]
            pending.extend(_references(schemas[name]))
    return found


def _references(node: Any) -> list[str]:
    names: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                names.append(ref.rsplit("/", 1)[1])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return names


def _is_format(check: Any) -> Any:
    def is_valid(value: Any) -> bool:
        try:
            return bool(check(value))
        except ValueError:
            return False

    return is_valid


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
