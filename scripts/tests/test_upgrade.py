"""`kdk upgrade`: the step pipeline, all-or-nothing state handling, the report, and the CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kdk.spec import fetch_and_pin, read_lock
from kdk.spec.diff import Severity
from kdk.upgrade import STEP_NAMES, ContractResult, StepError, StepFn, UpgradeContext, run_upgrade

from .spec._diff_helpers import Spec, base_spec


def _spec(version: str, mutate: Callable[[Spec], None] | None = None) -> Spec:
    spec = base_spec()
    spec["info"]["version"] = version
    if mutate is not None:
        mutate(spec)
    return spec


def _april(spec: Spec) -> None:
    spec["paths"].pop("/api/lists/{id}")  # breaking: delete_list removed
    spec["paths"]["/api/lists"]["get"]["parameters"].append(  # signature change: get_lists gains `filter`
        {"name": "filter", "in": "query", "schema": {"type": "string"}}
    )


def _beta(spec: Spec) -> None:
    spec["paths"]["/api/tags"] = {
        "get": {
            "operationId": "get_tags",
            "responses": {"200": {"description": "ok"}},
            "x-klaviyo-pre-release": "BETA",
            "x-klaviyo-ratelimit": {"burst": "3/s", "steady": "60/m"},
            "x-klaviyo-scopes": ["tags:read"],
        }
    }


def _invalid(spec: Spec) -> None:
    # Two operations with one operationId: a validator finding no overlay fix removes.
    spec["paths"]["/api/lists/{id}"]["delete"]["operationId"] = "get_lists"


MIRROR = {
    ("2026-01-15", "stable"): _spec("2026-01-15"),
    ("2026-04-15", "stable"): _spec("2026-04-15", _april),
    ("2026-04-15.pre", "beta"): _spec("2026-04-15.pre", _beta),
    ("2026-07-15", "stable"): _spec("2026-07-15", _invalid),
}


@dataclass
class Project:
    root: Path

    def snapshot(self) -> dict[str, bytes]:
        """Lock, cache and generated client, byte for byte (and any stray file a failed run left)."""
        return {
            str(p.relative_to(self.root)): p.read_bytes()
            for base in ("openapi", "generated")
            for p in sorted((self.root / base).rglob("*"))
            if p.is_file()
        }

    def upgrade_reports(self) -> list[str]:
        return sorted(p.name for p in self.root.glob("UPGRADE-*.md"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    mirror = tmp_path / "mirror"
    for (ref, channel), spec in MIRROR.items():
        path = mirror / ref / "openapi" / f"{channel}.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(spec, indent=1), encoding="utf-8")
    root = tmp_path / "project"
    (root / "openapi").mkdir(parents=True)
    (root / "generated" / "klaviyo-client").mkdir(parents=True)
    (root / "generated" / "README.md").write_text("build output\n", encoding="utf-8")
    (root / "generated" / "pyproject.toml").write_text("[project]\nversion = '2026.1.15'\n", encoding="utf-8")
    (root / "generated" / "klaviyo-client" / "client.py").write_text("REVISION = '2026-01-15'\n", encoding="utf-8")
    monkeypatch.setenv("KDK_PROJECT_ROOT", str(root))
    monkeypatch.setenv("KDK_SPEC_SOURCE", str(mirror))
    fetch_and_pin("2026-01-15", "stable")
    return Project(root)


def fake_generate(ctx: UpgradeContext) -> str:
    from kdk import generated_dir

    _replace(generated_dir() / "klaviyo-client" / "client.py", f"REVISION = {ctx.ref!r}\n")
    ctx.generate_summary = "fake client"
    return "fake client"


def fake_contract(ctx: UpgradeContext) -> str:
    ctx.contract = ContractResult(passed=3, skipped=1)
    return "3 passed"


FAKES: dict[str, StepFn] = {"generate": fake_generate, "contract": fake_contract}


# --- the real spec steps, with a fake generator and contract suite ------------------------------------------


def test_upgrade_forward_pins_reports_and_regenerates(project: Project) -> None:
    outcome = run_upgrade("2026-04-15", overrides=FAKES)
    assert outcome.ok, outcome.reason
    assert [r.name for r in outcome.results] == list(STEP_NAMES)
    lock = read_lock()
    assert (lock.ref, lock.channel, lock.info_version, lock.operations) == ("2026-04-15", "stable", "2026-04-15", 3)
    assert project.upgrade_reports() == ["UPGRADE-2026-01-15-to-2026-04-15.md"]
    report = (project.root / "UPGRADE-2026-01-15-to-2026-04-15.md").read_text(encoding="utf-8")
    assert "## Breaking changes" in report
    assert "**api-removed-without-deprecation**" in report and "`delete_list`" in report
    assert "## Generated functions whose signatures changed" in report
    assert "+ get_lists(*, client: AuthenticatedClient, fields_list: list[str] | Unset = UNSET, filter: str" in report
    assert "- to `2026-04-15` (stable, info.version 2026-04-15, 3 operations" in report
    assert "| lock | pending |" in report
    assert "### Removed (1)" in report
    assert "3 passed, 0 failed, 0 errors, 1 skipped." in report
    client = (project.root / "generated" / "klaviyo-client" / "client.py").read_text(encoding="utf-8")
    assert "2026-04-15" in client


def test_upgrade_backward(project: Project) -> None:
    assert run_upgrade("2026-04-15", overrides=FAKES).ok
    outcome = run_upgrade("2026-01-15", overrides=FAKES)
    assert outcome.ok, outcome.reason
    assert read_lock().ref == "2026-01-15"
    report = (project.root / "UPGRADE-2026-04-15-to-2026-01-15.md").read_text(encoding="utf-8")
    assert "endpoint-added" not in report  # info changes are not listed in the report, only counted
    assert outcome.context.diff is not None
    assert [c.rule for c in outcome.context.diff.changes if c.operation_id == "delete_list"] == ["endpoint-added"]


def test_upgrade_to_beta(project: Project) -> None:
    outcome = run_upgrade("2026-04-15.pre", overrides=FAKES)
    assert outcome.ok, outcome.reason
    lock = read_lock()
    assert (lock.ref, lock.channel) == ("2026-04-15.pre", "beta")
    assert project.upgrade_reports() == ["UPGRADE-2026-01-15-to-2026-04-15.pre.md"]


def test_already_pinned_is_a_no_op(project: Project) -> None:
    before = project.snapshot()
    outcome = run_upgrade("2026-01-15", overrides=FAKES)
    assert outcome.ok and outcome.noop and outcome.results == []
    assert project.snapshot() == before


def test_a_spec_the_overlay_cannot_fix_fails_at_patch_and_changes_nothing(project: Project) -> None:
    before = project.snapshot()
    outcome = run_upgrade("2026-07-15", overrides=FAKES)
    assert not outcome.ok
    assert outcome.failed_step == "patch"
    assert "findings remain after the overlay" in outcome.reason
    assert project.snapshot() == before  # the fetched spec left the cache again; lock and client untouched
    assert project.upgrade_reports() == []


def test_unknown_ref_fails_at_fetch(project: Project) -> None:
    before = project.snapshot()
    outcome = run_upgrade("1999-01-01", overrides=FAKES)
    assert (outcome.ok, outcome.failed_step) == (False, "fetch")
    assert "1999-01-01" in outcome.reason
    assert project.snapshot() == before


# --- all or nothing, with every step faked ----------------------------------------------------------------


def _replace(path: Path, text: str) -> None:
    """Overwrite the way every kdk writer does: a temp file renamed over the old one."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _damaging(name: str) -> StepFn:
    """A step that changes everything an upgrade may touch, as a real step might before it fails."""

    def step(ctx: UpgradeContext) -> str:
        from kdk import cache_dir, generated_dir, lock_path

        specs = cache_dir() / "specs"
        for cached in sorted(specs.iterdir()):  # overwrite what is cached ...
            _replace(cached, "overwritten")
        (specs / f"{name}.json").write_text("{}", encoding="utf-8")  # ... and add to it
        (cache_dir() / name / "deep").mkdir(parents=True)
        (cache_dir() / name / "deep" / "tree.txt").write_text(name, encoding="utf-8")
        lock_path().write_text(f'{{"broken by": "{name}"}}\n', encoding="utf-8")
        (generated_dir() / "klaviyo-client").mkdir(exist_ok=True)
        _replace(generated_dir() / "klaviyo-client" / "client.py", f"# {name}\n")
        (generated_dir() / "README.md").unlink(missing_ok=True)
        # kdk.generate rewrites the top-level pyproject.toml in place (shutil.copyfile), not by rename
        (generated_dir() / "pyproject.toml").write_text(f"# {name}\n", encoding="utf-8")
        if name == "generate":  # a whole directory replaced, as `kdk generate` installs a new package
            shutil.rmtree(generated_dir() / "klaviyo-client")
        (generated_dir() / f"{name}.py").write_text("", encoding="utf-8")
        if name == "report":
            path = ctx.report_dir or Path(lock_path()).parent.parent
            ctx.report_path = path / "UPGRADE-x-to-y.md"
            ctx.report_path.write_text("partial", encoding="utf-8")
        return f"{name} done"

    return step


def _failing(name: str, exc: BaseException) -> StepFn:
    damage = _damaging(name)

    def step(ctx: UpgradeContext) -> str:
        damage(ctx)
        raise exc

    return step


@pytest.mark.parametrize("failing", STEP_NAMES)
def test_failure_at_any_step_restores_lock_cache_and_client(project: Project, failing: str) -> None:
    before = project.snapshot()
    steps: dict[str, StepFn] = {name: _damaging(name) for name in STEP_NAMES}
    steps[failing] = _failing(failing, StepError(f"{failing} went wrong"))
    outcome = run_upgrade("2026-04-15", overrides=steps)
    assert not outcome.ok
    assert outcome.failed_step == failing
    assert outcome.reason == f"{failing} went wrong"
    assert [r.name for r in outcome.results] == list(STEP_NAMES[: STEP_NAMES.index(failing) + 1])
    assert [r.ok for r in outcome.results][-1] is False
    assert project.snapshot() == before
    assert project.upgrade_reports() == []


def test_a_file_changed_in_place_is_reported_not_hidden(project: Project) -> None:
    (project.root / "generated" / ".flock").touch()

    def in_place(ctx: UpgradeContext) -> str:
        from kdk import generated_dir

        with (generated_dir() / "README.md").open("a", encoding="utf-8") as fh:  # top level: restored from a copy
            fh.write("appended\n")
        with (generated_dir() / "klaviyo-client" / "client.py").open("a", encoding="utf-8") as fh:  # nested: lost
            fh.write("appended\n")
        (generated_dir() / ".flock").open("w").close()  # an empty lock file re-opened: nothing lost
        raise StepError("generate went wrong")

    outcome = run_upgrade("2026-04-15", overrides={**FAKES, "generate": in_place})
    assert outcome.failed_step == "generate"
    assert "1 files changed in place could not be restored" in outcome.reason
    assert "klaviyo-client/client.py" in outcome.reason
    assert (project.root / "generated" / "README.md").read_text(encoding="utf-8") == "build output\n"


def test_an_unexpected_exception_is_reported_as_the_step_failure(project: Project) -> None:
    before = project.snapshot()
    outcome = run_upgrade("2026-04-15", overrides={"diff": _failing("diff", KeyError("boom"))})
    assert (outcome.failed_step, outcome.reason) == ("diff", "KeyError: 'boom'")
    assert project.snapshot() == before


def test_an_interrupted_run_restores_and_reraises(project: Project) -> None:
    before = project.snapshot()
    with pytest.raises(KeyboardInterrupt):
        run_upgrade("2026-04-15", overrides={**FAKES, "generate": _failing("generate", KeyboardInterrupt())})
    assert project.snapshot() == before


def test_unknown_override_is_rejected(project: Project) -> None:
    with pytest.raises(ValueError, match="unknown steps: publish"):
        run_upgrade("2026-04-15", overrides={"publish": fake_contract})


# --- the contract step hands the new revision to the runner as a PatchedSpec ----------------------------------


def test_contract_runner_is_handed_the_new_revision(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import kdk.upgrade._steps as steps
    from kdk.spec import PatchedSpec

    seen: dict[str, Any] = {}

    def runner(spec: PatchedSpec) -> ContractResult:
        seen["pinned"] = read_lock().ref  # the lock is untouched until the last step
        seen["revision"] = spec.revision
        seen["content"] = spec.content["info"]["version"]
        return ContractResult(passed=7, note="fake in-process suite")

    monkeypatch.setattr(steps, "in_process_contract_runner", lambda: runner)
    outcome = run_upgrade("2026-04-15", overrides={"generate": fake_generate})
    assert outcome.ok, outcome.reason
    assert seen == {"pinned": "2026-01-15", "revision": "2026-04-15", "content": "2026-04-15"}
    assert read_lock().ref == "2026-04-15"


def test_failing_contract_run_fails_the_upgrade(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    import kdk.upgrade._steps as steps

    def runner(spec: Any) -> ContractResult:
        return ContractResult(passed=0, failed=1, failures=["get_lists [not_a_server_error] 500"])

    monkeypatch.setattr(steps, "in_process_contract_runner", lambda: runner)
    before = project.snapshot()
    outcome = run_upgrade("2026-04-15", overrides={"generate": fake_generate})
    assert outcome.failed_step == "contract"
    assert "0 passed, 1 failed" in outcome.reason and "get_lists" in outcome.reason
    assert project.snapshot() == before


# --- the CLI -----------------------------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    import kdk.commands.upgrade  # noqa: F401  (registers the verb)
    import kdk.upgrade._pipeline as pipeline
    from kdk.commands._app import app
    from kdk.upgrade import default_steps

    def with_fakes() -> list[tuple[str, StepFn]]:
        return [(name, FAKES.get(name, fn)) for name, fn in default_steps()]

    monkeypatch.setattr(pipeline, "default_steps", with_fakes)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["upgrade", *args])


def test_cli_success(project: Project, cli: Callable[..., Any]) -> None:
    result = cli("--to", "2026-04-15")
    assert result.exit_code == 0, result.output
    assert "upgraded 2026-01-15 -> 2026-04-15" in result.stdout
    assert "ok   lock" in result.stdout


def test_cli_failure_names_the_step(project: Project, cli: Callable[..., Any]) -> None:
    result = cli("--to", "2026-07-15")
    assert result.exit_code == 1
    assert "the patch step failed" in result.stderr
    assert "unchanged" in result.stderr


def test_cli_without_lock(project: Project, cli: Callable[..., Any]) -> None:
    (project.root / "openapi" / "klaviyo.lock.json").unlink()
    result = cli("--to", "2026-04-15")
    assert result.exit_code == 2
    assert "no lock file" in result.stderr


# --- forward across three consecutive mirror revisions and back again, with the real pipeline ---------------


def _three_consecutive(mirror: Path) -> list[str]:
    """The newest three dated stable revisions of the mirror (chosen by shape: a new mirror needs no edit)."""
    from kdk._paths import mirror_revisions

    stable = sorted(ref for ref, channel in mirror_revisions(mirror) if channel == "stable" and ref != "main")
    return stable[-3:]


_CONTRACT_SAMPLE = 12


def contract_on_touched_operations(ctx: UpgradeContext) -> str:
    """The real contract (schemathesis against the mock of the new revision), kept short: the `smoke` profile on
    a spread of the operations the diff says changed. The default profile on every operation is the matrix's job."""
    from contract_tests import ContractOptions, run_contract
    from kdk.spec import iter_operations
    from mock_server import create_app

    assert ctx.patched is not None and ctx.diff is not None
    present = {op.operation_id for op in iter_operations(ctx.patched.content)}
    touched = sorted({c.operation_id for c in ctx.diff.changes} & present) or sorted(present)
    touched = touched[:: max(1, len(touched) // _CONTRACT_SAMPLE)][:_CONTRACT_SAMPLE]  # spread over the resources
    app = create_app(spec=ctx.patched)
    found = run_contract(ContractOptions(spec=ctx.patched, app=app, profile="smoke", operation_ids=touched))
    failures = [f"{f.operation} [{f.check}] {f.title}" for f in found.failures] + list(found.errors)
    totals = found.check_totals().values()
    ctx.contract = ContractResult(
        passed=sum(t.passed for t in totals),
        failed=len(found.failures),
        errors=len(found.errors),
        failures=failures,
        note=f"smoke profile on {len(found.tested_operations)}/{len(touched)} sampled changed operations",
    )
    if not ctx.contract.ok:
        raise StepError(f"{len(failures)} contract failures: {', '.join(failures[:5])}")
    return ctx.contract.note


@pytest.mark.mirror
@pytest.mark.slow
def test_upgrade_forward_three_revisions_and_back(
    tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fetch, validate, patch, diff, generate (the real generator) and a real contract on every step of
    A -> B -> C -> B -> A; back at A, the lock and the generated client are the ones we started from."""
    from kdk.generate import ensure_generated, package_version

    first, second, third = _three_consecutive(mirror)
    root = tmp_path / "project"
    (root / "openapi").mkdir(parents=True)
    (root / "openapi" / "generator").symlink_to(Path(__file__).parents[2] / "openapi" / "generator")
    monkeypatch.setenv("KDK_PROJECT_ROOT", str(root))
    monkeypatch.setenv("KDK_SPEC_SOURCE", str(mirror))
    monkeypatch.delenv("KDK_LOCK_PATH", raising=False)
    fetch_and_pin(first, "stable")
    ensure_generated()
    lock_file, stamp_file = root / "openapi" / "klaviyo.lock.json", root / "generated" / ".kdk-generated.json"
    start_lock, start_stamp = lock_file.read_bytes(), json.loads(stamp_file.read_text(encoding="utf-8"))

    previous = first
    for target in (second, third, second, first):
        outcome = run_upgrade(target, overrides={"contract": contract_on_touched_operations})
        assert outcome.ok, f"{previous} -> {target}: the {outcome.failed_step} step failed: {outcome.reason}"
        assert [r.name for r in outcome.results] == list(STEP_NAMES)
        assert (read_lock().ref, read_lock().info_version) == (target, target)
        stamp = json.loads(stamp_file.read_text(encoding="utf-8"))
        assert (stamp["revision"], stamp["version"]) == (target, package_version(target))
        report = (root / f"UPGRADE-{previous}-to-{target}.md").read_text(encoding="utf-8")
        diff = outcome.context.diff
        assert diff is not None and diff.changes, f"{previous} -> {target}: no changes found"
        assert ("_No breaking changes._" in report) != bool(diff.of(Severity.BREAKING))
        assert outcome.context.contract is not None and "changed operations" in outcome.context.contract.note
        previous = target

    assert lock_file.read_bytes() == start_lock
    assert json.loads(stamp_file.read_text(encoding="utf-8")) == start_stamp  # the same client, by its cache key
