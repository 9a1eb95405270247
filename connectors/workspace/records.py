"""What the agent API writes, as `connectors.publisher.Record`s: actions, replies, identity claims.

Pure builders. Actions are keyed by the routing domain (the tenant), replies and claims as their
topics say (schemas/topics.yaml); ids are deterministic where a client retry must not act twice.
"""
from __future__ import annotations

import uuid

from schemas import topic
from connectors.normalize import ITEM_FIELDS
from connectors.publisher import Record
from switchboard.details import normalize_detail as normalized  # the identity-claim contract's form
from switchboard.ids import customer_id

ACTIONS, OUTBOUND, CLAIMS = topic("agent-actions").name, topic("outbound-messages").name, topic("identity-claims").name
GUEST_EVENTS = topic("webmessaging-events").name
CONSENTS = topic("consents").name
NAMESPACE = uuid.UUID("5d1e0c2a-7b43-4f0e-9c61-2a8f3e9d4b17")


def stable_id(prefix: str, *parts: str) -> str:
    """A deterministic id: the same request twice names the same record."""
    return f"{prefix}-{uuid.uuid5(NAMESPACE, '|'.join(parts)).hex}"


def action(codec, tenant: str, agent: str, kind: str, now: int, *, actor: str | None = None, **fields) -> Record:
    """An agent-actions record; `actor` is the supervisor acting on the agent's conversation."""
    value = {"action_id": f"ws-{uuid.uuid4().hex}", "tenant_id": tenant, "agent_id": agent, "type": kind,
             "occurred_at": now, "actor_id": actor, **fields}
    return Record(ACTIONS, tenant, codec.encode("agent-action", value))


def reply(codec, principal, entry: dict, content: list[dict], client_id: str, now: int,
          template: dict | None = None) -> tuple[str, Record]:
    """(outbound id, outbound-messages record) of an agent's reply on a conversation of theirs (kind
    `template` with an approved template: what a closed WhatsApp window allows)."""
    outbound_id = stable_id("ws-out", principal.tenant_id, principal.person_id, client_id)
    thread_key = entry["thread_key"]
    value = {"outbound_id": outbound_id, "tenant_id": principal.tenant_id,
             "conversation_id": entry["conversation_id"], "thread_key": thread_key, "channel": entry["channel"],
             "channel_account_id": entry["channel_account_id"] or "",
             "recipient_id": thread_key.split(":", 3)[-1], "agent_id": principal.person_id,
             "kind": "template" if template else "reply", "created_at": now,
             "content": [content_item(c) for c in content],
             "template": {**template, "category": "unknown"} if template else None}
    return outbound_id, Record(OUTBOUND, thread_key, codec.encode("outbound-message", value))


def content_item(item: dict) -> dict:
    """A ContentItem with every field present; ValueError on unknown fields."""
    unknown = set(item) - set(ITEM_FIELDS) - {"type"}
    if unknown or not isinstance(item.get("type"), str):
        raise ValueError(f"content items have a `type` and only {', '.join(ITEM_FIELDS)}; got {sorted(unknown)}")
    return {"type": item["type"], **{name: item.get(name) for name in ITEM_FIELDS}}


def claim(codec, principal, entry: dict, detail_type: str, value: str, now: int, *, action: str = "claim",
          other_customer_id: str | None = None) -> Record:
    """An `agent_entered` identity claim for the conversation's channel identity (its own customer id,
    before merges); v2 `action`: a person's confirm / reject of a suggested merge, or a split."""
    thread_key = entry["thread_key"]
    _, channel, _, external = thread_key.split(":", 3)
    decision = (action, other_customer_id or "", str(now)) if action != "claim" else ()   # each decision: its own claim
    record = {"claim_id": stable_id("claim-agent", thread_key, detail_type, value, *decision),
              "tenant_id": principal.tenant_id, "detail_type": detail_type, "detail_value": value,
              "source": "agent_entered", "thread_key": thread_key, "channel": entry.get("channel") or channel,
              "channel_account_id": entry.get("channel_account_id") or "", "external_id": external,
              "customer_id": entry.get("claimant") or customer_id(principal.tenant_id, channel, external),
              "display_name": None, "occurred_at": now, "action": action, "origin": "agent", "message_id": None,
              "auto_merge": False, "other_customer_id": other_customer_id, "actor": principal.person_id}
    return Record(CLAIMS, f"{principal.tenant_id}:{detail_type}:{value}", codec.encode("identity-claim", record))


def guest_typing(codec, principal, entry: dict, now: int) -> Record:
    """A web-guest-event `typing` for the widget visitor of a web conversation (keyed by thread key)."""
    thread_key = entry["thread_key"]
    record = {"event_id": f"wg-typing-{uuid.uuid4().hex}", "tenant_id": principal.tenant_id,
              "deployment_id": entry["channel_account_id"] or "", "session_id": thread_key.split(":", 3)[-1],
              "type": "typing", "conversation_id": entry["conversation_id"], "sender_name": principal.name or None,
              "occurred_at": now}
    return Record(GUEST_EVENTS, thread_key, codec.encode("web-guest-event", record))


def notification(codec, tenant: str, outbound_id: str, thread_key: str, channel: str, account_id: str,
                 recipient: str, sender: str, template: dict, requested_by: str, now: int) -> Record:
    """A business-initiated outbound-messages `template` record, sent by a system sender (keyed by thread)."""
    value = {"outbound_id": outbound_id, "tenant_id": tenant, "conversation_id": None, "thread_key": thread_key,
             "channel": channel, "channel_account_id": account_id, "recipient_id": recipient, "agent_id": sender,
             "kind": "template", "created_at": now, "content": [],
             "template": {**template, "category": "unknown"},   # the account stage fills it from the catalogue
             "attributes": {"source": "api", "requested_by": requested_by}}
    return Record(OUTBOUND, thread_key, codec.encode("outbound-message", value))


def consent(codec, tenant: str, consent_id: str, thread_key: str, channel: str, account_id: str, recipient: str,
            action: str, source: str, recorded_by: str, now: int) -> Record:
    """A consents record (opt-in / opt-out) the API caller recorded, keyed by thread key."""
    value = {"consent_id": consent_id, "tenant_id": tenant, "thread_key": thread_key, "channel": channel,
             "channel_account_id": account_id, "recipient_id": recipient, "action": action, "source": source,
             "occurred_at": now, "text": None, "recorded_by": recorded_by}
    return Record(CONSENTS, thread_key, codec.encode("consent", value))
