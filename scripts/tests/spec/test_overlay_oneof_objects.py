"""The `oneof-overlapping-objects` overlay fix (added for the mock: such oneOfs reject every valid value)."""

from __future__ import annotations

from typing import Any

from kdk.spec import apply_overlay
from kdk.spec._overlay import FIXES

FIX = [f for f in FIXES if f.name == "oneof-overlapping-objects"]


def _spec(branches: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "openapi": "3.0.2",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "components": {
            "schemas": {
                "A": branches[0],
                "B": branches[1],
                "Holder": {"oneOf": [{"$ref": "#/components/schemas/A"}, {"$ref": "#/components/schemas/B"}]},
            }
        },
    }


def test_indistinguishable_object_branches_become_any_of() -> None:
    same = {"type": "object", "properties": {"use_smart_sending": {"type": "boolean"}}}
    result = apply_overlay(_spec([same, dict(same)]), fixes=FIX)
    assert "anyOf" in result.spec["components"]["schemas"]["Holder"]
    assert result.total == 1
    assert apply_overlay(result.spec, fixes=FIX).total == 0


def test_branches_told_apart_by_a_required_enum_keep_one_of() -> None:
    def resource(kind: str) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {"type": {"type": "string", "enum": [kind]}, "id": {"type": "string"}},
            "required": ["type", "id"],
        }

    result = apply_overlay(_spec([resource("profile"), resource("list")]), fixes=FIX)
    assert "oneOf" in result.spec["components"]["schemas"]["Holder"]
    assert result.total == 0
