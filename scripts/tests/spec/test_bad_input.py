"""The spec pipeline under bad input, one table of cases: `kdk spec fetch` refuses each with one `error:` line
and exit 2, the lock and cache byte-identical; `kdk spec validate` names each in one located line per
problem (exit 2 when the file cannot be read as a spec at all), never with a traceback; a `$ref` is never
fetched or read from disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from kdk.spec._fetch import fetch_and_pin

from ._fault_server import FaultServer
from .conftest import Project, SpecTree, tiny_spec

RunFetch = Callable[..., Result]


def _billion_laughs() -> bytes:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        name, prev = chr(97 + i), chr(96 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return ("\n".join(lines) + "\n").encode()


def _with_schemas(**schemas: Any) -> bytes:
    spec = tiny_spec("2026-01-15", 1)
    spec["components"] = {"schemas": schemas}
    return json.dumps(spec).encode()


# name -> (file content, what `kdk spec fetch` says)
UNREADABLE: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty": (lambda: b"", "invalid JSON"),
    "binary-garbage": (lambda: bytes(range(256)) * 16, "not UTF-8"),
    "50-MB-not-a-spec": (lambda: b'{"x": "' + b"a" * (50 * 1024 * 1024) + b'"}', "not an OpenAPI"),
    "yaml-bomb": (_billion_laughs, "invalid JSON"),
    "deep-nesting": (lambda: b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
}


@pytest.fixture
def pinned(project: Project, spec_tree: SpecTree) -> dict[str, bytes]:
    fetch_and_pin(source=str(spec_tree.root))
    return project.snapshot()


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_fetch_refuses_bad_content_and_keeps_the_pin(
    case: str, project: Project, spec_tree: SpecTree, pinned: dict[str, bytes], run_fetch: RunFetch
) -> None:
    content, needle = UNREADABLE[case]
    bad = spec_tree.path("bad", "stable")
    bad.parent.mkdir(parents=True)
    bad.write_bytes(content())
    result = run_fetch("--source", str(spec_tree.root), "--ref", "bad")
    assert result.exit_code == 2, (result.exit_code, result.output[-2000:])
    message = result.stderr.strip()
    assert "\n" not in message and message.startswith("error: ") and needle in message, message
    assert "Traceback" not in result.output and len(message) < 500
    assert project.snapshot() == pinned


def _validate(path: Path) -> Result:
    import kdk.commands.validate  # noqa: F401  (registers the verb)
    from kdk.commands._app import app

    return CliRunner().invoke(app, ["spec", "validate", str(path)])


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_validate_names_unreadable_files_in_one_line(case: str, tmp_path: Path) -> None:
    path = tmp_path / ("spec.yaml" if case == "yaml-bomb" else "spec.json")
    path.write_bytes(UNREADABLE[case][0]())
    result = _validate(path)
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    if case == "50-MB-not-a-spec":  # readable JSON: located findings, each one short line
        assert result.exit_code == 1 and lines and all(len(line) < 1000 for line in lines), result.output[:2000]
    else:
        assert result.exit_code == 2 and len(lines) == 1, result.output[:2000]


@pytest.mark.parametrize(
    "case",
    ["ref-cycle", "self-ref", "remote-ref", "file-ref", "relative-file-ref"],
)
def test_validate_never_follows_a_ref_out_of_the_file(
    case: str, tmp_path: Path, fault_server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text('{"A": {"type": "string", "description": "SECRET-CONTENT"}}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    refs = {
        "ref-cycle": _with_schemas(A={"$ref": "#/components/schemas/B"}, B={"$ref": "#/components/schemas/A"}),
        "self-ref": _with_schemas(A={"$ref": "#/components/schemas/A"}),
        "remote-ref": _with_schemas(A={"$ref": f"{fault_server.url}/secret.json#/A"}),
        "file-ref": _with_schemas(A={"$ref": f"{secret.as_uri()}#/A"}),
        "relative-file-ref": _with_schemas(A={"$ref": "secret.json#/A"}),
    }
    path = tmp_path / "spec.json"
    path.write_bytes(refs[case])
    result = _validate(path)
    assert result.exit_code == 1, result.output[-2000:]
    assert "Traceback" not in result.output and "crashed" not in result.output, result.output[-2000:]
    assert "ref-unresolved" in result.output
    assert "SECRET-CONTENT" not in result.output
    assert fault_server.requests == []
