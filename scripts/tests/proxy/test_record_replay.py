"""Recording through the proxy, then `kdk mock --replay`: every recorded exchange replays byte for byte,
secrets and personal data never reach a cassette, and recorded ids can be read from the fallback mock."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mock_server._cassette import RECORDING_FILE, body_bytes, load_recording
from mock_server._replay import prepare_replay

from ._session import PEOPLE, run_session
from .conftest import API_KEY, AUTH, asgi_client, proxy_for


async def _record(mock_factory: Callable[..., Any], directory: Path) -> list[Any]:
    proxy = proxy_for(mock_factory(), record=directory)
    async with asgi_client(proxy, "http://proxy.test") as client:
        seen = await run_session(client)
    await proxy.aclose()
    return seen


@pytest.fixture
async def recorded(mock_factory: Callable[..., Any], tmp_path: Path) -> Path:
    directory = tmp_path / "cassettes"
    await _record(mock_factory, directory)
    return directory


def test_cassettes_hold_no_secrets_or_personal_data(recorded: Path) -> None:
    recording = load_recording(recorded)
    assert len(recording.exchanges) == 14
    everything = "\n".join(p.read_text() for p in recorded.iterdir())
    for email, phone, _ in PEOPLE:
        assert email not in everything and phone not in everything
    assert API_KEY not in everything
    # Consistent fakes: the email sent in the first create is the one the answer carries.
    first = recording.exchanges[0]
    sent = json.loads(first["request"]["body"])["data"]["attributes"]["email"]
    answered = json.loads(first["response"]["body"])["data"]["attributes"]["email"]
    assert sent == answered != PEOPLE[0][0] and sent.endswith("@example.com")
    assert recording.credentials == [dict(first["request"]["headers"])["authorization"]]
    assert first["timing"]["elapsed_ms"] >= 0 and first["operation"] == "create_profile"


async def test_every_recorded_exchange_replays_byte_for_byte(recorded: Path, mock_factory: Callable[..., Any]) -> None:
    replay = mock_factory(seed=prepare_replay(recorded, "strict", None), replay=recorded)
    recording = load_recording(recorded)
    async with asgi_client(replay, "http://replay.test") as client:
        for exchange in recording.exchanges:
            request, response = exchange["request"], exchange["response"]
            answer = await client.request(
                request["method"],
                request["path"],
                params=[tuple(p) for p in request["query"]],
                headers=[tuple(h) for h in request["headers"]],
                content=body_bytes(request["body"], request["body_encoding"]),
            )
            assert answer.headers["x-kdk-replayed"] == str(exchange["id"])
            assert answer.status_code == response["status"]
            assert answer.content == body_bytes(response["body"], response["body_encoding"])


async def test_the_original_session_replays(recorded: Path, mock_factory: Callable[..., Any]) -> None:
    """The client that recorded (real emails, real key) gets the recorded answers: requests are masked with
    the recording's salt before they are matched."""
    replay = mock_factory(seed=prepare_replay(recorded, "strict", None), replay=recorded)
    recording = load_recording(recorded)
    async with asgi_client(replay, "http://replay.test") as client:
        seen = await run_session(client)
    assert [r.headers.get("x-kdk-replayed") for _, r in seen] == [str(e["id"]) for e in recording.exchanges]


async def test_recorded_ids_are_readable_from_the_fallback(recorded: Path, mock_factory: Callable[..., Any]) -> None:
    replay = mock_factory(seed=prepare_replay(recorded, "strict", None), replay=recorded)
    recording = load_recording(recorded)
    created = [json.loads(e["response"]["body"])["data"] for e in recording.exchanges[:3]]
    other_key = {**AUTH, "Authorization": "Klaviyo-API-Key pk_someone_else_123456"}
    async with asgi_client(replay, "http://replay.test") as client:
        for resource in created:  # not recorded with these fields: answered by the stateful mock
            answer = await client.get(
                f"/api/profiles/{resource['id']}/", params={"fields[profile]": "email"}, headers=other_key
            )
            assert answer.status_code == 200, answer.text
            assert "x-kdk-replayed" not in answer.headers
            assert answer.json()["data"]["attributes"] == {"email": resource["attributes"]["email"]}
        listed = await client.get("/api/profiles/", params={"page[size]": "10"}, headers=other_key)
        assert {r["id"] for r in listed.json()["data"]} == {r["id"] for r in created}


@pytest.mark.parametrize(("match", "replayed"), [("strict", False), ("ignore-body", True), ("path", True)])
async def test_match_modes(match: str, replayed: bool, recorded: Path, mock_factory: Callable[..., Any]) -> None:
    replay = mock_factory(seed=prepare_replay(recorded, match, None), replay=recorded, replay_match=match)
    body = {"data": {"type": "profile", "attributes": {"email": "new.person@gmail.com"}}}
    headers = {**AUTH, "content-type": "application/vnd.api+json"}
    async with asgi_client(replay, "http://replay.test") as client:
        answer = await client.post("/api/profiles/", headers=headers, content=json.dumps(body))
    assert ("x-kdk-replayed" in answer.headers) is replayed


def test_bad_recordings_are_clear_errors(tmp_path: Path, recorded: Path) -> None:
    with pytest.raises(ValueError, match="not a recording"):
        prepare_replay(tmp_path, "strict", None)
    with pytest.raises(ValueError, match="--replay-match"):
        prepare_replay(recorded, "fuzzy", None)
    broken = next(p for p in recorded.iterdir() if p.name != RECORDING_FILE)
    broken.write_text("{")
    with pytest.raises(ValueError, match=broken.name):
        prepare_replay(recorded, "strict", None)


async def test_recording_again_appends_with_the_same_fakes(recorded: Path, mock_factory: Callable[..., Any]) -> None:
    before = load_recording(recorded)
    await _record(mock_factory, recorded)
    after = load_recording(recorded)
    assert after.salt == before.salt and after.credentials == before.credentials
    assert [e["id"] for e in after.exchanges] == list(range(1, 2 * len(before.exchanges) + 1))
    first, again = after.exchanges[0], after.exchanges[len(before.exchanges)]
    assert first["request"]["body"] == again["request"]["body"]  # same person, same fake email and phone
