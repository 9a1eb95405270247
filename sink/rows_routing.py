"""Routing's fact rows: `routing-decision` records to `routing_decisions` (DDL 0020), and a
`configured` decision's queue settings to `queue_config_facts` too (DDL 0043: the queue
configuration history).

Kept beside the sink's own mappers (sink/rows.py) so routing owns its audit table; the sink
subscribes a topic only when its subject has a mapper, so adding `ROUTING_MAPPERS` to `MAPPERS`
is what starts writing `routing-decisions`.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

Row = tuple[str, dict]
COLUMNS = ("tenant_id", "decision_id", "occurred_at", "kind", "conversation_id", "queue_id", "agent_id",
           "offer_id", "rule", "matched_words", "ring", "skills", "language", "relaxed", "priority",
           "reason", "candidates_total", "unavailable")


def routing_decision(r: dict) -> list[Row]:
    """One audit row; the candidate list kept whole as JSON, the agent ids as an array."""
    candidates = [{k: (_ms(v) if isinstance(v, datetime) else v) for k, v in c.items()} for c in r["candidates"]]
    row = {c: r.get(c) for c in COLUMNS} | {"candidate_agents": [c["agent_id"] for c in candidates],
                                           "candidates": json.dumps(candidates, separators=(",", ":"))}
    return [("routing_decisions", row)] + queue_config(r)


def queue_config(r: dict) -> list[Row]:
    """A `configured` decision (routing-decision v3): the queue's settings as routing applied them."""
    settings = r.get("queue_settings")
    if r["kind"] != "configured" or not settings:
        return []
    return [("queue_config_facts", {"tenant_id": r["tenant_id"], "queue_id": r["queue_id"],
                                    "configured_at": r["occurred_at"], "decision_id": r["decision_id"], **settings})]


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


ROUTING_MAPPERS: dict[str, Callable[[dict], list[Row]]] = {"routing-decision": routing_decision}
