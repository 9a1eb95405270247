"""Deterministic ids: the same inputs always give the same id, so a replay yields identical events."""
from __future__ import annotations

from switchboard.ids import NAMESPACE, customer_id, make_id

__all__ = ["NAMESPACE", "customer_id", "make_id"]   # re-exported: switchboard.ids is shared with the edge


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
