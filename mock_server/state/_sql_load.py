"""What both SQL stores do around a bulk load (a demo account, a seed file): one load at a time across the
processes sharing the state (`LoadLock`, the stores' `load_lock`), and the hourly totals a load adds up in memory
and writes once, when it ends (`LoadTotals`, around `_sql_rollups.HeldTotals`)."""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from . import _sql_rollups as rollups
from ._plan import IndexPlan
from ._sql import Dialect, SqlTx

__all__ = ["LoadLock", "LoadTotals", "file_lock"]

log = logging.getLogger(__name__)


class LoadLock:
    """`Store.load_lock()`: held by one process at a time for a whole load, through `take` (a lock that the
    operating system or the database drops when its holder dies, so a crashed load leaves no lock behind: who
    gets it and finds a load's marker knows that load is dead, see `_seed`). Re-entrant in the holding thread
    (the demo loader takes it around the seed loader, which takes it too); other threads of the process wait."""

    def __init__(self, take: Callable[[], AbstractContextManager[None]]) -> None:
        self._take = take
        self._lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            with self._take():
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive `flock` on `path` (created if needed), waited for; the kernel drops it when the process dies."""
    with path.open("a") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("waiting for a load into this state by another process to end (%s)", path)
            fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


class LoadTotals:
    """A SQL store's share of `HeldTotals`: `holding(transaction)` around a bulk load (its hourly totals are
    held back meanwhile, and written in one transaction when it ends); `transaction(begun, plan, write)` is each
    transaction's `SqlTx`, whose held totals are kept once it has committed."""

    def __init__(self) -> None:
        self._held: rollups.HeldTotals | None = None

    @contextmanager
    def holding(self, transaction: Callable[[], AbstractContextManager[object]]) -> Iterator[None]:
        self._held = held = rollups.HeldTotals()
        try:
            yield
        finally:
            self._held = None
            if held.accounts:
                with transaction() as tx:
                    assert isinstance(tx, SqlTx)
                    tx.write_held(held)

    @contextmanager
    def transaction(self, begun: AbstractContextManager[Dialect], plan: IndexPlan, *, write: bool) -> Iterator[SqlTx]:
        """`begun`: the store's transaction on one connection (rolled back if the block raises)."""
        held = self._held
        with begun as dialect:
            tx = SqlTx(dialect, plan, write=write, held=held)
            yield tx
        if held is not None:  # committed: a load's totals are kept for its end
            for account, deltas in tx.held_totals.items():
                held.committed(account, deltas)
