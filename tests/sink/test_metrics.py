"""The metric dictionary on hand-built scenarios (tests/fixtures/metrics): each scenario's facts go
through the sink's mappers into the embedded engine (every segment open first, then closed, as
routing writes them), and each expected metric is computed by exactly the SQL of sink/metrics.py."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sink.metrics import DEFAULTS, METRICS, metric_sql
from sink.rows import message_row, rows_of
from sink.rows_messages import timeline
from streams.conversations import responses

pytestmark = pytest.mark.clickhouse
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metrics"
SCENARIOS = {p.stem: json.loads(p.read_text()) for p in sorted(FIXTURES.glob("*.json"))}
CASES = [(name, i) for name, s in SCENARIOS.items() for i in range(len(s["expect"]))]
DAY = "2026-12-01"
RANGE = {"from": datetime(2026, 11, 30, tzinfo=timezone.utc), "to": datetime(2026, 12, 5, tzinfo=timezone.utc)}


def at(text: str | None) -> datetime | None:
    """A fixture time: 'HH:MM:SS' on the scenario day, or a full 'YYYY-MM-DD HH:MM:SS' (UTC)."""
    if text is None:
        return None
    return datetime.fromisoformat(text if len(text) > 8 else f"{DAY} {text}").replace(tzinfo=timezone.utc)


def segment(tenant: str, s: dict) -> dict:
    """A segment-fact record of a compact fixture line."""
    ref = str(s.get("entry", 1)) if s["type"] == "queue_wait" else s["offer"]
    return {"tenant_id": tenant, "fact_id": f"seg:{s['conv']}:{s['type']}:{ref}", "conversation_id": s["conv"],
            "customer_id": None, "channel": "whatsapp", "segment_type": s["type"], "queue_id": s["queue"],
            "agent_id": s.get("agent"), "started_at": at(s["start"]), "ended_at": at(s["end"]), "outcome": s["outcome"],
            "media": "messaging", "offer_id": s.get("offer"), "service_level_seconds": s.get("sl", 60),
            "service_level_percent": 80, "short_abandon_seconds": s.get("short", 10),
            "transfer_type": s.get("transfer_type"), "transfer_target": s.get("transfer_target"),
            "wrapup_code": s.get("wrapup_code"), "wrapup_skipped": s["type"] == "wrapup" and not s.get("wrapup_code")}


def status(tenant: str, s: dict) -> dict:
    """An agent-status-interval v2 record (an open one ends at its start, closed false)."""
    start, end = at(s["start"]), at(s["end"])
    return {"tenant_id": tenant, "fact_id": f"st:{tenant}:{s['agent']}:{s['start']}:{s['status']}",
            "agent_id": s["agent"], "status": s["status"], "started_at": start, "ended_at": end or start,
            "closed": end is not None, "next_status": None, "reason": "fixture", "routing_status": "unknown"}


def messages(tenant: str, fixture: list[dict]) -> list[tuple[str, dict]]:
    """The fixture's messages as the sink writes them: each one's message_facts row, and the
    message_timeline row and response (response_facts) of the message_added conversation-event
    carrying it, the response worked out as the conversation processor does, in time order."""
    rows, runs = [], {}
    for m in sorted(fixture, key=lambda m: (at(m["at"]), m["id"])):
        sender = "customer" if m["dir"] == "inbound" else ("agent" if m.get("agent") else "system")
        when = at(m["at"])
        response = (responses.respond(runs.setdefault(m["conv"], {}), sender, int(when.timestamp() * 1000), m.get("agent"))
                    if sender != "system" else None)
        if response:   # as the sink decodes it (timestamp-millis)
            response["answers_from"] = datetime.fromtimestamp(response["answers_from"] / 1000, timezone.utc)
        event = {"tenant_id": tenant, "type": "message_added", "message_id": m["id"], "conversation_id": m["conv"],
                 "occurred_at": when, "channel": "whatsapp", "direction": m["dir"], "agent_id": m.get("agent"),
                 "queue_id": None, "response": response}
        rows += [message_row(tenant, m["id"], conversation_id=m["conv"], channel="whatsapp", direction=m["dir"],
                             sender_kind=sender, agent_id=m.get("agent"), occurred_at=when), *timeline(event)]
    return rows


def phases(tenant: str, scenario: dict) -> list[list[tuple[str, dict]]]:
    """The scenario's rows as the sink writes them, in the order it would: the open copies, then the
    closed ones, the statuses, the messages."""
    records = [segment(tenant, s) for s in scenario.get("segments", [])]
    opened = [r | {"ended_at": None, "outcome": None} for r in records if r["ended_at"]]
    return [[row for r in opened for row in rows_of("segment-fact", r)],
            [row for r in records for row in rows_of("segment-fact", r)],
            [row for s in scenario.get("statuses", []) for row in rows_of("agent-status-interval", status(tenant, s))],
            messages(tenant, scenario.get("messages", []))]


def write(store, written: list[list[tuple[str, dict]]]) -> None:
    """Each phase's rows, one insert per table (a batch, as the sink flushes), phase after phase."""
    for phase in written:
        by_table: dict[str, list[dict]] = {}
        for table, row in phase:
            by_table.setdefault(table, []).append(row)
        for table, rows in by_table.items():
            store.insert(table, rows)


def load(store, tenant: str, scenario: dict) -> None:
    """Write the scenario's facts as the sink would: open copies first, then the closed ones."""
    write(store, phases(tenant, scenario))


@pytest.fixture(scope="module")
def tenants(clickhouse_store) -> dict[str, str]:
    """Each scenario written once, under a tenant of its own."""
    ids = {name: f"t-{uuid.uuid4().hex[:12]}" for name in SCENARIOS}
    for name, scenario in SCENARIOS.items():
        load(clickhouse_store, ids[name], scenario)
    return ids


@pytest.mark.parametrize("scenario,index", CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_each_metric_is_what_the_dictionary_computes(clickhouse_store, tenants, scenario, index):
    expect = SCENARIOS[scenario]["expect"][index]
    sql = metric_sql(expect["metric"], tuple(expect["by"]))
    params = RANGE | DEFAULTS | {"tenant": tenants[scenario], "tz": expect.get("tz", "UTC"),
                                 "minutes": expect.get("minutes", 30)} | expect.get("params", {})
    result = clickhouse_store.query(f"SELECT toString(interval_start) AS i, * EXCEPT (interval_start) FROM ({sql})", params)
    clock = all(len(row[0]) == 5 for row in expect["rows"])   # 'HH:MM' on the scenario day, else the full start
    got = [[r[0][11:16] if clock else r[0][:16], *r[1:-1], None if r[-1] is None else round(float(r[-1]), 2)]
           for r in result.result_rows]
    assert got == expect["rows"], expect["metric"]


def test_every_metric_is_exercised_by_a_scenario():
    covered = {e["metric"] for s in SCENARIOS.values() for e in s["expect"]}
    assert set(METRICS) == covered


def test_a_metric_refuses_a_grouping_its_facts_do_not_have():
    with pytest.raises(ValueError, match="cannot be grouped by"):
        metric_sql("offered", ("agent_id",))
