"""ensure_generated: installs from the cache, leaves an up-to-date tree alone, repairs a stale one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kdk.generate import ensure_generated, ensure_generated_with_report, generation_key


def test_installs_then_reuses_then_repairs(small_patched_spec: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "generated"
    target.mkdir()
    (target / "README.md").write_text("committed readme\n", encoding="utf-8")

    package, report = ensure_generated_with_report(spec=small_patched_spec, target=target)
    assert package == target / "klaviyo_client" and (package / "client.py").is_file()
    assert report.key == generation_key(small_patched_spec) and report.complete
    stamp = json.loads((target / ".kdk-generated.json").read_text(encoding="utf-8"))
    assert stamp == {"key": report.key, "revision": "2026-07-15", "version": "2026.7.15"}
    assert (target / "README.md").read_text(encoding="utf-8") == "committed readme\n"

    marker = package / "marker.txt"
    marker.write_text("up to date: left alone", encoding="utf-8")
    ensure_generated(spec=small_patched_spec, target=target)
    assert marker.is_file()

    (target / ".kdk-generated.json").write_text('{"key": "stale"}', encoding="utf-8")
    ensure_generated(spec=small_patched_spec, target=target)
    assert not marker.exists()  # reinstalled from the cache
    assert (target / "README.md").read_text(encoding="utf-8") == "committed readme\n"


def test_key_follows_the_spec(small_patched_spec: dict[str, Any]) -> None:
    other = json.loads(json.dumps(small_patched_spec))
    other["info"]["description"] = "changed"
    assert generation_key(other) != generation_key(small_patched_spec)
    assert generation_key(small_patched_spec) == generation_key(json.loads(json.dumps(small_patched_spec)))
