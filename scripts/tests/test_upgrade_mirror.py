"""`kdk upgrade` between Klaviyo's real revisions (forward, backward, to beta): the real fetch, validate, patch
and diff steps; the generator and contract suite are faked here (they have their own tests and take minutes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kdk.spec import fetch_and_pin, read_lock
from kdk.upgrade import ContractResult, StepFn, UpgradeContext, run_upgrade

pytestmark = [pytest.mark.mirror, pytest.mark.slow]


def _generate(ctx: UpgradeContext) -> str:
    return "skipped in this test"


def _contract(ctx: UpgradeContext) -> str:
    ctx.contract = ContractResult(note="skipped in this test")
    return "skipped"


FAKES: dict[str, StepFn] = {"generate": _generate, "contract": _contract}


@pytest.fixture
def project(tmp_path: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "openapi").mkdir(parents=True)
    monkeypatch.setenv("KDK_PROJECT_ROOT", str(root))
    monkeypatch.setenv("KDK_SPEC_SOURCE", str(mirror))
    return root


@pytest.mark.parametrize(
    ("start", "target", "channel", "report", "expect"),
    [
        # forward: include=conversation became include=conversations on the profile endpoints
        (
            "2026-04-15",
            "2026-07-15",
            "stable",
            "UPGRADE-2026-04-15-to-2026-07-15.md",
            "request-parameter-enum-value-removed",
        ),
        # backward: 41 endpoints disappear
        (
            "2026-07-15",
            "2026-01-15",
            "stable",
            "UPGRADE-2026-07-15-to-2026-01-15.md",
            "api-removed-without-deprecation",
        ),
        # stable -> beta: most of the stable operations are not in the beta spec
        ("2026-07-15", "2026-07-15.pre", "beta", "UPGRADE-2026-07-15-to-2026-07-15.pre.md", "api-stability-decreased"),
    ],
    ids=["forward", "backward", "to-beta"],
)
def test_upgrade_between_real_revisions(
    project: Path, start: str, target: str, channel: str, report: str, expect: str
) -> None:
    fetch_and_pin(start, "stable")
    outcome = run_upgrade(target, overrides=FAKES)
    assert outcome.ok, f"{outcome.failed_step}: {outcome.reason}"
    lock = read_lock()
    assert (lock.ref, lock.channel, lock.info_version) == (target, channel, target)
    text = (project / report).read_text(encoding="utf-8")
    assert f"**{expect}**" in text
    assert "## Generated functions whose signatures changed" in text
    assert outcome.context.diff is not None and outcome.context.diff.changes
