"""Routing's reportable facts: segments written when they open and again when they close, agent
statuses open and closed, the abandoned exit (closed, silent) and the queue configuration history."""
from streams.routing.configured import announce
from streams.routing.snapshot import changes, restore

from .drive import T0, Driver, tenant_config

S = 1000
SILENT = {"general": {"alert_timeout_seconds": 30, "acw": {"mode": "optional", "timeout_seconds": 60},
                      "short_abandon_seconds": 5, "abandon_after_silence_seconds": 600,
                      "service_level": {"percent": 90, "seconds": 45}},
          "cards": {"skills": {"cards": 1}}, "billing": {}}


def versions(d: Driver, fact_id: str) -> list[tuple]:
    """(ended_at, outcome) of every copy of one segment, in the order written."""
    return [(v["ended_at"], v["outcome"]) for v in d.of("segment-fact") if v["fact_id"] == fact_id]


def test_each_segment_opens_then_closes_under_one_fact_id():
    d = Driver()
    d.on_queue("a1", T0)
    d.request("c1", T0 + S)
    d.accept("c1", T0 + 4 * S)
    d.act("a1", "end", T0 + 60 * S, conversation_id="c1")
    d.tick(T0 + 121 * S)   # general: optional wrap-up, 60 s
    offer = "c1:o1"
    assert versions(d, "seg:c1:queue_wait:1") == [(None, None), (T0 + 4 * S, "answered")]
    assert versions(d, f"seg:c1:interact:{offer}") == [(None, None), (T0 + 60 * S, "completed")]
    assert versions(d, f"seg:c1:wrapup:{offer}") == [(None, None), (T0 + 120 * S, "timeout")]
    visit = [v for v in d.of("segment-fact", "queue_wait") if v["ended_at"]][0]
    assert (visit["media"], visit["service_level_seconds"], visit["short_abandon_seconds"]) == ("messaging", 60, 10)
    assert versions(d, f"seg:c1:alert:{offer}") == [(None, None), (T0 + 4 * S, "accepted")]
    alert = d.of("segment-fact", "alert")[-1]
    assert (alert["queue_visit_id"], alert["offer_id"]) == ("seg:c1:queue_wait:1", offer)
    wrapup = d.of("segment-fact", "wrapup")[-1]
    assert wrapup["wrapup_skipped"] and wrapup["wrapup_code"] is None


def test_a_wrap_up_keeps_the_agents_code_and_note():
    d = Driver()
    d.on_queue("a1", T0)
    d.request("c1", T0, first_message_text="my card was stolen")
    d.accept("c1", T0 + S)
    d.act("a1", "end", T0 + 10 * S, conversation_id="c1")
    d.act("a1", "wrap_up", T0 + 20 * S, conversation_id="c1", wrapup_code="blocked", note="card blocked")
    wrapup = d.of("segment-fact", "wrapup")[-1]
    assert (wrapup["outcome"], wrapup["wrapup_code"], wrapup["wrapup_note"], wrapup["wrapup_skipped"]) == \
        ("wrapped_up", "blocked", "card blocked", False)


def test_a_blind_transfer_closes_the_participation_and_opens_a_second_queue_visit():
    d = Driver()
    d.on_queue("a1", T0)
    d.request("c1", T0)
    d.accept("c1", T0 + S)
    d.act("a1", "transfer", T0 + 30 * S, conversation_id="c1", target_queue_id="billing", transfer_mode="blind")
    interact = d.of("segment-fact", "interact")[-1]
    assert (interact["outcome"], interact["transfer_type"], interact["transfer_target"]) == \
        ("transferred", "blind", "queue:billing")
    assert versions(d, "seg:c1:queue_wait:2")[0] == (None, None)
    assert [v["queue_id"] for v in d.of("segment-fact", "queue_wait") if v["fact_id"].endswith(":2")] == ["billing"]


def test_a_conversation_closed_while_waiting_is_abandoned():
    d = Driver()
    d.request("c1", T0)
    d.request("c1", T0 + 3 * S, reason="closed", close_reason="expired")
    assert versions(d, "seg:c1:queue_wait:1") == [(None, None), (T0 + 3 * S, "abandoned")]


def test_a_silent_customer_abandons_after_the_queues_threshold_and_comes_back_when_they_write():
    d = Driver(tenant_config(queues=SILENT))
    d.request("c1", T0)
    d.request("c1", T0 + 100 * S, reason="message_added", request_id="rr-later", message_text="hello?",
              history=[{"occurred_at": T0 + 100 * S, "direction": "inbound", "channel": "whatsapp", "text": "hello?"}])
    d.tick(T0 + 600 * S)   # 600 s after entry: but the customer wrote at 100 s
    assert "c1" in d.state.conversations
    d.tick(T0 + 700 * S)
    assert versions(d, "seg:c1:queue_wait:1")[-1] == (T0 + 700 * S, "abandoned")
    assert "silent for 600 s" in d.of("routing-decision", "abandoned")[-1]["reason"]
    assert "c1" not in d.state.conversations
    d.request("c1", T0 + 2000 * S, reason="message_added", request_id="rr-back", message_text="still there?")
    assert d.state.conversations["c1"].entry == 2
    assert versions(d, "seg:c1:queue_wait:2") == [(None, None)]


def test_silence_does_not_abandon_a_conversation_an_agent_answered_and_survives_a_restore():
    d = Driver(tenant_config(queues=SILENT))
    d.request("c1", T0)
    d.request("c2", T0)
    entries = [(k.split(":", 1)[1], body) for k, _, body in changes(d.state) if body is not None]
    d.state = restore(d.state.config, entries)   # timers are not stored: the restore re-arms silence
    d.on_queue("a1", T0 + S)
    d.accept("c1", T0 + 2 * S)
    d.tick(T0 + 601 * S)
    assert "c1" in d.state.conversations and "c2" not in d.state.conversations
    assert versions(d, "seg:c2:queue_wait:1")[-1] == (T0 + 600 * S, "abandoned")


def test_agent_statuses_open_when_they_begin_and_close_when_they_end():
    d = Driver()
    d.on_queue("a1", T0)
    d.on_queue("a1", T0 + 50 * S, presence="away")
    statuses = [(v["status"], v["closed"], v["routing_status"], v["ended_at"]) for v in d.of("agent-status-interval")]
    assert statuses == [("on_queue", False, "on_queue", T0), ("on_queue", True, "on_queue", T0 + 50 * S),
                        ("away", False, "off_queue", T0 + 50 * S)]
    ids = [v["fact_id"] for v in d.of("agent-status-interval")]
    assert ids[0] == ids[1] != ids[2]


def test_queue_settings_are_announced_once_per_configuration_and_again_after_a_reload():
    d = Driver(tenant_config(queues=SILENT))
    configured = [v for v in (r.value for r in d.configured) if v["kind"] == "configured"]
    assert [v["queue_id"] for v in configured] == ["billing", "cards", "general"]
    general = configured[-1]["queue_settings"]
    assert (general["service_level_seconds"], general["short_abandon_seconds"],
            general["abandon_after_silence_seconds"]) == (45, 5, 600)
    d.tick(T0 + S)
    assert d.of("routing-decision", "configured") == []
    d.state.config = tenant_config(queues=SILENT | {"billing": {"short_abandon_seconds": 20}})
    d.tick(T0 + 2 * S)
    billing = [v for v in d.of("routing-decision", "configured") if v["queue_id"] == "billing"]
    assert billing[0]["queue_settings"]["short_abandon_seconds"] == 20
    assert billing[0]["decision_id"] == f"rd:{d.state.tenant}:configured:billing:{T0 + 2 * S}"
    announce(d.state)
    assert len(d.of("routing-decision", "configured")) == 3
