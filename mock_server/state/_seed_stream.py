"""A JSON seed file read as a stream: a 1M-profile account (`kdk seed generate 1m`, ~11M resources, gigabytes)
loads without ever holding the file, or its resources, all at once.

`stream_seed_file(path)` returns the seed document with its `accounts` read lazily: iterating
`doc["accounts"].items()` yields each account's name and an iterator over its resources, parsed one at a time
from the file (the seed loader stores them in batches as they come). Other top-level members (`settings`...) are
parsed whole: those before `accounts` at once, those after it once the accounts have been read. The accounts can
be read once; asking for a later member first reads past them (and they are then gone).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["STREAM_FROM_BYTES", "SeedError", "stream_seed_file"]

STREAM_FROM_BYTES = 64 * 1024 * 1024  # JSON seed files this large are streamed (smaller ones are parsed at once)
_CHUNK = 1024 * 1024
_WHITESPACE = " \t\n\r"


class SeedError(ValueError):
    """Seed data that cannot be loaded (`_seed` raises it too; defined here, where the stream finds errors)."""


class _Reader:
    """JSON values one at a time from a text file, through a buffer of about one chunk."""

    def __init__(self, stream: IO[str], name: str) -> None:
        self._stream = stream
        self.name = name
        self._buf = ""
        self._pos = 0
        self._offset = 0  # characters of the file before the buffer
        self._eof = False
        self._decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._stream.read(_CHUNK)
        if not chunk:
            self._eof = True
            return False
        self._offset += self._pos
        self._buf = self._buf[self._pos :] + chunk
        self._pos = 0
        return True

    def error(self, message: str) -> SeedError:
        return SeedError(f"{self.name}: not valid JSON: {message} (character {self._offset + self._pos})")

    def peek(self) -> str:
        """The next character that is not whitespace ("" at the end of the file)."""
        while True:
            while self._pos < len(self._buf) and self._buf[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buf):
                return self._buf[self._pos]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            found = self.peek()
            raise self.error(f"expected {char!r}, found {found!r}" if found else f"expected {char!r} at the end")
        self._pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                value, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if self._fill():
                    continue
                raise self.error(exc.msg) from None
            if end == len(self._buf) and self._fill():  # a number may go on in the next chunk
                continue
            self._pos = end
            return value

    def members(self) -> Iterator[str]:
        """The keys of an object, positioned after each key's `:` (the caller reads its value)."""
        self.expect("{")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            key = self.value()
            if not isinstance(key, str):
                raise self.error("an object key must be a string")
            self.expect(":")
            yield key
            if self.peek() == ",":
                self._pos += 1
                continue
            self.expect("}")
            return

    def items(self) -> Iterator[Any]:
        """The values of an array, one at a time."""
        self.expect("[")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            yield self.value()
            if self.peek() == ",":
                self._pos += 1
                continue
            self.expect("]")
            return


class _StreamedAccounts(dict[str, Any]):
    """`accounts`, read from the file as it is iterated: (name, resources) pairs, each resource parsed when the
    loader gets to it. A dict (empty until read) so that shape checks of a seed document still pass."""

    def __init__(self, seed: _StreamedSeed) -> None:
        super().__init__()
        self._seed = seed

    def items(self) -> Iterator[tuple[str, Iterator[Any]]]:  # type: ignore[override]
        return self._seed.accounts()

    def __bool__(self) -> bool:
        return True


class _StreamedSeed(dict[str, Any]):
    """The seed document: members before `accounts` parsed, `accounts` streamed, later members parsed on demand."""

    def __init__(self, reader: _Reader, stream: IO[str]) -> None:
        super().__init__()
        self._reader = reader
        self._stream = stream
        self._keys = reader.members()
        self._accounts_read = False
        for key in self._keys:
            if key == "accounts":
                super().__setitem__(key, _StreamedAccounts(self))
                return
            super().__setitem__(key, reader.value())
        self._close()

    def accounts(self) -> Iterator[tuple[str, Iterator[Any]]]:
        if self._accounts_read:
            raise SeedError(f"{self._reader.name}: the streamed `accounts` can be read once")
        self._accounts_read = True
        if self._reader.peek() != "{":
            raise self._reader.error("`accounts` must be a mapping of account -> list of resources")
        for name in self._reader.members():
            if self._reader.peek() != "[":
                raise self._reader.error(f"accounts.{name}: expected a list of resources")
            resources = self._reader.items()
            yield name, resources
            for _ in resources:  # what the loader left unread (an account it kept as it was)
                pass
        self._rest()

    def _rest(self) -> None:
        for key in self._keys:
            super().__setitem__(key, self._reader.value())
        self._close()

    def _close(self) -> None:
        if self._reader.peek():
            raise self._reader.error("more data after the document")
        self._stream.close()

    def get(self, key: str, default: Any = None) -> Any:
        if key != "accounts" and not super().__contains__(key) and not self._stream.closed:
            if not self._accounts_read:
                for _ in self.accounts():  # a member after `accounts`, asked for first: read past them
                    pass
            else:
                self._rest()
        return super().get(key, default)

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, self)
        if value is self:
            raise KeyError(key)
        return value


def stream_seed_file(path: str | Path) -> dict[str, Any]:
    """The seed document of a JSON file, its accounts streamed (see the module). Raises SeedError when
    the file does not start as a JSON object; later errors surface (as SeedError) as the resources are read."""
    file = Path(path)
    stream = file.open(encoding="utf-8")
    try:
        return _StreamedSeed(_Reader(stream, str(file)), stream)
    except BaseException:
        stream.close()
        raise
