"""Threading, dedupe, routing requests and identity claims as pure functions (no broker)."""
import pytest

from streams.conversations import ids
from streams.conversations.samples import on_thread
from streams.conversations.threading import on_inbound

from .factory import HOUR, MINUTE, T0, inbound, outputs_of, settled

WINDOW, TTL = 72 * HOUR, 192 * HOUR


def run(*messages, window=WINDOW, state=None):
    """Apply messages in order; return the steps and the final state."""
    steps = []
    for msg in messages:
        step = settled(on_inbound(state, msg, partition=3, window_ms=window, ttl_ms=TTL))
        steps.append(step)
        state = step.state
    return steps, state


def conversations(steps) -> list[str]:
    return [e["conversation_id"] for e in outputs_of(steps, "conversation-events") if e["type"] == "message_added"]


@pytest.mark.parametrize("gap,window,same", [
    (71 * HOUR + 59 * MINUTE, WINDOW, True),
    (72 * HOUR + 1 * MINUTE, WINDOW, False),
    (72 * HOUR, WINDOW, True),                 # the window's last millisecond still belongs to it
    (59 * MINUTE, 1 * HOUR, True),
    (61 * MINUTE, 1 * HOUR, False),
    (0, WINDOW, True),
])
def test_a_message_within_the_window_continues_the_conversation(gap, window, same):
    steps, _ = run(inbound(1, T0), inbound(2, T0 + gap), window=window)
    first, second = conversations(steps)
    assert (first == second) is same


def test_a_new_conversation_closes_the_old_one_at_its_expiry_and_tells_routing():
    steps, state = run(inbound(1, T0), inbound(2, T0 + 73 * HOUR))
    events = outputs_of(steps, "conversation-events")
    assert [e["type"] for e in events] == ["started", "message_added", "closed", "started", "message_added"]
    closed = events[2]
    assert closed["reason"] == "inactivity" and closed["occurred_at"] == T0 + WINDOW and closed["sequence"] == 3
    requests = outputs_of(steps, "routing-requests")
    assert [r["reason"] for r in requests] == ["new_conversation", "closed", "new_conversation"]
    assert requests[1]["close_reason"] == "inactivity"
    assert state["previous"]["conversation_id"] == closed["conversation_id"]


def test_activity_is_measured_from_the_last_message_not_the_first():
    steps, _ = run(inbound(1, T0), inbound(2, T0 + 70 * HOUR), inbound(3, T0 + 140 * HOUR))
    assert len(set(conversations(steps))) == 1


def test_a_late_message_threads_by_its_own_time_and_does_not_move_activity_back():
    steps, state = run(inbound(1, T0), inbound(2, T0 + 70 * HOUR), inbound(3, T0 + 10 * HOUR))
    assert len(set(conversations(steps))) == 1
    assert state["conversation"]["last_activity_at"] == T0 + 70 * HOUR
    assert state["last_inbound_at"] == T0 + 70 * HOUR


def test_a_redelivered_message_is_dropped_and_counted_as_a_duplicate():
    msg = inbound(1, T0)
    steps, _ = run(msg, msg, msg | {"redelivery": True, "received_at": T0 + 5 * HOUR})
    assert [s.duplicate for s in steps] == [False, True, True]
    assert len(outputs_of(steps, "conversation-events")) == 2      # started + one message_added


def test_seen_ids_expire_after_the_ttl_so_the_table_stays_bounded():
    _, state = run(inbound(1, T0), inbound(2, T0 + 1 * HOUR), inbound(3, T0 + TTL + 2 * HOUR))
    assert [s["id"].rsplit("-", 1)[1] for s in state["seen"]] == ["3"]


def test_ids_are_deterministic_so_a_replay_yields_identical_events():
    first, _ = run(inbound(1, T0), inbound(2, T0 + MINUTE))
    again, _ = run(inbound(1, T0), inbound(2, T0 + MINUTE))
    assert [o for s in first for o in s.outputs] == [o for s in again for o in s.outputs]
    started = outputs_of(first, "conversation-events")[0]
    assert started["conversation_id"] == ids.conversation_id(started["thread_key"], inbound(1)["platform_message_id"])
    assert started["customer_id"] == ids.customer_id("acme", "whatsapp", "14155550123")


def test_sequences_count_from_one_in_conversation_order():
    steps, _ = run(inbound(1, T0), inbound(2, T0 + MINUTE), inbound(3, T0 + 2 * MINUTE))
    assert [e["sequence"] for e in outputs_of(steps, "conversation-events")] == [1, 2, 3, 4]


def test_the_new_conversation_asks_routing_with_its_first_message_language_and_customer():
    msg = inbound(1, T0, name="inbound_open_email")
    steps, _ = run(msg, inbound(2, T0 + MINUTE, name="inbound_open_email"))
    request, added = outputs_of(steps, "routing-requests")   # the second message: message_added (keyword rules)
    assert request["reason"] == "new_conversation" and request["tenant_id"] == "acme"
    assert added["reason"] == "message_added" and added["message_text"] == msg["text"]
    assert request["first_message_text"] == msg["text"] and request["language"] == "en"
    assert request["customer_id"] == ids.customer_id("acme", "open", "maria@example.com")
    assert request["history"] == [{"occurred_at": T0, "direction": "inbound", "channel": "open", "text": msg["text"]}]
    assert [o.key for s in steps for o in s.outputs if o.topic == "routing-requests"] == ["acme", "acme"]


def test_whatsapp_phone_is_claimed_as_platform_verified_once_per_thread():
    steps, _ = run(inbound(1, T0), inbound(2, T0 + MINUTE))
    [claim] = outputs_of(steps, "identity-claims")
    assert (claim["detail_type"], claim["detail_value"], claim["source"]) == ("phone", "14155550123", "platform_verified")
    key = [o.key for s in steps for o in s.outputs if o.topic == "identity-claims"][0]
    assert key == "acme:phone:14155550123"


def test_volunteered_email_and_phone_are_normalized_claims():
    steps, _ = run(inbound(1, T0, name="inbound_open_email"))
    claims = {(c["detail_type"], c["detail_value"], c["source"]) for c in outputs_of(steps, "identity-claims")}
    assert claims == {("email", "maria@example.com", "customer_volunteered"),
                      ("phone", "14155550123", "customer_volunteered")}


def test_other_channels_claim_nothing_about_platform_ids():
    msg = on_thread(inbound(1, T0), "acme:messenger:104729385610293:6523409871234567")
    steps, _ = run(msg | {"sender": msg["sender"] | {"phone": "14155550123"}})
    assert outputs_of(steps, "identity-claims") == []


def test_unfollow_and_follow_flip_the_line_flag_without_a_conversation():
    unfollow = inbound(1, T0, name="inbound_line_unfollow")
    steps, state = run(unfollow)
    assert state["unfollowed"] and state["conversation"] is None and steps[0].outputs == []
    _, state = run(inbound(2, T0 + 1, name="inbound_line_unfollow", kind="follow"), state=state)
    assert not state["unfollowed"]


def test_the_input_state_is_never_changed():
    _, state = run(inbound(1, T0))
    before = repr(state)
    run(inbound(2, T0 + 100 * HOUR), state=state)
    assert repr(state) == before
