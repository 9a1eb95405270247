"""The connected agent's feed: messages with content, receipts, refused outbounds, the policy view."""
from channels.registry import rules
from streams.conversations.config import ThreadingConfig
from streams.conversations.dispatch import apply
from switchboard.accounts import load_accounts

from .factory import ACCOUNTS, HOUR, MINUTE, T0, event, inbound

CONFIG = ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, 192 * HOUR)
THREAD = "acme:whatsapp:109876543210987:14155550123"


def step(source, state, value, at=T0):
    return apply(source, state, value, partition=0, record_ms=at, config=CONFIG)


def feed(result) -> list[dict]:
    return [o.value for o in result.outputs if o.topic == "agent-notifications"]


def connected() -> dict:
    state = step("inbound-messages", None, inbound(1, T0)).state
    conv = state["conversation"]["conversation_id"]
    return step("assignments", state, event("assignment_connected", conversation_id=conv, occurred_at=T0 + 1)).state


def test_an_inbound_message_reaches_the_connected_agent_with_its_content_and_the_policy_view():
    result = step("inbound-messages", connected(), inbound(2, T0 + MINUTE))
    message, policy = feed(result)
    assert (message["type"], message["agent_id"], message["direction"], message["message_id"]) == (
        "message", "agent-ana", "inbound", inbound(2)["event_id"])
    assert message["content"] == inbound(2)["content"] and message["channel"] == "whatsapp"
    assert policy["type"] == "policy" and policy["policy"] == {
        "window_open_until": T0 + MINUTE + 24 * HOUR, "template_only": False, "replies_left": None, "blocked": None,
        "reply_token_until": None, "tag_required": None, "tag_until": None, "opted_out": False,
        "reply_deadline_at": T0 + MINUTE + 24 * HOUR}


def test_no_agent_connected_means_nobody_is_told():
    assert feed(step("inbound-messages", None, inbound(1, T0))) == []


def test_an_approved_reply_and_its_read_receipt_reach_the_agent():
    reply = event("outbound_reply", outbound_id="out-9")
    approved = step("outbound-messages", connected(), reply, T0 + MINUTE)
    message, policy = feed(approved)
    assert (message["direction"], message["message_id"], message["text"]) == ("outbound", "out-9", "Your card is blocked ✅")
    status = {"event_id": "ds-1", "tenant_id": "acme", "channel": "whatsapp", "channel_account_id": "109876543210987",
              "thread_key": THREAD, "status": "read", "outbound_id": "out-9", "occurred_at": T0 + 2 * MINUTE}
    [receipt] = feed(step("delivery-status", approved.state, status))
    assert (receipt["type"], receipt["message_id"], receipt["status"], receipt["occurred_at"]) == (
        "receipt", "out-9", "read", T0 + 2 * MINUTE)
    assert feed(step("delivery-status", approved.state, status | {"outbound_id": "not-ours"})) == []


def test_a_refused_reply_tells_its_agent_the_rule_and_the_reason():
    reply = event("outbound_reply", outbound_id="out-late")
    [refused] = feed(step("outbound-messages", connected(), reply, T0 + 30 * HOUR))
    assert (refused["type"], refused["agent_id"], refused["rule"]) == ("rejected", "agent-ana", "window.whatsapp_24h")
    assert "template" in refused["reason"]


def test_the_policy_view_after_the_window_is_template_only_on_whatsapp():
    from streams.policy.view import policy_view
    state = connected()
    account = CONFIG.account_of(THREAD)
    assert policy_view(state, account, rules("whatsapp"), T0 + 25 * HOUR)["template_only"] is True
    x_like = state | {"outbound_since_inbound": 3}
    assert policy_view(x_like, account, rules("x"), T0 + HOUR)["replies_left"] == 2


def test_the_agent_sees_the_reply_as_the_customer_gets_it_with_fallbacks_applied():
    reply = event("outbound_reply", outbound_id="out-qr") | {"content": [
        {"type": "text", "text": "Which card?"}, {"type": "quick_reply", "text": "Debit", "payload": "DEBIT"},
        {"type": "quick_reply", "text": "Credit", "payload": "CREDIT"}]}
    result = step("outbound-messages", connected(), reply, T0 + MINUTE)
    [approved] = [o.value for o in result.outputs if o.topic == "outbound-checks"]   # WhatsApp: account stage next
    message, _policy = feed(result)
    assert approved["attributes"]["fallbacks"] == "quick_reply:numbered_text"
    assert message["content"] == approved["content"] and all(i["type"] != "quick_reply" for i in message["content"])
    assert "1." in message["text"] and "Credit" in message["text"]
