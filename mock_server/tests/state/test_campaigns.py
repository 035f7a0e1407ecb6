"""Campaigns as Klaviyo runs them: inline messages, `Draft` on create, the send job's lifecycle (queued ->
scheduled/sending -> sent; cancel and revert), drafts-only edits, recipient estimation, clone, assign-template."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx
import pytest

from kdk.spec import apply_overlay, load_spec
from mock_server import MockRequest, generate_body
from mock_server._compile import CompiledSpec
from mock_server.state import Kind, SqliteStore, StatefulBehaviour

from .conftest import API_KEY, JSONAPI, core_client, list_body, profile_body, response_errors

H = {**API_KEY, **JSONAPI}
EMAIL = {"filter": "equals(messages.channel,'email')"}


def campaign_body(
    name: str, *, audiences: list[str] | None = None, strategy: Any = None, channel: str = "email"
) -> Any:
    attributes: dict[str, Any] = {
        "name": name,
        "audiences": {"included": audiences or ["Y6nRLr"]},
        "campaign-messages": {
            "data": [
                {
                    "type": "campaign-message",
                    "attributes": {
                        "definition": {
                            "channel": channel,
                            "label": f"{name} message",
                            "content": {"subject": "Hello", "from_email": "shop@example.com"},
                        }
                    },
                }
            ]
        },
    }
    if strategy is not None:
        attributes["send_strategy"] = strategy
    return {"data": {"type": "campaign", "attributes": attributes}}


async def create_campaign(client: httpx.AsyncClient, name: str = "Spring sale", **kwargs: Any) -> dict[str, Any]:
    created = await client.post("/api/campaigns", json=campaign_body(name, **kwargs), headers=H)
    assert created.status_code == 201, created.text
    data: dict[str, Any] = created.json()["data"]
    return data


async def campaign(client: httpx.AsyncClient, cid: str) -> dict[str, Any]:
    got = await client.get(f"/api/campaigns/{cid}", headers=API_KEY)
    assert got.status_code == 200, got.text
    attributes: dict[str, Any] = got.json()["data"]["attributes"]
    return attributes


def send_job(cid: str) -> dict[str, Any]:
    return {"data": {"type": "campaign-send-job", "id": cid}}


def job_action(cid: str, action: str) -> dict[str, Any]:
    return {"data": {"type": "campaign-send-job", "id": cid, "attributes": {"action": action}}}


FUTURE = {"method": "static", "datetime": "2099-11-08T15:00:00+00:00"}


async def test_new_campaign_is_a_draft_with_its_messages(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    made = await create_campaign(client)
    attrs = made["attributes"]
    assert attrs["status"] == "Draft"
    assert attrs["send_strategy"] == {"method": "immediate"}  # "Defaults to 'Immediate' send strategy."
    assert attrs["send_time"] is None and attrs["scheduled_at"] is None and attrs["archived"] is False
    cid = made["id"]
    messages = await client.get(f"/api/campaigns/{cid}/campaign-messages", headers=API_KEY)
    assert messages.status_code == 200
    assert [m["attributes"]["definition"]["label"] for m in messages.json()["data"]] == ["Spring sale message"]
    ids = await client.get(f"/api/campaigns/{cid}/relationships/campaign-messages", headers=API_KEY)
    assert ids.json()["data"] == [{"type": "campaign-message", "id": messages.json()["data"][0]["id"]}]
    included = await client.get(f"/api/campaigns/{cid}", params={"include": "campaign-messages"}, headers=API_KEY)
    assert [m["id"] for m in included.json()["included"]] == [messages.json()["data"][0]["id"]]
    assert response_errors(compiled, spec, "/api/campaigns/{id}", "get", 200, included.json()) == []


async def test_listing_campaigns_needs_the_channel_filter(client: httpx.AsyncClient) -> None:
    await create_campaign(client)
    bare = await client.get("/api/campaigns", headers=API_KEY)
    assert bare.status_code == 400
    assert bare.json()["errors"][0]["source"] == {"parameter": "filter"}
    assert len((await client.get("/api/campaigns", params=EMAIL, headers=API_KEY)).json()["data"]) == 1


async def test_immediate_send_queues_then_sends(client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any) -> None:
    cid = (await create_campaign(client))["id"]
    sent = await client.post("/api/campaign-send-jobs", json=send_job(cid), headers=H)
    assert sent.status_code == 202, sent.text
    assert sent.json()["data"] == {
        "type": "campaign-send-job",
        "id": cid,
        "attributes": {"status": "queued"},
        "links": {"self": f"http://mock.test/api/campaign-send-jobs/{cid}/"},
    }
    assert response_errors(compiled, spec, "/api/campaign-send-jobs", "post", 202, sent.json()) == []
    attrs = await campaign(client, cid)
    assert attrs["status"] == "Sent"
    assert attrs["send_time"] is not None and attrs["scheduled_at"] is not None
    job = await client.get(f"/api/campaign-send-jobs/{cid}", headers=API_KEY)
    assert job.json()["data"]["attributes"]["status"] == "complete"
    # A sent campaign can be neither edited, sent again, cancelled, nor have its messages changed.
    patch = {"data": {"type": "campaign", "id": cid, "attributes": {"name": "Renamed"}}}
    refused = await client.patch(f"/api/campaigns/{cid}", json=patch, headers=H)
    assert refused.status_code == 400 and "Sent" in refused.json()["errors"][0]["detail"]
    assert (await client.post("/api/campaign-send-jobs", json=send_job(cid), headers=H)).status_code == 400
    cancel = await client.patch(f"/api/campaign-send-jobs/{cid}", json=job_action(cid, "cancel"), headers=H)
    assert cancel.status_code == 400
    message_id = (await client.get(f"/api/campaigns/{cid}/campaign-messages", headers=API_KEY)).json()["data"][0]["id"]
    message_patch = {"data": {"type": "campaign-message", "id": message_id, "attributes": {}}}
    changed = await client.patch(f"/api/campaign-messages/{message_id}", json=message_patch, headers=H)
    assert changed.status_code == 400
    assert (await campaign(client, cid))["name"] == "Spring sale"
    sent_only = await client.get(
        "/api/campaigns",
        params={"filter": "and(equals(messages.channel,'email'),equals(status,'Sent'))"},
        headers=API_KEY,
    )
    assert [c["id"] for c in sent_only.json()["data"]] == [cid]


async def test_scheduled_send_then_cancel(client: httpx.AsyncClient) -> None:
    cid = (await create_campaign(client, strategy=FUTURE))["id"]
    before = dt.datetime.now(dt.UTC)
    assert (await client.post("/api/campaign-send-jobs", json=send_job(cid), headers=H)).status_code == 202
    attrs = await campaign(client, cid)
    assert attrs["status"] == "Scheduled"
    assert dt.datetime.fromisoformat(attrs["send_time"]) == dt.datetime(2099, 11, 8, 15, tzinfo=dt.UTC)
    assert dt.datetime.fromisoformat(attrs["scheduled_at"]) >= before
    messages = (await client.get(f"/api/campaigns/{cid}/campaign-messages", headers=API_KEY)).json()["data"]
    assert [m["attributes"]["send_times"] for m in messages] == [[{"datetime": attrs["send_time"], "is_local": False}]]
    job = await client.get(f"/api/campaign-send-jobs/{cid}", headers=API_KEY)
    assert job.json()["data"]["attributes"]["status"] == "queued"
    # Only a draft can be edited: a scheduled campaign must be reverted first.
    patch = {"data": {"type": "campaign", "id": cid, "attributes": {"name": "Later"}}}
    assert (await client.patch(f"/api/campaigns/{cid}", json=patch, headers=H)).status_code == 400

    cancelled = await client.patch(f"/api/campaign-send-jobs/{cid}", json=job_action(cid, "cancel"), headers=H)
    assert cancelled.status_code == 204, cancelled.text
    assert (await campaign(client, cid))["status"] == "Cancelled"
    job = await client.get(f"/api/campaign-send-jobs/{cid}", headers=API_KEY)
    assert job.json()["data"]["attributes"]["status"] == "cancelled"
    # Cancelled is for good: no second send, no revert.
    assert (await client.post("/api/campaign-send-jobs", json=send_job(cid), headers=H)).status_code == 400
    revert = await client.patch(f"/api/campaign-send-jobs/{cid}", json=job_action(cid, "revert"), headers=H)
    assert revert.status_code == 400


async def test_revert_makes_a_scheduled_campaign_an_editable_draft(client: httpx.AsyncClient) -> None:
    cid = (await create_campaign(client, strategy=FUTURE))["id"]
    await client.post("/api/campaign-send-jobs", json=send_job(cid), headers=H)
    reverted = await client.patch(f"/api/campaign-send-jobs/{cid}", json=job_action(cid, "revert"), headers=H)
    assert reverted.status_code == 204, reverted.text
    attrs = await campaign(client, cid)
    assert (attrs["status"], attrs["send_time"], attrs["scheduled_at"]) == ("Draft", None, None)
    patch = {"data": {"type": "campaign", "id": cid, "attributes": {"name": "Autumn sale"}}}
    updated = await client.patch(f"/api/campaigns/{cid}", json=patch, headers=H)
    assert updated.status_code == 200 and updated.json()["data"]["attributes"]["name"] == "Autumn sale"
    # ...and it can be sent again.
    assert (await client.post("/api/campaign-send-jobs", json=send_job(cid), headers=H)).status_code == 202


async def test_send_job_for_an_unknown_campaign_is_a_404(client: httpx.AsyncClient) -> None:
    missing = await client.post("/api/campaign-send-jobs", json=send_job("01HZZZZZZZZZZZZZZZZZZZZZZZ"), headers=H)
    assert missing.status_code == 404
    never_sent = (await create_campaign(client))["id"]
    cancel = await client.patch(
        f"/api/campaign-send-jobs/{never_sent}", json=job_action(never_sent, "cancel"), headers=H
    )
    assert cancel.status_code == 404


async def _list_with(client: httpx.AsyncClient, name: str, profiles: list[dict[str, Any]]) -> str:
    made = await client.post("/api/lists", json=list_body(name), headers=H)
    list_id: str = made.json()["data"]["id"]
    ids = []
    for attributes in profiles:
        created = await client.post("/api/profiles", json=profile_body(**attributes), headers=H)
        assert created.status_code == 201, created.text
        ids.append({"type": "profile", "id": created.json()["data"]["id"]})
    added = await client.post(f"/api/lists/{list_id}/relationships/profiles", json={"data": ids}, headers=H)
    assert added.status_code == 204, added.text
    return list_id


async def test_recipient_estimation_counts_the_audience(
    client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any
) -> None:
    vip = await _list_with(
        client,
        "VIP",
        [{"email": "a@example.com"}, {"email": "b@example.com"}, {"phone_number": "+15005550006"}],
    )
    cid = (await create_campaign(client, audiences=[vip]))["id"]
    estimate = await client.get(f"/api/campaign-recipient-estimations/{cid}", headers=API_KEY)
    assert estimate.status_code == 200, estimate.text
    assert estimate.json()["data"]["attributes"]["estimated_recipient_count"] == 2  # the two with an email
    assert (
        response_errors(compiled, spec, "/api/campaign-recipient-estimations/{id}", "get", 200, estimate.json()) == []
    )

    # New members count once the estimation is refreshed by a job.
    later = await client.post("/api/profiles", json=profile_body(email="c@example.com"), headers=H)
    new_member = {"data": [{"type": "profile", "id": later.json()["data"]["id"]}]}
    await client.post(f"/api/lists/{vip}/relationships/profiles", json=new_member, headers=H)
    job_body = {"data": {"type": "campaign-recipient-estimation-job", "id": cid}}
    job = await client.post("/api/campaign-recipient-estimation-jobs", json=job_body, headers=H)
    assert job.status_code == 202 and job.json()["data"]["attributes"]["status"] == "complete"
    got_job = await client.get(f"/api/campaign-recipient-estimation-jobs/{cid}", headers=API_KEY)
    assert got_job.json()["data"]["attributes"]["status"] == "complete"
    estimate = await client.get(f"/api/campaign-recipient-estimations/{cid}", headers=API_KEY)
    assert estimate.json()["data"]["attributes"]["estimated_recipient_count"] == 3

    # An excluded list takes its members off; an SMS campaign counts the phone numbers that consented.
    excluded = await _list_with(client, "Staff", [])
    await client.post(f"/api/lists/{excluded}/relationships/profiles", json=new_member, headers=H)
    body = campaign_body("Fewer", audiences=[vip])
    body["data"]["attributes"]["audiences"]["excluded"] = [excluded]
    fewer = (await client.post("/api/campaigns", json=body, headers=H)).json()["data"]["id"]
    estimate = await client.get(f"/api/campaign-recipient-estimations/{fewer}", headers=API_KEY)
    assert estimate.json()["data"]["attributes"]["estimated_recipient_count"] == 2
    sms = (await create_campaign(client, "Texts", audiences=[vip], channel="sms"))["id"]
    estimate = await client.get(f"/api/campaign-recipient-estimations/{sms}", headers=API_KEY)
    assert estimate.json()["data"]["attributes"]["estimated_recipient_count"] == 0  # no SMS consent yet


async def test_clone_copies_campaign_and_messages_as_a_new_draft(client: httpx.AsyncClient) -> None:
    cid = (await create_campaign(client))["id"]
    await client.post("/api/campaign-send-jobs", json=send_job(cid), headers=H)
    body = {"data": {"type": "campaign", "id": cid, "attributes": {"new_name": "Spring sale again"}}}
    cloned = await client.post("/api/campaign-clone", json=body, headers=H)
    assert cloned.status_code == 201, cloned.text
    copy = cloned.json()["data"]
    assert copy["id"] != cid
    assert (copy["attributes"]["name"], copy["attributes"]["status"]) == ("Spring sale again", "Draft")
    assert copy["attributes"]["send_time"] is None
    originals = (await client.get(f"/api/campaigns/{cid}/campaign-messages", headers=API_KEY)).json()["data"]
    copies = (await client.get(f"/api/campaigns/{copy['id']}/campaign-messages", headers=API_KEY)).json()["data"]
    assert len(copies) == 1 and copies[0]["id"] != originals[0]["id"]
    assert copies[0]["attributes"]["definition"] == originals[0]["attributes"]["definition"]
    parent = await client.get(f"/api/campaign-messages/{copies[0]['id']}/campaign", headers=API_KEY)
    assert parent.json()["data"]["id"] == copy["id"]
    listed = await client.get("/api/campaigns", params=EMAIL, headers=API_KEY)
    assert {c["id"] for c in listed.json()["data"]} == {cid, copy["id"]}
    missing = {"data": {"type": "campaign", "id": "01HZZZZZZZZZZZZZZZZZZZZZZZ", "attributes": {}}}
    assert (await client.post("/api/campaign-clone", json=missing, headers=H)).status_code == 404


async def test_assign_template_gives_the_message_its_own_copy(client: httpx.AsyncClient) -> None:
    template = {
        "data": {"type": "template", "attributes": {"name": "Base", "editor_type": "CODE", "html": "<p>Hi</p>"}}
    }
    tid = (await client.post("/api/templates", json=template, headers=H)).json()["data"]["id"]
    cid = (await create_campaign(client))["id"]
    mid = (await client.get(f"/api/campaigns/{cid}/campaign-messages", headers=API_KEY)).json()["data"][0]["id"]
    body = {
        "data": {
            "type": "campaign-message",
            "id": mid,
            "relationships": {"template": {"data": {"type": "template", "id": tid}}},
        }
    }
    assigned = await client.post("/api/campaign-message-assign-template", json=body, headers=H)
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["data"]["id"] == mid
    linked = await client.get(f"/api/campaign-messages/{mid}/template", headers=API_KEY)
    assert linked.status_code == 200
    version = linked.json()["data"]
    # "Creates a non-reusable version of the template and assigns it to the message."
    assert version["id"] != tid and version["attributes"]["html"] == "<p>Hi</p>"


async def test_deleting_a_campaign_deletes_its_messages_and_jobs(client: httpx.AsyncClient) -> None:
    cid = (await create_campaign(client))["id"]
    mid = (await client.get(f"/api/campaigns/{cid}/campaign-messages", headers=API_KEY)).json()["data"][0]["id"]
    assert (await client.delete(f"/api/campaigns/{cid}", headers=API_KEY)).status_code == 204
    assert (await client.get(f"/api/campaigns/{cid}", headers=API_KEY)).status_code == 404
    assert (await client.get(f"/api/campaign-messages/{mid}", headers=API_KEY)).status_code == 404


@pytest.mark.mirror
async def test_send_lifecycle_across_mirrored_revisions(mirror: Path) -> None:
    """Wherever the spec has campaign send jobs: a generated campaign is a draft, a send makes it sent, a sent
    campaign refuses edits; `campaign-clone` and `template-render` are actions of their backends."""
    checked = 0
    paths = sorted(mirror.glob("*/openapi/stable.json"))
    # The oldest, a middle and the newest stable revision (each load is seconds: the whole mirror is minutes).
    for path in sorted({paths[0], paths[len(paths) // 2], paths[-1]}):
        spec = apply_overlay(load_spec(path), copy_spec=False).spec
        behaviour = StatefulBehaviour(spec)
        ops = behaviour.index.ops
        if "send_campaign" not in ops or "create_campaign" not in ops:
            continue
        actions = {op.operation_id: op.action for op in ops.values() if op.kind is Kind.ACTION}
        assert {"create_campaign_clone": "clone", "render_template": "render", "clone_template": "clone"}.items() <= (
            actions.items()
        ), path

        def request(
            op_id: str, body: Any = None, rid: str = "", query: dict[str, str] | None = None, ops: Any = ops
        ) -> MockRequest:
            op = ops[op_id]
            params = {op.id_param or "id": rid} if rid else {}
            return MockRequest(
                op_id, op.method, op.path, params, query or {}, {}, body, "a", "api_key", "x", "http://m"
            )

        node = spec["paths"][ops["create_campaign"].path]["post"]
        schema = next(iter(node["requestBody"]["content"].values()))["schema"]
        body = generate_body(spec, schema, seed="lifecycle")
        body["data"]["attributes"].pop("send_strategy", None)  # immediate
        created = await behaviour.handle(request("create_campaign", body))
        assert created is not None and created.status == 201, (path, created and created.body)
        cid = created.body["data"]["id"]
        assert created.body["data"]["attributes"]["status"] == "Draft", path
        sent = await behaviour.handle(request("send_campaign", {"data": {"type": "campaign-send-job", "id": cid}}))
        assert sent is not None and sent.status == 202 and sent.body["data"]["attributes"]["status"] == "queued", path
        got = await behaviour.handle(request("get_campaign", rid=cid))
        assert got is not None and got.body["data"]["attributes"]["status"] == "Sent", path
        patch = {"data": {"type": "campaign", "id": cid, "attributes": {"name": "x"}}}
        refused = await behaviour.handle(request("update_campaign", patch, rid=cid))
        assert refused is not None and refused.status == 400, path
        checked += 1
    assert checked


async def test_lifecycle_survives_a_restart_on_sqlite(
    compiled: CompiledSpec, make_behaviour: Any, tmp_path: Path
) -> None:
    """The scheduled state and its job are stored like any resource: a restarted mock (SQLite) still has them."""
    db = tmp_path / "state.db"
    before = make_behaviour(SqliteStore(db))
    async with core_client(compiled, before) as first:
        cid = (await create_campaign(first, strategy=FUTURE))["id"]
        assert (await first.post("/api/campaign-send-jobs", json=send_job(cid), headers=H)).status_code == 202
    before.store.close()
    after = make_behaviour(SqliteStore(db))
    async with core_client(compiled, after) as second:
        assert (await campaign(second, cid))["status"] == "Scheduled"
        reverted = await second.patch(f"/api/campaign-send-jobs/{cid}", json=job_action(cid, "revert"), headers=H)
        assert reverted.status_code == 204
        assert (await campaign(second, cid))["status"] == "Draft"
        messages = await second.get(f"/api/campaigns/{cid}/campaign-messages", headers=API_KEY)
        assert [m["attributes"]["send_times"] for m in messages.json()["data"]] == [None]
    after.store.close()
