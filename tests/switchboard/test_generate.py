"""`switchboard generate` in the embedded engine: 2,000 conversations over 3 days, checked for the
proportions of the model, the shape of every story (visit, offers, participation, wrap-up,
transfers, abandons), ordered times, sensible report metrics, the marker and reproducibility."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import date, datetime, timezone

import pytest

from sink.generate import CHANNELS, GENERATED
from sink.metrics import DEFAULTS, metric_sql
from switchboard.generate import generate, marker_path, parse_args
from tests.kafka_fixture import free_port

pytestmark = pytest.mark.clickhouse

N, DAYS, UNTIL = 2000, 3, datetime(2026, 3, 2, tzinfo=timezone.utc)
SEGMENTS = "(SELECT * FROM segment_facts FINAL WHERE tenant_id = {tenant:String})"


def args(tenant: str, seed: int = 1, *more: str):
    """The command line of the module's history (or another seed of it)."""
    return parse_args(["--interactions", str(N), "--days", str(DAYS), "--tenant", tenant, "--seed", str(seed),
                       "--until", UNTIL.date().isoformat(), *more])


def fingerprint(store, tenant: str) -> dict[str, int]:
    """A checksum of every generated row per table (what the same seed must reproduce)."""
    out = {}
    for table, (column, prefix) in GENERATED.items():
        sql = (f"SELECT sum(cityHash64(*)) FROM {table} FINAL WHERE tenant_id = {{tenant:String}} "
               f"AND startsWith({column}, '{prefix}')")
        out[table] = store.query(sql, {"tenant": tenant}).result_rows[0][0]
    return out


@pytest.fixture(scope="module")
def history(clickhouse_store, tmp_path_factory):
    """(store, tenant, data dir, first summary, fingerprint) of the module's generated history."""
    tenant, data_dir = f"gen-test-{uuid.uuid4().hex[:8]}", tmp_path_factory.mktemp("generate")
    summary = generate(clickhouse_store, args(tenant), data_dir, "embedded:tests")
    return clickhouse_store, tenant, data_dir, summary, fingerprint(clickhouse_store, tenant)


def one(history, sql: str):
    """The single value of a query over the history's tenant."""
    store, tenant = history[0], history[1]
    return store.query(sql, {"tenant": tenant}).result_rows[0][0]


def test_counts_per_table_are_in_the_proportions_of_the_model(history):
    rows = history[3]["rows"]
    assert rows["conversation_facts"] == N
    assert 1.08 * N <= one(history, f"SELECT countIf(segment_type = 'queue_wait') FROM {SEGMENTS}") <= 1.25 * N
    assert 5 * N <= rows["message_facts"] <= 8.5 * N
    assert rows["message_timeline"] == rows["message_facts"]     # every message, readable by time
    assert one(history, "SELECT uniqExact(conversation_id) FROM conversation_starts WHERE tenant_id = {tenant:String}") == N
    assert rows["queue_config_facts"] == 8                       # four queues, configured twice
    abandoned = one(history, f"SELECT countIf(outcome = 'abandoned') / count() FROM {SEGMENTS} WHERE segment_type = 'queue_wait'")
    assert 0.04 <= abandoned <= 0.12
    transferred = one(history, f"SELECT countIf(outcome = 'transferred') / count() FROM {SEGMENTS} WHERE segment_type = 'interact'")
    assert 0.07 <= transferred <= 0.16
    shares = dict(history[0].query("SELECT channel, count() / {n:UInt32} FROM conversation_facts FINAL WHERE tenant_id = {tenant:String} "
                                   "GROUP BY channel", {"tenant": history[1], "n": N}).result_rows)
    total = sum(c["weight"] for c in CHANNELS)
    assert {c["name"]: pytest.approx(c["weight"] / total, abs=0.04) for c in CHANNELS} == shares
    # diurnal: the busy day hours get many times the night's arrivals
    day, night = history[0].query("SELECT countIf(toHour(started_at) BETWEEN 8 AND 15), countIf(toHour(started_at) < 6) "
                                  "FROM conversation_facts FINAL WHERE tenant_id = {tenant:String}", {"tenant": history[1]}).result_rows[0]
    assert day > 5 * night > 0


def test_every_conversation_has_a_closed_queue_visit_with_its_queue_settings(history):
    assert one(history, "SELECT count() FROM conversation_facts FINAL WHERE tenant_id = {tenant:String} AND conversation_id NOT IN "
                        f"(SELECT conversation_id FROM {SEGMENTS} WHERE fact_id = concat('seg:', conversation_id, ':queue_wait:1'))") == 0
    assert one(history, f"SELECT countIf(ended_at IS NULL OR outcome NOT IN ('answered', 'abandoned') OR service_level_seconds IS NULL "
                        f"OR short_abandon_seconds IS NULL) FROM {SEGMENTS} WHERE segment_type = 'queue_wait'") == 0


def test_an_answered_visit_has_its_accepted_offer_then_an_interact_then_a_wrap_up(history):
    answered = one(history, f"SELECT count() FROM {SEGMENTS} WHERE segment_type = 'queue_wait' AND outcome = 'answered'")
    accepted = one(history, f"SELECT count() FROM {SEGMENTS} AS v JOIN {SEGMENTS} AS a ON a.queue_visit_id = v.fact_id "
                            "WHERE v.outcome = 'answered' AND a.outcome = 'accepted' AND a.ended_at = v.ended_at")
    interacting = one(history, f"SELECT count() FROM {SEGMENTS} AS a JOIN {SEGMENTS} AS i ON i.offer_id = a.offer_id "
                               "WHERE a.outcome = 'accepted' AND i.segment_type = 'interact' AND i.agent_id = a.agent_id "
                               "AND i.started_at = a.ended_at")
    assert answered == accepted == interacting > 0.85 * N
    # a wrap-up follows every participation but a blind transfer's, same offer and agent, at its end
    missing = one(history, f"SELECT count() FROM {SEGMENTS} AS i LEFT JOIN {SEGMENTS} AS w ON w.offer_id = i.offer_id "
                           "AND w.segment_type = 'wrapup' AND w.agent_id = i.agent_id AND w.started_at = i.ended_at "
                           "WHERE i.segment_type = 'interact' AND (w.fact_id = '') != (ifNull(i.transfer_type, '') = 'blind')")
    assert missing == 0
    assert one(history, f"SELECT countIf(wrapup_code IS NULL) = countIf(wrapup_skipped = 1) FROM {SEGMENTS} WHERE segment_type = 'wrapup'")


def test_an_abandoned_conversation_has_no_participation(history):
    abandoned = f"(SELECT conversation_id FROM {SEGMENTS} WHERE segment_type = 'queue_wait' AND outcome = 'abandoned')"
    assert one(history, f"SELECT countIf(segment_type = 'interact' OR outcome = 'accepted') FROM {SEGMENTS} "
                        f"WHERE conversation_id IN {abandoned}") == 0
    short = one(history, f"SELECT countIf(dateDiff('millisecond', started_at, ended_at) < short_abandon_seconds * 1000) / count() "
                         f"FROM {SEGMENTS} WHERE outcome = 'abandoned' AND segment_type = 'queue_wait'")
    assert 0.2 <= short <= 0.5
    assert one(history, "SELECT count() FROM conversation_facts FINAL WHERE tenant_id = {tenant:String} "
                        f"AND conversation_id IN {abandoned} AND (length(agents) > 0 OR first_assigned_at IS NOT NULL)") == 0


def test_a_transfer_has_a_second_visit_and_participation_at_its_target(history):
    rows = history[0].query(
        f"SELECT i.transfer_type, i.transfer_target, i.ended_at, v.started_at, v.queue_id, j.agent_id, j.started_at, j.offer_id != i.offer_id "
        f"FROM {SEGMENTS} AS i JOIN {SEGMENTS} AS v ON v.fact_id = concat('seg:', i.conversation_id, ':queue_wait:2') "
        f"JOIN {SEGMENTS} AS j ON j.conversation_id = i.conversation_id AND j.segment_type = 'interact' AND j.fact_id != i.fact_id "
        "WHERE i.segment_type = 'interact' AND i.outcome = 'transferred'", {"tenant": history[1]}).result_rows
    assert len(rows) == one(history, f"SELECT countIf(outcome = 'transferred') FROM {SEGMENTS}") > 0.07 * N
    assert {r[0] for r in rows} == {"blind", "consult"}
    for kind, target, first_end, entered, queue, agent, answered, other_offer in rows:
        assert other_offer and target in (f"queue:{queue}", f"agent:{agent}")
        # blind: the first agent leaves as the visit begins; consult: they stay until the second accepts
        assert first_end == (entered if kind == "blind" else answered)
    assert {r[1].split(":")[0] for r in rows} == {"queue", "agent"}


def test_times_are_ordered_and_end_before_the_history_does(history):
    assert one(history, f"SELECT countIf(ended_at < started_at OR ended_at > '{UNTIL:%Y-%m-%d %H:%M:%S}') FROM {SEGMENTS}") == 0
    assert one(history, f"SELECT count() FROM {SEGMENTS} AS a JOIN {SEGMENTS} AS v ON v.fact_id = a.queue_visit_id "
                        "WHERE a.started_at < v.started_at OR a.ended_at > v.ended_at") == 0
    assert one(history, "SELECT count() FROM (SELECT * FROM message_facts FINAL WHERE tenant_id = {tenant:String}) AS m JOIN "
                        "(SELECT conversation_id, started_at FROM conversation_facts FINAL WHERE tenant_id = {tenant:String}) AS c "
                        "ON m.conversation_id = c.conversation_id WHERE 1 "
                        f"AND (m.occurred_at < c.started_at OR m.occurred_at >= '{UNTIL:%Y-%m-%d %H:%M:%S}')") == 0
    # each agent's statuses follow one another without gaps; only the last (offline) is open
    assert one(history, "SELECT countIf(next_start IS NOT NULL AND ended_at != next_start) + countIf(ended_at IS NULL AND next_start IS NOT NULL) "
                        "FROM (SELECT ended_at, leadInFrame(CAST(started_at AS Nullable(DateTime64(3, 'UTC')))) OVER "
                        "(PARTITION BY agent_id ORDER BY started_at ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING) AS next_start "
                        "FROM agent_status_facts FINAL WHERE tenant_id = {tenant:String})") == 0


def test_customers_answer_days_later_within_a_participation(history):
    late = one(history, "SELECT count() FROM (SELECT direction, dateDiff('hour', lagInFrame(occurred_at) OVER w, occurred_at) AS gap "
                        "FROM message_facts FINAL WHERE tenant_id = {tenant:String} "
                        "WINDOW w AS (PARTITION BY conversation_id ORDER BY occurred_at ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)) "
                        "WHERE direction = 'inbound' AND gap >= 24")
    assert 0.03 * N <= late <= 0.15 * N


def test_the_reports_metrics_come_out_sensible(history):
    store, tenant = history[0], history[1]
    params = DEFAULTS | {"tenant": tenant, "tz": "UTC", "minutes": 1440, "from": datetime(2026, 1, 1, tzinfo=timezone.utc), "to": UNTIL}

    def total(metric: str) -> list:
        return [row[-1] for row in store.query(metric_sql(metric), params).result_rows]

    assert all(50 <= v <= 95 for v in total("sl_pct")[-DAYS:])
    assert all(120 <= v for v in total("avg_handle_s")[-DAYS:])
    assert all(20 <= v <= 300 for v in total("first_response_s")[-DAYS:])
    assert sum(total("offered")) == one(history, f"SELECT count() FROM {SEGMENTS} WHERE segment_type = 'queue_wait'")


def test_the_same_arguments_again_do_nothing_but_merge_when_asked(history):
    store, tenant, data_dir, _, before = history
    again = generate(store, args(tenant), data_dir, "embedded:tests")
    assert again["generated"] is False and fingerprint(store, tenant) == before
    merged = generate(store, args(tenant, 1, "--optimize"), data_dir, "embedded:tests")
    assert merged["generated"] is False and merged["optimize_s"] >= 0 and fingerprint(store, tenant) == before
    parts = store.query("SELECT table, count() FROM system.parts WHERE active AND database = currentDatabase() "
                        "AND table IN ('segment_facts', 'message_facts') GROUP BY table").result_rows
    assert dict(parts) == {"segment_facts": 1, "message_facts": 1}


def test_other_arguments_replace_only_generated_rows_and_a_seed_gives_back_its_history(history):
    store, tenant, data_dir, _, first = history
    store.insert("conversation_facts", [{"tenant_id": tenant, "conversation_id": "conv-live-1", "channel": "web"}])
    store.insert("agent_status_facts", [{"tenant_id": tenant, "fact_id": "st:live", "agent_id": "agent-ana", "status": "on_queue",
                                         "routing_status": "on_queue", "started_at": UNTIL, "version": 1}])
    other = generate(store, args(tenant, seed=2), data_dir, "embedded:tests")
    assert other["generated"] and other["rows"]["conversation_facts"] == N
    assert fingerprint(store, tenant) != first
    assert marker_path(data_dir, tenant).read_text().count('"seed": 2') == 1
    back = generate(store, args(tenant, seed=1), data_dir, "embedded:tests")
    assert back["generated"] and fingerprint(store, tenant) == first
    assert one(history, "SELECT count() FROM conversation_facts FINAL WHERE tenant_id = {tenant:String} AND conversation_id = 'conv-live-1'") == 1
    assert one(history, "SELECT count() FROM agent_status_facts FINAL WHERE tenant_id = {tenant:String} AND agent_id = 'agent-ana'") == 1


def test_the_command_line_refuses_an_empty_history():
    with pytest.raises(SystemExit):
        parse_args(["--interactions", "0"])
    assert parse_args(["--until", "2026-03-02"]).until == date(2026, 3, 2)


def test_the_command_writes_into_the_data_dirs_engine_once(tmp_path):
    # its own process: chdb opens one engine per process, and no sink answers on this port
    env = os.environ | {"SWITCHBOARD_DATA_DIR": str(tmp_path), "SWITCHBOARD_SINK_PORT": str(free_port())}
    command = [sys.executable, "-m", "switchboard.cli", "generate", "--interactions", "300", "--days", "1", "--until", "2026-03-02"]
    first, again = (subprocess.run(command, capture_output=True, text=True, env=env, timeout=120) for _ in range(2))
    assert first.returncode == 0 and json.loads(first.stdout)["rows"]["conversation_facts"] == 300, first.stderr
    assert json.loads(first.stdout)["target"] == f"embedded:{tmp_path / 'clickhouse'}" and first.stderr == ""
    assert json.loads(again.stdout)["generated"] is False
    assert json.loads((tmp_path / "generated" / "demo-history.json").read_text())["interactions"] == 300
