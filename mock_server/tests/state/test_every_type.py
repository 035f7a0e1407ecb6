"""Every creatable resource type, with no per-endpoint code: create from a schema-generated request body,
read it back by id and in its collection, and check each answer against the spec's response schema."""

from __future__ import annotations

from typing import Any

from kdk.spec import deref
from mock_server import generate_body, id_rules, id_shape_for_example
from mock_server._compile import CompiledSpec
from mock_server.state import Kind, ResourceIndex, StatefulBehaviour

from .conftest import API_KEY, JSONAPI, core_client, response_errors


def _documents_a_body(spec: dict[str, Any], operation: dict[str, Any], status: int) -> bool:
    response = deref(spec, operation["responses"].get(str(status)) or {})
    return bool(response.get("content"))


def _names_missing_related(document: Any) -> bool:
    pointers = [str((e.get("source") or {}).get("pointer") or "") for e in document.get("errors") or []]
    return bool(pointers) and all(p.startswith("/data/relationships/") for p in pointers)


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


def _missing_target(index: ResourceIndex, body: Any, answer: Any) -> str | None:
    """The create operation of the type a 404 says the body's `data.id` names (none for other answers)."""
    sent_id = (body.get("data") or {}).get("id")
    if answer.status_code != 404 or not sent_id:
        return None
    for error in answer.json().get("errors") or []:
        words = str(error.get("detail") or "").split()
        if len(words) > 4 and words[0] == "A" and words[4] == sent_id:
            info = index.types.get(words[1])
            if info and info.creatable:
                return next(
                    (
                        o.operation_id
                        for o in index.ops.values()
                        if o.kind is Kind.CREATE and o.resource_type == info.name
                    ),
                    None,
                )
    return None


async def test_every_creatable_type_round_trips_schema_valid(
    compiled: CompiledSpec, spec: dict[str, Any], index: ResourceIndex, behaviour: StatefulBehaviour
) -> None:
    problems: list[str] = []
    round_trips: set[str] = set()
    expected: set[str] = set()
    async with core_client(compiled, behaviour) as client:
        for op_id in _create_ops(index):
            op = index.ops[op_id]
            node = spec["paths"][op.path]["post"]
            schema = next(iter(node["requestBody"]["content"].values()))["schema"]
            body = generate_body(spec, schema, seed=op_id)
            # One account per operation: an earlier create of the same type cannot make this one a duplicate.
            credentials = f"Bearer token-{op_id}" if op_id in index.oauth_only else f"Klaviyo-API-Key pk_{op_id}"
            headers = {**API_KEY, "Authorization": credentials, **JSONAPI}
            created = await client.post(op.path, json=body, headers=headers)
            missing = _missing_target(index, body, created)
            if missing is not None:
                # A job that acts on an existing resource named by `data.id` (a campaign send job's id is the
                # campaign's): a generated id names nothing, so make one of that type and send the job for it.
                target_op = index.ops[missing]
                target_node = spec["paths"][target_op.path]["post"]
                target_schema = next(iter(target_node["requestBody"]["content"].values()))["schema"]
                target = generate_body(spec, target_schema, seed=missing)
                made_target = await client.post(target_op.path, json=target, headers=headers)
                assert made_target.status_code < 400, made_target.text
                body["data"]["id"] = made_target.json()["data"]["id"]
                created = await client.post(op.path, json=body, headers=headers)
            if created.status_code == 404 and _names_missing_related(created.json()):
                # The generated body names related resources (a tag group, a list) this account does not hold;
                # refusing that is right, so the round trip is made without them.
                body["data"].pop("relationships", None)
                created = await client.post(op.path, json=body, headers=headers)
            info = index.types[op.resource_type]
            if info.get_op and _documents_a_body(spec, node, op.status):
                expected.add(op_id)  # (a 202 with no body, like create_event, has no id to read back)
            if created.status_code >= 400:
                # A schema-generated body for a create the spec documents must be accepted: a refusal here is
                # the mock (or the body generator) disagreeing with the spec.
                problems.append(f"{op_id}: refused with {created.status_code} {created.text[:300]}")
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
                round_trips.add(op_id)
            if info.list_op:
                list_op = index.ops[info.list_op]
                listed = await client.get(list_op.path, headers=headers)
                if listed.status_code == 200:
                    problems += [
                        f"{info.list_op}: {e}"
                        for e in response_errors(compiled, spec, list_op.path, "get", 200, listed.json())
                    ]
    assert problems == []
    # Every creatable type that can be read back was: none may drop out quietly.
    assert sorted(expected - round_trips) == []
    assert expected
