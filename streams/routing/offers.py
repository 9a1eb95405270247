"""An open offer's end: accepted (connected), declined, timed out, or revoked.

A declined or timed-out offer puts the conversation back at its original place and takes the
agent out of routing (not responding) until they go on-queue again. An accept or decline of an
offer that is no longer open is ignored.
"""
from __future__ import annotations

from . import outputs as out
from .roster import agent_state, reindex, set_presence
from .domain import Domain, decide, notify, touch
from .matching import route
from .model import ALERTING, CONNECTED, NOT_RESPONDING, AgentState, Conversation
from .queueing import enqueue
from .segments import close_alert, close_visit, open_interact
from .transfers import release_consulting


def on_accept(domain: Domain, agent: AgentState, action: dict) -> None:
    """The agent accepts their open offer: connected (agent-action `accept`)."""
    conv = open_offer(domain, agent, action)
    if conv is None:
        return
    work, now = agent.work[conv.offer_id], domain.now
    close_alert(domain, conv, work, agent.agent_id, "accepted")
    close_visit(domain, conv, "answered")
    work.state, work.since, work.deadline = CONNECTED, now, None
    open_interact(domain, work, agent.agent_id)
    conv.status, conv.connected_at = CONNECTED, now
    touch(domain, conv)
    domain.changed.agents.add(agent.agent_id)
    if conv.consulting_agent:
        release_consulting(domain, conv, f"consult transfer accepted by {agent.agent_id}", outcome="transferred")
    domain.outputs.append(out.assignment(domain.tenant, work, agent.agent_id, "connected", now))
    notify(domain, agent.agent_id, "assigned", conv=conv)
    if conv.transfer_from:   # the agent who takes a transferred conversation hears from whom, and the note
        notify(domain, agent.agent_id, "transferred", conv=conv, reason=conv.transfer_mode,
               transfer_target=f"agent:{agent.agent_id}", note=conv.transfer_note,
               from_agent_id=conv.transfer_from)
        conv.transfer_note = conv.transfer_from = None


def on_decline(domain: Domain, agent: AgentState, action: dict) -> None:
    """The agent declines their open offer: back to the queue, agent not responding."""
    conv = open_offer(domain, agent, action)
    if conv is not None:
        revoke(domain, conv, "declined", "declined by the agent", not_responding=True)


def on_alert_timeout(domain: Domain, conv_id: str, offer_id: str) -> None:
    """Timer `alert`: the offer was not answered in time (stale if it is no longer open)."""
    conv = domain.conversations.get(conv_id)
    if conv and conv.status == ALERTING and conv.offer_id == offer_id:
        revoke(domain, conv, "timeout", "alert timeout", not_responding=True)


def open_offer(domain: Domain, agent: AgentState, action: dict) -> Conversation | None:
    """The conversation the action answers, if its offer to this agent is still open (else ignored)."""
    conv = domain.conversations.get(action.get("conversation_id") or "")
    if conv and conv.status == ALERTING and conv.agent_id == agent.agent_id and \
            action.get("offer_id") in (None, conv.offer_id):
        return conv
    decide(domain, "ignored", f"{action['type']} of an offer that is no longer open ({action.get('offer_id')})",
           agent_id=agent.agent_id)
    return None


def revoke(domain: Domain, conv: Conversation, outcome: str, reason: str, *, not_responding: bool = False,
           requeue: bool = True) -> None:
    """End an open offer; back to the original place in the queue unless `requeue` is False."""
    agent = agent_state(domain, conv.agent_id)
    work = agent.work.pop(conv.offer_id)
    close_alert(domain, conv, work, agent.agent_id, outcome)
    if outcome != "declined":
        notify(domain, agent.agent_id, "offer_revoked", work=work, reason=reason)
    reindex(domain, agent)
    if not_responding:
        set_presence(domain, agent, NOT_RESPONDING, outcome)
    if requeue:
        enqueue(domain, conv)
        decide(domain, "requeued", f"offer {work.offer_id} {reason}: back at its original place", conv=conv,
               agent_id=agent.agent_id)
        route(domain, conv, f"offer {outcome}")
