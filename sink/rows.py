"""Records to fact rows: pure functions, one per subject, `record dict -> [(table, row dict)]`.

Rows are complete (every column of their table) so both backends insert the same shape. Facts
about one message or conversation that arrive on several topics become partial rows of the same
key; the tables' aggregate columns (NULL = unknown) assemble them (see schemas/clickhouse/).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from sink.rows_audit import AUDIT_MAPPERS
from sink.rows_messages import with_timeline
from sink.rows_policy import POLICY_MAPPERS, approval, window_expiry
from sink.rows_routing import ROUTING_MAPPERS
from switchboard.pricing import prices, status_cost

Row = tuple[str, dict]

MESSAGE_COLUMNS = ("conversation_id", "customer_id", "thread_key", "channel", "channel_account_id",
                   "direction", "kind", "text", "agent_id", "platform_message_id",
                   "platform_event_id", "occurred_at", "received_at", "reply_to_message_id",
                   "target_message_id",   # references: DDL 0014
                   "sender_name", "content",  # the sender's name, the content items as JSON: DDL 0016
                   "sender_kind", "queue_id")  # customer / agent / system, the queue at the time: DDL 0045
CONVERSATION_COLUMNS = ("thread_key", "customer_id", "channel", "channel_account_id", "started_at",
                        "first_inbound_at", "first_response_at", "first_assigned_at",
                        "last_event_at", "closed_at", "close_reason", "interaction_ended_at",
                        "interaction_end_reason",
                        "entry_point_id", "campaign_id", "referral_source", "referral_source_id",   # DDL 0017
                        "language", "language_confidence",   # DDL 0026
                        "media_type", "first_queue_id")   # DDL 0044


def message_row(tenant_id: str, message_id: str, **known) -> Row:
    """A partial message_facts row: what this source knows, NULL for the rest."""
    row = {"tenant_id": tenant_id, "message_id": message_id, **dict.fromkeys(MESSAGE_COLUMNS),
           "content_types": [], "redelivered": 0, "forwarded": 0, "frequently_forwarded": 0}
    return "message_facts", row | known


def conversation_row(tenant_id: str, conversation_id: str, at: datetime, **known) -> Row:
    """A partial conversation_facts row, from an event at `at` (its partition's day: DDL 0067)."""
    row = {"tenant_id": tenant_id, "conversation_id": conversation_id, "row_at": at,
           **dict.fromkeys(CONVERSATION_COLUMNS), "last_sequence": 0, "business_initiated": 0,
           "agents": [], "queues": [], "wrapup_codes": []}
    return "conversation_facts", row | known


def _types(content: list[dict]) -> list[str]:
    return sorted({item["type"] for item in content})


def _text(content: list[dict]) -> str | None:
    return next((c["text"] for c in content if c["type"] == "text" and c.get("text")), None)


def _content(content: list[dict]) -> str | None:
    """The items as JSON, nulls left out and keys sorted: every source of a message writes the same text."""
    items = [{k: v for k, v in item.items() if v is not None and v != []} for item in content]
    return json.dumps(items, sort_keys=True, ensure_ascii=False, separators=(",", ":")) if items else None


def _sender_name(sender: dict | None) -> str | None:
    """The name the platform gives the sender: its display name, else first and last name."""
    if not sender:
        return None
    full = " ".join(n for n in (sender.get("first_name"), sender.get("last_name")) if n)
    return sender.get("display_name") or full or None


def _some(*values) -> list[str]:
    return [v for v in values if v]


def _refs(r: dict) -> dict:
    """What a message (inbound-message v2, conversation-event v3) refers to; absent in older versions."""
    return {"reply_to_message_id": r.get("reply_to_message_id"), "target_message_id": r.get("target_message_id"),
            "forwarded": int(bool(r.get("forwarded"))),
            "frequently_forwarded": int(bool(r.get("frequently_forwarded")))}


def inbound_message(r: dict) -> list[Row]:
    """A customer's message, edit or unsend (what was said; its conversation comes from conversation-events).
    A bare referral says nothing: its entry point lands on the conversation (conversation_event)."""
    if r["kind"] == "referral":
        return []
    return [message_row(
        r["tenant_id"], r["event_id"], thread_key=r["thread_key"], channel=r["channel"],
        channel_account_id=r["channel_account_id"], direction="inbound", sender_kind="customer", kind=r["kind"],
        content_types=_types(r["content"]), text=r["text"] or _text(r["content"]), content=_content(r["content"]),
        sender_name=_sender_name(r.get("sender")), platform_message_id=r["platform_message_id"], platform_event_id=r["platform_event_id"],
        redelivered=int(r["redelivery"]), occurred_at=r["occurred_at"], received_at=r["received_at"], **_refs(r))]


def outbound_message(r: dict) -> list[Row]:
    """An approved outbound message (the agent's or a system's): what was said, and its approval (DDL 0024)."""
    types = _types(r["content"]) + (["template"] if r.get("template") else [])
    rows = [message_row(
        r["tenant_id"], r["outbound_id"], conversation_id=r["conversation_id"],
        thread_key=r["thread_key"], channel=r["channel"], channel_account_id=r["channel_account_id"],
        direction="outbound", kind=r["kind"], content_types=types, text=_text(r["content"]),
        content=_content(r["content"]), agent_id=r["agent_id"], occurred_at=r["created_at"],
        sender_kind="agent" if r["agent_id"] else "system"), approval(r, types)]
    if r.get("business_initiated") and r["conversation_id"]:   # an outbound conversation (docs/metrics.md)
        rows.append(conversation_row(r["tenant_id"], r["conversation_id"], r["created_at"],
                                     thread_key=r["thread_key"], business_initiated=1))
    return rows


def conversation_event(r: dict) -> list[Row]:
    """A conversation step: the conversation's row, and the message's conversation and customer."""
    direction = r["direction"] if r["direction"] in ("inbound", "outbound") else None
    at, kind = r["occurred_at"], r["type"]
    added = kind == "message_added"   # an edit or unsend (v3) is not the conversation's first message or reply
    rows = [conversation_row(
        r["tenant_id"], r["conversation_id"], at, thread_key=r["thread_key"],
        customer_id=r["customer_id"], channel=r["channel"], channel_account_id=r["channel_account_id"],
        started_at=at if kind == "started" else None,
        first_inbound_at=at if added and r["message_id"] and direction == "inbound" else None,
        first_response_at=at if added and r["message_id"] and direction == "outbound" else None,
        first_assigned_at=at if kind == "agent_assigned" else None, last_event_at=at,
        closed_at=at if kind == "closed" else None, close_reason=r["reason"] if kind == "closed" else None,
        interaction_ended_at=at if kind == "interaction_ended" else None,   # agent end + wrap-up (DDL 0013)
        interaction_end_reason=r["reason"] if kind == "interaction_ended" else None,
        last_sequence=r["sequence"], agents=_some(r["agent_id"]), queues=_some(r["queue_id"]),
        wrapup_codes=_some(r["wrapup_code"]),
        # where it came from (v4; absent before): on started, or the message that brought the referral
        entry_point_id=r.get("entry_point_id"), campaign_id=r.get("campaign_id"),
        referral_source=r.get("referral_source"), referral_source_id=r.get("referral_source_id"),
        # the detected language (v6): on the message whose text made the detector confident
        language=r.get("language"), language_confidence=r.get("language_confidence"))]
    if r["message_id"]:
        rows.append(message_row(
            r["tenant_id"], r["message_id"], conversation_id=r["conversation_id"],
            customer_id=r["customer_id"], thread_key=r["thread_key"], channel=r["channel"],
            channel_account_id=r["channel_account_id"], direction=direction,
            content_types=_types(r["content"]), text=r["text"] or _text(r["content"]),
            content=_content(r["content"]), occurred_at=at, queue_id=r["queue_id"],
            **({"sender_kind": "customer"} if direction == "inbound" else {}),
            **({"agent_id": r["agent_id"]} if direction == "outbound" and r["agent_id"] else {}),
            **({"kind": r["kind"]} if r.get("kind") else {}), **_refs(r)))
    return rows + window_expiry(r)   # a free-reply window that closed while the customer waited (v5, DDL 0025)


def assignment(r: dict) -> list[Row]:
    """An agent connected to / transferred from / ended on a conversation, or it entered a queue
    (`queued`: no agent, so none is added to the conversation's agents)."""
    fact = {k: r.get(k) for k in ("tenant_id", "assignment_id", "conversation_id", "thread_key",
                                  "customer_id", "agent_id", "queue_id", "offer_id", "type",
                                  "occurred_at", "reason", "wrapup_code", "transfer_target")}
    connected = r["occurred_at"] if r["type"] == "connected" else None
    return [("assignment_facts", fact), conversation_row(
        r["tenant_id"], r["conversation_id"], r["occurred_at"], thread_key=r["thread_key"], customer_id=r["customer_id"],
        first_assigned_at=connected, agents=_some(r["agent_id"]), queues=_some(r["queue_id"]),
        wrapup_codes=_some(r.get("wrapup_code")))]


def _copy(table: str, *columns: str) -> Callable[[dict], list[Row]]:
    """A mapper that copies the named fields of the record into one row of `table`."""
    def mapper(r: dict) -> list[Row]:
        return [(table, {c: r.get(c) for c in columns})]
    mapper.__doc__ = f"One {table} row per record."
    return mapper


def version(at: datetime, closed: bool) -> int:
    """A ReplacingMergeTree version that prefers a fact's closed copy to its open one, even in the same ms."""
    return int(at.timestamp() * 1000) * 2 + int(closed)


SEGMENT_COLUMNS = ("tenant_id", "fact_id", "conversation_id", "customer_id", "channel", "segment_type", "queue_id",
                   "agent_id", "started_at", "ended_at", "outcome", "wrapup_code", "transfer_type",
                   "media", "offer_id", "queue_visit_id", "service_level_seconds", "service_level_percent",
                   "short_abandon_seconds", "transfer_target", "wrapup_note")   # v2: DDL 0040


def segment_fact(r: dict) -> list[Row]:
    """A segment, open (ended_at NULL) or closed; a queue visit also tells its conversation the
    media type and, as the first visit opens, its first queue (DDL 0044)."""
    end: datetime | None = r["ended_at"]
    row = {k: r.get(k) for k in SEGMENT_COLUMNS} | {"wrapup_skipped": int(bool(r.get("wrapup_skipped")))}
    rows = [("segment_facts", row | {"version": version(end or r["started_at"], end is not None)})]
    if r["segment_type"] == "queue_wait":
        first = end is None and r["fact_id"].endswith(":queue_wait:1")
        rows.append(conversation_row(r["tenant_id"], r["conversation_id"], r["started_at"], customer_id=r["customer_id"],
                                     media_type=r.get("media"), first_queue_id=r["queue_id"] if first else None))
    return rows


def agent_status(r: dict) -> list[Row]:
    """A presence interval, open (v2 closed false: ended_at NULL) or closed (DDL 0041)."""
    closed, status = r.get("closed", True), r["status"]
    routing = r.get("routing_status") or "unknown"
    if routing == "unknown":   # v1: the presence says it
        routing = status if status in ("on_queue", "not_responding") else "off_queue"
    row = {k: r.get(k) for k in ("tenant_id", "fact_id", "agent_id", "status", "started_at", "next_status", "reason")}
    return [("agent_status_facts", row | {
        "ended_at": r["ended_at"] if closed else None, "routing_status": routing,
        "version": version(r["ended_at"] if closed else r["started_at"], closed)})]


def outbound_rejection(r: dict) -> list[Row]:
    """An outbound message the policy (or delivery) refused."""
    row = {k: r[k] for k in ("tenant_id", "outbound_id", "rule", "conversation_id", "thread_key",
                             "channel", "channel_account_id", "agent_id", "rejected_at", "reason")}
    return [("outbound_rejection_facts", row | {"content_types": _types(r["content"])})]


def delivery_status(r: dict) -> list[Row]:
    """A send result or platform receipt; WhatsApp's pricing (v2) and, when delivered, its cost (DDL 0018);
    a hold's reason and expected release (v3 `held`, DDL 0023)."""
    row = {k: r[k] for k in ("tenant_id", "event_id", "thread_key", "channel", "channel_account_id",
                             "status", "outbound_id", "platform_message_ids", "watermark",
                             "occurred_at", "error_code", "error_reason", "attempts")}
    pricing = {k: r.get(k) for k in ("pricing_category", "pricing_model", "pricing_type",
                                     "conversation_origin", "platform_conversation_id", "hold_reason", "hold_until")}
    cost = status_cost(prices(), r)
    priced = {"cost": cost.amount, "currency": cost.currency, "market": cost.market, "country": cost.country} \
        if cost else dict.fromkeys(("cost", "currency", "market", "country"))
    billable = None if r.get("billable") is None else int(r["billable"])
    return [("delivery_facts", row | pricing | priced | {"retriable": int(r["retriable"]), "billable": billable})]


# Subject -> mapper. A catalogue topic consumed by `sink` whose subject is missing here is not
# subscribed (and logged), so its records wait in Kafka instead of being committed unwritten.
MAPPERS: dict[str, Callable[[dict], list[Row]]] = {
    "inbound-message": inbound_message,
    "outbound-message": outbound_message,
    "conversation-event": conversation_event,
    "delivery-status": delivery_status,
    "assignment": assignment,
    "segment-fact": segment_fact,
    "outbound-rejection": outbound_rejection,
    "agent-action": _copy("agent_action_facts", "tenant_id", "action_id", "agent_id", "type",
                          "occurred_at", "presence", "conversation_id", "offer_id", "target_queue_id",
                          "target_agent_id", "transfer_mode", "wrapup_code", "note"),
    "agent-event": _copy("agent_event_facts", "tenant_id", "event_id", "agent_id", "type",
                         "occurred_at", "conversation_id", "offer_id", "queue_id", "customer_id",
                         "channel", "expires_at", "reason"),
    "agent-status-interval": agent_status,
    "identity-event": _copy("identity_facts", "tenant_id", "event_id", "type", "customer_id",
                            "merged_customer_id", "thread_key", "channel", "external_id",
                            "display_name", "detail_type", "detail_value", "candidates", "reason", "origin",
                            "message_id", "actor", "occurred_at"),
}


MAPPERS.update(ROUTING_MAPPERS)  # routing owns its audit table's mapper (and DDL 0020)
MAPPERS.update(POLICY_MAPPERS)   # consents and account events (DDL 0021-0025, sink/rows_policy.py)
MAPPERS.update(AUDIT_MAPPERS)    # reads of customers' conversations (DDL 0031, sink/rows_audit.py)
MAPPERS["conversation-event"] = with_timeline(MAPPERS["conversation-event"])   # complete message rows (DDL 0049)


def rows_of(subject: str, record: dict) -> list[Row]:
    """The fact rows of one decoded record of `subject`."""
    return MAPPERS[subject](record)
