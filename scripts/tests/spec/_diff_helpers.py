"""Shared helpers for the diff tests: the hand-written base spec and pointer checking."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from kdk.spec import deref

DATA = Path(__file__).parent / "data" / "diff"
Spec = dict[str, Any]


def base_spec() -> Spec:
    spec: Spec = json.loads((DATA / "base.json").read_text(encoding="utf-8"))
    return spec


def clone(spec: Spec) -> Spec:
    return copy.deepcopy(spec)


def resolve_resolved_pointer(spec: Spec, pointer: str) -> Any:
    """Follow a pointer through the *resolved* spec: a `$ref` met on the way is read as its target."""
    node: Any = deref(spec, spec)
    for raw in pointer.removeprefix("#").lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        node = deref(spec, node)
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node
