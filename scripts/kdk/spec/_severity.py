"""How bad a finding is: the one scale `kdk spec validate`, the overlay's fixes and the matrix report in."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Severity"]


class Severity(StrEnum):
    """`error`: breaks a consumer (generator, mock, validator); `warning`: likely a mistake that breaks none;
    `info`: a convention of the revision's era (e.g. `application/json` bodies), worth knowing, nothing to fix."""

    error = "error"
    warning = "warning"
    info = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]
