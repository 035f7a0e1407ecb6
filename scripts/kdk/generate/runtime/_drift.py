"""Drift tolerance: what the generated models do when an answer deviates from the spec.

The live API is known to send what its spec does not allow: a new enum value, an extra property, null in a
non-nullable field, a number where a string is documented (a zip code) or the reverse. By default a model's
`from_dict` keeps such a value as sent (typed as the spec says, holding what came) and goes on; in strict mode
(`KlaviyoClient(strict=True)`, used by the contract tests) every deviation is collected and the call raises
`ResponseValidationError` listing them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from ._logs import logger
from .errors import ResponseValidationError

__all__ = ["DRIFT_ERRORS", "deviation", "mismatch", "parse_with", "parsing", "tolerate", "unknown_properties"]

T = TypeVar("T")
# What a generated parser raises on a value of the wrong shape (dict(None), isoparse(5), an unknown literal, ...).
DRIFT_ERRORS: tuple[type[Exception], ...] = (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError)
# The deviations of the parse under way (None outside a client call: deviations are only logged).
_deviations: ContextVar[list[str] | None] = ContextVar("klaviyo_drift", default=None)
# True while a union variant is tried: a deviation means "not this variant", so it raises instead of being kept.
_attempting: ContextVar[bool] = ContextVar("klaviyo_drift_attempt", default=False)


class DriftError(ValueError):
    """Raised inside `attempt()` for the first deviation (the generated union parsers catch ValueError)."""


def deviation(where: str, what: str) -> None:
    """Record one deviation (strict mode raises for it when the parse ends) and log it."""
    if _attempting.get():
        raise DriftError(f"{where}: {what}")
    logger.debug("response deviates from the spec at %s: %s", where, what)
    found = _deviations.get()
    if found is not None:
        found.append(f"{where}: {what}")


def tolerate(value: Any, error: Exception, where: str) -> Any:
    """A field failed to parse: record why and keep the value as sent."""
    deviation(where, f"{type(error).__name__}: {error} (value kept: {value!r:.80})")
    return value


def mismatch(value: Any, expected: str, where: str) -> Any:
    """A scalar of another JSON type than documented: record it, keep it."""
    deviation(where, f"expected {expected}, got {type(value).__name__} {value!r:.80}")
    return value


def as_sent(value: Any) -> Any:
    """`to_dict` of a value kept as sent (it is not of its declared type): the value itself."""
    return value


def unknown_properties(extra: dict[str, Any], where: str) -> dict[str, Any]:
    """Properties a closed schema does not list: record them, keep them (the model's `unknown_properties`)."""
    deviation(where, f"unknown properties {sorted(extra)}")
    return extra


@contextmanager
def parsing(strict: bool) -> Iterator[None]:
    """Around one parse: in strict mode raise `ResponseValidationError` if anything deviated."""
    if not strict:
        yield
        return
    found: list[str] = []
    token = _deviations.set(found)
    try:
        yield
    finally:
        _deviations.reset(token)
    if found:
        raise ResponseValidationError(found)


class attempt:  # noqa: N801 - used like a function: `with attempt():`
    """Around one variant of a union: deviations raise `DriftError`, so a variant is taken only if it fits.
    A class rather than @contextmanager: unions are parsed often, and this is several times cheaper."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = _attempting.set(True)

    def __exit__(self, *exc_info: object) -> None:
        _attempting.reset(self._token)


def parse_with(strict: bool, parse: Callable[[], T]) -> T:
    with parsing(strict):
        return parse()
