"""A merged customer's last agent on any channel (routing-request v5 `related_customer_ids`)."""
from .drive import T0, Driver

S = 1000


def _served(d: Driver, conv: str, agent: str, customer: str, at: int) -> None:
    """`agent` answered and ended `conv` of `customer` (general queue: optional wrap-up)."""
    d.request(conv, at, customer_id=customer, related_customer_ids=[customer], preferred_agent_id=agent)
    d.accept(conv, at + S)
    d.act(agent, "end", at + 2 * S, conversation_id=conv)


def test_a_merged_customers_new_conversation_is_offered_first_to_the_agent_of_their_other_channel():
    d = Driver()
    for i, agent in enumerate(["a1", "a2", "a3"]):
        d.on_queue(agent, T0 + i)
    _served(d, "messenger-1", "a2", "cust-m", T0 + 10 * S)
    # WhatsApp's customer was merged with Messenger's: the thread's own last agent is unknown
    d.request("whatsapp-1", T0 + 60 * S, customer_id="cust-m", related_customer_ids=["cust-m", "cust-w"])
    assert d.offers()[-1] == ("whatsapp-1", "a2")
    assert d.of("agent-event", "offered")[-1]["reason"] == "last agent"


def test_an_unmerged_customer_is_routed_to_anyone():
    d = Driver()
    for i, agent in enumerate(["a1", "a2"]):
        d.on_queue(agent, T0 + i)
    _served(d, "messenger-1", "a2", "cust-m", T0 + 10 * S)
    d.request("whatsapp-1", T0 + 60 * S, customer_id="cust-w", related_customer_ids=["cust-w"])
    assert d.offers()[-1] == ("whatsapp-1", "a1")   # longest idle, not the other customer's agent


def test_a_merge_while_waiting_reserves_the_conversation_for_the_groups_last_agent():
    d = Driver()
    d.on_queue("a2", T0)
    _served(d, "messenger-1", "a2", "cust-m", T0 + 10 * S)
    for conv in ("x1", "x2"):   # a2 at capacity (2): the new conversation waits
        d.request(conv, T0 + 20 * S, preferred_agent_id="a2")
        d.accept(conv, T0 + 21 * S)
    d.request("whatsapp-1", T0 + 30 * S, customer_id="cust-w", related_customer_ids=["cust-w"])
    assert ("whatsapp-1", "a2") not in d.offers()
    d.request("whatsapp-1", T0 + 31 * S, reason="customer_changed", request_id="rr-merged",
              customer_id="cust-m", related_customer_ids=["cust-m", "cust-w"])
    assert "last agent (customer merged)" in d.of("routing-decision", "reserved")[-1]["reason"]
    d.act("a2", "end", T0 + 40 * S, conversation_id="x1")   # capacity frees: the reserved one goes to a2
    assert d.offers()[-1] == ("whatsapp-1", "a2")


def test_a_customer_changed_for_a_conversation_routing_no_longer_holds_is_ignored():
    d = Driver()
    d.request("gone", T0, reason="customer_changed", customer_id="c", related_customer_ids=["c", "d"])
    assert d.of("routing-decision") == [] and d.offers() == []
