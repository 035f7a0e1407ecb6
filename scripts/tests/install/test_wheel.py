"""The wheel, installed as a user would: a fresh virtualenv in an empty temp directory, no checkout beside it.

Builds the wheel (`uv build --wheel`), installs it with `uv pip install` (versions held to uv.lock's, so CI is
reproducible; everything else comes from PyPI through uv's cache), then, in a new project directory, runs
`kdk spec fetch`, `kdk mock` with and without a lock, `kdk contract` against the mock, `kdk generate --output`,
and the README's pytest example ("Use it in your project") with the plugin. Specs come from the mirror
(KDK_SPEC_SOURCE); the kdk cache is a temp XDG cache directory, cold.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from contract_tests._mock_process import free_port

pytestmark = [pytest.mark.slow, pytest.mark.mirror, pytest.mark.timeout(3600)]

CHECKOUT = Path(__file__).resolve().parents[3]
README = CHECKOUT / "README.md"
KEY = "pk_wheel_test_0000000000000000"


def _uv() -> str:
    uv = os.environ.get("UV") or __import__("shutil").which("uv")
    if not uv:
        pytest.fail("uv is not on PATH (scripts/test bootstraps it): the wheel test builds and installs with uv")
    return uv


def _run(args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def _ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, f"{proc.args} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def readme_example_files() -> dict[str, str]:
    """The code blocks of README "Use it in your project" whose first line names a file (`# path`)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Use it in your project", 1)[1].split("\n## ", 1)[0]
    files: dict[str, str] = {}
    for block in re.findall(r"```[a-z]+\n(.*?)```", section, flags=re.S):
        first, _, rest = block.partition("\n")
        match = re.fullmatch(r"# ([\w./-]+\.(?:toml|yaml|py))", first.strip())
        if match:
            files[match.group(1)] = rest
    return files


@contextmanager
def _served(kdk: Path, cwd: Path, env: dict[str, str], *args: str) -> Iterator[tuple[str, Path]]:
    """`kdk mock` in its own process group; yields its URL and log file; stopped on exit."""
    port = free_port()
    log = cwd / f"mock-{port}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(kdk), "mock", "--port", str(port), *args],
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert proc.poll() is None, f"kdk mock exited {proc.returncode}:\n{log.read_text()}"
            try:
                httpx.get(url + "/openapi.json", timeout=5)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, f"kdk mock did not answer:\n{log.read_text()}"
                time.sleep(0.2)
        yield url, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _headers(revision: str) -> dict[str, str]:
    return {
        "Authorization": f"Klaviyo-API-Key {KEY}",
        "revision": revision,
        "Accept": "application/vnd.api+json",
        "Content-Type": "application/vnd.api+json",
    }


def test_readme_example_names_its_files() -> None:
    assert set(readme_example_files()) == {"pyproject.toml", "tests/klaviyo-seed.yaml", "tests/test_signup.py"}


def test_wheel_works_in_a_fresh_project(tmp_path: Path, mirror: Path) -> None:
    from kdk.spec._ensure import newest_stable_ref

    timings: dict[str, float] = {}
    mark = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        timings[name] = round(now - mark, 1)
        mark = now

    # -- build and install ------------------------------------------------------------------------------
    uv = _uv()
    uv_env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "KDK_", "UV_PROJECT"))}
    uv_env.pop("PYTHONPATH", None)
    _ok(_run([uv, "build", "--wheel", "--out-dir", str(tmp_path / "dist"), str(CHECKOUT)], cwd=tmp_path, env=uv_env))
    (wheel,) = (tmp_path / "dist").glob("klaviyo_devkit-*.whl")
    constraints = tmp_path / "constraints.txt"
    export = [uv, "export", "--frozen", "--no-hashes", "--no-emit-project", "--all-groups", "--no-header"]
    _ok(_run([*export, "--output-file", str(constraints)], cwd=CHECKOUT, env=uv_env))
    lap("build wheel")
    venv = tmp_path / "venv"
    _ok(_run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], cwd=tmp_path, env=uv_env))
    install = [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), "-c", str(constraints)]
    _ok(_run([*install, str(wheel), "pytest"], cwd=tmp_path, env=uv_env))
    lap("install into a fresh venv")
    kdk = venv / "bin" / "kdk"

    # -- a user's environment: the venv first on PATH, a cold cache, specs from the mirror ----------------
    env = {
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(tmp_path / "home"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg-cache"),
        "KDK_SPEC_SOURCE": str(mirror),
        "LANG": "C.UTF-8",
    }
    project = tmp_path / "my-shop"
    for name, content in readme_example_files().items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(content, encoding="utf-8")
    ref = newest_stable_ref(str(mirror))

    # -- kdk spec fetch: the lock where [tool.kdk] says, the spec in the user cache ----------------------
    fetched = json.loads(_ok(_run([str(kdk), "spec", "fetch", "--ref", ref, "--json"], cwd=project, env=env)))
    lock_file = project / "tests" / "klaviyo.lock.json"
    assert Path(fetched["lock_path"]) == lock_file.resolve()
    assert json.loads(lock_file.read_text(encoding="utf-8"))["ref"] == ref
    spec_file = tmp_path / "xdg-cache" / "klaviyo-devkit" / "specs" / f"{fetched['lock']['sha256']}.json"
    assert Path(fetched["spec_path"]) == spec_file.resolve() and spec_file.is_file()
    assert not list(venv.rglob("klaviyo.lock.json")), "nothing of the project's may land in the virtualenv"
    lap("kdk spec fetch")

    # -- the same through `uvx --from <wheel>`: same lock, same cache --------------------------------------
    uv_cache = _ok(_run([uv, "cache", "dir"], cwd=tmp_path, env=uv_env)).strip()
    # uv's own settings (TLS, index, config in HOME) from the caller; kdk's from the user environment above
    uvx_env = {**uv_env, "UV_CACHE_DIR": uv_cache, **{k: env[k] for k in ("XDG_CACHE_HOME", "KDK_SPEC_SOURCE")}}
    uvx = [uv, "tool", "run", "--quiet", "--python", sys.executable, "--from", str(wheel), "-c", str(constraints)]
    checked = _run([*uvx, "kdk", "spec", "fetch", "--check", "--json"], cwd=project, env=uvx_env)
    assert json.loads(_ok(checked))["status"] == "ok"
    lap("uvx --from <wheel> kdk spec fetch --check")

    # -- kdk mock without a lock: the newest stable revision, and it says so -----------------------------
    elsewhere = tmp_path / "no-lock-yet"
    elsewhere.mkdir()
    with _served(kdk, elsewhere, env) as (url, log):
        assert httpx.get(url + "/api/lists", headers=_headers(ref), timeout=30).status_code == 200
        assert f"serving the newest stable revision, {ref}" in log.read_text()
        assert f"kdk spec fetch --ref {ref}" in log.read_text()
    assert not (elsewhere / "klaviyo.lock.json").exists()
    lap("kdk mock without a lock")

    # -- kdk mock in the project (stateful) + kdk contract against it ------------------------------------
    with _served(kdk, project, env, "--state", "memory") as (url, _log):
        body = {"data": {"type": "profile", "attributes": {"email": "wheel@example.com"}}}
        created = httpx.post(url + "/api/profiles", json=body, headers=_headers(ref), timeout=30)
        assert created.status_code == 201, created.text
        listed = httpx.get(url + "/api/profiles", headers=_headers(ref), timeout=30).json()
        assert [p["attributes"]["email"] for p in listed["data"]] == ["wheel@example.com"]
        lap("kdk mock (stateful) answers")
        contract = [str(kdk), "contract", "--target", url, "--profile", "smoke", "--json"]
        # Not the collections yet: the stateful mock's links.self keeps `[`/`]` unescaped (not a "uri").
        operations = ("create_profile", "get_profile", "create_list", "get_list")
        for operation in operations:
            contract += ["--operation", operation]
        result = json.loads(_ok(_run(contract, cwd=project, env=env)))
        assert result["ok"] and result["tested_operations"] == len(operations), result
    lap("kdk contract (smoke, 4 operations)")

    # -- kdk generate --output: the client in the user's repository --------------------------------------
    generated = json.loads(_ok(_run([str(kdk), "generate", "--output", "sdk", "--json"], cwd=project, env=env)))
    report = generated["report"]
    assert report["operations_generated"] == report["operations_expected"] > 0
    assert (project / "sdk" / "klaviyo_client" / "__init__.py").is_file()
    assert (project / "sdk" / "pyproject.toml").is_file()
    lap("kdk generate --output sdk")

    # -- the README's test suite with the plugin -------------------------------------------------------
    suite = _run([str(venv / "bin" / "pytest"), "-p", "no:cacheprovider", "-q", "tests"], cwd=project, env=env)
    assert suite.returncode == 0, suite.stdout[-5000:] + suite.stderr[-2000:]
    assert "3 passed" in suite.stdout, suite.stdout[-3000:]
    lap("user test suite (plugin)")

    # -- a project with no lock: the plugin's test is an ERROR with the fix, not a skip -------------------
    bare = tmp_path / "bare-project"
    (bare / "tests").mkdir(parents=True)
    (bare / "pyproject.toml").write_text('[project]\nname = "bare"\nversion = "0"\n', encoding="utf-8")
    (bare / "tests" / "test_it.py").write_text(
        "def test_it(klaviyo_mock):\n    assert klaviyo_mock.base_url\n", encoding="utf-8"
    )
    failed = _run([str(venv / "bin" / "pytest"), "-p", "no:cacheprovider", "-q", "-rE"], cwd=bare, env=env)
    assert failed.returncode == 1, failed.stdout[-3000:]
    assert "1 error" in failed.stdout and "skipped" not in failed.stdout, failed.stdout[-3000:]
    assert "kdk spec fetch --ref" in failed.stdout, failed.stdout[-3000:]
    lap("no lock: plugin error")

    print("wheel test timings (s):", json.dumps(timings), f"total {sum(timings.values()):.0f}")
