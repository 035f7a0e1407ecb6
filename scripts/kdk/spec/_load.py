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

__all__ = ["SpecLoadError", "load_spec", "parse_spec_text"]

Spec = dict[str, Any]

# YAML aliases share one node however often they are used, so a few kilobytes can stand for billions of
# values ("billion laughs") that every walker downstream would visit. A real spec expands to ~10^5 nodes.
MAX_YAML_NODES = 2_000_000


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
            data = _load_yaml_bounded(text, source)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            column = mark.column + 1 if mark is not None else None
            raise SpecLoadError(source, f"invalid YAML: {getattr(exc, 'problem', exc)}", line, column) from None
    else:
        try:
            data = json.loads(text, strict=not lenient)
        except RecursionError:
            raise SpecLoadError(source, "invalid JSON: nested too deeply to be a spec") from None
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
    return data


def _load_yaml_bounded(text: str, source: str) -> Any:
    """`yaml.safe_load`, refusing documents whose aliases expand past MAX_YAML_NODES values."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_YAML_NODES:
            raise SpecLoadError(
                source, f"YAML aliases expand to more than {MAX_YAML_NODES:,} values: refusing it (an alias bomb?)"
            )
        return loader.construct_document(node)
    except RecursionError:
        raise SpecLoadError(source, "invalid YAML: nested too deeply to be a spec") from None
    finally:
        loader.dispose()


def _expanded_size(root: yaml.Node) -> int:
    """How many values the document holds once every alias is expanded (shared nodes counted per use)."""
    sizes: dict[int, int] = {}
    # Iterative post-order: aliases make a DAG (a cycle is a self-referencing anchor; counted once, bounded).
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            total = 1
            for child in _children(node):
                total += sizes.get(id(child), 1)
                if total > MAX_YAML_NODES:
                    break
            sizes[key] = total
            continue
        if key in sizes or key in on_path:
            continue
        on_path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)
    return sizes.get(id(root), 1)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


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
