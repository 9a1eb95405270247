"""The report facts' rows (issue 13): open and closed copies, the queue configuration history, senders."""
import json
from pathlib import Path

from schemas import Codec
from sink.rows import rows_of, version

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
CODEC = Codec()


def example(subject: str, name: str) -> dict:
    """A schema example, encoded and decoded as the sink reads it."""
    record = json.loads((EXAMPLES / subject / f"{name}.json").read_text())
    return CODEC.decode(CODEC.encode(subject, record), subject)


def test_a_closed_copy_outranks_its_open_one_even_in_the_same_millisecond():
    opened = example("segment-fact", "queue_visit_open")
    closed = opened | {"ended_at": opened["started_at"], "outcome": "abandoned"}
    [(_, open_row), (table, conv)] = rows_of("segment-fact", opened)
    [(_, closed_row), _] = rows_of("segment-fact", closed)
    assert open_row["ended_at"] is None and closed_row["version"] == open_row["version"] + 1
    assert (open_row["short_abandon_seconds"], open_row["media"]) == (10.0, "messaging")
    assert (table, conv["first_queue_id"], conv["media_type"]) == ("conversation_facts", "cards", "messaging")
    assert rows_of("segment-fact", closed)[1][1]["first_queue_id"] is None   # the queue it first entered: from the open copy


def test_a_skipped_wrap_up_says_so():
    [(_, row)] = rows_of("segment-fact", example("segment-fact", "wrapup_skipped"))
    assert (row["wrapup_skipped"], row["offer_id"]) == (1, "conv-3b1f0c8e-2d4a-5e6f-9a0b-1c2d3e4f5a6b:o1")


def test_an_open_status_has_no_end_and_a_v1_interval_gets_its_routing_status():
    [(table, row)] = rows_of("agent-status-interval", example("agent-status-interval", "on_queue_open"))
    assert (table, row["ended_at"], row["routing_status"]) == ("agent_status_facts", None, "on_queue")
    assert row["version"] == version(row["started_at"], False)
    [(_, old)] = rows_of("agent-status-interval", example("agent-status-interval", "not_responding"))
    assert (old["ended_at"] is not None, old["routing_status"]) == (True, "on_queue")


def test_a_configured_decision_is_also_a_queue_configuration_row():
    rows = rows_of("routing-decision", example("routing-decision", "configured"))
    assert [t for t, _ in rows] == ["routing_decisions", "queue_config_facts"]
    config = rows[1][1]
    assert (config["queue_id"], config["short_abandon_seconds"], config["abandon_after_silence_seconds"],
            config["acw_mode"]) == ("cards", 10.0, 1800.0, "time_boxed")
    assert [t for t, _ in rows_of("routing-decision", example("routing-decision", "offered"))] == ["routing_decisions"]


def test_senders_are_customer_agent_or_system_and_a_business_initiated_message_marks_its_conversation():
    [(_, row)] = rows_of("inbound-message", example("inbound-message", "whatsapp_text"))
    assert row["sender_kind"] == "customer"
    outbound = json.loads((EXAMPLES / "outbound-message" / "whatsapp_text_and_image.json").read_text())
    for agent, kind in (("agent-ana", "agent"), (None, "system")):
        changed = outbound | {"agent_id": agent, "business_initiated": True, "conversation_id": "c1"}
        rows = rows_of("outbound-message", CODEC.decode(CODEC.encode("outbound-message", changed), "outbound-message"))
        assert rows[0][1]["sender_kind"] == kind
        assert [(t, r["business_initiated"]) for t, r in rows if t == "conversation_facts"] == [("conversation_facts", 1)]
