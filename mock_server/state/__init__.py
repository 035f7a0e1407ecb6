"""The stateful mock: a Klaviyo account offline, derived from the spec (see README.md, "Stateful mock").

`StatefulBehaviour` plugs into the mock core as a `Behaviour`; `open_store`/`check_workers` back the
`kdk mock --state/--workers` options; `load_seed_file`/`apply_seed` back `--seed-data`.
"""

from ._behaviour import ADMIN_PREFIX, StatefulBehaviour
from ._config import StateOptionError, behaviours_from_options, check_workers, open_store, validate_options
from ._index import Kind, OpInfo, ResourceIndex, build_index
from ._ratelimit import RateLimiter
from ._seed import SeedError, apply_seed, export_state, load_seed_file
from ._sqlite import SqliteStore
from ._store import MemoryStore, Store
from ._webhooks import WebhookSender, sign

__all__ = [
    "ADMIN_PREFIX",
    "Kind",
    "MemoryStore",
    "OpInfo",
    "RateLimiter",
    "ResourceIndex",
    "SeedError",
    "SqliteStore",
    "StateOptionError",
    "StatefulBehaviour",
    "Store",
    "WebhookSender",
    "apply_seed",
    "behaviours_from_options",
    "build_index",
    "check_workers",
    "export_state",
    "load_seed_file",
    "open_store",
    "sign",
    "validate_options",
]
