"""Facts for the report views' tests: the metric scenarios (tests/fixtures/metrics) and the floor
of tests/fixtures/views/floor.json (open segments and statuses, routing's candidates, conversations),
each written under a tenant of its own as the sink writes them."""
from __future__ import annotations

import json
from pathlib import Path

from sink.rows import conversation_row
from tests.sink.test_metrics import SCENARIOS, at, load

FLOOR = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "views" / "floor.json").read_text())
RANGE = {"from": ["2026-11-30T00:00:00Z"], "to": ["2026-12-05T00:00:00Z"]}


def candidates(tenant: str, c: dict) -> dict:
    """A routing_decisions row that listed `c["agents"]` as candidates of the queue."""
    return {"tenant_id": tenant, "decision_id": f"d-{tenant}-{c['queue']}", "occurred_at": at(c["at"]),
            "kind": "offered", "conversation_id": None, "queue_id": c["queue"], "agent_id": None, "offer_id": None,
            "rule": None, "matched_words": [], "ring": 1, "skills": {}, "language": None, "relaxed": [],
            "priority": 0, "reason": "", "candidate_agents": c["agents"], "candidates": "[]",
            "candidates_total": len(c["agents"]), "unavailable": 0}


def conversation(tenant: str, c: dict):
    """The conversation_facts row a conversation's events leave."""
    first = min(at(t) for t in (c["started"], c["first_inbound"], c["first_response"]) if t is not None)
    return conversation_row(tenant, c["conv"], first, channel=c["channel"], started_at=at(c["started"]),
                            first_inbound_at=at(c["first_inbound"]), first_response_at=at(c["first_response"]),
                            business_initiated=c.get("business_initiated", 0))


def load_floor(store, tenant: str, floor: dict = FLOOR) -> None:
    """The floor's facts under `tenant`."""
    load(store, tenant, floor)
    store.insert("routing_decisions", [candidates(tenant, floor["candidates"])])
    for c in floor["conversations"]:
        table, row = conversation(tenant, c)
        store.insert(table, [row])


def load_all(store, prefix: str) -> dict[str, str]:
    """Every metric scenario and the floor, each under `<prefix>-<name>`: {name: tenant}."""
    tenants = {name: f"{prefix}-{name}" for name in (*SCENARIOS, "floor")}
    for name, scenario in SCENARIOS.items():
        load(store, tenants[name], scenario)
    load_floor(store, tenants["floor"])
    return tenants
