"""LINE reply tokens on the thread: kept with their expiry, taken once by a reply inside the validity."""
import pytest

from channels.registry import rules
from schemas import Codec
from streams.conversations.assignments import on_assignment
from streams.conversations.outbound import on_outbound
from streams.conversations.samples import on_thread
from streams.conversations.state import StateCodec
from streams.conversations.threading import on_inbound
from switchboard.accounts import load_accounts
from tests.streams.conversations.factory import ACCOUNTS, HOUR, T0, event, inbound, outputs_of

LINE = "acme:line:U4af4980629a1b2c3d4e5f60718293a4b:U8f7e6d5c4b3a29180716f5e4d3c2b1a0"
TOKEN = "b60d432864f44d079f6d8efe86cf404b"
RECEIVED = T0                  # received_at (numbered sets it to the message time): the validity runs from it
ACCOUNT = load_accounts(ACCOUNTS).get("line", "U4af4980629a1b2c3d4e5f60718293a4b")
SECOND = 1000


def customer_wrote(state=None, n=1, at=T0, **overrides) -> dict:
    msg = inbound(n, at, name="inbound_line_text", **overrides)
    state = on_inbound(state, msg, partition=0, window_ms=72 * HOUR, ttl_ms=192 * HOUR).state
    connected = event("assignment_connected", assignment_id=f"as-{n}", agent_id="agent-ana", occurred_at=at + 1,
                      thread_key=LINE, conversation_id=state["conversation"]["conversation_id"])
    return on_assignment(state, connected, partition=0, ttl_ms=192 * HOUR).state


def reply(state, n, now):
    out = on_thread(event("outbound_reply", outbound_id=f"out-{n}", content=[{"type": "text", "text": f"Reply {n}"}]),
                    LINE) | {"recipient_id": LINE.rsplit(":", 1)[1]}
    step = on_outbound(state, out, account=ACCOUNT, rules=rules("line"), now=now, partition=0,
                       window_ms=72 * HOUR, ttl_ms=192 * HOUR)
    # A free reply goes straight to delivery; a push to the account stage (the monthly quota).
    [approved] = outputs_of([step], "outbound-approved") or outputs_of([step], "outbound-checks")
    assert bool(approved.get("reply_token")) == bool(outputs_of([step], "outbound-approved"))
    return step.state, approved.get("reply_token")


@pytest.mark.parametrize("after,token", [
    (59 * SECOND, TOKEN),       # inside LINE's minute: a free reply
    (60 * SECOND, TOKEN),
    (60 * SECOND + 1, None),    # past it: push (counted against the monthly quota)
])
def test_a_reply_inside_the_tokens_validity_carries_it(after, token):
    assert reply(customer_wrote(), 1, RECEIVED + after)[1] == token


def test_the_token_is_single_use_and_a_new_message_brings_a_new_one():
    state, first = reply(customer_wrote(), 1, RECEIVED + SECOND)
    state, second = reply(state, 2, RECEIVED + 2 * SECOND)
    assert (first, second) == (TOKEN, None) and state["reply_token"]["used_by"] == "out-1"
    state = customer_wrote(state, 2, T0 + HOUR, reply_token="f0e1d2c3b4a5968778695a4b3c2d1e0f")
    assert reply(state, 3, T0 + HOUR + SECOND)[1] == "f0e1d2c3b4a5968778695a4b3c2d1e0f"


def test_a_late_event_does_not_replace_a_newer_token():
    state = customer_wrote(None, 1, T0 + HOUR, received_at=T0 + HOUR, reply_token="newer")
    state = customer_wrote(state, 2, T0, received_at=T0, reply_token="older")
    assert state["reply_token"]["token"] == "newer"


def test_the_token_survives_a_restart_as_the_tables_value():
    states = StateCodec(Codec())
    state, _ = reply(customer_wrote(), 1, RECEIVED + SECOND)
    assert states.loads(states.dumps(state))["reply_token"] == {"token": TOKEN, "expires_at": RECEIVED + 60 * SECOND,
                                                                "used_by": "out-1"}
