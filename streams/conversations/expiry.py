"""Inactivity close and forgetting, in two steps because faust timers cannot write tables.

The timer calls `finding` on each local entry and sends what it finds to conversation-timeouts
(to the entry's own partition); the processor applies it with `on_timeout`, re-checking against
its current state, so a message that arrived in between wins.
"""
from __future__ import annotations

from streams.records import millis

from .state import Step, working_copy
from .threading import close_conversation

# Webhooks arrive late (platform retries, queueing): close a little after the window so a message
# sent inside it still threads by its own time instead of meeting a closed conversation.
DEFAULT_GRACE_MS = 5 * 60 * 1000


def finding(state: dict, now: int, *, window_ms: int, ttl_ms: int, grace_ms: int = DEFAULT_GRACE_MS) -> dict | None:
    """A conversation-timeout value when the entry's conversation expired or the thread went idle."""
    conv = state["conversation"]
    if conv is not None and now - conv["last_activity_at"] > window_ms + grace_ms:
        return _timeout(state, "expired", conv["conversation_id"], conv["last_activity_at"], now)
    if conv is None and now - state["touched_at"] > ttl_ms:
        return _timeout(state, "forget", None, state["touched_at"], now)
    return None


def on_timeout(state: dict | None, timeout: dict, *, window_ms: int, ttl_ms: int,
               grace_ms: int = DEFAULT_GRACE_MS) -> Step:
    """Close (reason inactivity) or forget, if the state still says so at the finding's time."""
    if state is None:
        return Step(None, [], duplicate=True)
    now = millis(timeout["checked_at"])
    again = finding(state, now, window_ms=window_ms, ttl_ms=ttl_ms, grace_ms=grace_ms)
    if again is None or again["kind"] != timeout["kind"] or again["conversation_id"] != timeout["conversation_id"]:
        return Step(state, [], duplicate=True)   # activity since, or already applied
    if timeout["kind"] == "forget":
        return Step(None, [])
    state = working_copy(state)
    closed_at = state["conversation"]["last_activity_at"] + window_ms
    return Step(state, close_conversation(state, "inactivity", closed_at))


def _timeout(state: dict, kind: str, conversation_id: str | None, last_activity: int, now: int) -> dict:
    return {"tenant_id": state["tenant_id"], "thread_key": state["thread_key"], "kind": kind,
            "conversation_id": conversation_id, "last_activity_at": last_activity, "checked_at": now}
