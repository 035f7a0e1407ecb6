"""Durable state under kill -9: every write the mock answered 201/202/204 is there after a restart, nothing
half-written is visible, and a unique identifier stays unique under races (one or two worker processes).

Parametrised over durable state URLs by one fixture (`durable_state`): SQLite in a temporary file, and
PostgreSQL in a fresh database of the session's throwaway cluster (the `postgres` fixture).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from .._served import Served, served_mock, start_mock

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

KEY = "pk_durability_0000000000000000"
JSONAPI = {"Content-Type": "application/vnd.api+json"}

# name -> the state URL of a fresh, empty store (given the test's request, for other fixtures, and tmp_path).
# PostgreSQL joins with e.g. `"postgresql": lambda request, tmp: request.getfixturevalue("postgres_cluster")...`.
DURABLE_STATES: dict[str, Callable[[pytest.FixtureRequest, Path], str]] = {
    "sqlite": lambda request, tmp: f"sqlite:{tmp / 'state.db'}",
    "postgresql": lambda request, tmp: request.getfixturevalue("postgres").database(f"durable_{tmp.name}"[:60]),
}


@pytest.fixture(params=sorted(DURABLE_STATES))
def durable_state(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every durable state URL this suite knows: each test below runs once per entry of DURABLE_STATES."""
    return DURABLE_STATES[request.param](request, tmp_path)


def _profile(email: str) -> dict[str, Any]:
    return {
        "data": {
            "type": "profile",
            "attributes": {"email": email, "first_name": "Durable", "properties": {"marker": email}},
        }
    }


def _create_until_killed(served: Served, writers: int, kill_after: int) -> dict[str, str]:
    """Concurrent creates; kill -9 the mock once `kill_after` were answered 201. email -> id of each 201."""
    answered: dict[str, str] = {}
    lock = threading.Lock()
    killed = threading.Event()

    def writer(n: int) -> None:
        with httpx.Client(timeout=10) as client:
            i = 0
            while not killed.is_set():
                email = f"w{n}-{i}@durable.example.com"
                i += 1
                try:
                    response = client.post(
                        served.base_url + "/api/profiles",
                        json=_profile(email),
                        headers={**JSONAPI, "Authorization": f"Klaviyo-API-Key {KEY}", "revision": served.revision},
                    )
                except httpx.HTTPError:
                    continue  # the kill landed mid-request: not answered, so not promised
                if response.status_code == 201:
                    with lock:
                        answered[email] = response.json()["data"]["id"]
                        if len(answered) >= kill_after and not killed.is_set():
                            killed.set()
                            served.kill()
                else:
                    assert response.status_code < 500, response.text[:300]

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(writer, range(writers)))
    return answered


@pytest.mark.parametrize("workers", [1, 2])
def test_every_answered_write_survives_kill_9(durable_state: str, workers: int) -> None:
    served = start_mock(["--state", durable_state, "--workers", str(workers)], KEY)
    try:
        answered = _create_until_killed(served, writers=8, kill_after=40)
    finally:
        served.stop()
    assert len(answered) >= 40
    with served_mock(["--state", durable_state], KEY) as again:
        for email, pid in answered.items():
            response = again.request("GET", f"/api/profiles/{pid}")
            assert response.status_code == 200, (email, response.text[:300])
            attributes = response.json()["data"]["attributes"]
            assert attributes["email"] == email
        # Nothing half-written: every stored profile is whole (its email, name and properties together).
        url: str | None = "/api/profiles?page[size]=100"
        seen = 0
        while url:
            page = again.request("GET", url.removeprefix(again.base_url)).json()
            for item in page["data"]:
                attributes = item["attributes"]
                assert attributes["email"].endswith("@durable.example.com")
                assert attributes["first_name"] == "Durable"
                assert attributes["properties"] == {"marker": attributes["email"]}
                seen += 1
            url = page["links"].get("next")
        assert seen >= len(answered)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_same_email_from_many_connections_is_created_once(durable_state: str, workers: int) -> None:
    with served_mock(["--state", durable_state, "--workers", str(workers)], KEY) as served:
        statuses: list[int] = []
        start = threading.Barrier(16)

        def create(_: int) -> None:
            start.wait()
            response = served.request(
                "POST", "/api/profiles", json=_profile("race@durable.example.com"), headers=JSONAPI
            )
            statuses.append(response.status_code)

        with ThreadPoolExecutor(16) as pool:
            list(pool.map(create, range(16)))
        assert sorted(statuses) == [201] + [409] * 15
        found = served.request("GET", "/api/profiles", params={"filter": "equals(email,'race@durable.example.com')"})
        assert len(found.json()["data"]) == 1
