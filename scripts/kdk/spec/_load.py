"""Read a spec file into a dict, or say exactly where and why it is unreadable.

Every consumer (validate, patch, generate, mock, diff, tests) reads specs through `load_spec`,
so a malformed file gets the same located message everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = ["MAX_DEPTH", "MAX_NODES", "SpecLoadError", "load_spec", "parse_spec_text"]

Spec = dict[str, Any]
# Bounds on what a spec may expand to, far above Klaviyo's (nesting 16, ~25,000 objects and arrays on a 3 MB
# revision): deeper nesting crashes recursive tools (deepcopy, validators) with a traceback, and YAML aliases can
# make a few hundred bytes stand for billions of nodes (a "billion laughs" file) that every walk would expand.
MAX_DEPTH = 128
MAX_NODES = 1_000_000


@dataclass(frozen=True)
class SpecLoadError(Exception):
    """A spec that cannot be read: where (file, line, column) and why."""

    source: str
    reason: str
    line: int | None = None
    column: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f":{self.line}:{self.column}"
        text = f"{where}: {self.reason}"
        return f"{text} ({self.hint})" if self.hint else text


def parse_spec_text(text: str, source: str, *, lenient: bool = False) -> Spec:
    """Parse JSON (or YAML, by file extension) text; `lenient` accepts raw control characters in strings."""
    if source.endswith((".yaml", ".yml")):
        try:
            data = yaml.safe_load(text)  # aliases stay shared objects here; _check_bounds counts their expansion
        except RecursionError:
            raise SpecLoadError(source, f"invalid YAML: nested too deeply (more than {MAX_DEPTH} levels)") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            column = mark.column + 1 if mark is not None else None
            raise SpecLoadError(source, f"invalid YAML: {getattr(exc, 'problem', exc)}", line, column) from None
    else:
        try:
            data = json.loads(text, strict=not lenient)
        except RecursionError:
            raise SpecLoadError(source, f"invalid JSON: nested too deeply (more than {MAX_DEPTH} levels)") from None
        except json.JSONDecodeError as exc:
            reason = f"invalid JSON: {exc.msg}"
            hint = None
            if exc.msg.startswith("Invalid control character"):
                char = text[exc.pos] if exc.pos < len(text) else ""
                reason = f"invalid JSON: raw control character {char!r} (U+{ord(char):04X}) inside a string"
                hint = "escape it as \\n / \\t / \\u00XX, or pass --lenient to read it anyway"
            raise SpecLoadError(source, reason, exc.lineno, exc.colno, hint) from None
    if not isinstance(data, dict):
        raise SpecLoadError(source, f"expected a JSON object at the top level, got {type(data).__name__}")
    _check_bounds(data, source)
    return data


def _check_bounds(data: Any, source: str) -> None:
    """Refuse a document nested deeper than MAX_DEPTH, expanding to more than MAX_NODES objects/arrays, or
    containing itself (a recursive YAML alias). One pass over the distinct objects: a shared (aliased) object is
    counted at its expanded size without being walked again, so a YAML bomb is refused in microseconds."""
    size: dict[int, int] = {}  # id -> expanded number of containers under (and including) it
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Any, bool]] = [(data, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in size:
            continue
        children = [v for v in (node.values() if isinstance(node, dict) else node) if isinstance(v, (dict, list))]
        if children_done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            if depth[key] > MAX_DEPTH:
                raise SpecLoadError(source, f"nested too deeply (more than {MAX_DEPTH} levels)")
            if size[key] > MAX_NODES:
                raise SpecLoadError(
                    source, f"expands to more than {MAX_NODES:,} objects and arrays (YAML aliases?): refused"
                )
            continue
        if key in on_path:
            raise SpecLoadError(source, "a YAML alias refers to a node that contains it (a cycle): refused")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
        if len(on_path) > MAX_DEPTH:
            raise SpecLoadError(source, f"nested too deeply (more than {MAX_DEPTH} levels)")


def load_spec(path: str | Path, *, lenient: bool = False) -> Spec:
    """Read and parse a spec file; raises `SpecLoadError` (never a raw traceback-worthy exception)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SpecLoadError(str(path), f"cannot read file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SpecLoadError(str(path), f"not UTF-8: byte 0x{raw[exc.start]:02X}", line, column) from None
    return parse_spec_text(text, str(path), lenient=lenient)
