"""The routing worker through the real broker: inputs produced to the catalogue topics, outputs
read back, time driven by routing-ticks with chosen times. Each test uses its own tenant."""
import time
import uuid

import pytest
from confluent_kafka import Consumer, TopicPartition

from schemas import topic

from .broker import Events, Outputs, RoutingWorker, on_queue
from .drive import T0, action, request

pytestmark = pytest.mark.kafka
S = 1000


@pytest.fixture(scope="module")
def worker(kafka_bootstrap, tmp_path_factory):
    """One routing worker for the module's tests."""
    w = RoutingWorker(kafka_bootstrap, tmp_path_factory.mktemp("routing")).start()
    yield w
    w.stop()


@pytest.fixture
def tenant(worker):
    """A tenant of its own, with the fixture routing file."""
    return worker.add_tenant(f"t{uuid.uuid4().hex[:10]}")


@pytest.fixture
def events(kafka_bootstrap):
    return Events(kafka_bootstrap)


@pytest.fixture
def outputs(kafka_bootstrap, tenant):
    out = Outputs(kafka_bootstrap, tenant)
    yield out
    out.close()


def _offers(records):
    return [(v["conversation_id"], v["agent_id"]) for s, v in records if s == "agent-event" and v["type"] == "offered"]


def _accept(events, tenant, offer, at):
    events.action(action(offer["agent_id"], "accept", at, tenant, conversation_id=offer["conversation_id"],
                         offer_id=offer["offer_id"]))


def test_last_agent_available_busy_or_offline(worker, tenant, events, outputs):
    on_queue(events, outputs, tenant, ("a1", "a2"), T0)
    for i, conv in enumerate(["x1", "x2"]):  # last agent a1 available: both go to a1
        events.request(request(conv, T0 + i, tenant, preferred_agent_id="a1"))
    outputs.wait_for(lambda r: len(_offers(r)) == 2)
    assert _offers(outputs.records) == [("x1", "a1"), ("x2", "a1")]
    for offer in outputs.of("agent-event", "offered"):
        _accept(events, tenant, offer, T0 + 10)
    outputs.wait_for(lambda r: len([v for s, v in r if v.get("type") == "assigned"]) == 2)
    events.request(request("c1", T0 + S, tenant, preferred_agent_id="a1"))  # a1 at capacity: wait
    outputs.wait_for(lambda r: any(v.get("kind") == "reserved" for s, v in r))
    events.request(request("c2", T0 + 2 * S, tenant, preferred_agent_id="a3"))  # a3 offline: at once
    outputs.wait_for(lambda r: ("c2", "a2") in _offers(r))
    _accept(events, tenant, outputs.of("agent-event", "offered")[-1], T0 + 3 * S)
    events.tick(tenant, T0 + 60 * S)
    events.tick(tenant, T0 + 61 * S)  # the 60 s wait for a1 is over
    outputs.wait_for(lambda r: ("c1", "a2") in _offers(r))
    outputs.wait_for(lambda r: len(outputs.of("routing-decision", "offered")) == len(_offers(r)))
    audits = {v["offer_id"]: v for v in outputs.of("routing-decision", "offered")}
    for offer in outputs.of("agent-event", "offered"):
        audit = audits[offer["offer_id"]]
        assert audit["reason"] and offer["agent_id"] in [c["agent_id"] for c in audit["candidates"]]


def test_alert_timeout_reoffers_and_marks_the_agent_not_responding(worker, tenant, events, outputs):
    on_queue(events, outputs, tenant, ("a1",), T0)
    events.request(request("c1", T0, tenant))
    outputs.wait_for(lambda r: _offers(r) == [("c1", "a1")])
    events.action(action("a2", "presence", T0 + S, tenant, presence="on_queue"))
    events.tick(tenant, T0 + 30 * S)
    outputs.wait_for(lambda r: ("c1", "a2") in _offers(r) and outputs.of("agent-event", "not_responding"))
    assert outputs.of("agent-event", "not_responding")[0]["agent_id"] == "a1"
    assert outputs.of("agent-event", "offer_revoked")[0]["agent_id"] == "a1"


def test_a_ring_timeout_relaxes_a_skill_for_a_less_skilled_agent(worker, tenant, events, outputs):
    on_queue(events, outputs, tenant, ("a3",), T0)
    events.request(request("c1", T0, tenant, first_message_text="my card was stolen"))
    outputs.wait_for(lambda r: any(v.get("kind") == "queued" for s, v in r))
    events.tick(tenant, T0 + 60 * S)
    # the offer and its decision are on two topics, read in no fixed order: wait for both
    outputs.wait_for(lambda r: ("c1", "a3") in _offers(r) and outputs.of("routing-decision", "offered"))
    assert outputs.of("routing-decision", "offered")[0]["ring"] == 2


def test_a_bad_event_goes_to_the_dead_letter_topic_and_routing_goes_on(worker, tenant, events, outputs, kafka_bootstrap):
    events.producer.produce(topic("routing-requests").name, key=tenant.encode(), value=b"not avro")
    events.request(request("c1", T0, tenant))
    events.action(action("a1", "presence", T0 + S, tenant, presence="on_queue"))
    outputs.wait_for(lambda r: _offers(r) == [("c1", "a1")])
    dlq = topic("routing-requests-dlq").name
    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": uuid.uuid4().hex})
    consumer.assign([TopicPartition(dlq, 0, 0)])
    deadline, found = time.monotonic() + 10, None
    while found is None and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and not message.error() and message.key() == tenant.encode():
            found = message
    consumer.close()
    assert found is not None and found.value() == b"not avro"
    headers = dict(found.headers())
    assert headers["source.topic"] == topic("routing-requests").name.encode() and b"DecodeError" in headers["error"]
