"""Hypothesis stateful test: the mock (through the core app, in-process) agrees with a simple model of
profiles and lists through any sequence of create/get/update/delete/filter/paginate/membership calls."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from mock_server._compile import CompiledSpec
from mock_server.state import StatefulBehaviour

from .conftest import API_KEY, JSONAPI, core_client

H = {**API_KEY, **JSONAPI}
EMAILS = st.sampled_from([f"user{i}@example.com" for i in range(6)])
NAMES = st.sampled_from(["Ada", "Grace", "Linus", "Margaret"])
MISSING_PROFILE = "01GDDKASAP8TKDDA2GRZDSVP4H"


class ProfilesAndLists(RuleBasedStateMachine):
    compiled: CompiledSpec
    spec: dict[str, Any]

    profiles = Bundle("profiles")
    lists = Bundle("lists")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.client = core_client(self.compiled, StatefulBehaviour(self.spec))
        self.model_profiles: dict[str, dict[str, Any]] = {}  # id -> attributes, in creation order
        self.model_lists: dict[str, set[str]] = {}  # id -> member profile ids

    def teardown(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.close()

    def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = H if "json" in kwargs else API_KEY
        return self.loop.run_until_complete(self.client.request(method, url, headers=headers, **kwargs))

    def owner_of(self, email: str) -> str | None:
        return next((pid for pid, attrs in self.model_profiles.items() if attrs["email"] == email), None)

    @rule(target=profiles, email=EMAILS, name=NAMES)
    def create_profile(self, email: str, name: str) -> str:
        response = self.call(
            "POST",
            "/api/profiles",
            json={"data": {"type": "profile", "attributes": {"email": email, "first_name": name}}},
        )
        owner = self.owner_of(email)
        if owner:
            assert response.status_code == 409
            assert response.json()["errors"][0]["meta"]["duplicate_profile_id"] == owner
            return owner
        assert response.status_code == 201, response.text
        pid: str = response.json()["data"]["id"]
        self.model_profiles[pid] = {"email": email, "first_name": name}
        return pid

    @rule(pid=profiles)
    def get_profile(self, pid: str) -> None:
        response = self.call("GET", f"/api/profiles/{pid}")
        assert response.status_code == 200
        attrs = response.json()["data"]["attributes"]
        assert {k: attrs[k] for k in ("email", "first_name")} == self.model_profiles[pid]

    @rule()
    def get_missing_profile(self) -> None:
        assert self.call("GET", f"/api/profiles/{MISSING_PROFILE}").status_code == 404

    @rule(pid=profiles, email=st.none() | EMAILS, name=st.none() | NAMES)
    def update_profile(self, pid: str, email: str | None, name: str | None) -> None:
        attributes = {k: v for k, v in (("email", email), ("first_name", name)) if v is not None}
        body = {"data": {"type": "profile", "id": pid, "attributes": attributes}}
        response = self.call("PATCH", f"/api/profiles/{pid}", json=body)
        owner = self.owner_of(email) if email else None
        if owner and owner != pid:
            assert response.status_code == 409
            return
        assert response.status_code == 200, response.text
        self.model_profiles[pid].update(attributes)

    @rule(email=EMAILS)
    def filter_by_email(self, email: str) -> None:
        response = self.call("GET", "/api/profiles", params={"filter": f'equals(email,"{email}")'})
        owner = self.owner_of(email)
        assert [p["id"] for p in response.json()["data"]] == ([owner] if owner else [])

    @rule(size=st.integers(min_value=1, max_value=4), descending=st.booleans())
    def paginate(self, size: int, descending: bool) -> None:
        params: dict[str, str] = {"page[size]": str(size)}
        if descending:
            params["sort"] = "-email"
        seen: list[str] = []
        response = self.call("GET", "/api/profiles", params=params)
        while True:
            document = response.json()
            assert len(document["data"]) <= size
            seen += [p["id"] for p in document["data"]]
            if "next" not in document["links"]:
                break
            response = self.call("GET", document["links"]["next"])
        expected = list(self.model_profiles)
        if descending:
            expected = sorted(expected, key=lambda pid: self.model_profiles[pid]["email"], reverse=True)
        assert seen == expected

    @rule(target=lists, name=NAMES)
    def create_list(self, name: str) -> str:
        response = self.call("POST", "/api/lists", json={"data": {"type": "list", "attributes": {"name": name}}})
        assert response.status_code == 201
        lid: str = response.json()["data"]["id"]
        self.model_lists[lid] = set()
        return lid

    @rule(lid=consumes(lists))
    def delete_list(self, lid: str) -> None:
        assert self.call("DELETE", f"/api/lists/{lid}").status_code == 204
        del self.model_lists[lid]
        assert self.call("GET", f"/api/lists/{lid}").status_code == 404

    @rule(lid=lists, pid=profiles)
    def add_member(self, lid: str, pid: str) -> None:
        body = {"data": [{"type": "profile", "id": pid}]}
        assert self.call("POST", f"/api/lists/{lid}/relationships/profiles", json=body).status_code == 204
        self.model_lists[lid].add(pid)

    @rule(lid=lists, pid=profiles)
    def remove_member(self, lid: str, pid: str) -> None:
        body = {"data": [{"type": "profile", "id": pid}]}
        assert self.call("DELETE", f"/api/lists/{lid}/relationships/profiles", json=body).status_code == 204
        self.model_lists[lid].discard(pid)

    @rule(lid=lists)
    def members(self, lid: str) -> None:
        response = self.call("GET", f"/api/lists/{lid}/profiles")
        assert {p["id"] for p in response.json()["data"]} == self.model_lists[lid]

    @rule(pid=profiles)
    def lists_of_profile(self, pid: str) -> None:
        response = self.call("GET", f"/api/profiles/{pid}/relationships/lists")
        assert {r["id"] for r in response.json()["data"]} == {
            lid for lid, members in self.model_lists.items() if pid in members
        }

    @invariant()
    def counts_agree(self) -> None:
        if not hasattr(self, "loop"):
            return
        response = self.call("GET", "/api/lists")
        assert {item["id"] for item in response.json()["data"]} <= set(self.model_lists)


@pytest.mark.timeout(300)
def test_profiles_and_lists_agree_with_the_model(compiled: CompiledSpec, spec: dict[str, Any]) -> None:
    ProfilesAndLists.compiled = compiled
    ProfilesAndLists.spec = spec
    machine = ProfilesAndLists.TestCase
    machine.settings = settings(
        max_examples=30,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    machine().runTest()
