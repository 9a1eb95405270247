"""The ACD state as fine-grained table entries, and the state rebuilt from them after a restart.

Keys are `<tenant>:agent:<id>`, `<tenant>:conv:<id>`, `<tenant>:done:<id>` and `<tenant>:domain`,
so one event rewrites only the few entities it changed, and every entry of a tenant is written
while processing that tenant's events — to the tenant's changelog partition. Indexes, wait
lists and timers are not stored: they are derived from the entities on restore.
"""
from __future__ import annotations

from collections.abc import Iterable

from .acd import AcdState
from .config import RoutingConfig
from .model import ALERTING, WAITING, WRAPUP, AgentState, Conversation

KINDS = {"agent": "agent", "conv": "conversation", "done": "finished", "domain": "domain"}


def changes(state: AcdState) -> list[tuple[str, str, dict | None]]:
    """(table key, kind, body or None to delete) for every entity changed since the last call."""
    entries = [(f"{state.tenant}:{key}", KINDS[key.split(":", 1)[0]], _body(state, key))
               for key in sorted(state.dirty)]
    state.dirty.clear()
    return entries


def _body(state: AcdState, key: str) -> dict | None:
    kind, _, ident = key.partition(":")
    if kind == "agent":
        agent = state.agents.get(ident)
        return agent.to_dict() if agent else None
    if kind == "conv":
        conv = state.conversations.get(ident)
        return conv.to_dict() if conv else None
    if kind == "done":
        return state.finished.get(ident)
    return {"now": state.now}


def restore(config: RoutingConfig, entries: Iterable[tuple[str, dict]]) -> AcdState:
    """An AcdState from its table entries (`key` without the tenant prefix, body)."""
    state = AcdState(config)
    for key, body in entries:
        kind, _, ident = key.partition(":")
        if kind == "agent":
            state.agents[ident] = AgentState.from_dict(body)
        elif kind == "conv":
            state.conversations[ident] = Conversation.from_dict(body)
        elif kind == "done":
            state.finished[ident] = body
        elif kind == "domain":
            state.now = body["now"]
    _derive(state)
    state.dirty.clear()
    return state


def _derive(state: AcdState) -> None:
    """Wait lists, reservations, capacity index and timers, from the entities."""
    for conv in state.conversations.values():
        if conv.queue_id not in state.config.queues:  # the file changed while we were down
            conv.queue_id = state.config.default_queue
        if conv.status == WAITING:
            state.waiting[conv.queue_id].add(conv.entered_at, conv.priority, conv.conversation_id)
            if conv.reserved_for:
                state.reserved[conv.reserved_for].add(conv.conversation_id)
                state.at(conv.reserved_until, "reserve", conv.conversation_id, conv.reserved_until)
        if conv.status in (WAITING, ALERTING):
            state.schedule_ring(conv)
    for agent in state.agents.values():
        state._reindex(agent)
        for work in agent.work.values():
            if work.state == ALERTING:
                state.at(work.deadline, "alert", work.conversation_id, work.offer_id)
            elif work.state == WRAPUP and work.deadline is not None:
                state.at(work.deadline, "acw", agent.agent_id, work.offer_id)

