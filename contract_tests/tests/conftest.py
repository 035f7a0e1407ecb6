from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def pinned_spec() -> dict[str, Any]:
    """The pinned, patched spec (an empty spec cache fails with LockError: run `kdk spec fetch --check`)."""
    from kdk.spec import load_pinned_spec

    return load_pinned_spec()


@pytest.fixture(scope="session")
def client_package() -> Any:
    """`import klaviyo_client` (generated into generated/ from the pinned spec if missing or stale)."""
    from kdk.generate import ensure_importable

    ensure_importable(strict=False)
    import klaviyo_client

    return klaviyo_client


@pytest.fixture(scope="session")
def client_spec(pinned_spec: dict[str, Any]) -> dict[str, Any]:
    """The spec the client was generated from (the patched spec, prepared for the generator)."""
    from kdk.generate import prepare_spec

    return prepare_spec(pinned_spec).spec


@pytest.fixture(scope="session")
def stateless_mock() -> Iterator[Any]:
    """`kdk mock` without state: every operation answers its schema-generated 2xx body."""
    from contract_tests import running_mock

    with running_mock(state=None) as mock:
        yield mock
