"""Where kdk finds a project's lock, cache and client (kdk._paths), and package data: fast unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kdk import _paths


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ("KDK_PROJECT_ROOT", "KDK_CACHE_DIR", "KDK_LOCK_PATH"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    yield
    _paths.use_lock(None)


def test_tool_kdk_table_sets_lock_cache_and_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "shop" / "src" / "deep").mkdir(parents=True)
    (tmp_path / "shop" / "pyproject.toml").write_text(
        '[project]\nname = "shop"\n\n[tool.kdk]\nlock = "config/klaviyo.lock.json"\ncache = ".kdk"\n'
        'generated = "sdk"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path / "shop" / "src" / "deep")
    project = _paths.current_project()
    root = (tmp_path / "shop").resolve()
    assert project.root == root
    assert project.lock == root / "config" / "klaviyo.lock.json"
    assert project.cache == root / ".kdk"
    assert project.generated == root / "sdk"
    assert "[tool.kdk]" in project.found_by


def test_a_lock_file_upward_marks_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "app" / "tests").mkdir(parents=True)
    (tmp_path / "app" / "klaviyo.lock.json").write_text("{}", encoding="utf-8")
    (tmp_path / "app" / "tests" / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path / "app" / "tests")
    project = _paths.current_project()
    assert project.lock == (tmp_path / "app" / "klaviyo.lock.json").resolve()
    # the spec cache is the user's (platformdirs honours XDG_CACHE_HOME on Linux), not the project's
    assert project.cache == (tmp_path / "xdg" / "klaviyo-devkit").resolve()


def test_without_a_lock_the_nearest_pyproject_is_the_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "repo" / "pkg").mkdir(parents=True)
    (tmp_path / "repo" / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path / "repo" / "pkg")
    assert _paths.lock_path() == (tmp_path / "repo" / "klaviyo.lock.json").resolve()
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert _paths.lock_path() == empty.resolve() / "klaviyo.lock.json"


def test_cache_env_and_lock_option_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "pyproject.toml").write_text('[tool.kdk]\ncache = "c"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path / "p")
    monkeypatch.setenv("KDK_CACHE_DIR", str(tmp_path / "env-cache"))
    _paths.use_lock(tmp_path / "elsewhere" / "my.lock.json")
    project = _paths.current_project()
    assert project.cache == (tmp_path / "env-cache").resolve()
    assert project.lock == (tmp_path / "elsewhere" / "my.lock.json").resolve()
    assert project.found_by == "--lock"


def test_project_root_env_is_a_checkout_shaped_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KDK_PROJECT_ROOT", str(tmp_path))
    assert _paths.lock_path() == tmp_path.resolve() / "openapi" / "klaviyo.lock.json"
    assert _paths.cache_dir() == tmp_path.resolve() / "openapi" / ".cache"
    assert _paths.generated_dir() == tmp_path.resolve() / "generated"


def test_this_checkout_keeps_its_lock_and_cache_under_openapi(monkeypatch: pytest.MonkeyPatch) -> None:
    checkout = Path(__file__).resolve().parents[3]
    monkeypatch.chdir(checkout / "mock_server")
    assert _paths.lock_path() == checkout / "openapi" / "klaviyo.lock.json"
    assert _paths.cache_dir() == checkout / "openapi" / ".cache"


def test_generator_templates_are_found_from_the_checkout() -> None:
    from kdk.generate._run import generator_dir

    assert (generator_dir() / "config.yaml").is_file()
    assert sorted((generator_dir() / "templates").glob("*.py.jinja"))  # the templates the generator renders


def test_newest_stable_ref_of_a_directory_source(tmp_path: Path) -> None:
    from kdk.spec._ensure import newest_stable_ref

    for ref in ("2024-02-15", "2025-10-15", "2026-01-15.pre", "main"):
        (tmp_path / ref / "openapi").mkdir(parents=True)
        (tmp_path / ref / "openapi" / "stable.json").write_text("{}", encoding="utf-8")
    (tmp_path / "2026-04-15" / "openapi").mkdir(parents=True)  # a beta-only revision is not stable
    (tmp_path / "2026-04-15" / "openapi" / "beta.json").write_text("{}", encoding="utf-8")
    assert newest_stable_ref(str(tmp_path)) == "2025-10-15"
