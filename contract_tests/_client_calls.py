"""Calling any operation of the generated client with arguments drawn from the spec.

Maps an operationId to its endpoint module (`klaviyo_client.api.<tag>.<operation_id>`), its required Python
arguments to the spec's parameters (names compared without punctuation: `fields_profile` is
`fields[profile]`, `filter_` is `filter`), and the `body` argument to its model, built with `from_dict` from
a value drawn for the request body schema.
"""

from __future__ import annotations

import importlib
import inspect
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from hypothesis import strategies as st

from ._strategies import values_for

__all__ = ["EndpointCall", "arguments", "endpoint_calls", "endpoint_module"]

Spec = dict[str, Any]


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@dataclass(frozen=True)
class EndpointCall:
    operation_id: str
    method: str
    path: str
    module_name: str
    parameters: dict[str, dict[str, Any]]  # normalised name -> spec parameter
    body_schema: dict[str, Any] | None
    body_media: str | None
    bodiless_success: frozenset[int]  # documented 2xx statuses without content (202/204: nothing to parse)
    error_statuses: tuple[int, ...]  # documented error statuses (ranges such as 4XX as 400, 5XX as 500)


def endpoint_module(package_dir: Path, operation_id: str) -> str | None:
    found = sorted(package_dir.glob(f"api/*/{operation_id}.py"))
    return f"klaviyo_client.api.{found[0].parent.name}.{operation_id}" if found else None


def endpoint_calls(spec: Spec, package_dir: Path) -> list[EndpointCall]:
    from kdk.spec import deref, iter_operations, operation_parameters

    calls = []
    for op in iter_operations(spec):
        module = endpoint_module(package_dir, op.operation_id)
        if module is None:
            continue
        params = {_norm(str(p.get("name"))): p for p in operation_parameters(spec, op) if p.get("in") != "header"}
        body = deref(spec, op.node.get("requestBody") or {})
        media, schema = None, None
        for name, holder in (body.get("content") or {}).items():
            media, schema = name, (holder or {}).get("schema")
            break
        responses = op.node.get("responses") or {}
        bodiless = frozenset(
            int(code)
            for code, answer in responses.items()
            if str(code).isdigit() and str(code).startswith("2") and not (deref(spec, answer) or {}).get("content")
        )
        errors = tuple(sorted({_status(code) for code in responses if str(code)[0] in "45"}))
        calls.append(EndpointCall(op.operation_id, op.method, op.path, module, params, schema, media, bodiless, errors))
    return calls


def _status(code: Any) -> int:
    text = str(code).upper()
    return int(text[0]) * 100 if text.endswith("XX") else int(text)


def arguments(spec: Spec, call: EndpointCall, draw: Any) -> tuple[ModuleType, dict[str, Any]]:
    """The endpoint module and keyword arguments for a valid call (required arguments only)."""
    module = importlib.import_module(call.module_name)
    function = module.sync_detailed
    hints = typing.get_type_hints(function, vars(module))
    kwargs: dict[str, Any] = {}
    for name, parameter in inspect.signature(function).parameters.items():
        if name == "client" or parameter.default is not inspect.Parameter.empty:
            continue
        if name == "body":
            kwargs["body"] = _body(spec, call, hints["body"], draw)
            continue
        spec_param = call.parameters.get(_norm(name))
        if spec_param is None:
            raise LookupError(f"{call.operation_id}: no spec parameter for argument {name!r}")
        kwargs[name] = _parameter_value(spec, spec_param, hints.get(name), draw)
    return module, kwargs


def _parameter_value(spec: Spec, parameter: dict[str, Any], hint: Any, draw: Any) -> Any:
    schema = parameter.get("schema") or {"type": "string"}
    example = parameter.get("example", schema.get("example"))
    value = example if example is not None else draw(values_for(spec, schema))
    if parameter.get("in") == "path":
        value = str(value) if value not in (None, "") else "abc123"
    return value


def _body(spec: Spec, call: EndpointCall, hint: Any, draw: Any) -> Any:
    value = draw(values_for(spec, call.body_schema or {}))
    model = _model_class(hint)
    if model is None or not hasattr(model, "from_dict"):
        return value
    return model.from_dict(value)


def _model_class(hint: Any) -> Any:
    if inspect.isclass(hint):
        return hint
    for arg in typing.get_args(hint):
        if inspect.isclass(arg) and hasattr(arg, "from_dict"):
            return arg
    return None


def draw_from(strategy: st.SearchStrategy[Any]) -> Any:  # pragma: no cover - convenience for debugging
    return strategy.example()
