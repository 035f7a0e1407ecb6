"""Running schemathesis over the pinned, patched spec: in-process over ASGI (the mock app) or over HTTP.

One function, `run_contract`, used by the pytest suite, `kdk contract` and integrators. It builds the
schemathesis configuration (profile, auth, the `revision` header, exclusions), runs the engine and reduces
its events to a `ContractResult` (operations x checks, failures with a curl line each).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._depth import composition_depths
from ._documented import documented_values
from ._results import CheckFailure, ContractResult
from .exclusions import EXAMPLES_PHASE_MAX_COMPOSITION_DEPTH, is_excluded_failure

if TYPE_CHECKING:
    from kdk.spec import PatchedSpec

__all__ = [
    "DEFAULT_CHECKS",
    "PROFILES",
    "ContractOptions",
    "Profile",
    "examples_phase_excluded",
    "revision_options",
    "run_contract",
]

Spec = dict[str, Any]

# Every check schemathesis runs by default; listed so the summary shows a column even when nothing failed.
DEFAULT_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
)

PROFILE_ENV = "KDK_CONTRACT_PROFILE"
MOCK_URL = "http://127.0.0.1:4010"  # where `kdk mock` listens by default: in-process failures replay there
_IN_PROCESS = "asgi"
CONTRACT_API_KEY = "pk_contract_tests_0000000000000000"


@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int  # fuzzing examples per operation (examples/coverage phases are bounded by the spec)
    coverage: bool
    stateful: bool
    stateful_max_steps: int = 6


PROFILES = {
    # CI (`.ci/run`): every operation, examples + fuzzing (3 cases each, positive and negative) + stateful.
    # The coverage phase is left to `full`: it is ~3/4 of the run time (measured 11 min for `full` on 2 cores).
    "default": Profile("default", max_examples=3, coverage=False, stateful=True),
    # Every phase including coverage (boundary and negative mutations per parameter and body property).
    "full": Profile("full", max_examples=3, coverage=True, stateful=True),
    # Integrators / nightly: every phase, many more generated cases per operation.
    "deep": Profile("deep", max_examples=50, coverage=True, stateful=True, stateful_max_steps=20),
    # A quick look: fuzzing only.
    "smoke": Profile("smoke", max_examples=1, coverage=False, stateful=False),
}


def _profile(name: str | None) -> Profile:
    chosen = name or os.environ.get(PROFILE_ENV) or "default"
    try:
        return PROFILES[chosen]
    except KeyError:
        raise ValueError(f"unknown contract profile {chosen!r} (choose from {', '.join(PROFILES)})") from None


@dataclass
class ContractOptions:
    target: str = "mock"  # "mock": the mock app in-process over ASGI; otherwise a base URL
    stateless: bool = False  # target "mock": the example-mode mock instead of the stateful (in-memory) default
    app: Any = None  # an ASGI app to test instead of building the mock (target "mock" only)
    profile: str | None = None  # default: $KDK_CONTRACT_PROFILE or "default"
    max_examples: int | None = None  # fuzzing examples per operation instead of the profile's (request budgets)
    operation_ids: Iterable[str] | None = None  # only these (default: every operation)
    api_key: str = CONTRACT_API_KEY
    read_only: bool = False  # --live: GET operations only, positive data only, nothing that writes
    # One worker: with two, CPython 3.11.7 intermittently raises "SystemError: AST constructor recursion depth
    # mismatch" inside schemathesis (concurrent ast use; fixed in later CPython releases), and the work is
    # GIL-bound anyway (measured: two workers were not faster).
    workers: int = 1
    seed: int | None = 0  # deterministic runs by default; None for a fresh seed
    max_failures: int | None = None
    # The patched spec to test (a plain dict is taken as already patched); default: the pinned one. With target
    # "mock" and no `app`, the mock is built from this same spec.
    spec: PatchedSpec | Spec | None = None
    on_event: Callable[[Any], None] | None = None  # progress hook (gets every engine event)
    # Request budgets (scripts/bench_reliability.py): generated cases this returns False for are not sent, and
    # once `stop` is set the run ends after the current scenario (the result holds what ran until then).
    case_filter: Callable[[Any], bool] | None = None
    stop: threading.Event | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)


def examples_phase_excluded(spec: Spec) -> list[str]:
    """Operations whose examples phase is skipped (see exclusions.py / _depth.py): deepest bodies only."""
    depths = composition_depths(spec)
    return sorted(op for op, depth in depths.items() if depth > EXAMPLES_PHASE_MAX_COMPOSITION_DEPTH)


def _revision(spec: Spec) -> str:
    return str((spec.get("info") or {}).get("version") or "")


def _config_dict(spec: Spec, options: ContractOptions, profile: Profile, *, examples: bool = True) -> dict[str, Any]:
    generation: dict[str, Any] = {"max-examples": profile.max_examples}
    if options.read_only:
        generation["mode"] = "positive"
    phases: dict[str, Any] = {
        "examples": {"enabled": examples},
        "coverage": {"enabled": profile.coverage and examples and not options.read_only},
        "fuzzing": {"enabled": True},
        "stateful": {
            # (the second pass holds only the deepest bodies: their links lead out of it)
            "enabled": profile.stateful and examples and not options.read_only,
            "max-steps": profile.stateful_max_steps,
        },
    }
    config: dict[str, Any] = {
        "workers": options.workers,
        "generation": generation,
        "phases": phases,
        "checks": {"enabled": True},
        # `revision` is client configuration, not data: real clients always send the pinned one, and the
        # API answers 400 to a malformed one (the spec's `type: string` does not say so).
        "parameters": {"header.revision": _revision(spec)},
        "auth": {"openapi": {"Klaviyo-API-Key": {"api_key": f"Klaviyo-API-Key {options.api_key}"}}},
        "request-timeout": 30,
        # The curl lines must reproduce: show the (fake) mock key; a real key (--live) stays masked.
        "output": {"sanitization": {"enabled": options.read_only}},
    }
    if options.seed is not None:
        config["seed"] = options.seed
    if options.max_failures is not None:
        config["max-failures"] = options.max_failures
    if options.extra_headers:
        config["headers"] = dict(options.extra_headers)
    return config


def revision_options(spec_path: Path, options: ContractOptions | None = None) -> ContractOptions:
    """`options` holding the target to the raw spec at `spec_path` (patched here), the in-process mock serving it."""
    from kdk.spec import PinnedSpec

    options = options or ContractOptions()
    options.spec = PinnedSpec.from_file(spec_path).patch()
    if options.target == "mock":
        options.app = _default_app(options.spec, stateless=options.stateless)
    return options


def _default_app(spec: PatchedSpec | None, *, stateless: bool = False) -> Any:
    """The mock of `spec` as `kdk mock` serves it: stateful in memory (or example mode with `stateless`); of
    the pinned spec when None (its compiled form is cached by the lock's sha256, the cache `kdk mock` uses)."""
    from mock_server import compile_patched, create_app, default_spec_path, load_compiled

    compiled = compile_patched(spec) if spec is not None else load_compiled(default_spec_path())
    if stateless:
        return create_app(compiled=compiled)
    from mock_server.state import behaviours_from_options

    return create_app(compiled=compiled, behaviours=behaviours_from_options({"state": "memory"}, compiled=compiled))


def _select(spec: Spec, options: ContractOptions) -> list[str]:
    """The operationIds to test: all, or the requested ones; only GETs in read-only mode."""
    from kdk.spec import iter_operations

    wanted = set(options.operation_ids) if options.operation_ids is not None else None
    return [
        op.operation_id
        for op in iter_operations(spec)
        if (wanted is None or op.operation_id in wanted) and (not options.read_only or op.method == "get")
    ]


def _label_map(spec: Spec) -> dict[str, str]:
    """schemathesis labels ("GET /api/profiles") -> operationId."""
    from kdk.spec import iter_operations

    return {f"{op.method.upper()} {op.path}": op.operation_id for op in iter_operations(spec)}


def run_contract(options: ContractOptions | None = None) -> ContractResult:
    """Run schemathesis with every default check; never raises for check failures (see the result)."""
    import schemathesis
    from schemathesis.config import SchemathesisConfig
    from schemathesis.engine import from_schema

    options = options or ContractOptions()
    profile = _profile(options.profile)
    if options.max_examples is not None:
        profile = dataclasses.replace(profile, max_examples=options.max_examples)
    from kdk.spec import PatchedSpec, load_pinned_spec

    given = PatchedSpec.of(options.spec) if options.spec is not None else None
    spec = given.content if given is not None else load_pinned_spec()
    if options.target == "mock":
        app = options.app if options.app is not None else _default_app(given, stateless=options.stateless)
        base_url = _IN_PROCESS
    else:
        app = None
        base_url = options.target.rstrip("/")

    stateless = app is not None and _is_stateless(app)
    labels = _label_map(spec)
    skipped = examples_phase_excluded(spec)
    selected = _select(spec, options)
    result = ContractResult(
        target=options.target if options.target != "mock" else "mock (in-process ASGI)",
        profile=profile.name,
        checks=list(DEFAULT_CHECKS),
        examples_phase_skipped=[op for op in skipped if op in selected],
    )
    documented = documented_values(spec)  # valid filters and cursors for the positive cases
    documented.register()
    started = time.perf_counter()
    # Two passes, because a per-operation `[[operations]]` entry in schemathesis' config turns off its
    # include/exclude filters (4.32): everything else with every phase, then the deepest bodies without the
    # examples and coverage phases (both explode on them; see exclusions.py).
    for examples_phase in (True, False):
        config = SchemathesisConfig.from_dict(_config_dict(spec, options, profile, examples=examples_phase))
        schema: Any = schemathesis.openapi.from_dict(documented.spec, config=config)
        schema.hook("filter_failure")(_drop_stateless_failures if stateless else _drop_excluded_failures)
        schema.hook("after_call")(functools.partial(_after_call, documented))
        if options.case_filter is not None:
            schema.hook("filter_case")(functools.partial(_filter_case, options.case_filter))
        if app is not None:
            schema.app = app
        else:
            schema.config.update(base_url=base_url)
        wanted = [op for op in selected if (op in skipped) != examples_phase]
        if not wanted:
            continue
        schema = schema.include(operation_id=wanted)
        operations = [labels.get(_operation_label(op), "") for op in schema.get_all_operations()]
        result.operations.extend(op for op in operations if op)
        if options.stop is not None and options.stop.is_set():
            break
        stream = from_schema(schema).execute()
        for event in stream:
            if options.on_event is not None:
                options.on_event(event)
            _record(event, result, labels, base_url)
            if options.stop is not None and options.stop.is_set():
                stream.stop()
    result.operations.sort()
    result.elapsed = time.perf_counter() - started
    return result


def _filter_case(keep: Callable[[Any], bool], context: Any, case: Any) -> bool:
    return keep(case)


def _after_call(documented: Any, context: Any, case: Any, response: Any) -> None:
    documented.collect_cursors(case, response)


def _operation_label(result: Any) -> str:
    operation = result.ok()
    return f"{operation.method.upper()} {operation.path}"


def _record(event: Any, result: ContractResult, labels: dict[str, str], base_url: str) -> None:
    from schemathesis.engine import Status, events

    if isinstance(event, events.ScenarioFinished):
        operation = labels.get(event.recorder.label, event.recorder.label)
        phase = event.phase.value if hasattr(event.phase, "value") else str(event.phase)
        for case_id, checks in event.recorder.checks.items():
            for check in checks:
                result.count(operation, check.name, failed=check.status == Status.FAILURE)
                if check.status == Status.FAILURE and check.failure_info is not None:
                    failure = check.failure_info.failure
                    node = event.recorder.cases.get(case_id)
                    result.add_failure(
                        CheckFailure(
                            operation=operation,
                            check=check.name,
                            phase=phase,
                            title=str(failure.title),
                            message=str(failure.message),
                            curl=_curl(check.failure_info.code_sample, base_url),
                            case_id=case_id,
                            detail=_case_description(node.value if node is not None else None),
                        )
                    )
    elif isinstance(event, events.NonFatalError):
        label = getattr(event, "label", "") or ""
        result.errors.append(f"{labels.get(label, label)}: {_error_text(event)}")
    elif isinstance(event, events.FatalError):
        result.errors.append(f"fatal: {_error_text(event)}")


def _drop_excluded_failures(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """schemathesis `filter_failure` hook: keep every failure except the ones exclusions.py lists."""
    return not is_excluded_failure(failure, case, _case_description(case), response=response)


def _drop_stateless_failures(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """The same, for the stateless mock (which does not remember deletions; see exclusions.py)."""
    return not is_excluded_failure(failure, case, _case_description(case), stateless_target=True, response=response)


def _is_stateless(app: Any) -> bool:
    """Whether an in-process app is the mock without any behaviour (no stateful layer) in any revision."""
    from mock_server import mock_core

    try:
        core = mock_core(app)
    except (LookupError, AttributeError):
        return False  # not our mock: hold it to every check
    return not any(served.behaviours for served in core.served.values())


def _case_description(case: Any) -> str:
    """What the case varied, when schemathesis says (coverage phase: "Null value for `x`", ...)."""
    meta = getattr(case, "meta", None) or getattr(case, "_meta", None)
    data = getattr(getattr(meta, "phase", None), "data", None)
    description = getattr(data, "description", "") or ""
    parameter = getattr(data, "parameter", None)
    location = getattr(data, "location", None)
    where = " ".join(str(x) for x in (parameter, location) if x)
    return f"{description} ({where})" if where and description else str(description)


def _error_text(event: Any) -> str:
    info = getattr(event, "info", None)
    if info is not None:
        return f"{getattr(info, 'title', '')}: {getattr(info, 'message', '')}".strip(": ")
    exc = getattr(event, "exception", None) or getattr(event, "value", None)
    return repr(exc)


def _curl(code_sample: str, base_url: str) -> str:
    """schemathesis' reproduction line; in-process runs are rewritten to a `kdk mock` on its default port."""
    line = code_sample.strip()
    if base_url == _IN_PROCESS:
        line = line.replace("http://testserver/", f"{MOCK_URL}/").replace("http://localhost/", f"{MOCK_URL}/")
    return line
