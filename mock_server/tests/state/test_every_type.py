"""Every creatable resource type, with no per-endpoint code: create from a schema-generated request body,
read it back by id and in its collection, and check each answer against the spec's response schema."""

from __future__ import annotations

from typing import Any

from mock_server import generate_body, id_rules, id_shape_for_example
from mock_server._compile import CompiledSpec
from mock_server.state import Kind, ResourceIndex, StatefulBehaviour

from .conftest import API_KEY, JSONAPI, OAUTH, core_client, response_errors


def _create_ops(index: ResourceIndex) -> list[str]:
    return sorted(op.operation_id for op in index.ops.values() if op.kind is Kind.CREATE)


def _id_problems(spec: dict[str, Any], op_id: str, body: Any, made: dict[str, Any]) -> list[str]:
    """The new resource's id has its type's documented shape, or is built from its attributes as documented."""
    sent = body.get("data") or {}
    if sent.get("id"):
        return []
    rule = id_rules(spec).rule(made["type"])
    related = {
        name: rel["data"]["id"]
        for name, rel in (sent.get("relationships") or {}).items()
        if isinstance(rel, dict) and isinstance(rel.get("data"), dict) and isinstance(rel["data"].get("id"), str)
    }
    built = rule.build(sent.get("attributes") or {}, related)
    if built is not None:
        return [] if made["id"] == built else [f"{op_id}: id {made['id']!r}, built from attributes {built!r}"]
    shape = id_shape_for_example(made["id"])
    return [] if shape == rule.shape else [f"{op_id}: id {made['id']!r} is {shape}, documented {rule.shape}"]


async def test_every_creatable_type_round_trips_schema_valid(
    compiled: CompiledSpec, spec: dict[str, Any], index: ResourceIndex, behaviour: StatefulBehaviour
) -> None:
    problems: list[str] = []
    round_trips = 0
    async with core_client(compiled, behaviour) as client:
        for op_id in _create_ops(index):
            op = index.ops[op_id]
            node = spec["paths"][op.path]["post"]
            schema = next(iter(node["requestBody"]["content"].values()))["schema"]
            body = generate_body(spec, schema, seed=op_id)
            headers = {**(OAUTH if op_id in index.oauth_only else API_KEY), **JSONAPI}
            created = await client.post(op.path, json=body, headers=headers)
            if created.status_code >= 400:
                # The core validated the generated body and refused it, or the request is one the
                # mock rightly refuses (e.g. a duplicate): not this layer's concern here.
                continue
            if created.status_code != op.status:
                problems.append(f"{op_id}: status {created.status_code}, documented {op.status}")
                continue
            problems += [
                f"{op_id}: {e}"
                for e in response_errors(
                    compiled, spec, op.path, "post", op.status, created.json() if created.content else None
                )
            ]
            info = index.types[op.resource_type]
            if created.content:
                problems += _id_problems(spec, op_id, body, created.json()["data"])
            if created.content and info.get_op:
                rid = created.json()["data"]["id"]
                get_op = index.ops[info.get_op]
                path = get_op.path.replace("{" + (get_op.id_param or "id") + "}", rid)
                got = await client.get(path, headers=headers)
                if got.status_code != 200:
                    problems.append(f"{info.get_op}: {got.status_code} {got.text[:200]}")
                    continue
                problems += [
                    f"{info.get_op}: {e}" for e in response_errors(compiled, spec, get_op.path, "get", 200, got.json())
                ]
                round_trips += 1
            if info.list_op:
                list_op = index.ops[info.list_op]
                listed = await client.get(list_op.path, headers=headers)
                if listed.status_code == 200:
                    problems += [
                        f"{info.list_op}: {e}"
                        for e in response_errors(compiled, spec, list_op.path, "get", 200, listed.json())
                    ]
    assert problems == []
    assert round_trips >= 20
