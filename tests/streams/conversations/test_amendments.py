"""Quotes, forwards, edits and unsends: carried into the conversation events and the agent's feed;
an edit or unsend never acts as a new customer message (no start, no reopen, no window, no routing)."""
import json
from pathlib import Path

import pytest

from schemas import Codec
from streams.conversations.config import ThreadingConfig
from streams.conversations.dispatch import apply
from streams.records import millis
from switchboard.accounts import load_accounts

from .factory import ACCOUNTS, HOUR, event

NORMALIZED = Path(__file__).resolve().parents[2] / "fixtures" / "normalized"
CONFIG = ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, 192 * HOUR)
CODEC = Codec()
# (the customer's message, then their edit or unsend of it), from the content helper's fixtures
AMENDED = [("whatsapp/reply", "whatsapp/edit"), ("whatsapp/reply", "whatsapp/revoke"),
           ("messenger/reply", "messenger/edit"), ("line/quote", "line/unsend")]


def normalized(name: str) -> dict:
    """The edge's inbound-message for a webhook fixture, as the processor decodes it (every v2 field)."""
    [message] = json.loads((NORMALIZED / f"{name}.json").read_text())["messages"]
    message.setdefault("received_at", message["occurred_at"])   # the edge stamps arrival
    return CODEC.decode(CODEC.encode("inbound-message", message), "inbound-message")


def step(source, state, value, at=None):
    at = at if at is not None else millis(value.get("occurred_at") or value.get("created_at") or 0)
    return apply(source, state, value, partition=0, record_ms=at, config=CONFIG)


def of(result, topic: str) -> list[dict]:
    return [o.value for o in result.outputs if o.topic == topic]


def connected(message: dict) -> dict:
    """The thread after `message`, with agent-ana connected to its conversation."""
    state = step("inbound-messages", None, message).state
    conv = state["conversation"]
    assign = event("assignment_connected", conversation_id=conv["conversation_id"], thread_key=message["thread_key"],
                   occurred_at=millis(message["occurred_at"]) + 1000)
    return step("assignments", state, assign).state


def test_a_quoted_reply_and_a_forward_carry_their_marks_to_the_conversation_and_the_agent():
    reply = normalized("whatsapp/reply")
    earlier = reply | {"event_id": "in-earlier", "platform_message_id": "wamid.earlier", "reply_to_message_id": None}
    result = step("inbound-messages", connected(earlier), reply)
    [added] = of(result, "conversation-events")
    assert (added["type"], added["kind"], added["platform_message_id"], added["reply_to_message_id"]) == (
        "message_added", "message", reply["platform_message_id"], reply["reply_to_message_id"])
    message, _policy = of(result, "agent-notifications")
    assert (message["type"], message["kind"], message["reply_to_message_id"], message["forwarded"]) == (
        "message", "message", reply["reply_to_message_id"], False)
    forward = normalized("whatsapp/forwarded")
    again = forward | {"event_id": "in-again", "platform_message_id": "wamid.again"}
    pushed = of(step("inbound-messages", connected(forward), again), "agent-notifications")[0]
    assert (pushed["forwarded"], pushed["frequently_forwarded"]) == (True, True)


@pytest.mark.parametrize(("original", "amendment"), AMENDED)
def test_an_edit_or_unsend_is_added_to_the_conversation_and_pushed_but_nothing_else_moves(original, amendment):
    before, change = connected(normalized(original)), normalized(amendment)
    result = step("inbound-messages", before, change)
    [added] = of(result, "conversation-events")
    conv = before["conversation"]
    expected = "message_edited" if change["kind"] == "edit" else "message_unsent"
    assert (added["type"], added["conversation_id"], added["sequence"]) == (
        expected, conv["conversation_id"], conv["sequence"] + 1)
    assert added["target_message_id"] == normalized(original)["platform_message_id"] == change["target_message_id"]
    assert added["text"] == change["text"] and added["message_id"] == change["event_id"]
    [pushed] = of(result, "agent-notifications")   # no policy view: the window did not change
    assert (pushed["type"], pushed["kind"], pushed["target_message_id"], pushed["agent_id"]) == (
        "message", change["kind"], change["target_message_id"], "agent-ana")
    assert of(result, "routing-requests") == [] and of(result, "identity-claims") == []
    after = result.state
    assert after["last_inbound_at"] == before["last_inbound_at"]
    assert after["conversation"]["last_activity_at"] == conv["last_activity_at"]
    assert after["conversation"]["history"] == conv["history"]
    assert step("inbound-messages", after, change).duplicate   # a redelivered edit is dropped


def test_an_edit_does_not_reopen_the_24_hour_window():
    original = normalized("whatsapp/reply")
    at = millis(original["occurred_at"])
    edit = normalized("whatsapp/edit") | {"occurred_at": at + 23 * HOUR}
    edited = step("inbound-messages", connected(original), edit)
    reply = event("outbound_reply", outbound_id="out-after-edit", thread_key=original["thread_key"])
    late = step("outbound-messages", edited.state, reply, at + 25 * HOUR)
    [refused] = of(late, "outbound-rejected")
    assert refused["rule"] == "window.whatsapp_24h"


def test_an_unsend_after_the_close_goes_to_the_closed_conversation_and_does_not_reopen_it():
    original = normalized("line/quote")
    state = step("inbound-messages", None, original).state
    conv = state["conversation"]
    timeout = {"tenant_id": "acme", "thread_key": original["thread_key"], "kind": "expired",
               "conversation_id": conv["conversation_id"], "last_activity_at": conv["last_activity_at"],
               "checked_at": conv["last_activity_at"] + 73 * HOUR}
    closed = step("conversation-timeouts", state, timeout).state
    result = step("inbound-messages", closed, normalized("line/unsend"))
    [unsent] = of(result, "conversation-events")
    assert (unsent["type"], unsent["conversation_id"]) == ("message_unsent", conv["conversation_id"])
    assert result.state["conversation"] is None and of(result, "routing-requests") == []
    assert of(result, "agent-notifications") == []


def test_an_edit_on_a_thread_never_seen_starts_nothing():
    result = step("inbound-messages", None, normalized("messenger/edit"))
    assert result.outputs == [] and result.state["conversation"] is None
