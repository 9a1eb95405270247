"""Two routing domains of one tenant through the real broker, routed at once by two workers of one group."""
import re
import threading
import time
import uuid

import pytest
import yaml
from confluent_kafka import Consumer, TopicPartition

from schemas import topic
from streams.sequencer import partition_of

from .broker import Events, Outputs, RoutingWorker, on_queue
from .drive import FIXTURES, T0, request

pytestmark = pytest.mark.kafka
S = 1000
INPUTS = topic("routing-inputs")
BUSINESS_ACCOUNT = "109876543210999"   # the business domain's channel account (domains.yaml)
READY = re.compile(r"streams worker ready: (w\d), partitions \[([\d, ]*)\]")


def _owned(workers, timeout: float = 30) -> dict[str, set[int]]:
    """Each worker's partitions once the group settled: every partition owned, by one worker each."""
    deadline = time.monotonic() + timeout
    while True:
        owned = {}
        for w in workers:
            lines = [m for line in w.log if (m := READY.search(line))]
            owned[lines[-1][1] if lines else w] = {int(p) for p in lines[-1][2].split(",") if p} if lines else set()
        sets = list(owned.values())
        if len(sets) == 2 and all(sets) and not sets[0] & sets[1] and sets[0] | sets[1] == set(range(INPUTS.partitions)):
            return owned
        assert time.monotonic() < deadline, f"the group did not settle: {owned}\n" + "\n".join(workers[-1].log[-30:])
        time.sleep(0.2)


def _names(tenant: str, partitions: list[set[int]]) -> list[str]:
    """A domain name for each set of partitions: its key `<tenant>/<name>` lands on one of them."""
    candidates = (f"d{i}" for i in range(1000))
    return [next(n for n in candidates if partition_of(f"{tenant}/{n}", INPUTS.partitions) in owned)
            for owned in partitions]


def _input_keys(bootstrap: str, tenant: str, count: int) -> dict[str, set[int]]:
    """The partitions of routing-inputs each of the tenant's keys was appended to (its first `count` records)."""
    reader = Consumer({"bootstrap.servers": bootstrap, "group.id": f"read-{uuid.uuid4().hex}"})
    reader.assign([TopicPartition(INPUTS.name, p, 0) for p in range(INPUTS.partitions)])
    seen, deadline = {}, time.monotonic() + 10
    try:
        while sum(map(len, seen.values())) < count and time.monotonic() < deadline:
            message = reader.poll(0.2)
            if message is not None and not message.error() and message.key().startswith(f"{tenant}/".encode()):
                seen.setdefault(message.key().decode(), []).append(message.partition())
    finally:
        reader.close()
    return {key: set(parts) for key, parts in seen.items()}


def test_two_domains_of_one_tenant_are_routed_at_once_by_two_workers(kafka_bootstrap, tmp_path):
    group, tenant = f"routing-domains-{uuid.uuid4().hex[:8]}", f"t{uuid.uuid4().hex[:10]}"
    workers = [RoutingWorker(kafka_bootstrap, tmp_path / name, group, name) for name in ("w1", "w2")]
    starting = [threading.Thread(target=w.start) for w in workers]   # join the group together: one rebalance
    for thread in starting:
        thread.start()
    for thread in starting:
        thread.join(90)
    events, outputs = Events(kafka_bootstrap), Outputs(kafka_bootstrap, tenant)
    try:
        owned = _owned(workers)
        retail, business = _names(tenant, [owned["w1"], owned["w2"]])
        routing = yaml.safe_load((FIXTURES / "domains.yaml").read_text())
        routing["domains"] = {retail: routing["domains"]["retail"], business: routing["domains"]["business"]}
        for w in workers:
            (w.routing_dir / f"{tenant}.yaml").write_text(yaml.safe_dump(routing, sort_keys=False))
        on_queue(events, outputs, tenant, ("r1", "b1"), T0)
        events.request(request("c1", T0 + S, tenant))                                  # the default domain
        events.request(request("c2", T0 + S, tenant, channel_account_id=BUSINESS_ACCOUNT))
        outputs.wait_for(lambda r: len(outputs.of("agent-event", "offered")) == 2)
        assert sorted((v["conversation_id"], v["agent_id"]) for v in outputs.of("agent-event", "offered")) == \
            [("c1", "r1"), ("c2", "b1")]
        keys = {f"{tenant}/{retail}": owned["w1"], f"{tenant}/{business}": owned["w2"]}
        landed = _input_keys(kafka_bootstrap, tenant, 4)
        assert landed == {key: {partition_of(key, INPUTS.partitions)} for key in keys}
        assert all(landed[key] <= parts for key, parts in keys.items())
        for w, key in zip(workers, keys):   # each domain was routed by the worker owning its partition
            assert any(f"routing domain {key}:" in line for line in w.log), "\n".join(w.log[-30:])
            assert not any(f"routing domain {key}:" in line for line in (set(workers) - {w}).pop().log)
    finally:
        outputs.close()
        for w in workers:
            w.stop()
