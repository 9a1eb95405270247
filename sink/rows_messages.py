"""message_timeline rows (DDL 0049): one complete row per message of a conversation, from the
conversation-event that carries it, which alone knows its conversation, channel, direction, agent,
queue and time together. The report views read messages from here by time (sink/metrics.py), and
the responses the conversation processor worked out (conversation-event v7) from response_facts
(DDL 0063)."""
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


def response_row(tenant_id: str, message_id: str, conversation_id: str, occurred_at: datetime, response: dict, *,
                 channel: str | None = None) -> Row:
    """A response_facts row: the message `message_id` answers the other side since `answers_from`."""
    seconds = max(0, round((occurred_at - response["answers_from"]).total_seconds() * 1000)) / 1000
    return "response_facts", {"tenant_id": tenant_id, "at": occurred_at, "message_id": message_id,
                              "conversation_id": conversation_id, "channel": channel,
                              "responder": response["responder"], "agent_id": response["agent_id"],
                              "response_s": seconds, "first_of_conversation": int(response["first_of_conversation"]),
                              "first_of_participation": int(response["first_of_participation"])}


def timeline(r: dict) -> list[Row]:
    """The message a conversation-event carries (message_added, an edit or unsend), none otherwise;
    queue_id is the queue the conversation was in then (nullable). A message_added that is a
    response (v7) adds its response_facts row."""
    if not r.get("message_id"):
        return []
    direction = r["direction"] if r["direction"] in ("inbound", "outbound") else None
    rows = [timeline_row(r["tenant_id"], r["message_id"], r["conversation_id"], r["occurred_at"], channel=r["channel"],
                         direction=direction, agent_id=r.get("agent_id") or None, queue_id=r.get("queue_id"))]
    if r.get("response") and r["type"] == "message_added":   # v7; absent before
        rows.append(response_row(r["tenant_id"], r["message_id"], r["conversation_id"], r["occurred_at"],
                                 r["response"], channel=r["channel"]))
    return rows


def with_timeline(mapper: Callable[[dict], list[Row]]) -> Callable[[dict], list[Row]]:
    """The conversation-event mapper, plus the message's message_timeline row (and response)."""
    def mapped(r: dict) -> list[Row]:
        return mapper(r) + timeline(r)
    mapped.__doc__ = mapper.__doc__
    mapped.__name__ = mapper.__name__
    return mapped
