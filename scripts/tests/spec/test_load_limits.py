"""The loader under hostile input: alias bombs and deep nesting are one located error, never a hang or a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kdk.spec import SpecLoadError, load_spec, parse_spec_text


def _billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        name, prev = chr(97 + i), chr(96 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_is_refused_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(SpecLoadError, match="expands to more than"):
        parse_spec_text(_billion_laughs(), "bomb.yaml")
    assert time.monotonic() - started < 5  # a bound, not a benchmark: the bomb is never expanded


def test_yaml_aliases_within_bounds_still_load() -> None:
    spec = parse_spec_text("openapi: 3.0.0\nx: &shared {type: string}\ny: *shared\n", "ok.yaml")
    assert spec["y"] == {"type": "string"}


@pytest.mark.parametrize(
    ("text", "source"), [("[" * 100_000 + "]" * 100_000, "deep.json"), ("- " * 20_000 + "x", "deep.yaml")]
)
def test_deep_nesting_is_a_clear_error(text: str, source: str) -> None:
    with pytest.raises(SpecLoadError, match="nested too deeply"):
        parse_spec_text(text, source)


@pytest.mark.parametrize(("content", "reason"), [(b"", "invalid JSON"), (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8")])
def test_empty_and_binary_files(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "spec.json"
    path.write_bytes(content)
    with pytest.raises(SpecLoadError, match=reason):
        load_spec(path)
