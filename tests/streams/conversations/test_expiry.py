"""Inactivity close through the timeout topic, re-checked against the state; forgetting idle threads."""
from streams.conversations.expiry import finding, on_timeout
from streams.conversations.threading import on_inbound

from .factory import HOUR, MINUTE, T0, inbound, outputs_of, settled

WINDOW, TTL, GRACE = 72 * HOUR, 192 * HOUR, 5 * MINUTE


def open_state(at=T0):
    return settled(on_inbound(None, inbound(1, at), partition=4, window_ms=WINDOW, ttl_ms=TTL)).state


def find(state, now):
    return finding(state, now, window_ms=WINDOW, ttl_ms=TTL, grace_ms=GRACE)


def apply(state, timeout):
    return on_timeout(state, timeout, window_ms=WINDOW, ttl_ms=TTL, grace_ms=GRACE)


def test_nothing_is_found_before_the_window_and_its_grace_pass():
    announced = open_state() | {"window_closed_for": T0}   # its 24 h reply window's close was announced
    assert find(announced, T0 + WINDOW + GRACE) is None


def test_an_expired_conversation_is_found_and_closed_at_its_expiry_time():
    state = open_state()
    timeout = find(state, T0 + WINDOW + GRACE + 1)
    assert timeout["kind"] == "expired" and timeout["conversation_id"] == state["conversation"]["conversation_id"]
    step = apply(state, timeout)
    [closed] = outputs_of([step], "conversation-events")
    assert (closed["type"], closed["reason"], closed["occurred_at"]) == ("closed", "inactivity", T0 + WINDOW)
    [request] = outputs_of([step], "routing-requests")
    assert (request["reason"], request["close_reason"]) == ("closed", "inactivity")
    assert step.state["conversation"] is None


def test_a_message_that_arrived_after_the_finding_wins():
    state = open_state()
    timeout = find(state, T0 + WINDOW + GRACE + 1)
    state = on_inbound(state, inbound(2, T0 + WINDOW - 1), partition=4, window_ms=WINDOW, ttl_ms=TTL).state
    step = apply(state, timeout)
    assert step.outputs == [] and step.state["conversation"] is not None


def test_a_timeout_applied_twice_closes_once():
    state = open_state()
    timeout = find(state, T0 + WINDOW + GRACE + 1)
    first = apply(state, timeout)
    assert apply(first.state, timeout).outputs == []


def test_an_idle_thread_is_forgotten_after_the_dedupe_ttl():
    state = apply(open_state(), find(open_state(), T0 + WINDOW + GRACE + 1)).state
    assert find(state, T0 + TTL) is None
    timeout = find(state, T0 + TTL + 1)
    assert timeout["kind"] == "forget"
    assert apply(state, timeout).state is None
