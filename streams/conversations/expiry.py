"""Inactivity close and forgetting, in two steps because faust timers cannot write tables.

The timer calls `finding` on each local entry due by now and sends what it finds to
conversation-timeouts (to the entry's own partition); the processor applies it with `on_timeout`,
re-checking against its current state, so a message that arrived in between wins.

The same scan finds a customer waiting for an answer (the open conversation's last customer message
unanswered) whose free-reply window has passed (`streams.policy.windows`: WhatsApp, Messenger, X
24 h): `window_closed` announces it once per customer message (conversation-event v5 with the
`window_rule` that now refuses free-form replies; state v4 `window_closed_for`).

And a new conversation that waited more than IDENTITY_WAIT_MS for identity's answer (identity_wait,
conversation-timeout v3) is routed without it (`customers.release`).

`next_due` is the first instant at which `finding` returns something for a state: every condition
of `finding` is a deadline fixed by the state, so from that instant on it keeps finding until the
state changes. The agent keeps each thread in a time-ordered index at that instant (`due.py`), and
the scan visits only the entries due by now.
"""
from __future__ import annotations

from channels.registry import rules
from streams.policy import view, windows
from streams.records import millis

from .customers import release
from .outputs import conversation_event
from .state import Step, working_copy
from .threading import close_conversation

# Webhooks arrive late (platform retries, queueing): close a little after the window so a message
# sent inside it still threads by its own time instead of meeting a closed conversation.
DEFAULT_GRACE_MS = 5 * 60 * 1000
# A new conversation waits this long for identity's answer (customers.py) before it is routed anyway.
IDENTITY_WAIT_MS = 5_000


def finding(state: dict, now: int, *, window_ms: int, ttl_ms: int, grace_ms: int = DEFAULT_GRACE_MS) -> dict | None:
    """A conversation-timeout value when the entry's conversation expired or the thread went idle."""
    conv = state["conversation"]
    if conv is not None and now - conv["last_activity_at"] > window_ms + grace_ms:
        return _timeout(state, "expired", conv["conversation_id"], conv["last_activity_at"], now)
    if conv is None and now - state["touched_at"] > ttl_ms:
        return _timeout(state, "forget", None, state["touched_at"], now)
    if conv is not None and window_passed(state, now):
        return _timeout(state, "window_closed", conv["conversation_id"], state["last_inbound_at"], now)
    if conv is not None and state.get("identity_waiting") and not conv["connected_agent_id"] \
            and now - conv["started_at"] > IDENTITY_WAIT_MS:
        return _timeout(state, "identity_wait", conv["conversation_id"], conv["started_at"], now)
    return None


def next_due(state: dict, *, window_ms: int, ttl_ms: int, grace_ms: int = DEFAULT_GRACE_MS) -> int:
    """The first `now` at which `finding` returns a timeout for this state (each check is `now > deadline`)."""
    conv = state["conversation"]
    if conv is None:
        return state["touched_at"] + ttl_ms + 1
    deadlines = [conv["last_activity_at"] + window_ms + grace_ms]
    until = _unannounced_window(state)
    if until is not None:
        deadlines.append(until)
    if state.get("identity_waiting") and not conv["connected_agent_id"]:
        deadlines.append(conv["started_at"] + IDENTITY_WAIT_MS)
    return min(deadlines) + 1


def window_passed(state: dict, now: int) -> bool:
    """The waiting customer's free-reply window has closed by `now` and was not announced yet."""
    until = _unannounced_window(state)
    return until is not None and now > until


def _unannounced_window(state: dict) -> int | None:
    """The end of the waiting customer's free-reply window, unless its close was announced already."""
    until = windows.window_open_until(state, rules(state["channel"]))
    if until is None or not view.waiting(state) or state.get("window_closed_for") == state["last_inbound_at"]:
        return None
    return until


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
    if timeout["kind"] == "window_closed":
        return Step(state, _window_closed(state))
    if timeout["kind"] == "identity_wait":
        return Step(state, release(state, now))
    closed_at = state["conversation"]["last_activity_at"] + window_ms
    return Step(state, close_conversation(state, "inactivity", closed_at))


def _window_closed(state: dict) -> list:
    spec = rules(state["channel"])
    state["window_closed_for"] = state["last_inbound_at"]
    return [conversation_event(state, state["conversation"], "window_closed", windows.window_open_until(state, spec),
                               str(state["last_inbound_at"]), window_rule=windows.closing_rule(spec))]


def _timeout(state: dict, kind: str, conversation_id: str | None, last_activity: int, now: int) -> dict:
    return {"tenant_id": state["tenant_id"], "thread_key": state["thread_key"], "kind": kind,
            "conversation_id": conversation_id, "last_activity_at": last_activity, "checked_at": now}
