"""Segment facts as they open and close: a queue visit, an alert per offer, an interaction per agent
participation, a wrap-up.

Each segment is written when it opens (`ended_at` null, no outcome) and again when it closes,
under the same deterministic fact id (`seg:<conversation>:<type>:<entry or offer>`), so the sink's
`segment_facts` (a ReplacingMergeTree whose version prefers the closed copy) shows what is open
now — waiting, alerting, interacting, wrapping up — and replaces it with the closed one. A queue
visit carries the queue's service level and short-abandon threshold as they were then, so a report
need not know the routing file of the day (docs/metrics.md).
"""
from __future__ import annotations

from . import outputs as out
from .domain import Domain, media
from .model import Conversation, Work

# How a queue visit ends (docs/metrics.md): answered by an agent, abandoned by the customer (closed,
# expired, silent), transferred elsewhere while waiting, or flowed out to another queue. A waiting
# conversation that routing re-classifies (reskill.py) or whose queue a new routing file removed
# keeps its place, so its visit moves with it and ends in the queue it ends in.
VISIT_EXITS = ("answered", "abandoned", "transferred", "flowed_out")


def visit_id(conv: Conversation) -> str:
    """The fact id of the conversation's current queue visit (one per queue entry)."""
    return f"seg:{conv.conversation_id}:queue_wait:{conv.entry}"


def _visit(domain: Domain, conv: Conversation, now: int | None, outcome: str | None):
    queue = domain.config.queues.get(conv.queue_id)
    settings = {"service_level_seconds": queue.service_level.seconds,
                "service_level_percent": queue.service_level.percent,
                "short_abandon_seconds": queue.short_abandon_seconds} if queue else {}
    return out.conv_segment(domain.tenant, conv, "queue_wait", str(conv.entry), conv.entered_at, now, outcome,
                            media=media(domain, conv), **settings)


def open_visit(domain: Domain, conv: Conversation) -> None:
    """The conversation entered its queue (a new request, a transfer, a requeue, a flow-out); the
    conversation processor is told (`queued`) unless the work is another system's (work.py)."""
    domain.outputs.append(_visit(domain, conv, None, None))
    if not conv.source:
        domain.outputs.append(out.queued(domain.tenant, conv, domain.now))


def close_visit(domain: Domain, conv: Conversation, outcome: str) -> None:
    """The queue visit ends now with `outcome`, one of VISIT_EXITS."""
    domain.outputs.append(_visit(domain, conv, domain.now, outcome))


def open_alert(domain: Domain, conv: Conversation, work: Work) -> None:
    """An offer rings (`matching.offer`): its alert opens, tied to the queue visit it came from."""
    domain.outputs.append(out.work_segment(domain.tenant, work, conv.agent_id or "", "alert", None, None,
                                           queue_visit_id=visit_id(conv)))


def close_alert(domain: Domain, conv: Conversation, work: Work, agent_id: str, outcome: str) -> None:
    """The offer ended: accepted, declined, timeout, revoked or abandoned."""
    domain.outputs.append(out.work_segment(domain.tenant, work, agent_id, "alert", domain.now, outcome,
                                           queue_visit_id=visit_id(conv)))


def open_interact(domain: Domain, work: Work, agent_id: str) -> None:
    """The agent's participation begins (accepted): interact opens."""
    domain.outputs.append(out.work_segment(domain.tenant, work, agent_id, "interact", None, None))


def close_interact(domain: Domain, work: Work, agent_id: str, outcome: str, transfer_type: str | None = None,
                   transfer_target: str | None = None) -> None:
    """The participation ends: completed, transferred (blind or consult, to whom) or the agent gone."""
    domain.outputs.append(out.work_segment(domain.tenant, work, agent_id, "interact", domain.now, outcome,
                                           transfer_type=transfer_type, transfer_target=transfer_target))


def open_wrapup(domain: Domain, work: Work, agent_id: str) -> None:
    """After-contact work begins."""
    domain.outputs.append(out.work_segment(domain.tenant, work, agent_id, "wrapup", None, None))


def close_wrapup(domain: Domain, work: Work, agent_id: str, outcome: str, code: str | None,
                 note: str | None) -> None:
    """After-contact work ends: wrapped up (with a code, or none) or time over; skipped without a code."""
    domain.outputs.append(out.work_segment(domain.tenant, work, agent_id, "wrapup", domain.now, outcome,
                                           wrapup_code=code, wrapup_note=note, wrapup_skipped=code is None))
