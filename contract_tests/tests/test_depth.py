from __future__ import annotations

from typing import Any

from contract_tests._depth import body_composition_depth, composition_depths
from contract_tests._schemathesis import examples_phase_excluded
from contract_tests.exclusions import EXAMPLES_PHASE_MAX_COMPOSITION_DEPTH, EXCLUSIONS


def _nested(depth: int) -> dict[str, Any]:
    """depth levels, each a property whose schema is oneOf[next level, string]."""
    schemas: dict[str, Any] = {}
    for i in range(depth):
        nxt = {"$ref": f"#/components/schemas/L{i + 1}"}
        schemas[f"L{i}"] = {"type": "object", "properties": {"x": {"oneOf": [nxt, {"type": "string"}]}}}
    schemas[f"L{depth}"] = {"type": "object", "properties": {"leaf": {"type": "string", "nullable": True}}}
    return {"components": {"schemas": schemas}}


def test_each_oneof_layer_counts_once_and_nullable_counts_as_a_layer() -> None:
    spec = _nested(5)
    assert body_composition_depth(spec, {"$ref": "#/components/schemas/L0"}) == 6


def test_cycles_are_cut() -> None:
    spec = {"components": {"schemas": {"A": {"oneOf": [{"$ref": "#/components/schemas/A"}, {"type": "string"}]}}}}
    assert body_composition_depth(spec, {"$ref": "#/components/schemas/A"}) == 1


def test_operations_without_a_body_have_depth_zero() -> None:
    spec = {
        "paths": {"/x": {"get": {"operationId": "get_x", "responses": {}}}},
        "components": {"schemas": {}},
    }
    assert composition_depths(spec) == {"get_x": 0}


def test_rule_selects_the_flow_bodies_on_the_pinned_spec(pinned_spec: dict[str, Any]) -> None:
    depths = composition_depths(pinned_spec)
    assert len(depths) == 345
    excluded = examples_phase_excluded(pinned_spec)
    assert {"create_flow", "update_flow_action"} <= set(excluded)
    # the segment and template bodies are deep too, but their example walk finishes in seconds: kept
    for op in ("create_segment", "update_segment", "create_template", "update_template"):
        assert depths[op] <= EXAMPLES_PHASE_MAX_COMPOSITION_DEPTH, op


def test_every_exclusion_says_why() -> None:
    assert EXCLUSIONS
    for exclusion in EXCLUSIONS:
        assert exclusion.what and exclusion.scope and len(exclusion.reason) > 40
