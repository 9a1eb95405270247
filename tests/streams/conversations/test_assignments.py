"""Assignments into the thread state: last agent, connected agent, agent events, no_agent requests."""
from streams.conversations.assignments import on_assignment
from streams.conversations.threading import on_inbound

from .factory import HOUR, MINUTE, T0, event, inbound, outputs_of

WINDOW, TTL = 72 * HOUR, 192 * HOUR


def conversation_of(state) -> str:
    return state["conversation"]["conversation_id"]


def assign(state, name="assignment_connected", at=T0 + MINUTE, **overrides):
    record = event(name, occurred_at=at, conversation_id=conversation_of(state) if state["conversation"]
                   else state["previous"]["conversation_id"]) | overrides
    return on_assignment(state, record, partition=3, ttl_ms=TTL)


def message(state, n, at):
    return on_inbound(state, inbound(n, at), partition=3, window_ms=WINDOW, ttl_ms=TTL)


def test_connected_sets_connected_and_last_agent_and_emits_agent_assigned():
    state = message(None, 1, T0).state
    step = assign(state)
    conv = step.state["conversation"]
    assert (conv["connected_agent_id"], conv["last_agent_id"], step.state["last_agent_id"]) == ("agent-ana",) * 3
    [assigned] = outputs_of([step], "conversation-events")
    assert (assigned["type"], assigned["agent_id"], assigned["queue_id"], assigned["sequence"]) == (
        "agent_assigned", "agent-ana", "cards", 3)


def test_a_message_after_the_agent_ended_asks_routing_again_preferring_the_last_agent():
    state = message(None, 1, T0).state
    state = assign(state).state
    state = message(state, 2, T0 + 2 * MINUTE).state                      # agent connected: no request
    ended = assign(state, "assignment_ended", at=T0 + 3 * MINUTE)
    events = outputs_of([ended], "conversation-events")
    assert [(e["type"], e.get("wrapup_code")) for e in events] == [
        ("agent_ended", None), ("wrapped_up", "card-blocked"), ("interaction_ended", "card-blocked")]
    assert events[-1]["reason"] == "agent_ended"
    again = message(ended.state, 3, T0 + 4 * MINUTE)
    assert {e["conversation_id"] for e in outputs_of([again], "conversation-events")} == {conversation_of(state)}
    [request] = outputs_of([again], "routing-requests")
    assert (request["reason"], request["preferred_agent_id"]) == ("no_agent", "agent-ana")
    assert [h["text"] for h in request["history"]][-1] == inbound(3)["text"]
    # One request out: the next message only tells routing its moved reply deadline (a new request id).
    [moved] = outputs_of([message(again.state, 4, T0 + 5 * MINUTE)], "routing-requests")
    assert moved["request_id"] != request["request_id"] and moved["reason"] == "no_agent"
    assert (moved["reply_deadline_at"] - request["reply_deadline_at"], moved["template_only"]) == (MINUTE, False)


def test_the_customers_last_agent_is_preferred_in_the_next_conversation():
    state = assign(message(None, 1, T0).state).state
    state = assign(state, "assignment_ended", at=T0 + 3 * MINUTE).state
    step = message(state, 2, T0 + 100 * HOUR)
    new = [r for r in outputs_of([step], "routing-requests") if r["reason"] == "new_conversation"]
    assert new[0]["preferred_agent_id"] == "agent-ana"


def test_an_assignment_is_not_activity_the_window_runs_from_the_last_message():
    state = assign(message(None, 1, T0).state, at=T0 + 60 * HOUR).state   # accepted late: the window stays
    assert state["conversation"]["last_activity_at"] == T0
    within = message(state, 2, T0 + 71 * HOUR)
    assert {e["conversation_id"] for e in outputs_of([within], "conversation-events")} == {conversation_of(state)}
    later = message(state, 2, T0 + 73 * HOUR)   # 73 h after the last message, 13 h after the accept
    assert "closed" in [e["type"] for e in outputs_of([later], "conversation-events")]


def test_a_wrap_up_after_the_inactivity_close_lands_in_the_closed_conversation():
    state = assign(message(None, 1, T0).state).state
    closed_id = conversation_of(state)
    state = message(state, 2, T0 + 100 * HOUR).state                     # closes the first, starts a second
    step = assign(state, "assignment_ended", at=T0 + 100 * HOUR + 1, conversation_id=closed_id)
    events = outputs_of([step], "conversation-events")
    assert {e["conversation_id"] for e in events} == {closed_id}
    assert [e["sequence"] for e in events] == [5, 6]                      # after started, msg, assigned, closed


def test_a_redelivered_assignment_is_a_duplicate():
    state = message(None, 1, T0).state
    first = assign(state)
    assert assign(first.state).duplicate and not first.duplicate


def test_transferred_frees_the_agent_but_keeps_routing_in_charge():
    state = assign(message(None, 1, T0).state).state
    step = assign(state, type="transferred", assignment_id="as-0008", transfer_target="queue:loans")
    assert step.state["conversation"]["connected_agent_id"] is None and step.state["conversation"]["awaiting_agent"]
    # Routing keeps it: a customer message meanwhile only tells routing its moved reply deadline.
    [moved] = outputs_of([message(step.state, 2, T0 + 2 * MINUTE)], "routing-requests")
    assert (moved["reason"], moved["reply_deadline_at"]) == ("no_agent", T0 + 2 * MINUTE + 24 * HOUR)


def test_an_agent_end_closes_the_interaction_and_the_inactivity_close_stays_a_different_event():
    from streams.conversations.expiry import finding, on_timeout
    state = assign(message(None, 1, T0).state).state
    ended = assign(state, "assignment_ended", at=T0 + 3 * MINUTE)
    [interaction] = [e for e in outputs_of([ended], "conversation-events") if e["type"] == "interaction_ended"]
    assert (interaction["reason"], interaction["agent_id"]) == ("agent_ended", "agent-ana")
    assert ended.state["conversation"] is not None                    # still threadable
    timeout = finding(ended.state, T0 + 80 * HOUR, window_ms=WINDOW, ttl_ms=TTL)
    closed = on_timeout(ended.state, timeout, window_ms=WINDOW, ttl_ms=TTL)
    [close] = [e for e in outputs_of([closed], "conversation-events") if e["type"] == "closed"]
    assert close["reason"] == "inactivity" and close["conversation_id"] == interaction["conversation_id"]


def test_an_ended_assignment_after_the_inactivity_close_is_no_agent_end():
    from streams.conversations.expiry import finding, on_timeout
    state = assign(message(None, 1, T0).state).state
    timeout = finding(state, T0 + 80 * HOUR, window_ms=WINDOW, ttl_ms=TTL)
    state = on_timeout(state, timeout, window_ms=WINDOW, ttl_ms=TTL).state
    late = assign(state, "assignment_ended", at=T0 + 80 * HOUR)      # routing wraps up after the close
    assert "interaction_ended" not in [e["type"] for e in outputs_of([late], "conversation-events")]


def test_an_agent_wrapping_up_no_longer_speaks_and_the_interaction_ends_with_the_code():
    state = assign(message(None, 1, T0).state).state
    wrapping = assign(state, "assignment_wrapup_started", at=T0 + 3 * MINUTE)
    assert wrapping.state["conversation"]["connected_agent_id"] is None      # the policy stops approving them
    assert wrapping.state["conversation"]["last_agent_id"] == "agent-ana"
    assert [e["type"] for e in outputs_of([wrapping], "conversation-events")] == ["agent_ended"]
    ended = assign(wrapping.state, "assignment_ended", at=T0 + 4 * MINUTE)
    assert [(e["type"], e.get("wrapup_code")) for e in outputs_of([ended], "conversation-events")] == [
        ("wrapped_up", "card-blocked"), ("interaction_ended", "card-blocked")]   # agent_ended said once


def test_a_customer_writing_during_the_wrap_up_asks_routing_again():
    state = assign(message(None, 1, T0).state).state
    state = assign(state, "assignment_wrapup_started", at=T0 + 3 * MINUTE).state
    [request] = outputs_of([message(state, 2, T0 + 4 * MINUTE)], "routing-requests")
    assert (request["reason"], request["preferred_agent_id"]) == ("no_agent", "agent-ana")


def test_the_wrap_up_of_an_agent_who_transferred_does_not_end_the_interaction():
    state = assign(message(None, 1, T0).state).state
    state = assign(state, "assignment_ended", at=T0 + 2 * MINUTE, type="transferred", assignment_id="as-t",
                   wrapup_code=None).state                                   # waiting for the next agent
    late = assign(state, "assignment_ended", at=T0 + 3 * MINUTE)             # the transferring agent's wrap-up
    assert "interaction_ended" not in [e["type"] for e in outputs_of([late], "conversation-events")]
