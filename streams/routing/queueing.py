"""A conversation's place in routing: its queue, its reservation, its ring, and leaving routing.

A conversation waits in its queue's `WaitList` at its place (entry time and priority), possibly
reserved for one agent (the last agent or a transfer target) for a while. When it leaves routing
a tombstone keeps its request ids, so a replayed request is recognised. Its queue's timers are
the next ring boundary and, before any agent answered, the silence abandon (timer `silence`:
the customer wrote nothing for the queue's `abandon_after_silence_seconds`, docs/metrics.md) and
the flow-out (timer `flow_out`: nobody answered within the queue's `flow_out.after_seconds`, flowout.py).
"""
from __future__ import annotations

from .roster import agent_state
from .deadlines import priority
from .domain import Domain, at, decide, touch
from .model import ON_QUEUE, WAITING, Conversation
from .rings import Requirements, next_ring_at, requirements

FINISHED_RETENTION_MS = 4 * 86_400_000  # longer than the 72 h threading window
PRUNE_EVERY_MS = 60_000


def enqueue(domain: Domain, conv: Conversation) -> None:
    """Put a conversation in its queue at its place (entry time and priority)."""
    conv.status, conv.agent_id, conv.offer_id = WAITING, None, None
    domain.waiting[conv.queue_id].add(conv.entered_at, priority(domain, conv), conv.conversation_id)
    touch(domain, conv)


def dequeue(domain: Domain, conv: Conversation) -> None:
    """Take a conversation out of its queue and out of any reservation."""
    domain.waiting[conv.queue_id].remove(conv.conversation_id)
    unreserve(domain, conv)


def reserve(domain: Domain, conv: Conversation, agent_id: str, until: int, reason: str) -> None:
    """Hold a waiting conversation for one agent (last agent, transfer target) until `until`."""
    conv.reserved_for, conv.reserved_until, conv.reserve_reason = agent_id, until, reason
    domain.reserved[agent_id].add(conv.conversation_id)
    at(domain, until, "reserve", conv.conversation_id, until)
    touch(domain, conv)


def unreserve(domain: Domain, conv: Conversation) -> None:
    """Release a reservation, if any."""
    if conv.reserved_for:
        domain.reserved[conv.reserved_for].discard(conv.conversation_id)
        conv.reserved_for = conv.reserved_until = conv.reserve_reason = None
        touch(domain, conv)


def prefer(domain: Domain, conv: Conversation, agent_id: str, label: str) -> None:
    """Reserve for the last agent (or transfer target) if they are on-queue; else route at once."""
    settings = domain.config.last_agent
    presence = agent_state(domain, agent_id).presence if agent_id in domain.config.agents else "unknown"
    out_of_scope = settings.scope == "queue" and label == "last agent" and \
        agent_id not in domain.members.get(conv.queue_id, ())
    if presence != ON_QUEUE or out_of_scope or settings.wait_seconds == 0:
        why = "not a member of the queue" if out_of_scope else f"is {presence}"
        decide(domain, "queued", f"{label} {agent_id} {why}: any eligible agent now", conv=conv, agent_id=agent_id)
        return
    reserve(domain, conv, agent_id, domain.now + int(settings.wait_seconds * 1000), label)


def needs(domain: Domain, conv: Conversation) -> Requirements:
    """The conversation's requirements in its current ring."""
    return requirements(domain.config.queues[conv.queue_id], conv.skills, conv.language,
                        domain.now - conv.entered_at)


def schedule_ring(domain: Domain, conv: Conversation) -> None:
    """Arm the conversation's queue timers: its next ring boundary, if its queue has one ahead, and
    its silence abandon (so a restore, which re-arms rings, re-arms silence too)."""
    due = next_ring_at(domain.config.queues[conv.queue_id], conv.entered_at, domain.now)
    if due is not None:
        at(domain, due, "ring", conv.conversation_id, conv.entry)
    schedule_silence(domain, conv)
    schedule_flow_out(domain, conv)


def flow_out_due(domain: Domain, conv: Conversation) -> int | None:
    """When the waiting conversation leaves its queue for the queue's `flow_out` queue (None: never)."""
    flow = domain.config.queues[conv.queue_id].flow_out
    return None if flow is None else conv.entered_at + int(flow.after_seconds * 1000)


def schedule_flow_out(domain: Domain, conv: Conversation) -> None:
    """Arm the flow-out (re-armed with the rings; a stale timer — answered, re-entered — does nothing)."""
    due = flow_out_due(domain, conv)
    if due is not None:
        at(domain, max(due, domain.now), "flow_out", conv.conversation_id, conv.entry, due)


def silence_due(domain: Domain, conv: Conversation) -> int | None:
    """When the waiting conversation is abandoned for silence: its queue's `abandon_after_silence_seconds`
    after the later of its entry and the customer's last message; None: never (no setting, another
    system's work, or an agent already answered it)."""
    seconds = domain.config.queues[conv.queue_id].abandon_after_silence_seconds
    if seconds is None or conv.source or conv.connected_at:
        return None
    heard = [h["occurred_at"] for h in conv.history if h.get("direction") == "inbound"]
    return max([conv.entered_at, *heard]) + int(seconds * 1000)


def schedule_silence(domain: Domain, conv: Conversation) -> None:
    """Arm the silence abandon (a later customer message arms a later one; the earlier goes stale)."""
    due = silence_due(domain, conv)
    if due is not None:
        at(domain, max(due, domain.now), "silence", conv.conversation_id, due)


def finish(domain: Domain, conv: Conversation, silent: bool = False) -> None:
    """The conversation leaves routing; a tombstone remembers its ids for replays."""
    dequeue(domain, conv)
    del domain.conversations[conv.conversation_id]
    domain.finished[conv.conversation_id] = {"at": domain.now, "request_ids": conv.request_ids,
                                             "offers": conv.offers, "entry": conv.entry,
                                             # the customer's last agent here (customers.py)
                                             "customer_id": conv.customer_id,
                                             "agent_id": conv.agent_id if conv.connected_at else None}
    if silent:   # abandoned for silence: the customer's next message re-admits it (requests.py)
        domain.finished[conv.conversation_id]["silent"] = True
    touch(domain, conv)
    domain.changed.finished.add(conv.conversation_id)


def forget_finished(domain: Domain) -> None:
    """Drop tombstones older than the retention (checked at most once a minute)."""
    if domain.now - domain.last_prune < PRUNE_EVERY_MS:
        return
    domain.last_prune = domain.now
    for conv_id in [c for c, d in domain.finished.items() if d["at"] < domain.now - FINISHED_RETENTION_MS]:
        del domain.finished[conv_id]
        domain.changed.finished.add(conv_id)
