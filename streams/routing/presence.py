"""An agent changes presence: on-queue fills them; leaving revokes their offers and reservations.

Going off-queue revokes open offers (no not-responding penalty) and releases conversations
waiting for that agent, which are routed at once; connected conversations stay with them.
Signing out, or a page gone longer than the grace (`page_closed` with no `page_open` within
`presence_grace_ms`, timed by the domain's clock: timer `grace`), takes the agent offline at once
and also requeues their connected conversations, the reason (`signed_out`, `page_gone`) in the
decisions, status and segment facts (docs/workspace.md, the push socket).
"""
from __future__ import annotations

from .roster import set_presence
from .domain import Domain, at
from .matching import fill, route
from .model import ALERTING, CONNECTED, OFFLINE, ON_QUEUE, AgentState
from .offers import revoke
from .queueing import unreserve
from .transfers import release_consulting, requeue


def on_presence(domain: Domain, agent: AgentState, action: dict) -> None:
    """The agent sets a presence (agent-action `presence`); the same presence again changes nothing."""
    presence = action.get("presence") or "unknown"
    if presence == agent.presence:
        return
    set_presence(domain, agent, presence, "agent action")
    if presence == ON_QUEUE:
        return fill(domain, agent.agent_id, "agent on-queue")
    let_go(domain, agent, f"agent went {presence}")


def let_go(domain: Domain, agent: AgentState, reason: str, outcome: str = "revoked") -> None:
    """Release what waits for the agent and revoke their open offers (routed to others at once)."""
    for conv_id in list(domain.reserved.get(agent.agent_id, ())):  # do not wait for who left
        conv = domain.conversations[conv_id]
        unreserve(domain, conv)
        route(domain, conv, f"{agent.agent_id} {reason}")
    for work in [w for w in agent.work.values() if w.state == ALERTING]:
        revoke(domain, domain.conversations[work.conversation_id], outcome, reason)


def on_signed_out(domain: Domain, agent: AgentState, action: dict) -> None:  # noqa: ARG001 (handler signature)
    """The agent signed out (agent-action `signed_out`): offline now, their conversations requeued."""
    go_offline(domain, agent, "signed_out")


def on_page_closed(domain: Domain, agent: AgentState, action: dict) -> None:  # noqa: ARG001
    """The agent's page went away (`page_closed`): offline if it does not come back within the grace."""
    agent.page_closed_at = domain.now
    at(domain, domain.now + domain.presence_grace_ms, "grace", agent.agent_id, domain.now)


def on_page_open(domain: Domain, agent: AgentState, action: dict) -> None:  # noqa: ARG001
    """A page of the agent is open again (`page_open`, on any edge replica): the grace is over."""
    agent.page_closed_at = None


def on_grace_timeout(domain: Domain, agent_id: str, closed_at: int) -> None:
    """Timer `grace`: the page closed at `closed_at` did not come back (stale if it did)."""
    agent = domain.agents.get(agent_id)
    if agent is not None and agent.page_closed_at == closed_at:
        go_offline(domain, agent, "page_gone")


def go_offline(domain: Domain, agent: AgentState, reason: str) -> None:
    """Offline with `reason`: offers revoked, reservations released, connected conversations requeued."""
    agent.page_closed_at = None
    domain.changed.agents.add(agent.agent_id)
    if agent.presence != OFFLINE:
        set_presence(domain, agent, OFFLINE, reason)
    let_go(domain, agent, f"agent offline ({reason})", outcome=reason)
    for conv in [c for c in domain.conversations.values() if c.consulting_agent == agent.agent_id]:
        release_consulting(domain, conv, reason, outcome="completed")
    for work in [w for w in agent.work.values() if w.state == CONNECTED]:
        conv = domain.conversations.get(work.conversation_id)
        if conv is not None and conv.agent_id == agent.agent_id:
            requeue(domain, conv, agent, reason)
