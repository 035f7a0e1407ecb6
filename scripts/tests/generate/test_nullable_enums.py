"""Nullable enums: typed `X | None`, null parsed and sent back, and the enum classes keep their names.

openapi-python-client ignores `nullable` on an enum, so `from_dict` raised on the nulls Klaviyo sends (a flow's
`trigger_type`, a coupon code's `status`, ...). `_prepare` moves each such enum to a component under the name it
had and refers to it next to a null branch.
"""

from __future__ import annotations

import copy
import importlib
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from kdk.generate import GenerateResult, generate_project
from kdk.generate import _prepare as prepare_module
from kdk.generate._prepare import NullableEnums, PreparedSpec, prepare_spec
from kdk.spec import FIXES, apply_overlay, deref, load_pinned_spec, resolve_pointer

from .conftest import SMALL_SPEC

# (model class, wire name, enum class) of the small spec's nullable enums: a string enum on a component's property,
# one inside a nullable inline object (class `...Type0`), an integer enum with a default in a request body.
SMALL_NULLABLE_ENUMS = [
    ("ProfileAttributes", "status", "ProfileAttributesStatus"),
    ("ProfileAttributesLocationType0", "kind", "ProfileAttributesLocationType0Kind"),
    ("ProfileCreateQueryData", "source", "ProfileCreateQueryDataSource"),
]


def _field_types(source: str, field: str) -> set[str]:
    """The members of a model field's annotation (`    status: A | None | Unset = UNSET` -> {A, None, Unset})."""
    line = next(line for line in source.splitlines() if line.startswith(f"    {field}: "))
    return {part.strip() for part in line.split(":", 1)[1].split("=")[0].split("|")}


def _model_index(package_dir: Path) -> str:
    return (package_dir / "models" / "_index.py").read_text(encoding="utf-8")


def test_prepare_moves_nullable_enums_to_components(small_patched_spec: dict[str, Any]) -> None:
    prepared = prepare_spec(small_patched_spec)
    found = [(e.model, e.property, e.enum) for e in prepared.nullable_enums.fixed]
    assert sorted(found) == sorted(SMALL_NULLABLE_ENUMS)
    assert prepared.nullable_enums.left == []
    schemas = prepared.spec["components"]["schemas"]
    assert schemas["ProfileCreateQueryDataSource"] == {"type": "integer", "enum": [0, 1, 2]}
    source = schemas["ProfileCreateQuery"]["properties"]["data"]["properties"]["source"]
    # what describes the property stays on it; the null branch is the overlay's spelling
    assert source == {
        "anyOf": [{"$ref": "#/components/schemas/ProfileCreateQueryDataSource"}, {"enum": [None]}],
        "default": 1,
    }
    assert "ProfileCreateQueryDataSource" in prepared.schema_names
    # the input is not touched, and a second preparation finds nothing new to do
    assert "ProfileCreateQueryDataSource" not in small_patched_spec["components"]["schemas"]
    assert prepare_spec(prepared.spec).nullable_enums.fixed == []


def test_enum_with_null_among_its_values_is_handled_too(small_patched_spec: dict[str, Any]) -> None:
    spec = copy.deepcopy(small_patched_spec)
    status = spec["components"]["schemas"]["ProfileAttributes"]["properties"]["status"]
    del status["nullable"]
    status["enum"].append(None)
    prepared = prepare_spec(spec)
    assert prepared.spec["components"]["schemas"]["ProfileAttributesStatus"]["enum"] == ["active", "suppressed"]
    assert len(prepared.nullable_enums.fixed) == len(SMALL_NULLABLE_ENUMS)


def test_unreachable_nullable_enum_is_reported_not_renamed(small_patched_spec: dict[str, Any]) -> None:
    spec = copy.deepcopy(small_patched_spec)
    tags = {"type": "array", "items": {"type": "string", "enum": ["a", "b"], "nullable": True}}
    spec["components"]["schemas"]["ProfileAttributes"]["properties"]["tags"] = tags
    prepared = prepare_spec(spec)
    assert prepared.nullable_enums.left == ["#/components/schemas/ProfileAttributes/properties/tags/items"]
    assert prepared.spec["components"]["schemas"]["ProfileAttributes"]["properties"]["tags"] == tags


def test_class_names_are_those_the_generator_gave_inline(
    small_project: GenerateResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Generated without the fix (and without the overlay listing null among the values, which the generator
    would turn into `...Type1` classes), the same models and enums exist under the same names, typed `X | Unset`."""
    monkeypatch.setattr(prepare_module, "_hoist_nullable_enums", lambda spec, field_prefix: NullableEnums([], []))
    fixes = [fix for fix in FIXES if fix.name != "nullable-enum-admits-null"]
    spec = apply_overlay(json.loads(SMALL_SPEC.read_text(encoding="utf-8")), fixes=fixes).spec
    unfixed = generate_project(spec, tmp_path / "klaviyo-client", run_ruff=False)
    assert _model_index(unfixed.package_dir) == _model_index(small_project.package_dir)
    for _, _, enum in SMALL_NULLABLE_ENUMS:
        assert f'"{enum}":' in _model_index(small_project.package_dir)
    before = (unfixed.package_dir / "models" / "profile_attributes.py").read_text(encoding="utf-8")
    after = (small_project.package_dir / "models" / "profile_attributes.py").read_text(encoding="utf-8")
    assert _field_types(before, "status") == {"ProfileAttributesStatus", "Unset"}
    assert _field_types(after, "status") == {"ProfileAttributesStatus", "None", "Unset"}


_ROUND_TRIP = """
from klaviyo_client.models import ProfileAttributes, ProfileCreateQuery, ProfileCreateQueryData

nulls = {"status": None, "location": {"kind": None}}
attributes = ProfileAttributes.from_dict(nulls)
assert attributes.status is None and attributes.location.kind is None, attributes
assert attributes.to_dict() == nulls, attributes.to_dict()

values = {"status": "suppressed", "location": {"kind": "work"}}
attributes = ProfileAttributes.from_dict(values)
assert attributes.status == "suppressed" and attributes.location.kind == "work", attributes
assert attributes.to_dict() == values

assert ProfileAttributes.from_dict({"location": None}).to_dict() == {"location": None}
assert ProfileAttributes.from_dict({}).to_dict() == {}

body = {"data": {"type": "profile", "attributes": {}, "source": None}}
assert ProfileCreateQuery.from_dict(body).data.source is None
assert ProfileCreateQuery.from_dict(body).to_dict() == body
body["data"]["source"] = 2
assert ProfileCreateQuery.from_dict(body).to_dict() == body
assert ProfileCreateQueryData(type_="profile", attributes=ProfileAttributes()).source == 1  # the default survives
print("ok")
"""


def test_small_client_round_trips_null_and_values(small_project: GenerateResult) -> None:
    # In a child interpreter: the full client owns the name `klaviyo_client` in this one.
    done = subprocess.run(
        [sys.executable, "-c", _ROUND_TRIP],
        cwd=small_project.project_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


# --- the client of the pinned spec --------------------------------------------------------------


_NIL_UUID = "00000000-0000-0000-0000-000000000000"


def _minimal(spec: dict[str, Any], schema: Any, depth: int = 0) -> Any:
    """A small valid value for `schema`: required properties only, first branch of a union, first enum value."""
    schema = deref(spec, schema)
    if not isinstance(schema, dict) or depth > 12:
        return None
    if isinstance(schema.get("enum"), list):
        return next(v for v in schema["enum"] if v is not None)
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return _minimal(spec, schema[key][0], depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(_minimal(spec, part, depth + 1) or {})
        return merged
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        return {name: _minimal(spec, properties[name], depth + 1) for name in schema.get("required") or []}
    if kind == "array":
        return []
    if kind == "string":
        formats = {"date-time": "2026-07-15T00:00:00+00:00", "date": "2026-07-15", "uuid": _NIL_UUID}
        return formats.get(str(schema.get("format")), "x")
    return {"integer": 0, "number": 0.0, "boolean": False}.get(str(kind))


@pytest.fixture(scope="module")
def pinned_prepared() -> PreparedSpec:
    return prepare_spec(load_pinned_spec())


def test_every_nullable_enum_of_the_pinned_spec_is_reached(pinned_prepared: PreparedSpec) -> None:
    assert len(pinned_prepared.nullable_enums.fixed) >= 150  # 180 on 2026-07-15
    assert pinned_prepared.nullable_enums.left == []


def test_every_nullable_enum_of_the_pinned_client_round_trips(pinned_prepared: PreparedSpec, kc: ModuleType) -> None:
    """from_dict accepts null and a value of the enum, to_dict sends back what it got; the enum keeps its name."""
    spec, fixed = pinned_prepared.spec, pinned_prepared.nullable_enums.fixed
    models = importlib.import_module(f"{kc.__name__}.models")
    drift = importlib.import_module(f"{kc.__name__}._drift")

    def strict_parse(parse: Any) -> Any:
        return drift.parse_with(True, parse)

    failures: list[str] = []
    for entry in fixed:
        model = getattr(models, entry.model)
        assert hasattr(models, entry.enum), entry.enum
        holder = resolve_pointer(spec, entry.pointer.rsplit("/properties/", 1)[0])
        base = _minimal(spec, holder)
        enum_values = resolve_pointer(spec, f"#/components/schemas/{entry.enum}")["enum"]
        for value in (None, enum_values[0]):
            try:
                # strict: the default parser would keep a null it could not parse (drift tolerance) and hide a bug
                document = {**base, entry.property: value}
                sent = strict_parse(lambda model=model, document=document: model.from_dict(document)).to_dict()
            except Exception as exc:  # collect them all, report together
                failures.append(f"{entry.model}.{entry.property}={value!r}: {exc!r}")
                continue
            if sent.get(entry.property, "missing") != value:
                failures.append(f"{entry.model}.{entry.property}={value!r}: sent back {sent.get(entry.property)!r}")
    assert not failures, failures[:20]
