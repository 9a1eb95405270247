"""The thread policy view (streams.policy.view.thread_view), its publication only when it changes, the
window_closed fact from the expiry scan, and what failed / held receipts tell the agent."""
import pytest

from channels.registry import rules
from streams.conversations import views
from streams.conversations.config import ThreadingConfig
from streams.conversations.dispatch import apply
from streams.conversations.expiry import finding
from streams.conversations.samples import on_thread
from streams.policy.view import thread_view
from switchboard.accounts import load_accounts

from .factory import ACCOUNTS, HOUR, MINUTE, T0, event, inbound, settled

DAY = 24 * HOUR
CONFIG = ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, 192 * HOUR)
WHATSAPP = "acme:whatsapp:109876543210987:14155550123"
MESSENGER = "acme:messenger:104729385610295:6523409871234567"
LINE = "acme:line:U4af4980629a1b2c3d4e5f60718293a4b:U8f7e6d5c4b3a29180716f5e4d3c2b1a0"


def step(source, state, value, at=T0):
    return apply(source, state, value, partition=0, record_ms=at, config=CONFIG)


def of(result, topic):
    return [o.value for o in result.outputs if o.topic == topic]


def wrote(thread=WHATSAPP, at=T0, name="inbound_whatsapp", **overrides) -> dict:
    state = step("inbound-messages", None, on_thread(inbound(1, at, name=name, **overrides), thread), at).state
    connected = event("assignment_connected", occurred_at=at + 1, thread_key=thread,
                      conversation_id=state["conversation"]["conversation_id"])
    return step("assignments", state, connected, at + 1).state


def view(state, now):
    return thread_view(state, CONFIG.account_of(state["thread_key"]), rules(state["channel"]), now)


@pytest.mark.parametrize("thread,name,now,expected", [
    (WHATSAPP, "inbound_whatsapp", T0 + HOUR, {"window_open_until": T0 + DAY, "template_only": False,
                                               "reply_deadline_at": T0 + DAY, "portfolio_key": "acme:main"}),
    (WHATSAPP, "inbound_whatsapp", T0 + DAY + MINUTE, {"template_only": True, "blocked": None, "tag_required": None}),
    (MESSENGER, "inbound_whatsapp", T0 + 2 * DAY, {"tag_required": "HUMAN_AGENT", "tag_until": T0 + 7 * DAY,
                                                   "template_only": False}),
    (MESSENGER, "inbound_whatsapp", T0 + HOUR, {"tag_required": None, "tag_until": None}),
    (LINE, "inbound_line_text", T0 + 30_000, {"reply_token_until": T0 + 60_000, "window_open_until": None,
                                              "reply_deadline_at": None}),
    (LINE, "inbound_line_text", T0 + 61_000, {"reply_token_until": None}),
])
def test_the_thread_view(thread, name, now, expected):
    found = view(wrote(thread, name=name, received_at=T0), now)
    assert {k: found[k] for k in expected} == expected
    assert found["thread_key"] == thread and found["conversation_id"] and not found["opted_out"]


def test_consents_show_in_the_view_and_an_answered_customer_has_no_deadline():
    state = step("consents", wrote(), event("consent_api_opt_in", occurred_at=T0 + 2), T0 + 2).state
    assert (view(state, T0 + 3)["opted_in"], view(state, T0 + 3)["opted_out"]) == (True, False)
    answered = state | {"outbound_since_inbound": 1}
    assert view(answered, T0 + 3)["reply_deadline_at"] is None


def test_the_view_is_published_when_it_changes_and_only_then():
    first = step("inbound-messages", None, on_thread(inbound(1, T0), WHATSAPP), T0)
    [published] = of(first, "policy-views")
    assert (published["kind"], published["key"], published["window_open_until"]) == ("thread", f"thread:{WHATSAPP}",
                                                                                     T0 + DAY)
    unchanged = views.publish(first.state, T0 + 5, account=CONFIG.account_of(WHATSAPP), rules=rules("whatsapp"))
    assert unchanged == []
    later = step("inbound-messages", first.state, on_thread(inbound(2, T0 + HOUR), WHATSAPP), T0 + HOUR)
    assert [v["window_open_until"] for v in of(later, "policy-views")] == [T0 + HOUR + DAY]


def test_a_waiting_customers_window_closing_is_announced_once():
    state = settled(step("inbound-messages", None, on_thread(inbound(1, T0), WHATSAPP), T0)).state   # nobody answered
    assert finding(state, T0 + DAY, window_ms=72 * HOUR, ttl_ms=192 * HOUR) is None
    timeout = finding(state, T0 + DAY + 30_000, window_ms=72 * HOUR, ttl_ms=192 * HOUR)
    assert timeout["kind"] == "window_closed"
    closed = step("conversation-timeouts", state, timeout, T0 + DAY + 30_000)
    [fact] = of(closed, "conversation-events")
    assert (fact["type"], fact["window_rule"], fact["occurred_at"]) == ("window_closed", "window.whatsapp_24h", T0 + DAY)
    assert [v["template_only"] for v in of(closed, "policy-views")] == [True]
    assert finding(closed.state, T0 + DAY + 60_000, window_ms=72 * HOUR, ttl_ms=192 * HOUR) is None
    assert step("conversation-timeouts", closed.state, timeout, T0 + DAY + 60_000).duplicate


def test_an_answered_customer_or_a_channel_without_window_has_no_window_closing():
    answered = wrote() | {"outbound_since_inbound": 1}
    line = step("inbound-messages", None, on_thread(inbound(1, T0, name="inbound_line_text"), LINE), T0).state
    assert [finding(s, T0 + DAY + MINUTE, window_ms=72 * HOUR, ttl_ms=192 * HOUR) for s in (answered, line)] == [None, None]


def test_an_ad_referral_opens_the_free_entry_point_window_on_whatsapp_messages():
    ad = {"referral_source": "ad", "referral_source_id": "120210000000000001"}
    state = wrote(attributes=ad)
    reply = on_thread(event("outbound_reply", outbound_id="out-free"), WHATSAPP)
    [checked] = of(step("outbound-messages", state, reply, T0 + MINUTE), "outbound-checks")
    assert (checked["free_until"], checked["window_open_until"], checked["business_initiated"]) == (
        T0 + 72 * HOUR, T0 + DAY, False)


@pytest.mark.parametrize("fixture,rule,reason", [
    ("delivery_failed_account_stage", "template.paused", "template card_delivery_update (en_US) is PAUSED"),
    ("delivery_held", "held", "held: tier.limit: 250 new customers in the last 24 h (TIER_250) (expected to go by"),
])
def test_failed_and_held_receipts_tell_the_agent_why(fixture, rule, reason):
    state = wrote()
    sent = step("outbound-messages", state, on_thread(event("outbound_reply", outbound_id="out-1"), WHATSAPP), T0 + 2)
    [told] = [e for e in of(step("delivery-status", sent.state, event(fixture)), "agent-notifications")]
    assert (told["type"], told["rule"]) == ("receipt", rule) and told["reason"].startswith(reason)
