"""The report views (sink/views) on hand-built facts in the embedded engine: each view's figures are
the metric dictionary's on the scenarios of tests/fixtures/metrics and the floor of
tests/fixtures/views; every view runs with every filter, and a filter value is bound, never SQL."""
from __future__ import annotations

import uuid

import pytest

from sink.report_params import bind
from sink.views import FILTERS, BadParameter, columns, run, view, views

from .views_scenario import FLOOR, RANGE, load_all

pytestmark = pytest.mark.clickhouse
NOW = {"now": [FLOOR["now"]]}


@pytest.fixture(scope="module")
def tenants(clickhouse_store) -> dict[str, str]:
    return load_all(clickhouse_store, f"t-{uuid.uuid4().hex[:10]}")


def report(store, tenants, name: str, scenario: str, **given) -> list[dict]:
    v = view(name)
    base = {} if "conversation" in v.parameters else NOW if "now" in v.parameters else RANGE
    names, rows = run(store, v, bind(v, tenants[scenario], base | {k: x if isinstance(x, list) else [x]
                                                                    for k, x in given.items()}))
    return [dict(zip(names, r)) for r in rows]


def pick(rows: list[dict], *keys: str) -> list[tuple]:
    return [tuple(round(r[k], 2) if isinstance(r[k], float) else r[k] for k in keys) for r in rows]


def test_queues_performance_counts_each_queue_visit_where_it_entered_and_left(clickhouse_store, tenants):
    rows = report(clickhouse_store, tenants, "queues_performance", "transfer")
    assert pick(rows, "queue_id", "offered", "answered", "avg_answer_s", "handled", "avg_handle_s", "transferred") == [
        ("billing", 1, 1, 60.0, 1, 600.0, 0), ("general", 1, 1, 240.0, 1, 480.0, 1)]
    sl = report(clickhouse_store, tenants, "queues_performance", "service_level")
    assert pick(sl, "offered", "answered", "abandoned", "short_abandons", "flow_outs", "sl_pct") == [(6, 2, 2, 1, 1, 33.33)]
    switched = report(clickhouse_store, tenants, "queues_performance", "service_level", sl_short_abandons="1")
    assert pick(switched, "sl_pct") == [(25.0,)]


def test_queue_performance_offers_at_7_00_and_answers_at_7_30(clickhouse_store, tenants):
    rows = report(clickhouse_store, tenants, "queue_performance", "transfer", granularity="30m", queue="general")
    assert pick(rows, "queue_id", "offered", "answered", "transferred") == [("general", 1, 0, 0), ("general", 0, 1, 1)]
    assert [r["interval_start"].strftime("%H:%M") for r in rows] == ["07:00", "07:30"]


def test_agents_performance_gives_each_agent_their_own_answered_and_handle(clickhouse_store, tenants):
    rows = report(clickhouse_store, tenants, "agents_performance", "transfer")
    assert pick(rows, "agent_id", "agent_answered", "handle_s", "acw_s", "transferred", "blind_transfers", "alerts") == [
        ("A", 1, 480.0, 0.0, 1, 1, 1), ("B", 1, 600.0, 60.0, 0, 0, 1)]


def test_agent_performance_attributes_a_reply_two_days_later_to_the_agent_it_answers(clickhouse_store, tenants):
    rows = report(clickhouse_store, tenants, "agent_performance", "async_replies", granularity="day",
                  tz="America/New_York", agent="A")
    days = [(r["interval_start"].isoformat()[:10], r["customer_response_s"], r["max_concurrent"]) for r in rows]
    assert days == [("2026-12-01", 3300.0, 2), ("2026-12-03", 172800.0, 0)]
    assert pick(rows[:1], "not_responding_s", "agent_response_s", "first_response_participation_s") == [(120.0, 210.0, 300.0)]


def test_my_queues_activity_is_the_floor_now_and_today(clickhouse_store, tenants):
    [general] = report(clickhouse_store, tenants, "my_queues_activity", "floor")
    assert general == {"queue_id": "general", "waiting": 2, "longest_wait_s": 900, "interacting": 1,
                       "agents_on_queue": 2, "agents_idle": 1, "agents_not_responding": 1,
                       "offered": 4, "answered": 2, "abandoned": 0, "sl_pct": 50.0}   # q5 waited 90 s


def test_interactions_list_each_conversation_with_its_direction_and_people(clickhouse_store, tenants):
    rows = report(clickhouse_store, tenants, "interactions", "floor")
    assert pick(rows, "conversation_id", "channel", "direction", "agents", "wrapup_codes", "state") == [
        ("q2", "whatsapp", "inbound", [], [], "open"), ("q3", "whatsapp", "inbound", ["A"], [], "open"),
        ("q1", "whatsapp", "inbound", [], [], "open"), ("q4", "messenger", "outbound", [], [], "open"),
        ("q5", "whatsapp", "inbound", ["A"], ["explained"], "open")]
    assert pick(report(clickhouse_store, tenants, "interactions", "floor", direction="outbound"), "conversation_id") == [("q4",)]


def test_interaction_details_sums_each_conversations_visits_and_participations(clickhouse_store, tenants):
    [c1] = report(clickhouse_store, tenants, "interaction_details", "transfer")
    assert (c1["conversation_id"], c1["queues"], c1["agents"], c1["first_queue_id"]) == ("c1", ["billing", "general"], ["A", "B"], "general")
    assert pick([c1], "offered", "answered", "wait_s", "agent_answered", "handle_s", "acw_s", "transferred") == [
        (2, 2, 300.0, 2, 1080.0, 60.0, 1)]


def test_interaction_is_the_timeline_of_segments_messages_and_decisions(clickhouse_store, tenants):
    rows = report(clickhouse_store, tenants, "interaction", "transfer", conversation="c1")
    assert [(r["kind"], r["agent_id"], r["queue_id"], r["outcome"]) for r in rows] == [
        ("queue_wait", None, "general", "answered"), ("alert", "A", "general", "accepted"),
        ("interact", "A", "general", "transferred"), ("alert", "B", "billing", "accepted"),
        ("queue_wait", None, "billing", "answered"), ("interact", "B", "billing", "completed"),
        ("wrapup", "B", "billing", "wrapped_up")]
    assert rows[2]["detail"] == "queue:billing" and rows[2]["duration_s"] == 480.0
    messages = report(clickhouse_store, tenants, "interaction", "async_replies", conversation="c1")
    assert [r["source"] for r in messages].count("message") == 6
    with pytest.raises(BadParameter, match="unknown parameter 'queue'"):
        report(clickhouse_store, tenants, "interaction", "transfer", conversation="c1", queue="general")


# A value of each filter the scenario has, and one it has not (direction: only two values exist).
MATCHING = {"queue": "general", "agent": "A", "channel": "whatsapp", "media_type": "messaging",
            "wrapup_code": "explained", "direction": "inbound"}
NOTHING = {name: "nope" for name in FILTERS} | {"direction": "outbound"}
FILTERED = [(name, f) for name, v in sorted(views().items()) if name != "interaction" for f in FILTERS]


@pytest.mark.parametrize("name,filter_", FILTERED, ids=[f"{n}-{f}" for n, f in FILTERED])
def test_every_view_runs_with_every_filter_and_a_value_is_never_sql(clickhouse_store, tenants, name, filter_):
    scenario = "floor" if name == "my_queues_activity" else "transfer"
    matching = report(clickhouse_store, tenants, name, scenario, **{filter_: MATCHING[filter_]})
    nothing = report(clickhouse_store, tenants, name, scenario, **{filter_: NOTHING[filter_]})
    assert matching and matching != nothing
    if filter_ == "direction":
        with pytest.raises(BadParameter, match="inbound or outbound"):
            report(clickhouse_store, tenants, name, scenario, direction="inbound' OR '1'='1")
        return
    # both at once (any of them): a view that spliced either would match more than nothing
    quoted = [f"{MATCHING[filter_]}' OR '1'='1", f"{MATCHING[filter_]}\\') OR 1=1 --"]
    assert report(clickhouse_store, tenants, name, scenario, **{filter_: quoted}) == nothing, quoted


def test_several_values_of_a_filter_are_any_of_them(clickhouse_store, tenants):
    both = report(clickhouse_store, tenants, "queues_performance", "transfer", queue=["billing", "general"])
    assert both == report(clickhouse_store, tenants, "queues_performance", "transfer")
    assert pick(report(clickhouse_store, tenants, "agents_performance", "transfer", agent="B"), "agent_id") == [("B",)]


def test_a_view_describes_its_parameters_and_columns(clickhouse_store):
    v = view("queue_performance")
    assert v.title.startswith("Queue Performance (detail)")
    assert v.parameters == ["from", "to", "granularity", "tz", *FILTERS, "sl_abandons", "sl_short_abandons", "sl_flow_outs"]
    assert [n for n, _ in columns(clickhouse_store, v)][:4] == ["interval_start", "queue_id", "offered", "answered"]
    assert "{{" not in "".join(v.sql for v in views().values())   # every macro expanded


@pytest.mark.parametrize("given,fix", [
    ({"granularity": ["45m"]}, "give one of 15m, 30m, 60m, day"), ({"tz": ["Mars/Olympus"]}, "IANA name"),
    ({"from": ["yesterday"]}, "ISO 8601"), ({"from": ["2026-12-02"], "to": ["2026-12-01"]}, "to must be after from"),
    ({"limit": ["-1"]}, "whole number"), ({"queues": ["a"]}, "unknown parameter 'queues'"),
    ({"from": ["2026-12-01", "2026-12-02"]}, "give it once")])
def test_a_bad_parameter_names_its_fix(given, fix):
    with pytest.raises(BadParameter, match=fix):
        bind(view("interactions"), "t", given)


@pytest.mark.kafka
def test_a_published_visit_reaches_my_queues_activity_within_2_seconds(kafka_bootstrap, clickhouse_store, tenant,
                                                                      group_id):
    # Through the real sink (its default batch wait) and the view's SQL: the spec is <= 2 s.
    import threading
    import time
    from datetime import datetime, timezone

    from schemas import Codec
    from tests.sink.test_consumer import make_sink, publish
    from tests.sink.test_metrics import segment

    codec, v = Codec(), view("my_queues_activity")

    def enter(conversation: str) -> None:
        line = {"type": "queue_wait", "conv": conversation, "queue": "rt", "start": None, "end": None, "outcome": None}
        record = segment(tenant, line) | {"started_at": datetime.now(timezone.utc)}
        publish(kafka_bootstrap, [("segment-facts", conversation, codec.encode("segment-fact", record))])

    def waiting() -> int:
        names, rows = run(clickhouse_store, v, bind(v, tenant, {}))
        return sum(dict(zip(names, r))["waiting"] for r in rows)

    def until(n: int, timeout: float) -> None:
        began = time.monotonic()
        while waiting() < n:
            assert time.monotonic() - began < timeout, f"{n} waiting not seen in {timeout} s"

    sink = make_sink(clickhouse_store, kafka_bootstrap, group_id, {"segment-facts"})
    sink.batch_seconds = 0.5   # the sink's default (--batch-seconds)
    stop = threading.Event()
    worker = threading.Thread(target=sink.run, args=(stop,), daemon=True)
    worker.start()
    try:
        enter("rt-1")
        until(1, 60)              # the group has joined and the first visit landed
        published = time.monotonic()   # from before the publish to the view's answer
        enter("rt-2")
        until(2, 10)
        assert time.monotonic() - published <= 2.0
    finally:
        stop.set()
        worker.join(30)


def test_make_runs_service_figures_are_the_views(clickhouse_store, tenants):
    from datetime import datetime, timezone

    from sink.reports import service

    week = [datetime.fromisoformat(RANGE[k][0]).astimezone(timezone.utc) for k in ("from", "to")]
    assert service(clickhouse_store, tenants["transfer"], *week) == {"sl_pct": 50.0, "avg_handle_s": 540.0}
    assert service(clickhouse_store, tenants["service_level"], *week) == {"sl_pct": 33.3, "avg_handle_s": None}
    assert pick(report(clickhouse_store, tenants, "queues_performance", "service_level"), "sl_pct") == [(33.33,)]
