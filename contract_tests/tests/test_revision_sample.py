"""The contract run on a representative sample of the mirror: 0 failures on every operation of each.

The sample (issue 10): the oldest stable revision in the mirror, one 2024 revision, the pinned revision and the
newest beta. Chosen from what the mirror holds, so it follows the mirror; the full matrix is `kdk spec matrix`.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kdk import lock_path, mirror_revisions, shared_mirror
from kdk.spec import iter_operations, load_spec


def _sample() -> list[tuple[str, str]]:
    held = mirror_revisions()
    dated = [(ref, channel) for ref, channel in held if ref[:4].isdigit()]
    stable = [item for item in dated if item[1] == "stable"]
    beta = [item for item in dated if item[1] == "beta"]
    picks: list[tuple[str, str]] = []
    if stable:
        picks.append(stable[0])
        picks.extend([item for item in stable if item[0].startswith("2024-")][-1:])
    try:
        pinned = json.loads(lock_path().read_text(encoding="utf-8"))
        picks.extend(item for item in held if item == (pinned["ref"], pinned["channel"]))
    except (OSError, ValueError, KeyError):
        pass
    picks.extend(beta[-1:])
    return list(dict.fromkeys(picks))


SAMPLE = _sample()


@pytest.mark.mirror
@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize(("ref", "channel"), SAMPLE, ids=[f"{r}-{c}" for r, c in SAMPLE])
def test_contract_on_sample_revision(ref: str, channel: str) -> None:
    """`kdk contract --spec <revision>` in a child process (inside pytest the run is 3-4x slower)."""
    mirror = shared_mirror()
    assert mirror is not None  # SAMPLE is empty without a mirror
    source = mirror / ref / "openapi" / f"{channel}.json"
    assert source.is_file(), source
    command = [sys.executable, "-c", "from kdk.cli import main; main()", "contract", "--profile", "default"]
    done = subprocess.run([*command, "--spec", str(source)], capture_output=True, text=True, timeout=1700, check=False)
    operations = sum(1 for _ in iter_operations(load_spec(source)))
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-5000:]
    assert f"{operations}/{operations} operations tested" in done.stdout, done.stdout[-5000:]
