"""Deterministic ids: the same inputs always give the same id, so a replay yields identical events."""
from __future__ import annotations

import uuid

# Fixed namespace of the stream processors' ids (uuid5): never change it, ids are stored downstream.
NAMESPACE = uuid.UUID("0b6f5e3a-2c1d-5e8f-9a7b-3c4d5e6f7a8b")


def make_id(prefix: str, *parts: object) -> str:
    """`<prefix>-<uuid5>` over the parts."""
    return f"{prefix}-{uuid.uuid5(NAMESPACE, '|'.join(str(p) for p in parts))}"


def customer_id(tenant_id: str, channel: str, external_id: str) -> str:
    """The customer of a channel identity before matching: one per (tenant, channel, external id).

    Not per channel account: a WhatsApp number or X user writing to two of our accounts is one
    person. The identity matcher links and merges these ids across channels.
    """
    return make_id("cust", tenant_id, channel, external_id)


def conversation_id(thread_key: str, first_message_id: str) -> str:
    """A conversation: the thread it lives in and the platform id of the message that started it."""
    return make_id("conv", thread_key, first_message_id)


def event_id(conversation: str, kind: str, ref: str = "") -> str:
    """A conversation event: its conversation, type and what it is about (message, assignment)."""
    return make_id("ce", conversation, kind, ref)


def request_id(conversation: str, reason: str, ref: str = "") -> str:
    """A routing request: its conversation, reason and the message (or close) that caused it."""
    return make_id("rr", conversation, reason, ref)


def claim_id(thread_key: str, detail_type: str, value: str) -> str:
    """An identity claim: one per thread and detail."""
    return make_id("claim", thread_key, detail_type, value)
