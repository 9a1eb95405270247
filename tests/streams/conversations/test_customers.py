"""Details a customer writes become claims; a new conversation waits for identity's answer before it is
routed; a merge or split changes the thread's customer (customer-updates)."""
from streams.conversations.config import ThreadingConfig
from streams.conversations.dispatch import apply
from streams.conversations.expiry import IDENTITY_WAIT_MS, finding
from switchboard.accounts import load_accounts

from .factory import ACCOUNTS, HOUR, T0, inbound

CONFIG = ThreadingConfig(load_accounts(ACCOUNTS), 72 * HOUR, 192 * HOUR, merge_typed_details=lambda t: t == "acme")


def step(source, state, value, at=T0):
    return apply(source, state, value, partition=2, record_ms=at, config=CONFIG)


def of(result, topic):
    return [o.value for o in result.outputs if o.topic == topic]


def update(state, kind="settled", claim_id=None, customer=None, group=(), n=1):
    return {"update_id": f"u-{kind}-{n}", "tenant_id": "acme", "thread_key": state["thread_key"], "kind": kind,
            "customer_id": customer or state["customer_id"], "group": list(group) or [customer or state["customer_id"]],
            "event_id": f"ie-{n}", "claim_id": claim_id, "reason": "identity decided", "occurred_at": T0 + 100}


def test_an_email_and_a_phone_typed_on_messenger_are_claimed_with_the_message_as_provenance():
    msg = inbound(1, T0, name="inbound_messenger_details")
    claims = of(step("inbound-messages", None, msg), "identity-claims")
    assert [(c["detail_type"], c["detail_value"], c["source"], c["origin"]) for c in claims] == [
        ("email", "ana.ruiz@example.com", "customer_volunteered", "text"),
        ("phone", "34612345678", "customer_volunteered", "text")]   # the account's country: ES
    assert {c["message_id"] for c in claims} == {msg["event_id"]}
    assert all(c["auto_merge"] for c in claims)   # this tenant merges typed details (merge_typed_details)


def test_the_new_conversation_is_routed_when_identity_answered_its_last_claim():
    first = step("inbound-messages", None, inbound(1, T0, name="inbound_messenger_details"))
    assert of(first, "routing-requests") == []
    waiting = first.state["identity_waiting"]
    assert len(waiting) == 2
    half = step("customer-updates", first.state, update(first.state, claim_id=waiting[0]), T0 + 50)
    assert of(half, "routing-requests") == []
    merged = update(half.state, "merged", waiting[1], customer="cust-0-survivor", group=["cust-0-survivor", "x"], n=2)
    done = step("customer-updates", half.state, merged, T0 + 60)
    [request] = of(done, "routing-requests")
    assert request["reason"] == "new_conversation" and request["customer_id"] == "cust-0-survivor"
    assert request["related_customer_ids"] == ["cust-0-survivor", "x"]
    again = step("customer-updates", done.state, merged, T0 + 70)
    assert again.duplicate


def test_without_an_answer_the_expiry_scan_routes_it_after_the_identity_wait():
    first = step("inbound-messages", None, inbound(1, T0, name="inbound_messenger_details"))
    assert finding(first.state, T0 + IDENTITY_WAIT_MS, window_ms=72 * HOUR, ttl_ms=192 * HOUR) is None
    timeout = finding(first.state, T0 + IDENTITY_WAIT_MS + 1, window_ms=72 * HOUR, ttl_ms=192 * HOUR)
    assert timeout["kind"] == "identity_wait"
    [request] = of(step("conversation-timeouts", first.state, timeout, T0 + IDENTITY_WAIT_MS + 1), "routing-requests")
    assert request["reason"] == "new_conversation"


def test_a_merge_of_a_waiting_conversation_tells_routing_and_later_events_carry_the_group_customer():
    first = step("inbound-messages", None, inbound(1, T0, name="inbound_messenger_details"))
    routed = first.state
    for n, claim_id in enumerate(routed["identity_waiting"]):
        routed = step("customer-updates", routed, update(routed, claim_id=claim_id, n=n)).state
    changed = step("customer-updates", routed, update(routed, "merged", customer="cust-other", group=["cust-other",
                                                      routed["customer_id"]], n=9))
    [request] = of(changed, "routing-requests")
    assert (request["reason"], request["customer_id"]) == ("customer_changed", "cust-other")
    later = step("inbound-messages", changed.state, inbound(2, T0 + HOUR, name="inbound_messenger_details"))
    assert {e["customer_id"] for e in of(later, "conversation-events")} == {"cust-other"}
    split = step("customer-updates", later.state, update(later.state, "split", customer=first.state["customer_id"], n=10))
    assert split.state["customer_id"] == first.state["customer_id"] and split.state["customer_group"] == []


def test_whatsapp_says_the_customer_changed_number_and_the_new_number_is_claimed_as_theirs():
    notice = inbound(1, T0, name="inbound_whatsapp_number_changed")
    result = step("inbound-messages", None, notice)
    claims = [(c["detail_type"], c["detail_value"], c["source"], c["origin"]) for c in of(result, "identity-claims")]
    assert ("phone", "14155559876", "platform_verified", "number_change") in claims
    assert of(result, "conversation-events") == [] and of(result, "routing-requests") == []   # not a message


def test_a_second_message_while_identity_decides_asks_routing_nothing_and_rides_on_the_release():
    first = step("inbound-messages", None, inbound(1, T0, name="inbound_messenger_details"))
    again = step("inbound-messages", first.state, inbound(2, T0 + 1000, name="inbound_whatsapp",
                                                          thread_key=first.state["thread_key"]), T0 + 1000)
    assert of(again, "routing-requests") == []
    timeout = finding(again.state, T0 + IDENTITY_WAIT_MS + 1, window_ms=72 * HOUR, ttl_ms=192 * HOUR)
    [request] = of(step("conversation-timeouts", again.state, timeout, T0 + IDENTITY_WAIT_MS + 1), "routing-requests")
    assert request["reason"] == "new_conversation" and len(request["history"]) == 2
