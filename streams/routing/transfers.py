"""Transfers: blind (the agent leaves now) and consult (they stay until the new agent accepts).

A transferred conversation enters the target queue as a new entry, or waits for the target agent
like a last agent. The transferring agent is told `transferred` at once, the agent who takes it
when they accept (with the note); after a consult transfer the transferring agent wraps up. A
transfer by someone not connected, or to an unknown target, is refused (`action_refused`). A
blind transfer to a queue or agent of another routing domain of the tenant moves the conversation
there (`moves.py`); a consult transfer stays within the domain.
"""
from __future__ import annotations

from . import outputs as out
from .acw import start_wrapup
from .roster import agent_state, reindex
from .domain import Domain, decide, notify, refuse, touch
from .keys import target_domain
from .matching import fill, route
from .model import CONNECTED, AgentState, Conversation
from .moves import move
from .queueing import enqueue, prefer, schedule_ring
from .segments import close_interact, open_visit


def on_transfer(domain: Domain, agent: AgentState, action: dict) -> None:
    """The connected agent (or a supervisor, `actor_id`, on their behalf) transfers (agent-action `transfer`)."""
    conv = domain.conversations.get(action.get("conversation_id") or "")
    if not (conv and conv.status == CONNECTED and conv.agent_id == agent.agent_id):
        return refuse(domain, agent.agent_id, action, "transfer.not_connected",
                      f"{agent.agent_id} is not connected to conversation {action.get('conversation_id')}")
    problem = _problem(domain, action.get("target_queue_id"), action.get("target_agent_id"))
    if problem:
        return refuse(domain, agent.agent_id, action, "transfer.target", problem)
    mode = action.get("transfer_mode") if action.get("transfer_mode") in ("blind", "consult") else "blind"
    there = target_domain(domain.config, action.get("target_queue_id"), action.get("target_agent_id"))
    if mode == "consult" and there:
        return refuse(domain, agent.agent_id, action, "transfer.domain", f"the target is in routing domain "
                      f"{there}: a consult transfer stays in {domain.config.domain} (transfer blind)")
    conv.transfer_note, conv.transfer_from = action.get("note"), agent.agent_id
    transfer(domain, conv, agent.agent_id, mode, action.get("target_queue_id"), action.get("target_agent_id"),
             actor_id=action.get("actor_id"))


def transfer(domain: Domain, conv: Conversation, from_agent: str, mode: str, queue_id: str | None,
             agent_id: str | None, actor_id: str | None = None) -> None:
    """Blind: the agent leaves now. Consult: they stay connected until the new agent accepts."""
    problem = _problem(domain, queue_id, agent_id)
    if problem:
        decide(domain, "ignored", f"transfer refused: {problem}", conv=conv, agent_id=from_agent)
        return
    target = f"agent:{agent_id}" if agent_id else f"queue:{queue_id}"
    conv.transfer_mode = mode
    notify(domain, from_agent, "transferred", conv=conv, reason=mode, transfer_target=target,
           actor_id=actor_id)
    there = target_domain(domain.config, queue_id, agent_id)
    if there:
        return _move(domain, conv, from_agent, there, queue_id, agent_id, actor_id)
    if mode == "consult":
        conv.consulting_agent, conv.consulting_offer = from_agent, conv.offer_id
    else:
        _leave(domain, agent_state(domain, from_agent), conv.offer_id, "transferred", "blind", target)
    _reenter(domain, conv, queue_id)
    forced = f" (forced by {actor_id})" if actor_id else ""
    decide(domain, "transferred", f"{mode} transfer to {target}{forced}", conv=conv, agent_id=from_agent)
    if agent_id:
        prefer(domain, conv, agent_id, "transfer target")
    route(domain, conv, f"{mode} transfer")
    if mode != "consult":
        fill(domain, from_agent, "transferred a conversation")


def _move(domain: Domain, conv: Conversation, from_agent: str, there: str, queue_id: str | None,
          agent_id: str | None, actor_id: str | None) -> None:
    """A blind transfer to another routing domain: the agent leaves, the conversation goes there."""
    target = f"agent:{agent_id}" if agent_id else f"queue:{queue_id}"
    _leave(domain, agent_state(domain, from_agent), conv.offer_id, "transferred", "blind", target)
    forced = f" (forced by {actor_id})" if actor_id else ""
    decide(domain, "transferred", f"blind transfer to {target} in routing domain {there}{forced}", conv=conv,
           agent_id=from_agent)
    move(domain, conv, there, queue_id, agent_id)
    fill(domain, from_agent, "transferred a conversation")


def _problem(domain: Domain, queue_id: str | None, agent_id: str | None) -> str | None:
    whole = domain.config.whole   # a target in another routing domain of the tenant is known
    if queue_id and queue_id not in whole.queues:
        return f"unknown queue {queue_id}"
    if agent_id and agent_id not in whole.agents:
        return f"unknown agent {agent_id}"
    return None if queue_id or agent_id else "no transfer target"


def _reenter(domain: Domain, conv: Conversation, queue_id: str | None) -> None:
    """A transfer is a new queue entry (in the target queue, if one is named)."""
    conv.entry, conv.entered_at = conv.entry + 1, domain.now
    if queue_id:
        conv.queue_id, conv.skills = queue_id, dict(domain.config.queues[queue_id].skills)
    enqueue(domain, conv)
    open_visit(domain, conv)
    schedule_ring(domain, conv)


def release_consulting(domain: Domain, conv: Conversation, reason: str, outcome: str) -> None:
    """The transferring agent of a consult transfer leaves the conversation (wrap-up if it was transferred)."""
    agent_id, offer_id = conv.consulting_agent, conv.consulting_offer
    conv.consulting_agent = conv.consulting_offer = None
    touch(domain, conv)
    agent = agent_state(domain, agent_id)
    if outcome == "transferred":
        target = f"agent:{conv.agent_id}" if conv.agent_id else f"queue:{conv.queue_id}"
        _leave(domain, agent, offer_id, "transferred", "consult", target, keep=True)
        start_wrapup(domain, agent, agent.work[offer_id])
        reindex(domain, agent)
    else:
        _leave(domain, agent, offer_id, "ended", None, None)
    fill(domain, agent_id, reason)


def requeue(domain: Domain, conv: Conversation, agent: AgentState, reason: str) -> None:
    """The connected agent is gone (signed out, page gone): the conversation waits in its queue again."""
    _leave(domain, agent, conv.offer_id, "transferred", None, f"queue:{conv.queue_id}", why=reason)
    _reenter(domain, conv, None)
    decide(domain, "requeued", f"{agent.agent_id} went offline ({reason}): back in queue {conv.queue_id}",
           conv=conv, agent_id=agent.agent_id)
    route(domain, conv, reason)


def _leave(domain: Domain, agent: AgentState, offer_id: str, kind: str, transfer_type: str | None,
           target: str | None, *, keep: bool = False, why: str | None = None) -> None:
    work = agent.work[offer_id] if keep else agent.work.pop(offer_id)
    outcome = why or ("transferred" if kind == "transferred" else "completed")
    close_interact(domain, work, agent.agent_id, outcome, transfer_type, target if kind == "transferred" else None)
    domain.outputs.append(out.assignment(domain.tenant, work, agent.agent_id, kind, domain.now,
                                         reason=why or (f"{transfer_type} transfer" if transfer_type else "closed"),
                                         transfer_target=target))
    if not keep:
        notify(domain, agent.agent_id, "conversation_ended", work=work, reason=why or kind)
        agent.last_free_at = domain.now
        reindex(domain, agent)
