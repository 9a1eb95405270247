"""What identity decided for the thread's customer (customer-updates, `streams/identity/matching.py`).

A merge makes the thread's customer the group's survivor and a split gives it back its own; every
later event and request carries that customer, and routing requests carry the group
(`related_customer_ids`) so the ACD can prefer the last agent the customer had on any channel.

A new conversation whose first message claimed details waits for this answer before it is routed
(`identity_waiting`: its claims, set by `threading.on_inbound`): the answer to its last claim, whatever
it is, sends its `new_conversation` request — after a merge decided on any of the claims' partitions. If identity is slow, the expiry scan's `identity_wait` finding sends it
anyway (`expiry.py`, `IDENTITY_WAIT_MS`). A merge or split of a conversation already waiting in
routing is told to routing as `customer_changed`.
"""
from __future__ import annotations

from streams.records import millis

from .outputs import routing_request
from .state import Step, applied_once

RELEASE_REF = "identity"   # the request id of a conversation released by identity's answer or its wait


def on_customer_update(state: dict | None, update: dict, *, partition: int, ttl_ms: int) -> Step:
    """Apply one customer-update; a redelivered update id is a duplicate."""
    at = millis(update["occurred_at"])
    ref = f"u:{update['update_id']}"
    state, duplicate = applied_once(state, update["thread_key"], ref, at, partition=partition, ttl_ms=ttl_ms)
    if duplicate:
        return Step(state, [], duplicate=True)
    changed = update["kind"] in ("merged", "split") and (
        state["customer_id"] != update["customer_id"] or state["customer_group"] != _others(update))
    if update["kind"] in ("merged", "split"):
        state["customer_id"], state["customer_group"] = update["customer_id"], _others(update)
    if state["identity_waiting"]:
        state["identity_waiting"] = [c for c in state["identity_waiting"] if c != update.get("claim_id")]
        return Step(state, [] if state["identity_waiting"] else release(state, at))
    conv = state["conversation"]
    if changed and conv is not None and conv["awaiting_agent"] and not conv["connected_agent_id"]:
        return Step(state, [routing_request(state, conv, "customer_changed", at, update["update_id"])])
    return Step(state, [])


def release(state: dict, at: int) -> list:
    """Route the conversation that waited for identity (its `new_conversation` request, sent once)."""
    state["identity_waiting"] = []
    conv = state["conversation"]
    if conv is None or conv["connected_agent_id"]:
        return []
    return [routing_request(state, conv, "new_conversation", at, RELEASE_REF)]


def _others(update: dict) -> list[str]:
    return [c for c in update.get("group", []) if c != update["customer_id"]]
