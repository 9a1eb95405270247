"""Another system's work in the same ACD (`work-events`): calls and emails count in agents' capacity.

A telephony platform or an email system tells routing, keyed by routing domain:
- `started` / `ended`: an agent is busy with a piece of work of a media type (voice, email), or
  no longer. It is held on the agent as a `Work` (key `work:<work id>`) like a conversation, so
  capacity per media type and interruptibility (`selection.capacity_problem`) apply to it: while
  a call lasts, no media that may not interrupt voice is offered, and the agent's open offers of
  such media are revoked (back to their place, routed to others). When it ends the agent is
  filled at once (`matching.fill`). The work is accepted whatever routing thinks of the agent's
  capacity: the agent *is* on that call.
- `requested`: find an agent for the work: it becomes a routing conversation (`work:<work id>`,
  its `media` and `source`) queued, ranked and offered by the same skills-based ACD; the agent
  accepts on their page (or `started` from the system answers the offer) and whom routing gave it
  is told on `work-assignments` (connected, wrapping up, ended), keyed by the work id.
- `cancelled`: the request is withdrawn (the caller hung up): abandoned, or ended if connected.

Replays are dropped by event id (the agent's recent ids, a requested conversation's request ids).
Every move is audited on routing-decisions (`work_started`, `work_ended`, or `ignored` with why).
"""
from __future__ import annotations

from collections.abc import Callable

from streams.records import Output

from .acd import drain
from .domain import Domain, decide, notify
from .matching import fill, route
from .model import ALERTING, CONNECTED, AgentState, Conversation, Work, remember
from .offers import on_accept, revoke
from .queueing import enqueue, prefer, schedule_ring
from .requests import close
from .roster import agent_state, reindex
from .segments import open_visit
from .selection import capacity_problem, interrupters
from .timers import advance
from .wrapup import end_interaction

PREFIX = "work:"  # routing's id of another system's work: never a conversation id (uuid5)
UNKNOWN_CHANNEL = "unknown"  # the Channel enum's fallback: work is on no messaging channel


def apply_work(domain: Domain, event: dict) -> list[Output]:
    """A work-event (times in epoch millis): the agent's other work, or a request for an agent."""
    advance(domain, event["occurred_at"])
    problem = _problem(domain, event)
    if problem:
        decide(domain, "ignored", f"{event['media']} work {event['work_id']} {event['type']}: {problem}",
               agent_id=event.get("agent_id"), conversation_id=PREFIX + event["work_id"], media=event["media"])
    else:
        HANDLERS[event["type"]](domain, event)
    return drain(domain)


def _problem(domain: Domain, event: dict) -> str | None:
    if event["type"] not in HANDLERS:
        return f"type {event['type']} is not one routing knows"
    if event["media"] not in domain.config.utilization:
        return f"media {event['media']} has no utilization entry in the routing file"
    if event["type"] in ("started", "ended") and event.get("agent_id") not in domain.config.agents:
        return f"agent {event.get('agent_id')} is not in the routing file"
    return None


def _agent(domain: Domain, event: dict) -> AgentState | None:
    """The event's agent, None if this event was already applied (a replay after a restart)."""
    agent = agent_state(domain, event["agent_id"])
    if event["event_id"] in agent.recent_actions:
        return None
    remember(agent.recent_actions, event["event_id"])
    domain.changed.agents.add(agent.agent_id)
    return agent


def on_started(domain: Domain, event: dict) -> None:
    """The agent is busy with the work from now: it holds capacity; offers it blocks are revoked."""
    agent, work_id = _agent(domain, event), PREFIX + event["work_id"]
    if agent is None or work_id in agent.work:
        return
    conv = domain.conversations.get(work_id)
    if conv is not None:   # work routing offered: the agent answered it in the other system
        if conv.status == ALERTING and conv.agent_id == agent.agent_id:
            return on_accept(domain, agent, {"type": "accept", "conversation_id": work_id, "offer_id": conv.offer_id,
                                             "action_id": event["event_id"]})
        return decide(domain, "ignored", f"{work_id} started by {agent.agent_id}: routing holds it "
                      f"({conv.status}, {conv.agent_id or 'no agent'})", conv=conv, agent_id=agent.agent_id)
    media = event["media"]
    work = Work(work_id, media, CONNECTED, domain.now, work_id, event.get("queue_id") or "", event["work_id"],
                UNKNOWN_CHANNEL, event["source"], source=event["source"])
    agent.work[work_id] = work
    for blocked in [w for w in agent.work.values() if w.state == ALERTING and w.media != media
                    and w.media not in interrupters(domain.config, media)]:
        revoke(domain, domain.conversations[blocked.conversation_id], "revoked",
               f"{agent.agent_id} started {media} work, which {blocked.media} may not interrupt")
    reindex(domain, agent)
    notify(domain, agent.agent_id, "work_started", work=work, reason=event["source"])
    decide(domain, "work_started", f"{media} work {event['work_id']} started ({event['source']}): "
           f"{_load(domain, agent)}", agent_id=agent.agent_id, conversation_id=work_id, media=media)


def on_ended(domain: Domain, event: dict) -> None:
    """The work is over: capacity back and the agent filled at once (routed work: its wrap-up)."""
    agent, work_id = _agent(domain, event), PREFIX + event["work_id"]
    if agent is None:
        return
    conv = domain.conversations.get(work_id)
    if conv is not None and conv.status == CONNECTED and conv.agent_id == agent.agent_id:
        return end_interaction(domain, conv, agent, f"{event['media']} work ended ({event['source']})")
    work = agent.work.get(work_id)
    if work is None:
        return decide(domain, "ignored", f"{work_id} ended: {agent.agent_id} was not busy with it",
                      agent_id=agent.agent_id, conversation_id=work_id, media=event["media"])
    del agent.work[work_id]
    agent.last_free_at = domain.now
    reindex(domain, agent)
    notify(domain, agent.agent_id, "work_ended", work=work, reason=event["source"])
    decide(domain, "work_ended", f"{work.media} work {event['work_id']} ended after "
           f"{(domain.now - work.since) / 1000:g} s: {_load(domain, agent)}", agent_id=agent.agent_id,
           conversation_id=work_id, media=work.media)
    fill(domain, agent.agent_id, f"{work.media} work ended")


def on_requested(domain: Domain, event: dict) -> None:
    """Find an agent for the work: queued, ranked and offered like a conversation of its media."""
    work_id = PREFIX + event["work_id"]
    held = domain.conversations.get(work_id)
    seen = held.request_ids if held else domain.finished.get(work_id, {}).get("request_ids", [])
    if event["event_id"] in seen:
        return
    if held is not None:
        remember(held.request_ids, event["event_id"])
        return decide(domain, "ignored", f"{work_id} requested again: already in routing ({held.status})", conv=held)
    conv = _conversation(domain, event)
    domain.conversations[work_id] = conv
    domain.changed.finished.add(work_id)
    decide(domain, "classified", f"{conv.media} work {event['work_id']} requested by {conv.source}: queue "
           f"{conv.queue_id}", conv=conv, skills=conv.skills, language=conv.language, media=conv.media)
    enqueue(domain, conv)
    open_visit(domain, conv)
    schedule_ring(domain, conv)
    if event.get("agent_id"):
        prefer(domain, conv, event["agent_id"], "requested agent")
    route(domain, conv, "work requested")


def _conversation(domain: Domain, event: dict) -> Conversation:
    config, work_id = domain.config, PREFIX + event["work_id"]
    queue_id = event.get("queue_id") if event.get("queue_id") in config.queues else config.default_queue
    done = domain.finished.pop(work_id, {})
    return Conversation(work_id, event["work_id"], UNKNOWN_CHANNEL, event["source"], None, queue_id,
                        {**config.queues[queue_id].skills, **(event.get("skills") or {})}, event.get("language"),
                        event.get("priority") or 0, None, domain.now, entry=done.get("entry", 0) + 1,
                        offers=done.get("offers", 0), request_ids=done.get("request_ids", []) + [event["event_id"]],
                        media=event["media"], source=event["source"])


def on_cancelled(domain: Domain, event: dict) -> None:
    """The system withdrew its request: abandoned if waiting or alerting, ended if connected."""
    close(domain, PREFIX + event["work_id"], f"cancelled by {event['source']}")


def _load(domain: Domain, agent: AgentState) -> str:
    """What the agent holds per media and what may not be offered to them now (the audit's reason)."""
    config = domain.config
    held = ", ".join(f"{m} {agent.held(m)}/{config.capacity(agent.agent_id, m)}" for m in config.utilization)
    blocked = [f"{m}: {p}" for m in config.utilization if (p := capacity_problem(config, agent, m))]
    return f"{held}; " + ("; ".join(blocked) if blocked else "every media may be offered")


HANDLERS: dict[str, Callable[[Domain, dict], None]] = {"started": on_started, "ended": on_ended,
                                                      "requested": on_requested, "cancelled": on_cancelled}
