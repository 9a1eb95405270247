"""A routing worker killed mid-stream (kill -9) loses nothing and offers nothing twice.

Its own module, so that no other routing worker runs while it does: every routing worker shares
the `routing-inputs` log and the `routing-state` changelog whatever its group, and routes every
tenant it sees (a tenant without a routing file gets the default `general` queue), so a second
worker — the module-scoped one of test_routing_worker.py — would route this test's tenant with
its own configuration and overwrite its state entries in the changelog, which the killed worker
then restores: conversations queued for agents whose capacity phantom offers hold, accepts of
real offers ignored. (A deployment runs one routing group per broker.)
"""
import uuid

import pytest

from .broker import Events, Outputs, RoutingWorker, on_queue
from .drive import T0, action, request

pytestmark = pytest.mark.kafka


def _offers(records):
    return [(v["conversation_id"], v["agent_id"]) for s, v in records if s == "agent-event" and v["type"] == "offered"]


def _accept(events, tenant, offer, at):
    events.action(action(offer["agent_id"], "accept", at, tenant, conversation_id=offer["conversation_id"],
                         offer_id=offer["offer_id"]))


def test_killing_the_worker_mid_stream_loses_nothing_and_offers_nothing_twice(kafka_bootstrap, tmp_path):
    worker = RoutingWorker(kafka_bootstrap, tmp_path).start()
    tenant = worker.add_tenant(f"k{uuid.uuid4().hex[:10]}")
    events, outputs = Events(kafka_bootstrap), Outputs(kafka_bootstrap, tenant)
    convs = [f"c{i}" for i in range(20)]
    try:
        on_queue(events, outputs, tenant, ("a1", "a2", "a3"), T0)
        for i, conv in enumerate(convs[:10]):
            events.request(request(conv, T0 + i, tenant))
        outputs.wait_for(lambda r: len(_offers(r)) >= 6)
        worker.kill()
        for i, conv in enumerate(convs[10:]):  # arrive while routing is down
            events.request(request(conv, T0 + 100 + i, tenant))
        worker.start()
        _serve_until_all_connected(events, outputs, tenant, convs)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{worker.autopsy(kafka_bootstrap, tenant)}") from exc
    finally:
        worker.stop()
        outputs.close()
    offers = {}
    for offer in outputs.of("agent-event", "offered"):
        offers.setdefault(offer["conversation_id"], set()).add(offer["offer_id"])
    assert sorted(offers) == sorted(convs)
    assert all(len(ids) == 1 for ids in offers.values()), offers
    connected = {v["assignment_id"]: v["conversation_id"] for v in outputs.of("assignment", "connected")}
    assert sorted(connected.values()) == sorted(convs)


def _serve_until_all_connected(events, outputs, tenant, convs):
    """Act as the agents: accept every offer, end every connected conversation."""
    accepted, ended, at = set(), set(), T0 + 1000
    def done(records):
        nonlocal at
        for offer in outputs.of("agent-event", "offered"):
            if offer["offer_id"] not in accepted:
                accepted.add(offer["offer_id"])
                at += 1
                _accept(events, tenant, offer, at)
        for assigned in outputs.of("assignment", "connected"):
            if assigned["conversation_id"] not in ended:
                ended.add(assigned["conversation_id"])
                at += 1
                events.action(action(assigned["agent_id"], "end", at, tenant,
                                     conversation_id=assigned["conversation_id"]))
        return len({v["conversation_id"] for v in outputs.of("assignment", "connected")}) == len(convs)
    outputs.wait_for(done, timeout=60)
