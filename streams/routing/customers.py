"""The customer's last agent across channels: routing prefers it for a customer whose conversations
identity merged (routing-request v5 `related_customer_ids`, docs/identity.md).

Routing remembers, on each finished conversation's tombstone, its customer and the agent it was
connected to (`queueing.finish`); with the conversations still in routing, that is every agent a
customer had here within the tombstones' retention (longer than the 72 h threading window).
"""
from __future__ import annotations

from switchboard.settings import MAX_WINDOW_HOURS

from .domain import Domain, decide, touch
from .matching import route
from .model import WAITING, Conversation
from .queueing import prefer
from .updates import UPDATES

MAX_WINDOW_MS = int(MAX_WINDOW_HOURS * 3_600_000)


def last_agent(domain: Domain, customers: list[str], exclude: str = "") -> str | None:
    """The agent most recently connected to a conversation of any of `customers` within the window."""
    group, horizon = set(customers), domain.now - MAX_WINDOW_MS
    seen = [(c.connected_at, c.agent_id) for c in domain.conversations.values()
            if c.customer_id in group and c.connected_at and c.agent_id and c.conversation_id != exclude]
    seen += [(t["at"], t["agent_id"]) for t in domain.finished.values()
             if t.get("customer_id") in group and t.get("agent_id") and t["at"] >= horizon]
    return max(seen)[1] if seen else None


def on_customer_changed(domain: Domain, conv: Conversation, request: dict) -> None:
    """A merge or split changed the waiting conversation's customer: prefer the group's last agent."""
    conv.customer_id = request.get("customer_id")
    touch(domain, conv)
    agent = last_agent(domain, request.get("related_customer_ids") or [], exclude=conv.conversation_id)
    if conv.status != WAITING or conv.reserved_for or agent is None:
        decide(domain, "ignored", f"customer changed ({conv.status}): no last agent to prefer now", conv=conv)
        return
    prefer(domain, conv, agent, "last agent (customer merged)")
    route(domain, conv, "customer changed")


UPDATES["customer_changed"] = on_customer_changed
