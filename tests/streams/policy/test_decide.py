"""The outbound policy: windows per channel, templates, anti-spam, content capabilities."""
import pytest

from channels.registry import rules
from streams.conversations.assignments import on_assignment
from streams.conversations.outbound import on_outbound
from streams.conversations.samples import on_thread
from streams.conversations.threading import on_inbound
from streams.policy.decide import Approved, Rejected, decide
from switchboard.accounts import load_accounts
from tests.streams.conversations.factory import ACCOUNTS, HOUR, MINUTE, T0, event, inbound, outputs_of

ACCOUNTS_ = load_accounts(ACCOUNTS)
WINDOW, TTL = 72 * HOUR, 192 * HOUR
THREADS = {"whatsapp": "acme:whatsapp:109876543210987:14155550123",
           "messenger": "acme:messenger:104729385610293:6523409871234567",
           "messenger 24+1": "acme:messenger:104729385610294:6523409871234567",
           "messenger human_agent": "acme:messenger:104729385610295:6523409871234567",
           "x": "acme:x:1466859271035789312:987654321012345678",
           "line": "acme:line:U4af4980629a1b2c3d4e5f60718293a4b:U8f7e6d5c4b3a29180716f5e4d3c2b1a0",
           "web": "acme:web:acme-website:session-1"}


def thread(where: str, last_inbound: int | None = T0, agent: str | None = "agent-ana") -> dict | None:
    """The state of a thread whose customer last wrote at `last_inbound` (None: never), `agent` connected."""
    if last_inbound is None:
        return None
    msg = on_thread(inbound(1, last_inbound), THREADS[where])
    state = on_inbound(None, msg, partition=0, window_ms=WINDOW, ttl_ms=TTL).state
    return connect(state, agent, last_inbound + 1) if agent else state


def connect(state: dict, agent: str, at: int) -> dict:
    """The state once routing connected `agent` to the open conversation."""
    assignment = event("assignment_connected", assignment_id=f"as-{agent}-{at}", agent_id=agent, occurred_at=at,
                       thread_key=state["thread_key"], tenant_id=state["tenant_id"],
                       conversation_id=state["conversation"]["conversation_id"])
    return on_assignment(state, assignment, partition=0, ttl_ms=TTL).state


def reply(where: str, n: int = 1, **overrides) -> dict:
    """Agent Ana's reply on the thread, to its customer."""
    customer = THREADS[where].rsplit(":", 1)[1]
    return on_thread(event("outbound_reply", outbound_id=f"out-{n}"), THREADS[where]) | {"recipient_id": customer} | overrides


def verdict(where: str, since: int, state=None, **overrides):
    out = reply(where, **overrides)
    state = state if state is not None else thread(where)
    account = ACCOUNTS_.get(out["channel"], out["channel_account_id"])
    return decide(out, state, account, rules(out["channel"]), T0 + since)


def send(state, where, n, now, **overrides):
    out = reply(where, n, **overrides)
    return on_outbound(state, out, account=ACCOUNTS_.get(out["channel"], out["channel_account_id"]),
                       rules=rules(out["channel"]), now=now, partition=0, window_ms=WINDOW, ttl_ms=TTL)


@pytest.mark.parametrize("where,since,expected", [
    ("whatsapp", 23 * HOUR, Approved()),
    ("whatsapp", 25 * HOUR, "window.whatsapp_24h"),
    ("messenger", 23 * HOUR, Approved()),
    ("messenger", 25 * HOUR, "window.messenger"),
    ("messenger human_agent", 6 * 24 * HOUR, Approved(messaging_tag="HUMAN_AGENT", after_window=True)),
    ("messenger human_agent", 8 * 24 * HOUR, "window.messenger"),
    ("messenger 24+1", 30 * HOUR, Approved(after_window=True)),
    ("x", 23 * HOUR, Approved()),
    ("x", 25 * HOUR, "window.x_24h"),
    ("line", 30 * 24 * HOUR, Approved()),          # push to a follower: no window
    ("web", 30 * 24 * HOUR, Approved()),
])
def test_reply_windows(where, since, expected):
    result = verdict(where, since)
    assert result == expected if isinstance(expected, Approved) else result.rule == expected


@pytest.mark.parametrize("where", ["whatsapp", "messenger", "x", "line", "web"])
def test_never_an_unsolicited_message(where):
    out = reply(where, agent_id="bot-reminders")   # a system sender: nobody is connected on a new thread
    result = decide(out, None, ACCOUNTS_.get(out["channel"], out["channel_account_id"]), rules(out["channel"]), T0,
                    frozenset({"bot-reminders"}))
    assert isinstance(result, Rejected) and result.rule == "window.unsolicited"


def test_a_whatsapp_template_may_open_a_conversation_at_any_time_to_a_customer_who_opted_in():
    template = event("outbound_template", agent_id="bot-reminders", conversation_id=None)
    account, system = ACCOUNTS_.get("whatsapp", template["channel_account_id"]), frozenset({"bot-reminders"})
    opted_in = {"consent": {"opted_in_at": T0 - HOUR, "opted_in_source": "api", "opted_out_at": None,
                            "opted_out_source": None}}
    assert decide(template, thread("whatsapp") | opted_in, account, rules("whatsapp"), T0 + 100 * HOUR, system) \
        == Approved()
    assert decide(template, None, account, rules("whatsapp"), T0, system).rule == "optin.required"


@pytest.mark.parametrize("where,item,rule", [
    ("x", {"type": "sticker", "sticker_id": "1"}, "capability.sticker"),
    ("messenger", {"type": "text", "text": "a" * 2001}, "limit.text_length"),
    ("messenger", {"type": "template", "payload": "x"}, "capability.template"),
])
def test_content_the_channel_cannot_carry_is_rejected(where, item, rule):
    result = verdict(where, MINUTE, content=[item])
    assert isinstance(result, Rejected) and result.rule == rule and result.reason


def test_an_unknown_account_is_rejected():
    result = verdict("whatsapp", MINUTE, channel_account_id="000")
    assert result.rule == "account.unknown"


def test_x_allows_five_replies_per_inbound_dm():
    state, results = thread("x"), []
    for n in range(6):
        step = send(state, "x", n, T0 + MINUTE * (n + 1), content=[{"type": "text", "text": f"Reply number {n}"}])
        state, results = step.state, results + [step.outputs[-1].topic]
    assert results == ["outbound-checks"] * 5 + ["outbound-rejected"]   # X: the daily cap is the account stage's
    state = on_inbound(state, on_thread(inbound(9, T0 + HOUR), THREADS["x"]), partition=0, window_ms=WINDOW, ttl_ms=TTL).state
    assert send(state, "x", 7, T0 + 2 * HOUR, content=[{"type": "text", "text": "One more"}]).outputs[-1].topic \
        == "outbound-checks"


def test_x_rejects_an_identical_repeat_to_the_same_person_as_an_outbound_rejection():
    first = send(thread("x"), "x", 1, T0 + MINUTE)
    again = send(first.state, "x", 2, T0 + 2 * MINUTE)
    [rejected] = outputs_of([again], "outbound-rejected")
    assert (rejected["rule"], rejected["outbound_id"]) == ("spam.x_identical", "out-2")
    assert again.state["outbound_since_inbound"] == 1   # a rejection counts for nothing


def test_messenger_24_plus_1_allows_exactly_one_message_after_the_window():
    state = thread("messenger 24+1")
    first = send(state, "messenger 24+1", 1, T0 + 30 * HOUR)
    second = send(first.state, "messenger 24+1", 2, T0 + 31 * HOUR)
    assert [first.outputs[-1].topic, second.outputs[-1].topic] == ["outbound-approved", "outbound-rejected"]


def test_human_agent_tag_is_set_on_the_approved_message():
    step = send(thread("messenger human_agent"), "messenger human_agent", 1, T0 + 3 * 24 * HOUR)
    [approved] = outputs_of([step], "outbound-approved")
    assert approved["messaging_tag"] == "HUMAN_AGENT"


def test_line_push_to_an_unfollowed_user_is_rejected():
    state = thread("line")
    unfollow = on_thread(inbound(2, T0 + MINUTE, name="inbound_line_unfollow"), THREADS["line"])
    state = on_inbound(state, unfollow, partition=0, window_ms=WINDOW, ttl_ms=TTL).state
    assert verdict("line", HOUR, state=state).rule == "window.line_unfollowed"


def test_an_approved_reply_is_added_to_the_conversation_and_counts_as_activity():
    state = thread("whatsapp")
    step = send(state, "whatsapp", 1, T0 + 23 * HOUR)
    [added] = outputs_of([step], "conversation-events")
    assert (added["type"], added["direction"], added["message_id"], added["agent_id"]) == (
        "message_added", "outbound", "out-1", "agent-ana")
    [approved] = outputs_of([step], "outbound-checks")   # WhatsApp: the account stage decides last
    assert approved["conversation_id"] == state["conversation"]["conversation_id"]
    later = on_inbound(step.state, inbound(2, T0 + 94 * HOUR), partition=0, window_ms=WINDOW, ttl_ms=TTL)
    assert outputs_of([later], "conversation-events")[0]["conversation_id"] == approved["conversation_id"]


def test_a_rejection_is_readable_and_keyed_by_thread():
    step = send(thread("whatsapp"), "whatsapp", 1, T0 + 30 * HOUR)
    [output] = step.outputs
    assert output.key == THREADS["whatsapp"] and output.value["rule"] == "window.whatsapp_24h"
    assert "template" in output.value["reason"] and output.value["rejected_at"] == T0 + 30 * HOUR


def test_a_redelivered_outbound_request_is_decided_once():
    first = send(thread("whatsapp"), "whatsapp", 1, T0 + MINUTE)
    assert send(first.state, "whatsapp", 1, T0 + 2 * MINUTE).duplicate
