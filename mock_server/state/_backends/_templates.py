"""Templates: create/update/delete (generic), `template-render` and `template-clone`.

Rendering follows the subset of Klaviyo's Django-style template language a test needs to see its data land:
- `{{ name }}` and dotted paths `{{ person.address.city }}` read the request's `context`;
- `{{ name|default:"friend" }}` (or `'friend'`) gives the fallback when the value is missing or empty;
  other filters are ignored (the value is output as is);
- a variable missing from the context outputs nothing ("treated as FALSE", as Klaviyo's docs say);
- values are HTML-escaped in `html` and `amp` (Django auto-escapes), not in `text`;
- block tags (`{% if %}`, `{% for %}`...) and Klaviyo's custom tags are left as written.
"""

from __future__ import annotations

import html
import re
from typing import Any, ClassVar

from .._errors import invalid
from .._models import Outcome, Record
from ._base import Backend, Call
from ._copies import copy_record, new_name

__all__ = ["TEMPLATE_LIMIT", "TemplatesBackend", "render_text"]

TEMPLATE = "template"
TEMPLATE_LIMIT = 1000  # "cloning will fail as there is a limit of 1,000 templates that can be created via the API"
_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_$][\w$.]*)\s*((?:\|\s*\w+(?:\s*:\s*(?:\"[^\"]*\"|'[^']*'|[\w.]+))?\s*)*)\}\}")
_FILTER = re.compile(r"\|\s*(\w+)(?:\s*:\s*(\"[^\"]*\"|'[^']*'|[\w.]+))?")
_RENDERED = ("html", "text", "amp")


def _lookup(context: Any, path: str) -> Any:
    value = context
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    return str(value)


def render_text(source: str, context: dict[str, Any], *, escape: bool) -> str:
    """`source` with its `{{ variable|default:"x" }}` tags filled from `context` (the subset above)."""

    def fill(match: re.Match[str]) -> str:
        value = _lookup(context, match.group(1))
        for name, argument in _FILTER.findall(match.group(2) or ""):
            if name == "default" and value in (None, "", [], {}, False):
                value = argument[1:-1] if argument[:1] in ("'", '"') else _lookup(context, argument)
        text = _as_text(value)
        return html.escape(text) if escape else text

    return _VARIABLE.sub(fill, source)


class TemplatesBackend(Backend):
    types: ClassVar[tuple[str, ...]] = (TEMPLATE,)
    holds_state: ClassVar[bool] = True
    actions: ClassVar[frozenset[str]] = frozenset({"render", "clone"})

    def complete(self, record: Record, op: Any) -> None:
        attrs = record.setdefault("attributes", {})
        if not attrs.get("editor_type"):
            attrs["editor_type"] = "CODE"  # what a template made through the API with its own html is
        super().complete(record, op)

    def action(self, call: Call) -> Outcome:
        return self.render(call) if call.op.action == "render" else self.clone(call)

    def render(self, call: Call) -> Outcome:
        incoming = call.resource()
        context = incoming.attributes.get("context")
        if not isinstance(context, dict):
            raise invalid("`context` must be a JSON object.", pointer="/data/attributes/context")
        with self.store.transaction(write=False) as tx:
            template = self.stored(tx, call.account, TEMPLATE, incoming.id or "")
        attrs = dict(template.get("attributes") or {})
        for name in _RENDERED:
            if isinstance(attrs.get(name), str):
                attrs[name] = render_text(attrs[name], context, escape=name != "text")
        return Outcome(call.op.status, [{**template, "attributes": attrs}], links="resource")

    def clone(self, call: Call) -> Outcome:
        incoming = call.resource()
        with self.store.transaction() as tx:
            source = self.stored(tx, call.account, TEMPLATE, incoming.id or "")
            if len(tx.scan(call.account, TEMPLATE)) >= TEMPLATE_LIMIT:
                raise invalid(f"An account can hold at most {TEMPLATE_LIMIT} templates created through the API.")
            made = copy_record(
                source, self.ids.rule(TEMPLATE).new(), name=new_name(incoming.attributes, source, "name")
            )
            self.complete(made, self.index.ops.get(self.index.types[TEMPLATE].get_op or ""))
            tx.put(call.account, made)
        return Outcome(call.op.status, [made], links="resource")
