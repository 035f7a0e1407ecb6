"""Image uploads store an image: by multipart file and by URL or data URI; listed, read back and updated; an
upload's bytes are kept (within the limits) and served at its `image_url`."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mock_server._compile import CompiledSpec
from mock_server.state import StatefulBehaviour, Store
from mock_server.state._limits import ResourceLimits

from .conftest import ACCOUNT_ONE, ACCOUNT_TWO, API_KEY, JSONAPI, OTHER_KEY, STORE_KINDS, core_client, response_errors

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
    assert attrs["image_url"].startswith(f"http://mock.test/__mock__/images/{ACCOUNT_ONE}/")
    assert attrs["image_url"].endswith(".png") and "pk_test" not in attrs["image_url"]  # never the key
    # A real client downloads the URL: the same bytes, with the image's type, and no credentials needed.
    served = await client.get(attrs["image_url"])
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    checked = await client.head(attrs["image_url"])  # a HEAD answers the same headers (uvicorn drops the body)
    assert (checked.status_code, checked.headers["content-length"]) == (200, str(len(PNG)))
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
    served = await client.get(attrs["image_url"])
    assert (served.content, served.headers["content-type"]) == (PNG, "image/png")
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
    empty = await client.post("/api/image-upload", files={"file": ("a.png", b"", "image/png")}, headers=API_KEY)
    assert empty.status_code == 400 and empty.json()["errors"][0]["source"]["pointer"] == "/file"
    assert (await client.get("/api/images", headers=API_KEY)).json()["data"] == []  # nothing refused was stored


async def test_uploaded_bytes_are_bounded_per_image_and_per_account(
    make_behaviour: Callable[..., StatefulBehaviour], compiled: CompiledSpec
) -> None:
    behaviour = make_behaviour(limits=ResourceLimits(image_bytes=100, account_image_bytes=250))
    async with core_client(compiled, behaviour) as client:
        big = await client.post(
            "/api/image-upload", files={"file": ("big.png", b"x" * 101, "image/png")}, headers=API_KEY
        )
        assert big.status_code == 400, big.text
        assert big.json()["errors"][0]["source"]["pointer"] == "/file" and "100" in big.json()["errors"][0]["detail"]
        inline = from_url("data:image/gif;base64," + base64.b64encode(b"y" * 101).decode())
        refused = await client.post("/api/images", json=inline, headers=H)
        assert refused.status_code == 400
        assert refused.json()["errors"][0]["source"]["pointer"] == "/data/attributes/import_from_url"
        for n in range(2):  # 200 of the account's 250 bytes
            sent = await client.post(
                "/api/image-upload", files={"file": (f"{n}.png", b"z" * 100, "image/png")}, headers=API_KEY
            )
            assert sent.status_code == 201, sent.text
        full = await client.post(
            "/api/image-upload", files={"file": ("3.png", b"z" * 51, "image/png")}, headers=API_KEY
        )
        assert full.status_code == 413, full.text
        assert full.json()["errors"][0]["source"]["pointer"] == "/file"
        # A URL import keeps no bytes, and another account has its own allowance.
        assert (await client.post("/api/images", json=from_url("https://example.com/a.png"), headers=H)).is_success
        other = await client.post(
            "/api/image-upload", files={"file": ("o.png", b"o" * 100, "image/png")}, headers=OTHER_KEY
        )
        assert other.status_code == 201
        assert len((await client.get("/api/images", headers=API_KEY)).json()["data"]) == 3


async def test_images_stay_in_their_account(client: httpx.AsyncClient) -> None:
    made = await client.post("/api/image-upload", files={"file": ("logo.png", PNG, "image/png")}, headers=API_KEY)
    image = made.json()["data"]
    url = image["attributes"]["image_url"]
    assert (await client.get("/api/images", headers=OTHER_KEY)).json()["data"] == []
    assert (await client.get(f"/api/images/{image['id']}", headers=OTHER_KEY)).status_code == 404
    # The file is served only under its own account's path; a made-up or altered URL is a 404.
    token = url.rsplit("/", 1)[1]
    for wrong in (
        f"/__mock__/images/{ACCOUNT_TWO}/{token}",
        f"/__mock__/images/{ACCOUNT_ONE}/{'0' * 32}.png",
        f"/__mock__/images/api_key:pk_test_one/{token}",
        f"/__mock__/images/{ACCOUNT_ONE}/{image['id']}.png",
        f"/__mock__/images/{ACCOUNT_ONE}/{token.replace('.png', '.gif')}",
        f"/__mock__/images/{ACCOUNT_ONE}/{token}x",
    ):
        missing = await client.get(wrong)
        assert missing.status_code == 404, wrong
        assert (await client.head(wrong)).status_code == 404
        assert missing.json()["errors"][0]["status"] == 404


@pytest.mark.parametrize("kind", STORE_KINDS)
async def test_uploaded_bytes_are_served_from_every_store(
    kind: str,
    compiled: CompiledSpec,
    make_behaviour: Callable[..., StatefulBehaviour],
    open_any_store: Callable[[str], Store],
) -> None:
    gif = b"GIF89a" + bytes(range(256)) * 4  # every byte value, so nothing is mangled as text
    async with core_client(compiled, make_behaviour(open_any_store(kind))) as client:
        made = await client.post("/api/image-upload", files={"file": ("b.gif", gif, "image/gif")}, headers=API_KEY)
        assert made.status_code == 201, made.text
        url = made.json()["data"]["attributes"]["image_url"]
    if kind != "memory":  # a restart on the same state: the URL still serves the bytes
        async with core_client(compiled, make_behaviour(open_any_store(kind))) as client:
            served = await client.get(url)
            assert (served.status_code, served.content, served.headers["content-type"]) == (200, gif, "image/gif")
    else:
        async with core_client(compiled, make_behaviour(open_any_store(kind))) as client:
            assert (await client.get(url)).status_code == 404  # a new in-memory mock holds nothing


async def test_the_journal_notes_an_uploads_bytes_by_size(client: httpx.AsyncClient) -> None:
    made = await client.post("/api/image-upload", files={"file": ("logo.png", PNG, "image/png")}, headers=API_KEY)
    assert made.status_code == 201
    (entry,) = (await client.get("/__mock__/journal", headers=API_KEY)).json()["requests"]
    assert entry["status"] == 201
    assert entry["body"]["file"] == {
        "filename": "logo.png",
        "content_type": "image/png",
        "size": len(PNG),
        "content": f"<{len(PNG)} bytes>",
    }
