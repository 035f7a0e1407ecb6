"""Large JSON seed files are streamed (`_seed_stream`): the same document, the same account, one resource at a time."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mock_server.state import (
    MemoryStore,
    ResourceIndex,
    SeedError,
    _seed,
    _seed_stream,
    apply_seed,
    export_state,
    load_seed_file,
)
from mock_server.state._demo import write_demo_seed
from mock_server.state._seed_stream import stream_seed_file


@pytest.fixture
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of a few characters: every value, key and number crosses a chunk boundary somewhere."""
    monkeypatch.setattr(_seed_stream, "_CHUNK", 7)


def _read(doc: dict[str, Any]) -> dict[str, Any]:
    """A streamed document read the way the seed loader reads it: the accounts first, then the rest."""
    accounts = {name: list(resources) for name, resources in doc["accounts"].items()}
    return {"accounts": accounts, "settings": doc.get("settings"), "version": doc.get("version")}


def test_a_streamed_document_reads_as_the_parsed_one(tmp_path: Path, tiny_chunks: None) -> None:
    document = {
        "version": 1.25,
        "accounts": {
            "api_key:pk_a": [{"type": "profile", "attributes": {"email": "a@example.com", "n": 12345678}}] * 3,
            "api_key:pk_empty": [],
            "api_key:pk_b": [{"type": "list", "attributes": {"name": 'Quote " and \\ and ] }'}}],
        },
        "settings": {"api_key:pk_a": {"scopes": "read-only"}},
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(document, indent=2), encoding="utf-8")
    assert _read(stream_seed_file(path)) == document


def test_a_member_after_the_accounts_asked_for_first_reads_past_them(tmp_path: Path, tiny_chunks: None) -> None:
    path = tmp_path / "seed.json"
    path.write_text(json.dumps({"accounts": {"api_key:pk_a": [{"type": "profile"}]}, "settings": {"x": 1}}))
    doc = stream_seed_file(path)
    assert doc.get("settings") == {"x": 1}
    assert isinstance(doc["accounts"], dict) and doc.get("missing") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"accounts": {"api_key:pk_a": [{"type": "profile"},]}}', "character"),
        ('{"accounts": {"api_key:pk_a": [{"type": "profile"}', "expected"),
        ('{"accounts": {"api_key:pk_a": {"type": "profile"}}}', "expected a list of resources"),
        ('{"accounts": {"api_key:pk_a": []}} trailing', "more data after the document"),
        ('["not", "an", "object"]', "expected '{'"),
    ],
)
def test_bad_json_is_a_clear_error_with_its_position(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "seed.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SeedError, match=message):
        _read(stream_seed_file(path))


def test_a_large_seed_file_loads_streamed_the_same_account(
    index: ResourceIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "demo.json"
    with path.open("w", encoding="utf-8") as out:
        write_demo_seed(out, index, 60, account="api_key:pk_x")
    parsed, streamed = MemoryStore(), MemoryStore()
    apply_seed(index, parsed, load_seed_file(path))
    monkeypatch.setattr(_seed, "STREAM_FROM_BYTES", 1)  # this small file is "large"
    monkeypatch.setattr(_seed, "_STREAM_BATCH", 100)  # and stored in several batches
    doc = load_seed_file(path)
    assert isinstance(doc["accounts"], _seed_stream._StreamedAccounts)
    assert apply_seed(index, streamed, doc) == apply_seed(index, MemoryStore(), load_seed_file(path)) > 100
    assert export_state(streamed) == export_state(parsed)
    path.write_text('{"accounts": 5', encoding="utf-8")
    with pytest.raises(SeedError, match="accounts"):
        apply_seed(index, MemoryStore(), load_seed_file(path))
