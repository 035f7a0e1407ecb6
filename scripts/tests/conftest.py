from __future__ import annotations

from pathlib import Path

import pytest

from kdk import shared_mirror


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The shared spec mirror; tests marked `mirror` need it."""
    path = shared_mirror()
    if path is None:
        pytest.skip("no spec mirror (set KDK_SPEC_SOURCE or put ../shared/klaviyo-openapi beside the checkout)")
    return path
