from __future__ import annotations

import pytest

from kdk.generate import package_version


@pytest.mark.parametrize(
    ("revision", "version"),
    [("2026-07-15", "2026.7.15"), ("2026-01-05", "2026.1.5"), ("2026-07-15.pre", "2026.7.15rc0")],
)
def test_pep440_version_from_revision(revision: str, version: str) -> None:
    assert package_version(revision) == version


@pytest.mark.parametrize("revision", ["", "main", "2026-7-15", "2026-07-15.beta"])
def test_rejects_what_is_not_a_revision(revision: str) -> None:
    with pytest.raises(ValueError):
        package_version(revision)
