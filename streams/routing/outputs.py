"""The records the ACD emits, as `streams.records.Output` — pure data, encoded by the plumbing.

Every id is deterministic (derived from conversation, offer and time), so an event re-applied
after a crash produces the same records and downstream consumers absorb the duplicate.
"""
from __future__ import annotations

from schemas import topic
from streams.records import Output

from .model import Conversation, Work
from .selection import Candidate

NOTIFICATIONS = topic("agent-notifications").name
ASSIGNMENTS = topic("assignments").name
WORK_ASSIGNMENTS = topic("work-assignments").name
SEGMENTS = topic("segment-facts").name
DECISIONS = topic("routing-decisions").name
STATUS = topic("agent-status-facts").name
AUDIT_CANDIDATES = 20  # listed per decision: the 10 best ranked, then up to 10 excluded


def agent_event(tenant: str, agent_id: str, kind: str, now: int, *, conv: Conversation | None = None,
                work: Work | None = None, ref: str | None = None, **fields) -> Output:
    """An agent-notifications record (offered, offer_revoked, assigned, wrapup_required...);
    `ref` names what it is about when no offer does (the refused action's id)."""
    offer = work.offer_id if work else (conv.offer_id if conv else None)
    value = {"event_id": f"ae:{agent_id}:{kind}:{offer or ref or now}", "tenant_id": tenant, "agent_id": agent_id,
             "type": kind, "occurred_at": now, "offer_id": offer, **fields}
    if conv:
        value |= {"conversation_id": conv.conversation_id, "queue_id": conv.queue_id,
                  "customer_id": conv.customer_id, "channel": conv.channel, "thread_key": conv.thread_key,
                  "channel_account_id": conv.channel_account_id}
    elif work:
        value |= {"conversation_id": work.conversation_id, "queue_id": work.queue_id,
                  "customer_id": work.customer_id, "channel": work.channel, "thread_key": work.thread_key,
                  "channel_account_id": work.channel_account_id}
    if (conv and conv.source) or (work and work.source):   # another system's work (work.py)
        value.setdefault("media", conv.media if conv else work.media)
    return Output(NOTIFICATIONS, agent_id, "agent-event", value)


def assignment(tenant: str, work: Work, agent_id: str, kind: str, now: int, **fields) -> Output:
    """An assignments record, keyed by thread key (the conversation processor keeps the last agent)."""
    value = {"assignment_id": f"as:{work.offer_id}:{kind}", "tenant_id": tenant,
             "conversation_id": work.conversation_id, "thread_key": work.thread_key,
             "customer_id": work.customer_id, "agent_id": agent_id, "queue_id": work.queue_id,
             "offer_id": work.offer_id, "type": kind, "occurred_at": now, **fields}
    if work.source:   # another system's requested work: told to it by work id (work.py), not to conversations
        return Output(WORK_ASSIGNMENTS, work.thread_key, "assignment", value)
    return Output(ASSIGNMENTS, work.thread_key, "assignment", value)


def queued(tenant: str, conv: Conversation, now: int) -> Output:
    """An assignments record telling the conversation processor the conversation now waits in its
    queue (assignment v4 `queued`, no agent): the queue its messages are counted in meanwhile."""
    return Output(ASSIGNMENTS, conv.thread_key, "assignment", {
        "assignment_id": f"as:{conv.conversation_id}:{conv.entry}:queued", "tenant_id": tenant,
        "conversation_id": conv.conversation_id, "thread_key": conv.thread_key, "customer_id": conv.customer_id,
        "agent_id": "", "queue_id": conv.queue_id, "offer_id": None, "type": "queued", "occurred_at": now})


def segment(tenant: str, kind: str, ref: str, *, conversation_id: str, channel: str,
            customer_id: str | None, queue_id: str | None, agent_id: str | None,
            started_at: int, ended_at: int | None, outcome: str | None, **fields) -> Output:
    """A segment-facts record (queue_wait, alert, interact, wrapup); `ended_at` None: still open.
    Its open and closed copies share the fact id, so the sink keeps the closed one."""
    value = {"fact_id": f"seg:{conversation_id}:{kind}:{ref}", "tenant_id": tenant,
             "conversation_id": conversation_id, "customer_id": customer_id, "channel": channel,
             "segment_type": kind, "queue_id": queue_id, "agent_id": agent_id,
             "started_at": started_at, "ended_at": ended_at, "outcome": outcome, **fields}
    return Output(SEGMENTS, conversation_id, "segment-fact", value)


def conv_segment(tenant: str, conv: Conversation, kind: str, ref: str, started_at: int, now: int | None,
                 outcome: str | None, agent_id: str | None = None, **fields) -> Output:
    """A segment of a conversation still in routing (`now` None: open)."""
    return segment(tenant, kind, ref, conversation_id=conv.conversation_id, channel=conv.channel,
                   customer_id=conv.customer_id, queue_id=conv.queue_id, agent_id=agent_id,
                   started_at=started_at, ended_at=now, outcome=outcome, **fields)


def work_segment(tenant: str, work: Work, agent_id: str, kind: str, now: int | None, outcome: str | None,
                 **fields) -> Output:
    """A segment of an agent's piece of work (alert, interact, wrap-up; `now` None: open)."""
    return segment(tenant, kind, work.offer_id, conversation_id=work.conversation_id,
                   channel=work.channel, customer_id=work.customer_id, queue_id=work.queue_id,
                   agent_id=agent_id, started_at=work.since, ended_at=now, outcome=outcome,
                   media=work.media, offer_id=work.offer_id, **fields)


def status_interval(tenant: str, agent_id: str, status: str, started_at: int, now: int | None,
                    next_status: str | None, reason: str, routing_status: str) -> Output:
    """An agent-status-facts record: the status that began (`now` None, open) or just ended.
    v2 has no null end: an open interval ends at its start and says `closed` false."""
    value = {"fact_id": f"st:{tenant}:{agent_id}:{started_at}:{status}", "tenant_id": tenant,
             "agent_id": agent_id, "status": status, "started_at": started_at,
             "ended_at": started_at if now is None else now, "closed": now is not None,
             "next_status": next_status, "reason": reason, "routing_status": routing_status}
    return Output(STATUS, agent_id, "agent-status-interval", value)


def decision(tenant: str, kind: str, now: int, reason: str, *, conv: Conversation | None = None,
             ranked: list[Candidate] = (), ref: str | None = None, **fields) -> Output:
    """A routing-decisions (audit) record; `ranked` is the best ranked then a sample of the excluded;
    `ref` names what a decision about no conversation and no agent is about (a queue's configuration)."""
    ref = f"{conv.conversation_id}:{kind}:{conv.entry}:{conv.offers}" if conv else \
        (ref or f"{fields.get('agent_id')}:{kind}")
    value = {"decision_id": f"rd:{ref}:{now}", "tenant_id": tenant, "occurred_at": now, "kind": kind,
             "reason": reason, "candidates": [_candidate(c) for c in ranked[:AUDIT_CANDIDATES]]}
    if conv:
        value |= {"conversation_id": conv.conversation_id, "queue_id": conv.queue_id,
                  "priority": conv.priority, "rule": conv.rule}
    return Output(DECISIONS, tenant, "routing-decision", value | fields)


def _candidate(c: Candidate) -> dict:
    return {"agent_id": c.agent_id, "rank": c.rank, "excluded": c.excluded,
            "proficiency": c.proficiency, "active": c.active, "idle_since": c.idle_since or None}
