"""The ACD's semantics on the pure core: selection, last agent, rings, offers, wrap-up, transfers."""
from streams.routing.acd import apply_action, apply_request
from streams.routing.model import NOT_RESPONDING
from streams.routing.snapshot import changes, restore

from .drive import T0, Driver, tenant_config

S = 1000  # one second in millis


def _busy(d: Driver, agent: str, convs: list[str], at: int) -> None:
    """Fill `agent` to capacity with accepted conversations routed only to them."""
    for conv in convs:
        d.request(conv, at, preferred_agent_id=agent)
        d.accept(conv, at)


def test_the_best_agent_wins_by_proficiency_then_fewest_active_then_longest_idle():
    d = Driver()
    for i, agent in enumerate(["a3", "a2", "a1"]):
        d.on_queue(agent, T0 + i)
    d.request("c1", T0 + 10, first_message_text="my card was stolen")  # needs cards >= 3
    assert d.offers()[-1] == ("c1", "a1")
    audit = d.of("routing-decision", "offered")[-1]
    assert audit["reason"].endswith("highest proficiency (5 > 3)")
    assert {c["agent_id"]: c["excluded"] for c in audit["candidates"]}["a3"] == "skill cards 1 < 3"
    d.request("c2", T0 + 20)  # general queue, no skills: a3 and a2 idle, a3 went on-queue first
    assert d.offers()[-1] == ("c2", "a3")
    assert d.of("routing-decision", "offered")[-1]["reason"].endswith("longest idle")
    d.request("c3", T0 + 30)  # a2 has nothing, a1 and a3 one each
    assert d.offers()[-1] == ("c3", "a2")
    assert d.of("routing-decision", "offered")[-1]["reason"].endswith("fewest active conversations (0 < 1)")


def test_last_agent_available_gets_the_offer_even_if_another_is_more_skilled():
    d = Driver()
    d.on_queue("a1", T0)
    d.on_queue("a3", T0)
    d.request("c1", T0 + S, first_message_text="card question", preferred_agent_id="a3")
    assert d.offers() == [("c1", "a3")]
    assert d.of("agent-event", "offered")[0]["reason"] == "last agent"


def test_last_agent_at_capacity_is_waited_for_then_another_agent_gets_it():
    d = Driver()
    d.on_queue("a1", T0)
    d.on_queue("a2", T0)
    _busy(d, "a1", ["x1", "x2"], T0)
    d.request("c1", T0 + S, preferred_agent_id="a1")
    assert ("c1", "a2") not in d.offers()
    assert "waiting up to 60 s for last agent a1" in d.of("routing-decision", "reserved")[-1]["reason"]
    d.tick(T0 + 60 * S)
    assert ("c1", "a2") not in d.offers()
    d.tick(T0 + 61 * S)
    assert d.offers()[-1] == ("c1", "a2")


def test_last_agent_freeing_capacity_during_the_wait_gets_the_conversation():
    d = Driver()
    d.on_queue("a1", T0)
    d.on_queue("a2", T0)
    _busy(d, "a1", ["x1", "x2"], T0)
    d.request("c1", T0 + S, preferred_agent_id="a1")
    d.act("a1", "end", T0 + 10 * S, conversation_id="x1")  # general queue: optional wrap-up frees
    assert d.offers()[-1] == ("c1", "a1")


def test_offline_last_agent_means_another_agent_at_once():
    d = Driver()
    d.on_queue("a2", T0)
    d.request("c1", T0 + S, preferred_agent_id="a1")
    assert d.offers() == [("c1", "a2")]
    assert "last agent a1 is offline" in d.of("routing-decision", "queued")[0]["reason"]


def test_waiting_conversations_are_offered_in_priority_as_age_order():
    d = Driver()
    # Priority 5 (fraud) entering 4 minutes later sorts 1 minute ahead of the oldest; priority 1
    # (card) entering 30 s after the oldest sorts 30 s ahead of it.
    d.request("old-general", T0)
    d.request("card", T0 + 30 * S, first_message_text="card")
    d.request("fraud", T0 + 240 * S, first_message_text="fraud")
    d.on_queue("a1", T0 + 250 * S)
    assert [c for c, _ in d.offers()] == ["fraud", "card"]  # capacity 2


def test_a_ring_timeout_relaxes_the_skill_and_a_less_skilled_agent_gets_the_offer():
    d = Driver()
    d.on_queue("a3", T0)  # cards 1 < 3
    d.request("c1", T0, first_message_text="stolen")
    assert d.offers() == []
    d.tick(T0 + 59 * S)
    assert d.offers() == []
    d.tick(T0 + 60 * S)
    assert d.offers() == [("c1", "a3")]
    ring = d.of("routing-decision", "ring_expanded")[0]
    assert ring["ring"] == 2 and ring["relaxed"] == ["removed skill cards"]
    assert d.of("routing-decision", "offered")[0]["ring"] == 2


def test_alert_timeout_reoffers_to_someone_else_and_marks_the_first_agent_not_responding():
    d = Driver()
    d.on_queue("a1", T0)
    d.request("c1", T0)
    d.on_queue("a2", T0 + S)
    d.tick(T0 + 30 * S)
    assert d.offers() == [("c1", "a1"), ("c1", "a2")]
    assert d.state.agents["a1"].presence == NOT_RESPONDING
    assert d.of("agent-event", "not_responding")[0]["agent_id"] == "a1"
    assert [s["outcome"] for s in d.of("segment-fact", "alert") if s["ended_at"]] == ["timeout"]
    interval = [v for v in d.of("agent-status-interval") if v["agent_id"] == "a1" and v["closed"]][-1]
    assert (interval["status"], interval["next_status"], interval["reason"]) == ("on_queue", NOT_RESPONDING, "timeout")
    d.request("c2", T0 + 31 * S)
    assert d.offers()[-1] == ("c2", "a2")  # a1 stays out of routing until they come back
    d.on_queue("a1", T0 + 40 * S)
    d.request("c3", T0 + 41 * S)
    assert d.offers()[-1] == ("c3", "a1")


def test_a_declined_conversation_goes_back_to_its_original_place():
    d = Driver()
    d.on_queue("a1", T0)
    d.request("c1", T0 + S)
    d.request("c2", T0 + 2 * S)
    d.request("c3", T0 + 3 * S)  # waits: a1 has capacity 2
    offer = d.offer_of("c1")
    d.act("a1", "decline", T0 + 4 * S, conversation_id="c1", offer_id=offer["offer_id"])
    d.on_queue("a2", T0 + 5 * S)
    assert d.offers()[-2:] == [("c1", "a2"), ("c3", "a2")]  # c1 before c3: original entry time


def test_optional_mandatory_and_time_boxed_wrap_up():
    d = Driver(tenant_config(utilization={"messaging": {"capacity": 1}}))
    d.on_queue("a1", T0)
    d.request("g", T0)  # general: optional
    d.accept("g", T0 + S)
    d.act("a1", "end", T0 + 2 * S, conversation_id="g")
    d.request("b", T0 + 3 * S, first_message_text="invoice")  # billing: mandatory
    assert d.offers()[-1] == ("b", "a1")  # optional wrap-up freed the capacity at once
    d.accept("b", T0 + 4 * S)
    d.act("a1", "end", T0 + 5 * S, conversation_id="b")
    d.request("c", T0 + 6 * S, first_message_text="card")
    d.tick(T0 + 3600 * S)
    assert ("c", "a1") not in d.offers()  # still in mandatory wrap-up
    d.act("a1", "wrap_up", T0 + 3601 * S, conversation_id="b", wrapup_code="explained")
    assert d.offers()[-1] == ("c", "a1")
    assert d.of("assignment", "ended")[-1]["wrapup_code"] == "explained"
    d.accept("c", T0 + 3602 * S)
    d.act("a1", "end", T0 + 3603 * S, conversation_id="c")  # cards: time-boxed 30 s
    d.tick(T0 + 3633 * S)
    wrapups = d.of("segment-fact", "wrapup")
    assert (wrapups[-1]["outcome"], wrapups[-1]["wrapup_code"]) == ("timeout", "no-code")


def test_blind_transfer_to_a_queue_and_consult_transfer_to_an_agent():
    d = Driver()
    d.on_queue("a1", T0)
    d.request("c1", T0)
    d.accept("c1", T0 + S)
    d.on_queue("a2", T0 + 2 * S)
    d.act("a1", "transfer", T0 + 3 * S, conversation_id="c1", transfer_mode="consult", target_agent_id="a2")
    assert d.offers()[-1] == ("c1", "a2")
    assert "c1:o1" in d.state.agents["a1"].work  # still connected during the consult
    d.accept("c1", T0 + 4 * S)
    transferred = d.of("assignment", "transferred")[-1]
    assert (transferred["agent_id"], transferred["transfer_target"]) == ("a1", "agent:a2")
    assert [w.state for w in d.state.agents["a1"].work.values()] == ["wrapup"]   # after a consult: wrap-up
    assert d.of("agent-event", "wrapup_required")[-1]["agent_id"] == "a1"
    d.act("a2", "transfer", T0 + 5 * S, conversation_id="c1", transfer_mode="blind", target_queue_id="billing")
    assert d.offers()[-1] == ("c1", "a1")
    assert d.of("segment-fact", "interact")[-1]["transfer_type"] == "blind"


def test_abandon_while_waiting_and_close_while_alerting_or_connected():
    d = Driver()
    d.request("c1", T0)
    d.request("c1", T0 + 5 * S, reason="closed", close_reason="inactivity", request_id="close-1")
    assert d.of("segment-fact", "queue_wait")[-1]["outcome"] == "abandoned"
    assert "c1" not in d.state.conversations
    d.on_queue("a1", T0 + 6 * S)
    assert d.offers() == []
    d.request("c2", T0 + 7 * S)
    d.request("c2", T0 + 8 * S, reason="closed", request_id="close-2")
    assert d.of("agent-event", "offer_revoked")[-1]["conversation_id"] == "c2"
    d.request("c3", T0 + 9 * S)
    d.accept("c3", T0 + 10 * S)
    d.request("c3", T0 + 11 * S, reason="closed", request_id="close-3")
    assert d.of("agent-event", "wrapup_required")[-1]["conversation_id"] == "c3"


def test_replayed_requests_and_actions_change_nothing():
    d = Driver()
    d.on_queue("a1", T0)
    first = d.request("c1", T0 + S)
    assert d.offers() == [("c1", "a1")]
    again = apply_request(d.state, dict(d.records and _request_of(first)))
    assert again == []
    presence = {"action_id": "same", "tenant_id": "t", "agent_id": "a2", "type": "presence",
                "occurred_at": T0 + 2 * S, "presence": "on_queue"}
    apply_action(d.state, presence)
    assert apply_action(d.state, presence) == []


def _request_of(records):
    offer = [r.value for r in records if r.subject == "agent-event"][0]
    from .drive import request
    return request(offer["conversation_id"], T0 + S)


def test_an_ongoing_conversation_may_return_while_its_agent_wraps_up():
    d = Driver()
    d.on_queue("a1", T0)
    d.request("c1", T0, first_message_text="invoice")  # mandatory wrap-up
    d.accept("c1", T0 + S)
    d.act("a1", "end", T0 + 2 * S, conversation_id="c1")
    d.request("c1", T0 + 3 * S, reason="no_agent", preferred_agent_id="a1", request_id="again")
    assert d.offers()[-1] == ("c1", "a1")
    assert d.of("agent-event", "offered")[-1]["offer_id"] == "c1:o2"


def test_state_restored_from_its_entries_routes_exactly_like_the_original():
    live, other = Driver(), Driver()
    for d in (live, other):
        d.on_queue("a1", T0)
        d.request("c1", T0, first_message_text="stolen")
        d.request("c2", T0 + S)
        d.request("c3", T0 + 2 * S)
    entries = [(k.split(":", 1)[1], body) for k, _, body in changes(other.state) if body is not None]
    restored = Driver()
    restored.state = restore(other.state.config, entries)
    for d in (live, restored):
        d.on_queue("a2", T0 + 3 * S)
        d.tick(T0 + 40 * S)
    assert [(r.subject, r.value) for r in live.records[-12:]] == [(r.subject, r.value) for r in restored.records[-12:]]


def test_every_offer_has_an_audit_event_naming_the_candidates_and_the_reason():
    d = Driver()
    for agent in ("a1", "a2", "a3"):
        d.on_queue(agent, T0)
    for i in range(8):
        d.request(f"c{i}", T0 + i * S, first_message_text="card" if i % 2 else "hi")
    audits = {a["offer_id"]: a for a in d.of("routing-decision", "offered")}
    for offer in d.of("agent-event", "offered"):
        audit = audits[offer["offer_id"]]
        assert audit["agent_id"] == offer["agent_id"] and audit["reason"]
        assert offer["agent_id"] in [c["agent_id"] for c in audit["candidates"] if c["rank"] == 1]
