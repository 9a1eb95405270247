"""Flow-out: a queue's `flow_out` moves a conversation nobody answered in time to another queue; the
visit it leaves ends `flowed_out` and a new visit opens in the target queue (docs/metrics.md)."""
import pytest

from streams.routing.config import RoutingConfigError, parse_config
from streams.routing.snapshot import changes, restore

from .drive import T0, Driver, tenant_config

S = 1000
OVERFLOW = {"general": {"alert_timeout_seconds": 30, "flow_out": {"after_seconds": 60, "queue": "billing"}},
            "cards": {"skills": {"cards": 1}}, "billing": {"service_level": {"percent": 90, "seconds": 30}}}


def visits(d: Driver) -> list[tuple]:
    """(fact id, queue, ended_at, outcome) of every queue-visit copy, in the order written."""
    return [(v["fact_id"].rsplit(":", 1)[1], v["queue_id"], v["ended_at"], v["outcome"])
            for v in d.of("segment-fact", "queue_wait")]


def test_an_unanswered_conversation_flows_out_to_the_target_queue_and_is_answered_there():
    d = Driver(tenant_config(queues=OVERFLOW))
    d.request("c1", T0)
    entries = [(k.split(":", 1)[1], body) for k, _, body in changes(d.state) if body is not None]
    d.state = restore(d.state.config, entries)   # timers are not stored: the restore re-arms the flow-out
    d.tick(T0 + 59 * S)
    assert visits(d) == [("1", "general", None, None)]
    d.tick(T0 + 61 * S)
    assert visits(d) == [("1", "general", None, None), ("1", "general", T0 + 60 * S, "flowed_out"),
                         ("2", "billing", None, None)]
    assert d.state.conversations["c1"].queue_id == "billing"
    # the conversation processor hears each queue it entered (its messages are counted there meanwhile)
    assert [(a["queue_id"], a["agent_id"], a["occurred_at"]) for a in d.of("assignment", "queued")] == [
        ("general", "", T0), ("billing", "", T0 + 60 * S)]
    assert "flowed out of general after 60 s" in d.of("routing-decision", "requeued")[-1]["reason"]
    d.on_queue("a1", T0 + 70 * S)
    d.accept("c1", T0 + 75 * S)
    assert visits(d)[-1] == ("2", "billing", T0 + 75 * S, "answered")
    assert d.of("segment-fact", "queue_wait")[-1]["service_level_seconds"] == 30   # the target's target
    assert d.of("assignment", "connected")[-1]["queue_id"] == "billing"
    general = [r.value for r in d.configured if r.value.get("queue_id") == "general"][0]
    assert general["reason"].endswith("flows out to billing after 60 s")   # the configuration history says it


def test_a_conversation_answered_in_time_does_not_flow_out():
    d = Driver(tenant_config(queues=OVERFLOW))
    d.on_queue("a1", T0)
    d.request("c1", T0)
    d.accept("c1", T0 + 10 * S)
    d.tick(T0 + 120 * S)
    assert [v[3] for v in visits(d)] == [None, "answered"]


def test_an_offer_still_ringing_at_the_threshold_is_revoked_and_the_conversation_flows_out():
    d = Driver(tenant_config(queues=OVERFLOW))
    d.request("c1", T0)
    d.on_queue("a2", T0 + 50 * S)   # offered at 50 s; the alert would time out at 80 s
    d.tick(T0 + 60 * S)
    alerts = [(a["agent_id"], a["queue_visit_id"].rsplit(":", 1)[1], a["outcome"]) for a in d.of("segment-fact", "alert")]
    # the offer from general is revoked; billing offers it again at once (a2 is on billing too)
    assert alerts == [("a2", "1", None), ("a2", "1", "revoked"), ("a2", "2", None)]
    assert [v[3] for v in visits(d)] == [None, "flowed_out", None]
    assert d.offers() == [("c1", "a2"), ("c1", "a2")]


@pytest.mark.parametrize("flow_out,message", [
    ("{after_seconds: 60, queue: nowhere}", "flow_out goes to unknown queue 'nowhere'"),
    ("{after_seconds: 60, queue: general}", "flow_out goes to itself"),
    ("{after_seconds: 0, queue: billing}", "greater than 0"),
])
def test_a_flow_out_to_no_usable_queue_is_refused_with_the_reason(flow_out, message):
    with pytest.raises(RoutingConfigError, match=message):
        parse_config(f"default_queue: general\nqueues:\n  general: {{flow_out: {flow_out}}}\n  billing: {{}}\n", "t")


def test_a_flow_out_to_another_routing_domain_is_refused():
    text = ("default_queue: general\nqueues:\n  general: {flow_out: {after_seconds: 60, queue: billing}}\n"
            "  billing: {}\ndomains:\n  front: {queues: [general]}\n  back: {queues: [billing]}\n")
    with pytest.raises(RoutingConfigError, match="in another routing domain: .* only by a transfer"):
        parse_config(text, "t")
