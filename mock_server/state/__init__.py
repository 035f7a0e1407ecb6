"""The stateful mock: a Klaviyo account offline, derived from the spec (see README.md, "Stateful mock").

`StatefulBehaviour` plugs into the mock core as a `Behaviour`; `open_store`/`check_workers` back the
`kdk mock --state/--workers` options; `load_seed_file`/`apply_seed` back `--seed-data`;
`load_demo`/`write_demo_seed` back `--demo-data` and `kdk seed generate` (`_demo`: realistic demo accounts);
`settings_from_options` backs `--key-scopes`/`--disable-feature` (`_account_settings`: a key's scopes and an
account's features, checked for every operation as Klaviyo's 403s).

Layout (moto's shape): `_index` classifies every operation from the spec; `_dispatch` picks the backend
method for an operation and renders the one error type (`_errors`, a `MockError`) once; `_backends/` hold
the domain rules per resource type (`_base` generic CRUD for every type, `_profiles`, `_jobs`,
`_conversations`, ...) and return `_models.Outcome`s; `_render` turns those into JSON:API documents;
`_collections`/`_filters` run queries; `_store` (memory), `_sqlite` and `_postgres` (sharing `_sql`) keep
the records, indexed as `_plan` derives from the spec. Id shapes and type naming
conventions come from `mock_server`'s `id_rules` (one module, shared with the stateless generator).
"""

from ._account_settings import SettingsError, settings_from_options
from ._behaviour import ADMIN_PREFIX, StatefulBehaviour
from ._config import StateOptionError, behaviours_from_options, check_workers, open_store, validate_options
from ._demo import DEMO_ACCOUNT, DemoSizeError, demo_resources, load_demo, parse_demo_size, write_demo_seed
from ._index import Kind, OpInfo, ResourceIndex, build_index
from ._ratelimit import RateLimiter
from ._seed import SeedError, apply_seed, export_state, load_seed_file
from ._sqlite import SqliteStore
from ._store import MemoryStore, Store
from ._webhooks import WebhookSender, sign

__all__ = [
    "ADMIN_PREFIX",
    "DEMO_ACCOUNT",
    "DemoSizeError",
    "Kind",
    "MemoryStore",
    "OpInfo",
    "RateLimiter",
    "ResourceIndex",
    "SeedError",
    "SettingsError",
    "SqliteStore",
    "StateOptionError",
    "StatefulBehaviour",
    "Store",
    "WebhookSender",
    "apply_seed",
    "behaviours_from_options",
    "build_index",
    "check_workers",
    "demo_resources",
    "export_state",
    "load_demo",
    "load_seed_file",
    "open_store",
    "parse_demo_size",
    "settings_from_options",
    "sign",
    "validate_options",
    "write_demo_seed",
]
