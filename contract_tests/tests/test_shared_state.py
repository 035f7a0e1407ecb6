"""Several `kdk mock` processes on one PostgreSQL state behave as one account (what a load balancer in front of
a fleet of mocks needs): what one creates the other reads, and an email raced through both is created once."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from contract_tests._mock_process import running_mock
from mock_server.tests.postgres_cluster import PostgresCluster, postgres_cluster


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresCluster]:
    with postgres_cluster() as cluster:
        yield cluster


@pytest.mark.timeout(240)
def test_two_mock_processes_share_one_postgresql_state(postgres: PostgresCluster) -> None:
    url = postgres.database("shared")
    body = {"data": {"type": "profile", "attributes": {"email": "fleet@example.com"}}}
    json_api = {"Content-Type": "application/vnd.api+json"}
    with running_mock(state=url) as first, running_mock(state=url, extra_args=["--workers", "2"]) as second:
        mocks = [first, second] * 8
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(lambda m: m.request("POST", "/api/profiles", json=body, headers=json_api), mocks))
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [201] + [409] * 15, [a.text[:200] for a in answers if a.status_code not in (201, 409)]
        created = next(a for a in answers if a.status_code == 201).json()["data"]["id"]
        for mock in (first, second):
            found = mock.request("GET", "/api/profiles", params={"filter": "equals(email,'fleet@example.com')"})
            assert [d["id"] for d in found.json()["data"]] == [created]
        other = {"data": {"type": "profile", "attributes": {"email": "second@example.com"}}}
        made = second.request("POST", "/api/profiles", json=other, headers=json_api).json()["data"]["id"]
        assert first.request("GET", f"/api/profiles/{made}").status_code == 200
