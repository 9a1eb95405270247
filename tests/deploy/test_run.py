"""`make run`'s summary: what flowed, counted from the topics (the whole run, end to end, is
tests/integration/test_registry_mode.py)."""
import json
import time

import pytest

from channels.registry import CHANNELS
from deploy.flow import FlowCounter
from schemas import Codec
from switchboard.kafka import producer

pytestmark = pytest.mark.kafka


def test_flow_counter_counts_what_was_written_since_it_started_by_topic_and_channel(kafka_bootstrap):
    example = json.loads(open("schemas/examples/inbound-message/whatsapp_text.json").read())
    out = producer({"bootstrap.servers": kafka_bootstrap})
    out.produce("inbound-messages", key="before", value=Codec().encode("inbound-message", example))
    out.flush(10)
    time.sleep(0.01)  # the counter starts strictly after that record's timestamp
    counter = FlowCounter(kafka_bootstrap, since_ms=int(time.time() * 1000), codec=Codec())
    counter.start()
    for channel in ("whatsapp", "line", "line"):
        record = example | {"channel": channel}
        out.produce("inbound-messages", key=channel, value=Codec().encode("inbound-message", record))
    out.produce("inbound-messages-dlq", key="bad", value=b"\x00not avro")
    out.flush(10)
    summary = counter.stop()
    assert summary["events"] == {"inbound-messages": 3, "inbound-messages-dlq": 1}
    assert summary["channels"] == {"inbound-messages": {"line": 2, "whatsapp": 1}}
    assert summary["dead_letters"] == 1


def test_capability_counts_come_from_the_records_that_prove_them(kafka_bootstrap):
    from deploy.summary import capability_counts

    examples = {s: json.loads(open(f"schemas/examples/{s}/{n}.json").read()) for s, n in [
        ("delivery-attempt", "sent"), ("delivery-status", "messenger_read"), ("agent-event", "offered"),
        ("agent-action", "wrap_up"), ("segment-fact", "interact")]}
    counter = FlowCounter(kafka_bootstrap, since_ms=int(time.time() * 1000), codec=Codec())
    counter.start()
    out, codec = producer({"bootstrap.servers": kafka_bootstrap}), Codec()
    records = [("delivery-ledger", "delivery-attempt", examples["delivery-attempt"]),
               ("delivery-ledger", "delivery-attempt", examples["delivery-attempt"] | {"channel": "web"}),
               ("delivery-ledger", "delivery-attempt", examples["delivery-attempt"] | {"state": "sending"}),
               ("delivery-status", "delivery-status", examples["delivery-status"]),
               ("delivery-status", "delivery-status", examples["delivery-status"] | {"status": "sent"}),
               ("agent-notifications", "agent-event", examples["agent-event"]),
               ("agent-actions", "agent-action", examples["agent-action"] | {"type": "accept"}),
               ("segment-facts", "segment-fact", examples["segment-fact"] | {"segment_type": "wrapup"})]
    for name, subject, record in records:
        out.produce(name, key="k", value=codec.encode(subject, record))
    out.flush(10)
    counter.stop()
    counts = capability_counts(counter)
    assert counts["delivered"]["whatsapp"] == 1  # the ledger's `sent`, not the platform's `sent` status
    assert counts["delivered"]["web"] == 1 and set(counts["inbound"]) == set(CHANNELS)   # web included, as derived
    assert counts["receipts"]["messenger"] == 1
    assert (counts["offers"], counts["accepted"], counts["wrapped_up"]) == (1, 1, 1)


def test_human_counts_are_those_of_the_people_who_sign_in_not_the_simulated_agents(kafka_bootstrap):
    from deploy.summary import human_counts

    offer = json.loads(open("schemas/examples/agent-event/offered.json").read())
    action = json.loads(open("schemas/examples/agent-action/wrap_up.json").read())
    reply = json.loads(open("schemas/examples/outbound-message/" + _first("outbound-message")).read())
    counter = FlowCounter(kafka_bootstrap, since_ms=int(time.time() * 1000), codec=Codec())
    counter.start()
    out, codec = producer({"bootstrap.servers": kafka_bootstrap}), Codec()
    for agent in ("alice", "alice", "agent-ana"):
        out.produce("agent-notifications", key=agent, value=codec.encode("agent-event", offer | {"agent_id": agent}))
    for agent, kind in [("alice", "page_open"), ("alice", "page_open"), ("agent-ana", "page_open"), ("alice", "accept")]:
        out.produce("agent-actions", key="acme", value=codec.encode("agent-action", action | {"agent_id": agent, "type": kind}))
    out.produce("outbound-messages", key="k", value=codec.encode("outbound-message", reply | {"agent_id": "alice", "kind": "reply"}))
    out.flush(10)
    counter.stop()
    assert human_counts(counter, {"alice", "bob"}) == {
        "agents_signed_in": 1, "human_offers": 2, "human_accepted": 1, "human_replies": 1}


def _first(subject: str) -> str:
    import os

    return sorted(os.listdir(f"schemas/examples/{subject}"))[0]
