from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def pinned_spec() -> dict[str, Any]:
    """The pinned, patched spec (skips cleanly when the spec cache is empty: run `kdk spec fetch --check`)."""
    from kdk.spec._lock import LockError
    from kdk.spec._pinned import load_pinned_spec

    try:
        return load_pinned_spec()
    except LockError as exc:
        pytest.skip(str(exc))
