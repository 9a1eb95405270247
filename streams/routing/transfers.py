"""Transfers: blind (the agent leaves now) and consult (they stay until the new agent accepts).

A transferred conversation enters the target queue as a new entry, or waits for the target agent
like a last agent. Unknown targets are refused with an `ignored` decision.
"""
from __future__ import annotations

from . import outputs as out
from .roster import agent_state, reindex
from .domain import Domain, decide, notify, touch
from .matching import fill, route
from .model import CONNECTED, AgentState, Conversation
from .queueing import enqueue, prefer, schedule_ring


def on_transfer(domain: Domain, agent: AgentState, action: dict) -> None:
    """The connected agent transfers their conversation (agent-action `transfer`)."""
    conv = domain.conversations.get(action.get("conversation_id") or "")
    if conv and conv.status == CONNECTED and conv.agent_id == agent.agent_id:
        transfer(domain, conv, agent.agent_id, action.get("transfer_mode") or "blind",
                 action.get("target_queue_id"), action.get("target_agent_id"))


def transfer(domain: Domain, conv: Conversation, from_agent: str, mode: str, queue_id: str | None,
             agent_id: str | None) -> None:
    """Blind: the agent leaves now. Consult: they stay connected until the new agent accepts."""
    problem = _problem(domain, queue_id, agent_id)
    if problem:
        decide(domain, "ignored", f"transfer refused: {problem}", conv=conv, agent_id=from_agent)
        return
    target = f"agent:{agent_id}" if agent_id else f"queue:{queue_id}"
    conv.transfer_mode = mode
    if mode == "consult":
        conv.consulting_agent, conv.consulting_offer = from_agent, conv.offer_id
    else:
        _leave(domain, agent_state(domain, from_agent), conv.offer_id, "transferred", "blind", target)
    _reenter(domain, conv, queue_id)
    decide(domain, "transferred", f"{mode} transfer to {target}", conv=conv, agent_id=from_agent)
    if agent_id:
        prefer(domain, conv, agent_id, "transfer target")
    route(domain, conv, f"{mode} transfer")
    if mode != "consult":
        fill(domain, from_agent, "transferred a conversation")


def _problem(domain: Domain, queue_id: str | None, agent_id: str | None) -> str | None:
    if queue_id and queue_id not in domain.config.queues:
        return f"unknown queue {queue_id}"
    if agent_id and agent_id not in domain.config.agents:
        return f"unknown agent {agent_id}"
    return None if queue_id or agent_id else "no transfer target"


def _reenter(domain: Domain, conv: Conversation, queue_id: str | None) -> None:
    """A transfer is a new queue entry (in the target queue, if one is named)."""
    conv.entry, conv.entered_at = conv.entry + 1, domain.now
    if queue_id:
        conv.queue_id, conv.skills = queue_id, dict(domain.config.queues[queue_id].skills)
    enqueue(domain, conv)
    schedule_ring(domain, conv)


def release_consulting(domain: Domain, conv: Conversation, reason: str, outcome: str) -> None:
    """The transferring agent of a consult transfer leaves the conversation."""
    agent_id, offer_id = conv.consulting_agent, conv.consulting_offer
    conv.consulting_agent = conv.consulting_offer = None
    touch(domain, conv)
    if outcome == "transferred":
        target = f"agent:{conv.agent_id}" if conv.agent_id else f"queue:{conv.queue_id}"
        _leave(domain, agent_state(domain, agent_id), offer_id, "transferred", "consult", target)
    else:
        _leave(domain, agent_state(domain, agent_id), offer_id, "ended", None, None)
    fill(domain, agent_id, reason)


def _leave(domain: Domain, agent: AgentState, offer_id: str, kind: str, transfer_type: str | None,
           target: str | None) -> None:
    work = agent.work.pop(offer_id)
    domain.outputs.append(out.work_segment(domain.tenant, work, agent.agent_id, "interact", domain.now,
                                           "transferred" if kind == "transferred" else "completed",
                                           transfer_type=transfer_type))
    domain.outputs.append(out.assignment(domain.tenant, work, agent.agent_id, kind, domain.now,
                                         reason=f"{transfer_type} transfer" if transfer_type else "closed",
                                         transfer_target=target))
    notify(domain, agent.agent_id, "conversation_ended", work=work, reason=kind)
    agent.last_free_at = domain.now
    reindex(domain, agent)
