"""The domain's roster: agents' routing state and profiles, the capacity index, presence changes."""
from __future__ import annotations

from . import outputs as out
from .config import Agent
from .domain import Domain, media, notify
from .model import NOT_RESPONDING, ON_QUEUE, AgentState, Conversation
from .selection import capacity_problem

NO_PROFILE = Agent()  # an agent missing from the routing file: no skills, no queues


def agent_state(domain: Domain, agent_id: str) -> AgentState:
    """The agent's routing state (offline until they act)."""
    agent = domain.agents.get(agent_id)
    if agent is None:
        agent = domain.agents[agent_id] = AgentState(agent_id, presence_since=0, last_free_at=0)
    return agent


def profile(domain: Domain, agent_id: str) -> Agent:
    """The agent's configured profile."""
    return domain.config.agents.get(agent_id) or NO_PROFILE


def fits(domain: Domain, agent: AgentState, conv: Conversation) -> bool:
    """Whether the agent has capacity left for one more conversation of this one's media."""
    return capacity_problem(domain.config, agent, media(domain, conv)) is None


def index_config(domain: Domain) -> None:
    """Rebuild the indexes that derive from the routing file: queue members, capacity per media."""
    domain.members, domain.skilled = {q: set() for q in domain.config.queues}, {}
    for agent_id, agent_profile in domain.config.agents.items():
        for queue_id in agent_profile.queues:
            domain.members[queue_id].add(agent_id)
    domain.open = {m: set() for m in domain.config.utilization}
    for agent in domain.agents.values():
        reindex(domain, agent)


def reindex(domain: Domain, agent: AgentState) -> None:
    """Keep `open[media]` = agents on-queue with capacity left for that media; mark the agent changed."""
    for medium, agents in domain.open.items():
        if capacity_problem(domain.config, agent, medium) is None:
            agents.add(agent.agent_id)
        else:
            agents.discard(agent.agent_id)
    domain.changed.agents.add(agent.agent_id)


def routing_status(presence: str) -> str:
    """The routing status a presence means (Genesys' off-queue / on-queue / not responding); idle or
    interacting within on-queue is what the agent's open segments say (docs/metrics.md)."""
    return presence if presence in (ON_QUEUE, NOT_RESPONDING) else "off_queue"


def set_presence(domain: Domain, agent: AgentState, presence: str, reason: str) -> None:
    """Change an agent's routing status: the previous status interval closes and the new one opens, as facts."""
    if agent.presence_since:
        domain.outputs.append(out.status_interval(domain.tenant, agent.agent_id, agent.presence,
                                                  agent.presence_since, domain.now, presence,
                                                  reason, routing_status(agent.presence)))
    agent.presence, agent.presence_since = presence, domain.now
    domain.outputs.append(out.status_interval(domain.tenant, agent.agent_id, presence, domain.now, None, None,
                                              reason, routing_status(presence)))
    if presence == ON_QUEUE:
        agent.last_free_at = domain.now
    if presence == NOT_RESPONDING:
        notify(domain, agent.agent_id, "not_responding", reason=reason)
    # agent-event v4 `presence` is what the page reads; `status` keeps the v3 readers' field.
    notify(domain, agent.agent_id, "presence_changed", ref=f"{presence}:{domain.now}", presence=presence,
           status=presence, reason=reason)
    reindex(domain, agent)
