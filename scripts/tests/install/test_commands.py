"""`--json`, `--lock`, progress bars, and serving without a lock: the commands as a user's project sees them."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from kdk import _paths


@pytest.fixture
def user_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mirror: Path) -> Iterator[Path]:
    """An empty directory as the working directory, a cold cache, the mirror as the spec source."""
    for name in ("KDK_PROJECT_ROOT", "KDK_LOCK_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KDK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KDK_SPEC_SOURCE", str(mirror))
    project = tmp_path / "project"
    project.mkdir()
    monkeypatch.chdir(project)
    yield project
    _paths.use_lock(None)


def _kdk(*args: str) -> Result:
    from kdk.cli import _register, app

    _register()
    return CliRunner().invoke(app, list(args))


def _newest(mirror: Path) -> str:
    from kdk.spec._ensure import newest_stable_ref

    return newest_stable_ref(str(mirror))


@pytest.mark.mirror
def test_fetch_json_pins_into_the_users_project(user_project: Path, tmp_path: Path, mirror: Path) -> None:
    ref = _newest(mirror)
    result = _kdk("spec", "fetch", "--ref", ref, "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["status"] == "pinned"
    assert document["lock"]["ref"] == ref
    assert Path(document["lock_path"]) == user_project.resolve() / "klaviyo.lock.json"
    assert Path(document["spec_path"]).parent == (tmp_path / "cache" / "specs").resolve()
    again = json.loads(_kdk("spec", "fetch", "--check", "--json").stdout)
    assert again["status"] == "ok"


@pytest.mark.mirror
def test_lock_option_points_at_another_lock(user_project: Path, tmp_path: Path, mirror: Path) -> None:
    elsewhere = tmp_path / "config" / "k.lock.json"
    result = _kdk("spec", "fetch", "--ref", _newest(mirror), "--lock", str(elsewhere))
    assert result.exit_code == 0, result.output
    assert elsewhere.is_file()
    assert not (user_project / "klaviyo.lock.json").exists()


@pytest.mark.mirror
def test_without_a_lock_the_newest_stable_is_served_unpinned(user_project: Path, mirror: Path) -> None:
    from kdk.spec._ensure import ensure_spec

    ensured = ensure_spec()
    assert not ensured.pinned
    assert ensured.ref == _newest(mirror) and ensured.channel == "stable"
    assert ensured.path.is_file()
    assert f"kdk spec fetch --ref {ensured.ref}" in ensured.note
    assert not (user_project / "klaviyo.lock.json").exists()


@pytest.mark.mirror
def test_a_missing_pinned_spec_is_fetched_again(user_project: Path, mirror: Path) -> None:
    from kdk.spec._ensure import ensure_spec

    assert _kdk("spec", "fetch", "--ref", _newest(mirror)).exit_code == 0
    pinned = ensure_spec()
    pinned.path.unlink()
    again = ensure_spec()
    assert again.pinned and again.path == pinned.path and again.path.is_file()


def test_generate_without_a_lock_says_how_to_pin(user_project: Path) -> None:
    result = _kdk("generate", "--output", "sdk")
    assert result.exit_code == 2
    assert "kdk spec fetch --ref" in result.stderr
    assert not (user_project / "sdk").exists()


def test_contract_without_a_lock_says_how_to_pin(user_project: Path) -> None:
    result = _kdk("contract", "--profile", "smoke")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no lock file at") and "kdk spec fetch --ref" in result.stderr


def test_status_and_download_bars_only_on_a_tty(monkeypatch: pytest.MonkeyPatch) -> None:
    from kdk.commands._options import download_bar, status_bar

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with status_bar("working") as show:
        show("step 1")
    assert sys.stderr.getvalue() == ""
    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    with status_bar("working") as show, download_bar("fetching") as update:
        show("step 1")
        assert update is not None
        update(10, 100)
