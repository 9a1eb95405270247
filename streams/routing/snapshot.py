"""The ACD state as fine-grained table entries, and the state rebuilt from them after a restart.

Keys are `<key>:agent:<id>`, `<key>:conv:<id>`, `<key>:done:<id>` and `<key>:domain`, where `<key>`
is the routing domain's (the tenant id, or `<tenant>/<domain>`: `keys.py`), so one event rewrites
only the few entities it changed, and every entry of a domain is written while processing that
domain's events — to the domain's changelog partition. Indexes, wait
lists and timers are not stored: they are derived from the entities on restore.
"""
from __future__ import annotations

from collections.abc import Iterable

from .acd import new_domain
from .roster import reindex
from .config import RoutingConfig
from .deadlines import priority, schedule_deadline
from .domain import Domain, at
from .model import ALERTING, WAITING, WRAPUP, AgentState, Conversation
from .queueing import schedule_ring

Entry = tuple[str, str, dict | None]


def changes(domain: Domain, key: str | None = None) -> list[Entry]:
    """(table key, kind, body or None to delete) for every entity changed since the last call;
    `key`: the domain's routing key (default: its tenant id)."""
    tenant, changed = key or domain.tenant, domain.changed
    entries = [(f"{tenant}:agent:{i}", "agent", _to_dict(domain.agents.get(i))) for i in sorted(changed.agents)]
    entries += [(f"{tenant}:conv:{i}", "conversation", _to_dict(domain.conversations.get(i)))
                for i in sorted(changed.conversations)]
    if changed.domain:
        entries.append((f"{tenant}:domain", "domain", {"now": domain.now}))
    entries += [(f"{tenant}:done:{i}", "finished", domain.finished.get(i)) for i in sorted(changed.finished)]
    changed.clear()
    return entries


def _to_dict(entity: AgentState | Conversation | None) -> dict | None:
    return entity.to_dict() if entity else None


def restore(config: RoutingConfig, entries: Iterable[tuple[str, dict]], presence_grace_ms: int = 60_000) -> Domain:
    """A domain from its table entries (`key` without the routing key's prefix, body)."""
    domain = new_domain(config, presence_grace_ms=presence_grace_ms)
    for key, body in entries:
        kind, _, ident = key.partition(":")
        if kind == "agent":
            domain.agents[ident] = AgentState.from_dict(body)
        elif kind == "conv":
            domain.conversations[ident] = Conversation.from_dict(body)
        elif kind == "done":
            domain.finished[ident] = body
        elif kind == "domain":
            domain.now = body["now"]
    _derive(domain)
    domain.changed.clear()
    return domain


def _derive(domain: Domain) -> None:
    """Wait lists, reservations, capacity index and timers, from the entities."""
    for conv in domain.conversations.values():
        if conv.queue_id not in domain.config.queues:  # the file changed while we were down
            conv.queue_id = domain.config.default_queue
        if conv.status == WAITING:
            domain.waiting[conv.queue_id].add(conv.entered_at, priority(domain, conv), conv.conversation_id)
            if conv.reserved_for:
                domain.reserved[conv.reserved_for].add(conv.conversation_id)
                at(domain, conv.reserved_until, "reserve", conv.conversation_id, conv.reserved_until)
        if conv.status in (WAITING, ALERTING):
            schedule_ring(domain, conv)
            schedule_deadline(domain, conv)
    for agent in domain.agents.values():
        reindex(domain, agent)
        if agent.page_closed_at is not None:
            at(domain, agent.page_closed_at + domain.presence_grace_ms, "grace", agent.agent_id, agent.page_closed_at)
        for work in agent.work.values():
            if work.state == ALERTING:
                at(domain, work.deadline, "alert", work.conversation_id, work.offer_id)
            elif work.state == WRAPUP and work.deadline is not None:
                at(domain, work.deadline, "acw", agent.agent_id, work.offer_id)
