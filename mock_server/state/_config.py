"""Turning `kdk mock` options (`--state`, `--seed-data`, `--demo-data`, `--rate-limits`, `--workers`, `--key-scopes`,
`--disable-feature`) into a store.

`--state`: `memory` (the default), `sqlite:PATH`, or `postgresql://...` (psycopg is imported only then).
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ._schema import Spec
from ._sqlite import SqliteStore
from ._store import MemoryStore, Store

__all__ = [
    "StateOptionError",
    "behaviours_from_options",
    "check_workers",
    "is_shared_state",
    "open_store",
    "validate_options",
]


class StateOptionError(ValueError):
    pass


_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_STATE_FORMS = "`memory`, `sqlite:PATH` or `postgresql://USER@HOST/DB`"


def is_shared_state(option: str | None) -> bool:
    """Does this `--state` live outside the process (so several workers or machines can share it)?"""
    return (option or "").startswith(("sqlite:", *_POSTGRES_SCHEMES))


def open_store(option: str | None) -> Store:
    """`None`/`memory` -> in-memory; `sqlite:PATH` -> SQLite at PATH (created if missing);
    `postgresql://...` -> a PostgreSQL database (a libpq URL; the tables are created if missing)."""
    if option in (None, "", "memory"):
        return MemoryStore()
    assert option is not None
    if option.startswith("sqlite:") and option[len("sqlite:") :]:
        path = Path(option[len("sqlite:") :]).expanduser()
        try:
            return SqliteStore(path)
        except (sqlite3.Error, OSError) as exc:  # a missing directory, no permission, not a database
            raise StateOptionError(f"cannot open the SQLite state at {path}: {exc}") from None
    if option.startswith(_POSTGRES_SCHEMES):
        import psycopg

        from ._postgres import PostgresStore

        try:
            return PostgresStore(option)
        except psycopg.Error as exc:  # no server, bad credentials, no such database
            shown = option.split("@", 1)[-1] if "@" in option else option  # never echo a password
            raise StateOptionError(f"cannot open the PostgreSQL state at {shown}: {exc}") from None
    raise StateOptionError(f"--state must be {_STATE_FORMS}, not {option!r}")


def check_workers(state: str | None, workers: int, *, seed_data: str | None = None) -> str | None:
    """Why this combination cannot run (None if it can): in-memory state lives in one process only.
    Stateless runs (no `--state`, no `--seed-data`) may use any number of workers."""
    stateful = bool(state or seed_data)
    if stateful and workers > 1 and not is_shared_state(state):
        return (
            f"--workers {workers} needs shared state: in-memory state lives in one process, so each worker "
            "would see a different account. Use --state sqlite:PATH (for example --state sqlite:.kdk-mock.db) "
            "or --state postgresql://..., run one worker, or serve examples with --stateless."
        )
    return None


def validate_options(state: str | None, seed_data: str | None, workers: int) -> str | None:
    """Everything `kdk mock` can check before starting: the store option, workers, the seed file."""
    if state not in (None, "", "memory") and not is_shared_state(state):
        return f"--state must be {_STATE_FORMS}, not {state!r}"
    if state == "sqlite:":
        return "--state sqlite:PATH needs a PATH"
    if is_shared_state(state):
        try:
            open_store(state).close()  # created if missing, as the server would; refused here instead of at start
        except StateOptionError as exc:
            return str(exc)
    problem = check_workers(state, workers, seed_data=seed_data)
    if problem:
        return problem
    if seed_data:
        from ._seed import SeedError, load_seed_file

        try:
            load_seed_file(seed_data)
        except SeedError as exc:
            return str(exc)
    return None


def behaviours_from_options(
    options: dict[str, Any], *, compiled: Any = None, spec: Spec | None = None, alongside: Sequence[Any] = ()
) -> list[Any]:
    """What `kdk mock` runs with (called by mock_server._serve in every worker).

    Stateful mode is on when any of `state`, `seed_data`, `demo_data`, `rate_limits` is given; `--rate-limits` alone
    keeps the bodies stateless (rate limits and the journal only). Seed and demo data are loaded into accounts
    that are still empty, so restarts and several workers on one SQLite file do not load it twice.

    `alongside`: the behaviours of the revision served by default, when this one is another revision of the same
    mock. Klaviyo keeps one account whatever revision a request names, so this revision shares their store (its
    plan, seed and demo data included) and webhooks, and renders the same records in its own shapes.
    """
    state, seed, limits = options.get("state"), options.get("seed_data"), bool(options.get("rate_limits"))
    stored = bool(state or seed or options.get("demo_data"))  # anything kept: stateful bodies
    if not (stored or limits):
        return []
    problem = check_workers(state, int(options.get("workers") or 1), seed_data=seed or options.get("demo_data"))
    if problem:
        raise StateOptionError(problem)
    if spec is None:
        if compiled is None:
            raise StateOptionError("behaviours_from_options needs the compiled spec (or the spec itself)")
        spec = json.loads(Path(compiled.patched_json).read_bytes())
    from ._behaviour import StatefulBehaviour
    from ._limits import ResourceLimits
    from ._seed import apply_seed, load_seed_file

    bounds = ResourceLimits.from_options(options)  # journal/webhook bounds, shared rate-limit file (_limits.py)
    shared = next((b for b in alongside if isinstance(b, StatefulBehaviour)), None)
    if shared is not None:
        return [
            StatefulBehaviour(
                spec,
                shared.store,
                rate_limits=limits,
                stateful=stored,
                limits=bounds,
                webhooks=shared.webhooks,
                configure_store=False,
            )
        ]
    behaviour = StatefulBehaviour(spec, open_store(state), rate_limits=limits, stateful=stored, limits=bounds)
    if seed:
        apply_seed(behaviour.index, behaviour.store, load_seed_file(seed), only_empty=True)
    if options.get("account_settings"):  # `--key-scopes`/`--disable-feature`: the command line wins at every start
        apply_seed(behaviour.index, behaviour.store, {"settings": options["account_settings"]})
    if options.get("demo_data"):
        from ._demo import DEMO_ACCOUNT, load_demo, parse_demo_size

        account = str(options.get("demo_account") or DEMO_ACCOUNT)
        profiles = parse_demo_size(str(options["demo_data"]))
        started = time.perf_counter()
        loaded = load_demo(behaviour.index, behaviour.store, profiles, account=account)
        seconds = time.perf_counter() - started
        # One line on stderr (a large account takes a while; scripts/bench_state.py reads the figures from it).
        if loaded:
            print(
                f"kdk mock: demo data: {loaded:,} resources ({profiles:,} profiles) loaded into {account} "
                f"in {seconds:.2f} s",
                file=sys.stderr,
                flush=True,
            )
        else:
            print(f"kdk mock: demo data: {account} already holds resources; left as it is", file=sys.stderr)
    from ._seed import unfinished_loads

    for account, source in unfinished_loads(behaviour.store).items():  # (a load of this start ended: not these)
        print(
            f"kdk mock: {account} holds part of a load ({source}) that has not ended: it runs in another process, "
            "or it died (the next start with the same --demo-data/--seed-data loads it again, whole)",
            file=sys.stderr,
        )
    return [behaviour]
