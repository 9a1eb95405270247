"""After-contact work begins: the agent's piece of work enters wrap-up per the queue's ACW mode.

`optional` frees the capacity at once; `mandatory` holds it until the agent sends a code;
`time_boxed` holds it until a code or the timeout (timer `acw`). Shared by an ended interaction
(`wrapup`) and the transferring agent of a consult transfer (`transfers`).
"""
from __future__ import annotations

from .domain import Domain, at, notify
from .model import WRAPUP, AgentState, Work
from .segments import open_wrapup


def start_wrapup(domain: Domain, agent: AgentState, work: Work) -> None:
    """Put `work` in wrap-up and prompt the agent with the queue's codes and mode."""
    queue = domain.config.queues.get(work.queue_id) or domain.config.queues[domain.config.default_queue]
    acw = queue.acw
    work.state, work.since = WRAPUP, domain.now
    work.holds_capacity = acw.mode != "optional"
    work.deadline = None if acw.mode == "mandatory" else domain.now + int(acw.timeout_seconds * 1000)
    if work.deadline:
        at(domain, work.deadline, "acw", agent.agent_id, work.offer_id)
    open_wrapup(domain, work, agent.agent_id)
    notify(domain, agent.agent_id, "wrapup_required", work=work, expires_at=work.deadline, reason=acw.mode,
           wrapup_codes=list(queue.wrapup_codes))
