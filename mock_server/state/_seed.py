"""Seed fixtures (JSON or YAML) in, state out — both in the same shape, so an export is a seed:

accounts:
  <account>:                      # `api_key:<key>`, `oauth:<token>`, `company:<id>` or an account id `acct_...`
    - type: profile
      id: 01GDDKASAP8TKDDA2GRZDSVP4H   # optional; a Klaviyo-shaped id is made up when absent
      attributes: {email: sarah.mason@klaviyo-demo.com}
    - type: list
      attributes: {name: Newsletter}
      relationships: {profiles: {data: [{type: profile, id: 01GDDKASAP8TKDDA2GRZDSVP4H}]}}
settings:                         # optional, per account (`_account_settings`): the key's scopes, features
  api_key:pk_readonly:
    scopes: read-only             # `full`, `read-only`, or a list: [profiles:read, lists:write]
    features: {sms: false}        # conversations, sms, whatsapp (on unless turned off)
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from mock_server import MockError, account_for_name, id_rules

from ._account_settings import (
    SETTINGS_TYPE,
    AccountSettings,
    SettingsError,
    known_scopes,
    parse_settings,
    read_settings,
    write_settings,
)
from ._backends import Backends
from ._collector import collector_paused
from ._index import ResourceIndex
from ._models import ResourceInput
from ._seed_stream import STREAM_FROM_BYTES, SeedError, stream_seed_file
from ._store import BatchingTx, Store, StoreTx
from ._webhooks import WebhookSender

__all__ = [
    "LOAD_TYPE",
    "SeedError",
    "apply_seed",
    "export_state",
    "forget_unfinished_load",
    "load_seed_file",
    "unfinished_loads",
]

log = logging.getLogger(__name__)


_STREAM_BATCH = 5_000  # resources per transaction for a streamed account
# An account's load in progress: one record of a type no Klaviyo resource uses (as `SETTINGS_TYPE`), so it is
# written and dropped in the load's own transactions on every backend. `seq` 0: it takes no place in the
# creation order (a load stores exactly what it would store without it).
LOAD_TYPE = "kdk-seed-load"
_LOAD_ID = "load"


def load_seed_file(path: str | Path) -> dict[str, Any]:
    file = Path(path)
    if file.suffix == ".json" and file.is_file() and file.stat().st_size >= STREAM_FROM_BYTES:
        try:  # a large account (`kdk seed generate 1m`): its resources are read as they are stored
            return stream_seed_file(file)
        except OSError as exc:
            raise SeedError(f"{file}: cannot read seed data: {exc.strerror}") from exc
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"{file}: cannot read seed data: {exc.strerror}") from exc
    import yaml

    try:
        doc = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SeedError(f"{file}: not valid {'JSON' if file.suffix == '.json' else 'YAML'}: {exc}") from exc
    if not isinstance(doc, dict) or not (
        isinstance(doc.get("accounts"), dict) or isinstance(doc.get("settings"), dict)
    ):
        raise SeedError(f"{file}: seed data must be a mapping with an `accounts` (and/or `settings`) mapping")
    return doc


def apply_seed(
    index: ResourceIndex,
    store: Store,
    doc: dict[str, Any],
    *,
    only_empty: bool = False,
    batch_size: int | None = None,
    check_unique: bool = True,
    source: str = "seed data",
) -> int:
    """Load every resource of `doc`; returns how many were loaded. A bad resource raises SeedError
    (SQLite rolls back what was not yet committed; in memory, what came before it stays).
    With `only_empty` (a start's `--seed-data`, `--demo-data`), accounts that already hold resources are left
    alone, and the load is crash-safe: it runs under the store's `load_lock` (one load at a time across the
    processes sharing the state: a second worker waits for the first's load, then finds the account full), and
    each account it fills carries a marker (`LOAD_TYPE`, naming `source`) from its first write transaction until
    the load's last one. A start that finds a marker under the lock knows the load died mid-way (a kill -9, an
    hour into a 1M account) and empties the account to load it again (`forget_unfinished_load`): never is a
    part of an account kept as if it were the whole.

    An account's resources may be any iterable (a generator streams a large account in). They are written in
    one transaction per account, or one per `batch_size` resources (so a large account never holds the store
    for long, nor one huge SQLite transaction). `check_unique=False` skips the per-resource search for a
    resource with the same identifiers, for resources made unique by construction (demo accounts)."""
    # (a load allocates millions of short-lived objects and keeps few: no collections meanwhile)
    with collector_paused(), store.load_lock() if only_empty else nullcontext():
        return _apply_seed(index, store, doc, only_empty, batch_size, check_unique, source)


def forget_unfinished_load(store: Store, account: str) -> bool:
    """Under `store.load_lock()`: empty an account whose load did not end (its marker is stored, and no process
    holds the lock: its loader died), keeping its settings, so that it loads again from its start. True if so.

    Why load again rather than resume: a resource's place in a demo account's stream (or a seed file's) is known
    only by generating (reading) all that comes before it, so a resume saves little of a load's time; a seed file
    may have changed since (a resume would mix two files); and an emptied store loads the fast way (indexes
    built after). Loading again is exactly an uninterrupted load, whatever the source; the held hourly totals
    go with the account (`reset`) and are made again by the new load."""
    with store.transaction(write=False) as tx:
        marker = tx.get(account, LOAD_TYPE, _LOAD_ID)
        settings = read_settings(tx, account) if marker is not None else None
    if marker is None:
        return False
    attributes = marker.get("attributes") or {}
    log.warning(
        "account %s: a load (%s, started %s) did not end: what it stored is removed and the account loaded again",
        account,
        attributes.get("source", "seed data"),
        attributes.get("started", "at an earlier start"),
    )
    store.reset(account)
    if settings is not None:  # (a crash before this: `--key-scopes` and seed settings are written again)
        with store.transaction() as tx:
            write_settings(tx, account, settings)
    return True


def unfinished_loads(store: Store) -> dict[str, str]:
    """The accounts holding a load's marker (account -> what it loads): a load that died mid-way, or one that
    still runs in another process. What a start that loads nothing into them says (it serves them as they are)."""
    found: dict[str, str] = {}
    accounts = store.accounts()  # (at most `max_accounts`: a primary-key seek each, in one transaction)
    with store.transaction(write=False) as tx:
        for account in accounts:
            marker = tx.get(account, LOAD_TYPE, _LOAD_ID)
            if marker is not None:
                found[account] = str((marker.get("attributes") or {}).get("source", "seed data"))
    return found


def _apply_seed(
    index: ResourceIndex,
    store: Store,
    doc: dict[str, Any],
    only_empty: bool,
    batch_size: int | None,
    check_unique: bool,
    source: str,
) -> int:
    backends = Backends(index, store, id_rules(index.spec), WebhookSender())
    # Checked before anything is written, when the document holds them already: a streamed seed file has parsed
    # only what comes before its accounts, and asking it for a later member would read past (and lose) them.
    early = "settings" in doc
    settings = _parse_settings(index, doc.get("settings")) if early else {}
    count = 0
    kept: set[str] = set()  # accounts `only_empty` left alone (their settings too)
    marked: list[str] = []  # accounts whose load marker this load wrote (dropped with its last write)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for name, resources in (doc.get("accounts") or {}).items():
        if isinstance(resources, str | bytes | dict) or not isinstance(resources, Iterable):
            raise SeedError(f"accounts.{name}: expected a list of resources")
        account = account_for_name(str(name))
        if account is None:
            raise SeedError(
                f"accounts.{name}: name an account by its credential (`api_key:<key>`, `oauth:<token>`, "
                "`company:<company_id>`) or its id (`acct_...`)"
            )
        if only_empty and str(account) not in marked:  # (an account named twice: this load's marker is its own)
            forget_unfinished_load(store, str(account))
        items = enumerate(resources)
        first = True
        new = False  # an empty account loading resources unique by construction: appended, not looked up
        # A streamed account (a generator: demo data, a large seed file) is stored batch by batch as it comes.
        size = batch_size or (_STREAM_BATCH if isinstance(resources, Iterator) else None)
        while True:
            batch = list(itertools.islice(items, size)) if size else list(items)
            with store.transaction() as tx:
                # Checked in the first write transaction: workers starting together on one SQLite file load once.
                if first and (only_empty or not check_unique):
                    stored = set(tx.types(str(account))) - {SETTINGS_TYPE, LOAD_TYPE}
                    if stored and only_empty:
                        kept.add(str(account))
                        break
                    new = not stored and not check_unique
                if new:
                    tx.assume_new(str(account))
                held = BatchingTx(tx)  # the batch's records stored together (one round of statements in SQL)
                for i, item in batch:
                    _load_one(index, backends, held, str(account), f"accounts.{name}[{i}]", item, check_unique)
                held.flush()
                if first and only_empty:  # committed with the first records (after them: see `_load_one`'s errors)
                    marker = {"source": source, "started": started}
                    tx.put(
                        str(account),
                        {"type": LOAD_TYPE, "id": _LOAD_ID, "seq": 0, "attributes": marker, "relationships": {}},
                    )
                    marked.append(str(account))
            first = False
            count += len(batch)
            if not size or not batch:
                break
    if not early:
        settings = _parse_settings(index, doc.get("settings"))
    if settings or marked:
        # With `only_empty`, an account that held anything before this seed (`kept`, or settings) keeps it all.
        with store.transaction() as tx:
            for account, account_settings in settings.items():
                if only_empty and (account in kept or read_settings(tx, account) is not None):
                    continue
                write_settings(tx, account, account_settings)
            for account in marked:  # the load is whole (its settings too): its markers go in its last write
                tx.delete(account, LOAD_TYPE, _LOAD_ID)
    return count


def _parse_settings(index: ResourceIndex, settings: Any) -> dict[str, AccountSettings]:
    """The seed's `settings`, by account id: per account, its key's scopes and its features."""
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise SeedError("settings: expected a mapping of account -> {scopes, features}")
    known = known_scopes(index.spec)
    parsed: dict[str, AccountSettings] = {}
    for name, value in settings.items():
        account = account_for_name(str(name))
        if account is None:
            raise SeedError(f"settings.{name}: name an account as in `accounts` (`api_key:<key>`, `acct_...`)")
        try:
            parsed[account] = parse_settings(value, f"settings.{name}", known)
        except SettingsError as exc:
            raise SeedError(str(exc)) from None
    return parsed


def _load_one(
    index: ResourceIndex, backends: Backends, tx: StoreTx, account: str, where: str, item: Any, check_unique: bool
) -> None:
    if not isinstance(item, dict) or not isinstance(item.get("type"), str):
        raise SeedError(f"{where}: a resource needs a `type`")
    info = index.types.get(item["type"])
    backend = backends.for_type(item["type"])
    data = dict(item)
    data["relationships"] = {
        name: rel if isinstance(rel, dict) and "data" in rel else {"data": rel}
        for name, rel in (item.get("relationships") or {}).items()
    }
    incoming = ResourceInput.from_data(data, item["type"])
    for name, rel in data["relationships"].items():
        if rel.get("data") is None:
            incoming.relationships[name] = {"many": False, "data": []}
        elif isinstance(rel.get("joined"), dict) and name in incoming.relationships:
            # When each member joined (a list's or segment's, as an export writes it): growth reports count it.
            incoming.relationships[name]["joined"] = {str(k): v for k, v in rel["joined"].items()}
    try:
        record = incoming.record(backend.new_id(tx, account, incoming))
    except MockError as exc:  # an id the API would refuse (a control character)
        raise SeedError(f"{where}: {exc}") from None
    other = backend.find_existing(tx, account, record) if check_unique else None
    if other is not None:
        mine, theirs = record["attributes"], other.get("attributes") or {}
        shared = ", ".join(k for k, v in mine.items() if v not in (None, "") and theirs.get(k) == v)
        raise SeedError(f"{where}: {shared or 'an identifier'} is already used by {item['type']} {other['id']}")
    get_op = index.ops.get(info.get_op or "") if info else None
    if get_op:
        backend.complete(record, get_op)
    tx.put(account, record)


def export_state(store: Store, account: str | None = None) -> dict[str, Any]:
    accounts = [account] if account is not None else store.accounts()
    out: dict[str, Any] = {}
    settings: dict[str, Any] = {}
    with store.transaction(write=False) as tx:
        for name in accounts:
            resources = []
            account_settings = read_settings(tx, name)
            if account_settings is not None:
                settings[name] = account_settings.to_json()
            for rtype in tx.types(name):
                if rtype in (SETTINGS_TYPE, LOAD_TYPE):
                    continue
                for record in tx.scan(name, rtype):
                    rels = {
                        rel_name: {
                            "data": rel["data"] if rel.get("many") else (rel["data"][0] if rel["data"] else None)
                        }
                        for rel_name, rel in (record.get("relationships") or {}).items()
                    }
                    item = {"type": record["type"], "id": record["id"], "attributes": record.get("attributes") or {}}
                    if rels:
                        item["relationships"] = rels
                    resources.append((record["seq"], item))
            out[name] = [item for _, item in sorted(resources, key=lambda p: p[0])]
    return {"accounts": out, "settings": settings} if settings else {"accounts": out}
