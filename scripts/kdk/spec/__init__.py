"""The spec layer: load, walk, overlay, lock/fetch, validate, diff. Everything else builds on it."""

from ._fetch import FetchError, check_cache, fetch_and_pin, fetch_spec, resolve_source
from ._load import SpecLoadError, load_spec, parse_spec_text
from ._lock import LockError
from ._overlay import FIXES, Fix, FixReport, OverlayResult, apply_overlay
from ._pinned import load_pinned_spec, pinned_spec_path
from ._walk import (
    HTTP_METHODS,
    Operation,
    deref,
    iter_operations,
    iter_schemas,
    join_pointer,
    operation_parameters,
    resolve_pointer,
    resolve_ref,
    walk_nodes,
)

__all__ = [
    "FIXES",
    "HTTP_METHODS",
    "FetchError",
    "Fix",
    "FixReport",
    "LockError",
    "Operation",
    "OverlayResult",
    "SpecLoadError",
    "apply_overlay",
    "check_cache",
    "deref",
    "fetch_and_pin",
    "fetch_spec",
    "iter_operations",
    "iter_schemas",
    "join_pointer",
    "load_pinned_spec",
    "load_spec",
    "operation_parameters",
    "parse_spec_text",
    "pinned_spec_path",
    "resolve_pointer",
    "resolve_ref",
    "resolve_source",
    "walk_nodes",
]
