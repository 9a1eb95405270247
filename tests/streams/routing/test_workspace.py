"""The ACD under the agent workspace: transfers, wrap-up codes, supervisors, presence grace, sign-out."""
from streams.routing.acd import new_domain
from streams.routing.config import ConfigCache

from .drive import T0, Driver

S = 1000


def connected(d: Driver, agent: str, conv: str, at: int) -> None:
    d.on_queue(agent, at)
    d.request(conv, at + 1, preferred_agent_id=agent)
    d.accept(conv, at + 2)


def test_a_blind_transfer_to_an_agent_tells_both_and_offers_the_target_with_the_note():
    d = Driver()
    connected(d, "a1", "c1", T0)
    d.on_queue("a2", T0 + S)
    d.act("a1", "transfer", T0 + 2 * S, conversation_id="c1", transfer_mode="blind", target_agent_id="a2",
          note="wants a refund")
    assert d.offers()[-1] == ("c1", "a2")
    assert d.of("assignment", "transferred")[-1]["agent_id"] == "a1"
    d.accept("c1", T0 + 3 * S)
    told = {(e["agent_id"], e["transfer_target"]) for e in d.of("agent-event", "transferred")}
    assert told == {("a1", "agent:a2"), ("a2", "agent:a2")}
    [taken] = [e for e in d.of("agent-event", "transferred") if e["agent_id"] == "a2"]
    assert (taken["note"], taken["from_agent_id"]) == ("wants a refund", "a1")


def test_a_transfer_by_an_agent_not_connected_is_refused_to_them():
    d = Driver()
    connected(d, "a1", "c1", T0)
    d.on_queue("a2", T0 + S)
    d.act("a2", "transfer", T0 + 2 * S, conversation_id="c1", target_queue_id="billing")
    [refused] = d.of("agent-event", "action_refused")
    assert (refused["agent_id"], refused["rule"]) == ("a2", "transfer.not_connected")
    assert d.of("assignment", "transferred") == []


def test_a_wrap_up_code_not_on_the_queues_list_is_refused_and_the_wrap_up_stays_open():
    d = Driver()
    d.on_queue("a1", T0)
    d.request("c1", T0 + 1, first_message_text="my card")         # queue cards: codes blocked, no-code
    d.accept("c1", T0 + 2)
    d.act("a1", "end", T0 + 3 * S, conversation_id="c1")
    d.act("a1", "wrap_up", T0 + 4 * S, conversation_id="c1", wrapup_code="made-up")
    [refused] = d.of("agent-event", "action_refused")
    assert refused["rule"] == "wrapup.code" and "made-up" in refused["reason"]
    assert d.of("assignment", "ended") == []
    d.act("a1", "wrap_up", T0 + 5 * S, conversation_id="c1", wrapup_code="blocked")
    assert d.of("assignment", "ended")[-1]["wrapup_code"] == "blocked"
    [done] = d.of("agent-event", "wrapped_up")
    assert (done["agent_id"], done["conversation_id"], done["wrapup_code"], done["reason"]) == (
        "a1", "c1", "blocked", "wrapped up")


def test_a_time_boxed_wrap_up_that_times_out_tells_the_agent_the_default_code():
    d = Driver()
    d.on_queue("a1", T0)
    d.request("c1", T0 + 1, first_message_text="my card")         # cards: time_boxed 30 s, default no-code
    d.accept("c1", T0 + 2)
    d.act("a1", "end", T0 + 3 * S, conversation_id="c1")
    d.tick(T0 + 20 * S)
    assert d.of("agent-event", "wrapped_up") == []
    d.tick(T0 + 34 * S)
    [done] = d.of("agent-event", "wrapped_up")
    assert (done["conversation_id"], done["wrapup_code"], done["reason"], done["occurred_at"]) == (
        "c1", "no-code", "wrap-up time over", T0 + 33 * S)
    assert done["offer_id"] == d.of("assignment", "ended")[-1]["offer_id"]


def test_an_optional_wrap_up_that_times_out_ends_without_a_code():
    d = Driver()
    connected(d, "a1", "c1", T0)                                    # general: optional, 60 s
    d.act("a1", "end", T0 + 3 * S, conversation_id="c1")
    d.tick(T0 + 64 * S)
    [done] = d.of("agent-event", "wrapped_up")
    assert (done["conversation_id"], done["wrapup_code"], done["reason"]) == ("c1", None, "wrap-up time over")


def test_a_supervisor_forces_a_transfer_and_an_end_but_nothing_else():
    d = Driver()
    connected(d, "a1", "c1", T0)
    d.act("a1", "accept", T0 + S, actor_id="sup-sam", conversation_id="c1")
    assert d.of("agent-event", "action_refused")[-1]["rule"] == "actor.not_allowed"
    d.act("a1", "transfer", T0 + 2 * S, actor_id="sup-sam", conversation_id="c1", target_queue_id="billing")
    assert "forced by sup-sam" in d.of("routing-decision", "transferred")[-1]["reason"]
    assert d.of("agent-event", "transferred")[-1]["actor_id"] == "sup-sam"
    connected(d, "a2", "c2", T0 + 3 * S)
    d.act("a2", "end", T0 + 6 * S, actor_id="sup-sam", conversation_id="c2")
    assert d.of("segment-fact", "interact")[-1]["conversation_id"] == "c2"


def test_a_page_gone_past_the_grace_takes_the_agent_offline_and_requeues_their_conversations():
    d = Driver()
    connected(d, "a1", "c1", T0)
    d.act("a1", "page_closed", T0 + 10 * S)
    d.request("c2", T0 + 50 * S, preferred_agent_id="a1")      # a1 alerting on c2 until 80 s
    d.tick(T0 + 69 * S)
    assert d.state.agents["a1"].presence == "on_queue"          # within the 60 s grace
    d.tick(T0 + 71 * S)
    assert d.state.agents["a1"].presence == "offline" and d.state.agents["a1"].work == {}
    assert d.of("agent-status-interval")[-1]["reason"] == "page_gone"
    assert {s["outcome"] for s in d.of("segment-fact") if s["agent_id"] == "a1" and s["ended_at"] == T0 + 70 * S} \
        == {"page_gone"}
    assert d.of("assignment", "transferred")[-1]["reason"] == "page_gone"
    assert "page_gone" in d.of("routing-decision", "requeued")[-1]["reason"]
    assert d.state.conversations["c1"].status == "waiting"


def test_a_page_open_within_the_grace_keeps_the_agent():
    d = Driver()
    connected(d, "a1", "c1", T0)
    d.act("a1", "page_closed", T0 + 10 * S)
    d.act("a1", "page_open", T0 + 40 * S)
    d.tick(T0 + 200 * S)
    assert d.state.agents["a1"].presence == "on_queue" and d.state.conversations["c1"].status == "connected"


def test_the_grace_is_the_domains_setting():
    d = Driver()
    d.state.presence_grace_ms = 5 * S
    connected(d, "a1", "c1", T0)
    d.act("a1", "page_closed", T0 + 10 * S)
    d.tick(T0 + 16 * S)
    assert d.state.agents["a1"].presence == "offline"


def test_signing_out_takes_the_agent_offline_at_once_and_another_agent_gets_the_conversation():
    d = Driver()
    connected(d, "a1", "c1", T0)
    d.on_queue("a2", T0 + S)
    d.act("a1", "signed_out", T0 + 2 * S)
    assert d.state.agents["a1"].presence == "offline"
    changed = d.of("agent-event", "presence_changed")[-1]
    assert (changed["presence"], changed["status"], changed["reason"]) == ("offline", "offline", "signed_out")
    assert d.offers()[-1] == ("c1", "a2")
    assert d.of("agent-status-interval")[-1]["reason"] == "signed_out"


def test_a_tenant_without_a_routing_file_routes_with_the_general_queue(tmp_path):
    config = ConfigCache(tmp_path).get("newco")
    assert (config.default_queue, list(config.queues)) == ("general", ["general"])
    assert new_domain(config).tenant == "newco"
