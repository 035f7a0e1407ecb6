"""Flows (definition -> actions and messages, status updates) and templates (render, clone, CRUD)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from mock_server import id_shape_for_example
from mock_server._compile import CompiledSpec
from mock_server.state._backends._templates import render_text

from .conftest import API_KEY, JSONAPI, list_body, response_errors

H = {**API_KEY, **JSONAPI}
DEFINITION = {"additional-fields[flow]": "definition"}


def flow_body(list_id: str) -> dict[str, Any]:
    email = {
        "from_email": "shop@example.com",
        "from_label": "Shop",
        "subject_line": "Welcome",
        "preview_text": "",
        "template_id": None,
        "smart_sending_enabled": True,
        "transactional": False,
        "add_tracking_params": False,
        "name": "Welcome email",
    }
    return {
        "data": {
            "type": "flow",
            "attributes": {
                "name": "Welcome series",
                "definition": {
                    "triggers": [{"type": "list", "id": list_id}],
                    "profile_filter": None,
                    "entry_action_id": "wait",
                    "actions": [
                        {
                            "temporary_id": "wait",
                            "type": "time-delay",
                            "links": {"next": "hello"},
                            "data": {"unit": "days", "value": 1, "timezone": "profile"},
                        },
                        {
                            "temporary_id": "hello",
                            "type": "send-email",
                            "links": {"next": None},
                            "data": {"message": email, "status": "draft"},
                        },
                    ],
                },
            },
        }
    }


async def _flow(client: httpx.AsyncClient) -> tuple[str, str]:
    list_id = (await client.post("/api/lists", json=list_body("Newsletter"), headers=H)).json()["data"]["id"]
    created = await client.post("/api/flows", json=flow_body(list_id), headers=H)
    assert created.status_code == 201, created.text
    return created.json()["data"]["id"], list_id


async def test_create_flow_makes_actions_and_messages(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    fid, list_id = await _flow(client)
    assert id_shape_for_example(fid) == "short"
    flow = (await client.get(f"/api/flows/{fid}", headers=API_KEY)).json()["data"]
    assert flow["attributes"]["status"] == "draft"
    assert flow["attributes"]["trigger_type"] == "Added to List"
    assert "definition" not in flow["attributes"]  # only on request

    full = await client.get(f"/api/flows/{fid}", params=DEFINITION, headers=API_KEY)
    assert response_errors(compiled, spec, "/api/flows/{id}", "get", 200, full.json()) == []
    definition = full.json()["data"]["attributes"]["definition"]
    wait, hello = definition["actions"]
    # Temporary ids became real ones, everywhere the definition names them.
    assert "temporary_id" not in wait and re.fullmatch(r"[0-9]+", wait["id"])
    assert definition["entry_action_id"] == wait["id"] and wait["links"]["next"] == hello["id"]

    actions = await client.get(f"/api/flows/{fid}/flow-actions", headers=API_KEY)
    assert [a["id"] for a in actions.json()["data"]] == [wait["id"], hello["id"]]
    ids = await client.get(f"/api/flows/{fid}/relationships/flow-actions", headers=API_KEY)
    assert [r["id"] for r in ids.json()["data"]] == [wait["id"], hello["id"]]
    back = await client.get(f"/api/flow-actions/{hello['id']}/flow", headers=API_KEY)
    assert back.json()["data"]["id"] == fid
    messages = await client.get(f"/api/flow-actions/{hello['id']}/flow-messages", headers=API_KEY)
    [message] = messages.json()["data"]
    assert message["attributes"]["channel"] == "email"
    assert message["attributes"]["definition"]["subject_line"] == "Welcome"
    owner = await client.get(f"/api/flow-messages/{message['id']}/flow-action", headers=API_KEY)
    assert owner.json()["data"]["id"] == hello["id"]
    assert (await client.get(f"/api/flow-actions/{wait['id']}/flow-messages", headers=API_KEY)).json()["data"] == []
    triggered = await client.get(f"/api/lists/{list_id}/flow-triggers", headers=API_KEY)
    assert [f["id"] for f in triggered.json()["data"]] == [fid]


async def test_flow_status_updates_persist_to_the_flow_and_its_actions(client: httpx.AsyncClient) -> None:
    fid, _ = await _flow(client)
    for status in ("live", "manual", "draft"):
        body = {"data": {"type": "flow", "id": fid, "attributes": {"status": status}}}
        updated = await client.patch(f"/api/flows/{fid}", json=body, headers=H)
        assert updated.status_code == 200, updated.text
        assert (await client.get(f"/api/flows/{fid}", headers=API_KEY)).json()["data"]["attributes"]["status"] == status
        actions = (await client.get(f"/api/flows/{fid}/flow-actions", headers=API_KEY)).json()["data"]
        assert {a["attributes"]["definition"]["data"]["status"] for a in actions} == {status}
    listed = await client.get("/api/flows", params={"filter": "equals(status,'draft')"}, headers=API_KEY)
    assert [f["id"] for f in listed.json()["data"]] == [fid]
    bad = {"data": {"type": "flow", "id": fid, "attributes": {"status": "paused"}}}
    refused = await client.patch(f"/api/flows/{fid}", json=bad, headers=H)
    assert refused.status_code == 400 and refused.json()["errors"][0]["source"]["pointer"] == "/data/attributes/status"


async def test_deleting_a_flow_deletes_its_actions_and_messages(client: httpx.AsyncClient) -> None:
    fid, _ = await _flow(client)
    actions = (await client.get(f"/api/flows/{fid}/flow-actions", headers=API_KEY)).json()["data"]
    assert (await client.delete(f"/api/flows/{fid}", headers=API_KEY)).status_code == 204
    for action in actions:
        assert (await client.get(f"/api/flow-actions/{action['id']}", headers=API_KEY)).status_code == 404
    assert (await client.get("/api/flow-actions/123456", headers=API_KEY)).status_code == 404


def test_render_subset() -> None:
    context = {"first_name": "Priya", "order": {"items": [{"name": "Tea"}]}, "empty": ""}
    assert render_text("Hi {{ first_name }}!", context, escape=False) == "Hi Priya!"
    assert render_text("{{order.items.0.name}}", context, escape=False) == "Tea"
    assert render_text('Hi {{ nobody|default:"friend" }}', context, escape=False) == "Hi friend"
    assert render_text("Hi {{ empty|default:'you' }}", context, escape=False) == "Hi you"
    assert render_text("[{{ missing }}]", context, escape=False) == "[]"  # missing outputs nothing
    assert render_text("{{ first_name|upper }}", context, escape=False) == "Priya"  # other filters: as is
    assert render_text("{{ x }}", {"x": "<b>"}, escape=True) == "&lt;b&gt;"
    assert render_text("{% if x %}y{% endif %}", {"x": 1}, escape=False) == "{% if x %}y{% endif %}"


async def test_template_crud_render_and_clone(client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any) -> None:
    html = '<p>Hello {{ first_name|default:"there" }} from {{ shop.name }}</p>'
    body = {
        "data": {
            "type": "template",
            "attributes": {"name": "Welcome", "editor_type": "CODE", "html": html, "text": "Hi {{ first_name }}"},
        }
    }
    created = await client.post("/api/templates", json=body, headers=H)
    assert created.status_code == 201, created.text
    template = created.json()["data"]
    tid = template["id"]
    assert id_shape_for_example(tid) == "short"

    context = {"first_name": "Priya & co", "shop": {"name": "Leaf"}}
    render = {"data": {"type": "template", "id": tid, "attributes": {"context": context}}}
    rendered = await client.post("/api/template-render", json=render, headers=H)
    assert rendered.status_code == 201, rendered.text
    assert response_errors(compiled, spec, "/api/template-render", "post", 201, rendered.json()) == []
    attrs = rendered.json()["data"]["attributes"]
    assert attrs["html"] == "<p>Hello Priya &amp; co from Leaf</p>"
    assert attrs["text"] == "Hi Priya & co"
    anonymous = {"data": {"type": "template", "id": tid, "attributes": {"context": {}}}}
    rendered = await client.post("/api/template-render", json=anonymous, headers=H)
    assert rendered.json()["data"]["attributes"]["html"] == "<p>Hello there from </p>"
    # Rendering changes nothing stored.
    stored = (await client.get(f"/api/templates/{tid}", headers=API_KEY)).json()["data"]["attributes"]
    assert stored["html"] == html

    clone = {"data": {"type": "template", "id": tid, "attributes": {"name": "Welcome v2"}}}
    cloned = await client.post("/api/template-clone", json=clone, headers=H)
    assert cloned.status_code == 201, cloned.text
    copy = cloned.json()["data"]
    assert copy["id"] != tid and copy["attributes"]["name"] == "Welcome v2" and copy["attributes"]["html"] == html
    unnamed = {"data": {"type": "template", "id": tid, "attributes": {}}}
    named = (await client.post("/api/template-clone", json=unnamed, headers=H)).json()["data"]["attributes"]["name"]
    assert named == "Welcome (Clone)"
    assert len((await client.get("/api/templates", headers=API_KEY)).json()["data"]) == 3

    update = {"data": {"type": "template", "id": tid, "attributes": {"html": "<p>Bye</p>"}}}
    assert (await client.patch(f"/api/templates/{tid}", json=update, headers=H)).status_code == 200
    assert (await client.get(f"/api/templates/{tid}", headers=API_KEY)).json()["data"]["attributes"][
        "html"
    ] == "<p>Bye</p>"
    assert (await client.delete(f"/api/templates/{tid}", headers=API_KEY)).status_code == 204
    assert (await client.post("/api/template-render", json=render, headers=H)).status_code == 404
    assert (await client.post("/api/template-clone", json=clone, headers=H)).status_code == 404


async def test_action_updates_and_deletes_show_in_the_flow_definition(client: httpx.AsyncClient) -> None:
    fid, _ = await _flow(client)
    wait, hello = (await client.get(f"/api/flows/{fid}/flow-actions", headers=API_KEY)).json()["data"]
    change = {
        "data": {
            "type": "flow-action",
            "id": wait["id"],
            "attributes": {
                "definition": {
                    "id": wait["id"],
                    "type": "time-delay",
                    "links": {"next": hello["id"]},
                    "data": {"unit": "days", "value": 3, "timezone": "profile"},
                }
            },
        }
    }
    updated = await client.patch(f"/api/flow-actions/{wait['id']}", json=change, headers=H)
    assert updated.status_code == 200, updated.text
    definition = (await client.get(f"/api/flows/{fid}", params=DEFINITION, headers=API_KEY)).json()["data"][
        "attributes"
    ]["definition"]
    assert definition["actions"][0]["data"]["value"] == 3 and definition["actions"][0]["id"] == wait["id"]

    assert (await client.delete(f"/api/flow-actions/{hello['id']}", headers=API_KEY)).status_code == 204
    actions = await client.get(f"/api/flows/{fid}/relationships/flow-actions", headers=API_KEY)
    assert [a["id"] for a in actions.json()["data"]] == [wait["id"]]
    definition = (await client.get(f"/api/flows/{fid}", params=DEFINITION, headers=API_KEY)).json()["data"][
        "attributes"
    ]["definition"]
    assert [a["id"] for a in definition["actions"]] == [wait["id"]]
