"""The thread state (table `conversation_by_thread`, subject `conversation-state`) and its helpers.

Plain dicts shaped like the Avro record; times are epoch millis. Pure functions copy the state they
get and return the new one, so a caller's value never changes under it.
"""
from __future__ import annotations

import copy
from typing import NamedTuple

from schemas import Codec

from . import ids

SUBJECT = "conversation-state"
HISTORY_SIZE = 5       # recent messages carried on routing requests (v2 `history`)
SEEN_LIMIT = 512       # ids kept per thread even within the TTL: redeliveries are of recent messages


class Step(NamedTuple):
    """What applying one event did: the new state (None: delete the entry) and records to produce."""

    state: dict | None
    outputs: list
    duplicate: bool = False


def thread_parts(thread_key: str) -> tuple[str, str, str, str]:
    """(tenant, channel, channel account, external user) of a thread key."""
    tenant, channel, account, external = thread_key.split(":", 3)
    return tenant, channel, account, external


def new_thread(thread_key: str, partition: int, at: int, customer_id: str | None = None) -> dict:
    """The state of a thread seen for the first time; its customer is the key's channel identity by default."""
    tenant, channel, account, external = thread_parts(thread_key)
    customer_id = customer_id or ids.customer_id(tenant, channel, external)
    return {"tenant_id": tenant, "thread_key": thread_key, "channel": channel,
            "channel_account_id": account, "external_id": external, "customer_id": customer_id,
            "partition": partition, "touched_at": at, "last_inbound_at": None, "last_agent_id": None,
            "unfollowed": False, "claims": [], "seen": [], "outbound_since_inbound": 0,
            "outbound_after_window": 0, "recent_outbound": [], "reply_token": None,
            "conversation": None, "previous": None, "referral": None, "consent": None,
            "policy_view_hash": None, "window_closed_for": None, "identity_waiting": [],
            "customer_group": []}


def new_conversation(thread_key: str, first_ref: str, at: int, *, last_agent_id: str | None = None,
                     language: str | None = None, first_message_text: str | None = None) -> dict:
    """A conversation started at `at` by the message `first_ref` (platform id, or `o:<outbound id>`)."""
    return {"conversation_id": ids.conversation_id(thread_key, first_ref), "started_at": at,
            "last_activity_at": at, "sequence": 0, "connected_agent_id": None, "last_agent_id": last_agent_id,
            "awaiting_agent": False, "language": language, "first_message_text": first_message_text,
            "history": [], "entry_point_id": None, "campaign_id": None, "referral_source": None,
            "referral_source_id": None, "referral_at": None, "language_confidence": None,
            "language_settled": language is not None, "answered": False, "queue_id": None,
            "run_side": None, "run_started_at": None, "run_agent_id": None, "responders": []}


def working_copy(state: dict | None) -> dict | None:
    """A deep copy to change (pure functions never mutate their input)."""
    return copy.deepcopy(state) if state is not None else None


def applied_once(state: dict | None, thread_key: str, ref: str, at: int, *, partition: int, ttl_ms: int,
                 customer_id: str | None = None) -> tuple[dict, bool]:
    """A working copy of the thread (new if unknown) and whether `ref` was already applied; if not, it is
    remembered now (every input's dedupe: m:/a:/o:/c:/u: ids)."""
    state = working_copy(state) or new_thread(thread_key, partition, at, customer_id)
    if seen(state, ref):
        return state, True
    remember(state, ref, at, ttl_ms)
    return state, False


def seen(state: dict, ref: str) -> bool:
    """True when `ref` (m:/a:/o: prefixed id) was applied within the TTL."""
    return any(entry["id"] == ref for entry in state["seen"])


def remember(state: dict, ref: str, at: int, ttl_ms: int) -> None:
    """Record `ref` as applied; forget ids older than the TTL (measured from the newest)."""
    entries = state["seen"] + [{"id": ref, "at": at}]
    horizon = max(entry["at"] for entry in entries) - ttl_ms
    state["seen"] = [e for e in entries if e["at"] >= horizon][-SEEN_LIMIT:]
    state["touched_at"] = max(state["touched_at"], at)


def push_history(conversation: dict, at: int, direction: str, text: str | None) -> None:
    """Keep the conversation's last few messages (oldest first)."""
    history = conversation["history"] + [{"occurred_at": at, "direction": direction, "text": text}]
    conversation["history"] = sorted(history, key=lambda m: m["occurred_at"])[-HISTORY_SIZE:]


def touch(conversation: dict, at: int) -> None:
    """Activity at `at`: a late event (older than the last activity) does not move it back."""
    conversation["last_activity_at"] = max(conversation["last_activity_at"], at)


def summary(text: str | None, content: list[dict]) -> str | None:
    """A message's text, else a short tag of its first content element (e.g. `[sticker]`)."""
    if text:
        return text
    for item in content:
        return item.get("text") or f"[{item.get('type', 'unsupported')}]"
    return None


class StateCodec:
    """Table values as Avro (the changelog topic's subject), read with today's schema."""

    def __init__(self, codec: Codec):
        self._codec = codec

    def dumps(self, state: dict) -> bytes:
        """The state as an Avro event of `conversation-state`."""
        return self._codec.encode(SUBJECT, state)

    def loads(self, data: bytes | None) -> dict | None:
        """The state, or None for a missing entry."""
        return None if data is None else self._codec.decode(data, SUBJECT)
