"""Routing's audit rows: every documented field reaches a complete routing_decisions row."""
import json
from pathlib import Path

from schemas import Codec
from sink.rows_routing import ROUTING_MAPPERS, routing_decision

EXAMPLE = Path(__file__).resolve().parents[2] / "schemas" / "examples" / "routing-decision" / "offered.json"


def test_a_routing_decision_becomes_one_complete_row():
    codec = Codec()
    record = codec.decode(codec.encode("routing-decision", json.loads(EXAMPLE.read_text())), "routing-decision")
    [(table, row)] = ROUTING_MAPPERS["routing-decision"](record)
    assert table == "routing_decisions"
    assert row["candidate_agents"] == ["agent-ana", "agent-ben", "agent-eva"]
    assert json.loads(row["candidates"])[2]["excluded"] == "lacks skill cards"
    assert (row["kind"], row["ring"], row["skills"], row["unavailable"]) == ("offered", 1, {"cards": 3}, 2)
    assert routing_decision(record) == [(table, row)]
