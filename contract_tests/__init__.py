"""contract_tests: hold the mock and the generated client to the spec.

- `run_contract(ContractOptions(spec=..., target=...))`: schemathesis over a `kdk.spec.PatchedSpec`, against the
  mock built from that same spec (in-process ASGI) or a base URL; returns a `ContractResult`.
- `running_mock()` / `MockProcess`: a real `kdk mock` process on a free port (also behind the pytest plugin's
  `klaviyo_mock` fixture, see `contract_tests.plugin`).
- `composition_depths` / `examples_phase_excluded`: which operations' bodies are too deep for the examples phase.

Light to import: schemathesis and hypothesis are imported when a run starts.
"""

from ._depth import body_composition_depth, composition_depths
from ._mock_process import MockProcess, MockStartError, free_port, running_mock
from ._results import CheckFailure, CheckTally, ContractResult
from ._schemathesis import (
    DEFAULT_CHECKS,
    PROFILES,
    ContractOptions,
    Profile,
    examples_phase_excluded,
    revision_options,
    run_contract,
)

__all__ = [
    "DEFAULT_CHECKS",
    "PROFILES",
    "CheckFailure",
    "CheckTally",
    "ContractOptions",
    "ContractResult",
    "MockProcess",
    "MockStartError",
    "Profile",
    "body_composition_depth",
    "composition_depths",
    "examples_phase_excluded",
    "free_port",
    "revision_options",
    "run_contract",
    "running_mock",
]
