"""An interaction ends and its agent wraps up, per the queue's after-call-work (ACW) mode (`acw`).

`optional` frees the capacity at once; `mandatory` holds it until the agent sends a code;
`time_boxed` holds it until a code or the timeout, then applies the queue's default code. A code
must be one of the queue's `wrapup_codes` (when it lists any). Wrap-up outlives the conversation's routing record: the customer may write again meanwhile.
"""
from __future__ import annotations

from . import outputs as out
from .acw import start_wrapup
from .roster import reindex
from .domain import Domain, notify, refuse
from .matching import fill
from .model import CONNECTED, WRAPUP, AgentState, Conversation, Work
from .queueing import finish
from .segments import close_interact, close_wrapup
from .transfers import release_consulting


def on_end(domain: Domain, agent: AgentState, action: dict) -> None:
    """The agent ends their conversation, or leaves a consult transfer (agent-action `end`)."""
    conv = domain.conversations.get(action.get("conversation_id") or "")
    if conv and conv.consulting_agent == agent.agent_id:
        return release_consulting(domain, conv, "agent left during consult", outcome="transferred")
    if conv and conv.status == CONNECTED and conv.agent_id == agent.agent_id:
        end_interaction(domain, conv, agent, action.get("note") or "agent ended")


def on_wrap_up(domain: Domain, agent: AgentState, action: dict) -> None:
    """The agent sends the wrap-up code of their oldest wrap-up of the conversation (`wrap_up`);
    a code not on the queue's list is refused (told to the agent), and the wrap-up stays open."""
    works = sorted((w for w in agent.work.values() if w.state == WRAPUP and
                    w.conversation_id == action.get("conversation_id")), key=lambda w: w.since)
    if not works:
        return refuse(domain, agent.agent_id, action, "wrapup.none_open",
                      f"no wrap-up of conversation {action.get('conversation_id')} is open")
    problem = code_problem(domain, works[0], action.get("wrapup_code"))
    if problem:
        return refuse(domain, agent.agent_id, action, "wrapup.code", problem)
    finish_wrapup(domain, agent, works[0], action.get("wrapup_code"), "wrapped_up", action.get("note"))


def code_problem(domain: Domain, work: Work, code: str | None) -> str | None:
    """Why `code` cannot close this wrap-up: not on the queue's list, or missing where one is required."""
    queue = domain.config.queues.get(work.queue_id)
    codes = queue.wrapup_codes if queue else ()
    if code is not None and codes and code not in codes:
        return f"wrap-up code {code!r} is not one of queue {work.queue_id}'s: {', '.join(codes)}"
    if code is None and codes and queue.acw.mode == "mandatory":
        return f"queue {work.queue_id} requires a wrap-up code: {', '.join(codes)}"
    return None


def on_acw_timeout(domain: Domain, agent_id: str, offer_id: str) -> None:
    """Timer `acw`: wrap-up time is over (the default code if time-boxed); stale if already wrapped up."""
    agent = domain.agents.get(agent_id)
    work = agent.work.get(offer_id) if agent else None
    if work and work.state == WRAPUP and work.deadline is not None and work.deadline <= domain.now:
        queue = domain.config.queues.get(work.queue_id)
        code = queue.acw.default_code if queue and queue.acw.mode == "time_boxed" else None
        finish_wrapup(domain, agent, work, code, "timeout")


def end_interaction(domain: Domain, conv: Conversation, agent: AgentState, reason: str) -> None:
    """The interaction ended (agent or customer): interact segment, then wrap-up; the conversation leaves."""
    work = agent.work[conv.offer_id]
    close_interact(domain, work, agent.agent_id, "completed")
    notify(domain, agent.agent_id, "conversation_ended", work=work, reason=reason)
    # The agent no longer speaks on it: the conversation processor stops approving their messages
    # now, not when the wrap-up is over (`ended` follows with the code).
    domain.outputs.append(out.assignment(domain.tenant, work, agent.agent_id, "wrapup_started", domain.now,
                                         reason=reason))
    start_wrapup(domain, agent, work)
    reindex(domain, agent)
    finish(domain, conv)
    if not work.holds_capacity:
        fill(domain, agent.agent_id, "conversation ended (optional wrap-up)")


def finish_wrapup(domain: Domain, agent: AgentState, work: Work, code: str | None, outcome: str,
                  note: str | None = None) -> None:
    """Wrap-up done (`wrapped_up` or `timeout`): facts, the final assignment, the agent told
    (`wrapped_up` with the code: theirs, the time-boxed default, or none), capacity back."""
    reason = "wrapped up" if outcome == "wrapped_up" else "wrap-up time over"
    close_wrapup(domain, work, agent.agent_id, outcome, code, note)
    domain.outputs.append(out.assignment(domain.tenant, work, agent.agent_id, "ended", domain.now,
                                         reason=reason, wrapup_code=code))
    notify(domain, agent.agent_id, "wrapped_up", work=work, wrapup_code=code, reason=reason)
    del agent.work[work.offer_id]
    if work.holds_capacity:
        agent.last_free_at = domain.now
    reindex(domain, agent)
    fill(domain, agent.agent_id, "wrap-up completed")
