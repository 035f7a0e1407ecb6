"""Every `python` block of generated/README.md (and the client's block in README.md) runs, as written, against
the mock server in process.

The blocks build their clients the way users do (`Klaviyo()`), so the test points the environment at the mock
(`KLAVIYO_BASE_URL`, `KLAVIYO_API_KEY`) and swaps httpx's network transports for the mock app's (no sockets).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from kdk._paths import generated_dir

README = generated_dir() / "README.md"
ROOT_README = generated_dir().parent / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks(path: Path) -> list[str]:
    return _BLOCK.findall(path.read_text(encoding="utf-8"))


def _usage_blocks() -> list[str]:
    # The blocks that make a client (the READMEs also show repo tooling, e.g. ensure_importable, and pytest use).
    blocks = _blocks(README) + _blocks(ROOT_README)
    return [block for block in blocks if re.search(r"\b(Async)?Klaviyo\(", block)]


def test_the_readme_has_usage_examples() -> None:
    assert len(_usage_blocks()) >= 4


@pytest.fixture
def in_process_mock(kc: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from starlette.testclient import TestClient

    import mock_server  # our own package: a missing or broken one fails this test, never skips it

    app = mock_server.create_app()
    with TestClient(app, base_url="http://mock") as test_client:
        sync_transport = test_client._transport

        def sync_factory(*args: Any, **kwargs: Any) -> httpx.BaseTransport:
            return sync_transport

        def async_factory(*args: Any, **kwargs: Any) -> httpx.AsyncBaseTransport:
            return httpx.ASGITransport(app=app)

        monkeypatch.setattr(httpx, "HTTPTransport", sync_factory)
        monkeypatch.setattr(httpx, "AsyncHTTPTransport", async_factory)
        monkeypatch.setenv("KLAVIYO_BASE_URL", "http://mock")
        monkeypatch.setenv("KLAVIYO_API_KEY", "pk_test_0123456789abcdef")
        yield


@pytest.mark.parametrize("index", range(len(_usage_blocks())))
def test_readme_example_runs(index: int, in_process_mock: None, capsys: pytest.CaptureFixture[str]) -> None:
    block = _usage_blocks()[index]
    code = compile(block, f"{README.name}:block{index}", "exec")
    exec(code, {"__name__": f"readme_block_{index}"})
    assert capsys.readouterr().out.strip(), "the example printed nothing"


def test_readme_is_the_committed_file() -> None:
    assert Path(README).is_file()
