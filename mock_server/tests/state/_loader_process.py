"""A demo load in a process of its own that stops mid-way, for the crash tests (`test_load_crash.py`):

    python -m mock_server.tests.state._loader_process SPEC STATE PROFILES STOP_AFTER

loads a demo account of PROFILES profiles into STATE (a SQLite path or a postgresql:// URL) in batches of
`BATCH` resources, and after its STOP_AFTER-th committed write transaction prints `stopped` and sleeps (holding
what a load holds: its lock, its marker, its held totals) until it is killed. With STOP_AFTER 0 it loads to the
end and prints `done`.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mock_server.state import SqliteStore, Store, build_index, load_demo
from mock_server.state import _demo as demo
from mock_server.state._backends import ROLLUPS
from mock_server.state._plan import build_plan
from mock_server.state._postgres import PostgresStore

BATCH = 100  # resources per transaction: a small account still loads in several


def open_state(state: str) -> Store:
    return PostgresStore(state) if state.startswith("postgresql") else SqliteStore(state)


def main(spec: str, state: str, profiles: int, stop_after: int) -> None:
    index = build_index(json.loads(Path(spec).read_bytes()))
    store = open_state(state)
    store.configure(build_plan(index, ROLLUPS))
    demo.DEMO_BATCH = BATCH
    opened = store.transaction
    commits = 0

    @contextmanager
    def transaction(*, write: bool = True) -> Iterator[Any]:
        nonlocal commits
        with opened(write=write) as tx:
            yield tx
        if write:
            commits += 1
            if commits == stop_after:
                print("stopped", flush=True)
                time.sleep(3600)  # until killed

    store.transaction = transaction  # type: ignore[method-assign]
    load_demo(index, store, profiles)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
