"""The two moves that make offers: route a waiting conversation, fill an agent with capacity.

`route` ranks the queue's free eligible members (or checks the reserved agent) and offers the
best; `fill` offers a freed agent first a conversation reserved for them, else the best waiting
conversation they are eligible for across their queues. An offer holds one unit of capacity
until the agent answers or the alert times out.
"""
from __future__ import annotations

from itertools import islice

from .roster import agent_state, fits, profile, reindex
from .deadlines import closed, priority, why
from .domain import Domain, at, decide, media, notify, touch
from .model import ALERTING, ON_QUEUE, AgentState, Conversation, Work
from .queueing import dequeue, needs
from .rings import Requirements
from .segments import open_alert
from .selection import Candidate, capacity_problem, rank, skill_problem, why_winner
from .waitlist import order_key


def by_skill(domain: Domain, queue_id: str, reqs: Requirements) -> tuple[list[tuple[int, str]], list[str]]:
    """The queue's members who meet the skills and language, as (-proficiency, agent) most proficient
    first, and the members who do not: derived from the routing file alone, so kept per requirement
    until it changes (roster.index_config)."""
    key = (queue_id, tuple(sorted(reqs.skills.items())), reqs.language)
    found = domain.skilled.get(key)
    if found is None:
        profiles, meet, miss = domain.config.agents, [], []
        for agent_id in domain.members.get(queue_id, ()):
            if skill_problem(profiles[agent_id], reqs) is None:
                meet.append((-sum(profiles[agent_id].skills.get(s, 0) for s in reqs.skills), agent_id))
            else:
                miss.append(agent_id)
        found = domain.skilled[key] = (sorted(meet), sorted(miss))
    return found


def candidates(domain: Domain, conv: Conversation, reqs: Requirements,
               best: int = 10) -> tuple[list[Candidate], dict]:
    """Queue members with capacity left: the `best` ranked and the first `best` excluded, and counts.

    Agents in `open[media]` have capacity by construction, so only skills and language are
    checked, through `by_skill`: the members who meet them are walked most proficient first, and
    only down to the proficiency of the best-th free one (those below have `best` better), so a
    decision costs the few it ranks, not the thousands who may be free.
    """
    members, open_ = domain.members.get(conv.queue_id, set()), domain.open.get(media(domain, conv), set())
    pool = len(open_ & members)
    meet, miss = by_skill(domain, conv.queue_id, reqs)
    consulting, agents, eligible = conv.consulting_agent, domain.agents, []
    for key, agent_id in meet:
        if len(eligible) >= best and key > eligible[best - 1][0]:
            break
        if agent_id in open_ and agent_id != consulting:
            eligible.append((key, agent_id))
    excluded = [Candidate(consulting, "is the transferring agent")] if consulting in open_ and consulting in members else []
    profiles = domain.config.agents
    for agent_id in miss:
        if len(excluded) >= best:
            break
        if agent_id in open_ and agent_id != consulting:
            excluded.append(Candidate(agent_id, skill_problem(profiles[agent_id], reqs)))
    keys = [(key, agents[a].active(), agents[a].last_free_at, a) for key, a in eligible]
    return rank(keys, excluded, best), {"candidates_total": pool, "unavailable": len(members) - pool}


def route(domain: Domain, conv: Conversation, trigger: str) -> None:
    """Offer a waiting conversation to its best agent now, or record why it keeps waiting."""
    reqs = needs(domain, conv)
    if conv.reserved_for:
        return _route_reserved(domain, conv, reqs, trigger)
    ranked, counts = candidates(domain, conv, reqs)
    if ranked and ranked[0].rank == 1:
        runner_up = ranked[1] if len(ranked) > 1 and ranked[1].rank else None
        return offer(domain, conv, ranked[0].agent_id, reqs, ranked, counts,
                     f"{trigger}: {why_winner(ranked[0], runner_up)}")
    decide(domain, "queued", f"{trigger}: no eligible agent ({counts['unavailable']} members not on-queue "
           f"or at capacity, {counts['candidates_total']} evaluated)", conv=conv,
           ranked=ranked + unavailable(domain, conv), **counts, **_needs_fields(reqs))


def unavailable(domain: Domain, conv: Conversation, best: int = 10) -> list[Candidate]:
    """A sample of the queue's on-queue members who have no capacity for the conversation, each with
    why (at capacity, busy with a media this one may not interrupt): the audit of a queued decision."""
    medium, open_ = media(domain, conv), domain.open.get(media(domain, conv), set())
    busy = sorted(islice((a for a in domain.members.get(conv.queue_id, ()) if a not in open_ and a in domain.agents
                          and domain.agents[a].presence == ON_QUEUE), best))  # the first found: O(best) when busy
    return [Candidate(a, capacity_problem(domain.config, domain.agents[a], medium)) for a in busy]


def _route_reserved(domain: Domain, conv: Conversation, reqs: Requirements, trigger: str) -> None:
    agent = agent_state(domain, conv.reserved_for)
    problem = capacity_problem(domain.config, agent, media(domain, conv))
    candidate = [Candidate(agent.agent_id, problem, 0, agent.active(), agent.last_free_at,
                           None if problem else 1)]
    if problem is None:
        return offer(domain, conv, agent.agent_id, reqs, candidate, {"candidates_total": 1},
                     conv.reserve_reason or "reserved")
    wait_s = (conv.reserved_until - domain.now) / 1000
    decide(domain, "reserved", f"{trigger}: waiting up to {wait_s:g} s for {conv.reserve_reason} "
           f"{agent.agent_id} ({problem})", conv=conv, ranked=candidate, candidates_total=1,
           agent_id=agent.agent_id, **_needs_fields(reqs))


def offer(domain: Domain, conv: Conversation, agent_id: str, reqs: Requirements, ranked: list[Candidate],
          counts: dict, reason: str) -> None:
    """Alert an agent: the conversation holds one unit of their capacity until they answer (the offer says
    whether the customer's reply window has closed: template only)."""
    agent, queue, now = agent_state(domain, agent_id), domain.config.queues[conv.queue_id], domain.now
    reason += why(domain, conv)
    dequeue(domain, conv)
    conv.offers += 1
    offer_id = f"{conv.conversation_id}:o{conv.offers}"
    expires = now + int(queue.alert_timeout_seconds * 1000)
    conv.status, conv.agent_id, conv.offer_id, conv.offer_at = ALERTING, agent_id, offer_id, now
    agent.work[offer_id] = Work(conv.conversation_id, media(domain, conv), ALERTING, now, offer_id,
                                conv.queue_id, conv.thread_key, conv.channel, conv.channel_account_id,
                                conv.customer_id, expires, source=conv.source)
    reindex(domain, agent)
    open_alert(domain, conv, agent.work[offer_id])
    touch(domain, conv)
    at(domain, expires, "alert", conv.conversation_id, offer_id)
    notify(domain, agent_id, "offered", conv=conv, expires_at=expires, history=conv.history, reason=reason,
           template_only=closed(conv, now), reply_deadline_at=conv.reply_deadline_at)
    decide(domain, "offered", reason, conv=conv, ranked=ranked, agent_id=agent_id, offer_id=offer_id,
           **counts, **_needs_fields(reqs))


def fill(domain: Domain, agent_id: str, trigger: str) -> None:
    """While the agent has capacity, offer them the best waiting conversation they may take."""
    agent = agent_state(domain, agent_id)
    while agent.presence == ON_QUEUE:
        conv = _best_for(domain, agent)
        if conv is None:
            return
        if conv.reserved_for == agent_id:
            offer(domain, conv, agent_id, needs(domain, conv), [Candidate(agent_id, None, rank=1)],
                  {"candidates_total": 1}, f"{trigger}: {conv.reserve_reason} is free again")
            continue
        reqs = needs(domain, conv)
        ranked, counts = candidates(domain, conv, reqs)
        offer(domain, conv, agent_id, reqs, ranked, counts,
              f"{trigger}: {agent_id} has capacity; the best waiting conversation they are eligible for "
              f"(priority {priority(domain, conv)}, waiting {(domain.now - conv.entered_at) / 1000:g} s)")


def _best_for(domain: Domain, agent: AgentState) -> Conversation | None:
    reserved = [domain.conversations[c] for c in domain.reserved.get(agent.agent_id, ())]
    reserved = [c for c in reserved if fits(domain, agent, c)]
    if reserved:
        return min(reserved, key=lambda c: order_key(c.entered_at, priority(domain, c), c.conversation_id))
    return _best_waiting(domain, agent)


def _best_waiting(domain: Domain, agent: AgentState) -> Conversation | None:
    if all(capacity_problem(domain.config, agent, m) for m in domain.config.utilization):
        return None   # no capacity for any media: nothing waiting fits, so none is scanned
    best, best_key = None, None
    agent_profile, fit = profile(domain, agent.agent_id), {}
    for queue_id in agent_profile.queues:
        for conv_id in domain.waiting.get(queue_id, ()):
            conv = domain.conversations[conv_id]
            if conv.reserved_for or conv.consulting_agent == agent.agent_id:
                continue
            medium = media(domain, conv)
            if medium not in fit:  # capacity depends on the media only: check each once
                fit[medium] = fits(domain, agent, conv)
            if fit[medium] and skill_problem(agent_profile, needs(domain, conv)) is None:
                key = domain.waiting[queue_id].key_of(conv_id)
                if best_key is None or key < best_key:
                    best, best_key = conv, key
                break  # the first eligible in a queue is that queue's best
    return best


def _needs_fields(reqs: Requirements) -> dict:
    return {"ring": reqs.ring, "skills": reqs.skills, "language": reqs.language, "relaxed": list(reqs.relaxed)}
