"""multipart/form-data bodies (`upload_image_from_file`): parsed with Starlette, checked against the form schema.

Imported only when such a request arrives, so the parser does not slow the mock's start.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from ._errors import MockError, error_object

__all__ = ["parse_multipart"]


async def parse_multipart(scope: MutableMapping[str, Any], raw: bytes, schema: dict[str, Any]) -> dict[str, Any]:
    """The form as a dict (files become {filename, content_type, size, content}); 400 if it breaks the schema."""
    from starlette.datastructures import UploadFile
    from starlette.requests import Request

    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    try:
        form = await Request(scope, replay).form()
    except Exception as exc:  # python-multipart raises several types for broken input
        raise MockError(400, f"Malformed multipart body: {exc}", code="parse_error") from None
    parsed: dict[str, Any] = {}
    problems: list[dict[str, Any]] = []
    properties: dict[str, Any] = schema.get("properties") or {}
    for name in schema.get("required") or []:
        if name not in form:
            problems.append(error_object(400, f"'{name}' is required.", pointer=f"/{name}"))
    for name, value in form.multi_items():
        prop = properties.get(name) or {}
        if name in parsed and name in properties and prop.get("type") != "array":
            # A declared field sent twice is an array; the schema says it holds one value.
            problems.append(error_object(400, f"'{name}' must be sent once.", pointer=f"/{name}"))
            continue
        if isinstance(value, UploadFile):
            content = await value.read()
            parsed[name] = {
                "filename": value.filename,
                "content_type": value.content_type,
                "size": len(content),
                "content": content,  # the bytes, for a behaviour that keeps the file (the journal notes only its size)
            }
            continue
        if prop.get("format") == "binary":
            parsed[name] = {"filename": None, "content_type": None, "size": len(value.encode())}
        elif prop.get("type") == "boolean":
            if value not in ("true", "false"):
                problems.append(error_object(400, f"'{value}' is not a valid boolean.", pointer=f"/{name}"))
            parsed[name] = value == "true"
        else:
            parsed[name] = value
    if problems:
        raise MockError(400, problems[0]["detail"], errors=problems)
    return parsed
