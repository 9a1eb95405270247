"""An agent changes presence: on-queue fills them; leaving revokes their offers and reservations.

Going off-queue revokes open offers (no not-responding penalty) and releases conversations
waiting for that agent, which are routed at once; connected conversations stay with them.
"""
from __future__ import annotations

from .roster import set_presence
from .domain import Domain
from .matching import fill, route
from .model import ALERTING, ON_QUEUE, AgentState
from .offers import revoke
from .queueing import unreserve


def on_presence(domain: Domain, agent: AgentState, action: dict) -> None:
    """The agent sets a presence (agent-action `presence`); the same presence again changes nothing."""
    presence = action.get("presence") or "unknown"
    if presence == agent.presence:
        return
    set_presence(domain, agent, presence, "agent action")
    if presence == ON_QUEUE:
        return fill(domain, agent.agent_id, "agent on-queue")
    for conv_id in list(domain.reserved.get(agent.agent_id, ())):  # do not wait for who left
        conv = domain.conversations[conv_id]
        unreserve(domain, conv)
        route(domain, conv, f"{agent.agent_id} went {presence}")
    for work in [w for w in agent.work.values() if w.state == ALERTING]:
        revoke(domain, domain.conversations[work.conversation_id], "revoked", f"agent went {presence}")
