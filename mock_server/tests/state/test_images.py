"""Image uploads store an image: by multipart file and by URL or data URI; listed, read back and updated."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from mock_server._compile import CompiledSpec

from .conftest import API_KEY, JSONAPI, response_errors

H = {**API_KEY, **JSONAPI}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def from_url(url: str, **attributes: Any) -> dict[str, Any]:
    return {"data": {"type": "image", "attributes": {"import_from_url": url, **attributes}}}


async def test_file_upload_is_stored_and_listed(client: httpx.AsyncClient, compiled: CompiledSpec, spec: Any) -> None:
    made = await client.post(
        "/api/image-upload", files={"file": ("logo.png", PNG, "image/png")}, data={"hidden": "true"}, headers=API_KEY
    )
    assert made.status_code == 201, made.text
    assert response_errors(compiled, spec, "/api/image-upload", "post", 201, made.json()) == []
    image = made.json()["data"]
    attrs = image["attributes"]
    assert (attrs["name"], attrs["format"], attrs["size"], attrs["hidden"]) == ("logo.png", "png", len(PNG), True)
    assert attrs["image_url"].startswith("https://") and attrs["image_url"].endswith(f"{image['id']}.png")
    assert "pk_test" not in attrs["image_url"]  # the account's key never appears in a URL
    listed = await client.get("/api/images", headers=API_KEY)
    assert response_errors(compiled, spec, "/api/images", "get", 200, listed.json()) == []
    assert [i["id"] for i in listed.json()["data"]] == [image["id"]]
    got = await client.get(f"/api/images/{image['id']}", headers=API_KEY)
    assert got.json()["data"]["attributes"] == attrs


async def test_url_and_data_uri_imports(client: httpx.AsyncClient) -> None:
    url = "https://cdn.example.com/img/Summer%20Sale.JPG"
    made = await client.post("/api/images", json=from_url(url), headers=H)
    assert made.status_code == 201, made.text
    attrs = made.json()["data"]["attributes"]
    assert (attrs["image_url"], attrs["format"], attrs["name"], attrs["hidden"]) == (
        url,
        "jpeg",
        "Summer Sale.JPG",
        False,
    )
    data_uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    inline = await client.post("/api/images", json=from_url(data_uri, name="pixel"), headers=H)
    assert inline.status_code == 201, inline.text
    attrs = inline.json()["data"]["attributes"]
    assert (attrs["name"], attrs["format"], attrs["size"]) == ("pixel", "png", len(PNG))
    assert not attrs["image_url"].startswith("data:")
    # A name in use gets a suffix, as documented.
    again = await client.post("/api/images", json=from_url(data_uri, name="pixel"), headers=H)
    assert again.json()["data"]["attributes"]["name"] == "pixel (2)"
    assert len((await client.get("/api/images", headers=API_KEY)).json()["data"]) == 3


async def test_update_image(client: httpx.AsyncClient) -> None:
    made = await client.post("/api/images", json=from_url("https://example.com/a.gif"), headers=H)
    iid = made.json()["data"]["id"]
    before = made.json()["data"]["attributes"]
    patch = {"data": {"type": "image", "id": iid, "attributes": {"name": "Banner", "hidden": True}}}
    updated = await client.patch(f"/api/images/{iid}", json=patch, headers=H)
    assert updated.status_code == 200, updated.text
    attrs = (await client.get(f"/api/images/{iid}", headers=API_KEY)).json()["data"]["attributes"]
    assert (attrs["name"], attrs["hidden"], attrs["format"], attrs["image_url"]) == (
        "Banner",
        True,
        "gif",
        "https://example.com/a.gif",
    )
    assert attrs["updated_at"] >= before["updated_at"]


async def test_refusals(client: httpx.AsyncClient) -> None:
    for bad in ("ftp://example.com/a.png", "https://example.com/a.webp", "data:image/png;base64,@@@", "not a url"):
        refused = await client.post("/api/images", json=from_url(bad), headers=H)
        assert refused.status_code == 400, bad
        assert refused.json()["errors"][0]["source"]["pointer"] == "/data/attributes/import_from_url"
    bmp = await client.post("/api/image-upload", files={"file": ("a.bmp", b"BM", "image/bmp")}, headers=API_KEY)
    assert bmp.status_code == 400
    assert (await client.get("/api/images", headers=API_KEY)).json()["data"] == []  # nothing refused was stored
