"""The default steps: thin adapters from the upgrade context to the library functions that do the work."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .._paths import project_root
from ._model import ContractResult, StepError, StepFn, UpgradeContext

if TYPE_CHECKING:
    from ..spec import Lock, PatchedSpec

__all__ = ["ContractRunner", "default_steps", "in_process_contract_runner", "new_lock"]


def _fetch(ctx: UpgradeContext) -> str:
    from ..spec import FetchError, fetch_spec
    from ..spec.diff import spec_source

    try:
        ctx.fetched = fetch_spec(spec_source(ctx.source), ctx.ref, ctx.channel)
    except FetchError as exc:
        raise StepError(str(exc)) from None
    ctx.new_lock = new_lock(ctx)
    f = ctx.fetched
    return (
        f"{ctx.ref} ({ctx.channel}): info.version {f.info_version}, {f.operations} operations, sha256 {f.sha256[:12]}"
    )


def _validate(ctx: UpgradeContext) -> str:
    from ..spec import SpecLoadError, load_spec, validate_spec

    try:
        ctx.raw = load_spec(ctx.require_fetched().path)
    except SpecLoadError as exc:
        raise StepError(str(exc)) from None
    ctx.raw_findings = validate_spec(ctx.raw)
    # The raw spec is expected to have findings: the overlay exists to fix them. `patch` checks none remain.
    return f"raw spec: {len(ctx.raw_findings)} findings (the overlay must fix them all)"


def _patch(ctx: UpgradeContext) -> str:
    from ..spec import PatchedSpec, apply_overlay, failing, validate_spec, write_patched

    assert ctx.raw is not None
    fetched = ctx.require_fetched()
    ctx.overlay = apply_overlay(ctx.raw)
    ctx.patched = PatchedSpec.from_content(ctx.overlay.spec, source=fetched.url, fixes=ctx.overlay.report)
    remaining = failing(validate_spec(ctx.patched.content))  # errors; warnings and info (era conventions) do not block
    if remaining:
        shown = "; ".join(f"{f.pointer} [{f.rule}] {f.message}" for f in remaining[:3])
        raise StepError(f"{len(remaining)} findings remain after the overlay, e.g. {shown}")
    write_patched(ctx.overlay, fetched.sha256)
    applied = ", ".join(f"{r.name}×{r.count}" for r in ctx.overlay.report if r.count)  # noqa: RUF001
    return f"{ctx.overlay.total} fixes applied ({applied or 'none needed'}); patched spec validates clean"


def _load_old_patched(ctx: UpgradeContext) -> PatchedSpec:
    from ..spec import FetchError, fetch_spec, load_patched, spec_cache_path
    from ..spec.diff import spec_source

    if not spec_cache_path(ctx.old_lock.sha256).is_file():
        try:  # the pinned spec fell out of the cache: fetch exactly those bytes again
            fetch_spec(
                spec_source(ctx.source), ctx.old_lock.ref, ctx.old_lock.channel, expected_sha256=ctx.old_lock.sha256
            )
        except FetchError as exc:
            raise StepError(f"cannot load the locked revision to diff against: {exc}") from None
    return load_patched(ctx.old_lock)


def _diff(ctx: UpgradeContext) -> str:
    from ..spec.diff import diff_specs, signature_changes

    assert ctx.patched is not None
    ctx.old_patched = _load_old_patched(ctx)
    ctx.diff = diff_specs(ctx.old_patched, ctx.patched, old_label=ctx.old_label, new_label=ctx.new_label)
    ctx.signatures = signature_changes(ctx.old_patched, ctx.patched)
    counts = ", ".join(f"{n} {s.value}" for s, n in ctx.diff.counts().items())
    return f"{counts}; {len(ctx.signatures)} generated functions added, removed or changed"


def _generate(ctx: UpgradeContext) -> str:
    """Regenerate `generated/klaviyo_client` from the new patched spec (kdk.generate's cache makes a revision
    generated before instant); an incomplete client (dropped operations or schemas, generator warnings) fails."""
    from ..generate import GenerationIncompleteError, ensure_generated_with_report

    assert ctx.patched is not None
    try:
        _package, report = ensure_generated_with_report(spec=ctx.patched, strict=True)
    except GenerationIncompleteError as exc:
        r = exc.report
        shown = "; ".join(
            [*r.missing_operations[:3], *r.dropped_schemas[:3], *(w.splitlines()[0] for w in r.warnings[:3])]
        )
        raise StepError(f"{exc}: {shown}") from None
    ctx.generated = report
    source = "cached tree" if report.cached else f"generated in {report.seconds:.0f} s"
    ctx.generate_summary = (
        f"klaviyo_client {report.version}: {report.operations_generated}/{report.operations_expected} operations, "
        f"{report.models} models ({source})"
    )
    return ctx.generate_summary


def new_lock(ctx: UpgradeContext) -> Lock:
    from ..spec import CANONICAL_SOURCE, Lock, recorded_source, spec_url
    from ..spec.diff import spec_source

    source = spec_source(ctx.source)
    recorded = recorded_source(source) if source else CANONICAL_SOURCE
    f = ctx.require_fetched()
    return Lock(
        ref=ctx.ref,
        channel=ctx.channel,
        source=recorded,
        url=spec_url(recorded, ctx.ref, ctx.channel),
        sha256=f.sha256,
        size=f.size,
        info_version=f.info_version,
        operations=f.operations,
    )


ContractRunner = Callable[["PatchedSpec"], ContractResult]


def in_process_contract_runner() -> ContractRunner:
    """The contract suite's entry point (`contract_tests.run_contract`): schemathesis over the spec it is given,
    against the mock built from that same spec, in this process. Nothing reads the lock behind its back."""
    from contract_tests import ContractOptions, run_contract

    def runner(spec: PatchedSpec) -> ContractResult:
        found = run_contract(ContractOptions(spec=spec))
        totals = found.check_totals().values()
        return ContractResult(
            passed=sum(t.passed for t in totals),
            failed=sum(t.failed for t in totals),
            errors=len(found.errors),
            failures=[f"{f.operation} [{f.check}] {f.title}" for f in found.failures] + list(found.errors),
            note=(
                f"profile {found.profile}: {len(found.tested_operations)}/{len(found.operations)} operations "
                f"against {found.target} in {found.elapsed:.0f} s"
            ),
        )

    return runner


def _contract(ctx: UpgradeContext) -> str:
    ctx.new_lock = ctx.new_lock or new_lock(ctx)
    assert ctx.patched is not None
    ctx.contract = in_process_contract_runner()(ctx.patched)
    c = ctx.contract
    summary = f"{c.passed} passed, {c.failed} failed, {c.errors} errors, {c.skipped} skipped"
    if c.note:
        summary += f" ({c.note})"
    if not c.ok:
        raise StepError(f"{summary}: {', '.join(c.failures[:5])}")
    return summary


def _report(ctx: UpgradeContext) -> str:
    from ._report import render_upgrade_report, report_name

    directory = ctx.report_dir or project_root()
    path = directory / report_name(ctx.old_label, ctx.new_label)
    path.write_text(render_upgrade_report(ctx), encoding="utf-8")
    ctx.report_path = path
    return f"wrote {path.name}"


def _lock(ctx: UpgradeContext) -> str:
    from ..spec import write_lock

    ctx.new_lock = ctx.new_lock or new_lock(ctx)
    write_lock(ctx.new_lock)
    return f"pinned {ctx.new_lock.ref} ({ctx.new_lock.channel}) sha256 {ctx.new_lock.sha256[:12]}"


def default_steps() -> list[tuple[str, StepFn]]:
    return [
        ("fetch", _fetch),
        ("validate", _validate),
        ("patch", _patch),
        ("diff", _diff),
        ("generate", _generate),
        ("contract", _contract),
        ("report", _report),
        ("lock", _lock),
    ]
