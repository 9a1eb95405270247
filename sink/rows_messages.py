"""message_timeline rows (DDL 0049): one complete row per message of a conversation, from the
conversation-event that carries it, which alone knows its conversation, channel, direction, agent,
queue and time together. The report views read messages from here by time (sink/metrics.py)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

Row = tuple[str, dict]


def timeline_row(tenant_id: str, message_id: str, conversation_id: str, occurred_at: datetime, *,
                 channel: str | None = None, direction: str | None = None, agent_id: str | None = None,
                 queue_id: str | None = None) -> Row:
    """A message_timeline row; who sent it follows from direction and agent (customer, agent, system)."""
    sender = {"inbound": "customer", "outbound": "agent" if agent_id else "system"}.get(direction or "")
    return "message_timeline", {"tenant_id": tenant_id, "occurred_at": occurred_at, "message_id": message_id,
                                "conversation_id": conversation_id, "channel": channel, "direction": direction,
                                "sender_kind": sender, "agent_id": agent_id if direction == "outbound" else None,
                                "queue_id": queue_id}


def timeline(r: dict) -> list[Row]:
    """The message a conversation-event carries (message_added, an edit or unsend), none otherwise;
    queue_id is the queue the conversation was in then (nullable)."""
    if not r.get("message_id"):
        return []
    direction = r["direction"] if r["direction"] in ("inbound", "outbound") else None
    return [timeline_row(r["tenant_id"], r["message_id"], r["conversation_id"], r["occurred_at"], channel=r["channel"],
                         direction=direction, agent_id=r.get("agent_id") or None, queue_id=r.get("queue_id"))]


def with_timeline(mapper: Callable[[dict], list[Row]]) -> Callable[[dict], list[Row]]:
    """The conversation-event mapper, plus the message's message_timeline row."""
    def mapped(r: dict) -> list[Row]:
        return mapper(r) + timeline(r)
    mapped.__doc__ = mapper.__doc__
    mapped.__name__ = mapper.__name__
    return mapped
