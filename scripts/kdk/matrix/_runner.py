"""Run the pipeline over revisions: fetch -> validate -> generate (-> mypy) -> mock start -> contract.

Every stage is the project's own library function (kdk.spec fetch/load/overlay/validate, kdk.generate's
`generate_project`, mock_server's `create_app`, contract_tests' `run_contract`); this module only times them and
turns what they say into a `MatrixRow`. A stage that fails or crashes becomes a `Problem` on the row and the later
stages still run where they can (the contract does not need the generated client), so one row shows everything
that is wrong with a revision. Nothing here writes the lock or `generated/`: fetched specs land in the
content-keyed spec cache, the client is generated into a temporary directory.

Each revision runs in a fresh worker process (`spawn`, one task per child): a revision that exhausts memory or
kills its interpreter becomes a row with the error, and `jobs` revisions can run side by side.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from ._model import ContractStage, GenerateStage, MatrixOptions, MatrixRow, MockStage, Revision, ValidateStage

__all__ = ["run_matrix", "run_revision"]

Spec = dict[str, Any]
_EXAMPLES = 3  # findings / failures quoted per row


def _crash(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _validate(row: MatrixRow, patched: Spec, options: MatrixOptions) -> None:
    from ..spec import Severity, validate_spec

    started = time.perf_counter()
    findings = validate_spec(patched)
    errors = sum(f.severity is Severity.error for f in findings)
    warnings = sum(f.severity is Severity.warning for f in findings)
    failing = [f for f in findings if f.fails(strict=options.strict)]
    row.validate = ValidateStage(
        errors=errors,
        warnings=warnings,
        seconds=time.perf_counter() - started,
        examples=[f"{f.pointer} [{f.rule}] {f.message}" for f in failing[:_EXAMPLES]],
    )
    if failing:
        row.fail("validate", f"{errors} errors, {warnings} warnings after the overlay, e.g. {row.validate.examples[0]}")


def _generate(row: MatrixRow, patched: Spec, options: MatrixOptions) -> None:
    from ..generate import check_mypy, generate_project

    with tempfile.TemporaryDirectory(prefix="kdk-matrix-client-") as scratch:
        result = generate_project(patched, Path(scratch) / "klaviyo-client")
        stage = GenerateStage(
            operations=result.operations_generated,
            operations_expected=result.operations_expected,
            models=result.models,
            warnings=len(result.warnings),
            dropped_schemas=len(result.dropped_schemas),
            seconds=result.seconds,
        )
        row.generate = stage
        if result.missing_operations or result.dropped_schemas or result.warnings:
            shown = [*result.missing_operations, *result.dropped_schemas, *(w.splitlines()[0] for w in result.warnings)]
            row.fail(
                "generate",
                f"{len(result.missing_operations)} operations and {len(result.dropped_schemas)} schemas dropped, "
                f"{len(result.warnings)} generator warnings, e.g. {'; '.join(shown[:_EXAMPLES])}",
            )
        if options.mypy:
            checked = check_mypy(result.project_dir, cache_dir=Path(scratch) / "mypy-cache")
            stage.mypy_errors = 0 if checked.ok else len(checked.problems)
            stage.mypy_seconds = checked.seconds
            if not checked.ok:
                row.fail("mypy", f"mypy --strict: {checked.summary}, e.g. {'; '.join(checked.problems[:_EXAMPLES])}")


def _mock(row: MatrixRow, spec_path: Path) -> Any:
    from mock_server import create_app

    started = time.perf_counter()
    app = create_app(spec_path)
    row.mock = MockStage(seconds=time.perf_counter() - started)
    return app


def _contract(row: MatrixRow, patched: Spec, app: Any, options: MatrixOptions) -> None:
    from contract_tests import ContractOptions, run_contract

    started = time.perf_counter()
    found = run_contract(ContractOptions(spec=patched, app=app, profile=options.profile))
    failures = [f"{f.operation} [{f.check}] {f.title}" for f in found.failures] + list(found.errors)
    row.contract = ContractStage(
        operations=len(found.tested_operations),
        operations_expected=len(found.operations),
        failures=len(failures),
        seconds=time.perf_counter() - started,
        profile=found.profile,
        examples=failures[:_EXAMPLES],
    )
    untested = len(found.operations) - len(found.tested_operations)
    if failures:
        row.fail("contract", f"{len(failures)} failures, e.g. {'; '.join(failures[:_EXAMPLES])}")
    if untested:
        row.fail("contract", f"{untested} of {len(found.operations)} operations were not exercised")


def run_revision(revision: Revision, options: MatrixOptions) -> MatrixRow:
    """Every stage on one revision, in this process. Never raises for what a revision does wrong."""
    from ..spec import FetchError, SpecLoadError, apply_overlay, fetch_spec, load_spec

    row = MatrixRow(revision)
    started = time.perf_counter()
    try:
        try:
            fetched = fetch_spec(options.source, revision.ref, revision.channel)
            row.operations, row.info_version, row.sha256 = fetched.operations, fetched.info_version, fetched.sha256
            patched = apply_overlay(load_spec(fetched.path), copy_spec=False).spec
        except (FetchError, SpecLoadError) as exc:
            row.fail("fetch", str(exc))
            return row
        except Exception as exc:  # the overlay crashing on a shape it never met is this revision's finding
            row.fail("fetch", f"cannot load and patch the spec: {_crash(exc)}")
            return row
        stages: list[tuple[str, Callable[[], None]]] = [
            ("validate", lambda: _validate(row, patched, options)),
            ("generate", lambda: _generate(row, patched, options)),
        ]
        for name, stage in stages:
            try:
                stage()
            except Exception as exc:
                row.fail(name, f"crashed: {_crash(exc)}")
        try:
            app = _mock(row, fetched.path)
        except Exception as exc:
            row.fail("mock", f"the mock did not start: {_crash(exc)}")
            return row
        if options.contract:
            try:
                _contract(row, patched, app, options)
            except Exception as exc:
                row.fail("contract", f"crashed: {_crash(exc)}")
        return row
    finally:
        row.seconds = time.perf_counter() - started


def run_matrix(
    revisions: Sequence[Revision],
    options: MatrixOptions,
    *,
    jobs: int = 1,
    on_row: Callable[[MatrixRow], None] | None = None,
) -> list[MatrixRow]:
    """One row per revision, in the order given; `jobs` worker processes, each revision in a fresh one."""
    rows: dict[Revision, MatrixRow] = {}
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, jobs), mp_context=context, max_tasks_per_child=1) as pool:
        futures: dict[Future[MatrixRow], Revision] = {}
        for revision in revisions:
            futures[pool.submit(run_revision, revision, options)] = revision
        for future in as_completed(futures):
            revision = futures[future]
            try:
                row = future.result()
            except Exception as exc:  # the worker died (memory, a signal): the row says so, the rest go on
                row = MatrixRow(revision)
                row.fail("worker", f"the worker process failed: {_crash(exc)}")
            rows[revision] = row
            if on_row is not None:
                on_row(row)
    return [rows[r] for r in revisions]
