"""A client session covering create, get, list, paginate, update and errors: run it against any base URL."""

from __future__ import annotations

import json
from typing import Any

import httpx

from .conftest import AUTH, JSON_API

PEOPLE = [
    ("ann.lee@gmail.com", "+14155550123", "Ann"),
    ("bo.chen@yahoo.com", "+14155550456", "Bo"),
    ("cy.diaz@outlook.com", "+14155550789", "Cy"),
]
WRITE = {**AUTH, "content-type": JSON_API}


def _profile(email: str, phone: str, name: str) -> str:
    attributes = {"email": email, "phone_number": phone, "first_name": name}
    return json.dumps({"data": {"type": "profile", "attributes": attributes}})


async def run_session(client: httpx.AsyncClient) -> list[tuple[str, httpx.Response]]:
    """Every request of the session with its response, in order."""
    seen: list[tuple[str, httpx.Response]] = []

    async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await client.request(method, url, **kwargs)
        seen.append((f"{method} {url}", response))
        return response

    ids = []
    for person in PEOPLE:
        created = await call("POST", "/api/profiles/", headers=WRITE, content=_profile(*person))
        ids.append(created.json()["data"]["id"])
    await call("POST", "/api/profiles/", headers=WRITE, content=_profile(*PEOPLE[0]))  # 409 duplicate
    await call("GET", f"/api/profiles/{ids[0]}/", headers=AUTH)
    await call("GET", "/api/profiles/", params={"filter": f'equals(email,"{PEOPLE[1][0]}")'}, headers=AUTH)
    page = await call("GET", "/api/profiles/", params={"page[size]": "2", "sort": "created"}, headers=AUTH)
    while page.json().get("links", {}).get("next"):
        next_url = httpx.URL(page.json()["links"]["next"])
        page = await call("GET", next_url.raw_path.decode(), headers=AUTH)
    update = {"data": {"type": "profile", "id": ids[2], "attributes": {"last_name": "Diaz"}}}
    await call("PATCH", f"/api/profiles/{ids[2]}/", headers=WRITE, content=json.dumps(update))
    await call("GET", f"/api/profiles/{ids[2]}/", params={"fields[profile]": "email,last_name"}, headers=AUTH)
    await call("GET", "/api/profiles/01JZZZZZZZZZZZZZZZZZZZZZZZ/", headers=AUTH)  # 404
    await call("GET", "/api/profiles/", params={"page[size]": "0"}, headers=AUTH)  # 400
    await call("POST", "/api/profiles/", headers=WRITE, content="{not json")  # 400
    await call("GET", "/api/profiles/", headers={"revision": AUTH["revision"]})  # 401
    return seen
