"""Fixtures for the spec-layer tests: a throwaway project root, a mirror of small hand-written specs,
a fault-injecting HTTP server, and the `kdk spec fetch` CLI."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from ._fault_server import FaultServer


def tiny_spec(version: str, operations: int, *, padding: int = 0) -> dict[str, Any]:
    """A small OpenAPI document shaped like Klaviyo's (`padding` bytes of description make it bigger)."""
    paths = {
        f"/api/things-{i}": {
            "get": {
                "operationId": f"get_things_{i}",
                "parameters": [{"name": "revision", "in": "header", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok"}},
            }
        }
        for i in range(operations)
    }
    return {
        "openapi": "3.0.2",
        "info": {"title": "Klaviyo API (tiny)", "version": version, "description": "x" * padding},
        "paths": paths,
    }


# (ref, channel) -> (info.version, operation count, padding); 2026-04-15 is big enough for several chunks.
TREE = {
    ("2026-07-15", "stable"): ("2026-07-15", 3, 0),
    ("2026-04-15", "stable"): ("2026-04-15", 2, 300_000),
    ("main", "stable"): ("2026-10-15", 4, 0),
    ("main", "beta"): ("2026-10-15.pre", 5, 0),
}


@dataclass
class SpecTree:
    root: Path

    def path(self, ref: str, channel: str) -> Path:
        return self.root / ref / "openapi" / f"{channel}.json"

    def bytes(self, ref: str, channel: str) -> bytes:
        return self.path(ref, channel).read_bytes()


@pytest.fixture
def spec_tree(tmp_path: Path) -> SpecTree:
    """A local directory source laid out like github.com/klaviyo/openapi, holding tiny specs."""
    tree = SpecTree(tmp_path / "mirror")
    for (ref, channel), (version, operations, padding) in TREE.items():
        path = tree.path(ref, channel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(tiny_spec(version, operations, padding=padding), indent=1), encoding="utf-8")
    return tree


@dataclass
class Project:
    root: Path

    @property
    def lock(self) -> Path:
        return self.root / "openapi" / "klaviyo.lock.json"

    def cache(self, sha256: str) -> Path:
        return self.root / "openapi" / ".cache" / "specs" / f"{sha256}.json"

    def snapshot(self) -> dict[str, bytes]:
        """Every file under openapi/ (lock, cache, and any temp file a failed fetch might leave behind)."""
        base = self.root / "openapi"
        return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}

    def lock_data(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.lock.read_text(encoding="utf-8"))
        return data


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """An empty project root that kdk works on (KDK_PROJECT_ROOT), with near-zero retry backoff."""
    root = tmp_path / "project"
    (root / "openapi").mkdir(parents=True)
    monkeypatch.setenv("KDK_PROJECT_ROOT", str(root))
    monkeypatch.delenv("KDK_SPEC_SOURCE", raising=False)
    monkeypatch.setenv("KDK_FETCH_ATTEMPTS", "3")
    monkeypatch.setenv("KDK_FETCH_BACKOFF", "0.001")
    monkeypatch.setenv("KDK_FETCH_TIMEOUT", "2")  # stall tests pass a short --timeout
    return Project(root)


@pytest.fixture
def fault_server(spec_tree: SpecTree) -> Iterator[FaultServer]:
    server = FaultServer(spec_tree.root)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def run_fetch() -> Callable[..., Result]:
    """`kdk spec fetch ARGS...` in-process; the result has separate stdout and stderr."""
    import kdk.commands.fetch  # noqa: F401  (registers the verb)
    from kdk.commands._app import app

    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(app, ["spec", "fetch", *args])

    return run
