"""Flows, their actions and messages.

- `create_flow` stores the flow's definition and makes a `flow-action` for each of its actions (a
  `temporary_id` becomes a real id everywhere the definition names it: `entry_action_id`, `links`) and a
  `flow-message` for each action's message; flow -> actions -> messages relationships point both ways, and the
  trigger's list/segment/metric lists the flow under `flow-triggers`. The definition is returned only with
  `additional-fields[flow]=definition` (the renderer's rule for fields the spec marks additional);
- a new flow is a `draft`; `update_flow` sets `draft`, `manual` or `live` ("and all actions in that flow");
- updating or deleting an action shows in the flow's definition; deleting a flow deletes its actions and messages.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Container
from typing import Any, ClassVar

from .._errors import invalid
from .._models import Record, now, ref, refs_of
from .._store import StoreTx
from ._base import Backend, Call

__all__ = ["FLOW_STATUSES", "FlowsBackend", "expand_definition"]

FLOW, ACTION, MESSAGE = "flow", "flow-action", "flow-message"
ACTIONS, MESSAGES = "flow-actions", "flow-messages"  # the relationships that hold them
FLOW_STATUSES = ("draft", "manual", "live")  # update_flow: "['draft', 'manual', or 'live']"
_TRIGGER_TYPES = (
    ("list", "Added to List"),
    ("segment", "Added to List"),
    ("metric", "Metric"),
    ("date", "Date Based"),
    ("price", "Price Drop"),
    ("inventory", "Low Inventory"),
)


def trigger_type(definition: Any) -> str:
    triggers = definition.get("triggers") if isinstance(definition, dict) else None
    first = triggers[0] if isinstance(triggers, list) and triggers and isinstance(triggers[0], dict) else {}
    kind = str(first.get("type") or "")
    return next((label for word, label in _TRIGGER_TYPES if word in kind), "Unconfigured")


def _replace_ids(node: Any, ids: dict[str, str]) -> Any:
    """Every temporary id the definition uses, as the real id it became."""
    if isinstance(node, dict):
        out = {k: _replace_ids(v, ids) for k, v in node.items() if k != "temporary_id"}
        if node.get("temporary_id") in ids:
            out["id"] = ids[node["temporary_id"]]
        return out
    if isinstance(node, list):
        return [_replace_ids(v, ids) for v in node]
    return ids.get(node, node) if isinstance(node, str) else node


class FlowsBackend(Backend):
    types: ClassVar[tuple[str, ...]] = (FLOW, ACTION, MESSAGE)
    holds_state: ClassVar[bool] = True

    def complete(self, record: Record, op: Any) -> None:
        attrs = record.setdefault("attributes", {})
        if record["type"] == FLOW:
            attrs.setdefault("status", "draft")
            attrs.setdefault("archived", False)
            if attrs.get("trigger_type") is None:
                attrs["trigger_type"] = trigger_type(attrs.get("definition"))
        super().complete(record, op)

    def after_write(self, call: Call, tx: StoreTx, record: Record, *, created: bool) -> None:
        if record["type"] == ACTION and not created:
            self.sync_definition(call.account, tx, record, removed=False)

    def sync_definition(self, account: str, tx: StoreTx, action: Record, *, removed: bool) -> None:
        """The flow's definition shows its actions as they are now (updated, or gone)."""
        flows = refs_of(action, "flow")
        flow = tx.get(account, FLOW, flows[0]["id"]) if flows else None
        definition = (flow or {}).get("attributes", {}).get("definition")
        if flow is None or not isinstance(definition, dict):
            return
        current = (action.get("attributes") or {}).get("definition")
        kept = []
        for entry in definition.get("actions") or []:
            if isinstance(entry, dict) and str(entry.get("id")) == action["id"]:
                if removed:
                    continue
                entry = {**current, "id": entry["id"]} if isinstance(current, dict) else entry
            kept.append(entry)
        definition["actions"] = kept
        if removed:
            rel = flow.get("relationships", {}).get(ACTIONS)
            if rel:
                rel["data"] = [r for r in rel["data"] if r["id"] != action["id"]]
        tx.put(account, flow)

    def before_write(self, call: Call, tx: StoreTx, record: Record, *, created: bool) -> None:
        if record["type"] != FLOW:
            return
        status = record["attributes"].get("status")
        if status not in FLOW_STATUSES:
            raise invalid(
                f"'{status}' is not a flow status: use one of {', '.join(FLOW_STATUSES)}.",
                pointer="/data/attributes/status",
            )
        if created and isinstance(record["attributes"].get("definition"), dict):
            self.expand(call.account, tx, record)
        elif not created:
            self.set_action_status(call.account, tx, record, status)

    def expand(self, account: str, tx: StoreTx, flow: Record) -> None:
        """The definition's actions and messages as resources of their own (with real ids)."""
        new_action, new_message = self.ids.rule(ACTION).new, self.ids.rule(MESSAGE).new
        made = expand_definition(flow, lambda _: new_action(), lambda _: new_message(), now(), self.index.types)
        for record in made:
            tx.put(account, record)

    def set_action_status(self, account: str, tx: StoreTx, flow: Record, status: str) -> None:
        """`update_flow` updates "the status of a flow ... and all actions in that flow"."""
        for action_ref in refs_of(flow, ACTIONS):
            action = tx.get(account, ACTION, action_ref["id"])
            data = ((action or {}).get("attributes") or {}).get("definition", {}).get("data")
            if action is None or not isinstance(data, dict):
                continue
            data["status"] = status
            action["attributes"]["updated"] = now()
            tx.put(account, action)
        definition = flow["attributes"].get("definition")
        for action in definition.get("actions") or [] if isinstance(definition, dict) else []:
            if isinstance(action, dict) and isinstance(action.get("data"), dict):
                action["data"]["status"] = status

    def remove(self, tx: StoreTx, account: str, record: Record) -> None:
        if record["type"] == FLOW:
            for action_ref in refs_of(record, ACTIONS):
                action = tx.get(account, ACTION, action_ref["id"])
                if action is not None:
                    self.remove(tx, account, action)
        elif record["type"] == ACTION:
            self.sync_definition(account, tx, record, removed=True)
            for message_ref in refs_of(record, MESSAGES):
                tx.delete(account, MESSAGE, message_ref["id"])
        super().remove(tx, account, record)


def expand_definition(
    flow: Record,
    action_id: Callable[[str], str],
    message_id: Callable[[str], str],
    stamp: str,
    types: Container[str],
) -> list[Record]:
    """The flow-action and flow-message records of `flow`'s definition (updated in place: real ids where it
    said `temporary_id`, `flow-actions` and `triggers` relationships to the triggers of a resource `types`).
    `action_id`/`message_id` make an id from the definition's own id for the action (a demo account needs the
    same ids on every run)."""
    definition = flow["attributes"]["definition"]
    actions = [a for a in definition.get("actions") or [] if isinstance(a, dict)]
    ids = {
        str(a.get("temporary_id") or a.get("id")): action_id(str(a.get("temporary_id") or a.get("id")))
        for a in actions
        if a.get("temporary_id") or a.get("id")
    }
    resolved = _replace_ids(definition, ids)
    out: list[Record] = []
    action_refs = []
    for index, action in enumerate(resolved.get("actions") or []):
        if not isinstance(action, dict):
            continue
        action.setdefault("id", action_id(str(index)))
        data: dict[str, Any] = action["data"] if isinstance(action.get("data"), dict) else {}
        if data:
            data.setdefault("status", flow["attributes"]["status"])
        record: Record = {
            "type": ACTION,
            "id": str(action["id"]),
            "attributes": {"definition": copy.deepcopy(action), "created": stamp, "updated": stamp},
            "relationships": {"flow": {"many": False, "data": [ref(flow)]}},
        }
        message = data.get("message")
        if isinstance(message, dict):
            kind = str(action.get("type") or "")
            made: Record = {
                "type": MESSAGE,
                "id": message_id(str(action["id"])),
                "attributes": {
                    "channel": message.get("channel") or kind.removeprefix("send-"),
                    "definition": copy.deepcopy(message),
                    "created": stamp,
                    "updated": stamp,
                },
                "relationships": {"flow-action": {"many": False, "data": [ref(record)]}},
            }
            out.append(made)
            record["relationships"][MESSAGES] = {"many": True, "data": [ref(made)]}
        out.append(record)
        action_refs.append(ref(record))
        resolved["actions"][index] = action
    flow["attributes"]["definition"] = resolved
    flow.setdefault("relationships", {})[ACTIONS] = {"many": True, "data": action_refs}
    triggers = [
        {"type": str(t["type"]), "id": str(t["id"])}
        for t in resolved.get("triggers") or []
        if isinstance(t, dict) and t.get("id") and str(t.get("type")) in types
    ]
    if triggers:
        flow["relationships"]["triggers"] = {"many": True, "data": triggers}  # the inverse of `flow-triggers`
    return out
