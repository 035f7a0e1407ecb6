"""Request bodies: read (bounded), check the media type, parse, validate against the operation's schema."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import orjson

from ._compile import CompiledSpec, Operation
from ._errors import MockError, error_object

if TYPE_CHECKING:
    from ._jsonschema import BodyValidator

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodyReader", "Receive", "Scope", "read_all"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024  # Klaviyo's image upload limit is 5 MB
_JSON_MEDIA = ("application/vnd.api+json", "application/json")


class BodyReader:
    """Reads and validates request bodies for one compiled spec (validators are built once per operation)."""

    def __init__(self, compiled: CompiledSpec, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.compiled = compiled
        self.max_body_bytes = max_body_bytes
        self._validators: dict[str, BodyValidator] = {}

    async def read(self, op: Operation, scope: Scope, receive: Receive, headers: dict[str, str]) -> Any:
        """The parsed body (JSON document, multipart fields) or None; raises MockError 400/413/415."""
        spec = op.body
        if spec is None:
            return None
        declared = headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
            raise too_large(self.max_body_bytes)
        raw = await read_all(receive, self.max_body_bytes)
        if not raw:
            if spec.required:
                raise MockError(400, "A request body is required.", pointer="/data")
            return None
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if spec.multipart_schema is not None and media in spec.media_types:
            from ._multipart import parse_multipart

            return await parse_multipart(scope, raw, spec.multipart_schema)
        if spec.json_schema is None or media not in (*_JSON_MEDIA, *spec.media_types):
            expected = ", ".join(spec.media_types)
            raise MockError(415, f'Unsupported media type "{media}" in request. Expected: {expected}.')
        document = parse_json(raw)
        self.validate(op, document)
        return document

    def validate(self, op: Operation, document: Any) -> None:
        validator = self._validators.get(op.operation_id)
        if validator is None:
            from ._jsonschema import BodyValidator

            assert op.body is not None
            validator = BodyValidator(op.body.json_schema, self.compiled.components)
            self._validators[op.operation_id] = validator
        try:
            problems = validator.errors(document)
        except RecursionError:  # nested nearly as deep as the parser reads: too deep to walk and word its errors
            raise too_deep() from None
        if problems:
            errors = [error_object(400, p.message, pointer=p.pointer) for p in problems]
            raise MockError(400, problems[0].message, errors=errors)


def parse_json(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MockError(400, "The request body is not valid UTF-8.", code="parse_error") from None
    try:
        if text.startswith("\ufeff"):  # (what `json.loads` checks before decoding)
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        document = _decoded(raw, text)
    except RecursionError:
        raise too_deep() from None
    except ValueError as exc:
        raise MockError(400, f"JSON parse error - {exc}", code="parse_error", title="Malformed request.") from None
    if _MAYBE_SURROGATE.search(text) and _holds_lone_surrogate(document):
        # `"\ud800"` parses to a string that no UTF-8 store or response can hold.
        raise MockError(400, "JSON parse error - a lone surrogate escape is not a character.", code="parse_error")
    return document


def _decoded(raw: bytes, text: str) -> Any:
    """The document `text` (`raw` decoded) holds, as the stdlib's decoder reads it. orjson parses a body in about
    half the stdlib's instructions (a bulk import carries 10,000 profiles) and gives the very same values, except
    for an integer past 64 bits (it reads a float) and for nesting: it reads 1,024 levels, where the stdlib runs
    out of stack first ("nested too deeply") and much of the mock recurses over a document. So orjson's reading is
    taken for a body without a run of 19 or more digits whose nesting is under orjson's writer's limit of 254
    levels (checked by writing it back: only a body with that many brackets at all); any other body, and every
    body orjson refuses, is read by the stdlib, which also words every error (NaN, a lone surrogate escape...)."""
    shape = raw.translate(_SHAPE)  # digits as "0", brackets that open as "[", the rest as " "
    if _LONG_DIGIT_RUN not in shape:
        try:
            document = orjson.loads(raw)
            if shape.count(b"[") >= _ORJSON_DEPTH:
                orjson.dumps(document)  # (raises past its depth limit)
            return document
        except (orjson.JSONDecodeError, orjson.JSONEncodeError):
            pass
    return _DECODER.decode(text)


_SHAPE = bytes(b"0"[0] if chr(b) in "0123456789" else b"["[0] if chr(b) in "[{" else b" "[0] for b in range(256))
_LONG_DIGIT_RUN = b"0" * 19  # 19 digits: past what every 64-bit integer literal has (18 digits, or 19 in range)
_ORJSON_DEPTH = 254  # the nesting orjson's writer refuses (its documented recursion limit)


# Only bodies with a surrogate escape (`\uD800`-`\uDFFF`) can decode to a lone one; a valid pair decodes to one
# character, so whatever surrogate is left in the parsed strings is lone.
_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _holds_lone_surrogate(document: Any) -> bool:
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _no_constant(name: str) -> Any:
    # `NaN`/`Infinity` are not JSON (RFC 8259): accepted, they would be stored and echoed as invalid JSON.
    raise ValueError(f"{name} is not a JSON value")


# One decoder for every body (`json.loads` with an argument builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_no_constant)


async def read_all(receive: Receive, limit: int | None = None) -> bytes:
    """Every body message of a request, joined; past `limit` bytes a 413 `MockError` (None: no limit)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def too_deep() -> MockError:
    return MockError(400, "JSON parse error - nested too deeply.", code="parse_error", title="Malformed request.")


def too_large(limit: int) -> MockError:
    return MockError(413, f"Request body is larger than {limit} bytes.")
