"""Readable Python names for Klaviyo's bracketed parameters: `fields[profile]` -> `fields_profile`.

openapi-python-client drops characters that cannot appear in identifiers before splitting words, so
`page[cursor]` became `pagecursor` and `additional-fields[profile]` `additional_fieldsprofile`. Treating the
brackets as word delimiters gives `page_cursor`, `additional_fields_profile`, and class names such as
`GetProfilesFieldsProfileItem`. Only Python names change; wire names are taken from the spec untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["readable_names"]

_BRACKETS = str.maketrans({"[": " ", "]": " "})


@contextmanager
def readable_names() -> Iterator[None]:
    """While active, openapi-python-client's name sanitizer splits words at `[` and `]`."""
    from openapi_python_client import strings

    original = strings.sanitize

    def sanitize(value: str) -> str:
        return original(value.translate(_BRACKETS)).strip()

    strings.sanitize = sanitize
    try:
        yield
    finally:
        strings.sanitize = original
