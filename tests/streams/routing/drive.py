"""Drive a routing domain with events built from the fixture files, and read back what it emitted."""
from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path

import yaml

from streams.routing.acd import apply_action, apply_request, apply_tick, new_domain
from streams.routing.config import parse_config

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "routing"
REQUEST = json.loads((FIXTURES / "request.json").read_text())
ACTION = json.loads((FIXTURES / "action.json").read_text())
T0 = REQUEST["requested_at"]


def tenant_config(tenant: str = "t", **changes):
    """The fixture routing file, with top-level keys replaced by `changes`."""
    data = yaml.safe_load((FIXTURES / "tenant.yaml").read_text()) | changes
    return parse_config(yaml.safe_dump(data), tenant)


def request(conv: str, at: int, tenant: str = "t", **fields) -> dict:
    """A routing request for conversation `conv` at time `at` (millis)."""
    record = copy.deepcopy(REQUEST) | {"request_id": f"rr-{conv}-{at}", "tenant_id": tenant,
                                       "conversation_id": conv, "thread_key": f"{tenant}:whatsapp:1:{conv}",
                                       "requested_at": at}
    return record | fields


_ids = itertools.count(1)


def action(agent: str, kind: str, at: int, tenant: str = "t", **fields) -> dict:
    """An agent action of `kind` at time `at`."""
    return copy.deepcopy(ACTION) | {"action_id": f"aa-{next(_ids)}", "tenant_id": tenant,
                                    "agent_id": agent, "type": kind, "occurred_at": at,
                                    "presence": None} | fields


class Driver:
    """A routing domain plus the log of every record it produced."""

    def __init__(self, config=None, now: int = T0):
        self.state = new_domain(config or tenant_config(), now)
        # A running domain: its queue settings were announced (configured.py) before the test's events.
        self.configured = apply_tick(self.state, now)
        self.records = []

    def _keep(self, records):
        self.records += records
        return records

    def request(self, conv: str, at: int, **fields):
        """Apply a routing request."""
        return self._keep(apply_request(self.state, request(conv, at, self.state.tenant, **fields)))

    def act(self, agent: str, kind: str, at: int, **fields):
        """Apply an agent action."""
        return self._keep(apply_action(self.state, action(agent, kind, at, self.state.tenant, **fields)))

    def on_queue(self, agent: str, at: int, presence: str = "on_queue"):
        """The agent changes presence."""
        return self.act(agent, "presence", at, presence=presence)

    def tick(self, at: int):
        """Advance the routing clock."""
        return self._keep(apply_tick(self.state, at))

    def offer_of(self, conv: str) -> dict:
        """The open offer of a conversation (its agent-event)."""
        offers = [r.value for r in self.records if r.subject == "agent-event" and r.value["type"] == "offered"
                  and r.value["conversation_id"] == conv]
        return offers[-1]

    def accept(self, conv: str, at: int):
        """The offered agent accepts the conversation's latest offer."""
        offer = self.offer_of(conv)
        return self.act(offer["agent_id"], "accept", at, conversation_id=conv, offer_id=offer["offer_id"])

    def offers(self, records=None) -> list[tuple[str, str]]:
        """(conversation, agent) of every offer, in order."""
        return [(r.value["conversation_id"], r.value["agent_id"]) for r in (records or self.records)
                if r.subject == "agent-event" and r.value["type"] == "offered"]

    def of(self, subject: str, kind: str | None = None, records=None) -> list[dict]:
        """Values of one subject (and type/kind/segment_type)."""
        values = [r.value for r in (records if records is not None else self.records) if r.subject == subject]
        field = {"agent-event": "type", "assignment": "type", "routing-decision": "kind",
                 "segment-fact": "segment_type"}.get(subject)
        return [v for v in values if kind is None or v.get(field) == kind]
