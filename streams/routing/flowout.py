"""Flow-out (overflow): a queue's `flow_out` moves a conversation nobody answered in time to another queue.

When the timer fires — `flow_out.after_seconds` after the conversation entered its queue, still
waiting or alerting — its visit there ends `flowed_out` (docs/metrics.md `flow_outs`, Genesys'
nFlowOut: it left the queue unanswered for another), an open offer is revoked, and a new visit opens in the target queue from now, with that queue's skills,
service level and rings: its wait there counts from the move. The target's own `flow_out` may move
it on again. Targets stay in the routing domain (config refuses another domain's queue).
"""
from __future__ import annotations

from .domain import Domain, decide
from .matching import fill, route
from .model import ALERTING, WAITING
from .offers import revoke
from .queueing import dequeue, enqueue, flow_out_due, schedule_ring
from .segments import close_visit, open_visit


def on_flow_out_timeout(domain: Domain, conv_id: str, entry: int, due: int) -> None:
    """Timer `flow_out`: stale if the conversation was answered, left routing or entered a queue since."""
    conv = domain.conversations.get(conv_id)
    if conv is None or conv.entry != entry or conv.status not in (WAITING, ALERTING) \
            or flow_out_due(domain, conv) != due:
        return
    left, flow = conv.queue_id, domain.config.queues[conv.queue_id].flow_out
    if conv.status == ALERTING:
        agent_id = conv.agent_id
        revoke(domain, conv, "revoked", f"flowed out to {flow.queue}", requeue=False)
        fill(domain, agent_id, "offer revoked")
    else:
        dequeue(domain, conv)
    close_visit(domain, conv, "flowed_out")
    conv.entry, conv.entered_at = conv.entry + 1, domain.now
    conv.queue_id, conv.skills = flow.queue, dict(domain.config.queues[flow.queue].skills)
    enqueue(domain, conv)
    open_visit(domain, conv)
    schedule_ring(domain, conv)
    decide(domain, "requeued", f"flowed out of {left} after {flow.after_seconds:g} s unanswered", conv=conv)
    route(domain, conv, f"flowed out of {left}")
