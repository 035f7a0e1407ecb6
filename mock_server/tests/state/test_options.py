"""`kdk mock --state/--seed-data/--rate-limits/--workers`: option checks, the factory, a real server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from mock_server._compile import CompiledSpec
from mock_server.state import (
    MemoryStore,
    SqliteStore,
    StatefulBehaviour,
    StateOptionError,
    behaviours_from_options,
    check_workers,
    open_store,
    validate_options,
)

from .conftest import ACCOUNT_ONE, API_KEY, JSONAPI


def test_open_store(tmp_path: Path) -> None:
    assert isinstance(open_store(None), MemoryStore) and isinstance(open_store("memory"), MemoryStore)
    store = open_store(f"sqlite:{tmp_path}/x/state.db")
    assert isinstance(store, SqliteStore) and (tmp_path / "x" / "state.db").is_file()
    store.close()
    with pytest.raises(StateOptionError):
        open_store("redis://nope")


def test_workers_need_sqlite_only_when_stateful() -> None:
    assert check_workers(None, 4) is None  # stateless: any number of workers
    assert "sqlite" in (check_workers("memory", 2) or "")
    assert "sqlite" in (check_workers(None, 2, seed_data="seed.yaml") or "")
    assert check_workers("sqlite:/tmp/x.db", 4) is None
    assert check_workers("memory", 1) is None


def test_validate_options(tmp_path: Path) -> None:
    assert validate_options(None, None, 1) is None
    assert "sqlite:PATH" in (validate_options("sqlite:", None, 1) or "")
    assert "cannot read" in (validate_options("memory", str(tmp_path / "none.json"), 1) or "")


def test_factory(tmp_path: Path, compiled: CompiledSpec) -> None:
    assert behaviours_from_options({}, compiled=compiled) == []
    seed = tmp_path / "seed.yaml"
    seed.write_text("accounts:\n  api_key:pk_test_one:\n    - {type: list, id: AbCdEf, attributes: {name: Seeded}}\n")
    [behaviour] = behaviours_from_options(
        {"state": f"sqlite:{tmp_path}/s.db", "seed_data": str(seed)}, compiled=compiled
    )
    assert isinstance(behaviour, StatefulBehaviour) and behaviour.stateful and behaviour.limiter is None
    behaviour.store.close()
    # A second start (a restart, another worker) does not load the seed twice.
    [again] = behaviours_from_options({"state": f"sqlite:{tmp_path}/s.db", "seed_data": str(seed)}, compiled=compiled)
    with again.store.transaction() as tx:
        assert len(tx.scan(ACCOUNT_ONE, "list")) == 1
    again.store.close()
    [limits_only] = behaviours_from_options({"rate_limits": True}, compiled=compiled)
    assert not limits_only.stateful and limits_only.limiter is not None
    with pytest.raises(StateOptionError):
        behaviours_from_options({"state": "memory", "workers": 2}, compiled=compiled)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(args: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [sys.executable, "-c", "from kdk.cli import main; main()", "mock", "--port", str(port), *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/__mock__/accounts", timeout=1)
            return process, base
        except httpx.HTTPError:
            if process.poll() is not None:
                raise AssertionError(process.stderr.read().decode() if process.stderr else "mock exited") from None
            time.sleep(0.1)
    process.kill()
    raise AssertionError("the mock did not start")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_kdk_mock_sqlite_workers_seed_and_restart(tmp_path: Path, compiled: CompiledSpec) -> None:
    seed = tmp_path / "seed.json"
    doc: dict[str, Any] = {
        "accounts": {"api_key:pk_test_one": [{"type": "list", "id": "Y6nRLr", "attributes": {"name": "Seeded"}}]}
    }
    seed.write_text(json.dumps(doc))
    args = ["--state", f"sqlite:{tmp_path}/mock.db", "--seed-data", str(seed), "--workers", "2"]
    process, base = _start(args)
    try:
        headers = {**API_KEY, **JSONAPI}
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/api/lists/Y6nRLr", headers=API_KEY).json()["data"]["attributes"]["name"] == "Seeded"
            created = [
                client.post(
                    "/api/profiles",
                    json={"data": {"type": "profile", "attributes": {"email": f"w{i}@example.com"}}},
                    headers=headers,
                )
                for i in range(20)
            ]
            assert {r.status_code for r in created} == {201}
    finally:
        _stop(process)

    process, base = _start(["--state", f"sqlite:{tmp_path}/mock.db", "--seed-data", str(seed)])
    try:
        with httpx.Client(base_url=base, timeout=10) as client:
            listed = client.get("/api/profiles", params={"page[size]": "100"}, headers=API_KEY).json()["data"]
            assert sorted(p["attributes"]["email"] for p in listed) == sorted(f"w{i}@example.com" for i in range(20))
            lists = client.get("/api/lists", headers=API_KEY).json()["data"]
            assert [item["id"] for item in lists] == ["Y6nRLr"]  # the seed was not loaded twice
    finally:
        _stop(process)


def test_kdk_mock_is_stateful_by_default_and_stateless_on_request() -> None:
    from typer.testing import CliRunner

    from kdk.cli import _register, app

    _register()
    runner = CliRunner()
    # No --state: in-memory state, so several workers are refused (each would see another account).
    default = runner.invoke(app, ["mock", "--workers", "2"])
    assert default.exit_code == 2 and "--stateless" in default.output, default.output
    both = runner.invoke(app, ["mock", "--stateless", "--state", "memory"])
    assert both.exit_code == 2 and "--stateless" in both.output, both.output


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_kdk_mock_default_remembers_and_stateless_does_not(compiled: CompiledSpec) -> None:
    """The README's first experiment: create Priya, find her by email; an unknown email finds nobody."""
    body = {"data": {"type": "profile", "attributes": {"email": "priya@example.com"}}}
    for args, stateful in (([], True), (["--stateless"], False)):
        process, base = _start(args)
        try:
            with httpx.Client(base_url=base, timeout=10) as client:
                created = client.post("/api/profiles", json=body, headers={**API_KEY, **JSONAPI})
                assert created.status_code == 201
                email = created.json()["data"]["attributes"]["email"]
                unknown = client.get(
                    "/api/profiles", params={"filter": 'equals(email,"nobody@example.com")'}, headers=API_KEY
                )
                if stateful:
                    assert email == "priya@example.com"
                    assert unknown.json()["data"] == []
                    again = client.post("/api/profiles", json=body, headers={**API_KEY, **JSONAPI})
                    assert again.status_code == 409
                else:
                    assert unknown.json()["data"] != []  # example mode: generated answers, nothing stored
        finally:
            _stop(process)


def test_an_unusable_sqlite_path_is_one_clear_message(tmp_path: Path) -> None:
    from mock_server.state import StateOptionError, open_store, validate_options

    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("not sqlite\n" * 100)
    under_a_file = f"sqlite:{not_a_database / 'state.db'}"  # its "directory" is a file (even root cannot)
    for option in (under_a_file, f"sqlite:{not_a_database}"):
        problem = validate_options(option, None, 1)
        assert problem is not None and problem.startswith("cannot open the SQLite state at"), problem
        with pytest.raises(StateOptionError, match="cannot open the SQLite state"):
            open_store(option)
