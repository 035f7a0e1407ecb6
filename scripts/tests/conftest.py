from __future__ import annotations

import os
from pathlib import Path

import pytest

from kdk import shared_mirror


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The shared spec mirror; tests marked `mirror` need it."""
    path = shared_mirror()
    if path is None:
        reason = "no spec mirror (set KDK_SPEC_SOURCE or put ../shared/klaviyo-openapi beside the checkout)"
        if os.environ.get("CI"):  # CI always has ../shared beside the clone: its absence is a broken run
            pytest.fail(reason)
        pytest.skip(reason)
    return path
