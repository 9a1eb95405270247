"""The records the conversation processor produces, built from the thread state (no I/O)."""
from __future__ import annotations

from channels.registry import rules
from schemas import topic
from streams.policy import windows
from streams.records import Output

from . import ids


def conversation_event(state: dict, conv: dict, event_type: str, at: int, ref: str = "", /, **fields) -> Output:
    """The next event of `conv` (open or just closed): takes the next sequence number."""
    conv["sequence"] += 1
    value = {"event_id": ids.event_id(conv["conversation_id"], event_type, ref),
             "tenant_id": state["tenant_id"], "conversation_id": conv["conversation_id"],
             "thread_key": state["thread_key"], "customer_id": state["customer_id"],
             "channel": state["channel"], "channel_account_id": state["channel_account_id"],
             "type": event_type, "sequence": conv["sequence"], "occurred_at": at, **fields}
    return Output(topic("conversation-events").name, conv["conversation_id"], "conversation-event", value)


def message_refs(msg: dict) -> dict:
    """What an inbound message refers to (inbound-message v2): its kind, platform id, the message it
    quotes, forwarded marks, the message an edit or unsend changes (conversation-event v3, agent-event v4)."""
    return {"kind": msg.get("kind"), "platform_message_id": msg.get("platform_message_id"),
            "reply_to_message_id": msg.get("reply_to_message_id"), "reply_to_text": msg.get("reply_to_text"),
            "forwarded": bool(msg.get("forwarded")), "frequently_forwarded": bool(msg.get("frequently_forwarded")),
            "target_message_id": msg.get("target_message_id")}


def routing_request(state: dict, conv: dict, reason: str, at: int, ref: str = "",
                    close_reason: str | None = None, *, message_text: str | None = None) -> Output:
    """A routing request for `conv`, keyed by its routing domain (the tenant); v4: the customer's reply
    deadline (the free-reply window's end, `streams.policy.windows`) and whether it has passed; v5: the
    detected language's confidence, a waiting customer's new message (`message_added`) and the customer's
    group (its customer and every customer merged with it, `customers.py`)."""
    value = {"request_id": ids.request_id(conv["conversation_id"], reason, ref),
             "tenant_id": state["tenant_id"], "conversation_id": conv["conversation_id"],
             "thread_key": state["thread_key"], "customer_id": state["customer_id"],
             "channel": state["channel"], "channel_account_id": state["channel_account_id"],
             "reason": reason, "requested_at": at, "close_reason": close_reason,
             "message_text": message_text,
             "related_customer_ids": [state["customer_id"], *state.get("customer_group", [])]}
    if reason != "closed":
        value |= {"first_message_text": conv["first_message_text"], "language": conv["language"],
                  "language_confidence": conv.get("language_confidence"),
                  "preferred_agent_id": conv["last_agent_id"] or state["last_agent_id"],
                  "history": [{**m, "channel": state["channel"]} for m in conv["history"]]}
        deadline = windows.window_open_until(state, rules(state["channel"]))
        value |= {"reply_deadline_at": deadline, "template_only": deadline is not None and at > deadline}
    return Output(topic("routing-requests").name, state["tenant_id"], "routing-request", value)


def identity_claim(state: dict, detail_type: str, value: str, source: str, at: int,
                   display_name: str | None, *, origin: str | None = None, message_id: str | None = None,
                   auto_merge: bool = False) -> Output:
    """A detail claimed for the thread's channel identity, keyed by the normalized detail; v2: where it
    was found (origin, message) and whether a text match may merge at once."""
    record = {"claim_id": ids.claim_id(state["thread_key"], detail_type, value),
              "tenant_id": state["tenant_id"], "detail_type": detail_type, "detail_value": value,
              "source": source, "thread_key": state["thread_key"], "channel": state["channel"],
              "channel_account_id": state["channel_account_id"], "external_id": state["external_id"],
              "customer_id": ids.customer_id(state["tenant_id"], state["channel"], state["external_id"]),
              "display_name": display_name, "occurred_at": at, "action": "claim", "origin": origin,
              "message_id": message_id, "auto_merge": auto_merge, "other_customer_id": None, "actor": None}
    key = f"{state['tenant_id']}:{detail_type}:{value}"
    return Output(topic("identity-claims").name, key, "identity-claim", record)
