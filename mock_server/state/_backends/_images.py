"""Images: an upload (a multipart file, or a URL / data URI to import) stores an image record.

An import from a URL keeps that URL as `image_url` (nothing is fetched offline: its size is 0, the format
comes from the file extension). A file or a data URI keeps its bytes, and its `image_url` is the mock's own
public "CDN" address `<mock>/__mock__/images/<account id>/<random token>.<ext>`, which answers the same bytes
with the image's Content-Type to anyone who has the URL (Klaviyo's CDN needs no key either). The path holds
the opaque account id (never a credential) and a 128-bit random token, so it can be neither derived from
a key nor guessed. The bytes live in the account's store as base64 in a record of the mock's own type
`kdk-image-file` (so every store keeps them, and an export carries them). The documented rules hold: jpeg,
png or gif only, at most `ResourceLimits.image_bytes` (Klaviyo's 5 MB) per image, at most
`account_image_bytes` per account (a 413 past it), the name defaults to the file name and a name already in
use gets a numeric suffix.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from mock_server import MockError, account_for_name

from .._errors import invalid
from .._models import Outcome, Record, ResourceInput, now
from .._store import StoreTx
from ._base import Backend, Call

__all__ = ["ImagesBackend"]

_FILE_TYPE = "kdk-image-file"  # the mock's own record type: one image's bytes (base64) and media type
_FORMATS = {"jpeg": "jpeg", "jpg": "jpeg", "png": "png", "gif": "gif"}
_EXTENSIONS = {"jpeg": "jpg", "png": "png", "gif": "gif"}
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpeg"), (b"GIF87a", "gif"), (b"GIF89a", "gif"))
_TOKEN = re.compile(r"[0-9a-f]{32}")
_DATA_URI = re.compile(r"^data:image/([\w.+-]+)(;base64)?,(.*)$", re.DOTALL | re.IGNORECASE)
_SOURCE = "/data/attributes/import_from_url"


class ImagesBackend(Backend):
    types: ClassVar[tuple[str, ...]] = ("image",)
    files_path: ClassVar[str] = "/__mock__/images"  # + /<account id>/<token>.<ext>: the bytes, served publicly

    def create(self, call: Call) -> Outcome:
        """`upload_image_from_url`: a URL or a data URI."""
        incoming = call.resource()
        source = incoming.attributes.get("import_from_url")
        if not isinstance(source, str) or not source.strip():
            raise invalid("`import_from_url` must be an image URL or a data URI.", pointer=_SOURCE)
        stored = _from_data_uri(source) if source.lower().startswith("data:") else _from_url(source)
        if "content" in stored:
            self._check_size(len(stored["content"]), _SOURCE)
        return self._store_image(call, incoming, stored)

    def upload(self, call: Call) -> Outcome:
        """`upload_image_from_file`: the multipart form (`file`, optional `name` and `hidden`)."""
        form = call.req.body if isinstance(call.req.body, dict) else {}
        sent = form.get("file")
        upload: dict[str, Any] = sent if isinstance(sent, dict) else {}
        filename = str(upload.get("filename") or "")
        media = str(upload.get("content_type") or "")
        content = upload.get("content")
        raw = bytes(content) if isinstance(content, bytes | bytearray) else b""
        # The bytes say what they are; a client that sends bare bytes (the Python SDK: `application/octet-stream`
        # named "file") still uploads a PNG. Else the declared media type, else the file name's extension.
        fmt = _sniff(raw) or (_format(media.split("/")[-1]) if media.startswith("image/") else None)
        fmt = fmt or _format(filename.rsplit(".", 1)[-1] if "." in filename else "")
        if fmt is None:
            raise invalid("Supported image formats: jpeg, png, gif.", pointer="/file")
        if not raw:
            raise invalid("The image file is empty.", pointer="/file")
        self._check_size(len(raw), "/file")
        attributes = {k: form[k] for k in ("name", "hidden") if k in form}
        incoming = ResourceInput("image", None, attributes)
        derived = {"format": fmt, "name": filename or "image", "content": raw, "pointer": "/file"}
        return self._store_image(call, incoming, derived)

    def _check_size(self, size: int, pointer: str) -> None:
        most = self.backends.limits.image_bytes
        if size > most:
            raise invalid(f"The image is larger than the {_megabytes(most)} maximum ({size} bytes).", pointer=pointer)

    def _store_image(self, call: Call, incoming: ResourceInput, derived: dict[str, Any]) -> Outcome:
        stamp = now()
        content: bytes | None = derived.get("content")
        with self.store.transaction() as tx:
            rid = self.ids.rule("image").new({}, {})
            name = incoming.attributes.get("name")
            wanted = name if isinstance(name, str) and name else str(derived.get("name") or "image")
            hidden = incoming.attributes.get("hidden")
            url = derived.get("image_url")
            if content is not None:
                url = self._keep_file(call, tx, rid, derived["format"], content, derived["pointer"])
            record: Record = {
                "type": "image",
                "id": rid,
                "attributes": {
                    "name": _free_name(tx, call.account, wanted),
                    "image_url": url,
                    "format": derived["format"],
                    "size": len(content) if content is not None else derived.get("size", 0),
                    "hidden": hidden is True,
                    "updated_at": stamp,
                },
                "relationships": {},
            }
            info = self.index.types["image"]
            self.complete(record, self.index.ops.get(info.get_op or ""))
            tx.put(call.account, record)
        return Outcome(201, [record], links="resource")

    def _keep_file(self, call: Call, tx: StoreTx, image_id: str, fmt: str, content: bytes, pointer: str) -> str:
        """Store an upload's bytes (within the account's allowance) and answer the public URL serving them."""
        # The images' sizes add up to the bytes kept: an image imported from a URL keeps none (size 0).
        held = sum(int((r.get("attributes") or {}).get("size") or 0) for r in tx.scan(call.account, "image"))
        allowance = self.backends.limits.account_image_bytes
        if held + len(content) > allowance:
            raise MockError(
                413,
                f"This account's uploaded images would exceed the mock's {_megabytes(allowance)} allowance "
                f"({held} bytes held, {len(content)} sent; `kdk mock --account-image-bytes` sets it).",
                code="request_too_large",
                title="Request too large.",
                pointer=pointer,
            )
        token = secrets.token_hex(16)
        tx.put(
            call.account,
            {
                "type": _FILE_TYPE,
                "id": token,
                "attributes": {
                    "image_id": image_id,
                    "media_type": f"image/{fmt}",
                    "base64": base64.b64encode(content).decode("ascii"),
                },
                "relationships": {},
            },
        )
        return f"{call.req.base_url}{self.files_path}/{call.account}/{token}.{_EXTENSIONS[fmt]}"

    def file(self, account: str, filename: str) -> tuple[bytes, str] | None:
        """The bytes and media type an image URL of the mock serves (None: no such file in that account)."""
        token, dot, extension = filename.partition(".")
        if account_for_name(account) != account or not dot or not _TOKEN.fullmatch(token):  # an `acct_...` id only
            return None
        with self.store.transaction(write=False) as tx:
            found = tx.get(account, _FILE_TYPE, token)
        attrs = (found or {}).get("attributes") or {}
        media_type = str(attrs.get("media_type") or "")
        if _EXTENSIONS.get(media_type.partition("/")[2]) != extension:  # the URL as issued, not another extension
            return None
        try:
            return base64.b64decode(str(attrs["base64"]), validate=True), media_type
        except (KeyError, binascii.Error, ValueError):
            return None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}MB" if size >= 1024 * 1024 else f"{size} bytes"


def _sniff(content: bytes) -> str | None:
    """The format the file's own signature names (PNG, JPEG, GIF), if any."""
    for signature, fmt in _SIGNATURES:
        if content.startswith(signature):
            return fmt
    return None


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
    return {"format": fmt, "name": "image", "content": raw, "pointer": _SOURCE}


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
