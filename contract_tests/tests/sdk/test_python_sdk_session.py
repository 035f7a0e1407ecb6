"""Klaviyo's official Python SDK (`klaviyo-api` 24.0.0, revision 2026-07-15), unmodified, against the default
(stateful, in-memory) mock started as a real process: a broad session, asserted step by step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from contract_tests import MockProcess, running_mock

from ._python_session import STEPS
from ._steps import Outcome, Session, run_steps

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

MIN_CALLS = 30


STEP_NAMES = [name for name, _ in STEPS]


@pytest.fixture(scope="module")
def python_session() -> Iterator[tuple[dict[str, Outcome], list[dict[str, Any]], MockProcess]]:
    from klaviyo_api import KlaviyoAPI

    with running_mock(state="memory") as mock:
        client = KlaviyoAPI(mock.api_key, test_host=mock.base_url, max_retries=0)
        outcomes = run_steps(Session(client, mock), STEPS)
        yield outcomes, mock.journal(limit=5000), mock


@pytest.mark.parametrize("step", STEP_NAMES)
def test_step(step: str, python_session: tuple[dict[str, Outcome], list[dict[str, Any]], MockProcess]) -> None:
    outcome = python_session[0][step]
    assert outcome.ok, outcome.detail


def test_session_is_broad_and_journaled(
    python_session: tuple[dict[str, Outcome], list[dict[str, Any]], MockProcess],
) -> None:
    """30+ SDK calls, every one in the journal with its final status (item 10)."""
    outcomes, journal, _ = python_session
    assert set(STEP_NAMES) == set(outcomes)
    assert len(journal) >= MIN_CALLS
    assert all(isinstance(entry.get("status"), int) for entry in journal)
    assert all(entry.get("operation_id") for entry in journal)
    operations = {entry["operation_id"] for entry in journal}
    assert len(operations) >= MIN_CALLS, sorted(operations)
    assert any(entry["status"] == 409 for entry in journal)  # the duplicate create, refused and journaled


def test_stateless_mode_with_the_sdk(stateless_mock: MockProcess) -> None:
    """`--stateless` too: the SDK's full-URL cursor is accepted and the flow it crashed on now parses."""
    from klaviyo_api import KlaviyoAPI

    client = KlaviyoAPI(stateless_mock.api_key, test_host=stateless_mock.base_url, max_retries=0)
    for base in (stateless_mock.base_url, "https://a.klaviyo.com"):
        # http: the SDK passes the whole URL on; https: the SDK cuts the cursor out itself.
        page = client.Profiles.get_profiles(page_cursor=f"{base}/api/profiles?page%5Bcursor%5D=bmV4dDo6MjA")
        assert page.data
    created = client.Flows.create_flow(
        {
            "data": {
                "type": "flow",
                "attributes": {"name": "F", "definition": {"triggers": [], "actions": [], "entry_action_id": None}},
            }
        }
    )
    assert created.data.attributes.definition is None
    assert client.Flows.get_flow(created.data.id).data.attributes.definition is None
    profile = client.Profiles.get_profile("01GDDKASAP8TKDDA2GRZDSVP4H")
    assert profile.data.attributes.subscriptions is None
    asked = client.Profiles.get_profile("01GDDKASAP8TKDDA2GRZDSVP4H", additional_fields_profile=["subscriptions"])
    assert asked.data.attributes.subscriptions is not None


def test_conversations_reply_flow_with_the_sdk(
    python_session: tuple[dict[str, Outcome], list[dict[str, Any]], MockProcess],
) -> None:
    """Seed 000 through the SDK (OAuth): a customer texts in, the SDK finds the conversation and replies;
    a private key is refused and an over-long SMS is 413, as the guide says."""
    import httpx
    from klaviyo_api import KlaviyoAPI
    from openapi_client.exceptions import ApiException

    mock = python_session[2]
    token = "oauth-sdk-conversations-token"
    oauth = KlaviyoAPI(None, access_token=token, test_host=mock.base_url, max_retries=0)
    inbound = httpx.post(
        f"{mock.base_url}/__mock__/inbound",
        json={"phone_number": "+18108675309", "body": "START"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert inbound.status_code == 201, inbound.text
    profile_id = inbound.json()["profile_id"]
    conversation = oauth.Profiles.get_conversation_for_profile(profile_id)
    assert conversation.data.id == inbound.json()["conversation_id"]
    assert conversation.data.attributes.channel == "sms"

    def reply(client: Any, text: str) -> Any:
        relationship = {"data": {"type": "conversation", "id": conversation.data.id}}
        return client.Conversations.create_conversation_message(
            {
                "data": {
                    "type": "conversation-message",
                    "attributes": {"body": text},
                    "relationships": {"conversation": relationship},
                }
            }
        )

    reply(oauth, "Hi! How can we help?")
    thread = httpx.get(
        f"{mock.base_url}/api/profiles/{profile_id}/conversation",
        headers={"Authorization": f"Bearer {token}", "revision": mock.revision},
        timeout=30,
    ).json()["included"]
    assert [m["attributes"]["body"] for m in thread] == ["Hi! How can we help?", "START"]
    private = KlaviyoAPI(mock.api_key, test_host=mock.base_url, max_retries=0)
    for client, text, status in ((private, "hi", 403), (oauth, "x" * 1601, 413)):
        try:
            reply(client, text)
        except ApiException as exc:
            assert exc.status == status
        else:
            raise AssertionError(f"expected {status}")


def test_a_key_without_a_scope_gets_klaviyos_403_through_the_sdk() -> None:
    """A read-only key (`kdk mock --key-scopes KEY=read-only`): the SDK reads, and a write raises the SDK's
    ForbiddenException carrying Klaviyo's JSON:API error (status 403, permission_denied, the missing scope)."""
    import json

    from klaviyo_api import KlaviyoAPI
    from openapi_client.exceptions import ForbiddenException

    with running_mock(
        state="memory", extra_args=["--key-scopes", "pk_read_only=read-only"], api_key="pk_read_only"
    ) as mock:
        client = KlaviyoAPI(mock.api_key, test_host=mock.base_url, max_retries=0)
        assert client.Profiles.get_profiles().data == []
        with pytest.raises(ForbiddenException) as refused:
            client.Profiles.create_profile({"data": {"type": "profile", "attributes": {"email": "ro@example.com"}}})
        assert refused.value.status == 403
        (error,) = json.loads(refused.value.body)["errors"]
        assert error["code"] == "permission_denied" and "profiles:write" in error["detail"]
