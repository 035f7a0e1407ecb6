"""`kdk proxy`: forward traffic to Klaviyo (or any upstream) unchanged, hold it to the spec, record it.

- `ProxyApp(options)`: the ASGI app (forwarding, checks, drift report, recording, throttling).
- `Contract`: one revision's operations and the checks of a request and a response against them.
- `DriftReport`: violations as JSONL and a summary grouped by operation and schema location.
"""

from ._app import DEFAULT_UPSTREAM, ProxyApp, ProxyOptions
from ._contract import Contract, MatchedOperation, Violation
from ._report import DriftReport
from ._specs import ContractError, Contracts

__all__ = [
    "DEFAULT_UPSTREAM",
    "Contract",
    "ContractError",
    "Contracts",
    "DriftReport",
    "MatchedOperation",
    "ProxyApp",
    "ProxyOptions",
    "Violation",
]
