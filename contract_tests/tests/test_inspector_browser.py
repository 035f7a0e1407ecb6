"""The inspector page (/__mock__/ui) driven in headless Chromium over the DevTools protocol.

Data is created through the API; the page must show it (resources by type, relationships, the journal), then
the test clicks "Reset account" and sends an inbound SMS through the page's form. Screenshots of each step are
written to test-artifacts/inspector/ (or $KDK_TEST_ARTIFACTS/inspector/).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract_tests import MockProcess, running_mock

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

KEY = "pk_inspector_0000000000000000"
ARTIFACTS = Path(os.environ.get("KDK_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("chromium is not installed (Debian package `chromium`; .ci/run installs it)")


class Page:
    """One Chromium tab over the DevTools protocol (just what this test needs)."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("id") == call_id:
                assert "error" not in message, message
                return dict(message.get("result", {}))

    def eval(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, what: str, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.2)
        self.screenshot("timeout")
        pytest.fail(f"the page never showed {what}; body: {self.eval('document.body.innerText')!r}")

    def screenshot(self, name: str) -> Path:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path = ARTIFACTS / "inspector" / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


@pytest.fixture
def mock() -> Iterator[MockProcess]:
    with running_mock(api_key=KEY) as running:
        yield running


@pytest.fixture
def page(mock: MockProcess) -> Iterator[Page]:
    chromium = _chromium()
    profile = tempfile.mkdtemp(prefix="kdk-chromium-")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "--window-size=1400,900",
        "about:blank",
    ]
    process = subprocess.Popen([chromium, *flags], stderr=subprocess.PIPE, text=True)
    try:
        ws_url = _devtools_url(process)
        port = re.search(r":(\d+)/", ws_url)
        assert port is not None
        targets = httpx.get(f"http://127.0.0.1:{port.group(1)}/json", timeout=10).json()
        from websockets.sync.client import connect

        with connect(next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page"), max_size=None) as ws:
            tab = Page(ws)
            tab.call("Page.enable")
            yield tab
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


def _devtools_url(process: subprocess.Popen[str]) -> str:
    assert process.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        found = re.search(r"DevTools listening on (ws://\S+)", line)
        if found:
            return found.group(1)
        if not line and process.poll() is not None:
            break
    pytest.fail("chromium did not start its DevTools endpoint")


def _api(mock: MockProcess) -> Callable[..., httpx.Response]:
    def call(method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/vnd.api+json"} if body is not None else {}
        return mock.request(method, path, json=body, headers=headers)  # type: ignore[no-any-return]

    return call


def test_the_inspector_shows_the_account_and_drives_it(mock: MockProcess, page: Page) -> None:
    api = _api(mock)
    profile = api("POST", "/api/profiles", {"data": {"type": "profile", "attributes": {"email": "ada@example.com"}}})
    assert profile.status_code == 201, profile.text
    listed = api("POST", "/api/lists", {"data": {"type": "list", "attributes": {"name": "Newsletter"}}})
    assert listed.status_code == 201, listed.text
    list_id, profile_id = listed.json()["data"]["id"], profile.json()["data"]["id"]
    related = {"data": [{"type": "profile", "id": profile_id}]}
    assert api("POST", f"/api/lists/{list_id}/relationships/profiles", related).status_code == 204
    missing = api("GET", "/api/profiles/not-there")
    assert missing.status_code == 404

    page.call("Page.navigate", url=f"{mock.base_url}/__mock__/ui")
    # The page asks for the key (kept in the tab's sessionStorage, never in the URL) and acts on its account.
    page.wait_for("document.getElementById('status').textContent.includes('API key')", "the page asking for a key")
    page.eval(
        f"(() => {{ const box = document.getElementById('credential'); box.value = '{KEY}';"
        " box.dispatchEvent(new Event('change')); })()"
    )
    assert KEY not in page.eval("location.href")
    page.wait_for("!!document.querySelector('#types [data-type=profile]')", "the profile type")
    page.wait_for("document.querySelectorAll('#journal tr').length >= 4", "the journal")
    journal = page.eval("document.getElementById('journal').innerText")
    assert "POST\t/api/profiles\t201" in journal and "\t404" in journal, journal
    assert missing.json()["errors"][0]["detail"] in journal, journal  # the error body of a 4xx, as answered
    page.eval("document.querySelector('#types [data-type=list]').click()")
    shown = page.wait_for(
        "document.getElementById('resources').innerText.includes('Newsletter') && "
        "document.getElementById('resources').innerText",
        "the list",
    )
    assert f"profiles: profile {profile_id}" in shown, shown
    page.screenshot("1-list-with-relationship")
    page.eval(f"document.querySelector('a[href=\"#profile-{profile_id}\"]').click()")
    shown = page.wait_for(
        "document.getElementById('resources').innerText.includes('ada@example.com') && "
        "document.getElementById('resources').innerText",
        "the related profile",
    )
    page.screenshot("2-profile")

    page.eval("document.getElementById('reset').click()")
    page.wait_for("document.querySelectorAll('#types li').length === 0", "an empty account after reset")
    assert api("GET", "/api/profiles").json()["data"] == []
    page.screenshot("3-after-reset")

    page.eval(
        "(() => { const f = document.getElementById('inbound');"
        " f.phone_number.value = '+18108675309'; f.body.value = 'Hello, I need help!';"
        " f.requestSubmit(); })()"
    )
    result = page.wait_for("document.getElementById('inbound-result').innerText", "the inbound result")
    assert result.startswith("201"), result
    page.wait_for("!!document.querySelector('#types [data-type=conversation]')", "the conversation")
    account = mock.request("GET", "/__mock__/whoami").json()["account"]
    assert page.eval("document.getElementById('account').value") == account
    exported = mock.request("GET", "/__mock__/state").json()["accounts"][account]
    assert {r["type"] for r in exported} >= {"profile", "conversation"}
    page.screenshot("4-inbound-sms")


def test_inspector_files_are_served_with_their_types(mock: MockProcess) -> None:
    page = httpx.get(f"{mock.base_url}/__mock__/ui", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script src="/__mock__/ui/inspector.js">' in page.text
    script = httpx.get(f"{mock.base_url}/__mock__/ui/inspector.js", timeout=30)
    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
