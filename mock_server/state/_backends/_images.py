"""Images: an upload (a multipart file, or a URL / data URI to import) stores an image record.

Nothing is fetched and no bytes are kept: an import from a URL keeps that URL as `image_url` and takes the
format from its file extension (its size is unknown offline: 0); a data URI or a file gives format and size
from its media type and bytes, and gets an `image_url` shaped like Klaviyo's image CDN. The documented
rules hold: jpeg, png or gif only, at most 5 MB, the name defaults to the file name and a name already in
use gets a numeric suffix.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from .._errors import invalid
from .._models import Outcome, Record, ResourceInput, now
from .._store import StoreTx
from ._base import Backend, Call

__all__ = ["IMAGE_CDN", "ImagesBackend"]

IMAGE_CDN = "https://d3k81ch9hvuctc.cloudfront.net/company"
_FORMATS = {"jpeg": "jpeg", "jpg": "jpeg", "png": "png", "gif": "gif"}
_MAX_BYTES = 5 * 1024 * 1024
_DATA_URI = re.compile(r"^data:image/([\w.+-]+)(;base64)?,(.*)$", re.DOTALL | re.IGNORECASE)
_SOURCE = "/data/attributes/import_from_url"


class ImagesBackend(Backend):
    types: ClassVar[tuple[str, ...]] = ("image",)

    def create(self, call: Call) -> Outcome:
        """`upload_image_from_url`: a URL or a data URI."""
        incoming = call.resource()
        source = incoming.attributes.get("import_from_url")
        if not isinstance(source, str) or not source.strip():
            raise invalid("`import_from_url` must be an image URL or a data URI.", pointer=_SOURCE)
        stored = _from_data_uri(source) if source.lower().startswith("data:") else _from_url(source)
        return self._store_image(call, incoming, stored)

    def upload(self, call: Call) -> Outcome:
        """`upload_image_from_file`: the multipart form (`file`, optional `name` and `hidden`)."""
        form = call.req.body if isinstance(call.req.body, dict) else {}
        sent = form.get("file")
        upload: dict[str, Any] = sent if isinstance(sent, dict) else {}
        filename = str(upload.get("filename") or "")
        media = str(upload.get("content_type") or "")
        fmt = _format(media.split("/")[-1]) if media.startswith("image/") else None
        fmt = fmt or _format(filename.rsplit(".", 1)[-1] if "." in filename else "")
        if fmt is None:
            raise invalid("Supported image formats: jpeg, png, gif.", pointer="/file")
        size = int(upload.get("size") or 0)
        if size > _MAX_BYTES:
            raise invalid("The image is larger than the 5MB maximum.", pointer="/file")
        attributes = {k: form[k] for k in ("name", "hidden") if k in form}
        incoming = ResourceInput("image", None, attributes)
        return self._store_image(call, incoming, {"format": fmt, "size": size, "name": filename or "image"})

    def _store_image(self, call: Call, incoming: ResourceInput, derived: dict[str, Any]) -> Outcome:
        stamp = now()
        with self.store.transaction() as tx:
            rid = self.ids.rule("image").new({}, {})
            name = incoming.attributes.get("name")
            wanted = name if isinstance(name, str) and name else str(derived.get("name") or "image")
            hidden = incoming.attributes.get("hidden")
            company = hashlib.sha256(call.account.encode()).hexdigest()[:6]  # never the key the account comes from
            url = derived.get("image_url") or f"{IMAGE_CDN}/{company}/images/{rid}.{derived['format']}"
            record: Record = {
                "type": "image",
                "id": rid,
                "attributes": {
                    "name": _free_name(tx, call.account, wanted),
                    "image_url": url,
                    "format": derived["format"],
                    "size": derived["size"],
                    "hidden": hidden is True,
                    "updated_at": stamp,
                },
                "relationships": {},
            }
            info = self.index.types["image"]
            self.complete(record, self.index.ops.get(info.get_op or ""))
            tx.put(call.account, record)
        return Outcome(201, [record], links="resource")


def _format(extension: str) -> str | None:
    return _FORMATS.get(extension.lower().strip())


def _from_url(source: str) -> dict[str, Any]:
    parts = urlsplit(source.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise invalid("`import_from_url` must be an http(s) URL or a data URI.", pointer=_SOURCE)
    filename = unquote(parts.path.rsplit("/", 1)[-1])
    extension = filename.rsplit(".", 1)[-1] if "." in filename else ""
    fmt = _format(extension)
    if extension and fmt is None:
        raise invalid(f"Supported image formats: jpeg, png, gif (not {extension[:20]}).", pointer=_SOURCE)
    # Without the bytes (nothing is fetched offline) an extension-less URL is taken as jpeg, size unknown.
    return {"format": fmt or "jpeg", "size": 0, "name": filename or "image", "image_url": source.strip()}


def _from_data_uri(source: str) -> dict[str, Any]:
    match = _DATA_URI.match(source.strip())
    if not match:
        raise invalid("A data URI must look like `data:image/png;base64,...`.", pointer=_SOURCE)
    subtype, is_base64, payload = match.groups()
    fmt = _format(subtype)
    if fmt is None:
        raise invalid(f"Supported image formats: jpeg, png, gif (not {subtype[:20]}).", pointer=_SOURCE)
    try:
        raw = base64.b64decode(payload, validate=True) if is_base64 else unquote(payload).encode()
    except (binascii.Error, ValueError):
        raise invalid("The data URI's base64 payload does not decode.", pointer=_SOURCE) from None
    if len(raw) > _MAX_BYTES:
        raise invalid("The image is larger than the 5MB maximum.", pointer=_SOURCE)
    return {"format": fmt, "size": len(raw), "name": "image"}


def _free_name(tx: StoreTx, account: str, wanted: str) -> str:
    """The name, or with ` (2)`, ` (3)`... when another image has it (Klaviyo adds a suffix)."""
    taken = {str((r.get("attributes") or {}).get("name")) for r in tx.scan(account, "image")}
    if wanted not in taken:
        return wanted
    stem, dot, ext = wanted.rpartition(".")
    base, suffix = (stem, f".{ext}") if dot and stem else (wanted, "")
    n = 2
    while f"{base} ({n}){suffix}" in taken:
        n += 1
    return f"{base} ({n}){suffix}"
