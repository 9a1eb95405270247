"""Re-skilling from a later customer message (routing-request v5 message_added): keyword rules and a newly
detected language change a waiting conversation's queue and requirements, audited as `reclassified`."""
from streams.routing.acd import apply_request
from streams.routing.snapshot import changes, restore

from .drive import T0, Driver, request, tenant_config

S = 1000


def added(conv: str, at: int, text: str, **fields) -> dict:
    """A message_added request: the customer's new text, the conversation's first message and history."""
    history = [{"occurred_at": T0, "direction": "inbound", "channel": "whatsapp", "text": "Hello there"},
               {"occurred_at": at, "direction": "inbound", "channel": "whatsapp", "text": text}]
    return {"request_id": f"rr-{conv}-added-{at}", "reason": "message_added", "message_text": text,
            "history": history} | fields


def waiting(d: Driver, conv: str = "c1") -> None:
    """A conversation that waits in `general` (nobody on queue)."""
    d.request(conv, T0)
    assert d.state.conversations[conv].queue_id == "general"


def test_a_later_message_that_matches_a_rule_moves_the_waiting_conversation_and_routes_it():
    d = Driver()
    waiting(d)
    d.on_queue("a3", T0 + 5 * S)                           # cards 1: not enough for fraud (cards 3)
    d.on_queue("a1", T0 + 6 * S)
    assert d.offers() == [("c1", "a3")]                     # general: anyone
    d.act("a3", "decline", T0 + 7 * S, conversation_id="c1", offer_id=d.offer_of("c1")["offer_id"])
    d.on_queue("a1", T0 + 8 * S, presence="away")           # nobody eligible while it changes
    d.request("c1", T0 + 10 * S, **added("c1", T0 + 10 * S, "and my card was stolen yesterday"))
    conv = d.state.conversations["c1"]
    assert (conv.queue_id, conv.skills, conv.priority, conv.rule) == ("cards", {"cards": 3}, 5, "fraud")
    assert "c1" in d.state.waiting["cards"] and "c1" not in d.state.waiting["general"]
    assert conv.entered_at == T0                            # its place: the original entry time
    [audit] = d.of("routing-decision", "reclassified")
    assert audit["queue_id"] == "cards" and audit["rule"] == "fraud" and audit["matched_words"] == ["stolen"]
    assert "queue general -> cards" in audit["reason"] and "priority 0 -> 5" in audit["reason"]
    d.on_queue("a1", T0 + 11 * S)
    assert d.offers()[-1] == ("c1", "a1")                   # cards 5: eligible in the new queue


def test_a_newly_detected_language_sets_the_language_requirement():
    config = tenant_config(agents={"en1": {"languages": ["en"], "queues": ["general"]},
                                   "es1": {"languages": ["es", "en"], "queues": ["general"]}})
    d = Driver(config)
    waiting(d)
    d.request("c1", T0 + 5 * S, **added("c1", T0 + 5 * S, "me pueden ayudar por favor", language="es",
                                        language_confidence=0.93))
    assert d.state.conversations["c1"].language == "es"
    [audit] = d.of("routing-decision", "reclassified")
    assert audit["language"] == "es" and "language None -> es" in audit["reason"]
    d.on_queue("en1", T0 + 6 * S)
    assert d.offers() == []                                  # does not speak es
    d.on_queue("es1", T0 + 7 * S)
    assert d.offers() == [("c1", "es1")]


def test_nothing_changes_when_the_rules_give_the_same_answer_and_a_rule_keeps_its_language():
    config = tenant_config(rules=[{"name": "fr-cards", "when": {"keywords": ["carte"]},
                                   "then": {"queue": "cards", "language": "fr"}}])
    d = Driver(config)
    d.request("c1", T0, first_message_text="ma carte ne marche pas")
    before = d.state.conversations["c1"].language
    d.request("c1", T0 + 5 * S, **added("c1", T0 + 5 * S, "my card does not work", language="en",
                                        first_message_text="ma carte ne marche pas"))
    assert before == "fr" and d.state.conversations["c1"].language == "fr"
    assert d.of("routing-decision", "reclassified") == [] and d.of("routing-decision", "ignored") == []


def test_an_alerting_conversation_keeps_its_offer_and_the_audit_says_what_was_not_applied():
    d = Driver()
    waiting(d)
    d.on_queue("a3", T0 + 5 * S)
    offer = d.offer_of("c1")
    d.request("c1", T0 + 6 * S, **added("c1", T0 + 6 * S, "my card was stolen"))
    conv = d.state.conversations["c1"]
    assert (conv.status, conv.queue_id, conv.offer_id) == ("alerting", "general", offer["offer_id"])
    [ignored] = d.of("routing-decision", "ignored")
    assert "not re-skilled (queue general -> cards" in ignored["reason"]


def test_a_transferred_conversation_keeps_the_queue_the_agent_chose():
    d = Driver()
    waiting(d)
    d.state.conversations["c1"].transfer_from = "a2"
    d.request("c1", T0 + 5 * S, **added("c1", T0 + 5 * S, "my card was stolen"))
    assert d.state.conversations["c1"].queue_id == "general" and d.of("routing-decision", "reclassified") == []


def test_a_replayed_message_added_changes_nothing_and_the_reskill_survives_a_restart():
    d = Driver()
    waiting(d)
    record = request("c1", T0 + 5 * S, d.state.tenant, **added("c1", T0 + 5 * S, "invoice INV-1 is wrong"))
    apply_request(d.state, record)
    assert d.state.conversations["c1"].queue_id == "billing"
    assert apply_request(d.state, record) == []
    entries = [(k.split(":", 1)[1], body) for k, _, body in changes(d.state) if body is not None]
    again = restore(d.state.config, entries)
    assert again.conversations["c1"].queue_id == "billing" and "c1" in again.waiting["billing"]


def test_an_update_for_a_conversation_routing_does_not_hold_is_ignored():
    d = Driver()
    assert d.request("c9", T0, **added("c9", T0, "my card was stolen")) == []
    assert "c9" not in d.state.conversations
