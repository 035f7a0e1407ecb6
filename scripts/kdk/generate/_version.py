"""The package version a spec revision becomes (PEP 440)."""

from __future__ import annotations

import re

__all__ = ["package_version"]

_REVISION = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:\.(pre))?$")


def package_version(revision: str) -> str:
    """`2026-07-15` -> `2026.7.15`; a beta revision `2026-07-15.pre` -> `2026.7.15rc0`.

    PEP 440 spells "pre"/"preview" as `rc`, so the normalized form is used directly.
    """
    match = _REVISION.match(revision.strip())
    if match is None:
        raise ValueError(f"not a Klaviyo revision (YYYY-MM-DD[.pre]): {revision!r}")
    year, month, day, pre = match.groups()
    version = f"{int(year)}.{int(month)}.{int(day)}"
    return f"{version}rc0" if pre else version
