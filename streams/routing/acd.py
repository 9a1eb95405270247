"""The ACD of one routing domain: events in (requests, agent actions, ticks), records out.

`apply_request / apply_action / apply_tick` take the domain and one decoded event (times in epoch
millis), first fire every timeout due up to the event's time, apply the event and return the
records to produce. No I/O, no wall clock: tests drive time with ticks. The state is a plain
`Domain` (`domain.py`); the moves are functions in `requests`, `presence`, `offers`, `wrapup`,
`transfers` and `timers`, dispatched through the `ACTIONS` and `timers.TIMERS` tables.
"""
from __future__ import annotations

from streams.records import Output

from .roster import agent_state, index_config
from .config import RoutingConfig
from .domain import Domain, decide, refuse
from .matching import fill
from .model import WAITING, remember
from .offers import on_accept, on_decline
from .presence import on_page_closed, on_page_open, on_presence, on_signed_out
from .queueing import dequeue, enqueue, forget_finished
from .requests import on_request
from .timers import advance
from .transfers import on_transfer
from .wrapup import on_end, on_wrap_up

# agent-action `type` -> handler(domain, agent, action); other types are ignored
ACTIONS = {"presence": on_presence, "accept": on_accept, "decline": on_decline, "end": on_end,
           "wrap_up": on_wrap_up, "transfer": on_transfer, "signed_out": on_signed_out,
           "page_closed": on_page_closed, "page_open": on_page_open}
# What a supervisor may do to an agent's conversation (agent-action v2 `actor_id`; the edge checked
# the role and the tenant): force a transfer or an end. `agent_id` is the conversation's agent.
FORCEABLE = {"transfer", "end"}


def new_domain(config: RoutingConfig, now: int = 0, presence_grace_ms: int = 60_000) -> Domain:
    """An empty domain for the routing file, its clock at `now`."""
    domain = Domain(config, now, presence_grace_ms)
    index_config(domain)
    return domain


def apply_request(domain: Domain, request: dict) -> list[Output]:
    """A routing-request: route a new or ongoing conversation, a transfer, or a close."""
    advance(domain, request["requested_at"])
    on_request(domain, request)
    return drain(domain)


def apply_action(domain: Domain, action: dict) -> list[Output]:
    """An agent-action: presence, accept, decline, transfer, end, wrap-up."""
    advance(domain, action["occurred_at"])
    agent_id = action["agent_id"]
    if agent_id not in domain.config.agents:
        decide(domain, "ignored", f"agent {agent_id} is not in the routing file", agent_id=agent_id)
        return drain(domain)
    agent = agent_state(domain, agent_id)
    if action["action_id"] in agent.recent_actions:
        return drain(domain)  # a replay after a restart: already applied
    remember(agent.recent_actions, action["action_id"])
    domain.changed.agents.add(agent_id)
    handler = ACTIONS.get(action["type"])
    if action.get("actor_id") and action["type"] not in FORCEABLE:
        refuse(domain, agent_id, action, "actor.not_allowed",
               f"{action['actor_id']} may force only a transfer or an end, not {action['type']}")
    elif handler:
        handler(domain, agent, action)
    return drain(domain)


def apply_tick(domain: Domain, tick_at: int) -> list[Output]:
    """The routing clock: fire every timeout due up to `tick_at`."""
    advance(domain, tick_at)
    forget_finished(domain)
    return drain(domain)


def reconfigure(domain: Domain, config: RoutingConfig) -> list[Output]:
    """A changed routing file: re-index, move conversations of removed queues, refill agents."""
    domain.config = config
    index_config(domain)
    for conv in [c for c in domain.conversations.values() if c.queue_id not in config.queues]:
        dequeue(domain, conv)
        conv.queue_id = config.default_queue
        if conv.status == WAITING:
            enqueue(domain, conv)
    for agent in list(domain.agents.values()):
        fill(domain, agent.agent_id, "routing file reloaded")
    return drain(domain)


def drain(domain: Domain) -> list[Output]:
    """The records produced since the last call."""
    records, domain.outputs = domain.outputs, []
    return records
