"""What our templates ask of the generator beyond openapi-python-client's own context: the `kdk` Jinja global."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._prepare import PreparedSpec

__all__ = ["FilterOperator", "PageItem", "ScalarCheck", "TemplateHelpers"]


@dataclass(frozen=True)
class PageItem:
    item_type: str  # Python type of one element of the page's `data` list
    imports: list[str]  # the imports that type needs, for an `if TYPE_CHECKING:` block


@dataclass(frozen=True)
class ScalarCheck:
    types: str  # the Python types a JSON value of the property's type parses to, for isinstance: "int, float"
    name: str  # the JSON type, for the deviation report


# openapi-python-client's property classes whose value is taken as is (no construct): what isinstance accepts.
_SCALARS = {
    "StringProperty": ScalarCheck("str", "string"),
    "IntProperty": ScalarCheck("int", "integer"),
    "FloatProperty": ScalarCheck("int, float", "number"),
    "BooleanProperty": ScalarCheck("bool", "boolean"),
}


@dataclass(frozen=True)
class FilterOperator:
    """One operator of an operation's `x-klaviyo-filters`, as a method of its generated filter builder."""

    operator: str  # as Klaviyo spells it: greater-or-equal
    method: str  # greater_or_equal
    fields: list[str]  # the fields that take it
    value_type: str | None  # Python type of the value (None: the operator takes no value, e.g. has)
    allowed: dict[str, list[str]]  # field -> value kinds ("single", "list", "none")


def _filter_value_type(value: Any) -> str:
    """The Python type a filter value of this JSON schema is given as."""
    if not isinstance(value, dict):
        return "str"
    kind, fmt = value.get("type"), value.get("format")
    if kind == "string" and fmt == "date-time":
        return "datetime.datetime | str"
    if kind == "string" and fmt == "date":
        return "datetime.date | str"
    if kind == "string" and isinstance(value.get("enum"), list):
        return "Literal[" + ", ".join(repr(str(v)) for v in value["enum"]) + "]"
    return {"integer": "int", "number": "float", "boolean": "bool"}.get(str(kind), "str")


# Property classes the generator parses with a construct (models, lists, dates, enums, ...), not as is.
_CONSTRUCTED = frozenset(
    {
        "ModelProperty",
        "ListProperty",
        "DateProperty",
        "DateTimeProperty",
        "EnumProperty",
        "LiteralEnumProperty",
        "ConstProperty",
        "UuidProperty",
        "FileProperty",
        "UnionProperty",
        "NoneProperty",
    }
)


def _text(value: Any) -> str:
    getter = getattr(value, "get_untrusted_value", None)
    return str(getter()) if callable(getter) else str(value)


def _code(value: Any) -> str:
    getter = getattr(value, "as_unembedded_code", None)
    return str(getter()) if callable(getter) else str(value)


class TemplateHelpers:
    """Exposed to every template as `kdk`; small pure functions of the parsed endpoint/model objects."""

    def __init__(self, prepared: PreparedSpec, field_prefix: str = "field_") -> None:
        self._prepared = prepared
        self._field_prefix = field_prefix
        self.revision = prepared.revision

    def operation_module(self, endpoint: Any) -> str:
        """The name of the endpoint's module (and of its method on the resource namespace), as the generator
        names the module file."""
        from openapi_python_client.strings import PythonIdentifier

        return str(PythonIdentifier(_text(endpoint.name), self._field_prefix))

    def is_comma_joined(self, endpoint: Any, prop: Any) -> bool:
        key = (str(endpoint.method).upper(), _text(endpoint.path), _text(prop.name))
        return key in self._prepared.comma_joined

    def filters(self, endpoint: Any) -> list[FilterOperator]:
        """The operators and fields the operation's `filter` accepts (its `x-klaviyo-filters`), one entry per
        operator; [] for an operation without them."""
        method, path = str(endpoint.method).lower(), _text(endpoint.path)
        node = (self._prepared.spec.get("paths", {}).get(path) or {}).get(method) or {}
        table = node.get("x-klaviyo-filters")
        if not isinstance(table, dict):
            return []
        by_operator: dict[str, dict[str, list[str]]] = {}
        types: dict[str, list[str]] = {}
        for name, field_spec in table.items():
            operators = (field_spec or {}).get("operators") or {}
            for kind, names in operators.items():
                for operator in names or []:
                    by_operator.setdefault(operator, {}).setdefault(str(name), []).append(str(kind))
                    if kind != "none":
                        types.setdefault(operator, []).append(_filter_value_type((field_spec or {}).get("value")))
        result = []
        for operator, fields in sorted(by_operator.items()):
            value_types = sorted(set(types.get(operator, [])))
            value_type = None
            if value_types:
                single = " | ".join(value_types)
                has_list = any("list" in kinds for kinds in fields.values())
                value_type = f"{single} | Sequence[{single}]" if has_list else single
            allowed = {field: sorted(kinds) for field, kinds in sorted(fields.items())}
            result.append(FilterOperator(operator, operator.replace("-", "_"), sorted(fields), value_type, allowed))
        return result

    @staticmethod
    def scalar_check(prop: Any) -> ScalarCheck | None:
        """For a string/integer/number/boolean property (taken as is by the generator), what its value must be;
        strict mode reports anything else (a number where a string is documented, null, ...)."""
        return _SCALARS.get(type(prop).__name__)

    @staticmethod
    def union_scalar_check(prop: Any) -> ScalarCheck | None:
        """For a union whose variants the generator takes as is (str | int ...), what its value may be; None when
        a variant accepts anything (Any) or the union has no such variants."""
        inner = [p for p in prop.inner_properties if type(p).__name__ not in _CONSTRUCTED]
        checks = [_SCALARS.get(type(p).__name__) for p in inner]
        if not checks or any(c is None for c in checks):
            return None
        found = [c for c in checks if c is not None]
        types = sorted({t.strip() for c in found for t in c.types.split(",")})
        return ScalarCheck(", ".join(types), " or ".join(sorted({c.name for c in found})))

    @staticmethod
    def success_responses(endpoint: Any) -> list[Any]:
        """2XX responses, in the generator's order; 4XX/5XX become `KlaviyoApiError` instead of return values."""
        result = []
        for response in endpoint.responses.patterns:
            low, high = response.status_code.range
            if low >= 200 and high <= 299:
                result.append(response)
        return result

    def success_type(self, endpoint: Any) -> str:
        types: set[str] = set()
        for response in self.success_responses(endpoint):
            if response.source["return_type"] == "None":
                types.add("None")
            else:
                types.add(_code(response.prop.get_type_string()))
        if not types:
            return "None"
        # `None` last reads naturally (`Model | None`); the rest sorted for stable output.
        return " | ".join(sorted(types - {"None"}) + (["None"] if "None" in types else []))

    def page_item(self, endpoint: Any) -> PageItem | None:
        """For a cursor-paginated GET (a `page[cursor]` query parameter and one JSON 200 answer with a `data`
        list), the item type `paginate()` yields; otherwise None."""
        if str(endpoint.method).lower() != "get":
            return None
        if not any(_text(p.name) == "page[cursor]" for p in endpoint.query_parameters):
            return None
        responses = self.success_responses(endpoint)
        if len(responses) != 1 or responses[0].source["return_type"] == "None":
            return None
        model = responses[0].prop
        props = (getattr(model, "required_properties", None) or []) + (
            getattr(model, "optional_properties", None) or []
        )
        data = next((p for p in props if _text(p.name) == "data"), None)
        inner = getattr(data, "inner_property", None)
        if data is None or inner is None or not data.required:
            return None
        imports = sorted(
            line
            for line in inner.get_imports(prefix="...") | inner.get_lazy_imports(prefix="...")
            if line.startswith("from ...models")
        )
        return PageItem(_code(inner.get_type_string()), imports)
